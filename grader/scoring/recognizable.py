"""Item 1 (recognizable): judge the generated images of the most trusted source."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from grader.evidence import Evidence
from grader.judge.results import JudgedEvidence, JudgeResult
from grader.rubric import Rubric, RubricItem
from grader.scoring.common import (
    Verdict,
    finite,
    is_authoritative,
    item_grade,
    pct,
    status_fraction,
    trusted_variant,
)
from grader.scoring.grades import ItemGrade
from grader.scoring.items import register_item
from grader.scoring.sources import SOURCES
from grader.text import plain


@dataclass(frozen=True)
class CollapseRule:
    """Thresholds of the mode-collapse check (calibrated by ``reference.calibrate_collapse``)."""

    min_class_coverage: float
    """Fewer classes with a recognized image than this reads as collapse."""
    max_top_class_share: float
    """More than this share of the recognized images in one class reads as collapse."""
    min_recognized: float
    """Below this many recognized images the class spread says nothing (never collapse)."""
    share_confidence: float = 0.0
    """With c > 0 the top class's share must exceed ``max_top_class_share`` with confidence c
    (its one-sided Clopper-Pearson lower bound does): a share seen on a few recognized images
    proves less than one seen on hundreds. 0 compares the share itself."""

    @classmethod
    def from_item(cls, item: RubricItem) -> CollapseRule:
        """The rule as item 1 of the rubric sets it (``top_share_confidence`` is optional)."""
        try:
            confidence = item.threshold("top_share_confidence")
        except KeyError:
            confidence = 0.0
        return cls(item.threshold("min_class_coverage"), item.threshold("max_top_class_share"),
                   item.threshold("collapse_min_recognized"), confidence)


def class_spread(hist: ArrayLike) -> tuple[Any, Any, Any]:
    """Recognized images, classes with any recognized image, and the top class's share.

    ``hist`` holds recognized images per class on its last axis (one histogram, or a stack
    of them: the results are then arrays). The share is 0 where nothing was recognized.
    """
    h = np.asarray(hist).astype(np.int64)
    n_rec = h.sum(axis=-1)
    seen = (h > 0).sum(axis=-1)
    top = np.where(n_rec > 0, h.max(axis=-1) / np.maximum(n_rec, 1), 0.0)
    return n_rec, seen, top


def share_lower_bound(n_rec: Any, top: Any, confidence: float) -> Any:
    """One-sided Clopper-Pearson lower bound of the top class's share (elementwise).

    ``top`` is the observed share of ``n_rec`` recognized images; 0 where nothing was seen.
    """
    from scipy.stats import beta

    n = np.asarray(n_rec, dtype=np.float64)
    k = np.rint(np.asarray(top, dtype=np.float64) * n)
    ok = (k > 0) & (n > 0)
    safe_k, safe_n = np.where(ok, k, 1.0), np.where(ok, n, 1.0)
    bound = np.where(ok, beta.ppf(1.0 - confidence, safe_k, safe_n - safe_k + 1.0), 0.0)
    return bound if bound.ndim else float(bound)


def is_collapsed(n_rec: Any, seen: Any, top: Any, rule: CollapseRule) -> Any:
    """The mode-collapse rule; elementwise on arrays (a bool for scalars).

    Collapse: enough recognized images to judge the spread, and too few classes among them
    or too large a share in one class (beyond chance, when ``rule.share_confidence`` > 0).
    """
    share = (share_lower_bound(n_rec, top, rule.share_confidence) if rule.share_confidence > 0
             else top)
    return (n_rec >= rule.min_recognized) & (
        (seen < rule.min_class_coverage) | (share > rule.max_top_class_share))


def near_copy_limit(item: RubricItem) -> float | None:
    """Item 1's ``max_near_copy_share`` (None when a custom rubric leaves the check out)."""
    try:
        return item.threshold("max_near_copy_share")
    except KeyError:
        return None


