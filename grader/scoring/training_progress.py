"""Item 2 (training_progress): the student's GIF and the student's fake-accuracy curve.

A TA grades this item on what the student shows: the GIF made from the saved samples
(do the images improve from frame to frame?) and the history plot of the final run (does
fake accuracy trend down towards 0.5?). The plot is read back into numbers
(:mod:`grader.intake.figures.plots`) and the same trend statistics run on it that run on a
recorded history. The grader's own short run does not decide; it verifies that the code
trains at all (:mod:`grader.scoring.verification`): when it contradicts the student's
figures, the item waits for an instructor.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from grader.evidence import Evidence
from grader.judge.results import HistoryJudgement, JudgedEvidence, JudgeResult
from grader.rubric import Rubric, RubricItem
from grader.scoring.common import (
    Verdict,
    checked,
    finite,
    history_steps,
    is_authoritative,
    item_grade,
    needs_review,
    status_fraction,
    trusted_variant,
)
from grader.scoring.grades import ItemGrade, ItemStatus
from grader.scoring.improvement import compare_sets
from grader.scoring.items import register_item
from grader.scoring.verification import verify
from grader.stats.trend import (
    RiseStats,
    TrendStats,
    fake_accuracy_trend,
    final_distance_probes,
    quality_rise,
    trend_decision,
)
from grader.text import Msg, msg

#: plot-reader reasons that mean "this picture is not a history plot at all"
NOT_A_PLOT = ("no axes found", "no data series found")
#: reasons that mean "a plot, but without a fake-accuracy curve"
NO_FAKE_CURVE = ("no fake-accuracy series identified",)


def frame_rise(frames: list[JudgeResult]) -> tuple[RiseStats, list[float]]:
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


# --- the GIF part -------------------------------------------------------------------------

def _missing_gif(evidence: Evidence) -> Verdict:
    """No GIF at all: code that writes one gets partial credit, nothing gets none."""
    missing = [m for m in evidence.missing_artifacts if m.lower().endswith(".gif")]
    if missing:
        return Verdict("partial", "none", [msg("scoring.gif_missing_file", file=missing[0])],
                       {"missing": missing[0]}, fix=msg("scoring.gif_missing_file_fix",
                                                        file=missing[0]))
    return Verdict("fail", "none", [msg("scoring.gif_none")], {}, fix=msg("scoring.gif_make"))


def gif_part(item: RubricItem, evidence: Evidence, judged: JudgedEvidence,
             rubric: Rubric) -> Verdict:
    """Part "gif": does the student's GIF show the images improving over training?"""
    gi, alpha = judged.gif_info, rubric.threshold("alpha")
    min_frames, min_rho = item.threshold("min_gif_frames"), item.threshold("min_rise_rho")
    if gi is None:
        return _missing_gif(evidence)
    nums: dict[str, Any] = {"n_frames": gi.n_frames, "origin": gi.origin, "shown": gi.shown}
    if not gi.readable:
        return Verdict("fail", "student_gif", [msg(
            "scoring.gif_unreadable", origin=gi.origin,
            error=(gi.error or "unknown format").rstrip("."))], nums,
            fix=msg("scoring.gif_remake"))
    damaged = [msg("scoring.gif_damaged", origin=gi.origin, n=gi.n_frames)] if gi.damaged \
        else []
    if gi.n_frames < min_frames:
        return Verdict("fail", "student_gif", [msg("scoring.gif_few_frames", origin=gi.origin,
                                                      n=gi.n_frames), *damaged], nums,
                       fix=msg("scoring.gif_few_frames_fix"))
    verdict = _rise_verdict(gi, judged, rubric, nums, damaged, min_rho, alpha)
    if gi.colormapped:
        # Judged on the channel it shows (as grey images): a clear rise still shows that
        # training went right; anything less stays partial, since the colours are not real.
        if verdict.status == "pass":
            verdict.reasons.insert(-len(damaged) or len(verdict.reasons),
                                   msg("scoring.gif_colormap_channel", origin=gi.origin))
            verdict.numbers["channel_only"] = True
            verdict.fix = msg("figures.display_colormap")
            return verdict
        return Verdict("partial", "student_gif", [msg("scoring.gif_colormap", origin=gi.origin),
                                                  *damaged], nums,
                       fix=msg("figures.display_colormap"))
    return verdict


