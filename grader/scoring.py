"""Trusted scoring: rubric x evidence x judge results -> a grade with reasons in English and Korean."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np

from grader.evidence import CheckResult, Evidence, History, VariantRun
from grader.rubric import STATUS_LEVEL, Rubric, RubricItem
from grader.trend import bootstrap_difference, fake_accuracy_trend, quality_rise

ItemStatus = Literal["pass", "partial", "fail", "inconclusive"]

# Keys of a judge result dict (grader.judge.metrics.JudgeResult.to_dict()).
KEY_N = "n"
KEY_FRACTION = "recognizable_fraction"
KEY_CI_LOW = "ci_low"
KEY_CI_HIGH = "ci_high"
KEY_HISTOGRAM = "class_histogram"
KEY_COVERAGE = "class_coverage"
KEY_CLASSIFIER_SCORE = "classifier_score"
KEY_FCD = "fcd"
KEY_PER_IMAGE = "per_image"
KEY_WARNINGS = "warnings"
#: CIFAR-10 class names (same order as grader.data.CLASS_NAMES; kept here to avoid data imports)
CLASS_NAMES = ("airplane", "automobile", "bird", "cat", "deer",
               "dog", "frog", "horse", "ship", "truck")

_VARIANT_KO = {"baseline": "첫 번째(baseline)", "final": "최종(final)"}
SOURCE_WORDS = {
    "grader_run": ("the grader's own training run of your code",
                   "채점기가 여러분의 코드로 직접 학습시킨 생성자의 이미지"),
    "checkpoint": ("your checkpoint, sampled by the grader",
                   "채점기가 여러분의 체크포인트로 생성한 이미지"),
    "student_images": ("the sample images in your submission", "제출물에 들어 있는 샘플 이미지"),
}


@dataclass
class GifInfo:
    """What the pipeline found out about the student's GIF."""

    origin: str
    """Where it came from (relative path or notebook output)."""
    readable: bool = True
    n_frames: int = 0
    error: str | None = None
    """Why it could not be read (student-facing words)."""
    colormapped: bool = False
    """Frames show a single channel through a colormap (a display problem)."""
    tiles_per_frame: int = 0
    file: str | None = None
    """Copy in the work folder, for the report."""


