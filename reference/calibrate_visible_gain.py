"""Calibrate item 3's ``min_visible_gain`` on pairs of grids built from eye-labelled tiles.

The rubric's truth (a TA's reading, ``reference/corpus/truth.py``): an improvement is shown
better when the after grid's eye-label value (clear = 1, plausible = 0.5, per 16 tiles) is at
least :data:`LABEL_GAIN` above the before grid's, and its item-1 level is not lower. The
grader cannot see labels: it compares the expected tile values ``p_clear + (p_named -
p_clear) / 2`` of the shipped per-tile score (:mod:`grader.judge.realism`) with a bootstrap
interval (:func:`grader.scoring.improvement.compare_sets`), and calls the after grid better
when the interval lies above zero and the gain is at least ``min_visible_gain``. The score
is fitted to be right on average, but it shrinks differences (a plausible tile rarely gets a
high ``p_named``), so the gain it needs is not the labels' 2.5: it is measured here.

Pairs of 16-tile grids are drawn from the generated tiles of the label set (real test
images are copies and never earn item 3), with label mixes spread from blobs to the best
generated grids the label set holds: each grid draws a named share ``q`` and a clear share,
then tiles of each label at random. The threshold is chosen on pairs from the fit half of
the tiles (the half the score was fitted on, ``calibrate_recognizable.split_by_source``) and
reported on pairs from the held-out half.

Usage::

    nice -n 10 .venv/bin/python -m reference.calibrate_visible_gain

Writes ``reference/visible_gain_calibration.md``; the chosen value goes into the rubric's
``min_visible_gain`` by hand, with that file as its source.
"""

from __future__ import annotations

import argparse
import hashlib
import time
from pathlib import Path

import numpy as np

from grader.stats.bootstrap import bootstrap_set_difference
from reference.calibrate_recognizable import LABELS, SEED, load_label_set, split_by_source
from reference.corpus.truth import level_from_counts

ROOT = Path(__file__).resolve().parents[1]
OUT_MD = ROOT / "reference" / "visible_gain_calibration.md"
CACHE = ROOT / "runs" / "labels_cache"
LABEL_GAIN = 2.5
"""The truth's gain: label value per 16 tiles (truth.py's rule for item 3)."""
GRID = 16
N_PAIRS = 1500
"""Pairs drawn per half (plus :data:`N_EQUAL` pairs of one mix)."""
N_EQUAL = 300
N_BOOT = 2000
CANDIDATES = np.round(np.arange(0.0, 4.01, 0.1), 2)


def tile_values_of(tiles: np.ndarray) -> np.ndarray:
    """The grader's expected tile value of every tile (cached on disk by content)."""
    from grader.judge.classifier import load_judge
    from grader.judge.realism import tile_scores, tile_value

    judge = load_judge()
    m = judge.realism
    key = hashlib.sha256(b"".join(np.ascontiguousarray(a).tobytes() for a in (
        tiles, m.mean, m.scale, m.coef_clear, m.coef_named, m.real_features,
        *(() if m.pca_axes is None else (m.pca_mean, m.pca_axes))))
        + Path(judge.weights_path).read_bytes()).hexdigest()[:16]
    path = CACHE / f"visible_gain_{key}.npz"
    if path.is_file():
        with np.load(path) as z:
            return z["value"]
    s = tile_scores(judge, tiles, judge.realism)
    value = tile_value(s.p_clear, s.p_named)  # what item 3 compares
    CACHE.mkdir(parents=True, exist_ok=True)
    np.savez(path, value=value)
    return value


def draw_grid(pools: dict[int, np.ndarray], rng: np.random.Generator, q_max: float
              ) -> np.ndarray:
    """Tile ids of one grid: named share ~ U(0, q_max), a random part of it clear."""
    q = rng.uniform(0, q_max)
    n_named = rng.binomial(GRID, q)
    n_clear = rng.binomial(n_named, rng.uniform(0, 1)) if len(pools[2]) else 0
    n_clear = min(n_clear, len(pools[2]))
    n_plaus = min(n_named - n_clear, len(pools[1]))
    ids = [rng.choice(pools[2], n_clear, replace=False),
           rng.choice(pools[1], n_plaus, replace=False),
           rng.choice(pools[0], GRID - n_clear - n_plaus, replace=False)]
    return np.concatenate(ids).astype(int)


def label_of(ids: np.ndarray, level: np.ndarray) -> tuple[float, int]:
    """(label value per 16 tiles, item-1 level) of a grid."""
    lv = level[ids]
    counts = {"clear": int(np.sum(lv == 2)), "plausible": int(np.sum(lv == 1)),
              "none": int(np.sum(lv == 0))}
    value = counts["clear"] + 0.5 * counts["plausible"]
    return 16 * value / len(ids), level_from_counts(counts)