def _source_verdict(r: JudgeResult, source: str, item: RubricItem) -> Verdict:
    """Judge one source's images against the thresholds (collapse, pass, fail, partial)."""
    n = r.n
    f, lo, hi = finite(r.recognizable_fraction), finite(r.ci_low), finite(r.ci_high, 1.0)
    cov = r.class_coverage
    hist = list(r.class_histogram)
    p_thr, f_thr = item.threshold("pass_fraction"), item.threshold("fail_fraction")
    nums = {"n": n, "recognizable_fraction": f, "ci_low": lo, "ci_high": hi,
            "class_coverage": cov, "classifier_score": finite(r.classifier_score),
            "fcd": r.to_dict()["fcd"], "pass_fraction": p_thr, "fail_fraction": f_thr}
    words = SOURCES[source].words if source in SOURCES else plain(source)
    where_en, where_ko = words.en, words.ko
    head_en = (f"The judge recognized {pct(f)} of {n} images from {where_en} "
               f"(95% interval {pct(lo)}-{pct(hi)}; {cov} classes covered).")
    head_ko = (f"{where_ko} {n}장 중 {pct(f)}를 판별기가 알아보았습니다 "
               f"(95% 구간 {pct(lo)}-{pct(hi)}, {cov}개 클래스).")
    # Classes with any recognized image: the judge's coverage needs k images per class, which
    # a modest but healthy generator may miss at large N, so collapse is judged on the spread.
    if hist:
        rec, classes, share = class_spread(hist)
        n_rec, seen, top = int(rec), int(classes), float(share)
    else:
        n_rec, seen, top = round(f * n), cov, 0.0
    copies = finite(r.near_copy_fraction)
    nums.update(top_class_share=top, classes_seen=seen, near_copy_fraction=copies)
    limit = near_copy_limit(item)
    # Only where the fraction alone would not fail: an untrained generator's look-alike
    # blobs are better told "not recognizable yet".
    if limit is not None and n >= 2 and copies >= limit and hi >= f_thr:
        return Verdict("fail", source, [head_en, (
            f"{pct(copies)} of the images have an almost identical twin in the same set: the "
            "generator makes only a few distinct images, whatever the noise (mode collapse). "
            "Try label smoothing, a lower learning rate for the discriminator, or adding noise "
            "to its inputs. (If your figure feeds the same noise vector to every panel, draw a "
            "different vector per panel instead.)")], [head_ko, (
            f"이미지의 {pct(copies)}가 같은 묶음 안에 거의 똑같은 이미지를 가지고 있습니다. 노이즈가 "
            "달라도 생성자가 몇 가지 이미지만 만드는 모드 붕괴(mode collapse)입니다. 레이블 스무딩, "
            "판별자 학습률 낮추기, 판별자 입력에 노이즈 추가 등을 시도해 보세요. (그림의 모든 칸에 "
            "같은 노이즈 벡터를 넣었다면 칸마다 다른 벡터를 쓰세요.)")], nums)
    if is_collapsed(n_rec, seen, top, CollapseRule.from_item(item)):
        cls = r.top_class()
        return Verdict("fail", source, [head_en, (
            f"{round(top * n_rec)} of the {n_rec} recognized images ({pct(top)}) are one class "
            f"({cls}): the generator has "
            "collapsed to one kind of image (mode collapse). Try label smoothing, a lower "
            "learning rate for the discriminator, or adding noise to its inputs.")], [head_ko, (
            f"알아본 이미지 {n_rec}장 중 {round(top * n_rec)}장({pct(top)})이 한 클래스({cls})입니다. "
            "생성자가 한 종류의 이미지만 "
            "만드는 모드 붕괴(mode collapse)가 일어났습니다. 레이블 스무딩, 판별자 학습률 낮추기, "
            "판별자 입력에 노이즈 추가 등을 시도해 보세요.")], nums)
    if lo >= p_thr:
        return Verdict("pass", source, [head_en, (
            f"Even the low end of the interval clears the {pct(p_thr)} needed: objects can be "
            "told apart.")], [head_ko, (
            f"구간의 하한도 기준 {pct(p_thr)}를 넘습니다. 오브젝트를 구별할 수 있는 수준입니다.")], nums)
    if hi < f_thr:
        return Verdict("fail", source, [head_en, (
            f"Even the high end of the interval is below {pct(f_thr)}: the images are not "
            "recognizable yet. Train for the full 50 epochs, scale training images to [-1, 1], and "
            "end the generator with tanh.")], [head_ko, (
            f"구간의 상한도 {pct(f_thr)}에 못 미칩니다. 아직 알아볼 수 있는 이미지가 아닙니다. "
            "50 epoch를 모두 학습하고, 학습 이미지를 [-1, 1]로 정규화하고, 생성자의 마지막 "
            "활성화 함수를 tanh로 했는지 확인하세요.")], nums)
    if lo >= f_thr and hi < p_thr:
        return Verdict("partial", source, [head_en, (
            f"Some objects are recognizable, but fewer than the {pct(p_thr)} needed. Train longer "
            "or improve the model.")], [head_ko, (
            f"일부 오브젝트는 알아볼 수 있지만 기준 {pct(p_thr)}에는 못 미칩니다. 더 오래 "
            "학습하거나 모델을 개선해 보세요.")], nums)
    return Verdict("inconclusive", source, [head_en, (
        f"With {n} images the interval is too wide to decide against the thresholds "
        f"({pct(f_thr)} and {pct(p_thr)}). More samples settle it: submit a checkpoint or a "
        "larger grid of samples.")], [head_ko, (
        f"이미지가 {n}장뿐이라 구간이 넓어서 기준({pct(f_thr)}, {pct(p_thr)})으로 판정할 수 "
        "없습니다. 체크포인트나 더 큰 샘플 그리드를 제출하면 판정할 수 있습니다.")], nums)


