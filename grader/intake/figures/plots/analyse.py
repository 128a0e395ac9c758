"""One panel, taken apart: its line colours, its legend, and a curve for each colour."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import ndimage

from grader.intake.figures.plots.colours import find_colours, label_pixels
from grader.intake.figures.plots.curves import Curve, extract_curve
from grader.intake.figures.plots.legend import Legend, find_legend
from grader.intake.figures.plots.panels import Panel
from grader.intake.figures.plots.raster import Raster
from grader.intake.figures.plots.records import AxisMap
from grader.intake.figures.plots.ticks import Label, TextLayer

#: DejaVu digits are this share of the font size tall
DIGIT_HEIGHT_EM = 0.729
#: a colour close to the text colour with few pixels is legend or annotation text
TEXT_COLOUR_DISTANCE = 60
#: a legend entry missed by the legend's box lies within this many font sizes of it
LEGEND_MARGIN_EM = 1.5


@dataclass
class PanelWork:
    """Everything read from one panel, in working pixels."""

    panel: Panel
    ymap: AxisMap
    xmap: AxisMap | None
    colours: list[np.ndarray] = field(default_factory=list)
    """Series colours (grid lines and text removed)."""
    curves: list[Curve | None] = field(default_factory=list)
    legend: Legend | None = None
    legend_inside: bool = True
    run: tuple[int, int] | None = None
    """First and last column (panel-area pixels) any curve covers."""
    em: float = 10.0
    notes: list[str] = field(default_factory=list)
    masks: list[np.ndarray] = field(default_factory=list, repr=False)
    """Visible pixels of each colour (panel area)."""
    legend_mask: np.ndarray | None = field(default=None, repr=False)

    def refine(self, order: dict[int, int]) -> None:
        """Second pass over the curves once the drawing order is known.

        Only lines drawn later (``order``: colour -> position among the panel's plot calls;
        a colour of unknown position counts as later) can hide a curve; and where one is
        wholly hidden it follows the course of the line over it.
        """
        h, w = self.masks[0].shape if self.masks else (0, 0)
        courses = [_full_rows(c, w) for c in self.curves]
        legend = self.legend_mask if self.legend_mask is not None else np.zeros((h, w), bool)
        for k, vis in enumerate(self.masks):
            later = [j for j in range(len(self.masks)) if j != k and (
                k not in order or j not in order or order[j] > order[k])]
            lines = np.zeros((h, w), bool)
            for j in later:
                lines |= self.masks[j]
            lines &= ~vis
            self.curves[k] = extract_curve(vis, lines, legend, self.run,
                                           others=[(self.masks[j], courses[j]) for j in later])

    def values(self, rows: np.ndarray) -> np.ndarray:
        """Data values of panel-area rows."""
        return self.ymap.slope * (rows + self.panel.inner[1]) + self.ymap.intercept

    def ranges(self) -> list[tuple[float, float]]:
        """5th and 95th percentile of each curve's values."""
        out = []
        for c in self.curves:
            if c is None or not np.isfinite(c.rows).any():
                out.append((np.nan, np.nan))
                continue
            v = self.values(c.rows[np.isfinite(c.rows)])
            lo, hi = np.percentile(v, [5, 95])
            out.append((float(min(lo, hi)), float(max(lo, hi))))
        return out


def _full_rows(curve: Curve | None, width: int) -> np.ndarray:
    """A curve's row per panel column (NaN where it has none)."""
    out = np.full(width, np.nan)
    if curve is not None:
        out[curve.columns] = curve.rows
    return out


def _drop_swatches(mask: np.ndarray, region: np.ndarray, em: float) -> np.ndarray:
    """``mask`` without its connected pieces that lie wholly inside ``region`` and are shaped
    like a legend swatch (:func:`_dash_shaped`)."""
    if not (mask & region).any():
        return mask
    labels, n = ndimage.label(mask, structure=np.ones((3, 3), bool))
    if n == 0:
        return mask
    outside = np.bincount(labels[mask & ~region], minlength=n + 1)
    drop = np.zeros(n + 1, bool)
    for i, sl in enumerate(ndimage.find_objects(labels), start=1):
        if sl is None or outside[i]:
            continue
        drop[i] = _dash_shaped(sl[0].stop - sl[0].start, sl[1].stop - sl[1].start, em)
    return mask & ~drop[labels] if drop.any() else mask


