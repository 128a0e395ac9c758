"""Copy check: flag images that are near-copies of CIFAR-10 pictures, from a compact index.

A student may show real CIFAR-10 pictures as "generated samples", or ship a generator that
stores training images. The index (the assignment's ``judge/copy_index.npz``, built by
``python -m reference.make_copy_index``) holds two small descriptors of every train and test
image, so the check needs neither the data set nor TensorFlow.

Descriptor (version 1):

* **coarse**: 8x8 block means per channel, each channel mean-centred and unit-normed (so
  brightness, contrast and per-channel colour gains cancel), projected onto a 48-component
  PCA basis stored with the index (int8 codes). The basis is fitted mirror-symmetrically:
  every component is even or odd under a horizontal flip, a mirrored image has the same
  code with the odd components negated, and the index stores no mirrors.
* **fine**: signs of the 240 luminance DCT coefficients with frequencies 4..15 cycles per
  64 pixels (detail the coarse code does not see), 30 bytes per image.

Search: (1) the 16 strongest coarse components of the query pick ``CANDIDATES`` real images;
(2) the query is resampled with shifts of up to 1.5 px and scales 0.95..1.05, which undo the
misalignment of a figure panel cut back to 32x32; the closest variant gives the coarse
distance ``d`` (Euclidean; 0 identical, about 1.4 unrelated); (3) for the closest
``FINE_CHECKED`` candidates, the fine mismatch ``f`` is the share of the aligned query's fine
coefficients (weighted by the square root of their magnitude above ``FINE_FLOOR``; best of
9 sub-pixel shifts) whose sign differs from the real image (0 identical, about 0.5 for
unrelated detail, 0.5 exactly for an image without any).

An image is a copy when ``d <= threshold_strict``, or when its score
``f + COARSE_WEIGHT * d <= threshold_score``. Both are calibrated in
``reference/copy_calibration.md`` and recorded in the index.

NOTE: a flag near the threshold is weak evidence: about 5% of real held-out test images
score below it against the train images (CIFAR-10's own near-duplicates, and merely similar
photos). Compare a student's flagged share with that baseline and show the pairs.
A match names the index within its split of the data set the index was built from (the
JPEG tree, sorted by class and file name), not the order of the pickled batches.
"""

from __future__ import annotations

import os
import tempfile
import zipfile
import zlib
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path

import numpy as np

from grader.assignment import get_assignment
from grader.errors import GraderError

DESCRIPTOR_VERSION = 1
INDEX_FORMAT = "dcgan-grader-copy-index"
def default_index_path() -> Path | None:
    """The current assignment's copy index (None when it ships none)."""
    return get_assignment().judge.copy_index
SIDE, GRID, CHANNELS = 32, 8, 3
N_COMPONENTS = 48
PREFILTER_COMPONENTS = 16
CANDIDATES = 16
GROUP = 64
"""The prefilter ranks real images in groups of this many (the best groups hold the best)."""
PREFILTER_ROWS = 32
"""Queries scored at once by the prefilter (keeps the score matrix in cache)."""
FINE_CHECKED = 3
"""How many of the closest candidates (by ``d``) get the fine check."""
FINE_FREQS, FINE_LOW = 16, 4
SHIFTS = (-1.5, -0.75, 0.0, 0.75, 1.5)
"""Shifts (pixels) of the coarse alignment search, per axis."""
SCALES = (0.95, 1.0, 1.05)
FINE_SHIFTS = tuple(np.arange(-1.875, 1.876, 0.375).tolist())
"""Shifts of the fine check: each coarse shift and its neighbours 0.375 px either side."""
FINE_OFFSETS = (-1, 0, 1)
"""Fine-check shifts tried around the coarse one, in steps of 0.375 px, per axis."""
FINE_FLOOR = 1.0
"""DCT coefficients (unnormalised, grey levels x pixels) this small are rounding noise."""
CHANNEL_FLOOR = 2.0 * GRID
"""A channel with block-mean sd under 2 grey levels is not stretched (its noise would be)."""
COARSE_WEIGHT = 0.5
THRESHOLD_STRICT = 0.12
THRESHOLD_SCORE = 0.35
_ARRAYS = {"codes": np.int8, "code_scale": np.float32, "mean": np.float32,
           "basis": np.float32, "odd": np.bool_, "fine_bits": np.uint8, "labels": np.uint8,
           "split_sizes": np.int64}