def _rise_verdict(gi: Any, judged: JudgedEvidence, rubric: Rubric, nums: dict[str, Any],
                  damaged: list[Msg], min_rho: float, alpha: float) -> Verdict:
    """The GIF part from its judged frames: a rank test, else first against last frame."""
    if not judged.gif_frames:
        return needs_review("student_gif", damaged, msg("scoring.gif_no_tiles", origin=gi.origin,
                                                        n=gi.n_frames), nums)
    rise, series = frame_rise(judged.gif_frames)
    nums.update(rise=rise.to_dict(), series=series, min_rise_rho=min_rho, alpha=alpha)
    head = msg("scoring.gif_head", n=len(series), metric=rise.metric, rho=rise.rho, p=rise.p)
    if rise.rho >= min_rho and rise.p < alpha:
        return Verdict("pass", "student_gif", [head, msg("scoring.gif_rises"), *damaged], nums)
    if rise.rho >= min_rho:
        # Too few frames for a rank test: compare the first and the last frame's tiles, as a
        # TA compares the start and the end of a short GIF (a bootstrap over the tiles).
        ends = compare_sets(judged.gif_frames[0], judged.gif_frames[-1], "classifier_score",
                            n_boot=int(rubric.threshold("bootstrap_samples")),
                            seed=rubric.seed, ci_level=1 - alpha)
        if ends is not None:
            nums["first_vs_last"] = ends.to_dict()
            if ends.ci_low > 0:
                return Verdict("pass", "student_gif", [head, msg("scoring.gif_ends_better",
                                                                 n=len(series)), *damaged], nums)
        return needs_review("student_gif", [head, *damaged], msg("scoring.gif_rise_unsure",
                                                                 n=len(series)), nums)
    return Verdict("partial", "student_gif", [head, msg("scoring.gif_flat", rho=min_rho),
                                              *damaged], nums, fix=msg("scoring.gif_flat_fix"))


# --- the fake-accuracy part ---------------------------------------------------------------

def trend_of(curve: list[float], item: RubricItem) -> TrendStats:
    """The trend statistics of a fake-accuracy curve, with item 2's settings.

    Raises:
        ValueError: The curve is too short or not finite.
    """
    return fake_accuracy_trend(
        curve, peak_search_fraction=item.threshold("peak_search_fraction"),
        smooth_fraction=item.threshold("smooth_fraction"),
        n_bins=int(item.threshold("trend_bins")), tail_fraction=item.threshold("tail_fraction"))


def trend_status(t: TrendStats, item: RubricItem, alpha: float) -> tuple[ItemStatus, Msg]:
    """Status and sentence for a fake-accuracy trend (:func:`trend_decision`)."""
    status, why = trend_decision(t, item.threshold("settled_distance"),
                                 item.threshold("max_final_distance"), alpha)
    return status, msg(f"scoring.trend_{why}")  # type: ignore[return-value]


def _trend_numbers(t: TrendStats, item: RubricItem, alpha: float) -> dict[str, Any]:
    return {"trend": t.to_dict(), "alpha": alpha,
            "settled_distance": item.threshold("settled_distance"),
            "max_final_distance": item.threshold("max_final_distance")}


def _grader_trend(item: RubricItem, evidence: Evidence, rubric: Rubric) -> Verdict | None:
    """The grader's own recorded trend, when its run was long enough to decide (``--full``)."""
    name, variant = trusted_variant(evidence)
    if variant is None or not is_authoritative(variant, rubric):
        return None
    try:
        t = trend_of(variant.history.fake_accuracy, item)
    except ValueError:
        return None
    status, words = trend_status(t, item, rubric.threshold("alpha"))
    nums = _trend_numbers(t, item, rubric.threshold("alpha"))
    nums.update(steps=history_steps(variant.history), variant=name)
    return Verdict(status, "grader_history", [msg("scoring.trend_head_grader", **_head(t)),
                                              words], nums)


