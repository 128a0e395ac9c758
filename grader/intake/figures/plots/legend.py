"""Find a legend in a panel (text lines with a line-colour swatch on their left) and read it.

Legend text is read by synthesis: each candidate label (the student's own, from the code, and
a fixed vocabulary) is drawn in DejaVu Sans at the legend's size and compared with the ink.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import findfont, get_font
from PIL import Image
from scipy import ndimage

from grader.intake.figures.plots.names import role_of
from grader.intake.figures.plots.ticks import group_lines

#: a legend label matches a candidate with at least this correlation
MIN_TEXT_SCORE = 0.6
#: Gaussian blur (pixels) of text and candidates before they are compared
BLUR = 1.0
#: matplotlib's legend geometry in font sizes: handle length and the gap to the text
HANDLE_LENGTH, HANDLE_PAD = 2.0, 0.8


@dataclass
class LegendEntry:
    """One legend row: the colour of its swatch and its text."""

    colour: int
    """Index into the panel's series colours."""
    text_box: tuple[int, int, int, int]
    """x0, y0, x1, y1 of the text ink, panel-area pixels."""
    swatch_box: tuple[int, int, int, int]
    text: str = ""
    """Best-matching candidate label ('' when none matched)."""
    score: float = 0.0


@dataclass
class Legend:
    """The entries and the box they occupy (panel-area pixels)."""

    entries: list[LegendEntry]
    box: tuple[int, int, int, int]


@lru_cache(maxsize=32)
def _rendered(texts: tuple[str, ...], size_px: int) -> tuple[np.ndarray, ...]:
    """Ink crops of each text, drawn together in one Agg pass (one per line)."""
    pitch = int(size_px * 2.2) + 4
    width = int(size_px * max(len(t) for t in texts) * 0.75) + 20
    height = pitch * len(texts) + 8
    fig = Figure(figsize=(width / 72, height / 72), dpi=72)
    canvas = FigureCanvasAgg(fig)
    for i, t in enumerate(texts):
        fig.text(6 / width, 1 - (4 + (i + 0.6) * pitch) / height, t, fontsize=size_px,
                 family="DejaVu Sans", va="baseline", color="black")
    canvas.draw()
    ink = 1.0 - np.asarray(canvas.buffer_rgba())[:, :, 0].astype(np.float32) / 255.0
    out = []
    for i in range(len(texts)):
        band = ink[4 + i * pitch:4 + (i + 1) * pitch]
        ys, xs = np.nonzero(band > 0.1)
        out.append(band[ys.min():ys.max() + 1, xs.min():xs.max() + 1] if len(ys)
                   else np.zeros((1, 1), np.float32))
    return tuple(out)


def _blurred(tmpl: np.ndarray) -> np.ndarray:
    return ndimage.gaussian_filter(tmpl, BLUR)