_SCALARS = ("threshold_strict", "threshold_score", "coarse_weight", "version")
_TEXTS = ("format", "split_names", "source", "source_sha256")


class CopyIndexError(GraderError):
    """The copy index file is missing, damaged or of another version."""


@dataclass(frozen=True)
class CopyIndex:
    """Descriptors of real images, in split order (all of split 0, then split 1, ...)."""

    codes: np.ndarray
    """int8 (N, K) coarse PCA codes; ``codes * code_scale`` are the coordinates."""
    code_scale: np.ndarray
    """float32 (K,) quantisation step per component."""
    mean: np.ndarray
    """float32 (192,) mean normalised descriptor (mirror-symmetric)."""
    basis: np.ndarray
    """float32 (192, K) orthonormal PCA components, strongest first."""
    odd: np.ndarray
    """bool (K,) components that change sign when the image is mirrored."""
    fine_bits: np.ndarray
    """uint8 (N, 30) packed signs of the fine DCT band."""
    labels: np.ndarray
    """uint8 (N,) CIFAR-10 class ids."""
    split_names: tuple[str, ...]
    """Names of the splits, e.g. ``("train", "test")``."""
    split_sizes: tuple[int, ...]
    """Images per split, in the order of ``split_names``."""
    threshold_strict: float = THRESHOLD_STRICT
    """A copy whatever the fine check says when ``d`` is at most this."""
    threshold_score: float = THRESHOLD_SCORE
    """A copy when ``f + coarse_weight * d`` is at most this."""
    coarse_weight: float = COARSE_WEIGHT
    """Weight of the coarse distance in the score."""
    version: int = DESCRIPTOR_VERSION
    """Descriptor version the codes were computed with."""
    source: str = ""
    """What the index was built from (human-readable)."""
    source_sha256: str = ""
    """sha256 of the data file it was built from."""

    def __len__(self) -> int:
        return len(self.codes)

    @cached_property
    def coords(self) -> np.ndarray:
        """float32 (N, K) decoded coarse coordinates."""
        return self.codes.astype(np.float32) * self.code_scale

    @cached_property
    def bits(self) -> np.ndarray:
        """bool (N, 240) unpacked fine signs (True: positive coefficient)."""
        return np.unpackbits(self.fine_bits, axis=1)[:, :_n_fine()].astype(bool)

    @cached_property
    def prefilter_matrices(self) -> tuple[np.ndarray, np.ndarray]:
        """Even components with a row of -|r|^2/2, and odd components; transposed, padded.

        Padding columns (up to a multiple of ``GROUP``) score -1e9 and are never chosen.
        """
        m = min(PREFILTER_COMPONENTS, self.codes.shape[1])
        r, odd = self.coords[:, :m], self.odd[:m]
        pad = -len(r) % GROUP
        even = np.concatenate([r[:, ~odd], -(r ** 2).sum(axis=1, keepdims=True) / 2], axis=1)
        even = np.pad(even, ((0, pad), (0, 0)))
        even[len(r):, -1] = -1e9
        return (np.ascontiguousarray(even.T, np.float32),
                np.ascontiguousarray(np.pad(r[:, odd], ((0, pad), (0, 0))).T, np.float32))

    def only(self, splits: tuple[str, ...]) -> CopyIndex:
        """The same index restricted to some splits (e.g. ``("train",)``).

        Raises:
            ValueError: A split name is not in the index.
        """
        unknown = set(splits) - set(self.split_names)
        if unknown:
            raise ValueError(f"splits {sorted(unknown)} not in the index {self.split_names}")
        starts = np.cumsum((0,) + self.split_sizes)
        keep = np.concatenate([np.arange(starts[i], starts[i + 1])
                               for i, s in enumerate(self.split_names) if s in splits])
        fields = {k: getattr(self, k) for k in CopyIndex.__dataclass_fields__}
        return CopyIndex(**{**fields, "codes": self.codes[keep], "fine_bits": self.fine_bits[keep],
                            "labels": self.labels[keep],
                            "split_names": tuple(s for s in self.split_names if s in splits),
                            "split_sizes": tuple(n for s, n in zip(self.split_names,
                                                                   self.split_sizes) if s in splits)})