def _dash_shaped(tall: int, wide: int, em: float) -> bool:
    """A bounding box shaped like a legend swatch: at most a third of the font size tall,
    one to four font sizes long."""
    return bool(tall <= max(3.0, em / 3) and em <= wide <= 4 * em)


def _is_dash(mask: np.ndarray, em: float) -> bool:
    """Pixels whose bounding box is shaped like a legend swatch (:func:`_dash_shaped`)."""
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    if not len(rows):
        return False
    return _dash_shaped(rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1, em)


def _drop_edge_dashes(mask: np.ndarray, em: float) -> np.ndarray:
    """``mask`` without its connected pieces shaped like a dash (``_is_dash``) that lie wholly
    before or after the columns of its other pieces (with the specks, pieces of fewer pixels
    than the font size, beyond them): a legend swatch that no legend box covered, not the
    start or end of the curve. Specks alone (the curve's bits poking out under a legend)
    stay."""
    if not mask.any():
        return mask
    labels, n = ndimage.label(mask, structure=np.ones((3, 3), bool))
    if n < 2:
        return mask
    sizes = np.bincount(labels.ravel(), minlength=n + 1)
    kinds, first, last = {}, {}, {}
    for i, sl in enumerate(ndimage.find_objects(labels), start=1):
        piece = labels[sl] == i
        first[i], last[i] = sl[1].start, sl[1].stop - 1
        kinds[i] = ("dash" if _is_dash(piece, em) else "speck" if sizes[i] < em else "data")
    data = [i for i in kinds if kinds[i] == "data"]
    if not data:
        return mask
    start, end = min(first[i] for i in data), max(last[i] for i in data)
    # a swatch may touch the first column of the curve (the legend's text between them
    # can read as bits of line): it has to begin well before it
    slack = em / 2
    before = [i for i in kinds if kinds[i] == "dash" and first[i] < start - slack
              and last[i] <= start + 2]
    after = [i for i in kinds if kinds[i] == "dash" and last[i] > end + slack
             and first[i] >= end - 2]
    if not before and not after:
        return mask
    drop = np.zeros(n + 1, bool)
    if before:
        cut = min(first[i] for i in before)
        drop[[i for i in kinds if kinds[i] != "data" and first[i] >= cut
              and last[i] <= start + 2]] = True
    if after:
        cut = max(last[i] for i in after)
        drop[[i for i in kinds if kinds[i] != "data" and last[i] <= cut
              and first[i] >= end - 2]] = True
    return mask & ~drop[labels]


def _text_colour(r: Raster, layer: TextLayer, labels: list[Label]) -> np.ndarray:
    """Colour of the tick-label text: the most inked pixels of the labels."""
    px = []
    for lb in labels:
        x0, y0, x1, y1 = lb.box
        ink = layer.ink[y0:y1 + 1, x0:x1 + 1]
        if ink.size:
            px.append(r.rgb[y0:y1 + 1, x0:x1 + 1][ink >= 0.8 * ink.max()])
    if not px:
        return np.zeros(3, np.int16) if r.background.mean() > 128 else np.full(3, 255, np.int16)
    return np.median(np.concatenate(px), axis=0).astype(np.int16)


def _em(labels: list[Label]) -> float:
    """Font size in pixels from the labels' digit height."""
    heights = [lb.box[3] - lb.box[1] + 1 for lb in labels if lb.value is not None]
    return float(np.median(heights)) / DIGIT_HEIGHT_EM if heights else 10.0


def _outside_legend(r: Raster, p: Panel, colours: list[np.ndarray], text_rgb: np.ndarray,
                    em: float, candidates: tuple[str, ...]) -> Legend | None:
    """A legend placed right of the axes (``bbox_to_anchor=(1.01, 1)``)."""
    x0 = p.box[2] + 2
    x1 = min(r.rgb.shape[1], x0 + int(0.45 * r.rgb.shape[1]))
    if x1 - x0 < 3 * em:
        return None
    region = r.rgb[p.box[1]:p.box[3] + 1, x0:x1]
    first, _ = label_pixels(region, r.background, colours)
    legend = find_legend(region, first, list(range(len(colours))), r.background, text_rgb, em,
                         candidates)
    if legend is None:
        return None
    b = legend.box
    legend.box = (b[0] + x0 - p.inner[0], b[1] + p.box[1] - p.inner[1],
                  b[2] + x0 - p.inner[0], b[3] + p.box[1] - p.inner[1])
    return legend


