"""Template OCR of tick labels: glyphs rendered with matplotlib's own DejaVu fonts.

Tick labels of a matplotlib plot are short strings of digits, '.', the minus sign '−' and
sometimes 'e', '+' or '%', drawn by the same Agg text renderer in DejaVu Sans (or DejaVu Serif
with ``font.family = 'serif'``). Each glyph of a label is cut out, scaled by the label's digit
height into a fixed canvas (so a '1' stays narrow and a '.' stays low) and compared with the
templates by normalized cross-correlation.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image
from scipy import ndimage

#: characters a tick label may hold; "−" is matplotlib's minus sign (axes.unicode_minus)
CHARSET = "0123456789.−-+e%"
FAMILIES = ("DejaVu Sans", "DejaVu Serif")
#: canvas of a normalized glyph: the digit band (top of '0' to the baseline) spans BAND rows
CANVAS_H, CANVAS_W, BAND, TOP = 24, 18, 16, 4
#: ink share of the label's darkest pixel that counts as part of a glyph
THRESHOLD = 0.35
#: ink share that still belongs to a glyph's antialiased edge (how boxes are cut)
FAINT = 0.1
#: sub-pixel offsets (x, y) templates are rendered at: antialiasing differs with the phase
PHASES = ((0.0, 0.0), (0.5, 0.0), (0.25, 0.5), (0.75, 0.5))
#: font sizes (pixels per em) templates are rendered at, about 20% apart
TEMPLATE_SIZES = (6, 7, 8, 10, 12, 14, 17, 20, 24, 29, 35, 42)
#: characters outside digits, '.', minus need this much better a match (they are rare)
RARE_CHARS, RARE_PENALTY = "-+e%", 0.08


@dataclass(frozen=True)
class Template:
    """A character's normalized canvas for one font and size."""

    char: str
    family: str
    canvas: np.ndarray


def normalize(ink: np.ndarray, top: float, band: float) -> np.ndarray:
    """Place a glyph's ink crop in the canvas.

    Args:
        ink: the glyph's crop (rows from ``top`` down), values 0..1.
        top: row of the crop's first row relative to the digit band top.
        band: height of the digit band in the source pixels.

    Returns:
        Canvas (CANVAS_H, CANVAS_W), float32.
    """
    s = BAND / max(band, 1.0)
    h, w = ink.shape
    th, tw = max(1, round(h * s)), max(1, round(w * s))
    tw = min(tw, CANVAS_W)
    img = Image.fromarray((np.clip(ink, 0, 1) * 255).astype(np.uint8)).resize(
        (tw, th), Image.BILINEAR)
    out = np.zeros((CANVAS_H, CANVAS_W), dtype=np.float32)
    r0 = round(TOP + top * s)
    c0 = (CANVAS_W - tw) // 2
    arr = np.asarray(img, dtype=np.float32) / 255.0
    rs, re_ = max(0, r0), min(CANVAS_H, r0 + th)
    if re_ > rs:
        out[rs:re_, c0:c0 + tw] = arr[rs - r0:re_ - r0]
    return out


def _render_chars(chars: str, size_px: int, family: str) -> list[list[tuple | None]]:
    """Each character drawn well apart, one row per sub-pixel phase, in a single Agg pass.

    Returns:
        Per phase, per character of ``"0" + chars``: (cell ink, top, bottom, left, right of
        the ink) or None where nothing was drawn.
    """
    pitch, row_h = 2 * size_px + 4, int(size_px * 2.5) + 8
    width, height = pitch * (len(chars) + 1) + 8, row_h * len(PHASES)
    fig = Figure(figsize=(width / 72, height / 72), dpi=72)
    canvas = FigureCanvasAgg(fig)
    for r, (px, py) in enumerate(PHASES):
        base = 1.0 - (r * row_h + 0.6 * row_h + py) / height
        for i, ch in enumerate("0" + chars):
            fig.text((4 + i * pitch + px) / width, base, ch, fontsize=size_px, family=family,
                     va="baseline", color="black")
    canvas.draw()
    ink = 1.0 - np.asarray(canvas.buffer_rgba())[:, :, 0].astype(np.float32) / 255.0
    out = []
    for r in range(len(PHASES)):
        band = ink[r * row_h:(r + 1) * row_h]
        row = []
        for i in range(len(chars) + 1):
            cell = band[:, 4 + i * pitch - 2:4 + (i + 1) * pitch - 2]
            ys, xs = np.nonzero(cell > FAINT * max(float(cell.max()), 1e-6))
            row.append(None if len(ys) == 0 else (cell, ys.min(), ys.max(), xs.min(), xs.max()))
        out.append(row)
    return out


