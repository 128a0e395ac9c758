"""Helpers shared by the item scorers: verdicts, status -> points, numbers, trusted runs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from grader.evidence import Evidence, History, VariantRun
from grader.rubric import STATUS_LEVEL, Rubric, RubricItem
from grader.scoring.grades import ItemGrade, ItemStatus

#: Korean names of the grader-trained variants.
VARIANT_KO = {"baseline": "첫 번째(baseline)", "final": "최종(final)"}


@dataclass
class Verdict:
    """One source's (or one part's) decision, before it becomes an :class:`ItemGrade`."""

    status: ItemStatus
    source: str
    """Evidence the decision rests on (``grader_run``, ``student_gif``, ... or ``none``)."""
    en: list[str]
    ko: list[str]
    numbers: dict[str, Any] = field(default_factory=dict)


def item_grade(item: RubricItem, status: ItemStatus, fraction: float, source: str,
               en: list[str], ko: list[str], numbers: dict[str, Any],
               parts: list[dict[str, Any]] | None = None) -> ItemGrade:
    """An :class:`ItemGrade` worth ``fraction`` of the item's points."""
    return ItemGrade(id=item.id, number=item.number, title_en=item.title_en,
                     title_ko=item.title_ko, status=status,
                     score=round(item.points * fraction, 2), max_score=item.points,
                     evidence=source, reasons_en=en, reasons_ko=ko, numbers=numbers,
                     parts=parts or [], criterion_en=item.criterion_en,
                     criterion_ko=item.criterion_ko)


def status_fraction(item: RubricItem, status: ItemStatus, rubric: Rubric) -> float:
    """Fraction of the item's points a status earns (inconclusive: the rubric's level)."""
    level = rubric.inconclusive_level if status == "inconclusive" else STATUS_LEVEL[status]
    return item.level_fraction(level)


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
    """Whether the grader's run of ``variant`` was long enough to fail a student on."""
    return variant is not None and history_steps(variant.history) >= rubric.threshold(
        "authoritative_min_steps")


def variant_ko(name: str) -> str:
    """Korean name of a grader-trained variant (the name itself when unknown)."""
    return VARIANT_KO.get(name, name)