def _head(t: TrendStats) -> dict[str, Any]:
    return {"peak": t.peak_value, "peak_at": t.peak_step, "final": t.final_level,
            "tau": t.tau_distance, "p": t.p_distance, "bins": t.n_bins}


def trend_part(item: RubricItem, evidence: Evidence, judged: JudgedEvidence,
               rubric: Rubric) -> Verdict:
    """Part "fake_accuracy_trend": does the student's fake accuracy head for 0.5?"""
    h = judged.history
    alpha = rubric.threshold("alpha")
    if h is None:
        grader = _grader_trend(item, evidence, rubric)
        missing = [m for m in evidence.missing_artifacts
                   if m.lower().endswith((".png", ".jpg")) and "hist" in m.lower()]
        if missing:
            return Verdict("partial", "none", [msg("scoring.plot_missing_file", file=missing[0])],
                           {"missing": missing[0]},
                           fix=msg("scoring.gif_missing_file_fix", file=missing[0]))
        if grader is not None:  # --full: the trend is measured, but the student did not show it
            grader.status = "partial" if grader.status == "pass" else grader.status
            grader.reasons.insert(0, msg("scoring.plot_none"))
            grader.fix = msg("scoring.plot_make")
            return grader
        return Verdict("fail", "none", [msg("scoring.plot_none")], {},
                       fix=msg("scoring.plot_make"))
    verdict = _plot_verdict(h, item, alpha)
    other = judged.baseline_history
    if verdict.status != "pass" and other is not None and other.ok:
        earlier = _plot_verdict(other, item, alpha)
        if _RANK.get(earlier.status, 0) > _RANK.get(verdict.status, 0):
            earlier.reasons.append(msg("scoring.trend_from_baseline", origin=other.origin,
                                       final=h.origin))
            earlier.numbers["from_baseline"] = True
            return earlier
    return verdict


#: which of two plot verdicts is the better evidence that training went right
_RANK = {"pass": 3, "partial": 2, "fail": 1}
_KO_STATUS = {"pass": "통과", "partial": "부분 통과", "fail": "미통과"}


def _plot_verdict(h: HistoryJudgement, item: RubricItem, alpha: float) -> Verdict:
    """The trend part on one history plot."""
    nums: dict[str, Any] = {"origin": h.origin, "shown": h.shown, "reader": h.reason or "ok",
                            "confidence": h.confidence, "uncertainty": h.uncertainty}
    if not h.ok or len(h.fake_accuracy) < 3:
        return _unread_plot(h, nums)
    try:
        t = trend_of(h.fake_accuracy, item)
    except ValueError:
        return needs_review("student_history_plot", [], msg("scoring.plot_unreadable",
                                                            origin=h.origin,
                                                            why="too few points"), nums)
    nums.update(_trend_numbers(t, item, alpha))
    status, words = trend_status(t, item, alpha)
    reasons = [msg("scoring.trend_head_student", origin=h.origin, **_head(t)), words]
    half = h.final_level_half_width(item.threshold("tail_fraction"))
    if half is not None and t.final_level == t.final_level:
        low, high = t.final_level - half, t.final_level + half
        nums["final_level_interval"] = [round(low, 4), round(high, 4)]
        others = sorted(statuses_within(t, low, high, item, alpha) - {status},
                        key=lambda s: -_RANK[s])
        nums["borderline"] = bool(others)
        if others:  # the point reading decides; the report says it is close
            other = Msg(" or ".join(others), " 또는 ".join(_KO_STATUS[o] for o in others))
            reasons.append(msg("scoring.trend_borderline", low=low, high=high, other=other))
    fix = None if status == "pass" else msg("scoring.trend_fix")
    return Verdict(status, "student_history_plot", reasons, nums, fix=fix)


