"""The grade record: per-item status, points and reasons in English and Korean, plus warnings."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

ItemStatus = Literal["pass", "partial", "fail", "inconclusive"]


@dataclass
class Note:
    """A warning shown to the student and the instructor, in both languages."""

    code: str
    """Where it comes from: ``check:<id>``, ``variant``, ``judge``, ``evidence``, ``review``."""
    en: str
    ko: str


@dataclass
class ItemGrade:
    """The grade of one rubric item."""

    id: str
    number: int
    title_en: str
    title_ko: str
    status: ItemStatus
    score: float
    max_score: float
    evidence: str
    """Source(s) the decision rests on (``grader_run``, ``checkpoint``, ... or ``none``)."""
    reasons_en: list[str] = field(default_factory=list)
    reasons_ko: list[str] = field(default_factory=list)
    numbers: dict[str, Any] = field(default_factory=dict)
    """Measured values and thresholds behind the decision (plain JSON)."""
    parts: list[dict[str, Any]] = field(default_factory=list)
    """Per-part results (``id``, ``status``, ``evidence``, ``weight``) for items with parts."""
    criterion_en: str = ""
    criterion_ko: str = ""


@dataclass
class Grade:
    """The grade of one submission."""

    score: float
    max_score: float
    items: list[ItemGrade]
    checks: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[Note] = field(default_factory=list)
    rubric_id: str = ""
    rubric_version: str = ""
    rubric_calibrated: bool = False
    rubric_title_en: str = ""
    rubric_title_ko: str = ""
    review_needed: bool = False
    """True when some item is inconclusive (an instructor should look)."""

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON dict."""
        return asdict(self)