@dataclass(frozen=True)
class CopyMatches:
    """Per query image: the real image it comes closest to, and whether it is a copy of it."""

    is_copy: np.ndarray
    """bool (N,) the image is a near-copy of the real image below."""
    split: np.ndarray
    """str (N,) split of that real image (``train`` or ``test``)."""
    index: np.ndarray
    """int64 (N,) index of that image within its split."""
    label: np.ndarray
    """int64 (N,) its class id."""
    distance: np.ndarray
    """float32 (N,) coarse distance ``d`` after alignment (0 identical, ~1.4 unrelated)."""
    fine: np.ndarray
    """float32 (N,) fine sign mismatch ``f`` (0 identical, ~0.5 unrelated)."""
    score: np.ndarray
    """float32 (N,) ``f + coarse_weight * d`` of that real image."""
    mirrored: np.ndarray
    """bool (N,) the image matched the mirror image of the real one."""

    def __len__(self) -> int:
        return len(self.is_copy)

    @property
    def n_copies(self) -> int:
        """How many images are near-copies."""
        return int(self.is_copy.sum())


# ---------------------------------------------------------------- descriptor
@lru_cache(maxsize=1)
def flip_permutation() -> np.ndarray:
    """Permutation of the flat (channel, row, column) descriptor that mirrors it."""
    return np.arange(GRID * GRID * CHANNELS).reshape(CHANNELS, GRID, GRID)[:, :, ::-1].ravel()


@lru_cache(maxsize=1)
def _fine_band() -> tuple[np.ndarray, np.ndarray]:
    """Fine-band mask (16, 16) over DCT frequencies (u, v), and the mirror signs (240,).

    Mirroring negates the coefficients of odd horizontal frequency ``v``.
    """
    u, v = np.meshgrid(np.arange(FINE_FREQS), np.arange(FINE_FREQS), indexing="ij")
    mask = np.maximum(u, v) >= FINE_LOW
    return mask, np.where(v[mask] % 2 == 1, -1.0, 1.0).astype(np.float32)


def _n_fine() -> int:
    return int(_fine_band()[0].sum())


def _resampling(scale: float, shift: float) -> np.ndarray:
    """(32, 32) bilinear resampling of one axis: pixel u reads c + scale (u - c) + shift."""
    c = (SIDE - 1) / 2
    p = np.clip(c + scale * (np.arange(SIDE) - c) + shift, 0, SIDE - 1)
    lo = np.floor(p).astype(int)
    hi, w = np.minimum(lo + 1, SIDE - 1), p - lo
    m = np.zeros((SIDE, SIDE))
    np.add.at(m, (np.arange(SIDE), lo), 1 - w)
    np.add.at(m, (np.arange(SIDE), hi), w)
    return m


