"""The grade record: per-item status, points and reasons (both languages), plus warnings."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from grader.text import Msg

ItemStatus = Literal["pass", "partial", "fail", "needs_review"]
"""``needs_review``: the evidence cannot settle the item; it scores nothing until an
instructor decides (the grade shows the points as pending)."""
STATUSES = ("pass", "partial", "fail", "needs_review")


@dataclass
class Note:
    """A warning shown to the student and the instructor, in both languages."""

    code: str
    """Where it comes from: ``check:<id>``, ``variant``, ``judge``, ``evidence``, ``review``."""
    en: str
    ko: str

    @classmethod
    def of(cls, code: str, text: Msg) -> Note:
        """A note from a :class:`~grader.text.Msg`."""
        return cls(code, text.en, text.ko)


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
    """Source(s) the decision rests on (``student_grid``, ``checkpoint``, ... or ``none``)."""
    reasons_en: list[str] = field(default_factory=list)
    reasons_ko: list[str] = field(default_factory=list)
    numbers: dict[str, Any] = field(default_factory=dict)
    """Measured values and thresholds behind the decision (plain JSON)."""
    parts: list[dict[str, Any]] = field(default_factory=list)
    """Per-part results (``id``, ``status``, ``evidence``, ``weight``) for items with parts."""
    criterion_en: str = ""
    criterion_ko: str = ""
    fix_en: str = ""
    """The one thing to do to improve this item, in plain words (empty when it passed)."""
    fix_ko: str = ""
    review_reason_en: str = ""
    """Why an instructor must decide (``needs_review``), in words."""
    review_reason_ko: str = ""
    pending: float = 0.0
    """Points that wait for an instructor's review (not in ``score`` until decided)."""
    override: dict[str, Any] | None = None
    """Points set by an instructor (``points``, ``comment``, ``grader_status``,
    ``grader_score``, ``by``; :mod:`grader.scoring.overrides`); None: the grader's own."""

    def reasons(self, lang: str) -> list[str]:
        """The reasons in ``lang``."""
        return self.reasons_ko if lang == "ko" else self.reasons_en


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
    """True when some item needs an instructor's review."""
    pending_points: float = 0.0
    """Points of the items awaiting review (not in ``score`` until someone decides)."""

    def recount(self) -> Grade:
        """Set the total, the pending points and ``review_needed`` from the items."""
        self.score = round(sum(i.score for i in self.items), 2)
        self.pending_points = round(sum(i.pending for i in self.items), 2)
        self.review_needed = any(i.status == "needs_review" for i in self.items)
        return self

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON dict."""
        return asdict(self)
