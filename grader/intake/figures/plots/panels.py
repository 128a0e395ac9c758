"""Find the axes (panels) of a figure image: framed by spines, filled, or outlined by a grid."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from grader.intake.figures.plots.raster import Raster, channel_gap, differs, mode_colour

#: smallest panel, as a share of the image side and in pixels
MIN_SHARE_W, MIN_SHARE_H = 0.12, 0.08
MIN_W, MIN_H = 50, 30
#: a row or column is a straight line across the panel when this share of it is set
LINE_SHARE = 0.9
#: an axes face colour is pale and close to the figure's (ggplot, seaborn, bmh, Solarize)
MAX_FACE_SATURATION, MAX_FACE_LUMA_GAP = 40, 70


@dataclass
class Panel:
    """One axes rectangle in working pixels (inclusive bounds)."""

    box: tuple[int, int, int, int]
    """x0, y0, x1, y1 of the outer edge (spine lines or the edge of the filled face)."""
    inner: tuple[int, int, int, int]
    """The plotting area inside the spines."""
    face: np.ndarray
    """Axes face colour, shape (3,)."""
    filled: bool
    """True when found by a face colour different from the figure's."""
    framed: bool = True
    """Straight uniform lines (spines, grid) cross it, or it is a filled face; False for a
    box found only as a large connected blob."""


def _luma(c: np.ndarray) -> float:
    return float(0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2])


def _big_boxes(mask: np.ndarray, w: int, h: int) -> list[tuple[int, int, int, int, float]]:
    """Bounding boxes (x0, y0, x1, y1, fill share) of the large connected parts of a mask."""
    labels, _ = ndimage.label(mask, structure=np.ones((3, 3)))
    out = []
    for i, sl in enumerate(ndimage.find_objects(labels), start=1):
        if sl is None:
            continue
        bh, bw = sl[0].stop - sl[0].start, sl[1].stop - sl[1].start
        if bw < max(MIN_W, MIN_SHARE_W * w) or bh < max(MIN_H, MIN_SHARE_H * h):
            continue
        share = float((labels[sl] == i).mean())
        out.append((sl[1].start, sl[0].start, sl[1].stop - 1, sl[0].stop - 1, share))
    return out


def _face_candidate(r: Raster, diff: np.ndarray) -> np.ndarray | None:
    """The commonest non-background colour when it covers enough area to be an axes face."""
    sub = r.rgb[::2, ::2][diff[::2, ::2]]
    if len(sub) < 0.05 * diff[::2, ::2].size:
        return None
    c = mode_colour(sub)
    share = float((np.abs(sub - c).max(axis=1) <= 3).mean() * len(sub) / diff[::2, ::2].size)
    sat = int(c.max() - c.min())
    if share < 0.05 or sat > MAX_FACE_SATURATION:
        return None
    if abs(_luma(c) - _luma(r.background)) > MAX_FACE_LUMA_GAP:
        return None
    return c


def _edge_line(profile: np.ndarray, colours: np.ndarray | None, along: int, reverse: bool,
               share: float) -> int:
    """Index of the line nearest one end of a profile that ``_trim`` snaps to (the end
    itself when none qualifies). ``along`` is 1 for rows, 0 for columns."""
    n = len(profile)
    reach = max(6, int(0.2 * n))
    start = n - 1 if reverse else 0
    hits = np.flatnonzero(profile >= share)
    dist = np.abs(hits - start)
    order = np.argsort(dist)
    hits, dist = hits[order], dist[order]
    if len(hits) == 0 or dist[0] >= reach:
        return start
    if colours is None:
        return int(hits[0])
    lines = colours[hits] if along == 1 else colours[:, hits].transpose(1, 0, 2)
    lines = lines.astype(np.float32)
    uniform = lines.std(axis=1).max(axis=-1) < 25
    med = np.median(lines, axis=1)
    inside = (dist > 2) & (dist < n - reach)  # well inside, not the opposite spine
    for i in np.flatnonzero((dist < reach) & uniform):
        deeper = inside & (dist > dist[i] + 2)
        if np.any(np.abs(med[deeper] - med[i]).max(axis=1) <= 6):
            return start  # a grid line, not a spine: the box is the mesh
        return int(hits[i])
    return start


def _trim(mask: np.ndarray, rgb: np.ndarray | None, box: tuple[int, int, int, int],
          share: float) -> tuple[int, int, int, int]:
    """Move each edge of a box in to the first line across it where ``mask`` covers ``share``.

    A component's box also holds what is attached to the axes: outward tick marks, and text
    joined to it by antialiased pixels. With ``rgb`` given (spine search) the line must be one
    uniform colour that is not that of a grid line further in: a grid without spines
    (fivethirtyeight) keeps the box of its mesh. An edge with no such line near it stays.
    """
    x0, y0, x1, y1 = box
    for _ in range(2):  # a box first widened by text narrows, then the other edges snap
        sub = mask[y0:y1 + 1, x0:x1 + 1]
        rows, cols = sub.mean(axis=1), sub.mean(axis=0)
        colours = None if rgb is None else rgb[y0:y1 + 1, x0:x1 + 1]
        t = _edge_line(rows, colours, 1, False, share)
        b = _edge_line(rows, colours, 1, True, share)
        left = _edge_line(cols, colours, 0, False, share)
        right = _edge_line(cols, colours, 0, True, share)
        x0, y0, x1, y1 = x0 + left, y0 + t, x0 + right, y0 + b
    return x0, y0, x1, y1


