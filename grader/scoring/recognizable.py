"""Item 1 (recognizable): can the kind of object be told apart by eye in the final grid?

The main evidence is what a TA looks at: the final sample grid of the notebook's last run,
judged tile by tile with the score fitted on eye labels (``grader.judge.realism``): a grid
passes with at least ``grid_min_clear`` tiles whose class can be named without doubt and
``grid_min_named`` tiles at least plausible (per 16 tiles); a grid where ``grid_min_named``
tiles at least hint at an object (the score's ``threshold_hint``, at most its named
threshold; the judge result's ``hinted_count``) but too few are clear is partial; fewer
("mostly blobs, at most a few hint at an object") fail (:func:`count_level`). A display bug that hides the colours counts against the grid (it is what the TA
sees), and is named with its fix. The student's checkpoint, sampled by the grader when it
loads into the generator the code builds, stands in when no grid is shown. Copies of real
images, repeated images and collapse to one class fail. The grader's own short run only
verifies that the code trains.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from grader.evidence import Evidence
from grader.judge.results import JudgedEvidence, JudgeResult
from grader.rubric import Rubric, RubricItem
from grader.scoring.common import Verdict, checked, finite, grade_of, needs_review, pct
from grader.scoring.grades import ItemGrade
from grader.scoring.items import register_item
from grader.scoring.sources import SOURCES
from grader.scoring.verification import verify
from grader.text import Msg, msg, plain


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


def _optional(item: RubricItem, name: str) -> float | None:
    try:
        return item.threshold(name)
    except KeyError:
        return None


def _collapse(r: JudgeResult, item: RubricItem, head: Msg, source: str,
              nums: dict[str, Any]) -> Verdict | None:
    """A failing verdict for copies of real images, repeated images or one class."""
    limit = _optional(item, "max_copy_share")
    if limit is not None and r.copy_fraction is not None and r.copy_fraction >= limit:
        examples = "; ".join(v.copy_of for v in r.per_image if v.copy_of)[:200]
        return Verdict("fail", source, [head, msg("scoring.rec_copies",
                                                  share=pct(r.copy_fraction),
                                                  examples=examples)], nums,
                       fix=msg("scoring.rec_copies_fix"))
    twins = near_copy_limit(item)
    if twins is not None and r.n >= 2 and finite(r.near_copy_fraction) >= twins and \
            (r.named_count or 0) + round(finite(r.recognizable_fraction) * r.n) > 0:
        return Verdict("fail", source, [head, msg("scoring.rec_twins",
                                                  share=pct(r.near_copy_fraction))], nums,
                       fix=msg("scoring.rec_collapse_fix"))
    hist = list(r.class_histogram)
    if hist:
        rec, classes, share = class_spread(hist)
        n_rec, seen, top = int(rec), int(classes), float(share)
        if is_collapsed(n_rec, seen, top, CollapseRule.from_item(item)):
            return Verdict("fail", source, [head, msg(
                "scoring.rec_one_class", k=round(top * n_rec), n=n_rec, share=pct(top),
                cls=r.top_class())], nums, fix=msg("scoring.rec_collapse_fix"))
    return None


def count_level(clear: Any, named: Any, hinted: Any, need_clear: float,
                need_named: float) -> Any:
    """Item 1's count rule: 2 (pass), 1 (partial) or 0 (fail); elementwise on arrays.

    Pass: at least ``need_clear`` clear and ``need_named`` named (at least plausible) tiles
    ("several tiles named without doubt, plus more plausible ones"). Fail: fewer than
    ``need_clear`` clear tiles and fewer than ``need_named`` that even hint at an object
    (``hinted``; a per-tile threshold at most that of ``named``): "blobs with at most one
    clear tile" (the rubric policy of issues 15 and 16). Partial: the rest, i.e. enough tiles
    hint at an object but too few are clear, or enough are clear but too few others are
    plausible. The calibration (``reference.calibrate_recognizable``) and the corpus truth
    (``reference.corpus.truth``) apply the same rule to their grids.
    """
    eps = 1e-9
    enough_clear = np.asarray(clear) >= need_clear - eps
    passed = enough_clear & (np.asarray(named) >= need_named - eps)
    hint = np.maximum(np.asarray(hinted), np.asarray(named))
    out = np.where(passed, 2, np.where(enough_clear | (hint >= need_named - eps), 1, 0))
    return int(out) if out.ndim == 0 else out


def set_verdict(r: JudgeResult, source: str, item: RubricItem) -> Verdict:
    """Item 1 on one set of images (the final grid, or the checkpoint's samples)."""
    words = SOURCES[source].words if source in SOURCES else plain(source)
    n = r.n
    hinted = r.named_count if r.hinted_count is None else r.hinted_count
    nums: dict[str, Any] = {"n": n, "clear": r.clear_count, "named": r.named_count,
                            "hinted": hinted, "expected_clear": r.expected_clear,
                            "copy_fraction": r.copy_fraction,
                            "near_copy_fraction": finite(r.near_copy_fraction),
                            "recognizable_fraction": finite(r.recognizable_fraction),
                            "classifier_score": finite(r.classifier_score)}
    if r.clear_count is None or r.named_count is None:
        return _fraction_verdict(r, source, item, words, nums)
    grid = item.threshold("grid_size")
    need_clear = item.threshold("grid_min_clear") * n / grid
    need_named = item.threshold("grid_min_named") * n / grid
    nums.update(need_clear=round(need_clear, 2), need_named=round(need_named, 2))
    head = msg("scoring.rec_head", n=n, words=words, clear=r.clear_count,
               named=r.named_count)
    collapsed = _collapse(r, item, head, source, nums)
    if collapsed is not None:
        return collapsed
    level = count_level(r.clear_count, r.named_count, hinted, need_clear, need_named)
    if level == 2:
        return Verdict("pass", source, [head, msg("scoring.rec_pass")], nums)
    if level == 0:  # "mostly blobs, at most 1-3 tiles hint at an object"
        return Verdict("fail", source, [head, msg("scoring.rec_blobs",
                                                  need=_count(need_named))], nums,
                       fix=msg("scoring.rec_train_longer"))
    # partial: enough tiles hint at an object but too few are clear, or enough are clear
    # but too few others are plausible
    why = (msg("scoring.rec_few_clear", need=_count(need_clear), n=n, hinted=hinted)
           if r.clear_count < need_clear - 1e-9 else msg("scoring.rec_some"))
    return Verdict("partial", source, [head, why], nums, fix=msg("scoring.rec_train_longer"))


def _count(x: float) -> str:
    return str(int(np.ceil(x - 1e-9)))


def _fraction_verdict(r: JudgeResult, source: str, item: RubricItem, words: Msg,
                      nums: dict[str, Any]) -> Verdict:
    """Without an eye-label score (another assignment): the judge's confident fraction."""
    f, lo, hi = finite(r.recognizable_fraction), finite(r.ci_low), finite(r.ci_high, 1.0)
    p_thr, f_thr = item.threshold("pass_fraction"), item.threshold("fail_fraction")
    nums.update(ci_low=lo, ci_high=hi, pass_fraction=p_thr, fail_fraction=f_thr)
    head = msg("scoring.rec_head_fraction", n=r.n, words=words, f=pct(f), lo=pct(lo),
               hi=pct(hi))
    collapsed = _collapse(r, item, head, source, nums)
    if collapsed is not None:
        return collapsed
    if lo >= p_thr:
        return Verdict("pass", source, [head, msg("scoring.rec_pass")], nums)
    if hi < f_thr:
        return Verdict("fail", source, [head, msg("scoring.rec_blobs_fraction")], nums,
                       fix=msg("scoring.rec_train_longer"))
    if lo >= f_thr and hi < p_thr:
        return Verdict("partial", source, [head, msg("scoring.rec_some")], nums,
                       fix=msg("scoring.rec_train_longer"))
    return needs_review(source, [head], msg("scoring.rec_too_few", n=r.n), nums)


def score_recognizable(item: RubricItem, evidence: Evidence, judged: JudgedEvidence,
                       rubric: Rubric) -> ItemGrade:
    """Item 1: recognizable objects in the final grid (else the fitting checkpoint)."""
    grid = judged.figure("final")
    check = verify(evidence, judged)
    fits = bool(evidence.checkpoint and evidence.checkpoint.get("fits_code"))
    ckpt = judged.checkpoint_samples if fits else None
    extra: list[Msg] = []
    if grid is not None and grid.result is None and grid.problem:
        extra.append(msg("scoring.rec_grid_unreadable", origin=grid.origin, why=grid.problem))
    r = judged.student_images
    if r is None or r.n == 0:
        if ckpt is None or ckpt.n == 0:
            return grade_of(item, Verdict("fail", "none", [*extra, msg("scoring.rec_nothing")],
                                          {}, fix=msg("scoring.rec_show_grid")))
        verdict = set_verdict(ckpt, "checkpoint", item)
        verdict.reasons[:0] = [*extra, msg("scoring.rec_checkpoint_only")]
        verdict.fix = verdict.fix or msg("scoring.rec_show_grid")
        return grade_of(item, checked(verdict, check, item))
    verdict = set_verdict(r, "student_images", item)
    verdict.reasons[:0] = extra
    verdict.numbers.update(origin=r.origin, shown=grid.shown if grid else False)
    if grid is not None and grid.display_bug:
        bug = msg(f"figures.display_{grid.display_bug}")
        verdict.reasons.append(bug)
        verdict.fix = bug
        verdict.numbers["display_bug"] = grid.display_bug
        if ckpt is not None and verdict.status == "fail" and \
                set_verdict(ckpt, "checkpoint", item).status == "pass":
            verdict.status = "partial"
            verdict.reasons.append(msg("scoring.rec_checkpoint_better"))
    if ckpt is not None:
        verdict.numbers["checkpoint"] = set_verdict(ckpt, "checkpoint", item).numbers
    return grade_of(item, checked(verdict, check, item))


register_item("recognizable", score_recognizable,
              thresholds=("grid_size", "grid_min_clear", "grid_min_named", "pass_fraction",
                          "fail_fraction", "min_class_coverage", "max_top_class_share",
                          "collapse_min_recognized"))
