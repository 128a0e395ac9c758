"""Find the tick labels around a panel, read them, and fit the pixel -> data map of each axis."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from grader.intake.figures.plots.glyphs import parse_number, read_label
from grader.intake.figures.plots.panels import Panel
from grader.intake.figures.plots.raster import Raster, channel_gap
from grader.intake.figures.plots.records import AxisMap

#: text differs from the figure background by more than this in some channel (0..255)
INK_THRESHOLD = 50
#: a label glyph correlates with its template at least this well to count
MIN_LABEL_SCORE = 0.45
#: a tick label reader: soft ink crop (0..1) -> (text, score)
LabelReader = Callable[[np.ndarray], tuple[str, float]]


@dataclass
class Label:
    """One tick label: where its ink is and what it says."""

    box: tuple[int, int, int, int]
    text: str
    score: float
    value: float | None
    centre: float
    """Pixel position along the axis (row for y labels, column for x labels)."""


@dataclass
class TextLayer:
    """Connected text-like ink outside the panels, shared by all panels of an image."""

    boxes: list[tuple[int, int, int, int]]
    ink: np.ndarray
    """Soft ink (0..1) of every pixel against the figure background."""


def text_layer(r: Raster, panels: list[Panel]) -> TextLayer:
    """Components of ink outside every panel (tick labels, titles, tick marks, legends)."""
    gap = r.gap if r.gap is not None else channel_gap(r.rgb, r.background)
    mask = gap > INK_THRESHOLD
    for p in panels:
        x0, y0, x1, y1 = p.box
        mask[y0:y1 + 1, x0:x1 + 1] = False
    labels, _ = ndimage.label(mask, structure=np.ones((3, 3)))
    boxes = [(s[1].start, s[0].start, s[1].stop - 1, s[0].stop - 1)
             for s in ndimage.find_objects(labels) if s is not None]
    return TextLayer(boxes, gap.astype(np.float32) / 255.0)


def group_lines(boxes: list[tuple[int, int, int, int]], gap: float | None = None,
                centre_tol: float | None = None) -> list[tuple[int, int, int, int]]:
    """Merge glyph boxes into text lines.

    Args:
        boxes: glyph boxes (x0, y0, x1, y1).
        gap: largest horizontal gap inside a line (default: 0.6 of the taller box).
        centre_tol: boxes join when their vertical centres are this close; default: when
            they overlap vertically by half the smaller height.

    Returns:
        One box per line.
    """
    if not boxes:
        return []
    parent = list(range(len(boxes)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    order = sorted(range(len(boxes)), key=lambda i: boxes[i][0])
    for a_i, a in enumerate(order):
        ax0, ay0, ax1, ay1 = boxes[a]
        for b in order[a_i + 1:]:
            bx0, by0, bx1, by1 = boxes[b]
            height = max(ay1 - ay0, by1 - by0) + 1
            if bx0 - ax1 > (0.6 * height if gap is None else gap):
                break  # sorted by x0: every later box starts further right
            if centre_tol is not None:
                joined = abs((ay0 + ay1) - (by0 + by1)) / 2 <= centre_tol
            else:
                overlap = min(ay1, by1) - max(ay0, by0) + 1
                joined = overlap >= 0.5 * (min(ay1 - ay0, by1 - by0) + 1)
            if joined:
                parent[find(b)] = find(a)
    groups: dict[int, list[int]] = {}
    for i in range(len(boxes)):
        groups.setdefault(find(i), []).append(i)
    return [(min(boxes[i][0] for i in g), min(boxes[i][1] for i in g),
             max(boxes[i][2] for i in g), max(boxes[i][3] for i in g)) for g in groups.values()]


def _read(layer: TextLayer, box: tuple[int, int, int, int], reader: LabelReader,
          vertical: bool) -> Label:
    x0, y0, x1, y1 = box
    crop = layer.ink[max(0, y0 - 1):y1 + 2, max(0, x0 - 1):x1 + 2]
    peak = float(crop.max())
    text, score = reader(crop / peak) if peak > 0 else ("", 0.0)
    value = parse_number(text) if score >= MIN_LABEL_SCORE else None
    centre = (y0 + y1) / 2 if vertical else (x0 + x1) / 2
    return Label(box, text, score, value, centre)


def _side_labels(layer: TextLayer, p: Panel, side: str, reader: LabelReader,
                 shape: tuple[int, int]) -> list[Label]:
    """Tick labels beside one edge of a panel: left/right (y) or bottom (x)."""
    x0, y0, x1, y1 = p.box
    h, w = shape
    pw, ph = x1 - x0, y1 - y0
    reach = max(14, int(0.05 * max(h, w)))
    cands = []
    for b in layer.boxes:
        bx0, by0, bx1, by1 = b
        bh, bw = by1 - by0 + 1, bx1 - bx0 + 1
        if bh > 0.3 * ph or bw > 0.5 * pw:
            continue
        # tick marks start at the panel's edge (within 2 pixels); labels keep a pad from it
        ymid, xmid = (by0 + by1) / 2, (bx0 + bx1) / 2
        if side == "left" and x0 - reach <= bx1 < x0 - 2 and y0 - bh <= ymid <= y1 + bh:
            cands.append(b)
        elif side == "right" and x1 + 2 < bx0 <= x1 + reach and y0 - bh <= ymid <= y1 + bh:
            cands.append(b)
        elif side == "bottom" and y1 + 2 < by0 <= y1 + reach and x0 - bw <= xmid <= x1 + bw:
            cands.append(b)
    lines = [ln for ln in group_lines(cands) if ln[3] - ln[1] >= 3]
    if not lines:
        return []
    if side == "left":
        edge = max(ln[2] for ln in lines)
        lines = [ln for ln in lines if ln[2] >= edge - 3]
    elif side == "right":
        edge = min(ln[0] for ln in lines)
        lines = [ln for ln in lines if ln[0] <= edge + 3]
    else:
        edge = min(ln[1] for ln in lines)
        lines = [ln for ln in lines if ln[1] <= edge + 3]
    return [_read(layer, ln, reader, side != "bottom") for ln in lines]


def fit_axis(labels: list[Label], vertical: bool) -> AxisMap | None:
    """Robust straight-line fit of label value against pixel position.

    Every pair of readable labels proposes a line; the one most labels agree with (within a
    third of a label's height) wins and is refitted by least squares on those labels. A y
    axis must grow upwards and an x axis rightwards; the labels used must be evenly spaced
    values, as matplotlib's tick locators make them.

    Returns:
        The map, or None when fewer than two labels agree.
    """
    good = [lb for lb in labels if lb.value is not None]
    if len(good) < 2:
        return None
    pos = np.array([lb.centre for lb in good])
    val = np.array([lb.value for lb in good], dtype=float)
    size = np.median([(lb.box[3] - lb.box[1] + 1) for lb in good])
    tol = max(1.5, size / 3)
    best: tuple[int, float, np.ndarray] | None = None
    for i in range(len(good)):
        for j in range(i + 1, len(good)):
            if val[i] == val[j] or pos[i] == pos[j]:
                continue
            slope = (val[j] - val[i]) / (pos[j] - pos[i])
            if (slope > 0) == vertical:
                continue
            pred = val[i] + slope * (pos - pos[i])
            inl = np.abs(pred - val) / abs(slope) <= tol
            score = (int(inl.sum()), -float(np.abs(pred - val)[inl].sum()))
            if best is None or score > best[:2]:
                best = (score[0], score[1], inl)
    if best is None or best[0] < 2:
        return None
    inl = best[2]
    slope, intercept = np.polyfit(pos[inl], val[inl], 1)
    vals = np.sort(val[inl])
    steps = np.diff(vals)
    if len(steps) and (steps.min() <= 0 or steps.max() > 1.5 * steps.min() + 1e-9):
        # a tick skipped by a misread is fine; uneven values are not a matplotlib axis
        ratio = steps / steps.min()
        if np.any(np.abs(ratio - np.round(ratio)) > 0.1):
            return None
    resid = float(np.max(np.abs(slope * pos[inl] + intercept - val[inl])) / abs(slope))
    used = sorted((lb for lb, k in zip(good, inl) if k), key=lambda lb: lb.centre)
    return AxisMap(slope=float(slope), intercept=float(intercept), n_ticks=int(inl.sum()),
                   residual_px=resid, labels=[lb.text for lb in used])


def read_axes(layer: TextLayer, p: Panel, shape: tuple[int, int],
              reader: LabelReader = read_label) -> tuple[AxisMap | None, AxisMap | None,
                                                         list[Label], list[Label]]:
    """Read the y labels (left, else right of the panel) and the x labels (below it).

    Returns:
        (y map, x map, y labels, x labels); a map is None when unreadable.
    """
    ylabels = _side_labels(layer, p, "left", reader, shape)
    ymap = fit_axis(ylabels, vertical=True)
    if ymap is None:
        right = _side_labels(layer, p, "right", reader, shape)
        rmap = fit_axis(right, vertical=True)
        if rmap is not None:
            ymap, ylabels = rmap, right
    xlabels = _side_labels(layer, p, "bottom", reader, shape)
    xmap = fit_axis(xlabels, vertical=False)
    return ymap, xmap, ylabels, xlabels
