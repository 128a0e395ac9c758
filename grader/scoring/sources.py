"""Evidence sources: every kind of evidence a rubric item may rest on, named in one place.

A rubric item lists the sources it accepts (``evidence = [...]`` in ``rubric.toml``, most
trusted first); the rubric is validated against :data:`SOURCES`, a grade records the source
it rests on, and the report shows the source's label. Adding a source means registering it
here (with its wording in ``catalogs/sources.toml``) and reading it in an item's scorer.
"""

from __future__ import annotations

from dataclasses import dataclass

from grader.registry import Registry
from grader.text import Msg, msg


@dataclass(frozen=True)
class EvidenceSource:
    """One kind of evidence."""

    id: str
    about: str
    """What it is, for developers."""

    @property
    def label(self) -> Msg:
        """Short label for tables (``your checkpoint``)."""
        return msg(f"sources.{self.id}")

    @property
    def words(self) -> Msg:
        """The phrase a reason uses for it (``your checkpoint, sampled by the grader``)."""
        return msg(f"sources.{self.id}_words")


SOURCES: Registry[EvidenceSource] = Registry("evidence source", EvidenceSource)


def register_source(source_id: str, about: str) -> EvidenceSource:
    """Register an evidence source (its wording must exist in ``catalogs/sources.toml``)."""
    source = SOURCES.register(source_id, EvidenceSource(source_id, about))
    source.label  # noqa: B018 - fails now, not in a report, when the wording is missing
    source.words  # noqa: B018
    return source


for _id, _about in (
    ("grader_run", "images sampled from the variant the grader trained"),
    ("checkpoint", "images the grader sampled from the student's own checkpoint"),
    ("student_images", "tiles cut from the sample figures the student shows"),
    ("student_gif", "the frames of the student's GIF"),
    ("grader_frames", "the fixed-noise frames of the grader's run"),
    ("grader_history", "the trusted training history the grader recorded"),
    ("student_history_plot", "the student's own history plot"),
    ("grader_variants", "both versions of the student's models, trained by the grader"),
    ("student_before_after", "the before and after samples the student shows"),
    ("none", "nothing: the item could not rest on any evidence"),
):
    register_source(_id, _about)


def label(source: str) -> Msg:
    """The label of a source id, or of ``a+b`` combinations (the id itself when unknown)."""
    parts = [SOURCES[s].label if s in SOURCES else Msg(s, s) for s in source.split("+")]
    return Msg(", ".join(p.en for p in parts), ", ".join(p.ko for p in parts))
