"""Images for the report: uint8 arrays and GIF bytes to inline ``data:`` URIs, tiles with captions."""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageSequence

from grader.judge.results import JudgeResult

#: the report stays small: at most this many tiles per gallery, and GIFs shrunk above this size
MAX_TILES = 64
MAX_GIF_BYTES = 1_500_000


@dataclass
class Tile:
    """One image of a gallery, ready for the template."""

    uri: str
    class_name: str = ""
    prob: float | None = None
    recognized: bool = False
    near_copy: bool = False
    """An almost identical image is in the same set (a sign of mode collapse)."""
    eye: str = ""
    """The eye-label score's reading: ``clear``, ``plausible`` or ``""`` (neither)."""
    copy_of: str = ""
    """The real CIFAR-10 image this tile copies, when it is one."""


def png_bytes(image: np.ndarray) -> bytes:
    """Encode a uint8 (H, W, C) array (C = 1, 3 or 4) as PNG bytes."""
    arr = np.asarray(image)
    if arr.dtype != np.uint8 or arr.ndim != 3 or arr.shape[-1] not in (1, 3, 4):
        raise ValueError(f"expected uint8 (H, W, C) image, got {arr.dtype}{arr.shape}")
    if arr.shape[-1] == 1:
        arr = arr[..., 0]
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="PNG", optimize=True)
    return buf.getvalue()


def data_uri(data: bytes, mime: str) -> str:
    """``data:`` URI of ``data`` (base64)."""
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def gallery_tiles(images: np.ndarray | None, judge: JudgeResult | None,
                  max_tiles: int = MAX_TILES) -> list[Tile]:
    """Tiles of the first ``max_tiles`` images, captioned from the judge's per-image verdicts."""
    if images is None or len(images) == 0:
        return []
    per = judge.per_image if judge else []
    tiles = []
    for i, img in enumerate(np.asarray(images)[:max_tiles]):
        tile = Tile(uri=data_uri(png_bytes(img), "image/png"))
        if i < len(per):
            v = per[i]
            tile.class_name, tile.prob = v.class_name, v.prob
            tile.recognized, tile.near_copy = v.recognizable, v.near_copy
            tile.eye = "clear" if v.clear else ("plausible" if v.named else "")
            tile.copy_of = v.copy_of or ""
        tiles.append(tile)
    return tiles


def gif_strip(data: bytes, n: int = 8, height: int = 96) -> list[str]:
    """Up to ``n`` frames of a GIF, evenly spaced from first to last, as PNG data URIs."""
    try:
        with Image.open(io.BytesIO(data)) as im:
            frames = [f.convert("RGB") for f in ImageSequence.Iterator(im)]
    except Exception:  # a damaged GIF: the report says so elsewhere
        return []
    if not frames:
        return []
    picks = sorted({round(i * (len(frames) - 1) / max(1, n - 1)) for i in range(min(n, len(frames)))})
    out = []
    for i in picks:
        f = frames[i]
        w = max(1, round(f.width * height / max(1, f.height)))
        buf = io.BytesIO()
        f.resize((w, height)).save(buf, format="PNG")
        out.append(data_uri(buf.getvalue(), "image/png"))
    return out


def grid(tiles: np.ndarray, cols: int = 4, pad: int = 1) -> np.ndarray:
    """Arrange uint8 (K, H, W, C) tiles into one image on white, one pixel between tiles."""
    k, h, w, c = tiles.shape
    rows = -(-k // cols)
    out = np.full((rows * (h + pad) + pad, cols * (w + pad) + pad, c), 255, dtype=np.uint8)
    for i, t in enumerate(tiles):
        r, q = divmod(i, cols)
        out[pad + r * (h + pad): pad + r * (h + pad) + h, pad + q * (w + pad): pad + q * (w + pad) + w] = t
    return out


def frames_to_gif(frames: np.ndarray, *, cols: int = 4, max_tiles: int = 16, scale: int = 1,
                  duration_ms: int = 250) -> bytes:
    """Animated GIF of fixed-noise frames uint8 (F, K, H, W, C): one grid per frame."""
    pics = []
    for f in np.asarray(frames):
        g = grid(f[:max_tiles], cols=cols)
        if g.shape[-1] == 1:
            g = g[..., 0]
        pics.append(Image.fromarray(g).resize((g.shape[1] * scale, g.shape[0] * scale),
                                              Image.NEAREST))
    buf = io.BytesIO()
    pics[0].save(buf, format="GIF", save_all=True, append_images=pics[1:], duration=duration_ms,
                 loop=0)
    return buf.getvalue()


def shrink_gif(data: bytes, max_bytes: int = MAX_GIF_BYTES, max_side: int = 320) -> tuple[bytes, bool]:
    """Return ``data`` unchanged when small, else a GIF with fewer and smaller frames.

    Returns:
        (gif bytes, whether it was shrunk). Unreadable data is returned unchanged.
    """
    if len(data) <= max_bytes:
        return data, False
    try:
        with Image.open(io.BytesIO(data)) as im:
            # Palette frames are resized with NEAREST and stay paletted: no slow re-quantizing.
            frames = [f.copy() if f.mode in ("P", "L") else f.convert("RGB").quantize(
                method=Image.Quantize.FASTOCTREE) for f in ImageSequence.Iterator(im)]
            duration = im.info.get("duration", 200)
    except Exception:  # noqa: BLE001 - a corrupt GIF stays as it is; the browser shows what it can
        return data, False
    step, side = 1, max_side
    while True:
        picked = frames[::step]
        if picked[-1] is not frames[-1]:
            picked.append(frames[-1])  # always keep the last (best) frame
        small = []
        for f in picked:
            ratio = min(1.0, side / max(f.size))
            small.append(f.resize((max(1, int(f.width * ratio)), max(1, int(f.height * ratio))),
                                  Image.NEAREST))
        buf = io.BytesIO()
        small[0].save(buf, format="GIF", save_all=True, append_images=small[1:],
                      duration=duration * step, loop=0)
        out = buf.getvalue()
        if len(out) <= max_bytes or (len(picked) <= 2 and side <= 64):
            return out, True
        step, side = step * 2, max(64, int(side * 0.8))
