"""Item 3 (improvement): an idea applied, and shown to give better images than before.

A TA grades this on the notebook's story (:mod:`grader.intake.runs`): was a change made
after the first full run (a model, loss or training function redefined, or a training
setting changed), and do the images the student shows after it look better than the ones
shown before it? The two grids are compared tile by tile with the eye-label score
(:mod:`grader.judge.realism`): a tile's value is 1 when its class can be named without
doubt, 0.5 when it is a plausible guess, 0 otherwise (in expectation, from ``p_clear`` and
``p_named``). "Better" needs a gain a reader sees (``min_visible_gain`` tiles per 16) whose
bootstrap interval lies above zero. Without eye-label scores the classifier score (or the
recognizable fraction) is compared instead. A later version that does not run earns
nothing: the improvement is not applied.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from grader.evidence import Evidence, VariantRun
from grader.intake.runs import RunMap
from grader.judge.realism import tile_value
from grader.judge.results import JudgedEvidence, JudgeResult
from grader.rubric import Rubric, RubricItem
from grader.scoring.common import Verdict, checked, finite, grade_of, is_authoritative, pct
from grader.scoring.grades import ItemGrade, ItemStatus
from grader.scoring.items import register_item
from grader.scoring.verification import verify
from grader.stats.bootstrap import DiffStats, bootstrap_set_difference
from grader.stats.inception import classifier_scores
from grader.text import Msg, msg

COMPARE_BY_DEFAULT = "classifier_score"


def tile_values(r: JudgeResult | None) -> np.ndarray:
    """Expected eye-label credit per tile (1 clear, 0.5 plausible); empty without scores."""
    rows = r.per_image if r else []
    if not rows or any(p.p_clear is None or p.p_named is None for p in rows):
        return np.zeros(0)
    return tile_value(np.array([finite(p.p_clear) for p in rows]),
                      np.array([finite(p.p_named) for p in rows]))


def _recognized(r: JudgeResult | None) -> np.ndarray:
    return np.array([p.recognizable for p in (r.per_image if r else [])], dtype=float)


def _probabilities(r: JudgeResult | None) -> np.ndarray:
    """Per-image class probabilities (N, classes); empty when any image lacks them."""
    classes = len(r.class_histogram) if r else 0
    rows = [p.probs for p in (r.per_image if r else [])]
    if not rows or classes == 0 or any(len(q) != classes for q in rows):
        return np.zeros((0, classes))
    out = np.asarray(rows, dtype=float)
    return out if np.all(np.isfinite(out)) else np.zeros((0, classes))


def compare_sets(before: JudgeResult | None, after: JudgeResult | None, compare_by: str,
                 *, n_boot: int, seed: int, ci_level: float) -> DiffStats | None:
    """Bootstrap difference (after - before) of two judged image sets.

    The eye-label tile value when both sets have it, else ``compare_by`` (the classifier
    score, or the recognizable fraction); None when either set is empty.
    """
    vb, va = tile_values(before), tile_values(after)
    if len(vb) and len(va):
        return bootstrap_set_difference(vb, va, lambda s: s.mean(axis=1), n_boot=n_boot,
                                        seed=seed, ci_level=ci_level, metric="tile_value")
    pb, pa = _probabilities(before), _probabilities(after)
    if compare_by == "classifier_score" and len(pb) and len(pa):
        return bootstrap_set_difference(pb, pa, classifier_scores, n_boot=n_boot, seed=seed,
                                        ci_level=ci_level, metric="classifier_score")
    rb, ra = _recognized(before), _recognized(after)
    if not len(rb) or not len(ra):
        return None
    return bootstrap_set_difference(rb, ra, lambda s: s.mean(axis=1), n_boot=n_boot,
                                    seed=seed, ci_level=ci_level,
                                    metric="recognizable_fraction")


def _headline(d: DiffStats, where: Msg) -> Msg:
    if d.metric == "tile_value":
        return msg("scoring.imp_head_tiles", where=where, before=16 * d.before,
                   after=16 * d.after, diff=16 * d.diff, lo=16 * d.ci_low, hi=16 * d.ci_high)
    if d.metric == "classifier_score":
        return msg("scoring.imp_head_score", where=where, before=d.before, after=d.after,
                   diff=d.diff, lo=d.ci_low, hi=d.ci_high)
    return msg("scoring.imp_head_fraction", where=where, before=pct(d.before),
               after=pct(d.after), diff=100 * d.diff, lo=100 * d.ci_low, hi=100 * d.ci_high)


def _gain_needed(d: DiffStats, item: RubricItem) -> float:
    """The visible gain a metric must show (tile value per tile; else ``min_difference``)."""
    if d.metric == "tile_value":
        return item.threshold("min_visible_gain") / item.threshold("visible_gain_per")
    return item.threshold("min_difference")


def difference_status(d: DiffStats, item: RubricItem) -> tuple[ItemStatus, Msg, Msg | None]:
    """Status, sentence and fix for a before/after difference of the student's images."""
    gain = _gain_needed(d, item)
    try:
        worse_margin = item.threshold("worse_margin")
    except KeyError:
        worse_margin = 0.0
    if d.ci_low > 0 and d.diff >= gain - 1e-12 and d.ci_low > item.threshold("min_difference"):
        return "pass", msg("scoring.imp_better"), None
    if d.ci_high < -worse_margin:
        return "partial", msg("scoring.imp_worse"), msg("scoring.imp_try_other")
    return "partial", msg("scoring.imp_not_shown_better"), msg("scoring.imp_try_other")


