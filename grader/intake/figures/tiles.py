"""Find the sample tiles in a student's figure (PNG/JPEG/GIF frame) and cut them to tile size.

Students save matplotlib figures: a 4x4 (5x5, 2x8, ...) grid of ``imshow`` panels, one
image with a colorbar, or a line chart of the training history. We estimate the background
colour from the figure border, project the non-background mask onto rows and columns to
find bands of square panels, cut each panel (minus axis spines) and area-average it down to
the assignment's image size. Panels that are a single channel drawn through a colormap (``cmap='gray'`` or the
default viridis) are a display problem, reported as ``colormapped``, not scored as content.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np

from grader.assignment import get_assignment
from grader.errors import GraderError
from grader.text import Msg

TileKind = Literal["grid", "single", "chart", "unknown"]
BG_TOLERANCE = 8
"""A pixel is background when no channel differs from the background colour by more."""
MIN_PANEL = 8
"""Panels smaller than this (pixels) are not images (axis lines, text strokes)."""
MIN_PANEL_SHARE = 0.65
"""Panels holding less of the drawn pixels are details of a plot (measured: history plots misread
as grids 0.002-0.54, shown grids and images 0.81-1.0 with colorbars, axes and titles)."""
MIN_PANEL_ASPECT = 0.9
"""``imshow`` keeps images square: panels whose median side ratio is below this are plot areas
(measured: styled history plots 0.80-0.83, shown grids 0.97-1.0; single panels with white
edge rows are regrown to square first)."""
MAX_GRIDLINE_PANELS = 0.5
"""Panels crossed by a grid line (:func:`_has_gridline`) in more than this share are plot
axes with a face colour (seaborn darkgrid, ggplot, Solarize_Light2), not shown images
(measured: 67-100% of the panels of the 6 styled history plots misread as grids; at most
2 of 16 panels of 374 real, generated and untrained grids in 8 styles, axes on or off)."""
MIN_SINGLE = 0.5
"""A lone panel smaller than this share of the image side is a detail of a plot, not an image."""
COLORMAPS = ("gray", "viridis", "plasma", "inferno", "magma", "cividis", "Greys", "bone",
             "binary", "hot", "jet")


class ImageFileError(GraderError):
    """An image file could not be read."""


@dataclass
class TileResult:
    """What :func:`extract_tiles` found in one figure."""

    kind: TileKind
    """``grid`` (several panels), ``single`` (one image), ``chart`` (line plot) or ``unknown``."""
    tiles: np.ndarray
    """uint8 (K, H, W, C) in the assignment's image shape, row-major over the grid."""
    rows: int = 0
    cols: int = 0
    colormapped: bool = False
    """Panels show one channel through a colormap (a display problem, not content)."""
    colormap: str | None = None
    """The matplotlib colormap the panels match, when ``colormapped``."""
    boxes: list[tuple[int, int, int, int]] = field(default_factory=list)
    """Panel boxes (top, left, bottom, right), bottom/right exclusive, in figure pixels."""
    notes: list[str] = field(default_factory=list)


@dataclass
class ImageFrames:
    """The frames read from one image file."""

    frames: list[np.ndarray]
    """uint8 (H, W, 4) RGBA arrays: one for a PNG/JPEG, every readable frame of a GIF."""
    damaged: bool = False
    """The file broke off part-way (e.g. a truncated upload); ``frames`` are those before it."""


def read_frames(path: str | Path) -> ImageFrames:
    """Read a PNG/JPEG (one frame) or GIF (every frame) as uint8 RGBA arrays.

    A GIF that is damaged after some intact frames keeps those frames (``damaged=True``),
    so a truncated upload still shows what it holds.

    Raises:
        ImageFileError: The file is missing, not an image, or corrupt before its first frame.
    """
    from PIL import Image, ImageSequence, UnidentifiedImageError

    path = Path(path)
    unreadable = Msg(f"The file {path.name} is not a readable image (damaged or not PNG/JPEG/GIF).",
                      f"{path.name} 파일은 손상되었거나 PNG/JPEG/GIF가 아니어서 이미지로 읽을 수 "
                      "없습니다.")
    frames: list[np.ndarray] = []
    try:
        with Image.open(path) as img:
            try:
                for f in ImageSequence.Iterator(img):
                    frames.append(np.asarray(f.convert("RGBA"), dtype=np.uint8))
            except (OSError, ValueError, SyntaxError, EOFError) as exc:
                if not frames:
                    raise ImageFileError(unreadable, f"{path}: {type(exc).__name__}: {exc}") from exc
                return ImageFrames(frames, damaged=True)
    except FileNotFoundError as exc:
        raise ImageFileError(Msg(f"The image file {path.name} does not exist.",
                                  f"이미지 파일 {path.name}이(가) 없습니다."), str(exc)) from exc
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise ImageFileError(unreadable, f"{path}: {type(exc).__name__}: {exc}") from exc
    if not frames:
        raise ImageFileError(Msg(f"The image file {path.name} has no frames.",
                                  f"이미지 파일 {path.name}에 프레임이 없습니다."), str(path))
    return ImageFrames(frames)


