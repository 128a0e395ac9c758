"""Fit the per-tile recognizability score to eye-read labels and measure grid-level agreement.

Inputs: the label set of ``reference/labels/`` (tiles, source table, ``labels.csv`` read by
eye under ``reference/labels/PROTOCOL.md``). Steps:

1. self-agreement of the labels (Cohen's kappa, first vs second reading);
2. the components of :mod:`grader.judge.realism` for every tile, with the k-NN reference of
   real *training* images (features and radii become the shipped asset);
3. logistic fits of P(clear) and P(clear or plausible) on half of the tiles (split by tile,
   stratified by source), thresholds chosen on that half, AUC and precision on the other
   half, beside today's rule (top-1 probability >= tau inside the OOD gate);
4. grids of 16 and 20 tiles and sets of 64, 256 and 512 drawn from held-out tiles of each
   source and of mixtures: the verdict from the labels vs the verdict from the score.

Writes the assignment's ``judge/realism.npz`` and ``reference/recognizable_calibration.md``.

Usage::

    nice -n 10 .venv/bin/python -m reference.calibrate_recognizable
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

from grader.assignment import get_assignment
from grader.judge.realism import (
    COMPONENTS,
    RealismModel,
    knn_radii,
    pca_components,
    pca_names,
    prune_spheres,
    save_realism,
    scores_from_components,
    tile_components,
    tile_flags,
)

ROOT = Path(__file__).resolve().parent.parent
LABELS = ROOT / "reference" / "labels"
OUT_MD = ROOT / "reference" / "recognizable_calibration.md"
CACHE = ROOT / "runs" / "labels_cache"
SEED = 7
N_REAL = 10000
"""Real training images whose k-NN spheres are computed (the pruned half is shipped)."""
K = 3
RIDGE = 1e-2
"""L2 penalty of the old score's logistic fits (standardized components; intercept not
penalized)."""
PCA_GRID = (0, 4, 8, 12, 16, 20, 24, 32, 48)
"""Numbers of principal components tried by cross-validation on the fit half."""
MAX_PCA_SHIPPED = 0
"""Most principal components the shipped score may use (``--max-pca``). Zero: with K = 24
(chosen by cross-validation, held-out AUC named 0.922 vs 0.890) the score failed on tiles
that went through the figure pipeline of the corpus (``reference.corpus``): a viridis grid
the labels read as 0 clear, 0 plausible got 3 clear (old score: 0); an after-grid of an
upsampling generator that the labels read as 0.5 credit per 16 got 22 of 46 tiles clear
(old score: 0), so item 3 passed three "not clearly better" improvements. Linear terms on
24 feature directions extrapolate off the label set's tiles; the five hand-made components
do not. The study still reports the PCA score next to the shipped one."""
RIDGE_GRID = (1e-3, 3e-3, 1e-2, 3e-2, 1e-1)
"""L2 penalties tried by cross-validation on the fit half."""
N_FOLDS = 5
HINT_STEP = 0.025
"""Grid of the partial-counting threshold tried on the fit half's grids (up to threshold_named)."""
TARGET_PRECISION = 0.9
GRID_SIZES = (16, 20, 64, 256, 512)
N_GRIDS = 200
"""Grids drawn per (source, size)."""
LEVEL = {"none": 0, "plausible": 1, "clear": 2}


@dataclass(frozen=True)
class LabelSet:
    """Tiles, their sources and the two readings."""

    tiles: np.ndarray
    source: np.ndarray
    batch: np.ndarray
    """Sheet batch of each tile (1, 2 or 3; see ``reference/labels/PROTOCOL.md``)."""
    names: list[str]
    first: dict[int, tuple[int, str]]
    """tile id -> (level 0/1/2, class name or "") of the first reading."""
    second: dict[int, tuple[int, str]]


def load_label_set(folder: Path = LABELS) -> LabelSet:
    """Read ``tiles.npz`` and ``labels.csv`` (passes 1 and 2)."""
    with np.load(folder / "tiles.npz", allow_pickle=False) as z:
        tiles, source, names = z["tiles"], z["source"].astype(int), list(z["source_names"])
        batch = z["batch"].astype(int) if "batch" in z.files else np.ones(len(tiles), int)
    passes: dict[int, dict[int, tuple[int, str]]] = {1: {}, 2: {}}
    with open(folder / "labels.csv", newline="") as fh:
        for row in csv.DictReader(fh):
            passes[int(row["pass"])][int(row["tile_id"])] = (LEVEL[row["label"]], row["class"])
    missing = set(range(len(tiles))) - set(passes[1])
    if missing:
        raise SystemExit(f"labels.csv lacks first-pass labels of {len(missing)} tiles")
    return LabelSet(tiles, source, batch, [str(n) for n in names], passes[1], passes[2])


# --------------------------------------------------------------------------- statistics
def cohen_kappa(a: np.ndarray, b: np.ndarray) -> float:
    """Cohen's kappa of two label vectors: (p_o - p_e) / (1 - p_e)."""
    cats = np.union1d(a, b)
    po = float(np.mean(a == b))
    pe = float(sum(np.mean(a == c) * np.mean(b == c) for c in cats))
    return (po - pe) / (1 - pe) if pe < 1 else 1.0


