"""Similarity records: a submission's print and a flagged pair (plain data, picklable, JSON-ready).

Prints are what fingerprinting (:mod:`grader.cohort.similarity.prints`) keeps of a submission;
flags are what comparison (:mod:`grader.cohort.similarity.compare`) reports for a pair.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Match:
    """One matching region of a flagged code pair."""

    a_text: str
    """Original (un-normalised) source lines from student a."""
    b_text: str
    a_where: str
    """E.g. ``nb.ipynb cell 12, lines 3-20`` or ``train.py:40-58``."""
    b_where: str


@dataclass
class SimilarityFlag:
    """A pair of students whose code, sample images or checkpoints are suspiciously alike."""

    a: str
    """Student names, ``a < b``."""
    b: str
    kind: str
    """``code``, ``samples`` or ``checkpoint``."""
    score: float
    """0..1; code: containment of the added code; images: 1 - normalised hash distance."""
    threshold: float
    detail: str
    """One English sentence for the dashboard."""
    matches: list[Match] = field(default_factory=list)
    """Code only: at most :data:`MAX_MATCHES` regions, longest first."""

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data."""
        return dataclasses.asdict(self)


@dataclass
class CodeSegment:
    """One notebook cell or ``.py`` file: its lines and its added shingles in order."""

    where: str
    """``nb.ipynb cell 7`` or ``train.py``."""
    cell: bool
    lines: list[str]
    hashes: list[int] = field(default_factory=list)
    """Added (non-lesson) shingle hashes, in source order."""
    spans: list[tuple[int, int, int]] = field(default_factory=list)
    """First and last line (1-based, within ``lines``) and top-level statement of each hash."""

    def place(self, first: int, last: int) -> str:
        """Where lines ``first..last`` are, for the dashboard."""
        if self.cell:
            return f"{self.where}, lines {first}-{last}"
        return f"{self.where}:{first}-{last}"


@dataclass
class ImagePrint:
    """Perceptual hash of one sample image or GIF frame."""

    origin: str
    hash: str
    """:data:`HASH_BITS` bits as hex."""


@dataclass
class CheckpointPrint:
    """Digest of the weight data of one checkpoint."""

    origin: str
    sha256: str
    size: int


@dataclass
class SubmissionPrint:
    """What similarity needs of one submission (plain data: picklable and JSON-ready)."""

    name: str
    segments: list[CodeSegment] = field(default_factory=list)
    images: list[ImagePrint] = field(default_factory=list)
    checkpoints: list[CheckpointPrint] = field(default_factory=list)
    shingles_total: int = 0
    """All shingles of the code, lesson included."""
    notes: list[str] = field(default_factory=list)

    def added(self) -> set[int]:
        """The added shingle hashes (lesson removed)."""
        return {h for s in self.segments for h in s.hashes}

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> SubmissionPrint:
        """Inverse of :meth:`to_dict`."""
        segments = [CodeSegment(**{**s, "spans": [tuple(p) for p in s.get("spans", [])]})
                    for s in raw.get("segments", [])]
        return cls(name=raw["name"], segments=segments,
                   images=[ImagePrint(**i) for i in raw.get("images", [])],
                   checkpoints=[CheckpointPrint(**c) for c in raw.get("checkpoints", [])],
                   shingles_total=raw.get("shingles_total", 0), notes=list(raw.get("notes", [])))
