"""Score a submission: gate each rubric item on its checks, call its scorer, add the warnings."""

from __future__ import annotations

from typing import Any

from grader.evidence import CheckResult, Evidence
from grader.judge.results import JudgedEvidence
from grader.rubric import Rubric, RubricItem
from grader.scoring.common import Verdict, grade_of, needs_review, status_fraction
from grader.scoring.grades import Grade, ItemGrade
from grader.scoring.items import ITEMS
from grader.scoring.notes import collect_notes
from grader.text import Msg, msg


def score_submission(evidence: Evidence, judged: JudgedEvidence | dict[str, Any],
                     rubric: Rubric) -> Grade:
    """Score one submission against the rubric.

    Args:
        evidence: what the isolated run and intake found (checks, variants, artifacts).
        judged: trusted judge results (a :class:`JudgedEvidence` or its dict form).
        rubric: the loaded rubric.

    Returns:
        The grade: per item a status, points, the evidence used and reasons in both languages.
    """
    if isinstance(judged, dict):
        judged = JudgedEvidence.from_dict(judged)
    checks = {c.id: c for c in evidence.checks}
    items = []
    for item in rubric.items:
        failed = [checks[g] for g in item.gates if g in checks and checks[g].status == "fail"]
        if failed:
            items.append(_gated(item, failed))
            continue
        grade = ITEMS[item.id].scorer(item, evidence, judged, rubric)
        if judged.shown_error and evidence.artifacts and grade.status in ("fail", "partial"):
            grade = _unjudged(item, grade, judged.shown_error)
        items.append(grade)
    notes = collect_notes(evidence, judged, rubric, items)
    return Grade(
        score=0.0, max_score=rubric.max_score, items=items,
        checks=[_check_row(c) for c in evidence.checks], warnings=notes, rubric_id=rubric.id,
        rubric_version=rubric.version, rubric_calibrated=rubric.calibrated,
        rubric_title_en=rubric.title_en, rubric_title_ko=rubric.title_ko).recount()


def _unjudged(item: RubricItem, grade: ItemGrade, why: str) -> ItemGrade:
    """A fail or partial reached without the student's shown evidence (its judging did not
    come back) waits for an instructor: what they show could change it."""
    reasons = [Msg(en, ko) for en, ko in zip(grade.reasons_en, grade.reasons_ko, strict=False)]
    verdict = needs_review(grade.evidence, reasons, msg("sandbox.shown_not_judged", why=why),
                           dict(grade.numbers))
    verdict.credit = status_fraction(item, grade.status)
    return grade_of(item, verdict)


def _check_row(c: CheckResult) -> dict[str, Any]:
    """A check as ``result.json`` lists it (both wordings as their own fields)."""
    return {"id": c.id, "status": c.status, "message_en": c.message.en,
            "message_ko": c.message.ko, "details": c.details}


def _gated(item: RubricItem, failed: list[CheckResult]) -> ItemGrade:
    """Zero points: a check this item is gated on failed."""
    reasons = [msg("scoring.gated", check=c.id, message=c.message) for c in failed]
    return grade_of(item, Verdict("fail", "none", reasons,
                                  {"failed_gates": [c.id for c in failed]},
                                  fix=failed[0].message))
