"""Benchmark the history-plot reader on plots made by ``make_history_plots``.

Run::

    python -m reference.plots.evaluate_plot_reader runs/plots/bench [--hints code|none]

For every image it reads the plot and scores three things:

* identification: the series read as fake accuracy is the true fake line (same axes, and its
  colour is nearest the fake line's among the axes' lines); images without a fake line
  (a loss-only figure) must give ``ok=False``;
* value error: each recovered column is compared with the true curve *as drawn in that
  column*: the plotted polyline sampled at 16 points across the column's width, and their
  median (for 10,000 steps in 800 columns that is the median of the ~12 steps there, a
  single dip does not move it); the per-plot error is the median absolute difference;
* trend verdict: ``grader.stats.trend.fake_accuracy_trend`` with the rubric's thresholds and the
  pass/partial/fail rule of the training_progress scorer, on the recovered values and on the
  true plotted values (per step, or per epoch for per-epoch plots); also against the true
  per-step history when the plot shows per-epoch means.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from grader.errors import UsageError
from grader.intake.figures.plots import plot_hints_from_code, read_history_plot
from grader.intake.figures.plots.raster import MAX_SIDE
from grader.rubric import Rubric, RubricItem, load_rubric
from grader.stats.trend import (
    TrendStats,
    fake_accuracy_trend,
    final_distance_probes,
    trend_decision,
)

#: points sampled across one pixel column of the true polyline
SAMPLES_PER_COLUMN = 16
#: a verdict is borderline within this of a final-level threshold ...
LEVEL_MARGIN = 0.03
#: ... or with a trend p-value within this factor of alpha
P_FACTOR = 3.0
#: a read colour this close (0..255) to the fake line's also counts when alpha-blended
COLOUR_SLACK = 40.0


def trend_status(t: TrendStats, item: RubricItem, alpha: float) -> str:
    """pass / partial / fail of a fake-accuracy trend: the scorer's own decision
    (``grader.stats.trend.trend_decision``, without the scoring stack)."""
    return trend_decision(t, item.threshold("settled_distance"),
                          item.threshold("max_final_distance"), alpha)[0]


def verdicts_within(t: TrendStats | None, low: float, high: float, item: RubricItem,
                    alpha: float) -> set[str]:
    """Every verdict the final level could give anywhere in [low, high] (the reading's level
    interval), the rest of the trend statistics as read."""
    if t is None or not np.isfinite(low) or not np.isfinite(high):
        return {"none"}
    edges = (item.threshold("settled_distance"), item.threshold("max_final_distance"))
    return {trend_status(replace(t, final_distance=d), item, alpha)
            for d in final_distance_probes(low, high, edges)}


def trend_of(values: np.ndarray, item: RubricItem) -> TrendStats | None:
    """``fake_accuracy_trend`` with the rubric's settings (None when too short)."""
    try:
        return fake_accuracy_trend(values,
                                   peak_search_fraction=item.threshold("peak_search_fraction"),
                                   smooth_fraction=item.threshold("smooth_fraction"),
                                   n_bins=int(item.threshold("trend_bins")),
                                   tail_fraction=item.threshold("tail_fraction"))
    except ValueError:
        return None


def verdict(values: np.ndarray, item: RubricItem, alpha: float) -> str:
    """The grader's verdict on a fake-accuracy curve ('none' when too short)."""
    t = trend_of(values, item)
    return "none" if t is None else trend_status(t, item, alpha)


def borderline(t: TrendStats | None, item: RubricItem, alpha: float) -> bool:
    """A reading whose verdict a small error could flip: its final level within
    ``LEVEL_MARGIN`` of a distance threshold, or its trend p-value near ``alpha``."""
    if t is None:
        return True
    edges = (item.threshold("settled_distance"), item.threshold("max_final_distance"))
    near_level = any(abs(t.final_distance - e) < LEVEL_MARGIN for e in edges)
    near_p = alpha / P_FACTOR <= t.p_distance <= alpha * P_FACTOR
    return near_level or near_p


