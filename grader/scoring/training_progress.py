"""Item 2 (training_progress): the student's GIF and the grader's fake-accuracy trend."""

from __future__ import annotations

from typing import Any

from grader.evidence import Evidence
from grader.judge.results import JudgedEvidence, JudgeResult
from grader.rubric import Rubric, RubricItem
from grader.scoring.common import (
    Verdict,
    finite,
    history_steps,
    is_authoritative,
    item_grade,
    status_fraction,
    trusted_variant,
)
from grader.scoring.grades import ItemGrade, ItemStatus
from grader.scoring.items import register_item
from grader.stats.trend import RiseStats, TrendStats, fake_accuracy_trend, quality_rise


def _frame_rise(frames: list[JudgeResult]) -> tuple[RiseStats, list[float]]:
    """Rank correlation of per-frame quality with frame order.

    Quality is the classifier score (confident *and* varied predictions): with the 16 tiles of
    a typical frame the recognizable fraction moves in steps of 1/16 and is too coarse. On the
    reference run's GIF (reference/baselines/long, 40 frames) the classifier score rises with
    Spearman rho 0.73 while the recognizable fraction gives -0.26 (not significant).
    """
    cs = [finite(f.classifier_score) for f in frames]
    if len(set(cs)) >= 3:
        return quality_rise(cs, "classifier_score"), cs
    fr = [finite(f.recognizable_fraction) for f in frames]
    return quality_rise(fr, "recognizable_fraction"), fr


def _missing_gif(item: RubricItem, evidence: Evidence, judged: JudgedEvidence,
                 rubric: Rubric) -> Verdict:
    """No judged GIF: say why, and credit the grader's own frames when they improve."""
    alpha = rubric.threshold("alpha")
    min_frames, min_rho = item.threshold("min_gif_frames"), item.threshold("min_rise_rho")
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
            return Verdict("partial", "grader_frames", en, ko, {"grader_rise": rise.to_dict()})
    return Verdict("fail", "none", en, ko, {})


def _gif_part(item: RubricItem, evidence: Evidence, judged: JudgedEvidence,
              rubric: Rubric) -> Verdict:
    """Part "gif": does the student's GIF show the images improving over training?"""
    verdict = _gif_verdict(item, evidence, judged, rubric)
    gi = judged.gif_info
    if gi is not None and gi.readable and gi.damaged:
        verdict.en.append(f"Your GIF ({gi.origin}) is damaged after frame {gi.n_frames}: only the "
                          f"{gi.n_frames} frame(s) before the damage were judged. Check the "
                          "file you submit opens fully.")
        verdict.ko.append(f"GIF({gi.origin})가 {gi.n_frames}번째 프레임 뒤에서 손상되어 그 앞의 "
                          f"프레임 {gi.n_frames}개만 판정했습니다. 제출하는 파일이 끝까지 "
                          "열리는지 확인하세요.")
    return verdict