#: Preference among statuses when sources disagree (ties keep trust order).
_RANK = {"pass": 3, "partial": 2, "inconclusive": 1, "fail": 0}


def score_recognizable(item: RubricItem, evidence: Evidence, judged: JudgedEvidence,
                       rubric: Rubric) -> ItemGrade:
    """Item 1: are the generated objects recognizable? The most trusted usable source decides."""
    name, variant = trusted_variant(evidence)
    grader = {"final": judged.final_samples, "baseline": judged.baseline_samples}.get(name or "")
    sources = [("grader_run", grader), ("checkpoint", judged.checkpoint_samples),
               ("student_images", judged.student_images)]
    verdicts = [_source_verdict(r, s, item) for s, r in sources
                if s in item.evidence and r is not None and r.n > 0]
    if not verdicts:
        return item_grade(item, "fail", 0.0, "none", [
            "No generated images to judge: the grader could not train your models, and no "
            "checkpoint or sample images were found in the submission."], [
            "판정할 생성 이미지가 없습니다. 채점기가 모델을 학습시키지 못했고, 제출물에서 "
            "체크포인트나 샘플 이미지도 찾지 못했습니다."], {})
    authoritative = is_authoritative(variant, rubric)
    first = verdicts[0]
    if first.source == "grader_run" and not authoritative and first.status == "fail":
        first.status = "inconclusive"
        first.en.append("The grader's run was short (quick mode), so this alone cannot fail you.")
        first.ko.append("채점기의 학습이 짧았기 때문에(quick 모드) 이것만으로 낙제 처리하지 않습니다.")
    if first.source == "grader_run" and authoritative and first.status != "inconclusive":
        chosen = first
    else:
        chosen = max(verdicts, key=lambda v: _RANK[v.status])  # ties keep trust order
        better_trusted = verdicts[:verdicts.index(chosen)]
        if chosen.status == "pass" and any(v.status == "fail" for v in better_trusted):
            chosen.status = "inconclusive"
            chosen.en.append("A more trusted source disagrees (it fails), so an instructor "
                             "will compare them.")
            chosen.ko.append("더 신뢰할 수 있는 근거에서는 미통과로 나와 결과가 엇갈리므로 강사가 "
                             "직접 비교합니다.")
    numbers = dict(chosen.numbers, sources={v.source: dict(v.numbers, status=v.status)
                                            for v in verdicts},
                   authoritative_run=authoritative, variant=name)
    return item_grade(item, chosen.status, status_fraction(item, chosen.status, rubric),
                      chosen.source, chosen.en, chosen.ko, numbers)


register_item("recognizable", score_recognizable,
              thresholds=("pass_fraction", "fail_fraction", "min_class_coverage",
                          "max_top_class_share", "collapse_min_recognized"))
