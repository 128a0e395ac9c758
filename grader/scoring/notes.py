"""Warnings and review requests that go with a grade (both languages)."""

from __future__ import annotations

from grader.evidence import Evidence
from grader.judge.results import JudgedEvidence
from grader.rubric import Rubric
from grader.scoring.common import variant_ko
from grader.scoring.grades import ItemGrade, Note


def collect_notes(evidence: Evidence, judged: JudgedEvidence, rubric: Rubric,
                  items: list[ItemGrade]) -> list[Note]:
    """Warnings that go with a grade, each in English and Korean.

    In order: failed or warned checks, untrainable variants, display problems, judge, evidence
    and rubric warnings, then a review request per inconclusive item.

    Args:
        evidence: the evidence record (checks, variants, warnings).
        judged: the judge results (their own warnings, GIF facts).
        rubric: the loaded rubric (its warnings, whether it is calibrated).
        items: the item grades already scored.

    Returns:
        The notes, in the order above.
    """
    notes = [Note(f"check:{c.id}", c.message.en, c.message.ko)
             for c in evidence.checks if c.status in ("warn", "fail")]
    for v in evidence.variants:
        if v.error:
            notes.append(Note("variant", f"The {v.name} version could not be trained: {v.error}",
                              f"{variant_ko(v.name)} 버전을 학습시키지 못했습니다: {v.error}"))
    if judged.gif_info is not None and judged.gif_info.colormapped:
        notes.append(Note("display", "The GIF shows a single channel through a colour map.",
                          "GIF가 한 채널만 컬러맵으로 보여 줍니다."))
    for name in ("final_samples", "baseline_samples", "checkpoint_samples", "student_images"):
        result = getattr(judged, name)
        for w in result.warnings if result is not None else []:
            notes.append(Note(f"judge:{name}", str(w), str(w)))
    notes += [Note("evidence", w.en, w.ko) for w in evidence.warnings]
    notes += [Note("rubric", w, w) for w in rubric.warnings]
    if not rubric.calibrated:
        notes.append(Note("rubric", "Some rubric thresholds are provisional (not yet calibrated "
                          "on baselines).", "루브릭 기준값 일부는 아직 기준 모델로 보정되지 않은 "
                          "임시값입니다."))
    for i in items:
        if i.status == "inconclusive":
            notes.append(Note("review", f"Item {i.number} ({i.id}) is inconclusive: an "
                              "instructor should review it.",
                              f"{i.number}번 항목({i.id})은 판정 불가입니다. 강사의 검토가 필요합니다."))
    return notes