def _gif_verdict(item: RubricItem, evidence: Evidence, judged: JudgedEvidence,
                 rubric: Rubric) -> Verdict:
    gi, alpha = judged.gif_info, rubric.threshold("alpha")
    min_frames, min_rho = item.threshold("min_gif_frames"), item.threshold("min_rise_rho")
    if gi is None:
        return _missing_gif(item, evidence, judged, rubric)
    if not gi.readable:
        return Verdict("fail", "student_gif", [
            f"Your GIF ({gi.origin}) could not be read: "
            f"{(gi.error or 'unknown format').rstrip('.')}. Re-create it with imageio from the "
            "saved sample images."], [
            f"GIF({gi.origin})가 손상되었거나 GIF 형식이 아니어서 읽을 수 없습니다. 저장된 샘플 "
            "이미지로 imageio를 사용해 다시 만들어 주세요."], {"n_frames": gi.n_frames})
    if gi.n_frames < min_frames:
        return Verdict("partial", "student_gif", [
            f"Your GIF ({gi.origin}) has only {gi.n_frames} frame(s): it needs several frames "
            "from different epochs to show the images improving. Check that the frames are "
            "appended inside the loop over the saved images."], [
            f"GIF({gi.origin})에 프레임이 {gi.n_frames}개뿐입니다. 이미지가 좋아지는 과정을 "
            "보여 주려면 여러 epoch의 프레임이 필요합니다. 저장된 이미지를 도는 반복문 안에서 "
            "프레임을 추가했는지 확인하세요."], {"n_frames": gi.n_frames})
    if gi.colormapped:
        return Verdict("partial", "student_gif", [
            f"Your GIF ({gi.origin}) shows one channel through a colour map, so the colours are "
            "not the real images. Show RGB images: imshow(images[i] * 0.5 + 0.5) without [..., 0]."
        ], [f"GIF({gi.origin})가 한 채널만 컬러맵으로 보여 주어 실제 색이 아닙니다. "
            "[..., 0] 없이 imshow(images[i] * 0.5 + 0.5)로 RGB 이미지를 보여 주세요."],
            {"n_frames": gi.n_frames})
    if not judged.gif_frames:
        return Verdict("inconclusive", "student_gif", [
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
        return Verdict("pass", "student_gif", [head_en + " The images clearly improve."],
                       [head_ko + " 이미지 품질이 뚜렷하게 향상됩니다."], nums)
    if rise.rho >= min_rho:
        return Verdict("inconclusive", "student_gif", [
            head_en + " It looks like a rise, but there are too few frames to be sure."], [
            head_ko + " 향상되는 것처럼 보이지만 프레임이 적어 확신할 수 없습니다."], nums)
    return Verdict("partial", "student_gif", [
        head_en + f" The judge does not see the images improving (needs rho >= {min_rho}). "
        "Include frames from early and late epochs with the same fixed noise."], [
        head_ko + f" 판별기는 이미지가 좋아진다고 보지 않습니다(rho {min_rho} 이상 필요). "
        "같은 고정 노이즈로 초반과 후반 epoch의 프레임을 모두 넣어 주세요."], nums)


def _trend_part(item: RubricItem, evidence: Evidence, rubric: Rubric) -> Verdict:
    """Part "fake_accuracy_trend": does the grader's fake accuracy head for 0.5?"""
    name, variant = trusted_variant(evidence)
    plots = [a.origin for a in evidence.artifacts if a.kind == "history_plot"]
    steps = history_steps(variant.history) if variant else 0
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
    status, en, ko = _trend_status(t, item, alpha)
    if status != "pass" and not is_authoritative(variant, rubric):
        return _plot_or(item, plots, head_en + " " + en + " The grader's run was short",
                        head_ko + " " + ko + " 채점기의 학습이 짧았습니다", "inconclusive", nums)
    return Verdict(status, "grader_history", [f"{head_en} {en}"], [f"{head_ko} {ko}"], nums)


def _trend_status(t: TrendStats, item: RubricItem, alpha: float) -> tuple[ItemStatus, str, str]:
    """Status and (English, Korean) sentence for a fake-accuracy trend."""
    approaching = t.tau_distance < 0 and t.p_distance < alpha
    receding = t.tau_distance > 0 and t.p_distance < alpha
    if t.final_distance <= item.threshold("settled_distance"):
        return "pass", "It has settled near 0.5.", "0.5 근처에 안착했습니다."
    if approaching and t.final_distance <= item.threshold("max_final_distance"):
        return "pass", "It trends down towards 0.5.", "0.5를 향해 추세적으로 내려갑니다."
    if approaching:
        return ("partial", "It moves towards 0.5 but is still far from it: the "
                "discriminator still wins easily. Train longer.",
                "0.5 쪽으로 움직이지만 아직 멉니다. 판별자가 여전히 쉽게 이깁니다. "
                "더 오래 학습해 보세요.")
    if receding:
        return ("fail", "It moves away from 0.5: one network overpowers the other. "
                "Balance them (learning rates, label smoothing).",
                "0.5에서 멀어지고 있습니다. 한쪽 네트워크가 다른 쪽을 압도합니다. "
                "학습률이나 레이블 스무딩으로 균형을 맞춰 보세요.")
    if t.final_distance <= item.threshold("max_final_distance"):
        return ("partial", "It hovers without a clear trend towards 0.5.",
                "뚜렷한 추세 없이 오르내립니다.")
    return ("fail", "It stays far from 0.5 without a trend towards it.",
            "0.5에서 먼 채로 그쪽으로 향하는 추세가 없습니다.")

def _plot_or(item: RubricItem, plots: list[str], why_en: str, why_ko: str,
             otherwise: ItemStatus, nums: dict[str, Any]) -> Verdict:
    """Accept the student's own history plot when the grader's run cannot settle the trend."""
    if plots:
        level = item.option("student_plot_level", "partial")
        status: ItemStatus = {"full": "pass", "partial": "partial"}.get(level, "fail")
        return Verdict(status, "student_history_plot", [
            f"{why_en}; your own history plot ({plots[0]}) is accepted as the evidence (the "
            "grader cannot read numbers off a picture, so an instructor may check it)."], [
            f"{why_ko}. 대신 제출한 학습 그래프({plots[0]})를 근거로 인정합니다(그림에서 숫자를 "
            "읽을 수는 없으므로 강사가 확인할 수 있습니다)."], dict(nums, plot=plots[0]))
    return Verdict(otherwise, "none", [
        f"{why_en}, and no training history plot of yours was found. Save the plot of "
        "draw_train_history (fake and real accuracy per step) with the submission."], [
        f"{why_ko}. 제출물에서 학습 그래프도 찾지 못했습니다. draw_train_history로 그린 "
        "그래프(스텝별 fake/real accuracy)를 함께 제출해 주세요."], nums)


def score_training_progress(item: RubricItem, evidence: Evidence, judged: JudgedEvidence,
                            rubric: Rubric) -> ItemGrade:
    """Item 2: training progress, from the GIF part and the fake-accuracy trend part."""
    verdicts = {"gif": _gif_part(item, evidence, judged, rubric),
                "fake_accuracy_trend": _trend_part(item, evidence, rubric)}
    acc = next((c for c in evidence.checks if c.id == "accuracy_function"), None)
    if acc is not None and acc.status in ("warn", "fail"):
        verdicts["fake_accuracy_trend"].en.append(
            f"Note: {acc.message.en} The grader used its own accuracy (logit < 0 counts as fake).")
        verdicts["fake_accuracy_trend"].ko.append(
            f"참고: {acc.message.ko} 채점기는 자체 정확도(로짓 < 0 이면 fake)를 사용했습니다.")
    parts, fraction, en, ko, numbers = [], 0.0, [], [], {}
    for part in item.parts or ():
        v = verdicts[part.id]
        fraction += part.weight * status_fraction(item, v.status, rubric)
        parts.append({"id": part.id, "status": v.status, "evidence": v.source,
                      "weight": part.weight, "title_en": part.title_en,
                      "title_ko": part.title_ko})
        en += [f"[{part.title_en}] {s}" for s in v.en]
        ko += [f"[{part.title_ko}] {s}" for s in v.ko]
        numbers[part.id] = v.numbers
    status = _combined_status([p["status"] for p in parts])
    source = "+".join(p["evidence"] for p in parts if p["evidence"] != "none") or "none"
    return item_grade(item, status, fraction, source, en, ko, numbers, parts)


def _combined_status(statuses: list[ItemStatus]) -> ItemStatus:
    """Item status from its parts: any inconclusive wins, then all pass, all fail, else partial."""
    if "inconclusive" in statuses:
        return "inconclusive"
    if all(s == "pass" for s in statuses):
        return "pass"
    if all(s == "fail" for s in statuses):
        return "fail"
    return "partial"


register_item("training_progress", score_training_progress,
              thresholds=("min_gif_frames", "min_rise_rho", "min_trend_steps",
                          "peak_search_fraction", "smooth_fraction", "trend_bins",
                          "tail_fraction", "settled_distance", "max_final_distance"),
              parts=("gif", "fake_accuracy_trend"))