def _to_rgb(image: np.ndarray) -> np.ndarray:
    x = np.asarray(image)
    if x.ndim == 2:
        x = np.stack([x] * 3, axis=-1)
    if x.ndim != 3 or x.shape[2] not in (3, 4) or x.dtype != np.uint8:
        raise ValueError(f"expected a uint8 image (H, W, 3|4); got {x.dtype} {x.shape}")
    if x.shape[2] == 4:  # transparent parts are shown on white, as in a notebook or viewer
        a = x[..., 3:4].astype(np.float32) / 255.0
        x = np.rint(x[..., :3] * a + 255.0 * (1 - a)).astype(np.uint8)
    return x


def background_colour(rgb: np.ndarray) -> np.ndarray | None:
    """Most common colour on the 1-pixel border, or None when under 40% of it agrees."""
    border = np.concatenate([rgb[0], rgb[-1], rgb[:, 0], rgb[:, -1]])
    colours, counts = np.unique(border, axis=0, return_counts=True)
    if counts.max() < 0.4 * len(border):
        return None
    return colours[counts.argmax()]


def _runs(active: np.ndarray, max_gap: int = 2) -> list[tuple[int, int]]:
    """Runs of True (start, end exclusive), merging runs separated by <= max_gap pixels."""
    padded = np.concatenate([[False], active, [False]])
    edges = np.flatnonzero(np.diff(padded.astype(np.int8)))
    runs = [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2])]
    merged: list[tuple[int, int]] = []
    for a, b in runs:
        if merged and a - merged[-1][1] <= max_gap:
            merged[-1] = (merged[-1][0], b)
        else:
            merged.append((a, b))
    return merged


def _bands(profile: np.ndarray) -> list[tuple[int, int]]:
    """Runs of rows (or columns) that cross image panels.

    Candidates are runs above 30% of the profile's maximum; leading and trailing lines
    below 80% of the run's own median level are then stripped, which drops text (titles
    of the next row that touch a panel) while keeping rows of panels narrower than the
    fullest row, and pale image areas inside the run.
    """
    if profile.max() <= 0:
        return []
    out = []
    for a, b in _runs(profile >= 0.3 * profile.max(), max_gap=0):
        strong = np.flatnonzero(profile[a:b] >= 0.8 * np.median(profile[a:b]))
        if len(strong):
            a, b = a + int(strong[0]), a + int(strong[-1]) + 1
        if b - a >= MIN_PANEL:
            out.append((a, b))
    return out


def _multiple(size: int, s: int) -> int:
    """k when ``size`` is k panels of size s, else 0.

    One panel may look up to 25% smaller than s (edge rows of a pale image pass for
    background) but hardly larger (2 px or 3%: anti-aliased edges). k > 1 gap-less panels
    must add up to within k pixels (matplotlib rounds each edge).
    """
    if s - 0.25 * s <= size <= s + max(2.0, 0.03 * s):
        return 1
    k = round(size / s)
    return k if k > 1 and abs(size - k * s) <= k else 0


def _panel_size(row_sizes: list[int], col_sizes: list[int]) -> int | None:
    """The panel side that explains most bands as single panels in both directions.

    Images are shown square (``imshow`` keeps the aspect), so a panel size must be seen
    as a row band AND as a column band; ties go to the larger size.
    """
    best, best_score = None, 0
    for s in sorted(set(row_sizes + col_sizes), reverse=True):
        rows = sum(1 for z in row_sizes if _multiple(z, s) == 1)
        cols = sum(1 for z in col_sizes if _multiple(z, s) == 1)
        if rows and cols and rows + cols > best_score:
            best, best_score = s, rows + cols
        elif (rows >= 2 or cols >= 2) and not best:
            best, best_score = s, rows + cols  # gap-less in one direction (wspace=0)
    if best:  # gap-less runs of 2 panels can outnumber the lone panels between them
        sizes = row_sizes + col_sizes
        for s in sorted(set(sizes)):
            if 4 * s >= best > s and _multiple(best, s) >= 2 and \
                    all(_multiple(z, s) >= 1 for z in sizes):
                return s
    return best


SEAM_MIN_SHARE = 0.5
"""A gap-less split needs at least this share of its cuts to be visible seams ..."""
SPLIT_FULL_FILL = 0.95
ONE_IMAGE_ERROR = 13.0
"""A lone panel that 32x32 pixels redraw within this mean error (0..255) is one image (measured:
the lesson's one-sample plots with a colorbar 7.2-9.0; gap-less 4x4 to 10x10 grids of real
images 19.8-41.5)."""
MOSAIC_SEAMS = 0.9
"""Share of cuts that must be seams to split a band without the other direction's support,
or to read a lone square panel as a gap-less mosaic."""
"""... unless its panels are this full of non-background pixels (noise images have no seams)."""


