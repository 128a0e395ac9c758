"""Warnings and review requests that go with a grade (both languages)."""

from __future__ import annotations

from grader.evidence import Evidence
from grader.judge.results import FCD_NOTE, JudgedEvidence
from grader.rubric import Rubric
from grader.scoring.grades import ItemGrade, Note
from grader.text import msg, plain


def collect_notes(evidence: Evidence, judged: JudgedEvidence, rubric: Rubric,
                  items: list[ItemGrade]) -> list[Note]:
    """Warnings that go with a grade, each in English and Korean.

    In order: failed or warned checks, untrainable variants, display problems, judge, evidence
    and rubric warnings, then a review request per item that needs one.

    Args:
        evidence: the evidence record (checks, variants, warnings).
        judged: the judge results (their own warnings, GIF facts).
        rubric: the loaded rubric (its warnings, whether it is calibrated).
        items: the item grades already scored.

    Returns:
        The notes, in the order above.
    """
    notes = [Note.of(f"check:{c.id}", c.message)
             for c in evidence.checks if c.status in ("warn", "fail")]
    for v in evidence.variants:
        if v.error:
            notes.append(Note.of("variant", msg("scoring.variant_untrainable", name=v.name,
                                                error=v.error)))
    for fig in judged.figures:
        if fig.display_bug:
            notes.append(Note.of("display", msg(f"figures.display_{fig.display_bug}")))
    if judged.gif_info is not None and judged.gif_info.colormapped:
        notes.append(Note.of("display", msg("scoring.gif_colormap",
                                            origin=judged.gif_info.origin)))
    for name in ("final_samples", "baseline_samples", "checkpoint_samples", "student_images"):
        result = getattr(judged, name)
        for w in result.warnings if result is not None else []:
            if not w.startswith(FCD_NOTE):  # no grade rests on FCD: for `grade judge` only
                notes.append(Note.of(f"judge:{name}", plain(w)))
    notes += [Note.of("evidence", w) for w in evidence.warnings]
    notes += [Note.of("rubric", plain(w)) for w in rubric.warnings]
    if not rubric.calibrated:
        notes.append(Note.of("rubric", msg("scoring.rubric_provisional")))
    for i in items:
        if i.status == "needs_review":
            notes.append(Note.of("review", msg("scoring.review_item", number=i.number, id=i.id,
                                               points=i.pending)))
    return notes
