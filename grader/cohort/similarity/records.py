"""Similarity records: a submission's print and a flagged pair (plain data, picklable, JSON-ready).

Prints are what fingerprinting (:mod:`grader.cohort.similarity.prints`) keeps of a submission;
flags are what comparison (:mod:`grader.cohort.similarity.compare`) reports for a pair.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

#: bump when what a print holds changes: a print of another version is read as stale (re-made)
PRINT_VERSION = 2


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
    """``identical``, ``code``, ``notebook``, ``samples`` or ``checkpoint``."""
    score: float
    """0..1; code and notebook: containment (see :mod:`.compare`); images: 1 - normalised hash
    distance; identical and checkpoint: 1."""
    threshold: float
    detail: str
    """One English sentence for the dashboard."""
    matches: list[Match] = field(default_factory=list)
    """Code and notebook: at most :data:`MAX_MATCHES` regions of shared added code, longest first."""

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
    files: dict[str, str] = field(default_factory=dict)
    """Code file (relative path) -> sha256 of its bytes."""
    code_sha256: str = ""
    """sha256 of all code, comments and layout aside (empty when too little code to compare)."""
    code_tokens: int = 0
    """Tokens behind :attr:`code_sha256`."""
    text: list[int] = field(default_factory=list)
    """Markdown word-shingle hashes that the course notes do not hold, sorted."""
    version: int = PRINT_VERSION

    def added(self) -> set[int]:
        """The added shingle hashes (lesson removed)."""
        return {h for s in self.segments for h in s.hashes}

    def notebook(self) -> set[int]:
        """What the whole-notebook score compares: added code and the student's markdown."""
        return self.added() | set(self.text)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> SubmissionPrint:
        """Inverse of :meth:`to_dict`.

        Raises:
            ValueError: The print was made by another :data:`PRINT_VERSION` (a cached print
                that must be made again).
        """
        if raw.get("version", 1) != PRINT_VERSION:
            raise ValueError(f"a similarity print of version {raw.get('version', 1)}, "
                             f"not {PRINT_VERSION}")
        segments = [CodeSegment(**{**s, "spans": [tuple(p) for p in s.get("spans", [])]})
                    for s in raw.get("segments", [])]
        return cls(name=raw["name"], segments=segments,
                   images=[ImagePrint(**i) for i in raw.get("images", [])],
                   checkpoints=[CheckpointPrint(**c) for c in raw.get("checkpoints", [])],
                   shingles_total=raw.get("shingles_total", 0), notes=list(raw.get("notes", [])),
                   files=dict(raw.get("files", {})), code_sha256=raw.get("code_sha256", ""),
                   code_tokens=raw.get("code_tokens", 0), text=list(raw.get("text", [])))