def statuses_within(t: TrendStats, low: float, high: float, item: RubricItem,
                    alpha: float) -> set[str]:
    """Every status the trend could get with its final level anywhere in [low, high] (the
    reading's interval), the rest of its statistics as read."""
    edges = (item.threshold("settled_distance"), item.threshold("max_final_distance"))
    return {trend_status(dataclasses.replace(t, final_distance=d), item, alpha)[0]
            for d in final_distance_probes(low, high, edges)}


def _unread_plot(h: HistoryJudgement, nums: dict[str, Any]) -> Verdict:
    """A history image whose fake-accuracy curve could not be read."""
    if h.reason in NOT_A_PLOT:
        return Verdict("fail", "student_history_plot", [msg("scoring.plot_not_a_plot",
                                                            origin=h.origin)], nums,
                       fix=msg("scoring.plot_make"))
    if h.reason in NO_FAKE_CURVE:
        return Verdict("partial", "student_history_plot", [msg("scoring.plot_no_fake",
                                                               origin=h.origin)], nums,
                       fix=msg("scoring.plot_add_fake"))
    return needs_review("student_history_plot", [], msg(
        "scoring.plot_unreadable", origin=h.origin, why=h.reason or "unknown"), nums)


# --- the item -----------------------------------------------------------------------------

def score_training_progress(item: RubricItem, evidence: Evidence, judged: JudgedEvidence,
                            rubric: Rubric) -> ItemGrade:
    """Item 2: training progress, from the GIF part and the fake-accuracy trend part."""
    check = verify(evidence, judged)
    verdicts = {"gif": gif_part(item, evidence, judged, rubric),
                "fake_accuracy_trend": trend_part(item, evidence, judged, rubric)}
    acc = next((c for c in evidence.checks if c.id == "accuracy_function"), None)
    if acc is not None and acc.status in ("warn", "fail"):
        verdicts["fake_accuracy_trend"].reasons.append(msg("scoring.trend_accuracy_bug",
                                                           check=acc.message))
    for key, v in verdicts.items():
        if v.source.startswith("student"):
            verdicts[key] = checked(v, check, item)
    parts, fraction, pending = [], 0.0, 0.0
    reasons: list[Msg] = []
    numbers: dict[str, Any] = {}
    fixes, reviews = [], []
    for part in item.parts or ():
        v = verdicts[part.id]
        if v.status == "needs_review":
            fraction += part.weight * v.credit
            pending += part.weight * (1.0 - v.credit)
            if v.review is not None:
                reviews.append(Msg(f"[{part.title_en}] ", f"[{part.title_ko}] ") + v.review)
        else:
            fraction += part.weight * status_fraction(item, v.status)
        parts.append({"id": part.id, "status": v.status, "evidence": v.source,
                      "weight": part.weight, "title_en": part.title_en,
                      "title_ko": part.title_ko})
        reasons += [Msg(f"[{part.title_en}] ", f"[{part.title_ko}] ") + r for r in v.reasons]
        if v.fix is not None:
            fixes.append(v.fix)
        numbers[part.id] = v.numbers
    status = combined_status([p["status"] for p in parts])
    source = "+".join(p["evidence"] for p in parts if p["evidence"] != "none") or "none"
    combined = Verdict(status, source, reasons, numbers, fix=fixes[0] if fixes else None,
                       review=_joined(reviews))
    grade = item_grade(item, combined, fraction, parts)
    grade.pending = round(item.points * pending, 2)
    return grade


def _joined(parts: list[Msg]) -> Msg | None:
    if not parts:
        return None
    out = parts[0]
    for p in parts[1:]:
        out = out + " " + p
    return out


def combined_status(statuses: list[ItemStatus]) -> ItemStatus:
    """Item status from its parts: any review wins, then all pass, all fail, else partial."""
    if "needs_review" in statuses:
        return "needs_review"
    if all(s == "pass" for s in statuses):
        return "pass"
    if all(s == "fail" for s in statuses):
        return "fail"
    return "partial"


register_item("training_progress", score_training_progress,
              thresholds=("min_gif_frames", "min_rise_rho", "peak_search_fraction",
                          "smooth_fraction", "trend_bins", "tail_fraction", "settled_distance",
                          "max_final_distance"),
              parts=("gif", "fake_accuracy_trend"))
