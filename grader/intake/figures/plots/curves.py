"""Recover one curve from its pixels: a value per column, hidden stretches filled, error bars.

A per-step curve of 10,000 points drawn 800 pixels wide paints, in each column, the whole
range its ~12 values span (the line joins them). Each column is given one unit of weight,
spread over the rows the curve may occupy there; a column's value is the weighted median row
over a window of ``WINDOW`` columns either side. A column with one deep dip spreads its unit
thinly over a long span, so its steadier neighbours outvote it, as a per-column median of the
values would.

Where a line drawn later covers the curve, the curve may be anywhere under it: a column wholly
hidden spreads its weight over the covering run of rows; a column partly hidden extends its visible rows into the covering run by as much as
the curve's typical span lacks. The longest covering run is taken: an overlapped curve mostly
lies in the band of the line over it, and what shows of it is where it strays out (dips).
Columns hidden by the legend, or gaps, are interpolated.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

#: columns either side whose weight votes for a column's value
WINDOW = 2
#: running median over this many columns either side, after the weighted median
MEDIAN_RADIUS = 3
#: columns wider than the curve's typical span weigh (typical / span) ** this
PRECISION_POWER = 2.0
#: a partly hidden curve reaches at least this share into the run of rows covering it
EXTEND_SHARE = 0.5
#: clear columns needed to learn where a curve's value sits between its painted edges
MIN_CLEAR = 10


@dataclass
class Curve:
    """A curve in panel-area pixel coordinates (rows grow downwards)."""

    columns: np.ndarray
    """Column index of each value (panel-area pixels), contiguous."""
    rows: np.ndarray
    """Value of each column as a (fractional) row."""
    half_span: np.ndarray
    """Half the rows the curve may occupy in the column: an error bar, in rows."""
    mid_rows: np.ndarray
    """Middle of the rows the curve paints in each column (its visible span there; the value
    row where it is wholly hidden)."""
    hidden: np.ndarray
    """No pixel of this curve in the column: filled from the cover or its neighbours."""
    partly_hidden: np.ndarray
    """Some of the column's pixels touch a covering line or the legend."""
    pixel_count: int
    guessed: np.ndarray | None = None
    """Rows of the column's support that show no pixel of the curve (reached into a later
    line, or a hidden column's covering run): how much of its value is a guess."""


