"""``read_history_plot``: a history plot image in, its curves as numbers out (the pipeline)."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from grader.intake.figures.plots.analyse import PanelWork, analyse_panel
from grader.intake.figures.plots.identify import (
    Naming,
    PanelSeries,
    looks_like_accuracy,
    name_series,
    pick_fake,
)
from grader.intake.figures.plots.names import VOCABULARY
from grader.intake.figures.plots.panels import find_panels
from grader.intake.figures.plots.raster import (
    DIFF_THRESHOLD,
    Raster,
    UnreadableImage,
    load_raster,
)
from grader.intake.figures.plots.records import (
    SOURCE_DEFAULT,
    SOURCE_HINTS,
    SOURCE_LEGEND,
    AxisMap,
    PanelReading,
    PlotHints,
    PlotReading,
    SeriesReading,
)
from grader.intake.figures.plots.ticks import read_axes, text_layer

#: most points ``SeriesReading.points`` is resampled to (a longer x axis is not steps)
MAX_POINTS = 1_000_000
#: a curve whose clear columns mostly (75%) paint at least this half-span (rows) is dense
#: data, even where the x ticks would give it fewer points than columns (a polyline through
#: per-epoch points is a thin line: half-spans of 0.5-1.5 rows)
DENSE_HALF_SPAN = 2.25
#: base confidence that the series is the right line, by how it was named
ID_CONFIDENCE = {SOURCE_LEGEND: 0.93, SOURCE_HINTS: 0.88, SOURCE_DEFAULT: 0.55}


def _candidates(hints: PlotHints | None) -> tuple[str, ...]:
    """Legend strings to compare with: the student's labels and names first, then the
    vocabulary."""
    own = [] if hints is None else [t for a in hints.axes for s in a.series
                                    for t in (s.label, s.name) if t]
    return tuple(dict.fromkeys(own + list(VOCABULARY)))


def _to_original(m: AxisMap, scale: int) -> AxisMap:
    """An axis map of working pixels re-expressed in original image pixels."""
    slope = m.slope / scale
    return AxisMap(slope=slope, intercept=m.intercept - slope * (scale - 1) / 2,
                   n_ticks=m.n_ticks, residual_px=m.residual_px * scale, labels=list(m.labels))


def _series_reading(work: PanelWork, k: int, naming: Naming, scale: int) -> SeriesReading:
    curve = work.curves[k]
    rgb = np.clip(np.round(work.colours[k]), 0, 255).astype(int)
    name = naming.names.get(k, "")
    legend_text = next((e.text for e in (work.legend.entries if work.legend else [])
                        if e.colour == k and e.text), "")
    out = SeriesReading(name=name, color="#{:02x}{:02x}{:02x}".format(*rgb),
                        source=naming.sources.get(k, ""), legend_text=legend_text)
    if curve is None:
        return out
    x0 = work.panel.inner[0]
    cols_w = curve.columns + x0
    out.pixel_x = [int(c * scale + (scale - 1) // 2) for c in cols_w]
    out.y = [float(v) for v in work.values(curve.rows)]
    slope = abs(work.ymap.slope)
    unc = np.sqrt((curve.half_span * slope) ** 2 + (work.ymap.residual_px * slope) ** 2)
    out.uncertainty = [float(u) for u in np.maximum(unc, 0.5 * slope)]
    guessed = curve.guessed if curve.guessed is not None else np.zeros(len(curve.columns))
    out.level_uncertainty = [float(u) for u in
                             0.5 * guessed * slope + max(work.ymap.residual_px, 0.5) * slope]
    out.hidden = [bool(b) for b in curve.hidden]
    n = max(1, len(curve.columns))
    out.hidden_fraction = float(curve.hidden.sum() / n)
    out.partly_hidden_fraction = float(curve.partly_hidden.sum() / n)
    out.hidden_handling = "interpolated" if curve.hidden.any() else "none"
    out.pixel_count = curve.pixel_count
    lo, hi = work.run if work.run is not None else (curve.columns[0], curve.columns[-1])
    span = max(1, hi - lo)
    out.x_fraction = [float((c - lo) / span) for c in curve.columns]
    out.y_mean = list(out.y)
    if work.xmap is not None:
        out.x = [float(work.xmap.value(c)) for c in cols_w]
        x = np.array(out.x)
        n_points = abs(x[-1] - x[0]) + 1
        k = n_points / max(1, len(x))
        out.points_per_column = float(k)
        w = min(1.0, 2.0 / k) if k > 1 else 0.0
        y, mid = np.array(out.y), work.values(curve.mid_rows)
        out.y_mean = [float(v) for v in y + (mid - y) * w]
        clear = ~curve.hidden & ~curve.partly_hidden
        spans = curve.half_span[clear] if clear.any() else curve.half_span[~curve.hidden]
        # fewer plotted points than columns, yet most columns paint a band, not a thin line
        # between vertices: per-step values drawn against an x axis in epochs
        dense = k < 1 and len(spans) > 0 and float(np.percentile(spans, 25)) >= DENSE_HALF_SPAN
        out.points = None if dense else _at_points(x, np.array(out.y_mean),
                                                   curve.rows[~curve.hidden])
    return out


def _at_points(x: np.ndarray, y: np.ndarray, rows: np.ndarray) -> list[float] | None:
    """Values at each integer x between the curve's ends (plots index points 0, 1, 2, ... or
    epochs 1, 2, ...).

    None when that would be fewer than 2 or absurdly many points, or when the curve bends in
    far more columns than integer x gives it vertices: per-step values drawn against an x
    axis in epochs.
    """
    order = np.argsort(x)
    x, y = x[order], y[order]
    first, last = int(np.ceil(x[0] - 0.25)), int(np.floor(x[-1] + 0.25))
    if last - first < 1 or last - first > MAX_POINTS:
        return None
    if len(rows) > 8:
        bends = float(np.mean(np.abs(np.diff(rows, 2)) > 1.0))
        if bends > 2.0 * (last - first + 1) / len(x) + 0.1:
            return None
    grid = np.arange(first, last + 1, dtype=float)
    return [float(v) for v in np.interp(grid, x, y)]


def _panel_reading(index: int, work: PanelWork, naming: Naming, r: Raster) -> PanelReading:
    s = r.scale
    x0, y0, x1, y1 = work.panel.inner
    legend_bbox = None
    if work.legend is not None:
        lx0, ly0, lx1, ly1 = work.legend.box
        legend_bbox = [int((lx0 + x0) * s), int((ly0 + y0) * s), int((lx1 + x0 + 1) * s - 1),
                       int((ly1 + y0 + 1) * s - 1)]
    return PanelReading(
        index=index, bbox=[x0 * s, y0 * s, (x1 + 1) * s - 1, (y1 + 1) * s - 1],
        y_axis=_to_original(work.ymap, s),
        x_axis=_to_original(work.xmap, s) if work.xmap is not None else None,
        series=[_series_reading(work, k, naming, s) for k in range(len(work.colours))],
        legend_bbox=legend_bbox, palette=naming.palette, notes=list(work.notes))


def _confidence(work: PanelWork, naming: Naming, k: int, fake: SeriesReading) -> float:
    """How likely the fake-accuracy reading is the right line, read right (0..1)."""
    source = naming.sources.get(k, "")
    conf = ID_CONFIDENCE.get(source, 0.3)
    predicted = naming.predicted.get(k)
    if source == SOURCE_LEGEND and predicted == fake.name:
        conf = 0.97  # the legend and the plotting order agree
    elif source == SOURCE_LEGEND and predicted and predicted != fake.name:
        conf = 0.8  # they disagree: the legend is trusted, less surely
    if source != SOURCE_LEGEND and naming.distance > 25:
        conf *= 0.85  # the predicted colour was only roughly the one seen
    conf *= 1.0 if work.ymap.n_ticks >= 3 else 0.8
    conf *= 0.8 if work.ymap.residual_px > 2 else 1.0
    vals = np.asarray(fake.y)
    if len(vals) and not looks_like_accuracy(*np.percentile(vals, [5, 95])):
        conf *= 0.3
    conf *= 1.0 - 0.6 * fake.hidden_fraction
    return float(np.clip(conf, 0.0, 1.0))


def _read(image: np.ndarray | Path | str | bytes, hints: PlotHints | None) -> PlotReading:
    r = load_raster(image)
    out = PlotReading(ok=False, width=r.width, height=r.height)
    panels = find_panels(r, r.gap > DIFF_THRESHOLD)
    if not panels:
        out.reason = "no axes found"
        return out
    layer = text_layer(r, panels)
    cands = _candidates(hints)
    works: list[PanelWork] = []
    for p in panels:
        ymap, xmap, ylabels, _ = read_axes(layer, p, r.rgb.shape[:2])
        if ymap is None:
            if p.framed:
                out.notes.append(f"a box at {p.box} has no readable y tick labels; skipped")
            continue
        works.append(analyse_panel(r, layer, p, ymap, xmap, ylabels, cands))
    if not works:
        out.reason = ("tick labels unreadable" if any(p.framed for p in panels)
                      else "no axes found")
        return out
    series = []
    for w in works:
        entries = [e for e in (w.legend.entries if w.legend else []) if e.text and e.colour >= 0]
        series.append(PanelSeries(w.colours, w.panel.face, {e.colour: e.text for e in entries},
                                  {e.colour: e.score for e in entries}, w.ranges()))
    namings, _ = name_series(series, hints)
    for w, n in zip(works, namings):
        w.refine(n.order)
    out.panels = [_panel_reading(i, w, n, r) for i, (w, n) in enumerate(zip(works, namings))]
    if not any(w.colours for w in works):
        out.reason = "no data series found"
        return out
    picked = pick_fake(series, namings)
    if picked is None:
        out.reason = "no fake-accuracy series identified"
        return out
    p, k = picked
    fake = out.panels[p].series[k]
    if not fake.y:
        out.reason = "the fake-accuracy series has no readable points"
        return out
    out.ok, out.fake_panel = True, p
    out.error = float(np.median(fake.uncertainty))
    out.confidence = _confidence(works[p], namings[p], k, fake)
    return out


def read_history_plot(image: np.ndarray | Path | str | bytes,
                      hints: PlotHints | None = None) -> PlotReading:
    """Recover the training curves drawn in a history plot image.

    Finds each axes, maps pixels to data with the tick labels (template OCR of matplotlib's
    DejaVu digits), separates the lines by colour, names them from the legend text or from the
    code's plotting order (``hints``; without them the lesson's layout is assumed), and reads
    a value per pixel column. Never raises: any failure is ``ok=False`` with a reason.

    Args:
        image: an RGB(A)/grey array, a path to an image file, or encoded image bytes.
        hints: from ``plot_hints_from_code`` on the student's plotting code, if available.

    Returns:
        The reading; ``ok`` when a fake-accuracy curve was found and calibrated.
    """
    start = time.perf_counter()
    try:
        reading = _read(image, hints)
    except UnreadableImage as exc:
        reading = PlotReading(ok=False, reason=str(exc))
    except Exception as exc:  # a reader of untrusted images must not crash the grader
        reading = PlotReading(ok=False, reason=f"the plot could not be read "
                                               f"({type(exc).__name__}: {exc})")
    reading.seconds = time.perf_counter() - start
    return reading