def seam_share(strip: np.ndarray, strip_mask: np.ndarray | None, k: int) -> float:
    """Share of the k - 1 cuts of ``strip`` into k equal panels (along axis 1) that are seams.

    Adjacent images of a gap-less grid differ at their common edge much more than
    neighbouring pixel columns inside an image do; a plot area cut at arbitrary places does
    not (a dense loss curve filled the band and passed for k panels). A cut is a seam when
    the change across it (the largest over the 7 column pairs around it: resampled edges, and
    panel borders that drift by a pixel or two from equal division)
    exceeds the 95th percentile of the changes inside the panels and twice their median.
    With ``strip_mask``, panels almost full of non-background pixels count as all seams:
    untrained generators' noise images differ inside as much as across, but a plot always
    shows its background between lines.
    """
    width = strip.shape[1]
    step = width / k
    cuts = [int(round(i * step)) for i in range(1, k)]
    if strip_mask is not None:
        fills = [strip_mask[:, int(round(i * step)):int(round((i + 1) * step))].mean()
                 for i in range(k)]
        if np.median(fills) >= SPLIT_FULL_FILL:
            return 1.0
    d = np.abs(np.diff(strip.astype(np.float32), axis=1)).mean(axis=(0, 2))
    inside = np.ones(len(d), bool)
    for c in cuts:
        inside[max(0, c - 4):c + 4] = False
    if not inside.any():
        return 1.0
    limit = max(float(np.percentile(d[inside], 95)), 2.0 * float(np.median(d[inside])))
    return float(np.mean([d[max(0, c - 4):c + 3].max() > limit for c in cuts]))


