"""Image similarity: difference hashes of sample grids and GIF frames, and near-identical pairs.

Sample grids, GIF frames and sample images embedded in notebooks get a 256-bit difference hash
(16x16 dHash of the grayscale image with uniform borders cropped); a pair is flagged when some
image of one student is within :data:`IMAGE_THRESHOLD` of one of the other's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from grader.cohort.similarity.records import ImagePrint, SimilarityFlag, SubmissionPrint

#: images: 1 - (differing bits / HASH_BITS) at or above this is "near-identical"; calibrated in
#: reference/similarity_calibration.md (different grids <= 0.71, re-encoded copies >= 0.89)
IMAGE_THRESHOLD = 0.8
#: an image with fewer than MIN_CONTENT_BITS thumbnail gradients that differ by more than
#: CONTENT_DELTA grey levels from its layout's shows nothing but a grid (blank, or
#: untrained-generator noise: 0-1 such gradients; real or generated samples: 67-200)
CONTENT_DELTA = 12.0
MIN_CONTENT_BITS = 32
MAX_IMAGES = 48
MAX_GIF_FRAMES = 12
HASH_SIDE = 16
HASH_BITS = HASH_SIDE * HASH_SIDE

_IMAGE_KINDS = ("samples", "gif")


def image_prints(sub: Any, work_dir: Path, sp: SubmissionPrint) -> None:
    """Hash the sample images and GIF frames of an intake ``Submission`` into ``sp.images``."""
    found: list[tuple[str, Path]] = []
    for art in sub.artifacts:
        if art.kind not in _IMAGE_KINDS:
            continue
        file = work_dir / art.file if art.file else Path(sub.root) / art.origin
        found.append((art.origin, file))
    prints: list[ImagePrint] = []
    for origin, file in found:
        try:
            prints += [ImagePrint(label, h) for label, h in _hash_file(origin, file)]
        except Exception as exc:  # noqa: BLE001 - an undecodable image is skipped
            sp.notes.append(f"image {origin} not hashed: {type(exc).__name__}")
    if len(prints) > MAX_IMAGES:  # evenly spaced, first and last kept
        idx = np.unique(np.linspace(0, len(prints) - 1, MAX_IMAGES).round().astype(int))
        prints = [prints[i] for i in idx]
    sp.images = prints


def _hash_file(origin: str, file: Path) -> list[tuple[str, str]]:
    from PIL import Image, ImageSequence

    with Image.open(file) as im:
        frames = getattr(im, "n_frames", 1)
        if frames <= 1:
            h = image_hash(im)
            return [(origin, h)] if h else []
        picks = set(np.linspace(0, frames - 1, min(frames, MAX_GIF_FRAMES)).round().astype(int))
        out = []
        for i, frame in enumerate(ImageSequence.Iterator(im)):
            if i in picks:
                h = image_hash(frame)
                if h:
                    out.append((f"{origin} frame {i}", h))
        return out


def image_hash(image: Any) -> str | None:
    """256-bit difference hash of a PIL image as hex, or None when it shows nothing to compare.

    Uniform borders (a figure's white margin) are cropped first, so the same grid saved with
    another margin or size hashes alike. An image is left out when fewer than
    :data:`MIN_CONTENT_BITS` of its thumbnail's gradients differ from those of its own layout
    (its content painted in one flat grey) by more than :data:`CONTENT_DELTA`: a blank image,
    or a grid of untrained-generator noise, which every student's first samples look like.
    """
    gray = np.asarray(image.convert("L"), dtype=np.float32)
    if gray.size == 0:
        return None
    background = np.median(np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]]))
    content = np.abs(gray - background) > 12
    rows, cols = np.flatnonzero(content.any(axis=1)), np.flatnonzero(content.any(axis=0))
    if rows.size < 2 or cols.size < 2:
        return None
    box = (slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1))
    gray, content = gray[box], content[box]
    layout = np.where(content, gray[content].mean(), background)
    grad, layout_grad = _gradients(gray), _gradients(layout)
    if np.count_nonzero(np.abs(grad - layout_grad) > CONTENT_DELTA) < MIN_CONTENT_BITS:
        return None
    return np.packbits((grad > 0).ravel()).tobytes().hex()


def _gradients(gray: np.ndarray) -> np.ndarray:
    """Horizontal differences of a (HASH_SIDE + 1) x HASH_SIDE thumbnail (the dHash inputs)."""
    from PIL import Image

    small = np.asarray(Image.fromarray(gray.clip(0, 255).astype(np.uint8)).resize(
        (HASH_SIDE + 1, HASH_SIDE), Image.Resampling.LANCZOS), dtype=np.float32)
    return small[:, 1:] - small[:, :-1]


def image_flags(prints: dict[str, SubmissionPrint]) -> list[SimilarityFlag]:
    """One flag per pair of students holding a near-identical image (closest pair in detail)."""
    names = sorted(n for n in prints if prints[n].images)
    if len(names) < 2:
        return []
    owner = np.concatenate([np.full(len(prints[n].images), i) for i, n in enumerate(names)])
    labels = [(n, im.origin) for n in names for im in prints[n].images]
    words = np.array([np.frombuffer(bytes.fromhex(im.hash), dtype=">u8")
                      for n in names for im in prints[n].images], dtype=np.uint64)
    limit = int((1 - IMAGE_THRESHOLD) * HASH_BITS)
    best: dict[tuple[int, int], tuple[int, int, int]] = {}
    hits: dict[tuple[int, int], set[int]] = {}
    for start in range(0, len(words), 256):
        block = words[start:start + 256]
        dist = np.zeros((len(block), len(words)), dtype=np.uint16)
        for w in range(words.shape[1]):  # one 64-bit word at a time keeps memory small
            dist += _popcount(block[:, None, w] ^ words[None, :, w]).astype(np.uint16)
        bi, bj = np.nonzero((dist <= limit) & (owner[start:start + 256, None] < owner[None, :]))
        for i, j in zip(bi + start, bj):
            key = (int(owner[i]), int(owner[j]))
            d = int(dist[i - start, j])
            if key not in best or d < best[key][0]:
                best[key] = (d, int(i), int(j))
            hits.setdefault(key, set()).add(int(i))
    flags = []
    for (oa, ob), (d, i, j) in best.items():
        a, b = names[oa], names[ob]
        score = 1 - d / HASH_BITS
        detail = (f"{len(hits[(oa, ob)])} of {a}'s sample images have a near-identical image in "
                  f"{b}'s submission (closest: {labels[i][1]} and {labels[j][1]}, {d} of "
                  f"{HASH_BITS} hash bits differ).")
        flags.append(SimilarityFlag(a, b, "samples", round(score, 4), IMAGE_THRESHOLD, detail))
    return flags


def _popcount(x: np.ndarray) -> np.ndarray:
    if hasattr(np, "bitwise_count"):
        return np.bitwise_count(x)
    return np.unpackbits(x.view(np.uint8), axis=-1).reshape(*x.shape, 64).sum(axis=-1)
