"""Helpers shared by the item scorers: verdicts, status -> points, numbers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from grader.evidence import Evidence, History, VariantRun
from grader.rubric import STATUS_LEVEL, Rubric, RubricItem
from grader.scoring.grades import ItemGrade, ItemStatus
from grader.scoring.verification import Verification
from grader.text import Msg, msg


@dataclass
class Verdict:
    """One source's (or one part's) decision, before it becomes an :class:`ItemGrade`."""

    status: ItemStatus
    source: str
    """Evidence the decision rests on (a registered source id, or ``none``)."""
    reasons: list[Msg] = field(default_factory=list)
    numbers: dict[str, Any] = field(default_factory=dict)
    fix: Msg | None = None
    """The one thing to do (None when nothing is wrong)."""
    review: Msg | None = None
    """Why an instructor must decide (for ``needs_review``)."""
    credit: float = 0.0
    """For ``needs_review``: the fraction of the points already given (the rest is pending)."""


def item_grade(item: RubricItem, verdict: Verdict, fraction: float,
               parts: list[dict[str, Any]] | None = None) -> ItemGrade:
    """An :class:`ItemGrade` worth ``fraction`` of the item's points."""
    return ItemGrade(id=item.id, number=item.number, title_en=item.title_en,
                     title_ko=item.title_ko, status=verdict.status,
                     score=round(item.points * fraction, 2), max_score=item.points,
                     evidence=verdict.source, reasons_en=[r.en for r in verdict.reasons],
                     reasons_ko=[r.ko for r in verdict.reasons], numbers=verdict.numbers,
                     parts=parts or [], criterion_en=item.criterion_en,
                     criterion_ko=item.criterion_ko,
                     fix_en=verdict.fix.en if verdict.fix else "",
                     fix_ko=verdict.fix.ko if verdict.fix else "",
                     review_reason_en=verdict.review.en if verdict.review else "",
                     review_reason_ko=verdict.review.ko if verdict.review else "")


def status_fraction(item: RubricItem, status: ItemStatus) -> float:
    """Fraction of the item's points a status earns (``needs_review``: none, until decided)."""
    if status == "needs_review":
        return 0.0
    return item.level_fraction(STATUS_LEVEL[status])


def grade_of(item: RubricItem, verdict: Verdict) -> ItemGrade:
    """The item grade of a single verdict (all its points pending when it needs review)."""
    if verdict.status != "needs_review":
        return item_grade(item, verdict, status_fraction(item, verdict.status))
    grade = item_grade(item, verdict, verdict.credit)
    grade.pending = round(item.points * (1.0 - verdict.credit), 2)
    return grade


def needs_review(source: str, reasons: list[Msg], why: Msg,
                 numbers: dict[str, Any] | None = None) -> Verdict:
    """A verdict that waits for an instructor, saying why."""
    return Verdict("needs_review", source, [*reasons, msg("scoring.review_pending", why=why)],
                   numbers or {}, review=why)


def checked(verdict: Verdict, check: Verification, item: RubricItem) -> Verdict:
    """A verdict on the student's own evidence, held against the grader's run of the code.

    Credit needs code that can have made the evidence: when the run contradicts it, the item
    waits for an instructor with nothing given; when the run happened in the student's own
    process (unverified), a pass is given partial credit and the rest waits for review.
    """
    verdict.numbers["verification"] = check.status
    if verdict.status not in ("pass", "partial"):
        return verdict
    if check.contradicts:
        return needs_review(verdict.source, verdict.reasons, check.text, verdict.numbers)
    if check.status == "unverified" and verdict.status == "pass":
        out = needs_review(verdict.source, verdict.reasons, check.text, verdict.numbers)
        out.credit = status_fraction(item, "partial")
        out.fix = verdict.fix
        return out
    return verdict


def pct(x: float) -> str:
    """A fraction as a whole percentage, e.g. ``0.404`` -> ``40%``."""
    return f"{100 * x:.0f}%"


def finite(value: float | None, default: float = 0.0) -> float:
    """``value`` as a finite float, else ``default`` (None, inf or NaN)."""
    try:
        v = float(value if value is not None else default)
    except (TypeError, ValueError):
        return default
    return v if np.isfinite(v) else default


def trusted_variant(evidence: Evidence) -> tuple[str, VariantRun] | tuple[None, None]:
    """The final variant when it trained, else the baseline."""
    by_name = {v.name: v for v in evidence.variants}
    for name in ("final", "baseline"):
        v = by_name.get(name)
        if v is not None and v.error is None and v.history.fake_accuracy:
            return name, v
    return None, None


def history_steps(h: History) -> int:
    """Training steps a history covers (recorded count or accuracy length, the larger)."""
    return max(int(h.steps or 0), len(h.fake_accuracy))


def is_authoritative(variant: VariantRun | None, rubric: Rubric) -> bool:
    """Whether the grader's run of ``variant`` was long enough to judge quality on (--full)."""
    return variant is not None and variant.verified and history_steps(variant.history) >= \
        rubric.threshold("authoritative_min_steps")