def _one_image_error(crop: np.ndarray) -> float:
    """Mean absolute error (0..255) of ``crop`` against itself cut to 32x32 and drawn back."""
    small = resample_tile(crop, (32, 32, crop.shape[-1]))
    ys = np.minimum((np.arange(crop.shape[0]) * 32) // crop.shape[0], 31)
    xs = np.minimum((np.arange(crop.shape[1]) * 32) // crop.shape[1], 31)
    return float(np.abs(small[ys][:, xs].astype(np.float32) - crop.astype(np.float32)).mean())


def _mosaic(rgb: np.ndarray, box: tuple[int, int, int, int], notes: list[str]
            ) -> list[tuple[int, int, int, int]] | None:
    """A lone square panel that is a gap-less k x k grid (``subplots_adjust(wspace=0,
    hspace=0)`` with axes on): the largest k (3..16) whose every cut, both ways, is a seam."""
    t, left, b, r = box
    side = min(b - t, r - left)
    crop = rgb[t:b, left:r]
    if _one_image_error(crop) < ONE_IMAGE_ERROR:  # one small image drawn large: its pixel
        return None                                # blocks have seams too
    for k in range(16, 2, -1):
        if side / k < MIN_PANEL * 2:
            continue
        if seam_share(crop, None, k) >= MOSAIC_SEAMS and \
                seam_share(crop.transpose(1, 0, 2), None, k) >= MOSAIC_SEAMS:
            notes.append(f"the one square panel is a gap-less {k}x{k} grid (seams between images)")
            hs, ws = (b - t) / k, (r - left) / k
            return [(t + round(i * hs), left + round(j * ws), t + round((i + 1) * hs),
                     left + round((j + 1) * ws)) for i in range(k) for j in range(k)]
    return None


def _regular_bands(bands: list[tuple[int, int]], s: int, profile: np.ndarray, notes: list[str],
                   what: str, may_split: bool,
                   seams: Callable[[int, int, int, bool], float] | None = None
                   ) -> list[tuple[int, int]]:
    """Keep bands that are panels, split gap-less runs of k panels, regrow short ones.

    Splitting needs the cuts to fall between images (``seams(a, b, k, fill)``: the band's
    :func:`seam_share`, ``fill`` allowing full panels without seams): at least
    ``SEAM_MIN_SHARE`` of them when the other direction shows two separate panels of size s
    (``may_split``), every one (``MOSAIC_SEAMS``, no fill allowance) when it does not;
    otherwise a wide plot area would be cut into fake panels.
    """
    out = []
    for a, b in bands:
        k = _multiple(b - a, s)
        if k == 0 and 0.6 * s <= b - a < s:
            k = 1  # a panel whose edge rows look like background (white sky): regrown below
        if k > 1 and may_split and seams is not None and seams(a, b, k, True) < SEAM_MIN_SHARE:
            notes.append(f"ignored a {b - a}-pixel {what} band: cut into {k} panels it shows "
                         "no edges between images (a plot area)")
            continue
        if k > 1 and not may_split and seams is not None and \
                seams(a, b, k, False) >= MOSAIC_SEAMS:
            may_split = True  # gap-less both ways: every cut is a seam between images
        if k == 0 or (k > 1 and not may_split):
            notes.append(f"ignored a {b - a}-pixel {what} band (colorbar, label, text or plot)")
            continue
        if k > 1:
            notes.append(f"split a gap-less {what} band into {k} panels")
        step = (b - a) / k
        out += [(int(round(a + i * step)), int(round(a + (i + 1) * step))) for i in range(k)]
    return _regrow(out, s, profile)


def _has_gridline(rgb: np.ndarray, box: tuple[int, int, int, int]) -> bool:
    """Whether a panel looks like plot axes: a flat face colour crossed by a grid line.

    The face colour is the panel's most frequent exact colour (at least a fifth of its
    pixels); a grid line is a full row or column whose own most frequent colour, another
    colour than the face, covers at least 70% of it. Shown images rarely repeat one exact
    colour that often, and a saturated white background is the face colour, not a line.
    """
    t, left, b, r = box
    p = rgb[t + 2:b - 2, left + 2:r - 2].astype(np.int32)
    if min(p.shape[:2]) < 8:
        return False
    codes = (p[..., 0] << 16) | (p[..., 1] << 8) | p[..., 2]
    values, inverse, counts = np.unique(codes, return_inverse=True, return_counts=True)
    face = int(counts.argmax())
    if counts[face] < 0.2 * codes.size:
        return False
    inverse = inverse.reshape(codes.shape)

    def rgb_of(code: int) -> np.ndarray:
        return np.array([(code >> 16) & 255, (code >> 8) & 255, code & 255])

    face_rgb = rgb_of(int(values[face]))
    k = len(values)
    for lines in (inverse, inverse.T):
        n, width = lines.shape
        per_line = np.bincount((np.arange(n)[:, None] * k + lines).ravel(),
                               minlength=n * k).reshape(n, k)
        per_line[:, face] = 0
        top = per_line.argmax(1)
        full = per_line[np.arange(n), top] >= 0.7 * width
        if any(np.abs(rgb_of(int(code)) - face_rgb).max() > 8 for code in values[top[full]]):
            return True
    return False


def _not_images(rgb: np.ndarray, mask: np.ndarray, boxes: list[tuple[int, int, int, int]]
                ) -> str | None:
    """Why the found panels are plot areas rather than shown images, or None.

    ``imshow`` keeps images square (median side ratio at least ``MIN_PANEL_ASPECT``), a
    figure of images has most of its drawn pixels inside them (``MIN_PANEL_SHARE``), and
    shown images are not flat face colours crossed by grid lines (``MAX_GRIDLINE_PANELS``).
    """
    aspect = float(np.median([min(b - t, r - left) / max(b - t, r - left, 1)
                              for t, left, b, r in boxes]))
    if aspect < MIN_PANEL_ASPECT:
        return (f"the panels are not square (median sides ratio {aspect:.2f}): plot areas, "
                "not shown images")
    inside = np.zeros_like(mask)
    for t, left, b, r in boxes:
        inside[t:b, left:r] = True
    share = float(mask[inside].sum() / max(int(mask.sum()), 1))
    if share < MIN_PANEL_SHARE:
        return (f"the square panels hold only {share:.0%} of the drawn pixels: details of a "
                "plot, not shown images")
    lined = sum(_has_gridline(rgb, box) for box in boxes)
    if lined > MAX_GRIDLINE_PANELS * len(boxes):
        return (f"{lined} of {len(boxes)} panels are a flat face colour crossed by grid lines: "
                "plot axes, not shown images")
    return None


def _covered(bands: list[tuple[int, int]], n: int) -> np.ndarray:
    """Boolean index of the lines inside ``bands`` (all lines when there are none)."""
    out = np.zeros(n, bool)
    for a, b in bands:
        out[a:b] = True
    return out if out.any() else np.ones(n, bool)


def _regrow(bands: list[tuple[int, int]], s: int, profile: np.ndarray) -> list[tuple[int, int]]:
    """Grow panels that look short (pale edge rows) back to size s.

    Panels of a grid are evenly spaced, so the true gap is the smallest gap between bands;
    a short panel grows into whichever neighbouring gap is wider than that. A lone panel
    grows towards the side whose next line looks more like image content.
    """
    gaps = [b2[0] - b1[1] for b1, b2 in zip(bands, bands[1:])]
    g = min(gaps) if gaps else 0
    fixed = []
    for i, (a, b) in enumerate(bands):
        deficit = s - (b - a)
        if deficit <= 1:
            fixed.append((a, b))
            continue
        above = gaps[i - 1] - g if i > 0 else None
        below = gaps[i] - g if i < len(gaps) else None
        if above is None and below is None:
            while b - a < s - 1:
                up = profile[a - 1] if a > 0 else -1.0
                down = profile[b] if b < len(profile) else -1.0
                if max(up, down) < 0:
                    break
                a, b = (a - 1, b) if up > down or (up == down and (b - a) % 2) else (a, b + 1)
        else:
            if above is None:
                down = min(max(below, 0), deficit)
                up = deficit - down
            elif below is None:
                up = min(max(above, 0), deficit)
                down = deficit - up
            else:
                ea, eb = max(above, 0), max(below, 0)
                up = round(deficit * ea / (ea + eb)) if ea + eb > 0 else deficit // 2
                down = deficit - up
            a, b = max(0, a - up), min(len(profile), b + down)
        fixed.append((a, b))
    return fixed


def _flat_line(line: np.ndarray) -> np.ndarray | None:
    """The line's median colour when 90% of its pixels are within 12 of it (corners may differ)."""
    line = line.astype(np.float32)
    med = np.median(line, axis=0)
    return med if (np.abs(line - med).max(axis=-1) <= 12).mean() >= 0.9 else None


def _edge_line(rgb: np.ndarray, box: tuple[int, int, int, int], side: str, depth: int) -> np.ndarray:
    t, left, b, r = box
    return {"t": rgb[t + depth, left:r], "b": rgb[b - 1 - depth, left:r],
            "l": rgb[t:b, left + depth], "r": rgb[t:b, r - 1 - depth]}[side]


def _trim_spines(rgb: np.ndarray, box: tuple[int, int, int, int],
                 bg: np.ndarray) -> tuple[int, int, int, int]:
    """Drop axis spines (flat dark lines) and the anti-aliased line just outside them.

    They frame each panel when ``axis('off')`` was not called. Lines outside a dark spine
    (anti-aliasing, tick labels of the neighbour panel) go with it; without a spine within
    the outer 3 lines nothing is cut, so white image rows stay.
    """
    t, left, b, r = box
    for side in ("t", "b", "l", "r"):
        for _ in range(2):
            if b - t <= MIN_PANEL or r - left <= MIN_PANEL:
                break
            depth = next((d for d in range(3) if _is_spine(_edge_line(rgb, (t, left, b, r), side, d))),
                         None)
            if depth is None:
                break
            cut = depth + 1
            t, b = t + cut * (side == "t"), b - cut * (side == "b")
            left, r = left + cut * (side == "l"), r - cut * (side == "r")
    return t, left, b, r


def _is_spine(line: np.ndarray) -> bool:
    med = _flat_line(line)
    return med is not None and med.mean() < 100


def resample_tile(crop: np.ndarray, shape: tuple[int, int, int]) -> np.ndarray:
    """Area-average (PIL BOX filter) an RGB crop to ``shape`` (H, W, C) uint8 (C = 1: grey)."""
    from PIL import Image

    h, w, c = shape
    img = Image.fromarray(crop).resize((w, h), Image.Resampling.BOX)
    if c == 1:
        return np.asarray(img.convert("L"), dtype=np.uint8)[..., None]
    return np.asarray(img, dtype=np.uint8)


_LUTS: dict[str, np.ndarray] = {}
COLORMAP_TABLE = Path(__file__).with_name("colormaps.json")
"""The 256-entry tables of :data:`COLORMAPS`, as matplotlib draws them: read from this file,
so that the grader's process need not load matplotlib to read a figure (written by
:func:`write_colormap_table`; a test checks it against matplotlib)."""


def _luts() -> dict[str, np.ndarray]:
    if not _LUTS:
        try:
            raw = json.loads(COLORMAP_TABLE.read_text(encoding="utf-8"))
            table = {name: np.asarray(raw[name], dtype=np.float64).reshape(256, 3)
                     for name in COLORMAPS}
        except (OSError, KeyError, ValueError, TypeError):
            table = colormap_luts()
        _LUTS.update(table)
    return _LUTS


def colormap_luts() -> dict[str, np.ndarray]:
    """The tables, computed by matplotlib: 256 RGB rows 0..255 per colormap."""
    from matplotlib import colormaps

    return {name: np.rint(colormaps[name](np.linspace(0, 1, 256))[:, :3] * 255) for name in COLORMAPS}


def write_colormap_table(path: Path = COLORMAP_TABLE) -> None:
    """Write :data:`COLORMAP_TABLE` (``python -c "from grader.intake.figures.tiles import
    write_colormap_table as w; w()"``)."""
    table = {k: v.astype(int).tolist() for k, v in colormap_luts().items()}
    path.write_text(json.dumps(table, separators=(",", ":")), encoding="utf-8")


def channel_of(tiles: np.ndarray, colormap: str) -> np.ndarray:
    """Colour-mapped tiles back to the one channel they show, as grey RGB (uint8).

    Each pixel takes the index of the nearest colour of the colormap's 256-entry table, so
    a tile drawn with ``plt.imshow(x[..., 0])`` becomes that channel again (up to the
    figure's resampling). Unknown colormaps return the tiles' mean over RGB.
    """
    tiles = np.asarray(tiles)
    lut = _luts().get(colormap)
    if lut is None:
        gray = tiles.astype(np.float32).mean(axis=-1)
    else:
        px = tiles.reshape(-1, 3).astype(np.float32)
        gray = np.empty(len(px), np.float32)
        for start in range(0, len(px), 1 << 12):  # bounded memory: 4k pixels x 256 colours
            chunk = px[start:start + (1 << 12)]
            d = ((chunk[:, None, :] - lut[None, :, :].astype(np.float32)) ** 2).sum(axis=-1)
            gray[start:start + len(chunk)] = d.argmin(axis=1)
        gray = gray.reshape(tiles.shape[:-1])
    g = np.clip(np.rint(gray), 0, 255).astype(np.uint8)
    return np.repeat(g[..., None], 3, axis=-1)


def match_colormap(crops: list[np.ndarray], max_dist: float = 12.0) -> str | None:
    """Name of a colormap that nearly all panel pixels lie on, or None.

    A panel matches when 90% of its (subsampled) pixels are within ``max_dist`` (RGB,
    0..255) of the colormap's curve and the panel is not flat. The figure is colormapped
    when at least 75% of its panels match the same colormap.
    """
    luts = _luts()
    votes: dict[str, int] = {}
    misses = 0
    for crop in crops:
        inner = crop[2:-2, 2:-2] if min(crop.shape[:2]) > 8 else crop
        px = inner.reshape(-1, 3).astype(np.float32)
        px = px[:: max(1, len(px) // 512)]
        if px.std(axis=0).max() < 4:
            continue  # a flat panel fits any colormap; no evidence either way
        name = next((n for n, lut in luts.items() if _on_curve(px, lut, max_dist)), None)
        if name:
            votes[name] = votes.get(name, 0) + 1
        else:
            misses += 1
            if misses > 0.25 * len(crops):
                return None  # RGB content: stop early
    if not votes:
        return None
    name, count = max(votes.items(), key=lambda kv: kv[1])
    return name if count >= 0.75 * len(crops) else None


def _on_curve(px: np.ndarray, lut: np.ndarray, max_dist: float) -> bool:
    """True when 90% of pixels lie within max_dist of some colour of the lookup table.

    A cheap pass on every 8th pixel rejects most RGB panels before the full test.
    """
    lut = lut.astype(np.float32)
    for sample in (px[::8], px):
        d2 = ((sample[:, None, :] - lut[None, :, :]) ** 2).sum(-1).min(axis=1)
        if np.quantile(d2, 0.9) > max_dist**2:
            return False
    return True


def _looks_like_chart(mask: np.ndarray) -> bool:
    """Mostly background with long straight lines (axes) -> a plot, not pictures."""
    if mask.mean() > 0.5:
        return False
    h, w = mask.shape
    long_rows = sum(1 for row in mask if any(b - a >= 0.25 * w for a, b in _runs(row, 0)))
    long_cols = sum(1 for col in mask.T if any(b - a >= 0.2 * h for a, b in _runs(col, 0)))
    return long_rows >= 1 and long_cols >= 1


def _finish(kind: TileKind, rgb: np.ndarray, boxes: list, rows: int, cols: int,
            notes: list[str], shape: tuple[int, int, int]) -> TileResult:
    crops = [rgb[t:b, left:r] for t, left, b, r in boxes]
    tiles = (np.stack([resample_tile(c, shape) for c in crops]) if crops
             else np.zeros((0, *shape), np.uint8))
    # A grey assignment shows its images through a grey colormap: that is their colour.
    cmap = match_colormap(crops) if crops and shape[-1] == 3 else None
    if cmap:
        notes.append(f"the panels show one channel through the '{cmap}' colormap, not RGB colour")
    return TileResult(kind=kind, tiles=tiles, rows=rows, cols=cols, colormapped=cmap is not None,
                      colormap=cmap, boxes=[tuple(map(int, bx)) for bx in boxes], notes=notes)


def _no_background(rgb: np.ndarray, notes: list[str], shape: tuple[int, int, int]) -> TileResult:
    h, w = rgb.shape[:2]
    th, tw = shape[0], shape[1]
    if h % th == 0 and w % tw == 0 and (h > th or w > tw):
        rows, cols = h // th, w // tw
        notes.append(f"no uniform background: read as a gap-less {rows}x{cols} mosaic of "
                     f"{th}x{tw} images")
        boxes = [(i * th, j * tw, (i + 1) * th, (j + 1) * tw)
                 for i in range(rows) for j in range(cols)]
        return _finish("grid", rgb, boxes, rows, cols, notes, shape)
    if 0.8 <= h / w <= 1.25:
        notes.append("no uniform background: read as one image")
        return _finish("single", rgb, [(0, 0, h, w)], 1, 1, notes, shape)
    notes.append("no uniform background and not square: cannot tell what this is")
    return _finish("unknown", rgb, [], 0, 0, notes, shape)


def extract_frame_tiles(frames: list[np.ndarray], shape: tuple[int, int, int] | None = None
                        ) -> list[TileResult]:
    """Tiles of every frame of one animation (a GIF of sample grids), in frame order.

    One animation is drawn by one piece of code, so its panel layout is found once: on the
    first, middle and last frame, each read with :func:`extract_tiles`. When the three agree on
    the layout (kind, panel count, frame size, background), every frame is cut with the
    per-coordinate median of their boxes (a spine trim that one frame's dark edge moved by
    a few pixels is outvoted) and shown through the last frame's colour map, the frame whose
    panels differ most from the background. A frame whose panels are not where the layout
    says (a figure that grew, a shifted title), and every frame when the three disagree, is
    read on its own.
    """
    if not frames:
        return []
    shape = tuple(shape) if shape is not None else get_assignment().image_shape
    rgbs = [_to_rgb(f) for f in frames]
    probes = sorted({0, len(rgbs) // 2, len(rgbs) - 1})
    seen = {i: extract_tiles(rgbs[i], shape) for i in probes}
    if len(probes) == len(rgbs):  # every frame was read on its own already
        return [seen[i] for i in probes]
    last = seen[probes[-1]]
    bg = background_colour(rgbs[-1])
    agree = (bg is not None and last.kind in ("grid", "single") and len(last.boxes) > 0
             and all(r.kind == last.kind and len(r.boxes) == len(last.boxes)
                     and rgbs[i].shape == rgbs[-1].shape for i, r in seen.items()))
    if not agree:
        return [seen.get(i) or extract_tiles(rgb, shape) for i, rgb in enumerate(rgbs)]
    boxes = [tuple(int(v) for v in np.median([seen[i].boxes[k] for i in probes], axis=0))
             for k in range(len(last.boxes))]
    out: list[TileResult] = []
    for rgb in rgbs:
        if not _same_layout(rgb, bg, boxes):
            out.append(extract_tiles(rgb, shape))
            continue
        crops = [rgb[t:b, left:r] for t, left, b, r in boxes]
        out.append(TileResult(kind=last.kind,
                              tiles=np.stack([resample_tile(c, shape) for c in crops]),
                              rows=last.rows, cols=last.cols, colormapped=last.colormapped,
                              colormap=last.colormap, boxes=list(boxes), notes=list(last.notes)))
    return out


def _same_layout(rgb: np.ndarray, bg: np.ndarray, boxes: list[tuple[int, int, int, int]]) -> bool:
    """The frame has the template's background, and each of its boxes is mostly not background
    (as :func:`extract_tiles` requires of a panel)."""
    frame_bg = background_colour(rgb)
    if frame_bg is None or np.abs(frame_bg.astype(np.int16) - bg.astype(np.int16)).max() > 0:
        return False
    diff = np.abs(rgb.astype(np.int16) - bg.astype(np.int16)).max(axis=-1) > BG_TOLERANCE
    return all(diff[t:b, left:r].mean() >= 0.5 for t, left, b, r in boxes)


def extract_tiles(image: np.ndarray, shape: tuple[int, int, int] | None = None) -> TileResult:
    """Find the image panels of a figure and return them as 32x32 tiles.

    Args:
        image: uint8 (H, W, 3) or (H, W, 4) pixels of a saved figure (or a bare image).
        shape: (height, width, channels) of the tiles; default the current assignment's.

    Returns:
        A :class:`TileResult`; ``kind`` says whether panels were found.

    Raises:
        ValueError: ``image`` is not a uint8 (H, W, 3|4) array.
    """
    shape = tuple(shape) if shape is not None else get_assignment().image_shape
    rgb = _to_rgb(image)
    notes: list[str] = []
    bg = background_colour(rgb)
    if bg is None:
        return _no_background(rgb, notes, shape)
    mask = np.abs(rgb.astype(np.int16) - bg.astype(np.int16)).max(axis=-1) > BG_TOLERANCE
    if not mask.any():
        notes.append("the image is one flat colour")
        return _finish("unknown", rgb, [], 0, 0, notes, shape)
    row_b = _bands(mask.mean(axis=1))
    in_rows = np.zeros(len(mask), bool)
    for a, b in row_b:
        in_rows[a:b] = True
    col_p = mask[in_rows].mean(axis=0) if in_rows.any() else mask.mean(axis=0)
    col_b = _bands(col_p)
    in_cols = np.zeros(mask.shape[1], bool)
    for a, b in col_b:
        in_cols[a:b] = True
    row_p = mask[:, in_cols].mean(axis=1) if in_cols.any() else mask.mean(axis=1)
    row_b = _bands(row_p)
    s = _panel_size([b - a for a, b in row_b], [b - a for a, b in col_b]) if row_b and col_b else None
    boxes, rows, cols = [], 0, 0
    if s:
        n_row1 = sum(1 for a, b in row_b if _multiple(b - a, s) == 1)
        n_col1 = sum(1 for a, b in col_b if _multiple(b - a, s) == 1)
        rows_in, cols_in = _covered(row_b, len(mask)), _covered(col_b, mask.shape[1])

        def row_seams(a: int, b: int, k: int, fill: bool) -> float:
            return seam_share(rgb[a:b][:, cols_in].transpose(1, 0, 2),
                              mask[a:b][:, cols_in].T if fill else None, k)

        def col_seams(a: int, b: int, k: int, fill: bool) -> float:
            return seam_share(rgb[rows_in][:, a:b], mask[rows_in][:, a:b] if fill else None, k)

        row_b = _regular_bands(row_b, s, row_p, notes, "row", may_split=n_col1 >= 2,
                               seams=row_seams)
        col_b = _regular_bands(col_b, s, col_p, notes, "column", may_split=n_row1 >= 2,
                               seams=col_seams)
        cells = [(t, left, b, r) for t, b in row_b for left, r in col_b]
        fills = [mask[t:b, left:r].mean() for t, left, b, r in cells]
        kept = [c for c, f in zip(cells, fills) if f >= 0.1]
        if len(kept) < len(cells):
            notes.append(f"{len(cells) - len(kept)} empty panel(s) skipped")
        if kept and np.median([mask[t:b, left:r].mean() for t, left, b, r in kept]) >= 0.5:
            boxes = [_trim_spines(rgb, c, bg.astype(np.float32)) for c in kept]
            rows = len({c[0] for c in kept})
            cols = len({c[1] for c in kept})
    why_not = _not_images(rgb, mask, boxes) if boxes else None
    if why_not:
        notes.append(why_not)
        boxes = []
    if len(boxes) == 1:
        tiles_in = _mosaic(rgb, boxes[0], notes)
        if tiles_in is not None:
            boxes = [_trim_spines(rgb, c, bg.astype(np.float32)) for c in tiles_in]
            rows = cols = int(round(len(boxes) ** 0.5))
    if len(boxes) >= 2:
        return _finish("grid", rgb, boxes, rows, cols, notes, shape)
    if len(boxes) == 1 and min(boxes[0][2] - boxes[0][0], boxes[0][3] - boxes[0][1]) \
            >= MIN_SINGLE * min(shape[:2]):
        return _finish("single", rgb, boxes, 1, 1, notes, shape)
    if len(boxes) == 1:
        notes.append("the only square panel is too small to be a shown image")
    if _looks_like_chart(mask):
        notes.append("mostly empty with long straight lines: a chart, not generated images")
        return _finish("chart", rgb, [], 0, 0, notes, shape)
    notes.append("no square image panels found")
    return _finish("unknown", rgb, [], 0, 0, notes, shape)


def _line_groups(starts: list[int], tol: int = 3) -> list[int]:
    """Sorted distinct panel start positions (starts within ``tol`` pixels are one line)."""
    out: list[int] = []
    for x in sorted(starts):
        if not out or x - out[-1] > tol:
            out.append(x)
    return out


def split_pair(image: np.ndarray, shape: tuple[int, int, int] | None = None
               ) -> tuple[TileResult, TileResult] | None:
    """Cut a side-by-side (or stacked) before/after figure into its two grids.

    The two grids are told apart by the widest gap between columns (or rows) of panels: it
    must be at least twice every other gap of that direction. Each half is then read on its
    own (:func:`extract_tiles`), so the halves may differ in layout. None when the figure
    does not fall into two halves with at least 2 panels each.
    """
    shape = tuple(shape) if shape is not None else get_assignment().image_shape
    rgb = _to_rgb(image)
    whole = extract_tiles(rgb, shape)
    if whole.kind != "grid" or len(whole.boxes) < 2:
        return None
    for axis in (1, 0):  # side by side first, then stacked
        starts = _line_groups([b[axis] for b in whole.boxes])
        ends = _line_groups([b[axis + 2] for b in whole.boxes])
        if len(starts) < 2 or len(ends) != len(starts):
            continue
        gaps = [s - e for e, s in zip(ends, starts[1:])]
        widest = int(np.argmax(gaps))
        others = gaps[:widest] + gaps[widest + 1:]
        if others and gaps[widest] < 2 * max(max(others), 1):
            continue
        cut = (ends[widest] + starts[widest + 1]) // 2
        halves = (rgb[:, :cut], rgb[:, cut:]) if axis == 1 else (rgb[:cut], rgb[cut:])
        read = tuple(extract_tiles(h, shape) for h in halves)
        if all(r.kind == "grid" and len(r.tiles) >= 2 for r in read):
            return read[0], read[1]
    return None