def analyse_panel(r: Raster, layer: TextLayer, p: Panel, ymap: AxisMap, xmap: AxisMap | None,
                  ylabels: list[Label], candidates: tuple[str, ...]) -> PanelWork:
    """Find the series colours, the legend and the curves of one calibrated panel.

    Args:
        r: the image.
        layer: text outside the panels (for the text colour).
        p: the panel.
        ymap, xmap: its axis maps (working pixels).
        ylabels: its y tick labels (font size and text colour).
        candidates: label strings the legend text is compared with.

    Returns:
        The panel's work record.
    """
    work = PanelWork(p, ymap, xmap)
    x0, y0, x1, y1 = p.inner
    sub = r.rgb[y0:y1 + 1, x0:x1 + 1]
    h, w = sub.shape[:2]
    work.em = _em(ylabels)
    text_rgb = _text_colour(r, layer, ylabels)
    found = find_colours(sub, p.face, max(25, int(0.0004 * h * w)))
    grid = [c for c in found if c.grid]
    if grid:
        work.notes.append(f"{len(grid)} grid or reference line colour(s) ignored")
    # text colour with few pixels is the legend's or an annotation's text, not a series
    cols = [c.rgb for c in found if not c.grid and not (
        np.abs(c.rgb - text_rgb).max() < TEXT_COLOUR_DISTANCE and c.count < 8 * work.em ** 2)]
    first, second = label_pixels(sub, p.face, cols)
    # text antialiasing can pass for two lines' overlap: the legend sees single colours only
    single = np.where(second < 0, first, -1).astype(np.int8)
    legend = find_legend(sub, single, list(range(len(cols))), p.face, text_rgb, work.em,
                         candidates)
    if legend is None:
        legend = _outside_legend(r, p, cols, text_rgb, work.em, candidates)
        work.legend_inside = legend is None
    work.legend = legend
    mask = np.zeros((h, w), bool)
    if legend is not None and work.legend_inside:
        lx0, ly0, lx1, ly1 = legend.box
        mask[max(0, ly0):max(0, ly1 + 1), max(0, lx0):max(0, lx1 + 1)] = True
    keep = []
    for k in range(len(cols)):
        if int((((first == k) | (second == k)) & ~mask).sum()) >= max(25, int(0.0004 * h * w)):
            keep.append(k)  # not just the legend's swatch
    visible = {k: ((first == k) | (second == k)) & ~mask for k in keep}
    if legend is not None and work.legend_inside:
        # an entry whose text was not read lies outside the legend's box, near it: a piece
        # of line wholly there, shaped like a dash, is its swatch, not data (it would stretch the curves' run)
        g = int(round(LEGEND_MARGIN_EM * work.em))
        lx0, ly0, lx1, ly1 = legend.box
        near = np.zeros((h, w), bool)
        near[max(0, ly0 - g):max(0, ly1 + g + 1), max(0, lx0 - g):max(0, lx1 + g + 1)] = True
        for k in list(visible):
            visible[k] = _drop_swatches(visible[k], near, work.em)
    for k in list(visible):  # legends not found at all still leave swatches
        visible[k] = _drop_edge_dashes(visible[k], work.em)
    any_line = np.zeros((h, w), bool)
    for v in visible.values():
        any_line |= v
    cols_any = np.flatnonzero(any_line.any(axis=0))
    work.run = (int(cols_any[0]), int(cols_any[-1])) if len(cols_any) else None
    # first pass: any other line may lie over this one (the drawing order is not known yet)
    for k in keep:
        work.colours.append(cols[k])
        work.curves.append(extract_curve(visible[k], any_line & ~visible[k], mask, work.run))
    work.masks = [visible[k] for k in keep]
    work.legend_mask = mask
    if legend is not None:
        remap = {k: i for i, k in enumerate(keep)}
        for e in legend.entries:
            e.colour = remap.get(e.colour, -1)
    return work