@lru_cache(maxsize=64)
def templates(size_px: int) -> tuple[Template, ...]:
    """Templates of every character of :data:`CHARSET` in every family, at one size."""
    out = []
    for family in FAMILIES:
        for cells in _render_chars(CHARSET, size_px, family):
            if cells[0] is None:
                continue
            _, z_top, z_bottom, _, _ = cells[0]
            band = z_bottom - z_top + 1
            for ch, cell in zip(CHARSET, cells[1:]):
                if cell is None:
                    continue
                ink, y0, y1, x0, x1 = cell
                crop = ink[y0:y1 + 1, x0:x1 + 1]
                out.append(Template(ch, family, normalize(crop, y0 - z_top, band)))
    return tuple(out)


def _components(ink: np.ndarray, threshold: float) -> list[tuple[int, int, int, int]]:
    """Boxes (x0, y0, x1, y1) of glyphs, left to right; parts stacked in one column merge."""
    mask = ink > threshold * max(float(ink.max()), 1e-6)
    # 8-connected keeps a thin glyph whole; touching neighbours are split by _split_wide
    labels, _ = ndimage.label(mask, structure=np.ones((3, 3)))
    boxes = [(s[1].start, s[0].start, s[1].stop - 1, s[0].stop - 1)
             for s in ndimage.find_objects(labels) if s is not None]
    boxes.sort()
    merged: list[tuple[int, int, int, int]] = []
    for b in boxes:
        if merged:
            m = merged[-1]
            overlap = min(m[2], b[2]) - max(m[0], b[0]) + 1
            if overlap >= 0.5 * min(m[2] - m[0] + 1, b[2] - b[0] + 1):
                merged[-1] = (min(m[0], b[0]), min(m[1], b[1]), max(m[2], b[2]), max(m[3], b[3]))
                continue
        merged.append(b)
    return merged


def _grow(ink: np.ndarray, boxes: list[tuple[int, int, int, int]]) -> list[tuple[int, int, int, int]]:
    """Widen each glyph box to its faint antialiased edge (ink > FAINT), as templates are cut,
    without reaching into the neighbouring glyph's columns."""
    out = []
    for i, (x0, y0, x1, y1) in enumerate(boxes):
        left = boxes[i - 1][2] + 1 if i > 0 else 0
        right = boxes[i + 1][0] - 1 if i + 1 < len(boxes) else ink.shape[1] - 1
        cols = np.flatnonzero(ink[y0:y1 + 1, max(left, x0 - 1):min(right, x1 + 1) + 1].max(axis=0)
                              > FAINT)
        nx0 = max(left, x0 - 1) + (int(cols[0]) if len(cols) else 0)
        nx1 = max(left, x0 - 1) + (int(cols[-1]) if len(cols) else x1 - x0)
        rows = np.flatnonzero(ink[:, nx0:nx1 + 1].max(axis=1) > FAINT)
        # only rows joined to the glyph: stop at the first empty row above or below it
        top, bottom = y0, y1
        while top - 1 >= 0 and top - 1 in rows:
            top -= 1
        while bottom + 1 < ink.shape[0] and bottom + 1 in rows:
            bottom += 1
        out.append((min(nx0, x0), top, max(nx1, x1), bottom))
    return out