def roc_auc(y: np.ndarray, s: np.ndarray) -> float:
    """ROC AUC (Mann-Whitney U with mid-ranks for ties); NaN with one class only."""
    from scipy.stats import rankdata

    y = np.asarray(y, bool)
    n1, n0 = int(y.sum()), int((~y).sum())
    if n1 == 0 or n0 == 0:
        return float("nan")
    r = rankdata(s)
    return float((r[y].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def auc_interval(y: np.ndarray, s: np.ndarray, n_boot: int = 1000,
                 seed: int = SEED) -> tuple[float, float]:
    """Percentile bootstrap 95% interval of the AUC (tiles resampled)."""
    rng = np.random.default_rng(seed)
    vals = []
    for _ in range(n_boot):
        i = rng.integers(0, len(y), len(y))
        vals.append(roc_auc(y[i], s[i]))
    return float(np.nanquantile(vals, 0.025)), float(np.nanquantile(vals, 0.975))


def precision_recall(y: np.ndarray, flag: np.ndarray) -> tuple[float, float, int]:
    """Precision and recall of a boolean flag against labels y, and the number flagged."""
    n = int(flag.sum())
    prec = float(y[flag].mean()) if n else float("nan")
    rec = float(flag[y].mean()) if y.any() else float("nan")
    return prec, rec, n


def fit_logistic(x: np.ndarray, y: np.ndarray, ridge: float = RIDGE,
                 iters: int = 50) -> tuple[np.ndarray, float]:
    """L2-penalized logistic regression by Newton's method: (coefficients, intercept)."""
    xb = np.hstack([x, np.ones((len(x), 1))])
    w = np.zeros(xb.shape[1])
    pen = np.full(xb.shape[1], ridge * len(x))
    pen[-1] = 0.0
    for _ in range(iters):
        p = 1 / (1 + np.exp(-xb @ w))
        grad = xb.T @ (p - y) + pen * w
        hess = (xb * (p * (1 - p))[:, None]).T @ xb + np.diag(pen) + 1e-9 * np.eye(len(w))
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return w[:-1], float(w[-1])


def threshold_for_precision(y: np.ndarray, p: np.ndarray, target: float = TARGET_PRECISION,
                            min_flagged: int = 10) -> float:
    """The lowest threshold on p whose flagged tiles reach ``target`` precision (fit data)."""
    order = np.argsort(-p)
    hits = np.cumsum(y[order])
    n = np.arange(1, len(p) + 1)
    ok = (hits / n >= target) & (n >= min_flagged)
    if not ok.any():
        return float(p.max() + 1e-9)
    last = np.nonzero(ok)[0].max()
    return float(p[order][last])


# --------------------------------------------------------------------------- judge outputs
def _digest(*arrays: np.ndarray | bytes) -> str:
    h = hashlib.sha256()
    for a in arrays:
        h.update(a if isinstance(a, bytes) else np.ascontiguousarray(a).tobytes())
    return h.hexdigest()[:16]


def real_reference(judge, weights: bytes) -> tuple[np.ndarray, np.ndarray]:
    """Judge features of N_REAL real training images, pruned to r_k <= median, with radii."""
    path = CACHE / f"real_reference_{_digest(weights)}.npz"
    if path.is_file():
        with np.load(path, allow_pickle=False) as z:
            return z["features"], z["radii"]
    from grader.data import load_dataset

    x = load_dataset().x_train  # DCGAN_GRADER_DATA, the cache or the download
    if len(x) < N_REAL:
        raise SystemExit(f"the real reference needs {N_REAL} training images, but the data "
                         f"found has {len(x)} (the bundled subset?): set DCGAN_GRADER_DATA "
                         "to the full CIFAR-10 archive")
    idx = np.sort(np.random.default_rng(SEED).choice(len(x), N_REAL, replace=False))
    _, feats = judge.predict(x[idx])
    feats = feats.astype(np.float16).astype(np.float32)  # what the asset ships
    kept, radii = prune_spheres(feats, knn_radii(feats, K))
    CACHE.mkdir(parents=True, exist_ok=True)
    np.savez(path, features=kept, radii=radii)
    return kept, radii


def judge_tiles(judge, tiles: np.ndarray, ref: RealismModel, weights: bytes) -> dict:
    """Components, top class and today's rule for every tile (cached on disk)."""
    path = CACHE / f"tiles_v2_{_digest(weights, tiles, ref.real_features)}.npz"
    if path.is_file():
        with np.load(path, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    comps, top = tile_components(judge, tiles, ref)
    probs, feats = judge.predict(tiles)
    gate = judge.in_distribution(feats)
    gate = np.ones(len(tiles), bool) if gate is None else gate
    p1 = probs.max(axis=1)
    out = {**comps, "top": top, "p1": p1, "gate": gate, "today": (p1 >= judge.tau) & gate,
           "features": feats.astype(np.float32)}
    CACHE.mkdir(parents=True, exist_ok=True)
    np.savez(path, **out)
    return out


def split_by_source(source: np.ndarray, seed: int = SEED) -> np.ndarray:
    """True for the fit half: half of each source's tiles (rounded down), chosen at random."""
    rng = np.random.default_rng(seed)
    fit = np.zeros(len(source), bool)
    for s in np.unique(source):
        idx = rng.permutation(np.nonzero(source == s)[0])
        fit[idx[:len(idx) // 2]] = True
    return fit


# --------------------------------------------------------------------------- the score
def fit_pca(features: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean (D,) and the first k principal axes as columns (D, k) of ``features`` (N, D)."""
    f = np.asarray(features, np.float64)
    mu = f.mean(0)
    _, _, vt = np.linalg.svd(f - mu, full_matrices=False)
    axes = vt[:k].T
    axes *= np.where(axes.sum(0) < 0, -1.0, 1.0)  # a fixed sign per axis
    return mu, axes


def with_pca(out: dict, pca: tuple[np.ndarray, np.ndarray] | None) -> dict:
    """The tile components plus ``pcNN`` of the cached features under a fitted PCA."""
    if pca is None or pca[1].shape[1] == 0:
        return out
    stub = RealismModel(np.zeros((1, len(pca[0])), np.float32), np.zeros(1, np.float32), K,
                        (), np.zeros(0), np.zeros(0), np.zeros(0), 0.0, np.zeros(0), 0.0,
                        0.5, 0.5, pca_mean=pca[0], pca_axes=pca[1])
    return {**out, **pca_components(out["features"], stub)}


def fit_model(comps: dict, level: np.ndarray, train: np.ndarray, ref_feats: np.ndarray,
              ref_radii: np.ndarray, names: tuple[str, ...], ridge: float,
              pca: tuple[np.ndarray, np.ndarray] | None = None) -> RealismModel:
    """Standardize on the ``train`` tiles and fit the two logistic models (thresholds 0.5)."""
    raw = np.stack([comps[c] for c in names], axis=1)
    mean, scale = raw[train].mean(0), raw[train].std(0) + 1e-12
    z = (raw - mean) / scale
    cc, ic = fit_logistic(z[train], (level[train] == 2).astype(float), ridge)
    cn, inn = fit_logistic(z[train], (level[train] >= 1).astype(float), ridge)
    return RealismModel(ref_feats, ref_radii, K, names, mean, scale, cc, ic, cn, inn, 0.5, 0.5,
                        pca_mean=None if pca is None else pca[0],
                        pca_axes=None if pca is None else pca[1])


def cv_folds(source: np.ndarray, fit: np.ndarray, seed: int = SEED) -> np.ndarray:
    """Fold 0..N_FOLDS-1 of each fit-half tile (stratified by source), -1 elsewhere."""
    rng = np.random.default_rng(seed + 100)
    folds = np.full(len(source), -1)
    for s in np.unique(source[fit]):
        idx = rng.permutation(np.nonzero(fit & (source == s))[0])
        folds[idx] = np.arange(len(idx)) % N_FOLDS
    return folds


def out_of_fold(out: dict, level: np.ndarray, folds: np.ndarray, n_pca: int, ridge: float,
                names: tuple[str, ...] = COMPONENTS) -> tuple[np.ndarray, np.ndarray]:
    """(p_clear, p_named) of each fit-half tile from a score fitted on the other folds (PCA
    refitted on those folds too); NaN outside the fit half."""
    pc, pn = np.full(len(level), np.nan), np.full(len(level), np.nan)
    for f in range(N_FOLDS):
        train, test = (folds >= 0) & (folds != f), folds == f
        pca = fit_pca(out["features"][train], n_pca) if n_pca else None
        comps = with_pca(out, pca)
        m = fit_model(comps, level, train, np.zeros((1, 1), np.float32),
                      np.zeros(1, np.float32), (*names, *pca_names(n_pca)), ridge, pca)
        c, n = scores_from_components({k: v[test] for k, v in comps.items()}, m)
        pc[test], pn[test] = c, n
    return pc, pn


def deviance(y: np.ndarray, p: np.ndarray) -> float:
    """Mean negative log-likelihood of labels y under probabilities p."""
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def select_pca(out: dict, level: np.ndarray, fit: np.ndarray, folds: np.ndarray,
               generated: np.ndarray) -> tuple[tuple[int, float], dict]:
    """(K, ridge) with the lowest summed out-of-fold deviance of P(clear) and P(named) on
    the fit half, and the table of every pair tried (deviances and out-of-fold AUCs)."""
    table = {}
    yc, yn, g = (level[fit] == 2), (level[fit] >= 1), generated[fit]
    for n_pca in PCA_GRID:
        for ridge in RIDGE_GRID:
            pc, pn = (a[fit] for a in out_of_fold(out, level, folds, n_pca, ridge))
            table[(n_pca, ridge)] = {
                "dev_clear": deviance(yc, pc), "dev_named": deviance(yn, pn),
                "auc_clear": roc_auc(yc, pc), "auc_named": roc_auc(yn, pn),
                "auc_named_gen": roc_auc(yn[g], pn[g])}
    best = min(table, key=lambda k: table[k]["dev_clear"] + table[k]["dev_named"])
    return best, table


def fit_score(out: dict, level: np.ndarray, fit: np.ndarray, folds: np.ndarray,
              ref_feats: np.ndarray, ref_radii: np.ndarray, n_pca: int = 0,
              ridge: float = RIDGE, names: tuple[str, ...] = COMPONENTS
              ) -> tuple[RealismModel, dict, np.ndarray, np.ndarray]:
    """The score fitted on the whole fit half, with thresholds chosen on its out-of-fold
    predictions (which are returned too, for the grid rule): (model, components of every
    tile, out-of-fold p_clear, out-of-fold p_named)."""
    pca = fit_pca(out["features"][fit], n_pca) if n_pca else None
    comps = with_pca(out, pca)
    model = fit_model(comps, level, fit, ref_feats, ref_radii, (*names, *pca_names(n_pca)),
                      ridge, pca)
    oc, on = out_of_fold(out, level, folds, n_pca, ridge, names)
    t_clear = threshold_for_precision(level[fit] == 2, oc[fit])
    t_named = threshold_for_precision(level[fit] >= 1, on[fit])
    model = RealismModel(ref_feats, ref_radii, K, model.components, model.mean, model.scale,
                         model.coef_clear, model.intercept_clear, model.coef_named,
                         model.intercept_named, t_clear, t_named, model.pca_mean,
                         model.pca_axes)
    return model, comps, oc, on


def tile_metrics(y: np.ndarray, score: np.ndarray, flag: np.ndarray) -> dict:
    """AUC (with interval), precision, recall and count flagged on one set of tiles."""
    prec, rec, n = precision_recall(y, flag)
    lo, hi = auc_interval(y, score)
    return {"auc": roc_auc(y, score), "auc_lo": lo, "auc_hi": hi, "precision": prec,
            "recall": rec, "flagged": n, "positives": int(y.sum()), "n": len(y)}


# --------------------------------------------------------------------------- grids
def grid_rule(n: int) -> tuple[int, int]:
    """(clear tiles needed, clear-or-plausible tiles needed) to pass a set of n images.

    A grid a TA sees (n <= 25): at least 2 clear and at least a quarter at least plausible
    (4 of 16, 5 of 20). Larger sets: the same shares as a 16-tile grid, 1/8 and 1/4.
    """
    if n <= 25:
        return 2, int(np.ceil(n / 4))
    return int(np.ceil(n / 8)), int(np.ceil(n / 4))


def pass_probability(pc: np.ndarray, pp: np.ndarray, need_c: int, need_n: int) -> np.ndarray:
    """P(at least need_c clear and need_n clear-or-plausible) for independent tiles.

    Args:
        pc: P(clear) per tile, (G, N) for G grids.
        pp: P(plausible) = p_named - p_clear per tile, (G, N).
    """
    g, n = pc.shape
    a = np.zeros((g, need_c + 1, need_n + 1))
    a[:, 0, 0] = 1.0
    for j in range(n):
        c, p = pc[:, j, None, None], pp[:, j, None, None]
        named = np.zeros_like(a)
        named[:, :, 1:] = a[:, :, :-1]
        named[:, :, -1] += a[:, :, -1]
        clear = np.zeros_like(a)
        clear[:, 1:, :] = named[:, :-1, :]
        clear[:, -1, :] += named[:, -1, :]
        a = a * (1 - c - p) + p * named + c * clear
    return a[:, -1, -1]


def draw_grids(pools: list[np.ndarray], size: int, rng: np.random.Generator) -> np.ndarray:
    """N_GRIDS index rows of ``size`` tiles; one pool, or a random two-pool mixture each.

    From one pool of at least ``size`` tiles: without replacement; otherwise (and for
    mixtures) with replacement.
    """
    rows = []
    for _ in range(N_GRIDS):
        if len(pools) == 1:
            pool = pools[0]
            rows.append(rng.choice(pool, size, replace=size > len(pool)))
            continue
        a, b = rng.choice(len(pools), 2, replace=False)
        k = rng.binomial(size, rng.uniform())
        rows.append(np.concatenate([rng.choice(pools[a], k), rng.choice(pools[b], size - k)]))
    return np.stack(rows)


def rubric_path() -> Path:
    """The current assignment's rubric file (item 1 holds today's pass_fraction)."""
    from grader.assignment import get_assignment

    return Path(get_assignment().rubric)


def grid_verdicts(idx: np.ndarray, level: np.ndarray, scores: dict, today: np.ndarray,
                  thresholds: dict) -> dict:
    """Verdicts of each grid row as levels (2 pass, 1 partial, 0 fail): labels, the new score
    four ways, the old score as shipped before, and today's rules (pass or fail only).

    The item-1 rule: pass with ``need_c`` clear and ``need_n`` at least plausible tiles;
    partial with ``need_n`` tiles at least hinting at an object (``hinted``: p_named >=
    threshold_hint; ``thresholded``: p_named >= threshold_named) but too few clear or named;
    fail below that.

    Args:
        scores: ``{"new": (p_clear, p_named, model), "old": (...)}``.
    """
    from grader.judge.metrics import bootstrap_fraction_ci
    from grader.scoring.recognizable import count_level

    need_c, need_n = grid_rule(idx.shape[1])
    lab = level[idx]
    flag_t = today[idx]
    lows = np.array([bootstrap_fraction_ci(f)[0] for f in flag_t])

    def counted(pc: np.ndarray, pn: np.ndarray, model: RealismModel, hint: float) -> np.ndarray:
        flags = tile_flags(pc[idx], pn[idx], dataclasses.replace(model, threshold_hint=hint))
        return count_level(*(f.sum(1) for f in flags), need_c, need_n)

    pc, pn, model = scores["new"]
    c, n = pc[idx], pn[idx]
    prob_pass = pass_probability(c, n - c, need_c, need_n) >= 0.5
    opc, opn, old = scores["old"]
    return {
        "labels": count_level((lab == 2).sum(1), (lab >= 1).sum(1), (lab >= 1).sum(1),
                              need_c, need_n),
        "hinted": counted(pc, pn, model, model.hint_threshold),
        "thresholded": counted(pc, pn, model, model.threshold_named),
        "expected": count_level(c.sum(1), n.sum(1), n.sum(1), need_c, need_n),
        "probability": np.where(prob_pass, 2, (n.sum(1) >= need_n).astype(int)),
        "old_score": counted(opc, opn, old, old.threshold_named),
        "today_rubric": 2 * (lows >= thresholds["pass_fraction"]),
        "today_counts": 2 * ((flag_t.sum(1) >= need_c) & (flag_t.sum(1) >= need_n)),
    }


SCORE_RULES = ("hinted", "thresholded", "expected", "probability")
OLD_RULES = ("old_score", "today_rubric", "today_counts")
SHIPPED_RULE = "hinted"
"""The rule ``grader.scoring.recognizable.set_verdict`` applies (counts of clear, named and
hinted tiles)."""


def draw_all(mask: np.ndarray, ls: LabelSet, seed: int) -> dict:
    """Index rows of N_GRIDS sets per (source or "mixture", size) from the tiles where ``mask``."""
    rng = np.random.default_rng(seed)
    pools = {name: np.nonzero(mask & (ls.source == k))[0] for k, name in enumerate(ls.names)}
    pools = {name: p for name, p in pools.items() if len(p)}  # a source never drawn
    generated = [p for name, p in pools.items() if name != "real_test"]
    return {(name, size): draw_grids(group, size, rng) for size in GRID_SIZES
            for name, group in [*[(n, [p]) for n, p in pools.items()], ("mixture", generated)]}


def choose_hint(grids: dict, level: np.ndarray, pc: np.ndarray, pn: np.ndarray,
                model: RealismModel) -> tuple[float, list[tuple[float, float, float]]]:
    """The partial-counting threshold (at most ``threshold_named``) whose ``hinted`` verdict
    agrees best with the label verdict on ``grids`` (fit half, out-of-fold predictions),
    by Cohen's kappa of the three levels pooled over all (source, size) cells; ties go to
    the higher threshold. Returns it and the curve (threshold, kappa, plain agreement).

    Kappa, not plain agreement: partial is the rarest label verdict (most cells are all
    fail), so plain agreement is highest for a rule that never calls partial; it chose
    the highest threshold and called 0.3% of the label-partial grids partial.
    """
    from grader.scoring.recognizable import count_level

    cands = [*np.round(np.arange(0.1, model.threshold_named, HINT_STEP), 3),
             model.threshold_named]
    wants = []
    for idx in grids.values():
        need_c, need_n = grid_rule(idx.shape[1])
        lab = level[idx]
        wants.append(count_level((lab == 2).sum(1), (lab >= 1).sum(1), (lab >= 1).sum(1),
                                 need_c, need_n))
    want = np.concatenate(wants)
    curve = []
    for t in cands:
        gots = []
        for idx in grids.values():
            need_c, need_n = grid_rule(idx.shape[1])
            flags = tile_flags(pc[idx], pn[idx], dataclasses.replace(model, threshold_hint=t))
            gots.append(count_level(*(f.sum(1) for f in flags), need_c, need_n))
        got = np.concatenate(gots)
        curve.append((float(t), cohen_kappa(want, got), float((got == want).mean())))
    best = max(curve, key=lambda c: (round(c[1], 6), c[0]))
    return best[0], curve


def grid_study(grids: dict, level: np.ndarray, scores: dict, today: np.ndarray) -> dict:
    """Agreement with the label verdict by (source, size) on the drawn grids."""
    thresholds = tomllib.loads(rubric_path().read_text())["items"][0]["thresholds"]
    thresholds = {k: v["value"] for k, v in thresholds.items()}
    table = {}
    rules = (*SCORE_RULES, *OLD_RULES)
    for key, idx in grids.items():
        v = grid_verdicts(idx, level, scores, today, thresholds)
        lab = v["labels"]
        table[key] = {"n": len(idx), "label_pass": float((lab == 2).mean()),
                      "label_partial": float((lab == 1).mean()),
                      "source_rate": float(max((lab == k).mean() for k in (0, 1, 2))),
                      **{r: float((v[r] == lab).mean()) for r in rules},
                      **{f"{r}_pass_agree": float(((v[r] == 2) == (lab == 2)).mean())
                         for r in rules},
                      **{f"{r}_pass": float((v[r] == 2).mean()) for r in rules},
                      **{f"{r}_partial": float((v[r] == 1).mean()) for r in rules},
                      **{f"{r}_partial_hits": int((v[r][lab == 1] == 1).sum()) for r in rules},
                      "label_partials": int((lab == 1).sum()),
                      "verdicts": {k: v[k] for k in ("labels", SHIPPED_RULE, "old_score")}}
    return table


# --------------------------------------------------------------------------- the study
def agreement(ls: LabelSet) -> dict:
    """Self-agreement of the two readings: kappa on labels and on the class named."""
    ids = sorted(ls.second)
    a = np.array([ls.first[i][0] for i in ids])
    b = np.array([ls.second[i][0] for i in ids])
    both = [i for i in ids if ls.first[i][0] >= 1 and ls.second[i][0] >= 1]
    ca = np.array([ls.first[i][1] for i in both])
    cb = np.array([ls.second[i][1] for i in both])
    confusion = np.zeros((3, 3), int)
    np.add.at(confusion, (a, b), 1)
    return {"n": len(ids), "kappa": cohen_kappa(a, b), "raw": float(np.mean(a == b)),
            "kappa_clear": cohen_kappa(a == 2, b == 2),
            "kappa_named": cohen_kappa(a >= 1, b >= 1),
            "n_class": len(both), "kappa_class": cohen_kappa(ca, cb) if both else float("nan"),
            "raw_class": float(np.mean(ca == cb)) if both else float("nan"),
            "confusion": confusion.tolist()}


def evaluate_tiles(out: dict, level: np.ndarray, fit: np.ndarray, generated: np.ndarray,
                   model: RealismModel, pc: np.ndarray, pn: np.ndarray) -> dict:
    """Held-out tile metrics of the score, of each component alone and of today's rule."""
    held = ~fit
    res = {}
    flag_c, flag_n, _ = tile_flags(pc, pn, model)
    for target, y_all, p, flag in (("clear", level == 2, pc, flag_c),
                                   ("named", level >= 1, pn, flag_n)):
        for subset, m in (("all", held), ("generated", held & generated)):
            y = y_all[m]
            res[(target, subset, "score")] = tile_metrics(y, p[m], flag[m])
            res[(target, subset, "today")] = tile_metrics(y, out["today"][m].astype(float),
                                                          out["today"][m])
            gated_p1 = np.where(out["gate"], out["p1"], 0.0)[m]
            res[(target, subset, "p1_in_gate")] = tile_metrics(y, gated_p1, out["today"][m])
            for c in COMPONENTS:
                sign = 1.0 if roc_auc(y_all[fit], out[c][fit]) >= 0.5 else -1.0
                res[(target, subset, c)] = {"auc": roc_auc(y, sign * out[c][m]),
                                            "sign": sign}
    return res


def per_source(ls: LabelSet, level: np.ndarray, fit: np.ndarray, pc: np.ndarray,
               pn: np.ndarray, model: RealismModel, today: np.ndarray) -> list[dict]:
    """Label distribution (all tiles) and held-out calibration of the score, per source."""
    rows = []
    for k, name in enumerate(ls.names):
        m = ls.source == k
        h = m & ~fit
        if not h.any():  # a source listed in tiles.npz but never drawn (see PROTOCOL.md)
            continue
        rows.append({"source": name, "n": int(m.sum()), "clear": int((level[m] == 2).sum()),
                     "plausible": int((level[m] == 1).sum()),
                     "none": int((level[m] == 0).sum()), "held": int(h.sum()),
                     "held_clear": float((level[h] == 2).mean()),
                     "held_named": float((level[h] >= 1).mean()),
                     "mean_p_clear": float(pc[h].mean()), "mean_p_named": float(pn[h].mean()),
                     "flag_clear": float(tile_flags(pc[h], pn[h], model)[0].mean()),
                     "flag_named": float(tile_flags(pc[h], pn[h], model)[1].mean()),
                     "today": float(today[h].mean())})
    return rows


def class_agreement(ls: LabelSet, level: np.ndarray, top: np.ndarray, held: np.ndarray) -> dict:
    """How often the judge's top class is the class read by eye (held-out clear/plausible)."""
    out = {}
    for name, lv in (("clear", 2), ("plausible", 1)):
        ids = np.nonzero(held & (level == lv))[0]
        names = get_assignment().class_names
        same = [names[top[i]] == ls.first[int(i)][1] for i in ids]
        out[name] = (float(np.mean(same)) if same else float("nan"), len(ids))
    return out


def auc_difference(y: np.ndarray, new: np.ndarray, old: np.ndarray, n_boot: int = 1000,
                   seed: int = SEED) -> tuple[float, float, float]:
    """AUC(new) - AUC(old) on the same tiles, with a paired percentile bootstrap 95% interval."""
    rng = np.random.default_rng(seed)
    vals = []
    for _ in range(n_boot):
        i = rng.integers(0, len(y), len(y))
        vals.append(roc_auc(y[i], new[i]) - roc_auc(y[i], old[i]))
    return (roc_auc(y, new) - roc_auc(y, old), float(np.nanquantile(vals, 0.025)),
            float(np.nanquantile(vals, 0.975)))


def run_study(seed: int = SEED, folder: Path = LABELS, max_pca: int = MAX_PCA_SHIPPED) -> dict:
    """Everything the report needs (and the fitted model to ship)."""
    from grader.judge.classifier import load_judge

    t0 = time.perf_counter()
    ls = load_label_set(folder)
    level = np.array([ls.first[i][0] for i in range(len(ls.tiles))])
    judge = load_judge()
    weights = Path(judge.weights_path).read_bytes()
    ref_feats, ref_radii = real_reference(judge, weights)
    ref = RealismModel(ref_feats, ref_radii, K, COMPONENTS, *[np.zeros(len(COMPONENTS))] * 2,
                       np.zeros(len(COMPONENTS)), 0.0, np.zeros(len(COMPONENTS)), 0.0, 0.5, 0.5)
    out = judge_tiles(judge, ls.tiles, ref, weights)
    fit = split_by_source(ls.source, seed)
    folds = cv_folds(ls.source, fit, seed)
    generated = ls.source != ls.names.index("real_test")
    (n_pca, ridge), cv_table = select_pca(out, level, fit, folds, generated)
    if n_pca > max_pca:  # the best K under the cap, as chosen by the same deviance
        n_pca, ridge = min((k for k in cv_table if k[0] <= max_pca),
                           key=lambda k: cv_table[k]["dev_clear"] + cv_table[k]["dev_named"])
    model, comps, oc, on = fit_score(out, level, fit, folds, ref_feats, ref_radii, n_pca, ridge)
    pc, pn = scores_from_components(comps, model)
    old, old_comps, ooc, oon = fit_score(out, level, fit, folds, ref_feats, ref_radii)
    opc, opn = scores_from_components(old_comps, old)
    top1_only, t1_comps, _, _ = fit_score(out, level, fit, folds, ref_feats, ref_radii,
                                          names=("logit_top1",))
    pc1, pn1 = scores_from_components(t1_comps, top1_only)
    grids_fit, grids_held = draw_all(fit, ls, seed), draw_all(~fit, ls, seed + 1)
    hint, hint_curve = choose_hint(grids_fit, level, oc, on, model)
    model = dataclasses.replace(model, threshold_hint=hint)
    old_hint, _ = choose_hint(grids_fit, level, ooc, oon, old)
    held = ~fit
    diffs = {(t, sub): auc_difference(y[m], new[m], prev[m])
             for t, y, new, prev in (("clear", level == 2, pc, opc), ("named", level >= 1, pn, opn))
             for sub, m in (("all", held), ("generated", held & generated))}
    return {
        "ls": ls, "level": level, "fit": fit, "model": model, "old": old, "pc": pc, "pn": pn,
        "agreement": agreement(ls), "tau": judge.tau, "cv": cv_table, "chosen": (n_pca, ridge),
        "max_pca": max_pca,
        "hint_curve": hint_curve, "old_hint": old_hint, "auc_diff": diffs,
        "tiles": evaluate_tiles(out, level, fit, generated, model, pc, pn),
        "old_tiles": evaluate_tiles(out, level, fit, generated, old, opc, opn),
        "top1_only": evaluate_tiles(out, level, fit, generated, top1_only, pc1, pn1),
        "sources": per_source(ls, level, fit, pc, pn, model, out["today"]),
        "classes": class_agreement(ls, level, out["top"], ~fit),
        "grids_fit": grid_study(grids_fit, level, {"new": (oc, on, model),
                                                   "old": (ooc, oon, old)}, out["today"]),
        "grids": grid_study(grids_held, level, {"new": (pc, pn, model), "old": (opc, opn, old)},
                            out["today"]),
        "seconds": time.perf_counter() - t0,
    }


# --------------------------------------------------------------------------- the report
def _f(x: float, digits: int = 3) -> str:
    return "n/a" if x is None or not np.isfinite(x) else f"{x:.{digits}f}"


def _pct(x: float) -> str:
    return "n/a" if not np.isfinite(x) else f"{100 * x:.1f}%"


def section_labels(r: dict) -> list[str]:
    """Sources, label distribution and self-agreement."""
    ag = r["agreement"]
    lines = ["## 1. The label set", "",
             f"{len(r['ls'].tiles)} tiles from {len(r['ls'].names)} sources, read by eye under "
             "`reference/labels/PROTOCOL.md` (first pass: every tile). Held-out columns: the "
             "half of each source not used to fit the score.", "",
             "| source | tiles | clear | plausible | none | held-out clear | mean p_clear | "
             "flagged clear | held-out clear-or-plausible | mean p_named | flagged named | "
             "today's rule |", "|---" * 12 + "|"]
    for s in r["sources"]:
        lines.append(f"| {s['source']} | {s['n']} | {s['clear']} | {s['plausible']} | "
                     f"{s['none']} | {_pct(s['held_clear'])} | {_pct(s['mean_p_clear'])} | "
                     f"{_pct(s['flag_clear'])} | {_pct(s['held_named'])} | "
                     f"{_pct(s['mean_p_named'])} | {_pct(s['flag_named'])} | "
                     f"{_pct(s['today'])} |")
    lines += ["", "Sources read in both batches (drift check): clear / clear-or-plausible "
              "share in batch 1 vs batch 2:", "", "| source | batch 1 | batch 2 |",
              "|---|---|---|"]
    for k, name in enumerate(r["ls"].names):
        cells = []
        for b in (1, 2):
            m = (r["ls"].source == k) & (r["ls"].batch == b)
            cells.append(f"{_pct((r['level'][m] == 2).mean())} / "
                         f"{_pct((r['level'][m] >= 1).mean())} (n={int(m.sum())})"
                         if m.any() else "")
        if all(cells):
            lines.append(f"| {name} | {cells[0]} | {cells[1]} |")
    lines += ["", "### Self-agreement (second reading)", "",
              f"{ag['n']} tiles read again on new sheets in a new order, blind to the first "
              f"reading. Raw agreement {_pct(ag['raw'])}; **Cohen's kappa on the 3 labels "
              f"{_f(ag['kappa'])}**; kappa of clear vs rest {_f(ag['kappa_clear'])}, of "
              f"named (clear or plausible) vs none {_f(ag['kappa_named'])}. Among the "
              f"{ag['n_class']} tiles named both times, the class agreed in "
              f"{_pct(ag['raw_class'])} (kappa {_f(ag['kappa_class'])}).", "",
              "| first \\ second | none | plausible | clear |", "|---|---|---|---|"]
    for name, row in zip(("none", "plausible", "clear"), ag["confusion"]):
        lines.append(f"| {name} | " + " | ".join(str(v) for v in row) + " |")
    return lines


def section_score(r: dict) -> list[str]:
    """Components, the cross-validated choice of K and ridge, coefficients and thresholds."""
    m, old = r["model"], r["old"]
    n_pca, ridge = r["chosen"]
    lines = ["", "## 2. The score (`grader/judge/realism.py`)", "",
             "Two logistic regressions on the same standardized components, fitted on the fit "
             f"half ({int(r['fit'].sum())} tiles): P(clear) and P(clear or plausible). The "
             "**old** score uses the five hand-made components (L2 penalty "
             f"{RIDGE} per tile, as shipped before); the **new** one adds the first K "
             "principal components (`pc01`..) of the judge's 128-d penultimate features, the "
             "PCA fitted on the fit half's tiles only. K and the penalty are chosen by "
             f"{N_FOLDS}-fold cross-validation inside the fit half (stratified by source, the "
             "PCA refitted on each fold's training part): the pair with the lowest summed "
             "out-of-fold deviance of the two models. Thresholds (both scores): the lowest "
             f"value whose fit-half tiles above it are at least {_pct(TARGET_PRECISION)} "
             "correct, on the fit half's *out-of-fold* predictions (in-sample predictions of "
             "a model with many inputs are over-confident).", "",
             "Cross-validation on the fit half (out-of-fold deviance of P(clear) + P(named); "
             "AUC named (all) / named (generated)); each K with its best penalty:", "",
             "| K | best penalty | deviance clear | deviance named | sum | AUC clear | "
             "AUC named | AUC named (generated) |", "|---" * 8 + "|"]
    cv = r["cv"]
    for k in PCA_GRID:
        best = min((key for key in cv if key[0] == k),
                   key=lambda key: cv[key]["dev_clear"] + cv[key]["dev_named"])
        v = cv[best]
        mark = "**" if best == r["chosen"] else ""
        lines.append(f"| {mark}{k}{mark} | {best[1]:g} | {_f(v['dev_clear'], 4)} | "
                     f"{_f(v['dev_named'], 4)} | {mark}{_f(v['dev_clear'] + v['dev_named'], 4)}"
                     f"{mark} | {_f(v['auc_clear'])} | {_f(v['auc_named'])} | "
                     f"{_f(v['auc_named_gen'])} |")
    best_any = min(cv, key=lambda key: cv[key]["dev_clear"] + cv[key]["dev_named"])
    cap = r.get("max_pca", MAX_PCA_SHIPPED)
    shipped = (f"The projection ships in the asset as `pca_mean` ({len(m.real_features[0])}) "
               f"and `pca_axes` ({len(m.real_features[0])} x {n_pca}, float32)." if n_pca else
               "No projection ships.")
    capped = ("" if best_any[0] <= cap else
              f" Cross-validation alone would choose K = {best_any[0]}; the shipped score is "
              f"capped at K <= {cap} (`--max-pca`, `MAX_PCA_SHIPPED`): with K = 24 the score "
              "called 3 of 16 tiles of a viridis-coloured corpus grid clear (labels: none "
              "even plausible) and 22 of 46 tiles of an upsampling generator's after-grid "
              "clear (labels: about 0.5 credit per 16), where the five hand-made components "
              "call none; the principal directions do not carry over to tiles cut from "
              "figures of other generators.")
    lines += ["", f"Chosen: **K = {n_pca}, penalty {ridge:g}**. {shipped}{capped}", "",
              "| component | mean | sd | new coef P(clear) | new coef P(named) | old coef "
              "P(clear) | old coef P(named) |", "|---" * 7 + "|"]
    oldc = dict(zip(old.components, zip(old.coef_clear, old.coef_named)))
    for c, mu, sd, a, b in zip(m.components, m.mean, m.scale, m.coef_clear, m.coef_named):
        oa, ob = oldc.get(c, (np.nan, np.nan))
        lines.append(f"| {c} | {_f(mu)} | {_f(sd)} | {_f(a, 2)} | {_f(b, 2)} | "
                     f"{_f(oa, 2) if c in oldc else ''} | {_f(ob, 2) if c in oldc else ''} |")
    lines += [f"| intercept | | | {_f(m.intercept_clear, 2)} | {_f(m.intercept_named, 2)} | "
              f"{_f(old.intercept_clear, 2)} | {_f(old.intercept_named, 2)} |", "",
              f"Thresholds, new: p_clear >= {_f(m.threshold_clear)}, p_named >= "
              f"{_f(m.threshold_named)}, and p_named >= {_f(m.hint_threshold)} counts a tile "
              "towards partial (`threshold_hint`, section 4); old: p_clear >= "
              f"{_f(old.threshold_clear)}, p_named >= {_f(old.threshold_named)}. Real "
              f"reference: {len(m.real_features)} training images (the half of {N_REAL} with "
              f"the smaller {K}-NN radii).", ""]
    return lines


def _tile_row(s: dict) -> str:
    return (f"**{_f(s['auc'])}** [{_f(s['auc_lo'])}, {_f(s['auc_hi'])}] | "
            f"{_pct(s['precision'])} | {_pct(s['recall'])} | {s['flagged']}")


def section_tiles(r: dict) -> list[str]:
    """Held-out AUC and precision of both scores, of today's rule and of single components."""
    lines = ["## 3. Held-out tiles", "",
             "AUC with a 95% bootstrap interval; precision, recall and tiles flagged at the "
             "threshold (a tile flagged clear also counts as named); new and old score fitted and "
             "thresholded in the same run, on the same split. `new - old`: the AUC difference "
             "with a paired bootstrap 95% interval.", "",
             "| target | tiles | positives | new AUC | new precision | new recall | new flagged "
             "| old AUC | old precision | old recall | old flagged | new - old AUC |",
             "|---" * 12 + "|"]
    for target in ("clear", "named"):
        for subset in ("all", "generated"):
            s = r["tiles"][(target, subset, "score")]
            o = r["old_tiles"][(target, subset, "score")]
            d, lo, hi = r["auc_diff"][(target, subset)]
            lines.append(f"| {target} ({subset}) | {s['n']} | {s['positives']} | "
                         f"{_tile_row(s)} | {_tile_row(o)} | {d:+.3f} [{lo:+.3f}, {hi:+.3f}] |")
    lines += ["", f"Today's rule: top-1 probability >= tau ({_f(r['tau'])}) inside the OOD "
              "gate (a yes/no rule, so its AUC is (TPR + TNR) / 2); `p1 in gate` ranks by the "
              "top-1 probability, 0 outside the gate.", "",
              "| target | today AUC | today precision | today recall | p1-in-gate AUC | "
              "top-1-only refit AUC |", "|---" * 6 + "|"]
    for target in ("clear", "named"):
        for subset in ("all", "generated"):
            t = r["tiles"][(target, subset, "today")]
            g = r["tiles"][(target, subset, "p1_in_gate")]
            o = r["top1_only"][(target, subset, "score")]
            lines.append(f"| {target} ({subset}) | {_f(t['auc'])} | {_pct(t['precision'])} | "
                         f"{_pct(t['recall'])} | {_f(g['auc'])} | {_f(o['auc'])} |")
    lines += ["", "Single components (held-out AUC, sign fixed on the fit half):", "",
              "| target | " + " | ".join(COMPONENTS) + " |", "|---" * (len(COMPONENTS) + 1)
              + "|"]
    for target in ("clear", "named"):
        for subset in ("all", "generated"):
            vals = [r["tiles"][(target, subset, c)] for c in COMPONENTS]
            lines.append(f"| {target} ({subset}) | " + " | ".join(
                f"{_f(v['auc'])}{'' if v['sign'] > 0 else ' (-)'}" for v in vals) + " |")
    cl = r["classes"]
    lines += ["", f"The judge's top class equals the class read by eye on "
              f"{_pct(cl['clear'][0])} of {cl['clear'][1]} held-out clear tiles and "
              f"{_pct(cl['plausible'][0])} of {cl['plausible'][1]} plausible ones.", ""]
    return lines


def _pooled(g: dict, names: list[str], size: int, key: str) -> float:
    return float(np.mean([g[(n, size)][key] for n in names]))


def _kappa(g: dict, names: list[str], size: int, rule: str) -> float:
    """Cohen's kappa of ``rule``'s three-level verdict against the labels', pooled."""
    want = np.concatenate([g[(n, size)]["verdicts"]["labels"] for n in names])
    got = np.concatenate([g[(n, size)]["verdicts"][rule] for n in names])
    return cohen_kappa(want, got)


def _partial_recall(g: dict, names: list[str], size: int, rule: str) -> float:
    hits = sum(g[(n, size)][f"{rule}_partial_hits"] for n in names)
    total = sum(g[(n, size)]["label_partials"] for n in names)
    return hits / total if total else float("nan")


def section_grids(r: dict) -> list[str]:
    """The grid rule, the partial threshold and the agreement tables (held-out tiles)."""
    g, gf, rule, m = r["grids"], r["grids_fit"], SHIPPED_RULE, r["model"]
    names = [n for n in [*r["ls"].names, "mixture"] if (n, GRID_SIZES[0]) in g]
    rules = (*SCORE_RULES, *OLD_RULES)
    curve = r["hint_curve"]
    lines = ["## 4. Grids: the rubric decision", "",
             "Rule (labels): a grid a TA sees (16 or 20 tiles) **passes when at least 2 tiles "
             "are clear and at least a quarter (4 of 16, 5 of 20) are clear or plausible; it "
             "fails when fewer than 2 are clear and fewer than a quarter even suggest an "
             "object** (\"blobs with at most one clear tile\"; a TA's \"mostly blobs, at most "
             "1-3 tiles hint at an object\"); **it is partial otherwise** (a quarter suggest an "
             "object but fewer than 2 are clear, or 2 are clear but too few others are "
             "plausible). A set of 64, 256 or 512 uses the "
             "same shares as a 16-tile grid (1/8 clear, 1/4 clear or plausible).", "",
             f"{N_GRIDS} sets per source and size, drawn from the *held-out* tiles (without "
             "replacement where the pool is large enough, else with replacement) and from "
             "mixtures of two generated sources in random proportions. Verdicts of the new "
             "score: `hinted` (shipped: `grader.scoring.recognizable.count_level`) passes on "
             "the counts of clear and named tiles and calls partial when a quarter of the "
             "tiles have p_named >= threshold_hint; `thresholded` is the same with "
             "threshold_hint = threshold_named (the rule shipped before); `expected` compares "
             "the sums of p_clear and p_named with the counts needed; `probability` passes "
             "when P(pass) under independent tiles is at least 0.5. `old_score`: the old "
             "score with the rule shipped before. Today: `today_rubric` is the judge's "
             "confident-fraction rule (bootstrap lower bound of the recognized fraction >= "
             "pass_fraction, collapse and near-copy checks left out); `today_counts` puts "
             "today's per-tile flag into the count rule.", "",
             "### The partial threshold, chosen on the fit half", "",
             f"The same sets drawn from the *fit* half (out-of-fold predictions), all sizes: "
             f"Cohen's kappa of the three-level verdict of `hinted` against the labels' "
             f"verdict, pooled over the (source, size) cells, for each threshold_hint from "
             f"0.1 up to threshold_named ({_f(m.threshold_named)}); ties go to the higher "
             f"value. Kappa, not plain agreement: most cells are all fail, so plain "
             f"agreement is highest for a rule that never calls partial (the choice by mean "
             f"agreement shipped before took the highest threshold and called 0.3% of the "
             f"label-partial 16-tile grids partial). Chosen: **threshold_hint = "
             f"{_f(m.hint_threshold)}** (the old score's own curve would choose "
             f"{_f(r['old_hint'])}).", "",
             "| threshold_hint | " + " | ".join(_f(t, 3) for t, *_ in curve[::2]) + " |",
             "|---" * (len(curve[::2]) + 1) + "|",
             "| fit-half kappa | " + " | ".join(_f(k, 3) for _, k, _ in curve[::2]) + " |",
             "| fit-half agreement | " + " | ".join(_pct(a) for *_, a in curve[::2]) + " |",
             "",
             "Fit-half grids (out-of-fold), three-level agreement pooled:", "",
             "| size | " + " | ".join(rules) + " |", "|---" * (len(rules) + 1) + "|"]
    fnames = [n for n in [*r["ls"].names, "mixture"] if (n, GRID_SIZES[0]) in gf]
    for size in GRID_SIZES:
        lines.append(f"| {size} | " + " | ".join(_pct(_pooled(gf, fnames, size, k))
                                                 for k in rules) + " |")
    lines += ["", "### Held-out grids", "",
              "Agreement with the label verdict (all three levels; the `today` rules only "
              "pass or fail, so they can never match a partial), all sources and mixtures "
              "pooled; `partial recall`: the share of label-partial sets the rule calls "
              "partial:", "",
              "| size | sets | label pass rate | label partial rate | " + " | ".join(rules)
              + f" | `{rule}`: pass vs not | old_score: pass vs not | `{rule}` partial recall"
              " | old_score partial recall |", "|---" * (len(rules) + 8) + "|"]
    for size in GRID_SIZES:
        rows = [g[(n, size)] for n in names]
        lines.append(f"| {size} | {sum(v['n'] for v in rows)} | "
                     f"{_pct(_pooled(g, names, size, 'label_pass'))} | "
                     f"{_pct(_pooled(g, names, size, 'label_partial'))} | " + " | ".join(
                         _pct(_pooled(g, names, size, k)) for k in rules) + " | "
                     f"{_pct(_pooled(g, names, size, rule + '_pass_agree'))} | "
                     f"{_pct(_pooled(g, names, size, 'old_score_pass_agree'))} | "
                     f"{_pct(_partial_recall(g, names, size, rule))} | "
                     f"{_pct(_partial_recall(g, names, size, 'old_score'))} |")
    kappas = {x: ", ".join(f"{_f(_kappa(g, names, s, x))} ({s})" for s in GRID_SIZES)
              for x in (rule, "old_score")}
    lines += ["", f"Cohen's kappa of the three-level verdict, pooled: `{rule}` {kappas[rule]}; "
              f"`old_score` {kappas['old_score']}."]
    lines += ["", f"Per source: agreement of `{rule}` (label partial rate / `{rule}` partial "
              "rate) and, after the bar, of `old_score` (its partial rate):", "",
              "| source | " + " | ".join(str(s) for s in GRID_SIZES) + " | old: "
              + " | ".join(str(s) for s in GRID_SIZES) + " |",
              "|---" * (2 * len(GRID_SIZES) + 1) + "|"]
    for n in names:
        ours = [f"{_pct(g[(n, s)][rule])} ({_pct(g[(n, s)]['label_partial'])}/"
                f"{_pct(g[(n, s)][rule + '_partial'])})" for s in GRID_SIZES]
        prev = [f"{_pct(g[(n, s)]['old_score'])} ({_pct(g[(n, s)]['old_score_partial'])})"
                for s in GRID_SIZES]
        lines.append(f"| {n} | " + " | ".join(ours) + " | " + " | ".join(prev) + " |")
    single = [n for n in names if n != "mixture"]
    base = {s: _pooled(g, single, s, "source_rate") for s in GRID_SIZES[:2]}
    ours = {s: _pooled(g, single, s, rule) for s in GRID_SIZES[:2]}
    lines += ["", "A verdict that knew each source's label rates but not its tiles (always the "
              "source's most frequent level) would agree on "
              + " and ".join(f"{_pct(base[s])} ({s} tiles)" for s in base)
              + f" of the single-source sets; `{rule}` agrees on "
              + " and ".join(f"{_pct(ours[s])}" for s in ours)
              + " of the same sets. Beating that needs the score to tell, inside one grid, "
              "which of the tiles are the plausible ones."]
    worst = min(g.items(), key=lambda kv: kv[1][rule])
    lines += ["", f"Lowest agreement of `{rule}`: {_pct(worst[1][rule])} on {worst[0][0]} at "
              f"{worst[0][1]} images (label partial rate {_pct(worst[1]['label_partial'])}, "
              f"pass rate {_pct(worst[1]['label_pass'])}). The misses sit on sources whose "
              "share of clear-or-plausible tiles is close to the quarter the rule needs: "
              "whether a drawn grid reaches 4 of 16 is then close to a coin flip that the "
              "per-tile probabilities cannot call tile by tile, so no rule on this score "
              "(not even `probability`) comes near agreement on those sources.", ""]
    return lines


def write_report(r: dict, path: Path = OUT_MD) -> None:
    """Write the markdown report from the study's results."""
    head = ["# Recognizability of generated tiles: eye-read labels, a fitted score, grids", "",
            "Generated by `nice -n 10 .venv/bin/python -m reference.calibrate_recognizable` "
            f"({r['seconds']:.0f} s); every number below comes from that run. Inputs: "
            "`reference/labels/` (tiles: `python -m reference.labels.make_sheets tiles`, "
            "re-read subset: `... make_sheets retest`; extra generators: `python -m "
            "reference.labels.train_sources alice|wide`; labels by eye, protocol in "
            "`reference/labels/PROTOCOL.md`). Output: the assignment's `judge/realism.npz` "
            f"({r['asset_size'] / 2**20:.2f} MiB).", ""]
    body = (section_labels(r) + section_score(r) + section_tiles(r) + section_grids(r))
    path.write_text("\n".join(head + body) + "\n")


def main(argv: list[str] | None = None) -> int:
    """Run the study, ship the fitted score and write the report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=SEED, help="split and grid seed")
    parser.add_argument("--labels", type=Path, default=LABELS, help="label set folder")
    parser.add_argument("--report", type=Path, default=OUT_MD, help="markdown report to write")
    parser.add_argument("--asset", type=Path, default=None,
                        help="asset to write (default: the assignment's judge/realism.npz)")
    parser.add_argument("--max-pca", type=int, default=MAX_PCA_SHIPPED,
                        help="most principal components the shipped score may use (default "
                             f"{MAX_PCA_SHIPPED}; see MAX_PCA_SHIPPED)")
    args = parser.parse_args(argv)
    args.asset = args.asset or get_assignment().judge.realism
    r = run_study(args.seed, args.labels, args.max_pca)
    save_realism(r["model"], args.asset)
    r["asset_size"] = args.asset.stat().st_size
    write_report(r, args.report)
    summary = {k: r["tiles"][(k, "all", "score")]["auc"] for k in ("clear", "named")}
    print(json.dumps({"kappa": r["agreement"]["kappa"], "heldout_auc": summary,
                      "report": str(args.report)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
