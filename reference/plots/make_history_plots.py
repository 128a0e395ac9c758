"""Render the synthetic history-plot benchmark: plot images with their ground truth.

Run::

    python -m reference.plots.make_history_plots --out runs/plots/bench --n 500 --seed 0

For plot ``i`` it writes ``plot_iiii_fK.png`` (one per figure the style draws), ``plot_iiii.json``
(style, settings, where every axes and line landed in each image, which line is the fake
accuracy) and ``plot_iiii.npz`` (the per-step history and the plotted fake-accuracy arrays).
Styles are taken in turn, so every style gets n / len(STYLES) plots.
"""

from __future__ import annotations

import argparse
import inspect
import io
import json
import sys
import warnings
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.colors import to_rgb  # noqa: E402

from reference.plots.histories import (  # noqa: E402
    KEYS,
    SimulatedHistory,
    epoch_means,
    reference_history,
    simulate_history,
)
from reference.plots.styles import STYLES, Style, style_source_function  # noqa: E402

#: share of plots drawn from the grader's real baseline history
REFERENCE_SHARE = 0.04
#: inline notebook PNGs pad the tight box by this much (matplotlib's default)
PAD_INCHES = 0.1


def _series_of(y: np.ndarray, sim: SimulatedHistory) -> str:
    """Name of the history key a plotted line shows ('' for anything else)."""
    for key in KEYS:
        raw = sim.history[key]
        for cand in (raw, epoch_means(raw, sim.steps_per_epoch)):
            if len(cand) == len(y) and np.allclose(cand, y, equal_nan=True):
                return key
    return ""


def _render(fig: plt.Figure, tight: bool) -> tuple[bytes, tuple[float, float]]:
    """PNG bytes of a figure, and the display -> image offset (x of the left, y of the top)."""
    fig.canvas.draw()
    dpi = fig.dpi
    buf = io.BytesIO()
    if tight:
        box = fig.get_tightbbox(fig.canvas.get_renderer()).padded(PAD_INCHES)
        fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight", pad_inches=PAD_INCHES,
                    facecolor=fig.get_facecolor())
        offset = (box.x0 * dpi, box.y1 * dpi)
    else:
        fig.savefig(buf, format="png", dpi=dpi, facecolor=fig.get_facecolor())
        offset = (0.0, fig.bbox.height)
    return buf.getvalue(), offset


def _to_image(xy: np.ndarray, offset: tuple[float, float]) -> np.ndarray:
    """Display coordinates (origin bottom left) -> image pixel coordinates (origin top left)."""
    xy = np.atleast_2d(xy)
    return np.column_stack([xy[:, 0] - offset[0], offset[1] - xy[:, 1]])


def _tick_labels(axis: Any, ax: plt.Axes, offset: tuple[float, float]) -> list[dict[str, Any]]:
    """Text and image box of each drawn tick label of an axis (the OCR's ground truth)."""
    lo, hi = sorted(axis.get_view_interval())
    out = []
    for tick in axis.get_major_ticks():
        label = tick.label1
        if not (label.get_visible() and tick.get_visible() and label.get_text()):
            continue
        if not lo - 1e-9 * abs(hi - lo) <= tick.get_loc() <= hi + 1e-9 * abs(hi - lo):
            continue
        bb = label.get_window_extent()
        (x0, y1), (x1, y0) = _to_image(np.array([[bb.x0, bb.y0], [bb.x1, bb.y1]]), offset)
        out.append({"text": label.get_text(), "value": float(tick.get_loc()),
                    "bbox": [float(x0), float(y0), float(x1), float(y1)]})
    return out