def _runs(flags: np.ndarray) -> list[tuple[int, int]]:
    """(start, end) of each run of True, inclusive."""
    if not flags.any():
        return []
    d = np.diff(np.concatenate([[0], flags.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(d == 1), np.flatnonzero(d == -1) - 1))


def _run_lengths(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per pixel, how many set pixels run from it upwards and downwards (itself included)."""
    h = mask.shape[0]
    up = np.zeros(mask.shape, np.int32)
    down = np.zeros(mask.shape, np.int32)
    m = mask.astype(np.int32)
    up[0] = m[0]
    for r in range(1, h):
        up[r] = (up[r - 1] + 1) * m[r]
    down[h - 1] = m[h - 1]
    for r in range(h - 2, -1, -1):
        down[r] = (down[r + 1] + 1) * m[r]
    return up, down


def _weighted_median(weights: np.ndarray, window: int) -> np.ndarray:
    """Median row of each column's window of weight (columns of unit weight or zero)."""
    w = weights
    if window > 0:
        w = ndimage.uniform_filter1d(weights, size=2 * window + 1, axis=1, mode="constant")
    cum = np.cumsum(w, axis=0)
    total = cum[-1]
    half = total / 2.0
    idx = np.argmax(cum >= half[None, :], axis=0)
    cols = np.arange(w.shape[1])
    prev = np.where(idx > 0, cum[np.maximum(idx - 1, 0), cols], 0.0)
    here = w[idx, cols]
    frac = np.where(here > 0, (half - prev) / np.maximum(here, 1e-12), 0.5)
    return np.where(total > 0, idx + frac - 0.5, np.nan)


def _cover_course(others: list[tuple[np.ndarray, np.ndarray]] | None, col: int, a: int,
                  b: int) -> float | None:
    """Row of the line that paints most of rows a..b of panel column ``col``, clipped there."""
    if not others:
        return None
    best, best_n = None, 0
    for mask, rows in others:
        n = int(mask[a:b + 1, col].sum())
        if n > best_n and np.isfinite(rows[col]):
            best, best_n = float(np.clip(rows[col], a, b)), n
    return best if best_n >= 0.5 * (b - a + 1) else None


def _by_precision(weights: np.ndarray, typical: float) -> np.ndarray:
    """Scale each column's unit of weight down by how much wider than typical it spreads: a
    column spanning a dip says little about the level the curve keeps."""
    if PRECISION_POWER == 0:
        return weights
    spread = np.maximum((weights > 0).sum(axis=0), 1).astype(np.float32)
    scale = np.minimum(1.0, max(typical, 1.0) / spread) ** PRECISION_POWER
    return weights * scale[None, :]


def _top_offset(vis: np.ndarray, clear: np.ndarray, top: np.ndarray, bottom: np.ndarray,
                typical: float, window: int) -> float | None:
    """Usual distance (rows) of a column's value below its topmost painted row, in the
    columns no other line touches, when the top edge is the steadier one (an accuracy near
    its ceiling: dips move the lowest row, not the highest); None otherwise or when too few
    columns are clear."""
    if int(clear.sum()) < MIN_CLEAR:
        return None
    w = np.where(clear[None, :], vis, False).astype(np.float32)
    w /= np.maximum(w.sum(axis=0, keepdims=True), 1.0)
    rows = _weighted_median(_by_precision(w, typical), window)
    ok = clear & np.isfinite(rows)
    if int(ok.sum()) < MIN_CLEAR:
        return None
    to_top, to_bot = rows[ok] - top[ok] + 0.5, bottom[ok] + 0.5 - rows[ok]
    d_top, d_bot = float(np.median(to_top)), float(np.median(to_bot))
    if np.median(np.abs(to_top - d_top)) >= np.median(np.abs(to_bot - d_bot)):
        return None
    return max(d_top, 0.0)


def extract_curve(visible: np.ndarray, lines: np.ndarray, legend: np.ndarray,
                  run: tuple[int, int] | None, window: int | None = None,
                  others: list[tuple[np.ndarray, np.ndarray]] | None = None) -> Curve | None:
    """Recover a curve from its visible pixels.

    Args:
        visible: (H, W) bool, pixels showing this series.
        lines: (H, W) bool, pixels of the other lines (any of them may be drawn over it).
        legend: (H, W) bool, the legend's box.
        run: first and last column of all the panel's curves (a hidden start or end of this
            one is filled up to it where covered), or None for this curve's own extent.
        window: columns either side that vote for a column's value (default ``WINDOW``).
        others: (visible mask, row per panel column) of the other lines, from a first pass:
            where this curve is wholly hidden under one of them, it is taken to run where
            that line's own (robust) course does, inside the covering run.

    Returns:
        The curve, or None when it has no pixels.
    """
    window = WINDOW if window is None else window
    present = visible.any(axis=0)
    if not present.any():
        return None
    cols = np.flatnonzero(present)
    lo, hi = int(cols[0]), int(cols[-1])
    covered = lines | legend
    if run is not None:
        cov_cols = covered.any(axis=0)
        while lo > run[0] and cov_cols[lo - 1]:
            lo -= 1
        while hi < run[1] and cov_cols[hi + 1]:
            hi += 1
    vis, lin, leg = visible[:, lo:hi + 1], lines[:, lo:hi + 1], legend[:, lo:hi + 1]
    h, n = vis.shape
    counts = vis.sum(axis=0)
    own = counts > 0
    r_idx = np.arange(h)[:, None]
    top = np.where(vis, r_idx, h).min(axis=0)
    bottom = np.where(vis, r_idx, -1).max(axis=0)
    span = np.where(own, bottom - top + 1, 0)
    near = ndimage.binary_dilation(vis, structure=np.ones((3, 1), bool)) & (lin | leg)
    partly = own & near.any(axis=0)
    clear = own & ~partly
    typical = float(np.median(span[clear])) if clear.any() else float(np.median(span[own]))

    # how far the covering run reaches above the curve's top and below its bottom
    up_len, down_len = _run_lengths(lin)
    cols_n = np.arange(n)
    up = np.where(top > 0, up_len[np.maximum(top - 1, 0), cols_n], 0)
    down = np.where(bottom + 1 < h, down_len[np.minimum(bottom + 1, h - 1), cols_n], 0)
    lack = np.maximum(0.0, typical - span)
    ext_up = np.maximum(np.minimum(up, np.where(down > 0, lack / 2, lack)), EXTEND_SHARE * up)
    ext_down = np.maximum(np.minimum(down, np.where(up > 0, lack / 2, lack)),
                          EXTEND_SHARE * down)
    d_top = _top_offset(vis, clear, top, bottom, typical, window)
    if d_top is not None:
        # covered from below only, with a steady top edge (a curve near its ceiling over a
        # lower line): the value lies its clear columns' usual distance below the top edge,
        # not halfway into the line underneath
        ext_down = np.where((down > 0) & (up == 0),
                            np.minimum(down, np.maximum(0.0, 2 * d_top - span)), ext_down)
    ext_up, ext_down = np.where(partly, ext_up, 0.0), np.where(partly, ext_down, 0.0)
    guessed = (ext_up + ext_down).astype(float)
    support = vis | (((r_idx >= top - ext_up) & (r_idx < top))
                     | ((r_idx > bottom) & (r_idx <= bottom + ext_down)))
    weights = np.where(own[None, :], support, False).astype(np.float32)
    weights /= np.maximum(weights.sum(axis=0, keepdims=True), 1.0)
    lo_row = np.where(own, top - ext_up, 0.0).astype(float)
    hi_row = np.where(own, bottom + ext_down, 0.0).astype(float)

    rows = _weighted_median(_by_precision(weights, typical), window)
    hidden = ~own
    if hidden.any():
        x = np.arange(n)
        guess = np.interp(x, x[own], rows[own])
        for c in np.flatnonzero(hidden):
            runs = _runs(lin[:, c])
            if runs:  # under another line: in its main (longest) covering run
                a, b = max(runs, key=lambda ab: (ab[1] - ab[0], -min(abs(ab[0] - guess[c]),
                                                                      abs(ab[1] - guess[c]))))
                lo_row[c], hi_row[c] = a, b
                guessed[c] = b - a + 1
                course = _cover_course(others, lo + c, a, b)
                if course is None:
                    weights[a:b + 1, c] = 1.0 / (b - a + 1)
                else:  # two overlapping lines: the hidden one goes where the covering one does
                    weights[int(round(course)), c] = 1.0
            else:  # under the legend, or a gap between markers: follow the neighbours
                weights[int(np.clip(round(guess[c]), 0, h - 1)), c] = 1.0
                lo_row[c] = hi_row[c] = guess[c]
        rows = _weighted_median(_by_precision(weights, typical), window)
    if MEDIAN_RADIUS > 0 and n > 2 * MEDIAN_RADIUS + 1:
        # isolated dips of a dense curve last a column or two; the per-column median of the
        # values they come from does not move with them
        rows = ndimage.median_filter(rows, size=2 * MEDIAN_RADIUS + 1, mode="nearest")
    half = (hi_row - lo_row) / 2.0 + 0.5
    # the span the column's values paint is what shows of it; the rows reached into a
    # covering line are a guess of the level, not of where its dips went
    mid = np.where(hidden, rows, (top + bottom) / 2.0)
    if window > 0:  # a column's value is voted by its neighbours: so is its guesswork
        guessed = ndimage.uniform_filter1d(guessed, size=2 * window + 1, mode="nearest")
    return Curve(np.arange(lo, hi + 1), rows, half, mid, hidden, partly, int(vis.sum()),
                 guessed)