def reference_columns(pixel_x: np.ndarray, scale: float, fx: np.ndarray, fy: np.ndarray,
                      x_px: tuple[float, float]) -> np.ndarray:
    """True value drawn in each image column: median of the polyline across the column.

    Args:
        pixel_x: column indices (original image pixels; a reduced image's column covers
            ``scale`` of them).
        scale: original pixels per column read.
        fx, fy: the plotted data.
        x_px: (a, b) with image x = a * data x + b (continuous, pixel i spans [i, i+1)).

    Returns:
        One value per column; NaN outside the data's x range.
    """
    a, b = x_px
    order = np.argsort(fx)
    px = a * fx[order] + b
    ys = fy[order]
    offs = (np.arange(SAMPLES_PER_COLUMN) + 0.5) / SAMPLES_PER_COLUMN * scale
    starts = pixel_x - (scale - 1) / 2.0
    pts = starts[:, None] + offs[None, :]
    vals = np.interp(pts, px, ys, left=np.nan, right=np.nan)
    out = np.full(len(pixel_x), np.nan)
    ok = np.isfinite(vals).any(axis=1)
    out[ok] = np.nanmedian(vals[ok], axis=1)
    return out


def oracle_agreement(folder: Path, records: list[Path], item: RubricItem,
                     alpha: float) -> dict[str, float]:
    """Verdict agreement of a perfect reader, as a ceiling for the real one.

    The true plotted curve is sampled across each pixel column of its axes (as
    ``reference_columns``), reduced to the column's median or mean, resampled at the plotted
    points, and judged; agreement with the verdict on the true numbers shows what the
    drawing itself loses.
    """
    agree: dict[str, list[bool]] = {"median": [], "mean": []}
    for path in records:
        record = json.loads(path.read_text())
        image = next((im for im in record["images"] if im["fake"]), None)
        if image is None:
            continue
        with np.load(path.with_suffix(".npz"), allow_pickle=False) as npz:
            fx, fy = npz["fake_x"].astype(float), npz["fake_y"].astype(float)
        a, b = image["fake"]["x_px"]
        cols = np.arange(int(np.ceil(a * fx.min() + b)), int(a * fx.max() + b))
        if len(cols) < 2:
            continue
        pts = cols[:, None] + (np.arange(SAMPLES_PER_COLUMN) + 0.5)[None, :] / SAMPLES_PER_COLUMN
        vals = np.interp(pts, a * fx + b, fy)
        xs = (cols + 0.5 - b) / a
        grid = np.arange(int(np.ceil(fx.min())), int(fx.max()) + 1)
        truth = verdict(fy, item, alpha)
        for name, col in (("median", np.median(vals, axis=1)), ("mean", vals.mean(axis=1))):
            agree[name].append(verdict(np.interp(grid, xs, col), item, alpha) == truth)
    return {k: float(np.mean(v)) if v else float("nan") for k, v in agree.items()}


def _identified(reading: Any, image: dict[str, Any], scale: float) -> bool:
    """The read fake series is the true fake line."""
    fake = reading.fake
    truth = image["fake"]
    if fake is None or truth is None:
        return False
    ax = image["axes"][truth["axes"]]
    x0, y0, x1, y1 = ax["bbox"]
    bx = reading.panels[reading.fake_panel].bbox
    cx, cy = (bx[0] + bx[2]) / 2, (bx[1] + bx[3]) / 2
    if not (x0 - 3 <= cx <= x1 + 3 and y0 - 3 <= cy <= y1 + 3):
        return False
    read = np.array([int(fake.color[i:i + 2], 16) for i in (1, 3, 5)], float)
    dists = [np.abs(read - np.array(line["color"]) * 255).max() for line in ax["lines"]]
    nearest = int(np.argmin(dists))
    return nearest == truth["line"] or dists[truth["line"]] <= min(dists) + 1e-9