def _split_wide(ink: np.ndarray, box: tuple[int, int, int, int],
                band: float) -> list[tuple[int, int, int, int]]:
    """Split a component wider than one digit into digits (touching glyphs at low dpi).

    DejaVu digits share one advance width (0.636 em, 0.87 of the digit height), so a run of
    ``n`` touching digits is about ``n`` advances wide; each cut goes to the faintest column
    near where the advance puts it.
    """
    x0, y0, x1, y1 = box
    width = x1 - x0 + 1
    advance = 0.873 * band
    n = round((width + 0.2 * band) / advance)
    if n <= 1 or band < 4:
        return [box]
    cols = ink[y0:y1 + 1, x0:x1 + 1].sum(axis=0)
    step = width / n
    cuts = [0]
    for k in range(1, n):
        lo = max(cuts[-1] + 1, int(k * step - 0.3 * step))
        hi = min(width - 1, int(k * step + 0.3 * step) + 1)
        cuts.append(lo + int(np.argmin(cols[lo:hi])) if hi > lo else int(k * step))
    cuts.append(width)
    return [(x0 + a, y0, x0 + b - 1, y1) for a, b in zip(cuts[:-1], cuts[1:]) if b > a]


def _grid_sizes(size_px: int) -> tuple[int, ...]:
    """The two sizes of :data:`TEMPLATE_SIZES` nearest ``size_px``: glyphs are compared
    after scaling to one canvas, so a few sizes serve all, and a new image rarely renders."""
    order = sorted(TEMPLATE_SIZES, key=lambda s: abs(np.log(s / max(size_px, 1))))
    return tuple(sorted(order[:2]))


@lru_cache(maxsize=64)
def template_bank(size_px: int) -> tuple[tuple[str, ...], np.ndarray, np.ndarray]:
    """Templates of the two grid sizes nearest ``size_px`` as rows of a matrix, zero-mean
    unit-norm.

    Returns:
        (characters, matrix of shape (T, CANVAS_H * CANVAS_W), score penalty per row).
    """
    temps = [t for s in _grid_sizes(size_px) for t in templates(s)]
    mat = np.stack([t.canvas.ravel() for t in temps]).astype(np.float32)
    mat -= mat.mean(axis=1, keepdims=True)
    mat /= np.maximum(np.linalg.norm(mat, axis=1, keepdims=True), 1e-6)
    chars = tuple(t.char for t in temps)
    penalty = np.array([RARE_PENALTY if c in RARE_CHARS else 0.0 for c in chars], np.float32)
    return chars, mat, penalty


def read_label(ink: np.ndarray) -> tuple[str, float]:
    """Read one tick label.

    Args:
        ink: the label's crop, ink 0..1 (any polarity already removed).

    Returns:
        (text, score): the characters read and the lowest glyph correlation ('' and 0.0 when
        the crop holds no digit-sized glyph).
    """
    if ink.size == 0 or float(ink.max()) <= 0:
        return "", 0.0
    boxes = _components(ink, THRESHOLD)
    if not boxes:
        return "", 0.0
    boxes = _grow(ink, boxes)
    tallest = max(b[3] - b[1] + 1 for b in boxes)
    tall = [b for b in boxes if b[3] - b[1] + 1 >= 0.7 * tallest]
    top, base = min(b[1] for b in tall), max(b[3] for b in tall)
    band = base - top + 1
    if band < 4:
        return "", 0.0
    boxes = [p for b in boxes for p in _split_wide(ink, b, band)]
    chars, mat, penalty = template_bank(_em_size(band))
    canv = np.stack([normalize(ink[y0:y1 + 1, x0:x1 + 1], y0 - top, band).ravel()
                     for x0, y0, x1, y1 in boxes])
    canv -= canv.mean(axis=1, keepdims=True)
    canv /= np.maximum(np.linalg.norm(canv, axis=1, keepdims=True), 1e-6)
    scores = canv @ mat.T - penalty[None, :]
    best = scores.argmax(axis=1)
    text = "".join(chars[i] for i in best)
    return text, float(scores[np.arange(len(best)), best].min())


def _em_size(band: int) -> int:
    """Font size (pixels per em) whose digits are ``band`` pixels tall (DejaVu: 0.729 em)."""
    return max(4, round(band / 0.729))


def parse_number(text: str) -> float | None:
    """The value of a tick label string, or None (``'−0.2'``, ``'1e4'``, ``'50%'``)."""
    t = text.replace("−", "-").strip()
    scale = 1.0
    if t.endswith("%"):
        t, scale = t[:-1], 0.01
    if not t or t in ("-", "+", ".") or t.count(".") > 1 or "%" in t:
        return None
    try:
        return float(t) * scale
    except ValueError:
        return None