def _ncc(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a - a.mean(), b - b.mean()
    den = float(np.sqrt((a * a).sum() * (b * b).sum()))
    return float((a * b).sum() / den) if den > 0 else 0.0


def rank_text(ink: np.ndarray, em_px: float, candidates: tuple[str, ...]) -> list[tuple[float,
                                                                                        str]]:
    """Candidates for a line of text ink, best first, with their scores (correlation less an
    aspect-ratio penalty)."""
    ys, xs = np.nonzero(ink > 0.1)
    if len(ys) == 0 or not candidates:
        return []
    obs = ink[ys.min():ys.max() + 1, xs.min():xs.max() + 1]
    cands = tuple(c for c in candidates if _drawable(c))
    scored = []
    for text, tmpl in zip(cands, _rendered(cands, max(6, round(em_px))) if cands else ()):
        th, tw = tmpl.shape
        aspect = np.log((obs.shape[1] / obs.shape[0]) / (tw / th))
        if abs(aspect) > 0.35:
            continue
        img = Image.fromarray((np.clip(obs, 0, 1) * 255).astype(np.uint8)).resize(
            (tw, th), Image.BILINEAR)
        # strokes a pixel wide drawn at another size never align exactly: compare blurred
        a = ndimage.gaussian_filter(np.asarray(img, np.float32) / 255.0, BLUR)
        scored.append((_ncc(a, _blurred(tmpl)) - 0.5 * abs(aspect), text))
    return sorted(scored, reverse=True)


def accept(scored: list[tuple[float, str]], skip: set[str] = frozenset()) -> tuple[str, float]:
    """The best candidate not in ``skip`` when it is good, or clearly better than any
    candidate meaning something else; ('', score) otherwise."""
    rest = [(sc, t) for sc, t in scored if t not in skip]
    if not rest:
        return "", 0.0
    best_score, best = rest[0]
    rival = next((sc for sc, t in rest[1:] if role_of(t) != role_of(best)), 0.0)
    if best_score >= MIN_TEXT_SCORE or (best_score >= 0.45 and best_score - rival >= 0.1):
        return best, float(best_score)
    return "", float(best_score)


@lru_cache(maxsize=512)
def _drawable(text: str) -> bool:
    """True when DejaVu Sans has every character (Hangul drawn as boxes would all look alike)."""
    font = get_font(findfont("DejaVu Sans"))
    return all(font.get_char_index(ord(ch)) != 0 for ch in text if not ch.isspace())


def _luma(rgb: np.ndarray) -> np.ndarray:
    return rgb[..., 0] * 0.299 + rgb[..., 1] * 0.587 + rgb[..., 2] * 0.114


def _text_ink(rgb: np.ndarray, text_rgb: np.ndarray, face: np.ndarray) -> np.ndarray:
    """Grey ink on the face, 0 at the face's brightness and 1 at the text's (or beyond: legend
    text may be darker than grey tick labels); coloured pixels (curves) are not ink."""
    f, t = float(_luma(face.astype(np.float32))), float(_luma(text_rgb.astype(np.float32)))
    span = t - f if abs(t - f) >= 30 else (30.0 if t >= f else -30.0)
    ink = np.clip((_luma(rgb.astype(np.float32)) - f) / span, 0.0, 1.0)
    grey = (rgb.max(axis=2) - rgb.min(axis=2)) <= 60
    return np.where(grey, ink, 0.0).astype(np.float32)


def _longest_run(row: np.ndarray) -> tuple[int, int]:
    """(length, start) of the longest run of True in a 1-D mask."""
    d = np.diff(np.concatenate([[0], row.astype(np.int8), [0]]))
    starts, ends = np.flatnonzero(d == 1), np.flatnonzero(d == -1)
    if len(starts) == 0:
        return 0, 0
    k = int(np.argmax(ends - starts))
    return int(ends[k] - starts[k]), int(starts[k])


def _local_ink(crop: np.ndarray, text_rgb: np.ndarray) -> np.ndarray:
    """Ink of a text line against its own background (a legend's face tinted by the curves
    behind it), 0 at the background's brightness, 1 at the text's."""
    luma = _luma(crop.astype(np.float32))
    t = float(_luma(text_rgb.astype(np.float32)))
    far = np.abs(luma - t)
    bg = float(np.median(luma[far >= np.percentile(far, 60)]))  # the lighter (or darker) 40%
    span = t - bg if abs(t - bg) >= 30 else (30.0 if t >= bg else -30.0)
    return np.clip((luma - bg) / span, 0.0, 1.0).astype(np.float32)


def _swatch(first: np.ndarray, colours: list[int], line: tuple[int, int, int, int],
            em: float) -> tuple[int, tuple[int, int, int, int]] | None:
    """The series colour drawn as a short, thin horizontal line just left of a text line.

    The handle is ``HANDLE_LENGTH`` ems long; a dense curve passing behind a frameless
    legend fills many rows of the region with its colour, which a thin line does not.
    """
    x0, y0, x1, y1 = line
    yc = (y0 + y1) / 2
    sx0 = max(0, int(x0 - (HANDLE_LENGTH + HANDLE_PAD + 0.6) * em))
    sx1 = max(0, int(x0 - 0.3 * em))
    sy0, sy1 = max(0, int(yc - 0.5 * em)), min(first.shape[0], int(yc + 0.5 * em) + 1)
    if sx1 - sx0 < em or sy1 <= sy0:
        return None
    region = first[sy0:sy1, sx0:sx1]
    best = None
    for k in colours:
        m = region == k
        runs = [_longest_run(r) for r in m]
        length, row = max((ln, i) for i, (ln, _) in enumerate(runs))
        if length < 1.2 * em:
            continue
        thick = [i for i, (ln, _) in enumerate(runs) if ln >= 0.6 * length]
        if max(thick) - min(thick) > max(3, 0.35 * em):
            continue  # a band of curve, not a handle
        start = runs[row][1]
        stray = m.sum() - m[min(thick):max(thick) + 1, start:start + length].sum()
        if stray > 0.5 * length * len(thick) + em * em:  # a marker on the handle is fine
            continue
        if best is None or length > best[0]:
            best = (length, k, (sx0 + start, sy0 + min(thick), sx0 + start + length - 1,
                                sy0 + max(thick)))
    return None if best is None else (best[1], best[2])


def _distinct(entries: list[LegendEntry], ranks: list[list[tuple[float, str]]]) -> None:
    """Two rows of one legend do not name the same series: where two read as one series
    (``fake_accuracy`` and ``Fake Accuracy``), the weaker takes its best reading of another
    series, or none."""
    for _ in range(len(entries)):
        seen: dict[str, int] = {}
        clash = None
        for i, e in enumerate(entries):
            key = role_of(e.text) or e.text
            if e.text and key in seen:
                j = seen[key]
                clash = i if e.score <= entries[j].score else j
                break
            if e.text:
                seen[key] = i
        if clash is None:
            return
        taken = {role_of(e.text) or e.text for k, e in enumerate(entries)
                 if k != clash and e.text}
        others = [(sc, t) for sc, t in ranks[clash] if (role_of(t) or t) not in taken]
        entries[clash].text, entries[clash].score = accept(others)


def find_legend(rgb: np.ndarray, first: np.ndarray, colours: list[int], face: np.ndarray,
                text_rgb: np.ndarray, em: float, candidates: tuple[str, ...]) -> Legend | None:
    """Find and read the legend of a panel's plotting area.

    Args:
        rgb: the plotting area (or the strip beside it for a legend outside).
        first: colour index per pixel (``colours.label_pixels``).
        colours: indices of the series colours that may own a swatch.
        face: background colour of the area.
        text_rgb: colour of the tick-label text.
        em: font size in pixels (from the tick labels' digit height).
        candidates: label strings to compare the legend text with.

    Returns:
        The legend, or None when no text line has a swatch.
    """
    ink = _text_ink(rgb, text_rgb, face)
    mask = (ink > 0.5) & ~np.isin(first, colours)
    labels, _ = ndimage.label(mask, structure=np.ones((3, 3)))
    boxes = [(s[1].start, s[0].start, s[1].stop - 1, s[0].stop - 1)
             for s in ndimage.find_objects(labels) if s is not None]
    boxes = [b for b in boxes if b[3] - b[1] + 1 <= 1.5 * em and b[2] - b[0] + 1 <= 2.5 * em]
    entries, ranks = [], []
    # words and underscores of one label join: gaps up to an em, centres within 0.6 em
    for line in group_lines(boxes, gap=1.0 * em, centre_tol=0.6 * em):
        h, w = line[3] - line[1] + 1, line[2] - line[0] + 1
        if not (0.35 * em <= h <= 1.6 * em) or w < 0.9 * em:
            continue
        sw = _swatch(first, colours, line, em)
        if sw is None:
            continue
        x0, y0, x1, y1 = line
        ranked = rank_text(_local_ink(rgb[y0:y1 + 1, x0:x1 + 1], text_rgb), em, candidates)
        text, score = accept(ranked)
        entries.append(LegendEntry(sw[0], line, sw[1], text, score))
        ranks.append(ranked)
    if not entries:
        return None
    _distinct(entries, ranks)
    # one legend: rows whose text starts at the same column as the most common start
    # one legend: the rows whose text starts in one column, read best (matched text counts)
    starts = np.array([e.text_box[0] for e in entries])
    quality = np.array([1.0 + 2.0 * bool(e.text) for e in entries])
    support = [quality[np.abs(starts - s0) <= 0.6 * em].sum() for s0 in starts]
    ref = starts[int(np.argmax(support))]
    entries = [e for e in entries if abs(e.text_box[0] - ref) <= 0.6 * em]
    pad = 0.7 * em
    box = (int(min(e.swatch_box[0] for e in entries) - pad),
           int(min(min(e.text_box[1], e.swatch_box[1]) for e in entries) - pad),
           int(max(e.text_box[2] for e in entries) + pad),
           int(max(max(e.text_box[3], e.swatch_box[3]) for e in entries) + pad))
    return Legend(entries, box)
