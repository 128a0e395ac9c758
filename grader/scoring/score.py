"""Score a submission: gate each rubric item on its checks, call its scorer, add the warnings."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from grader.evidence import CheckResult, Evidence
from grader.rubric import Rubric, RubricItem
from grader.scoring.common import item_grade
from grader.scoring.grade import Grade, ItemGrade
from grader.scoring.improvement import score_improvement
from grader.scoring.judged import JudgedEvidence
from grader.scoring.notes import collect_notes
from grader.scoring.recognizable import score_recognizable
from grader.scoring.training_progress import score_training_progress

ItemScorer = Callable[[RubricItem, Evidence, JudgedEvidence, Rubric], ItemGrade]
#: The scorer of each rubric item, by item id.
SCORERS: dict[str, ItemScorer] = {
    "recognizable": score_recognizable,
    "training_progress": score_training_progress,
    "improvement": score_improvement,
}


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
        judged = JudgedEvidence.from_json(json.dumps(judged))
    checks = {c.id: c for c in evidence.checks}
    items = []
    for item in rubric.items:
        failed = [checks[g] for g in item.gates if g in checks and checks[g].status == "fail"]
        if failed:
            items.append(_gated(item, failed))
            continue
        items.append(SCORERS[item.id](item, evidence, judged, rubric))
    notes = collect_notes(evidence, judged, rubric, items)
    return Grade(
        score=round(sum(i.score for i in items), 2), max_score=rubric.max_score, items=items,
        checks=[asdict(c) for c in evidence.checks], warnings=notes, rubric_id=rubric.id,
        rubric_version=rubric.version, rubric_calibrated=rubric.calibrated,
        rubric_title_en=rubric.title_en, rubric_title_ko=rubric.title_ko,
        review_needed=any(i.status == "inconclusive" for i in items))


def _gated(item: RubricItem, failed: list[CheckResult]) -> ItemGrade:
    """Zero points: a check this item is gated on failed."""
    en = [f"Not scored: the check '{c.id}' failed. {c.message_en}" for c in failed]
    ko = [f"채점하지 않음: '{c.id}' 검사를 통과하지 못했습니다. {c.message_ko}" for c in failed]
    return item_grade(item, "fail", 0.0, "none", en, ko,
                      {"failed_gates": [c.id for c in failed]})