def _figure_truth(fig: plt.Figure, sim: SimulatedHistory,
                  offset: tuple[float, float]) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Where each axes and line of a drawn figure is in its image, and the fake line's data."""
    axes_out, arrays = [], {}
    for ai, ax in enumerate(fig.axes):
        bb = ax.get_window_extent()
        (x0, y1), (x1, y0) = _to_image(np.array([[bb.x0, bb.y0], [bb.x1, bb.y1]]), offset)
        lines = []
        for li, line in enumerate(ax.get_lines()):
            x, y = (np.asarray(v, dtype=float) for v in line.get_data())
            name = _series_of(y, sim)
            lines.append({"order": li, "series": name, "color": list(to_rgb(line.get_color())),
                          "label": str(line.get_label()), "n_points": len(y)})
            if name == "fake_accuracy":
                # linear axes: two points give the data -> image pixel map exactly
                p = _to_image(ax.transData.transform([[0.0, 0.0], [1.0, 1.0]]), offset)
                arrays = {"fake_x": x, "fake_y": y}
                axes_fake = {"axes": ai, "line": li, "color": list(to_rgb(line.get_color())),
                             "x_px": [float(p[1, 0] - p[0, 0]), float(p[0, 0])],
                             "y_px": [float(p[1, 1] - p[0, 1]), float(p[0, 1])],
                             "per_epoch": len(y) != len(sim.history["fake_accuracy"])}
                lines[-1]["fake"] = axes_fake
        axes_out.append({"bbox": [float(x0), float(y0), float(x1), float(y1)],
                         "ylim": [float(v) for v in ax.get_ylim()],
                         "xlim": [float(v) for v in ax.get_xlim()], "lines": lines,
                         "yticks": _tick_labels(ax.yaxis, ax, offset),
                         "xticks": _tick_labels(ax.xaxis, ax, offset)})
    fake = next((ln["fake"] for a in axes_out for ln in a["lines"] if "fake" in ln), None)
    for a in axes_out:
        for ln in a["lines"]:
            ln.pop("fake", None)
    return {"axes": axes_out, "fake": fake}, arrays


def draw_plot(style: Style, sim: SimulatedHistory, dpi: int) -> list[tuple[bytes, dict, dict]]:
    """Draw one history in one style; return (PNG, truth, arrays) per figure drawn."""
    plt.close("all")
    rc = {**style.rc, "figure.dpi": dpi, "savefig.dpi": dpi}
    out = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # missing Hangul glyphs, show() on Agg
        with plt.style.context(style.sheet or "default"), matplotlib.rc_context(rc):
            style.draw(dict(sim.history), sim.steps_per_epoch)
            for num in plt.get_fignums():
                fig = plt.figure(num)
                png, offset = _render(fig, style.tight)
                truth, arrays = _figure_truth(fig, sim, offset)
                out.append((png, truth, arrays))
    plt.close("all")
    return out


def make_plot(index: int, seed: int, out: Path, styles: list[Style]) -> dict[str, Any]:
    """Simulate, draw and write plot ``index``; return its truth record."""
    rng = np.random.default_rng([seed, index])
    style = styles[index % len(styles)]
    sim = reference_history() if rng.random() < REFERENCE_SHARE else simulate_history(rng)
    dpi = int(rng.choice(style.dpis))
    stem = f"plot_{index:04d}"
    images = []
    fake_arrays: dict[str, np.ndarray] = {}
    for k, (png, truth, arrays) in enumerate(draw_plot(style, sim, dpi)):
        name = f"{stem}_f{k}.png"
        (out / name).write_bytes(png)
        images.append({"file": name, **truth})
        if arrays:
            fake_arrays = {**arrays, "fake_image": np.array([k])}
    source = inspect.getsource(style_source_function(style))
    record = {"index": index, "style": style.name, "sheet": style.sheet, "dpi": dpi,
              "tight": style.tight, "per_epoch": style.per_epoch, "behaviour": sim.behaviour,
              "batch": sim.batch, "steps_per_epoch": sim.steps_per_epoch,
              "n_steps": len(sim.history["fake_accuracy"]), "images": images, "source": source}
    np.savez_compressed(out / f"{stem}.npz", **{k: np.asarray(v, dtype=np.float32)
                                                for k, v in sim.history.items()},
                        **fake_arrays)
    (out / f"{stem}.json").write_text(json.dumps(record, indent=1))
    return record


def main(argv: list[str] | None = None) -> int:
    """Command line: ``--out DIR --n N --seed S [--styles a,b]``."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, required=True, help="folder to write the plots to")
    ap.add_argument("--n", type=int, default=500, help="number of plots")
    ap.add_argument("--seed", type=int, default=0, help="seed of all randomness")
    ap.add_argument("--styles", default="", help="comma-separated style names (default: all)")
    args = ap.parse_args(argv)
    names = [s for s in args.styles.split(",") if s] or list(STYLES)
    unknown = [s for s in names if s not in STYLES]
    if unknown:
        print(f"unknown style(s) {unknown}; known: {', '.join(STYLES)}", file=sys.stderr)
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    styles = [STYLES[s] for s in names]
    for i in range(args.n):
        make_plot(i, args.seed, args.out, styles)
        if (i + 1) % 50 == 0:
            print(f"{i + 1}/{args.n} plots", file=sys.stderr)
    print(f"wrote {args.n} plots in {len(styles)} styles to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