def _straight_lines(rgb: np.ndarray, diff: np.ndarray, box: tuple[int, int, int, int]) -> int:
    """How many rows and columns of the box are one uniform colour across it (spines, grid)."""
    x0, y0, x1, y1 = box
    sub, d = rgb[y0:y1 + 1, x0:x1 + 1], diff[y0:y1 + 1, x0:x1 + 1]
    n = 0
    for axis in (1, 0):
        full = np.flatnonzero(d.mean(axis=axis) >= LINE_SHARE)[:40]
        lines = sub[full] if axis == 1 else sub[:, full].transpose(1, 0, 2)
        if len(full):
            n += int(np.sum(lines.astype(np.float32).std(axis=1).max(axis=-1) < 25))
    return n


def _inner(r: Raster, box: tuple[int, int, int, int], face: np.ndarray) -> tuple[int, int, int, int]:
    """Shrink a box past its spine lines: edge rows/columns mostly not of the face colour.

    A curve pressed against one edge (``ylim(0, 1)``) must not pass for a thick spine, so each
    edge is shrunk at most one pixel more than the median edge.
    """
    x0, y0, x1, y1 = box

    def width(line_at) -> int:
        for step in range(6):
            if float((np.abs(line_at(step) - face).max(axis=1) <= 12).mean()) > 0.5:
                return step
        return 6

    widths = [width(lambda s: r.rgb[y0:y1 + 1, x0 + s]), width(lambda s: r.rgb[y0 + s, x0:x1 + 1]),
              width(lambda s: r.rgb[y0:y1 + 1, x1 - s]), width(lambda s: r.rgb[y1 - s, x0:x1 + 1])]
    cap = int(np.median(widths)) + 1
    left, top, right, bottom = (min(v, cap) for v in widths)
    return x0 + left, y0 + top, x1 - right, y1 - bottom


def _face_of(r: Raster, box: tuple[int, int, int, int]) -> np.ndarray:
    """Commonest colour just inside the box edges (curves rarely reach the margins)."""
    x0, y0, x1, y1 = box
    band = max(3, min(10, (y1 - y0) // 12))
    ring = np.concatenate([
        r.rgb[y0 + 3:y0 + band, x0 + 3:x1 - 2].reshape(-1, 3),
        r.rgb[y1 - band:y1 - 2, x0 + 3:x1 - 2].reshape(-1, 3),
        r.rgb[y0 + 3:y1 - 2, x0 + 3:x0 + band].reshape(-1, 3),
        r.rgb[y0 + 3:y1 - 2, x1 - band:x1 - 2].reshape(-1, 3)])
    return mode_colour(ring) if len(ring) else r.background


def _contains(a: tuple[int, ...], b: tuple[int, ...], tol: int = 4) -> bool:
    return a[0] - tol <= b[0] and a[1] - tol <= b[1] and b[2] <= a[2] + tol and b[3] <= a[3] + tol


def _reading_order(panels: list[Panel]) -> list[Panel]:
    """Top to bottom by rows of overlapping panels, then left to right."""
    rest = sorted(panels, key=lambda p: p.box[1])
    out: list[Panel] = []
    while rest:
        top = rest[0]
        row = [p for p in rest if p.box[1] <= (top.box[1] + top.box[3]) / 2]
        out.extend(sorted(row, key=lambda p: p.box[0]))
        rest = [p for p in rest if p not in row]
    return out


def find_panels(r: Raster, diff: np.ndarray | None = None) -> list[Panel]:
    """Locate every axes of the figure.

    Two searches: a pale face colour that differs from the figure's (its connected area after
    closing the grid lines that cut it), and connected parts of everything that differs from
    the figure's background (spines with the curves and ticks inside, or a grid's mesh). A
    candidate must be a filled face or show straight uniform lines across it, which rules out
    photographs and noise.

    Args:
        r: the decoded image.
        diff: ``differs(r.rgb, r.background)`` when the caller has it.

    Returns:
        Panels in reading order (top to bottom, left to right); empty when none.
    """
    h, w = r.rgb.shape[:2]
    diff = differs(r.rgb, r.background) if diff is None else diff
    found: list[Panel] = []
    face = _face_candidate(r, diff)
    if face is not None:
        fmask = channel_gap(r.rgb, face) <= 6
        fmask = ndimage.binary_closing(fmask, structure=np.ones((5, 5)))
        for x0, y0, x1, y1, share in _big_boxes(fmask, w, h):
            box = _trim(fmask, None, (x0, y0, x1, y1), 0.6)
            if share > 0.5 and box[2] - box[0] >= MIN_W and box[3] - box[1] >= MIN_H:
                found.append(Panel(box, box, face, True, True))
    for x0, y0, x1, y1, _ in _big_boxes(diff, w, h):
        if any(_contains(p.box, (x0, y0, x1, y1)) for p in found):
            continue  # a cell of a filled face between its grid lines
        box = _trim(diff, r.rgb, (x0, y0, x1, y1), LINE_SHARE)
        if any(_contains(p.box, box) or _contains(box, p.box) for p in found):
            continue
        if box[2] - box[0] < MIN_W or box[3] - box[1] < MIN_H:
            continue
        # no straight line across it (a grid hidden under thick curves, or a photograph):
        # kept only if its tick labels read
        checked = _straight_lines(r.rgb, diff, box) >= 2
        pface = _face_of(r, box)
        found.append(Panel(box, _inner(r, box, pface), pface, False, checked))
    found = [p for p in found if not any(q is not p and _contains(q.box, p.box, 0)
                                         and q.box != p.box for q in found)]
    return _reading_order(found)