def evaluate_image(folder: Path, record: dict[str, Any], image: dict[str, Any],
                   arrays: dict[str, np.ndarray], hints: Any, item: RubricItem,
                   alpha: float) -> dict[str, Any]:
    """Read one image and score it against its truth."""
    t0 = time.process_time()
    reading = read_history_plot(folder / image["file"], hints)
    cpu = time.process_time() - t0
    res: dict[str, Any] = {"style": record["style"], "file": image["file"], "ok": reading.ok,
                           "reason": reading.reason, "cpu_s": cpu, "wall_s": reading.seconds,
                           "has_fake": image["fake"] is not None,
                           "confidence": reading.confidence, "behaviour": record["behaviour"]}
    if image["fake"] is None:
        res["false_positive"] = reading.ok
        return res
    scale = max(1, -(-max(reading.width, reading.height) // MAX_SIDE))
    res["identified"] = bool(reading.ok and _identified(reading, image, scale))
    fx, fy = arrays["fake_x"].astype(float), arrays["fake_y"].astype(float)
    res["verdict_true"] = verdict(fy, item, alpha)
    res["verdict_steps"] = verdict(arrays["fake_accuracy"].astype(float), item, alpha)
    if not res["identified"]:
        return res
    fake = reading.fake
    px = np.array(fake.pixel_x, float)
    ref = reference_columns(px, scale, fx, fy, tuple(image["fake"]["x_px"]))
    y = np.array(fake.y)
    hidden = np.array(fake.hidden, bool)
    ok = np.isfinite(ref)
    err = np.abs(y - ref)[ok]
    unc = np.array(fake.uncertainty)[ok]
    res.update({
        "mae": float(np.median(err)) if len(err) else float("nan"),
        "mae_visible": float(np.median(err[~hidden[ok]])) if (~hidden[ok]).any() else float("nan"),
        "mean_abs": float(np.mean(err)) if len(err) else float("nan"),
        "within_uncertainty": float(np.mean(err <= unc)) if len(err) else float("nan"),
        "error_estimate": reading.error, "hidden_fraction": fake.hidden_fraction,
        "verdict_read": verdict(np.array(fake.points) if fake.points else y, item, alpha),
        "borderline": borderline(trend_of(np.array(fake.points) if fake.points else y, item),
                                 item, alpha),
        "verdict_uncertain": len(verdicts_within(
            trend_of(np.array(fake.points) if fake.points else y, item),
            *fake.level_interval(item.threshold("tail_fraction"))[1:], item, alpha)) > 1,
        "verdict_columns": verdict(y, item, alpha)})
    return res


#: where the rubric has lived while the package is being restructured, tried in turn
RUBRIC_FALLBACKS = ("grader/assignments/cifar10_dcgan/rubric.toml", "rubric/cifar10_dcgan.toml",
                    "grader/assets/rubric/cifar10_dcgan.toml")


def load_trend_rubric(path: Path | None) -> Rubric:
    """The rubric: ``path``, else the packaged default, else a known location in the repo."""
    if path is not None:
        return load_rubric(path)
    try:
        return load_rubric()
    except UsageError:
        root = Path(__file__).resolve().parents[2]
        for rel in RUBRIC_FALLBACKS:
            if (root / rel).is_file():
                return load_rubric(root / rel)
        raise


def summarize(results: list[dict[str, Any]]) -> dict[str, Any]:
    """Rates and medians over a list of image results."""
    with_fake = [r for r in results if r["has_fake"]]
    without = [r for r in results if not r["has_fake"]]
    ident = [r for r in with_fake if r.get("identified")]
    maes = [r["mae"] for r in ident if np.isfinite(r.get("mae", np.nan))]
    agree = [r["verdict_read"] == r["verdict_true"] for r in ident]
    agree_all = [r.get("verdict_read") == r["verdict_true"] for r in with_fake]
    agree_steps = [r["verdict_read"] == r["verdict_steps"] for r in ident]
    certain = [r for r in ident if not r["verdict_uncertain"]]
    firm = [r for r in ident if not r["borderline"]]
    agree_firm = [r["verdict_read"] == r["verdict_true"] for r in firm]
    return {
        "images": len(results), "with_fake": len(with_fake),
        "read_ok": float(np.mean([r["ok"] for r in with_fake])) if with_fake else float("nan"),
        "identified": float(len(ident) / len(with_fake)) if with_fake else float("nan"),
        "false_positive": (float(np.mean([r["false_positive"] for r in without]))
                           if without else float("nan")),
        "n_without_fake": len(without),
        "mae_median": float(np.median(maes)) if maes else float("nan"),
        "mae_p90": float(np.percentile(maes, 90)) if maes else float("nan"),
        "verdict_agree": float(np.mean(agree)) if agree else float("nan"),
        "verdict_agree_all": float(np.mean(agree_all)) if agree_all else float("nan"),
        "verdict_agree_steps": float(np.mean(agree_steps)) if agree_steps else float("nan"),
        "borderline": float(1 - len(firm) / len(ident)) if ident else float("nan"),
        "verdict_agree_firm": float(np.mean(agree_firm)) if agree_firm else float("nan"),
        "uncertain": float(1 - len(certain) / len(ident)) if ident else float("nan"),
        "verdict_agree_certain": (float(np.mean([r["verdict_read"] == r["verdict_true"]
                                                 for r in certain]))
                                  if certain else float("nan")),
        "within_uncertainty": (float(np.nanmedian([r["within_uncertainty"] for r in ident]))
                               if ident else float("nan")),
        "cpu_ms_median": float(np.median([r["cpu_s"] for r in results]) * 1000),
        "cpu_ms_p90": float(np.percentile([r["cpu_s"] for r in results], 90) * 1000),
    }


def _row(name: str, s: dict[str, Any]) -> str:
    def pct(v: float) -> str:
        return "-" if not np.isfinite(v) else f"{100 * v:.1f}%"

    def num(v: float) -> str:
        return "-" if not np.isfinite(v) else f"{v:.4f}"

    return (f"| {name} | {s['with_fake']} | {pct(s['identified'])} | {num(s['mae_median'])} | "
            f"{num(s['mae_p90'])} | {pct(s['verdict_agree'])} | {pct(s['borderline'])} | "
            f"{pct(s['verdict_agree_firm'])} | {pct(s['uncertain'])} | "
            f"{pct(s['verdict_agree_certain'])} | "
            f"{pct(s['false_positive']) if s['n_without_fake'] else '-'} | "
            f"{s['cpu_ms_median']:.0f} |")


def report(results: list[dict[str, Any]]) -> str:
    """Markdown table: overall, then per style."""
    head = ("| style | images with fake | fake identified | median abs err | p90 | verdict "
            "agrees | borderline | verdict agrees (not borderline) | uncertain | verdict agrees "
            "(not uncertain) | false positive (no fake) | CPU ms |\n"
            "|---|---|---|---|---|---|---|---|---|---|---|---|")
    by_style: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in results:
        by_style[r["style"]].append(r)
    rows = [_row("**all**", summarize(results))]
    rows += [_row(s, summarize(rs)) for s, rs in sorted(by_style.items())]
    return head + "\n" + "\n".join(rows)


def behaviour_line(results: list[dict[str, Any]]) -> str:
    """Verdict agreement / median abs error / uncertain share by latent behaviour."""
    by: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in results:
        if r["has_fake"]:
            by[r["behaviour"]].append(r)
    parts = []
    for name, rs in sorted(by.items(), key=lambda kv: -len(kv[1])):
        s = summarize(rs)
        parts.append(f"{name} {100 * s['verdict_agree']:.1f}% / {s['mae_median']:.3f} "
                     f"({s['with_fake']} plots, {100 * s['uncertain']:.0f}% uncertain, "
                     f"{100 * s['verdict_agree_certain']:.1f}% of the rest)")
    return "By behaviour (verdict agreement / median abs error): " + "; ".join(parts)


def main(argv: list[str] | None = None) -> int:
    """Command line: ``DIR [--hints code|none] [--json OUT] [--limit N]``."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder", type=Path, help="output folder of make_history_plots")
    ap.add_argument("--hints", choices=("code", "none"), default="code",
                    help="give the reader hints parsed from each style's code, or none")
    ap.add_argument("--json", type=Path, default=None, help="write per-image results here")
    ap.add_argument("--limit", type=int, default=0, help="read only the first N plots")
    ap.add_argument("--rubric", type=Path, default=None, help="rubric TOML (default: packaged)")
    ap.add_argument("--oracle", action="store_true",
                    help="only report the verdict agreement of a perfect column reader")
    args = ap.parse_args(argv)
    records = sorted(args.folder.glob("plot_*.json"))
    if not records:
        print(f"No plots found in '{args.folder}': run make_history_plots first.",
              file=sys.stderr)
        return 1
    if args.limit:
        records = records[:args.limit]
    rubric = load_trend_rubric(args.rubric)
    item, alpha = rubric.item("training_progress"), rubric.threshold("alpha")
    if args.oracle:
        ceiling = oracle_agreement(args.folder, records, item, alpha)
        print(f"verdict agreement of a perfect reader of per-column medians: "
              f"{100 * ceiling['median']:.1f}%, of per-column means: {100 * ceiling['mean']:.1f}%")
        return 0
    results = []
    for path in records:
        record = json.loads(path.read_text())
        with np.load(path.with_suffix(".npz"), allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
        hints = plot_hints_from_code(record["source"]) if args.hints == "code" else None
        for image in record["images"]:
            results.append(evaluate_image(args.folder, record, image, arrays, hints, item,
                                          alpha))
    if args.json is not None:
        args.json.write_text(json.dumps(results, indent=1, default=float))
    print(f"{len(records)} plots, {len(results)} images, hints: {args.hints}\n")
    print(report(results))
    s = summarize(results)
    print(f"\nverdict on the recovered curve vs on the per-step history (per-epoch plots "
          f"included): {100 * s['verdict_agree_steps']:.1f}%; columns whose error is within "
          f"the reported uncertainty (median over plots): {100 * s['within_uncertainty']:.1f}%; "
          f"CPU per image: median {s['cpu_ms_median']:.0f} ms, p90 {s['cpu_ms_p90']:.0f} ms")
    print("\n" + behaviour_line(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