@dataclass
class JudgedEvidence:
    """Trusted judge results the pipeline computed for one submission.

    Every judge result is a ``grader.judge.metrics.JudgeResult.to_dict()`` dict (``n``,
    ``recognizable_fraction``, ``ci_low``, ``ci_high``, ``class_histogram``, ``class_coverage``,
    ``classifier_score``, ``fcd``, ``per_image``, ``warnings``). Any field may be missing.
    """

    final_samples: dict[str, Any] | None = None
    """Images sampled by the grader from the final variant it trained."""
    baseline_samples: dict[str, Any] | None = None
    """Images sampled by the grader from the baseline variant (only when one exists)."""
    checkpoint_samples: dict[str, Any] | None = None
    """Images the grader sampled from the student's own checkpoint."""
    student_images: dict[str, Any] | None = None
    """Tiles cut from the student's sample images (PNG files or notebook outputs)."""
    student_before_images: dict[str, Any] | None = None
    """Tiles the student shows as results before the improvement, if told apart."""
    student_after_images: dict[str, Any] | None = None
    """Tiles the student shows as results after the improvement, if told apart."""
    grader_frames: list[dict[str, Any]] = field(default_factory=list)
    """One judge result per fixed-noise frame of the grader's final run, in training order."""
    gif_frames: list[dict[str, Any]] = field(default_factory=list)
    """One judge result per frame of the student's GIF, in order."""
    gif_info: GifInfo | None = None

    def to_json(self) -> str:
        """Serialise to JSON text."""
        return json.dumps(asdict(self), ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> JudgedEvidence:
        """Parse JSON written by :meth:`to_json` (unknown keys are ignored)."""
        raw = json.loads(text)
        gif = raw.pop("gif_info", None)
        names = {f.name for f in dataclasses.fields(cls)}
        gif_names = {f.name for f in dataclasses.fields(GifInfo)}
        info = GifInfo(**{k: v for k, v in gif.items() if k in gif_names}) if gif else None
        return cls(gif_info=info, **{k: v for k, v in raw.items() if k in names})


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


@dataclass
class _Verdict:
    status: ItemStatus
    source: str
    en: list[str]
    ko: list[str]
    numbers: dict[str, Any] = field(default_factory=dict)


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
    notes: list[Note] = []
    items = []
    scorers = {"recognizable": _score_recognizable, "training_progress": _score_progress,
               "improvement": _score_improvement}
    for item in rubric.items:
        failed = [checks[g] for g in item.gates if g in checks and checks[g].status == "fail"]
        if failed:
            items.append(_gated(item, failed))
            continue
        items.append(scorers[item.id](item, evidence, judged, rubric))
    notes += _collect_notes(evidence, judged, rubric, items)
    return Grade(
        score=round(sum(i.score for i in items), 2), max_score=rubric.max_score, items=items,
        checks=[asdict(c) for c in evidence.checks], warnings=notes, rubric_id=rubric.id,
        rubric_version=rubric.version, rubric_calibrated=rubric.calibrated,
        rubric_title_en=rubric.title_en, rubric_title_ko=rubric.title_ko,
        review_needed=any(i.status == "inconclusive" for i in items))


def _gated(item: RubricItem, failed: list[CheckResult]) -> ItemGrade:
    en = [f"Not scored: the check '{c.id}' failed. {c.message_en}" for c in failed]
    ko = [f"채점하지 않음: '{c.id}' 검사를 통과하지 못했습니다. {c.message_ko}" for c in failed]
    return _item_grade(item, "fail", 0.0, "none", en, ko,
                       {"failed_gates": [c.id for c in failed]})


def _item_grade(item: RubricItem, status: ItemStatus, fraction: float, source: str,
                en: list[str], ko: list[str], numbers: dict[str, Any],
                parts: list[dict[str, Any]] | None = None) -> ItemGrade:
    return ItemGrade(id=item.id, number=item.number, title_en=item.title_en,
                     title_ko=item.title_ko, status=status,
                     score=round(item.points * fraction, 2), max_score=item.points,
                     evidence=source, reasons_en=en, reasons_ko=ko, numbers=numbers,
                     parts=parts or [], criterion_en=item.criterion_en,
                     criterion_ko=item.criterion_ko)


def _fraction(item: RubricItem, status: ItemStatus, rubric: Rubric) -> float:
    level = rubric.inconclusive_level if status == "inconclusive" else STATUS_LEVEL[status]
    return item.level_fraction(level)


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%"


def _num(d: dict[str, Any] | None, key: str, default: float = 0.0) -> float:
    try:
        v = float((d or {}).get(key, default))
    except (TypeError, ValueError):
        return default
    return v if np.isfinite(v) else default


def _trusted_variant(evidence: Evidence) -> tuple[str, VariantRun] | tuple[None, None]:
    """The final variant when it trained, else the baseline."""
    by_name = {v.name: v for v in evidence.variants}
    for name in ("final", "baseline"):
        v = by_name.get(name)
        if v is not None and v.error is None and v.history.fake_accuracy:
            return name, v
    return None, None


def _steps(h: History) -> int:
    return max(int(h.steps or 0), len(h.fake_accuracy))


# --------------------------------------------------------------------------- item 1

def _recognizable_verdict(r: dict[str, Any], source: str, item: RubricItem) -> _Verdict:
    n = int(_num(r, KEY_N))
    f, lo, hi = _num(r, KEY_FRACTION), _num(r, KEY_CI_LOW), _num(r, KEY_CI_HIGH, 1.0)
    cov = int(_num(r, KEY_COVERAGE))
    hist = list((r or {}).get(KEY_HISTOGRAM) or [])
    p_thr, f_thr = item.threshold("pass_fraction"), item.threshold("fail_fraction")
    nums = {"n": n, "recognizable_fraction": f, "ci_low": lo, "ci_high": hi,
            "class_coverage": cov, "classifier_score": _num(r, KEY_CLASSIFIER_SCORE),
            "fcd": (r or {}).get(KEY_FCD), "pass_fraction": p_thr, "fail_fraction": f_thr}
    where_en, where_ko = SOURCE_WORDS.get(source, (source, source))
    head_en = (f"The judge recognized {_pct(f)} of {n} images from {where_en} "
               f"(95% interval {_pct(lo)}-{_pct(hi)}; {cov} classes covered).")
    head_ko = (f"{where_ko} {n}장 중 {_pct(f)}를 판별기가 알아보았습니다 "
               f"(95% 구간 {_pct(lo)}-{_pct(hi)}, {cov}개 클래스).")
    n_rec = int(sum(int(x) for x in hist)) if hist else round(f * n)
    top = max(hist) / n_rec if hist and n_rec else 0.0
    # Classes with any recognized image: the judge's coverage needs k images per class, which
    # a modest but healthy generator may miss at large N, so collapse is judged on the spread.
    seen = sum(1 for x in hist if int(x) > 0) if hist else cov
    nums.update(top_class_share=top, classes_seen=seen)
    if n_rec >= item.threshold("collapse_min_recognized") and (
            seen < item.threshold("min_class_coverage") or top > item.threshold("max_top_class_share")):
        cls = CLASS_NAMES[int(np.argmax(hist))] if len(hist) == 10 else "?"
        return _Verdict("fail", source, [head_en, (
            f"{_pct(top)} of the recognized images are one class ({cls}): the generator has "
            "collapsed to one kind of image (mode collapse). Try label smoothing, a lower "
            "learning rate for the discriminator, or adding noise to its inputs.")], [head_ko, (
            f"알아본 이미지의 {_pct(top)}가 한 클래스({cls})입니다. 생성자가 한 종류의 이미지만 "
            "만드는 모드 붕괴(mode collapse)가 일어났습니다. 레이블 스무딩, 판별자 학습률 낮추기, "
            "판별자 입력에 노이즈 추가 등을 시도해 보세요.")], nums)
    if lo >= p_thr:
        return _Verdict("pass", source, [head_en, (
            f"Even the low end of the interval clears the {_pct(p_thr)} needed: objects can be "
            "told apart.")], [head_ko, (
            f"구간의 하한도 기준 {_pct(p_thr)}를 넘습니다. 오브젝트를 구별할 수 있는 수준입니다.")], nums)
    if hi < f_thr:
        return _Verdict("fail", source, [head_en, (
            f"Even the high end of the interval is below {_pct(f_thr)}: the images are not "
            "recognizable yet. Train for the full 50 epochs, scale training images to [-1, 1], and "
            "end the generator with tanh.")], [head_ko, (
            f"구간의 상한도 {_pct(f_thr)}에 못 미칩니다. 아직 알아볼 수 있는 이미지가 아닙니다. "
            "50 epoch를 모두 학습하고, 학습 이미지를 [-1, 1]로 정규화하고, 생성자의 마지막 "
            "활성화 함수를 tanh로 했는지 확인하세요.")], nums)
    if lo >= f_thr and hi < p_thr:
        return _Verdict("partial", source, [head_en, (
            f"Some objects are recognizable, but fewer than the {_pct(p_thr)} needed. Train longer "
            "or improve the model.")], [head_ko, (
            f"일부 오브젝트는 알아볼 수 있지만 기준 {_pct(p_thr)}에는 못 미칩니다. 더 오래 "
            "학습하거나 모델을 개선해 보세요.")], nums)
    return _Verdict("inconclusive", source, [head_en, (
        f"With {n} images the interval is too wide to decide against the thresholds "
        f"({_pct(f_thr)} and {_pct(p_thr)}). More samples settle it: submit a checkpoint or a "
        "larger grid of samples.")], [head_ko, (
        f"이미지가 {n}장뿐이라 구간이 넓어서 기준({_pct(f_thr)}, {_pct(p_thr)})으로 판정할 수 "
        "없습니다. 체크포인트나 더 큰 샘플 그리드를 제출하면 판정할 수 있습니다.")], nums)


_RANK = {"pass": 3, "partial": 2, "inconclusive": 1, "fail": 0}


def _score_recognizable(item: RubricItem, evidence: Evidence, judged: JudgedEvidence,
                        rubric: Rubric) -> ItemGrade:
    name, variant = _trusted_variant(evidence)
    grader = {"final": judged.final_samples, "baseline": judged.baseline_samples}.get(name or "")
    sources = [("grader_run", grader), ("checkpoint", judged.checkpoint_samples),
               ("student_images", judged.student_images)]
    verdicts = [_recognizable_verdict(r, s, item) for s, r in sources
                if s in item.evidence and r is not None and _num(r, KEY_N) > 0]
    if not verdicts:
        return _item_grade(item, "fail", 0.0, "none", [
            "No generated images to judge: the grader could not train your models, and no "
            "checkpoint or sample images were found in the submission."], [
            "판정할 생성 이미지가 없습니다. 채점기가 모델을 학습시키지 못했고, 제출물에서 "
            "체크포인트나 샘플 이미지도 찾지 못했습니다."], {})
    authoritative = variant is not None and _steps(variant.history) >= rubric.threshold(
        "authoritative_min_steps")
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
    return _item_grade(item, chosen.status, _fraction(item, chosen.status, rubric), chosen.source,
                       chosen.en, chosen.ko, numbers)


# --------------------------------------------------------------------------- item 2

def _frame_rise(frames: list[dict[str, Any]]) -> tuple[Any, list[float]]:
    """Rank correlation of per-frame quality with frame order.

    Quality is the classifier score (confident *and* varied predictions): with the 16 tiles of
    a typical frame the recognizable fraction moves in steps of 1/16 and is too coarse. On the
    reference run's GIF (reference/baselines/long, 40 frames) the classifier score rises with
    Spearman rho 0.73 while the recognizable fraction gives -0.26 (not significant).
    """
    cs = [_num(f, KEY_CLASSIFIER_SCORE) for f in frames]
    if len(set(cs)) >= 3:
        return quality_rise(cs, KEY_CLASSIFIER_SCORE), cs
    fr = [_num(f, KEY_FRACTION) for f in frames]
    return quality_rise(fr, KEY_FRACTION), fr


def _gif_part(item: RubricItem, evidence: Evidence, judged: JudgedEvidence,
              rubric: Rubric) -> _Verdict:
    gi, alpha = judged.gif_info, rubric.threshold("alpha")
    min_frames, min_rho = item.threshold("min_gif_frames"), item.threshold("min_rise_rho")
    if gi is None:
        gifs = [a.origin for a in evidence.artifacts if a.kind == "gif"]
        missing = [m for m in evidence.missing_artifacts if m.lower().endswith(".gif")]
        en = ["No GIF of the training progress was found in the submission."]
        ko = ["제출물에서 학습 과정을 담은 GIF를 찾지 못했습니다."]
        if gifs:
            en = [f"A GIF was found ({gifs[0]}) but could not be judged."]
            ko = [f"GIF({gifs[0]})를 찾았지만 판정하지 못했습니다."]
        if missing:
            en.append(f"Your code writes '{missing[0]}', but that file is not in the submission: "
                      "add it (or display it in the notebook).")
            ko.append(f"코드에서 '{missing[0]}' 파일을 만들지만 제출물에는 없습니다. 파일을 함께 "
                      "제출하거나 노트북에 표시해 주세요.")
        if len(judged.grader_frames) >= min_frames:
            rise, _ = _frame_rise(judged.grader_frames)
            if rise.rho >= min_rho and rise.p < alpha:
                en.append(f"The grader's own run of your code does improve over training "
                          f"(Spearman rho {rise.rho:.2f}, p {rise.p:.3g}); make the GIF to show it.")
                ko.append(f"채점기가 직접 학습시킨 결과에서는 품질이 향상됩니다(스피어만 rho "
                          f"{rise.rho:.2f}, p {rise.p:.3g}). GIF를 만들어 이를 보여 주세요.")
                return _Verdict("partial", "grader_frames", en, ko, {"grader_rise": rise.to_dict()})
        return _Verdict("fail", "none", en, ko, {})
    if not gi.readable:
        return _Verdict("fail", "student_gif", [
            f"Your GIF ({gi.origin}) could not be read: {gi.error or 'unknown format'}. Re-create "
            "it with imageio from the saved sample images."], [
            f"GIF({gi.origin})를 읽을 수 없습니다: {gi.error or '알 수 없는 형식'}. 저장된 샘플 "
            "이미지로 imageio를 사용해 다시 만들어 주세요."], {"n_frames": gi.n_frames})
    if gi.n_frames < min_frames:
        return _Verdict("partial", "student_gif", [
            f"Your GIF ({gi.origin}) has only {gi.n_frames} frame(s): it needs several frames "
            "from different epochs to show the images improving. Check that the frames are "
            "appended inside the loop over the saved images."], [
            f"GIF({gi.origin})에 프레임이 {gi.n_frames}개뿐입니다. 이미지가 좋아지는 과정을 "
            "보여 주려면 여러 epoch의 프레임이 필요합니다. 저장된 이미지를 도는 반복문 안에서 "
            "프레임을 추가했는지 확인하세요."], {"n_frames": gi.n_frames})
    if gi.colormapped:
        return _Verdict("partial", "student_gif", [
            f"Your GIF ({gi.origin}) shows one channel through a colour map, so the colours are "
            "not the real images. Show RGB images: imshow(images[i] * 0.5 + 0.5) without [..., 0]."
        ], [f"GIF({gi.origin})가 한 채널만 컬러맵으로 보여 주어 실제 색이 아닙니다. "
            "[..., 0] 없이 imshow(images[i] * 0.5 + 0.5)로 RGB 이미지를 보여 주세요."],
            {"n_frames": gi.n_frames})
    if not judged.gif_frames:
        return _Verdict("inconclusive", "student_gif", [
            f"Your GIF ({gi.origin}, {gi.n_frames} frames) was found, but no frame could be cut "
            "into sample tiles for the judge."], [
            f"GIF({gi.origin}, 프레임 {gi.n_frames}개)를 찾았지만 판별기가 쓸 샘플 타일을 "
            "잘라 내지 못했습니다."], {"n_frames": gi.n_frames})
    rise, series = _frame_rise(judged.gif_frames)
    nums = {"n_frames": gi.n_frames, "rise": rise.to_dict(), "series": series,
            "min_rise_rho": min_rho, "alpha": alpha}
    head_en = (f"Across the {len(series)} judged frames of your GIF the {rise.metric} rises with "
               f"Spearman rho {rise.rho:.2f} (p {rise.p:.3g}).")
    head_ko = (f"GIF의 판정된 프레임 {len(series)}개에서 {rise.metric}의 스피어만 rho는 "
               f"{rise.rho:.2f}(p {rise.p:.3g})입니다.")
    if rise.rho >= min_rho and rise.p < alpha:
        return _Verdict("pass", "student_gif", [head_en + " The images clearly improve."],
                        [head_ko + " 이미지 품질이 뚜렷하게 향상됩니다."], nums)
    if rise.rho >= min_rho:
        return _Verdict("inconclusive", "student_gif", [
            head_en + " It looks like a rise, but there are too few frames to be sure."], [
            head_ko + " 향상되는 것처럼 보이지만 프레임이 적어 확신할 수 없습니다."], nums)
    return _Verdict("partial", "student_gif", [
        head_en + f" The judge does not see the images improving (needs rho >= {min_rho}). "
        "Include frames from early and late epochs with the same fixed noise."], [
        head_ko + f" 판별기는 이미지가 좋아진다고 보지 않습니다(rho {min_rho} 이상 필요). "
        "같은 고정 노이즈로 초반과 후반 epoch의 프레임을 모두 넣어 주세요."], nums)


def _trend_part(item: RubricItem, evidence: Evidence, rubric: Rubric) -> _Verdict:
    name, variant = _trusted_variant(evidence)
    plots = [a.origin for a in evidence.artifacts if a.kind == "history_plot"]
    steps = _steps(variant.history) if variant else 0
    if variant is None or steps < item.threshold("min_trend_steps"):
        why_en = (f"The grader's run ({steps} steps) is too short to see the trend" if variant else
                  "The grader could not record a training history of your code")
        why_ko = (f"채점기의 학습({steps} 스텝)이 짧아 추세를 볼 수 없습니다" if variant else
                  "채점기가 여러분의 코드로 학습 기록을 얻지 못했습니다")
        return _plot_or(item, plots, why_en, why_ko,
                        "inconclusive" if variant else "fail", {"steps": steps})
    try:
        t = fake_accuracy_trend(
            variant.history.fake_accuracy,
            peak_search_fraction=item.threshold("peak_search_fraction"),
            smooth_fraction=item.threshold("smooth_fraction"),
            n_bins=int(item.threshold("trend_bins")), tail_fraction=item.threshold("tail_fraction"))
    except ValueError:  # e.g. the recorded accuracies are not finite numbers
        return _plot_or(item, plots, "The grader's recorded fake accuracy is not usable",
                        "채점기가 기록한 fake accuracy를 사용할 수 없습니다", "inconclusive",
                        {"steps": steps})
    alpha = rubric.threshold("alpha")
    nums = {"trend": t.to_dict(), "steps": steps, "alpha": alpha, "variant": name,
            "settled_distance": item.threshold("settled_distance"),
            "max_final_distance": item.threshold("max_final_distance")}
    head_en = (f"Fake accuracy (the grader's, from logits) peaks at {t.peak_value:.2f} near step "
               f"{t.peak_step}, then ends at {t.final_level:.2f}; Kendall tau of its distance to "
               f"0.5 is {t.tau_distance:.2f} (p {t.p_distance:.3g}, {t.n_bins} bins).")
    head_ko = (f"채점기가 로짓으로 계산한 fake accuracy는 {t.peak_step} 스텝 근처에서 "
               f"최고점({t.peak_value:.2f})을 찍은 뒤 마지막에는 {t.final_level:.2f}입니다. 0.5까지 "
               f"거리의 켄달 tau는 {t.tau_distance:.2f}(p {t.p_distance:.3g}, 구간 {t.n_bins}개)입니다.")
    approaching = t.tau_distance < 0 and t.p_distance < alpha
    receding = t.tau_distance > 0 and t.p_distance < alpha
    if t.final_distance <= item.threshold("settled_distance"):
        status, en, ko = "pass", "It has settled near 0.5.", "0.5 근처에 안착했습니다."
    elif approaching and t.final_distance <= item.threshold("max_final_distance"):
        status, en, ko = "pass", "It trends down towards 0.5.", "0.5를 향해 추세적으로 내려갑니다."
    elif approaching:
        status, en, ko = ("partial", "It moves towards 0.5 but is still far from it: the "
                          "discriminator still wins easily. Train longer.",
                          "0.5 쪽으로 움직이지만 아직 멉니다. 판별자가 여전히 쉽게 이깁니다. "
                          "더 오래 학습해 보세요.")
    elif receding:
        status, en, ko = ("fail", "It moves away from 0.5: one network overpowers the other. "
                          "Balance them (learning rates, label smoothing).",
                          "0.5에서 멀어지고 있습니다. 한쪽 네트워크가 다른 쪽을 압도합니다. "
                          "학습률이나 레이블 스무딩으로 균형을 맞춰 보세요.")
    elif t.final_distance <= item.threshold("max_final_distance"):
        status, en, ko = ("partial", "It hovers without a clear trend towards 0.5.",
                          "뚜렷한 추세 없이 오르내립니다.")
    else:
        status, en, ko = ("fail", "It stays far from 0.5 without a trend towards it.",
                          "0.5에서 먼 채로 그쪽으로 향하는 추세가 없습니다.")
    authoritative = steps >= rubric.threshold("authoritative_min_steps")
    if status != "pass" and not authoritative:
        return _plot_or(item, plots, head_en + " " + en + " The grader's run was short",
                        head_ko + " " + ko + " 채점기의 학습이 짧았습니다", "inconclusive", nums)
    return _Verdict(status, "grader_history", [f"{head_en} {en}"], [f"{head_ko} {ko}"], nums)


def _plot_or(item: RubricItem, plots: list[str], why_en: str, why_ko: str,
             otherwise: ItemStatus, nums: dict[str, Any]) -> _Verdict:
    """Accept the student's own history plot when the grader's run cannot settle the trend."""
    if plots:
        level = item.option("student_plot_level", "partial")
        status: ItemStatus = {"full": "pass", "partial": "partial"}.get(level, "fail")
        return _Verdict(status, "student_history_plot", [
            f"{why_en}; your own history plot ({plots[0]}) is accepted as the evidence (the "
            "grader cannot read numbers off a picture, so an instructor may check it)."], [
            f"{why_ko}. 대신 제출한 학습 그래프({plots[0]})를 근거로 인정합니다(그림에서 숫자를 "
            "읽을 수는 없으므로 강사가 확인할 수 있습니다)."], dict(nums, plot=plots[0]))
    return _Verdict(otherwise, "none", [
        f"{why_en}, and no training history plot of yours was found. Save the plot of "
        "draw_train_history (fake and real accuracy per step) with the submission."], [
        f"{why_ko}. 제출물에서 학습 그래프도 찾지 못했습니다. draw_train_history로 그린 "
        "그래프(스텝별 fake/real accuracy)를 함께 제출해 주세요."], nums)


def _score_progress(item: RubricItem, evidence: Evidence, judged: JudgedEvidence,
                    rubric: Rubric) -> ItemGrade:
    verdicts = {"gif": _gif_part(item, evidence, judged, rubric),
                "fake_accuracy_trend": _trend_part(item, evidence, rubric)}
    acc = next((c for c in evidence.checks if c.id == "accuracy_function"), None)
    if acc is not None and acc.status in ("warn", "fail"):
        verdicts["fake_accuracy_trend"].en.append(
            f"Note: {acc.message_en} The grader used its own accuracy (logit < 0 counts as fake).")
        verdicts["fake_accuracy_trend"].ko.append(
            f"참고: {acc.message_ko} 채점기는 자체 정확도(로짓 < 0 이면 fake)를 사용했습니다.")
    parts, fraction, en, ko, numbers = [], 0.0, [], [], {}
    for part in item.parts or ():
        v = verdicts[part.id]
        fraction += part.weight * _fraction(item, v.status, rubric)
        parts.append({"id": part.id, "status": v.status, "evidence": v.source,
                      "weight": part.weight, "title_en": part.title_en,
                      "title_ko": part.title_ko})
        en += [f"[{part.title_en}] {s}" for s in v.en]
        ko += [f"[{part.title_ko}] {s}" for s in v.ko]
        numbers[part.id] = v.numbers
    statuses = [p["status"] for p in parts]
    if "inconclusive" in statuses:
        status: ItemStatus = "inconclusive"
    elif all(s == "pass" for s in statuses):
        status = "pass"
    elif all(s == "fail" for s in statuses):
        status = "fail"
    else:
        status = "partial"
    source = "+".join(p["evidence"] for p in parts if p["evidence"] != "none") or "none"
    return _item_grade(item, status, fraction, source, en, ko, numbers, parts)


# --------------------------------------------------------------------------- item 3

def _recognized(r: dict[str, Any] | None) -> np.ndarray:
    per = (r or {}).get(KEY_PER_IMAGE) or []
    return np.array([bool(p.get("recognizable")) for p in per if isinstance(p, dict)], dtype=bool)


def _score_improvement(item: RubricItem, evidence: Evidence, judged: JudgedEvidence,
                       rubric: Rubric) -> ItemGrade:
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
        if errors:
            v = errors[0]
            return _item_grade(item, "inconclusive", _fraction(item, "inconclusive", rubric),
                               "none", [
                f"Your {v.name} version could not be trained by the grader: {v.error} "
                "Without both versions the improvement cannot be compared."], [
                f"채점기가 {_VARIANT_KO.get(v.name, v.name)} 버전을 학습시키지 못했습니다: {v.error} 두 버전이 모두 "
                "있어야 개선 효과를 비교할 수 있습니다."], {"variant_error": v.name})
        if base is None or final is None:
            return _item_grade(item, "fail", 0.0, "none", [
                "No improvement was attempted: only one version of the generator and "
                "discriminator was found. Step 7 asks you to change the model or the training, "
                "keep the first version, and show that the new one is better."], [
                "개선을 시도하지 않았습니다. 생성자와 판별자가 한 버전만 있습니다. Step 7은 모델 "
                "구조나 학습 과정을 바꾸고, 첫 번째 버전을 남겨 둔 채 새 버전이 더 나음을 "
                "보이도록 요구합니다."], {"variants": sorted(by_name)})
        return _item_grade(item, "inconclusive", _fraction(item, "inconclusive", rubric), "none", [
            "Two versions were found, but the grader has no judged images of both to compare."], [
            "두 버전을 찾았지만 비교할 판정 결과가 둘 다 있지는 않습니다."], {})
    source, before, after = usable[0]
    d = bootstrap_difference(_recognized(before), _recognized(after),
                             n_boot=int(rubric.threshold("bootstrap_samples")), seed=rubric.seed,
                             ci_level=item.threshold("ci_level"))
    min_diff = item.threshold("min_difference")
    authoritative = source == "grader_variants" and final is not None and _steps(
        final.history) >= rubric.threshold("authoritative_min_steps")
    nums = {"difference": d.to_dict(), "min_difference": min_diff,
            "authoritative_run": authoritative, "before_classifier_score":
            _num(before, KEY_CLASSIFIER_SCORE), "after_classifier_score":
            _num(after, KEY_CLASSIFIER_SCORE)}
    where_en = ("both versions as trained by the grader" if source == "grader_variants"
                else "your before/after images")
    where_ko = ("채점기가 학습시킨 두 버전" if source == "grader_variants"
                else "제출한 개선 전후 이미지")
    head_en = (f"Recognizable images, {where_en}: {_pct(d.before)} before, {_pct(d.after)} after; "
               f"difference {100 * d.diff:+.0f} points (95% bootstrap interval "
               f"{100 * d.ci_low:+.0f} to {100 * d.ci_high:+.0f}).")
    head_ko = (f"{where_ko}에서 알아볼 수 있는 이미지: 개선 전 {_pct(d.before)}, 개선 후 "
               f"{_pct(d.after)}, 차이 {100 * d.diff:+.0f}%p(95% 부트스트랩 구간 "
               f"{100 * d.ci_low:+.0f}~{100 * d.ci_high:+.0f}).")
    if d.ci_low > min_diff:
        status, en, ko = ("pass", "The improvement is real: the whole interval is above zero.",
                          "구간 전체가 0보다 커서 개선 효과가 확인됩니다.")
    elif d.ci_high < -min_diff and authoritative:
        status, en, ko = ("fail", "The new version is worse than the first one.",
                          "새 버전이 첫 번째 버전보다 나쁩니다.")
    elif authoritative or source == "student_before_after":
        status, en, ko = ("partial", "The change was applied but is not shown to be better: the "
                          "interval includes zero. Compare on more samples, or try another idea.",
                          "개선을 적용했지만 더 나아졌음이 입증되지 않았습니다(구간이 0을 포함). "
                          "더 많은 샘플로 비교하거나 다른 아이디어를 시도해 보세요.")
    else:
        status, en, ko = ("inconclusive", "The grader's runs were short (quick mode), so seeing "
                          "no difference does not prove there was no improvement.",
                          "채점기의 학습이 짧았으므로(quick 모드) 차이가 보이지 않는다고 해서 "
                          "개선이 없다고 할 수는 없습니다.")
    en_all, ko_all = [f"{head_en} {en}"], [f"{head_ko} {ko}"]
    for v in errors:
        en_all.append(f"Your {v.name} version could not be trained by the grader: {v.error}")
        ko_all.append(f"채점기가 {_VARIANT_KO.get(v.name, v.name)} 버전을 학습시키지 못했습니다: {v.error}")
    return _item_grade(item, status, _fraction(item, status, rubric), source, en_all, ko_all, nums)


# --------------------------------------------------------------------------- notes

def _collect_notes(evidence: Evidence, judged: JudgedEvidence, rubric: Rubric,
                   items: list[ItemGrade]) -> list[Note]:
    notes = [Note(f"check:{c.id}", c.message_en, c.message_ko)
             for c in evidence.checks if c.status in ("warn", "fail")]
    for v in evidence.variants:
        if v.error:
            notes.append(Note("variant", f"The {v.name} version could not be trained: {v.error}",
                              f"{_VARIANT_KO.get(v.name, v.name)} 버전을 학습시키지 못했습니다: {v.error}"))
    if judged.gif_info is not None and judged.gif_info.colormapped:
        notes.append(Note("display", "The GIF shows a single channel through a colour map.",
                          "GIF가 한 채널만 컬러맵으로 보여 줍니다."))
    for name in ("final_samples", "baseline_samples", "checkpoint_samples", "student_images"):
        for w in (getattr(judged, name) or {}).get(KEY_WARNINGS) or []:
            notes.append(Note(f"judge:{name}", str(w), str(w)))
    notes += [Note("evidence", w, w) for w in evidence.warnings]
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
