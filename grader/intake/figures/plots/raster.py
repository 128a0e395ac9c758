"""Decode a plot image into an RGB array and measure its background (the input contract)."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

#: images with a longer side are reduced by an integer factor first (speed; text stays large)
MAX_SIDE = 1600
MIN_SIDE = 60
#: refuse anything bigger than this to decode at all (a decompression bomb, not a plot)
MAX_PIXELS = 60_000_000
MAX_BYTES = 64 * 1024 * 1024
#: a pixel differs from a background colour when a channel differs by more than this (0..255)
DIFF_THRESHOLD = 10


class UnreadableImage(ValueError):
    """The input is not an image the reader can use; the message says why."""


@dataclass
class Raster:
    """A decoded image at working resolution."""

    rgb: np.ndarray
    """Shape (H, W, 3), int16 (so differences do not wrap)."""
    scale: int
    """Original pixels per working pixel (1 unless the image was reduced)."""
    width: int
    """Original width."""
    height: int
    """Original height."""
    background: np.ndarray
    """Figure background colour, shape (3,)."""
    gap: np.ndarray | None = None
    """``channel_gap(rgb, background)``, filled by ``load_raster``."""


def _from_pil(img: Image.Image) -> np.ndarray:
    if img.width * img.height > MAX_PIXELS:
        raise UnreadableImage(f"image too large ({img.width}x{img.height} pixels)")
    img.load()
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        img = img.convert("RGBA")
        canvas = Image.new("RGBA", img.size, (255, 255, 255, 255))
        img = Image.alpha_composite(canvas, img)  # transparent PNGs show on a white page
    return np.asarray(img.convert("RGB"))


def _decode(image: np.ndarray | Path | str | bytes) -> np.ndarray:
    if isinstance(image, np.ndarray):
        arr = image
        if arr.dtype != np.uint8:
            arr = np.asarray(arr, dtype=float)
            if not np.all(np.isfinite(arr)):
                raise UnreadableImage("image array holds non-finite values")
            arr = np.clip(arr * 255.0 if arr.max() <= 1.0 else arr, 0, 255).astype(np.uint8)
        if arr.ndim == 2:
            arr = np.repeat(arr[:, :, None], 3, axis=2)
        if arr.ndim != 3 or arr.shape[2] not in (3, 4):
            raise UnreadableImage(f"image array has shape {arr.shape}; expected HxW, HxWx3 or HxWx4")
        if arr.shape[2] == 4:
            alpha = arr[:, :, 3:4].astype(float) / 255.0
            arr = (arr[:, :, :3] * alpha + 255.0 * (1 - alpha)).astype(np.uint8)
        return arr
    if isinstance(image, str | Path):
        path = Path(image)
        if not path.is_file():
            raise UnreadableImage(f"no image file at {path}")
        if path.stat().st_size > MAX_BYTES:
            raise UnreadableImage(f"image file too large ({path.stat().st_size} bytes)")
        image = path.read_bytes()
    if isinstance(image, bytes | bytearray | memoryview):
        if len(image) > MAX_BYTES:
            raise UnreadableImage(f"image data too large ({len(image)} bytes)")
        try:
            with Image.open(io.BytesIO(bytes(image))) as img:
                return _from_pil(img)
        except UnreadableImage:
            raise
        except Exception as exc:  # PIL raises many types on damaged data
            raise UnreadableImage(f"image could not be decoded ({type(exc).__name__})") from exc
    raise UnreadableImage(f"unsupported image input of type {type(image).__name__}")


def border_colour(rgb: np.ndarray) -> np.ndarray:
    """Most common colour of the outer two-pixel ring (the figure's face colour)."""
    ring = np.concatenate([rgb[:2].reshape(-1, 3), rgb[-2:].reshape(-1, 3),
                           rgb[:, :2].reshape(-1, 3), rgb[:, -2:].reshape(-1, 3)])
    return mode_colour(ring)


def mode_colour(pixels: np.ndarray) -> np.ndarray:
    """Most common exact colour among pixels, shape (N, 3) -> (3,)."""
    px = np.asarray(pixels, dtype=np.int64).reshape(-1, 3)
    if len(px) == 0:
        return np.zeros(3, dtype=np.int16)
    keys = (px[:, 0] << 16) | (px[:, 1] << 8) | px[:, 2]
    vals, counts = np.unique(keys, return_counts=True)
    k = int(vals[np.argmax(counts)])
    return np.array([(k >> 16) & 255, (k >> 8) & 255, k & 255], dtype=np.int16)


def channel_gap(rgb: np.ndarray, colour: np.ndarray) -> np.ndarray:
    """Largest channel difference of each pixel from ``colour`` (0..255), shape (...)."""
    c = np.asarray(colour, dtype=np.int16)
    # three element-wise maxima: far faster than a reduction over a length-3 axis
    return np.maximum(np.maximum(np.abs(rgb[..., 0] - c[0]), np.abs(rgb[..., 1] - c[1])),
                      np.abs(rgb[..., 2] - c[2]))


def differs(rgb: np.ndarray, colour: np.ndarray, threshold: int = DIFF_THRESHOLD) -> np.ndarray:
    """Boolean mask of pixels whose largest channel difference from ``colour`` exceeds it."""
    return channel_gap(rgb, colour) > threshold


def load_raster(image: np.ndarray | Path | str | bytes) -> Raster:
    """Decode ``image`` and reduce it to working size.

    Args:
        image: an RGB(A) or grey array, a path to an image file, or encoded image bytes.

    Returns:
        The raster with its figure background colour.

    Raises:
        UnreadableImage: not decodable, too small or too large.
    """
    arr = _decode(image)
    h, w = arr.shape[:2]
    if min(h, w) < MIN_SIDE:
        raise UnreadableImage(f"image too small for a plot ({w}x{h} pixels)")
    scale = max(1, -(-max(h, w) // MAX_SIDE))
    if scale > 1:
        img = Image.fromarray(arr).reduce(scale)
        arr = np.asarray(img)
    rgb = arr.astype(np.int16)
    bg = border_colour(rgb)
    return Raster(rgb=rgb, scale=scale, width=w, height=h, background=bg,
                  gap=channel_gap(rgb, bg))
