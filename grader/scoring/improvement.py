"""Item 3 (improvement): compare the images before and after the student's change.

The comparison statistic is the rubric item's ``compare_by`` option: the classifier score
(default; the Inception-Score analogue computed with our judge, which rewards confident *and*
varied classes) or the recognizable fraction. ``reference/improvement_calibration.md`` shows
why the classifier score is the default: on pairs of reference generators where the later one
is known to be better, it says so, while the recognizable fraction does not (early, blurry
outputs are often called confident within one or two classes).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from grader.evidence import Evidence, VariantRun
from grader.judge.results import JudgedEvidence, JudgeResult
from grader.rubric import Rubric, RubricItem
from grader.scoring.common import (
    finite,
    is_authoritative,
    item_grade,
    pct,
    status_fraction,
    variant_ko,
)
from grader.scoring.grades import ItemGrade, ItemStatus
from grader.scoring.items import register_item
from grader.stats.bootstrap import DiffStats, bootstrap_difference, bootstrap_set_difference
from grader.stats.inception import classifier_scores

COMPARE_BY_DEFAULT = "classifier_score"


def _recognized(r: JudgeResult | None) -> np.ndarray:
    """Per-image "recognizable" flags of a judge result (empty when it has none)."""
    return np.array([p.recognizable for p in (r.per_image if r else [])], dtype=bool)


def _probabilities(r: JudgeResult | None) -> np.ndarray:
    """Per-image calibrated class probabilities (N, classes); empty when any image lacks them."""
    classes = len(r.class_histogram) if r else 0
    rows = [p.probs for p in (r.per_image if r else [])]
    if not rows or classes == 0 or any(len(q) != classes for q in rows):
        return np.zeros((0, classes))
    out = np.asarray(rows, dtype=float)
    return out if np.all(np.isfinite(out)) else np.zeros((0, classes))


def compare_sets(before: JudgeResult | None, after: JudgeResult | None, compare_by: str,
                 *, n_boot: int, seed: int, ci_level: float) -> DiffStats:
    """Bootstrap difference (after - before) of two judged image sets by ``compare_by``.

    Falls back to the recognizable fraction when per-image probabilities are missing
    (judge results written before they were recorded).
    """
    pb, pa = _probabilities(before), _probabilities(after)
    if compare_by == "classifier_score" and len(pb) and len(pa):
        return bootstrap_set_difference(pb, pa, classifier_scores, n_boot=n_boot, seed=seed,
                                        ci_level=ci_level, metric="classifier_score")
    return bootstrap_difference(_recognized(before), _recognized(after), n_boot=n_boot,
                                seed=seed, ci_level=ci_level)


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
        return _not_compared(item, rubric, base, final, errors, sorted(by_name),
                             _later_version_failed(evidence))
    source, before, after = usable[0]
    n_boot, level = int(rubric.threshold("bootstrap_samples")), item.threshold("ci_level")
    d = compare_sets(before, after, item.option("compare_by", COMPARE_BY_DEFAULT),
                     n_boot=n_boot, seed=rubric.seed, ci_level=level)
    min_diff = item.threshold("min_difference")
    authoritative = source == "grader_variants" and is_authoritative(final, rubric)
    nums = {"difference": d.to_dict(), "compared_by": d.metric, "min_difference": min_diff,
            "authoritative_run": authoritative,
            "before_classifier_score": finite(before.classifier_score if before else None),
            "after_classifier_score": finite(after.classifier_score if after else None)}
    where_en = ("both versions as trained by the grader" if source == "grader_variants"
                else "your before/after images")
    where_ko = ("채점기가 학습시킨 두 버전" if source == "grader_variants"
                else "제출한 개선 전후 이미지")
    head_en, head_ko = _headline(d, where_en, where_ko)
    if d.metric == "classifier_score":
        rb, ra = _recognized(before), _recognized(after)
        nums["recognizable_before"], nums["recognizable_after"] = (float(rb.mean()),
                                                                   float(ra.mean()))
        head_en += (f" Recognizable images: {pct(rb.mean())} before, {pct(ra.mean())} after "
                    "(for information).")
        head_ko += (f" 알아볼 수 있는 이미지 비율: 개선 전 {pct(rb.mean())}, 개선 후 "
                    f"{pct(ra.mean())}(참고용).")
    try:  # a margin for calling the new version worse (older rubric files lack it)
        worse_margin = item.threshold("worse_margin")
    except KeyError:
        worse_margin = min_diff
    nums["worse_margin"] = worse_margin
    status, en, ko = _difference_status(d, min_diff, worse_margin, authoritative, source)
    en_all, ko_all = [f"{head_en} {en}"], [f"{head_ko} {ko}"]
    for v in errors:
        en, ko = _variant_error(v)
        en_all.append(en)
        ko_all.append(ko)
    return item_grade(item, status, status_fraction(item, status, rubric), source, en_all,
                      ko_all, nums)


def _headline(d: DiffStats, where_en: str, where_ko: str) -> tuple[str, str]:
    """(English, Korean) sentence stating both values, the difference and its interval."""
    if d.metric == "classifier_score":
        return (f"Classifier score of {where_en} (how confidently and how variously the judge "
                f"recognizes CIFAR-10 classes; higher is better, real photos score about 7): "
                f"{d.before:.2f} before, {d.after:.2f} after; difference {d.diff:+.2f} "
                f"(95% bootstrap interval {d.ci_low:+.2f} to {d.ci_high:+.2f}).",
                f"{where_ko}의 분류기 점수(판정 분류기가 CIFAR-10 클래스를 얼마나 확신 있고 "
                f"다양하게 알아보는지; 높을수록 좋으며 실제 사진은 약 7): 개선 전 "
                f"{d.before:.2f}, 개선 후 {d.after:.2f}, 차이 {d.diff:+.2f}(95% 부트스트랩 "
                f"구간 {d.ci_low:+.2f}~{d.ci_high:+.2f}).")
    return (f"Recognizable images, {where_en}: {pct(d.before)} before, {pct(d.after)} after; "
            f"difference {100 * d.diff:+.0f} points (95% bootstrap interval "
            f"{100 * d.ci_low:+.0f} to {100 * d.ci_high:+.0f}).",
            f"{where_ko}에서 알아볼 수 있는 이미지: 개선 전 {pct(d.before)}, 개선 후 "
            f"{pct(d.after)}, 차이 {100 * d.diff:+.0f}%p(95% 부트스트랩 구간 "
            f"{100 * d.ci_low:+.0f}~{100 * d.ci_high:+.0f}).")


def _later_version_failed(evidence: Evidence) -> dict[str, Any] | None:
    """A later (improved) model function that failed to build, as the sandbox reported it."""
    for c in evidence.checks:
        lf = c.details.get("later_failed") if c.id in ("generator_builds",
                                                       "discriminator_builds") else None
        if isinstance(lf, dict) and lf.get("name"):
            return lf
    return None


def _not_compared(item: RubricItem, rubric: Rubric, base: VariantRun | None,
                  final: VariantRun | None, errors: list[VariantRun],
                  variants: list[str], later_failed: dict[str, Any] | None) -> ItemGrade:
    """No pair of judged image sets to compare: say why (untrainable, one version, no images)."""
    if errors:
        en, ko = _variant_error(errors[0])
        return item_grade(item, "inconclusive", status_fraction(item, "inconclusive", rubric),
                          "none",
                          [f"{en} Without both versions the improvement cannot be compared."],
                          [f"{ko} 두 버전이 모두 있어야 개선 효과를 비교할 수 있습니다."],
                          {"variant_error": errors[0].name})
    if (base is None or final is None) and later_failed:
        name, origin = later_failed.get("name"), later_failed.get("origin") or "?"
        error = str(later_failed.get("error") or "it failed").rstrip(". ")
        return item_grade(
            item, "inconclusive", status_fraction(item, "inconclusive", rubric), "none",
            [f"Your improved version {name} ({origin}) could not be run: {error}. Only the "
             "earlier version could be trained, so the improvement cannot be compared."],
            [f"개선한 버전 {name}({origin})을 실행할 수 없었습니다: {error}. 이전 버전만 학습할 "
             "수 있었으므로 개선 효과를 비교할 수 없습니다."], {"later_failed": later_failed})
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


def _difference_status(d: DiffStats, min_diff: float, worse_margin: float,
                       authoritative: bool, source: str) -> tuple[ItemStatus, str, str]:
    """Status and (English, Korean) sentence for a before/after difference."""
    worse = d.ci_high < -worse_margin
    if d.ci_low > min_diff:
        return ("pass", "The improvement is real: the whole interval is above zero.",
                "구간 전체가 0보다 커서 개선 효과가 확인됩니다.")
    if worse and authoritative:
        return ("fail", "The new version is worse than the first one.",
                "새 버전이 첫 번째 버전보다 나쁩니다.")
    if worse and source == "student_before_after":
        return ("partial", "The change was applied, but your own images look worse after it "
                "than before (the whole interval is below zero).",
                "개선을 적용했지만, 제출한 이미지로는 적용 후가 적용 전보다 나빠 보입니다"
                "(구간 전체가 0보다 작음).")
    if authoritative or source == "student_before_after":
        return ("partial", "The change was applied but is not shown to be better: the "
                "interval includes zero. Compare on more samples, or try another idea.",
                "개선을 적용했지만 더 나아졌음이 입증되지 않았습니다(구간이 0을 포함). "
                "더 많은 샘플로 비교하거나 다른 아이디어를 시도해 보세요.")
    if worse:
        return ("inconclusive", "After the grader's short runs (quick mode) the new version "
                "scores lower, but runs this short cannot settle it: early in training both "
                "versions still make blurry images. The full mode (--full) trains long enough "
                "to decide; showing your own before/after samples also helps.",
                "채점기의 짧은 학습(quick 모드) 후에는 새 버전의 점수가 더 낮지만, 이렇게 짧은 "
                "학습으로는 판단할 수 없습니다. 학습 초반에는 두 버전 모두 흐릿한 이미지를 "
                "만들기 때문입니다. full 모드(--full)는 판단할 만큼 오래 학습하며, 직접 만든 "
                "개선 전후 샘플을 보여 주는 것도 도움이 됩니다.")
    return ("inconclusive", "The grader's runs were short (quick mode), so seeing "
            "no difference does not prove there was no improvement.",
            "채점기의 학습이 짧았으므로(quick 모드) 차이가 보이지 않는다고 해서 "
            "개선이 없다고 할 수는 없습니다.")


def _variant_error(v: VariantRun) -> tuple[str, str]:
    """(English, Korean) words for a variant the grader could not train."""
    return (f"Your {v.name} version could not be trained by the grader: {v.error}",
            f"채점기가 {variant_ko(v.name)} 버전을 학습시키지 못했습니다: {v.error}")


register_item("improvement", score_improvement, thresholds=("min_difference", "ci_level"))