@lru_cache(maxsize=1)
def _block_ops() -> np.ndarray:
    """float32 (scales, shifts, 8, 32): block means of the resampled axis."""
    block = np.kron(np.eye(GRID), np.full((1, SIDE // GRID), GRID / SIDE))
    return np.asarray([[block @ _resampling(a, b) for b in SHIFTS] for a in SCALES], np.float32)


@lru_cache(maxsize=1)
def _dct_ops() -> np.ndarray:
    """float32 (scales, fine shifts, 16, 32): DCT-II rows of the resampled axis."""
    k = np.arange(FINE_FREQS)[:, None]
    dct = np.cos(np.pi * k * (2 * np.arange(SIDE)[None] + 1) / (2 * SIDE))
    return np.asarray([[dct @ _resampling(a, b) for b in FINE_SHIFTS] for a in SCALES],
                      np.float32)


@lru_cache(maxsize=1)
def _variant_index() -> np.ndarray:
    """int (V, 3): (scale, row shift, column shift) of every coarse variant, in search order."""
    grids = np.meshgrid(np.arange(len(SCALES)), np.arange(len(SHIFTS)), np.arange(len(SHIFTS)),
                        indexing="ij")
    return np.stack([g.ravel() for g in grids], axis=1)


def block_means(images: np.ndarray) -> np.ndarray:
    """uint8 (n, 32, 32, 3) -> float32 (n, 3, 8, 8) means of 4x4 blocks."""
    b = SIDE // GRID
    x = np.asarray(images, np.float32).reshape(len(images), GRID, b, GRID, b, CHANNELS)
    return x.mean(axis=(2, 4)).transpose(0, 3, 1, 2)


def normalised_blocks(blocks: np.ndarray) -> np.ndarray:
    """(..., 3, 8, 8) block means -> (..., 192) per-channel centred, unit-normed descriptors."""
    v = blocks.reshape(*blocks.shape[:-2], GRID * GRID).astype(np.float32)
    v = v - v.mean(axis=-1, keepdims=True)
    norm = np.sqrt(np.einsum("...i,...i->...", v, v))[..., None]
    v /= np.maximum(norm, CHANNEL_FLOOR) * np.float32(np.sqrt(CHANNELS))
    return v.reshape(*blocks.shape[:-3], -1)


def fine_coefficients(images: np.ndarray) -> np.ndarray:
    """float32 (n, 240) fine-band luminance DCT coefficients of uint8 images (n, 32, 32, 3)."""
    d = _dct_ops()[SCALES.index(1.0), FINE_SHIFTS.index(0.0)]
    coef = d @ np.asarray(images, np.float32).mean(axis=-1) @ d.T
    return coef[:, _fine_band()[0]]


def _project(index: CopyIndex, desc: np.ndarray) -> np.ndarray:
    return (desc - index.mean) @ index.basis


def _project_blocks(index: CopyIndex, b: np.ndarray) -> np.ndarray:
    """Coordinates of raw block means (M, 3, 64), as ``_project(normalised_blocks(b))``.

    Centring and scaling are applied after the projection, per channel: fewer passes over
    the many variants.
    """
    k = index.basis.shape[1]
    per_channel = index.basis.reshape(CHANNELS, GRID * GRID, k)
    mean = b.mean(axis=-1)
    sd = np.sqrt(np.maximum(np.einsum("mci,mci->mc", b, b) - GRID * GRID * mean * mean, 0))
    scale = 1 / (np.maximum(sd, CHANNEL_FLOOR) * np.float32(np.sqrt(CHANNELS)))
    raw = np.matmul(b.transpose(1, 0, 2), per_channel)  # (3, M, K)
    raw -= mean.T[:, :, None] * per_channel.sum(axis=1)[:, None, :]
    raw *= scale.T[:, :, None]
    return raw.sum(axis=0) - index.mean @ index.basis


# ---------------------------------------------------------------- search
def _prefilter(index: CopyIndex, q: np.ndarray) -> np.ndarray:
    """int (n, CANDIDATES): real images closest to the plain query (either orientation).

    The score ``q.r - |r|^2 / 2`` (norm folded into the matrix) ranks like the distance; odd
    components count by absolute value, which takes the better orientation. The best
    ``CANDIDATES`` images lie in the ``CANDIDATES`` groups with the best maximum, so only
    those groups are ranked image by image.
    """
    if len(q) > PREFILTER_ROWS:
        return np.concatenate([_prefilter(index, q[a:a + PREFILTER_ROWS])
                               for a in range(0, len(q), PREFILTER_ROWS)])
    even, odd = index.prefilter_matrices
    m = min(PREFILTER_COMPONENTS, q.shape[1])
    sel = index.odd[:m]
    score = np.concatenate([q[:, :m][:, ~sel], np.ones((len(q), 1), np.float32)], 1) @ even
    score += np.abs(q[:, :m][:, sel] @ odd)
    k = min(CANDIDATES, len(index))
    groups = score.reshape(len(q), -1, GROUP).max(axis=2)
    top = np.argpartition(-groups, min(k, groups.shape[1]) - 1, axis=1)[:, :k]
    members = (top[:, :, None] * GROUP + np.arange(GROUP)).reshape(len(q), -1)
    best = np.argpartition(-np.take_along_axis(score, members, axis=1), k - 1, axis=1)[:, :k]
    return np.take_along_axis(members, best, axis=1)


def _variant_coords(index: CopyIndex, x: np.ndarray) -> np.ndarray:
    """float32 (n, V, K) coarse coordinates of every shifted/scaled variant of x (n,32,32,3)."""
    planes = np.ascontiguousarray(x.transpose(0, 3, 1, 2))  # (n, 3, 32, 32)
    n, a = len(x), len(SHIFTS)
    out = []
    for op in _block_ops().reshape(len(SCALES), -1, SIDE):  # (shifts * 8, 32)
        b = op @ planes @ op.T  # every row shift by every column shift: (n, 3, 5*8, 5*8)
        out.append(b.reshape(n, CHANNELS, a, GRID, a, GRID).transpose(0, 2, 4, 1, 3, 5))
    b = np.stack(out, axis=1).reshape(-1, CHANNELS, GRID * GRID)
    return _project_blocks(index, b).reshape(n, -1, index.basis.shape[1])


def _aligned(index: CopyIndex, x: np.ndarray, cand: np.ndarray) -> tuple[np.ndarray, ...]:
    """Best variant per candidate: distance (n, C), variant id (n, C), mirrored (n, C)."""
    v = _variant_coords(index, x)
    r = index.coords[cand]
    odd = index.odd
    g_even = np.matmul(v[..., ~odd], r[..., ~odd].transpose(0, 2, 1))
    g_odd = np.matmul(v[..., odd], r[..., odd].transpose(0, 2, 1))
    d2 = (v ** 2).sum(-1)[:, :, None] + (r ** 2).sum(-1)[:, None, :] - 2 * (g_even + np.abs(g_odd))
    best = d2.argmin(axis=1)[:, None]
    dist = np.sqrt(np.maximum(np.take_along_axis(d2, best, axis=1)[:, 0], 0))
    mirrored = np.take_along_axis(g_odd, best, axis=1)[:, 0] < 0
    return dist, best[:, 0], mirrored


def _fine_mismatch(index: CopyIndex, luma: np.ndarray, cand: np.ndarray, variant: np.ndarray,
                   mirrored: np.ndarray) -> np.ndarray:
    """Fine mismatch (m,) of luminance (m, 32, 32) with real images ``cand`` (m,).

    The query is resampled at its coarse variant and at ``FINE_OFFSETS`` steps of 0.375 px
    around it per axis; the best shift counts. Coefficients under ``FINE_FLOOR`` are noise
    and carry no weight; without any fine detail the mismatch is 0.5 (no evidence).
    """
    mask, mirror = _fine_band()
    s, row, col = _variant_index()[variant].T
    k = len(FINE_OFFSETS)
    near = 2 * np.arange(len(SHIFTS))[:, None] + 1 + np.asarray(FINE_OFFSETS)  # coarse -> fine
    cy = _dct_ops()[s[:, None], near[row]].reshape(len(s), -1, SIDE)  # (m, k * 16, 32)
    cx = _dct_ops()[s[:, None], near[col]].reshape(len(s), -1, SIDE)
    coef = cy @ luma @ cx.transpose(0, 2, 1)  # (m, k * 16, k * 16)
    coef = coef.reshape(len(s), k, FINE_FREQS, k, FINE_FREQS).transpose(0, 1, 3, 2, 4)
    coef = coef[:, :, :, mask].reshape(len(s), k * k, -1)  # (m, shifts, 240)
    weight = np.sqrt(np.maximum(np.abs(coef) - FINE_FLOOR, 0))
    signs = np.where(index.bits[cand], np.float32(1), np.float32(-1))
    signs = np.where(mirrored[:, None], signs * mirror, signs)  # the mirrored real image
    agree = np.matmul(np.copysign(weight, coef), signs[:, :, None])[..., 0]
    total = weight.sum(-1)
    share = np.where(total > 0, (1 - agree / np.maximum(total, 1e-6)) / 2, 0.5)
    return share.min(axis=1)


def find_copies(index: CopyIndex, images: np.ndarray, *, batch: int = 128) -> CopyMatches:
    """Find, for each image, the real image it comes closest to and whether it is a copy.

    The image and its mirror image are searched; see the module docstring for the rule.

    Args:
        index: From :func:`load_copy_index` (or ``reference.make_copy_index``).
        images: uint8 (N, 32, 32, 3) images (e.g. tiles cut from a student's figure).
        batch: Images searched at once (memory only; results do not depend on it).

    Returns:
        A :class:`CopyMatches` with one entry per image.

    Raises:
        ValueError: ``images`` is not a uint8 (N, 32, 32, 3) array.
    """
    x = np.asarray(images)
    if x.dtype != np.uint8 or x.ndim != 4 or x.shape[1:] != (SIDE, SIDE, CHANNELS):
        raise ValueError(f"expected uint8 images (N, 32, 32, 3); got {x.dtype} {x.shape}")
    parts = [_search_batch(index, x[a:a + batch].astype(np.float32))
             for a in range(0, len(x), max(1, batch))]
    gidx, dist, fine, mirrored = (np.concatenate([p[i] for p in parts]) if parts
                                  else np.zeros(0, t) for i, t in
                                  enumerate((np.int64, np.float32, np.float32, bool)))
    score = fine + index.coarse_weight * dist
    starts = np.cumsum((0,) + index.split_sizes)
    split_id = np.searchsorted(starts, gidx, side="right") - 1
    return CopyMatches(is_copy=_is_copy(index, dist, score),
                       split=np.asarray(index.split_names)[split_id],
                       index=(gidx - starts[split_id]).astype(np.int64),
                       label=index.labels[gidx].astype(np.int64), distance=dist.astype(np.float32),
                       fine=fine.astype(np.float32), score=score.astype(np.float32),
                       mirrored=mirrored.astype(bool))


def _is_copy(index: CopyIndex, dist: np.ndarray, score: np.ndarray) -> np.ndarray:
    return (dist <= index.threshold_strict) | (score <= index.threshold_score)


def _search_batch(index: CopyIndex, x: np.ndarray) -> tuple[np.ndarray, ...]:
    """Closest real image (global index), d, f and mirrored for a batch (n, 32, 32, 3)."""
    n = len(x)
    cand = _prefilter(index, _project(index, normalised_blocks(block_means(x))))
    dist, variant, mirrored = _aligned(index, x, cand)
    order = np.argsort(dist, axis=1, kind="stable")[:, :FINE_CHECKED]
    top = [np.take_along_axis(a, order, axis=1) for a in (cand, dist, variant, mirrored)]
    luma = np.repeat(x.mean(axis=-1), order.shape[1], axis=0)
    fine = _fine_mismatch(index, luma, *(a.ravel() for a in (top[0], top[2], top[3])))
    fine = fine.reshape(n, -1)
    score = fine + index.coarse_weight * top[1]
    # a copy among the candidates wins; otherwise (and among copies) the lowest score
    rank = score - 10.0 * _is_copy(index, top[1], score)
    pick = rank.argmin(axis=1)[:, None]
    c, d, f, m = (np.take_along_axis(a, pick, axis=1)[:, 0] for a in (top[0], top[1], fine, top[3]))
    return c, d, f, m


# ---------------------------------------------------------------- save, load
def save_copy_index(index: CopyIndex, path: str | os.PathLike) -> int:
    """Write the index as a compressed ``.npz`` and return its size in bytes.

    The write is atomic, and byte-identical for identical indexes (fixed zip timestamps).
    ``np.load(path, allow_pickle=False)`` reads it.
    """
    path = Path(path)
    arrays = {k: np.asarray(getattr(index, k), dtype=t) for k, t in _ARRAYS.items()}
    arrays.update({k: np.asarray(getattr(index, k), dtype=np.float64) for k in _SCALARS})
    arrays.update(version=np.asarray(index.version, dtype=np.int64),
                  format=np.asarray(INDEX_FORMAT), split_names=np.asarray(index.split_names),
                  source=np.asarray(index.source), source_sha256=np.asarray(index.source_sha256))
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".npz")
    try:
        with os.fdopen(fd, "wb") as f, zipfile.ZipFile(f, "w", zipfile.ZIP_DEFLATED) as zf:
            for name, value in arrays.items():
                info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                with zf.open(info, "w") as out:
                    np.lib.format.write_array(out, value, allow_pickle=False)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; the index is a shipped asset
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path.stat().st_size


def load_copy_index(path: str | os.PathLike | None = None) -> CopyIndex:
    """Read and validate a copy index written by :func:`save_copy_index`.

    Args:
        path: The ``.npz`` file; default the current assignment's.

    Raises:
        CopyIndexError: The file is missing, not an ``.npz``, lacks arrays, has wrong
            shapes or types, or was built for another descriptor version.
    """
    path = path if path is not None else default_index_path()
    if path is None:
        raise CopyIndexError("This assignment ships no copy index.", _REBUILD)
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as z:
            missing = (set(_ARRAYS) | set(_SCALARS) | set(_TEXTS)) - set(z.files)
            if missing:
                raise _bad(path, f"it lacks the arrays {sorted(missing)}")
            raw = {k: z[k] for k in z.files}
    except FileNotFoundError as exc:
        raise CopyIndexError(f"The copy index {path} does not exist.", _REBUILD) from exc
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error) as exc:
        raise _bad(path, f"it is not a readable .npz file ({type(exc).__name__}: {exc})") from exc
    return _validated(raw, path)


_REBUILD = "Rebuild it: python -m reference.make_copy_index --data <CIFAR-10> --out <path>"


def _bad(path: Path, problem: str) -> CopyIndexError:
    return CopyIndexError(f"The copy index {path} cannot be used: {problem}.", _REBUILD)


def _validated(raw: dict[str, np.ndarray], path: Path) -> CopyIndex:
    """Check kinds, shapes and version of the arrays read from ``path``."""
    for k in _TEXTS:
        if raw[k].dtype.kind != "U" or raw[k].ndim != (1 if k == "split_names" else 0):
            raise _bad(path, f"'{k}' is not text")
    if str(raw["format"]) != INDEX_FORMAT:
        raise _bad(path, f"it is not a copy index (format {str(raw['format'])!r})")
    for k in _SCALARS:
        if raw[k].ndim != 0 or raw[k].dtype.kind not in "if" or not np.isfinite(raw[k]):
            raise _bad(path, f"'{k}' is not a finite number")
    if int(raw["version"]) != DESCRIPTOR_VERSION:
        raise _bad(path, f"it has descriptor version {int(raw['version'])}; this grader reads "
                         f"version {DESCRIPTOR_VERSION}")
    for k, t in _ARRAYS.items():
        if raw[k].dtype != t:
            raise _bad(path, f"'{k}' has type {raw[k].dtype}, expected {np.dtype(t)}")
    n, k = raw["codes"].shape if raw["codes"].ndim == 2 else (0, 0)
    d = GRID * GRID * CHANNELS
    shapes = {"codes": (n, k), "code_scale": (k,), "mean": (d,), "basis": (d, k), "odd": (k,),
              "fine_bits": (n, (_n_fine() + 7) // 8), "labels": (n,)}
    for name, shape in shapes.items():
        if n < 1 or k < 1 or raw[name].shape != shape:
            raise _bad(path, f"'{name}' has shape {raw[name].shape}, expected {shape}")
    names, sizes = raw["split_names"].tolist(), raw["split_sizes"]
    if sizes.ndim != 1 or len(sizes) != len(names) or sizes.min() < 0 or sizes.sum() != n:
        raise _bad(path, f"split sizes {sizes.tolist()} do not add up to {n} images")
    if not all(np.isfinite(raw[a]).all() for a in ("code_scale", "mean", "basis")):
        raise _bad(path, "it holds non-finite numbers")
    return CopyIndex(codes=raw["codes"], code_scale=raw["code_scale"], mean=raw["mean"],
                     basis=raw["basis"], odd=raw["odd"], fine_bits=raw["fine_bits"],
                     labels=raw["labels"], split_names=tuple(names),
                     split_sizes=tuple(int(s) for s in sizes),
                     threshold_strict=float(raw["threshold_strict"]),
                     threshold_score=float(raw["threshold_score"]),
                     coarse_weight=float(raw["coarse_weight"]), version=int(raw["version"]),
                     source=str(raw["source"]), source_sha256=str(raw["source_sha256"]))