def pairs_for(mask: np.ndarray, level: np.ndarray, value: np.ndarray, seed: int) -> dict:
    """Label truth and the grader's bootstrap numbers for pairs drawn from ``mask`` tiles."""
    rng = np.random.default_rng(seed)
    pools = {k: np.nonzero(mask & (level == k))[0] for k in (0, 1, 2)}
    truth, gain, low, kind = [], [], [], []
    for i in range(N_PAIRS + N_EQUAL):
        equal = i >= N_PAIRS
        q_before = rng.uniform(0.1, 0.7)
        before = draw_grid(pools, rng, q_before)
        after = draw_grid(pools, rng, q_before if equal else rng.uniform(0.1, 0.9))
        (lb, level_b), (la, level_a) = label_of(before, level), label_of(after, level)
        truth.append(la - lb >= LABEL_GAIN - 1e-9 and level_a >= level_b)
        d = bootstrap_set_difference(value[before], value[after], lambda s: s.mean(axis=1),
                                     n_boot=N_BOOT, seed=0, ci_level=0.95)
        gain.append(16 * d.diff)
        low.append(d.ci_low)
        kind.append("equal mix" if equal else "random mixes")
    return {"truth": np.array(truth), "gain": np.array(gain), "low": np.array(low),
            "kind": np.array(kind)}


def verdict(p: dict, g: float) -> np.ndarray:
    """The grader's rule (``difference_status``): interval above 0 and the gain at least g."""
    return (p["low"] > 0) & (p["gain"] >= g - 1e-12)


def rates(p: dict, g: float, sel: np.ndarray | None = None) -> dict:
    """Agreement, false passes and missed passes of threshold ``g`` on pairs ``sel``."""
    sel = np.ones(len(p["truth"]), bool) if sel is None else sel
    t, v = p["truth"][sel], verdict(p, g)[sel]
    return {"n": int(sel.sum()), "truth_pass": float(t.mean()), "agree": float(np.mean(t == v)),
            "false_pass": float(np.mean(v & ~t)), "missed": float(np.mean(t & ~v)),
            "precision": float(np.mean(t[v])) if v.any() else float("nan")}


def choose(p: dict) -> float:
    """The candidate with the best agreement on the fit pairs (ties: the larger gain)."""
    agree = np.array([rates(p, g)["agree"] for g in CANDIDATES])
    best = np.nonzero(agree >= agree.max() - 1e-12)[0]
    return float(CANDIDATES[best[-1]])


def _pct(x: float) -> str:
    return "n/a" if x != x else f"{100 * x:.1f}%"


def render(fit: dict, held: dict, g: float, current: float, seconds: float, n_tiles: int
           ) -> str:
    lines = [
        "# Item 3: the gain the grader needs to call an improvement shown",
        "",
        f"Generated by `nice -n 10 .venv/bin/python -m reference.calibrate_visible_gain` "
        f"({seconds:.0f} s); every number below comes from that run.",
        "",
        f"Truth (`reference/corpus/truth.py`): the after grid's eye-label value (clear = 1, "
        f"plausible = 0.5, per 16 tiles) is at least {LABEL_GAIN} above the before grid's and "
        "its item-1 level is not lower. Grader: the bootstrap interval (95%, 2,000 resamples) "
        "of the expected tile value lies above 0 and the gain is at least `min_visible_gain`.",
        "",
        f"{N_PAIRS} pairs of {GRID}-tile grids with random label mixes and {N_EQUAL} pairs "
        f"drawn from one mix, from the {n_tiles} generated tiles of the label set; the "
        "threshold is chosen on the fit half's tiles and reported on the held-out half's.",
        "",
        f"**Chosen: min_visible_gain = {g:.1f}** (it was {current:.1f}, the labels' own "
        "gain, before this measurement).",
        "",
        "| tiles | min_visible_gain | pairs | truth: shown better | agreement | false pass "
        "| missed pass | precision of a pass |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, p in (("fit", fit), ("held-out", held)):
        for cand in sorted({g, current, 1.0, 1.5, 2.0}):
            r = rates(p, cand)
            lines.append(f"| {name} | {cand:.1f} | {r['n']} | {_pct(r['truth_pass'])} | "
                         f"{_pct(r['agree'])} | {_pct(r['false_pass'])} | {_pct(r['missed'])} "
                         f"| {_pct(r['precision'])} |")
    lines += ["", "Held-out pairs by kind, at the chosen threshold:", "",
              "| kind | pairs | truth: shown better | agreement | false pass | missed pass |",
              "|---|---|---|---|---|---|"]
    for kind in ("random mixes", "equal mix"):
        r = rates(held, g, held["kind"] == kind)
        lines.append(f"| {kind} | {r['n']} | {_pct(r['truth_pass'])} | {_pct(r['agree'])} | "
                     f"{_pct(r['false_pass'])} | {_pct(r['missed'])} |")
    sel = held["truth"]
    lines += ["", f"On held-out pairs the labels call better, the grader's gain has median "
              f"{np.median(held['gain'][sel]):.2f} (labels: at least {LABEL_GAIN}); on the "
              f"others, {np.median(held['gain'][~sel]):.2f}.", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--current", type=float, default=LABEL_GAIN,
                    help="the rubric's value before this run, for the report")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    ls = load_label_set(LABELS)
    level = np.array([ls.first[i][0] for i in range(len(ls.tiles))])
    generated = ls.source != ls.names.index("real_test")
    value = tile_values_of(ls.tiles)
    fit_half = split_by_source(ls.source, SEED)
    fit = pairs_for(generated & fit_half, level, value, seed=1)
    held = pairs_for(generated & ~fit_half, level, value, seed=2)
    g = choose(fit)
    OUT_MD.write_text(render(fit, held, g, args.current, time.perf_counter() - t0,
                             int(generated.sum())), encoding="utf-8")
    print(f"min_visible_gain = {g:.1f}; held-out agreement {_pct(rates(held, g)['agree'])} "
          f"(at {args.current:.1f}: {_pct(rates(held, args.current)['agree'])}); {OUT_MD}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
