"""Item 3 (improvement): compare recognizable images before and after the student's change."""

from __future__ import annotations

from typing import Any

import numpy as np

from grader.evidence import Evidence, VariantRun
from grader.rubric import Rubric, RubricItem
from grader.scoring.common import (
    is_authoritative,
    item_grade,
    num,
    pct,
    status_fraction,
    variant_ko,
)
from grader.scoring.grade import ItemGrade, ItemStatus
from grader.scoring.judged import KEY_CLASSIFIER_SCORE, KEY_PER_IMAGE, JudgedEvidence
from grader.trend import DiffStats, bootstrap_difference


def _recognized(r: dict[str, Any] | None) -> np.ndarray:
    """Per-image "recognizable" flags of a judge result (empty when it has none)."""
    per = (r or {}).get(KEY_PER_IMAGE) or []
    return np.array([bool(p.get("recognizable")) for p in per if isinstance(p, dict)], dtype=bool)


def score_improvement(item: RubricItem, evidence: Evidence, judged: JudgedEvidence,
                      rubric: Rubric) -> ItemGrade:
    """Item 3: is the final version better than the baseline (bootstrap of the difference)?"""
    by_name = {v.name: v for v in evidence.variants}
    base, final = by_name.get("baseline"), by_name.get("final")
    pairs = []
    if "grader_variants" in item.evidence and base is not None and final is not None:
        pairs.append(("grader_variants", judged.baseline_samples, judged.final_samples))
    if "student_before_after" in item.evidence:
        pairs.append(("student_before_after", judged.student_before_images,
                      judged.student_after_images))
    usable = [(s, b, a) for s, b, a in pairs
              if _recognized(b).size and _recognized(a).size]
    errors = [v for v in (base, final) if v is not None and v.error]
    if not usable:
        return _not_compared(item, rubric, base, final, errors, sorted(by_name))
    source, before, after = usable[0]
    d = bootstrap_difference(_recognized(before), _recognized(after),
                             n_boot=int(rubric.threshold("bootstrap_samples")), seed=rubric.seed,
                             ci_level=item.threshold("ci_level"))
    min_diff = item.threshold("min_difference")
    authoritative = source == "grader_variants" and is_authoritative(final, rubric)
    nums = {"difference": d.to_dict(), "min_difference": min_diff,
            "authoritative_run": authoritative, "before_classifier_score":
            num(before, KEY_CLASSIFIER_SCORE), "after_classifier_score":
            num(after, KEY_CLASSIFIER_SCORE)}
    where_en = ("both versions as trained by the grader" if source == "grader_variants"
                else "your before/after images")
    where_ko = ("채점기가 학습시킨 두 버전" if source == "grader_variants"
                else "제출한 개선 전후 이미지")
    head_en = (f"Recognizable images, {where_en}: {pct(d.before)} before, {pct(d.after)} after; "
               f"difference {100 * d.diff:+.0f} points (95% bootstrap interval "
               f"{100 * d.ci_low:+.0f} to {100 * d.ci_high:+.0f}).")
    head_ko = (f"{where_ko}에서 알아볼 수 있는 이미지: 개선 전 {pct(d.before)}, 개선 후 "
               f"{pct(d.after)}, 차이 {100 * d.diff:+.0f}%p(95% 부트스트랩 구간 "
               f"{100 * d.ci_low:+.0f}~{100 * d.ci_high:+.0f}).")
    status, en, ko = _difference_status(d, min_diff, authoritative, source)
    en_all, ko_all = [f"{head_en} {en}"], [f"{head_ko} {ko}"]
    for v in errors:
        en, ko = _variant_error(v)
        en_all.append(en)
        ko_all.append(ko)
    return item_grade(item, status, status_fraction(item, status, rubric), source, en_all,
                      ko_all, nums)


def _not_compared(item: RubricItem, rubric: Rubric, base: VariantRun | None,
                  final: VariantRun | None, errors: list[VariantRun],
                  variants: list[str]) -> ItemGrade:
    """No pair of judged image sets to compare: say why (untrainable, one version, no images)."""
    if errors:
        en, ko = _variant_error(errors[0])
        return item_grade(item, "inconclusive", status_fraction(item, "inconclusive", rubric),
                          "none",
                          [f"{en} Without both versions the improvement cannot be compared."],
                          [f"{ko} 두 버전이 모두 있어야 개선 효과를 비교할 수 있습니다."],
                          {"variant_error": errors[0].name})
    if base is None or final is None:
        return item_grade(item, "fail", 0.0, "none", [
            "No improvement was attempted: only one version of the generator and "
            "discriminator was found. Step 7 asks you to change the model or the training, "
            "keep the first version, and show that the new one is better."], [
            "개선을 시도하지 않았습니다. 생성자와 판별자가 한 버전만 있습니다. Step 7은 모델 "
            "구조나 학습 과정을 바꾸고, 첫 번째 버전을 남겨 둔 채 새 버전이 더 나음을 "
            "보이도록 요구합니다."], {"variants": variants})
    return item_grade(item, "inconclusive", status_fraction(item, "inconclusive", rubric), "none",
                      ["Two versions were found, but the grader has no judged images of both to "
                       "compare."], ["두 버전을 찾았지만 비교할 판정 결과가 둘 다 있지는 않습니다."], {})


def _difference_status(d: DiffStats, min_diff: float, authoritative: bool,
                       source: str) -> tuple[ItemStatus, str, str]:
    """Status and (English, Korean) sentence for a before/after difference."""
    if d.ci_low > min_diff:
        return ("pass", "The improvement is real: the whole interval is above zero.",
                "구간 전체가 0보다 커서 개선 효과가 확인됩니다.")
    if d.ci_high < -min_diff and authoritative:
        return ("fail", "The new version is worse than the first one.",
                "새 버전이 첫 번째 버전보다 나쁩니다.")
    if authoritative or source == "student_before_after":
        return ("partial", "The change was applied but is not shown to be better: the "
                "interval includes zero. Compare on more samples, or try another idea.",
                "개선을 적용했지만 더 나아졌음이 입증되지 않았습니다(구간이 0을 포함). "
                "더 많은 샘플로 비교하거나 다른 아이디어를 시도해 보세요.")
    return ("inconclusive", "The grader's runs were short (quick mode), so seeing "
            "no difference does not prove there was no improvement.",
            "채점기의 학습이 짧았으므로(quick 모드) 차이가 보이지 않는다고 해서 "
            "개선이 없다고 할 수는 없습니다.")


def _variant_error(v: VariantRun) -> tuple[str, str]:
    """(English, Korean) words for a variant the grader could not train."""
    return (f"Your {v.name} version could not be trained by the grader: {v.error}",
            f"채점기가 {variant_ko(v.name)} 버전을 학습시키지 못했습니다: {v.error}")
