"""Line colours of a panel: find them, tell them from grid lines, and label each pixel.

A line pixel is the line colour blended with the face colour by antialiasing (or by the line's
``alpha``): ``p = a * line + (1 - a) * face``. Colours are found one at a time as the commonest
colour among pixels not yet explained by an earlier one.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from matplotlib import colors as mcolors
from matplotlib import rcParamsDefault, style

from grader.intake.figures.plots.raster import channel_gap

#: a pixel this far (max channel) from the face colour may belong to a line
MIN_CONTRAST = 40
#: a pixel is explained by a line colour when blended with at least this alpha ...
MIN_ALPHA = 0.45
#: ... and within this distance of the blend (0..255 units)
MAX_RESIDUAL = 30.0
MAX_COLOURS = 8
#: contrasting pixels the colour search looks at (the rest follow by stride)
SAMPLE = 40_000
#: a colour whose pixels lie this much on thin full rows/columns is a grid or axis line
GRID_SHARE = 0.6


@dataclass
class LineColour:
    """One colour found in a panel."""

    rgb: np.ndarray
    """Shape (3,), 0..255."""
    count: int
    """Pixels explained by it."""
    grid: bool = False
    """True for grid lines and other straight full-width/height lines (not a series)."""


@lru_cache(maxsize=1)
def palettes() -> dict[str, np.ndarray]:
    """Colour cycles by style sheet name (``default`` is matplotlib's tab10), 0..255."""
    def cycle(rc: dict) -> np.ndarray | None:
        cyc = rc.get("axes.prop_cycle")
        if cyc is None:
            return None
        cols = cyc.by_key().get("color")
        return None if not cols else np.array([mcolors.to_rgb(c) for c in cols]) * 255.0

    out = {"default": cycle(rcParamsDefault)}
    for name, rc in style.library.items():
        cols = cycle(rc)
        if cols is not None:
            out[name] = cols
    return {k: v for k, v in out.items() if v is not None}


def colour_rgb(spec: str, cycle: np.ndarray | None = None) -> np.ndarray | None:
    """A matplotlib colour spec ('r', 'tab:red', '#ff0000', 'C1') as 0..255 RGB, or None."""
    s = spec.strip()
    if cycle is not None and len(s) >= 2 and s[0] == "C" and s[1:].isdigit():
        return cycle[int(s[1:]) % len(cycle)]
    try:
        return np.array(mcolors.to_rgb(s)) * 255.0
    except ValueError:
        return None


def blend_fit(pixels: np.ndarray, line: np.ndarray, face: np.ndarray) -> tuple[np.ndarray,
                                                                               np.ndarray]:
    """Best blend weight of ``line`` over ``face`` for each pixel, and the distance left.

    Args:
        pixels: shape (..., 3), 0..255.
        line, face: shape (3,).

    Returns:
        (alpha clipped to 0..1, residual distance), each of shape (...).
    """
    d = np.asarray(line, np.float32) - np.asarray(face, np.float32)
    v = pixels.astype(np.float32) - np.asarray(face, np.float32)
    denom = float(d @ d)
    if denom < 1.0:
        return np.zeros(pixels.shape[:-1], np.float32), np.linalg.norm(v, axis=-1)
    a = np.clip((v @ d) / denom, 0.0, 1.0)
    resid = np.linalg.norm(v - a[..., None] * d, axis=-1)
    return a, resid


def blend_distance(observed: np.ndarray, expected: np.ndarray, face: np.ndarray,
                   min_alpha: float = 0.3) -> float:
    """Distance from an observed line colour to ``expected`` drawn with some alpha >= min."""
    a, r = blend_fit(observed[None, :], expected, face)
    if a[0] < min_alpha:
        return float(np.linalg.norm(observed - (min_alpha * expected + (1 - min_alpha) * face)))
    return float(r[0])


def _thin_line_share(mask: np.ndarray) -> float:
    """Share of a mask's pixels on rows or columns that it fills across like a thin line."""
    n = int(mask.sum())
    if n == 0:
        return 0.0
    on_lines = np.zeros_like(mask)
    for axis in (1, 0):
        cov = mask.mean(axis=axis)
        # a line: well covered, while two pixels away it is not (a dense curve band is)
        near = np.maximum(np.roll(cov, 2), np.roll(cov, -2))
        line = (cov >= 0.5) & (near < 0.5 * cov)
        if axis == 1:
            on_lines[line, :] |= mask[line, :]
        else:
            on_lines[:, line] |= mask[:, line]
    return float(on_lines.sum() / n)


def find_colours(rgb: np.ndarray, face: np.ndarray, min_count: int) -> list[LineColour]:
    """Line colours of a panel's plotting area, commonest first.

    Colours are sought on at most ``SAMPLE`` of the contrasting pixels (evenly strided);
    counts are scaled back to the whole area.

    Args:
        rgb: the plotting area, shape (H, W, 3).
        face: the axes face colour.
        min_count: fewest pixels a colour must explain.

    Returns:
        The colours, grid-like ones flagged.
    """
    contrast = channel_gap(rgb, face) > MIN_CONTRAST
    idx = np.flatnonzero(contrast.ravel())
    stride = max(1, len(idx) // SAMPLE)
    sub_idx = idx[::stride]
    px = rgb.reshape(-1, 3)[sub_idx].astype(np.int64)
    out: list[LineColour] = []
    remaining = np.ones(len(px), bool)
    while remaining.sum() * stride >= min_count and len(out) < MAX_COLOURS:
        rest = px[remaining]
        q = rest >> 3  # 32 levels per channel: tolerant of JPEG noise
        keys = (q[:, 0] << 10) | (q[:, 1] << 5) | q[:, 2]
        vals, counts = np.unique(keys, return_counts=True)
        k = int(vals[np.argmax(counts)])
        centre = np.array([(k >> 10) & 31, (k >> 5) & 31, k & 31]) * 8 + 4
        near = rest[np.abs(rest - centre).max(axis=1) <= 8][:4000]
        colour = np.median(near, axis=0) if len(near) else centre.astype(float)
        a, resid = blend_fit(px, colour, face)
        close = remaining & (resid <= MAX_RESIDUAL)
        explained = close & (a >= MIN_ALPHA)
        n = int(explained.sum()) * stride
        if n < min_count:
            break
        # faint antialiased edges of this colour must not seed a colour of their own
        remaining &= ~(close & (a >= 0.15))
        if _is_mix(colour, [c.rgb for c in out], face):
            continue  # where two lines' edges blend, or one line shows through another
        out.append(LineColour(colour.astype(np.float32), n, False))
    if out:
        full = rgb.reshape(-1, 3)[idx]
        for c in out:
            a, resid = blend_fit(full, c.rgb, face)
            mask = np.zeros(contrast.size, bool)
            mask[idx[(a >= MIN_ALPHA) & (resid <= MAX_RESIDUAL)]] = True
            c.grid = _thin_line_share(mask.reshape(contrast.shape)) >= GRID_SHARE
    return out


def mix_residual(px: np.ndarray, top: np.ndarray, bottom: np.ndarray,
                 face: np.ndarray) -> np.ndarray:
    """Distance of each pixel from the colours where line ``top`` covers line ``bottom``.

    Two models: an antialiased edge, ``a * top + (1 - a) * bottom``; and ``top`` drawn with
    alpha over ``bottom``, where ``top`` as seen on the face is itself ``alpha * pure + (1 -
    alpha) * face``, so the overlap is ``top + b * (bottom - face)``.
    """
    a, r1 = blend_fit(px, top, bottom)
    r1 = np.where((a >= 0.1) & (a <= 0.9), r1, np.inf)
    d = np.asarray(bottom, np.float32) - np.asarray(face, np.float32)
    v = px.astype(np.float32) - np.asarray(top, np.float32)
    denom = max(float(d @ d), 1.0)
    b = (v @ d) / denom
    r2 = np.linalg.norm(v - b[..., None] * d, axis=-1)
    # the lower line shows through an upper one drawn with alpha >= 0.5; a wider range would
    # pass dark text for "blue over orange"
    r2 = np.where((b >= 0.05) & (b <= 0.5) & (r2 <= 15), r2, np.inf)
    return np.minimum(r1, r2)


def _is_mix(colour: np.ndarray, earlier: list[np.ndarray], face: np.ndarray) -> bool:
    """True when ``colour`` is where two colours found before it overlap."""
    for i, top in enumerate(earlier):
        for j, bottom in enumerate(earlier):
            if i != j and mix_residual(colour[None, :], top, bottom, face)[0] <= 20:
                return True
    return False


def label_pixels(rgb: np.ndarray, face: np.ndarray,
                 colours: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Which colour explains each pixel.

    Returns:
        (first, second), each (H, W) int8, -1 for none. ``first`` is the colour blended with
        the face; where no single colour fits but an overlap of two does (two lines' edges,
        or a line drawn with alpha over another), both are there: ``first`` and ``second``.
    """
    h, w = rgb.shape[:2]
    first = np.full(h * w, -1, np.int8)
    second = np.full(h * w, -1, np.int8)
    contrast = (channel_gap(rgb, face) > MIN_CONTRAST).ravel()
    idx = np.flatnonzero(contrast)
    if not colours or len(idx) == 0:
        return first.reshape(h, w), second.reshape(h, w)
    px = rgb.reshape(-1, 3)[idx]
    best = np.full(len(idx), np.inf, np.float32)
    lab = np.full(len(idx), -1, np.int8)
    for k, c in enumerate(colours):
        a, resid = blend_fit(px, c, face)
        ok = (a >= MIN_ALPHA) & (resid <= MAX_RESIDUAL) & (resid < best)
        best[ok] = resid[ok]
        lab[ok] = k
    lab2 = np.full(len(idx), -1, np.int8)
    rest = np.flatnonzero(lab < 0)
    if len(rest) and len(colours) > 1:
        sub, best2 = px[rest], np.full(len(rest), 20.0, np.float32)
        top_l, bot_l = np.full(len(rest), -1, np.int8), np.full(len(rest), -1, np.int8)
        for i, ci in enumerate(colours):
            for j, cj in enumerate(colours):
                if i == j:
                    continue
                resid = mix_residual(sub, ci, cj, face)
                ok = resid < best2
                best2[ok], top_l[ok], bot_l[ok] = resid[ok], i, j
        lab[rest], lab2[rest] = top_l, bot_l
    first[idx], second[idx] = lab, lab2
    return first.reshape(h, w), second.reshape(h, w)