def later_version_failed(evidence: Evidence) -> dict[str, Any] | None:
    """A later (improved) model function that failed to build, as the sandbox reported it."""
    for c in evidence.checks:
        lf = c.details.get("later_failed") if c.id in ("generator_builds",
                                                       "discriminator_builds") else None
        if isinstance(lf, dict) and lf.get("name"):
            return lf
    return None


def attempted(evidence: Evidence, story: RunMap | None) -> list[str]:
    """What shows an improvement was made (empty: none was)."""
    names = {v.name for v in evidence.variants}
    out = list(story.changes) if story is not None else []
    if story is not None and not out:
        out += [f"{name} defined again" for name in story.redefined]
    if not out and {"baseline", "final"} <= names:
        out.append("two versions of the model functions")
    return out


def _broken(evidence: Evidence) -> Verdict | None:
    """The improved version does not run: the idea is not applied."""
    lf = later_version_failed(evidence)
    if lf is not None:
        return Verdict("fail", "none", [msg(
            "scoring.imp_later_broken", name=lf.get("name"), origin=lf.get("origin") or "?",
            error=str(lf.get("error") or "it failed").rstrip(". "))], {"later_failed": lf},
            fix=msg("scoring.imp_fix_broken"))
    by_name = {v.name: v for v in evidence.variants}
    final, base = by_name.get("final"), by_name.get("baseline")
    if final is not None and final.error and final.error_kind in (None, "error") and \
            base is not None and not base.error:
        return Verdict("fail", "none", [msg("scoring.imp_final_untrainable", error=final.error.rstrip(". "))],
                       {"variant_error": "final"}, fix=msg("scoring.imp_fix_broken"))
    return None


def score_improvement(item: RubricItem, evidence: Evidence, judged: JudgedEvidence,
                      rubric: Rubric) -> ItemGrade:
    """Item 3: was an improvement applied, and are the images after it better?"""
    story = RunMap.from_dict(evidence.run_map) if evidence.run_map else None
    changes = attempted(evidence, story)
    broken = _broken(evidence)
    if broken is not None:
        return grade_of(item, broken)
    if not changes:
        return grade_of(item, Verdict("fail", "none", [msg("scoring.imp_none")], {},
                                      fix=msg("scoring.imp_fix_none")))
    n_boot, level = int(rubric.threshold("bootstrap_samples")), item.threshold("ci_level")
    compare_by = item.option("compare_by", COMPARE_BY_DEFAULT)
    said = msg("scoring.imp_changes", changes="; ".join(changes[:4]))
    nums: dict[str, Any] = {"changes": changes}
    by_name = {v.name: v for v in evidence.variants}
    base, final = by_name.get("baseline"), by_name.get("final")
    grader_d = None
    if base is not None and final is not None and judged.baseline_samples is not None:
        grader_d = compare_sets(judged.baseline_samples, judged.final_samples, compare_by,
                                n_boot=n_boot, seed=rubric.seed, ci_level=level)
        if grader_d is not None:
            nums["grader_difference"] = grader_d.to_dict()
    student_d = None
    if "student_before_after" in item.evidence:
        student_d = compare_sets(judged.student_before_images, judged.student_after_images,
                                 compare_by, n_boot=n_boot, seed=rubric.seed, ci_level=level)
    if student_d is not None:
        nums["difference"] = student_d.to_dict()
        status, words, fix = difference_status(student_d, item)
        verdict = Verdict(status, "student_before_after",
                          [said, _headline(student_d, msg("scoring.imp_where_student")), words],
                          nums, fix=fix)
        return grade_of(item, checked(verdict, verify(evidence, judged), item))
    if grader_d is not None and is_authoritative(final, rubric) and \
            "grader_variants" in item.evidence:
        status, words, fix = difference_status(grader_d, item)
        status = "partial" if status == "pass" else status  # measured, but not shown
        return grade_of(item, Verdict(status, "grader_variants", [
            said, msg("scoring.imp_not_shown"), _headline(grader_d,
                                                         msg("scoring.imp_where_grader")),
            words], nums, fix=msg("scoring.imp_fix_show")))
    return grade_of(item, Verdict("partial", "none", [said, msg("scoring.imp_not_shown")],
                                  nums, fix=msg("scoring.imp_fix_show")))


def variant_error_text(v: VariantRun) -> Msg:
    """Words for a variant the grader could not train."""
    return msg("scoring.variant_untrainable", name=v.name, error=v.error)


register_item("improvement", score_improvement,
              thresholds=("min_difference", "ci_level", "min_visible_gain",
                          "visible_gain_per"))
