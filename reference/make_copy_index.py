"""Build the copy index (the assignment's ``judge/copy_index.npz``) from all 60,000 CIFAR-10 images.

The copy check (``grader.judge.copies``) flags student images that are near-copies of real
CIFAR-10 pictures. This script describes every train and test image (coarse PCA code and
fine DCT signs; see the module docstring there), fits the mirror-symmetric PCA basis on all
of them, and writes one plain ``.npz`` that loads with ``allow_pickle=False``. It records the
data source and its sha256, the descriptor version and the thresholds (calibrated by
``python -m reference.calibrate_copies``; see ``reference/copy_calibration.md``).

The result is deterministic: the same data gives a byte-identical file.

Usage::

    python -m reference.make_copy_index --data ../shared/data/cifar10-jpeg.tar.gz \
        --out grader/assignments/cifar10_dcgan/judge/copy_index.npz
"""

from __future__ import annotations

import argparse
import hashlib
import time
from pathlib import Path

import numpy as np

from grader.judge import copies as C

SPLITS = ("train", "test")


def fit_basis(desc: np.ndarray, n_components: int = C.N_COMPONENTS) -> tuple[np.ndarray, ...]:
    """Mirror-symmetric PCA of descriptors (n, 192).

    The covariance of the descriptors together with their mirror images commutes with the
    flip, so its eigenvectors are fitted separately in the even and the odd subspace and
    merged by eigenvalue. Each component's largest entry is made positive (fixed signs).

    Returns:
        ``mean`` (192,), ``basis`` (192, K) with orthonormal columns, strongest first, and
        ``odd`` (K,): which components change sign under a flip.
    """
    perm = C.flip_permutation()
    mean = (desc.mean(axis=0) + desc.mean(axis=0)[perm]) / 2
    centred = (desc - mean).astype(np.float64)
    pairs = np.flatnonzero(np.arange(len(perm)) < perm)
    vals, vecs, odd = [], [], []
    for sign in (1.0, -1.0):
        sub = np.zeros((len(perm), len(pairs)))
        sub[pairs, np.arange(len(pairs))] = 1 / np.sqrt(2)
        sub[perm[pairs], np.arange(len(pairs))] = sign / np.sqrt(2)
        z = centred @ sub
        w, u = np.linalg.eigh(z.T @ z / len(z))
        vals.append(w)
        vecs.append(sub @ u)
        odd.append(np.full(len(w), sign < 0))
    order = np.argsort(-np.concatenate(vals), kind="stable")[:n_components]
    basis = np.concatenate(vecs, axis=1)[:, order]
    basis *= np.sign(basis[np.abs(basis).argmax(axis=0), np.arange(basis.shape[1])])
    return mean.astype(np.float32), basis.astype(np.float32), np.concatenate(odd)[order]


def build_copy_index(images: np.ndarray, labels: np.ndarray, split_sizes: tuple[int, ...],
                     split_names: tuple[str, ...] = SPLITS, *, like: C.CopyIndex | None = None,
                     n_components: int = C.N_COMPONENTS,
                     thresholds: tuple[float, float] = (C.THRESHOLD_STRICT, C.THRESHOLD_SCORE),
                     source: str = "", source_sha256: str = "") -> C.CopyIndex:
    """Describe real images and fit the PCA basis (or reuse the basis of ``like``).

    Args:
        images: uint8 (N, 32, 32, 3): all of split 0, then split 1, ...
        labels: Class ids (N,).
        split_sizes: Images per split, summing to N.
        split_names: A name per split.
        like: Reuse this index's basis and quantisation (codes then compare with its codes).
        n_components: PCA components kept (ignored with ``like``).
        thresholds: ``(threshold_strict, threshold_score)`` recorded in the index.
        source: What the images are (recorded in the index).
        source_sha256: Checksum of the data file they came from.

    Raises:
        ValueError: Shapes, labels or sizes do not agree.
    """
    x, y = np.asarray(images), np.asarray(labels).reshape(-1)
    if (x.dtype != np.uint8 or x.ndim != 4 or x.shape[1:] != (C.SIDE, C.SIDE, C.CHANNELS)
            or sum(split_sizes) != len(x) or len(y) != len(x)
            or len(split_names) != len(split_sizes)):
        raise ValueError(f"images {x.dtype} {x.shape}, {len(y)} labels and splits "
                         f"{dict(zip(split_names, split_sizes))} do not agree")
    chunks = range(0, len(x), 4096)
    desc = np.concatenate([C.normalised_blocks(C.block_means(x[a:a + 4096])) for a in chunks])
    if like is None:
        mean, basis, odd = fit_basis(desc, n_components)
        coords = (desc - mean) @ basis
        scale = (np.maximum(np.abs(coords).max(axis=0), 1e-6) / 127).astype(np.float32)
    else:
        mean, basis, odd, scale = like.mean, like.basis, like.odd, like.code_scale
        coords = (desc - mean) @ basis
    codes = np.clip(np.rint(coords / scale), -127, 127).astype(np.int8)
    bits = np.concatenate([np.packbits(C.fine_coefficients(x[a:a + 4096]) > 0, axis=1)
                           for a in chunks])
    return C.CopyIndex(codes=codes, code_scale=scale, mean=mean, basis=basis, odd=odd,
                       fine_bits=bits, labels=y.astype(np.uint8), split_names=tuple(split_names),
                       split_sizes=tuple(int(s) for s in split_sizes),
                       threshold_strict=float(thresholds[0]),
                       threshold_score=float(thresholds[1]), source=source,
                       source_sha256=source_sha256)


def file_sha256(path: Path) -> str:
    """Hex sha256 of a file, read in chunks (the archive is 100+ MB)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def build_from_data(data: str, thresholds: tuple[float, float]) -> C.CopyIndex:
    """Load CIFAR-10 from ``data`` (any source ``grader.data.load_dataset`` reads) and index it."""
    from grader.data import load_dataset

    d = load_dataset(data)
    path = Path(data)
    sha = file_sha256(path) if path.is_file() else ""
    images = np.concatenate([d.x_train, d.x_test])
    labels = np.concatenate([d.y_train, d.y_test])
    source = d.source.removesuffix(" (cached)")
    for spelled in (str(path.resolve()), str(path)):  # the file's name, not where it lies
        source = source.replace(spelled, path.name)
    return build_copy_index(images, labels, (len(d.x_train), len(d.x_test)), SPLITS,
                            thresholds=thresholds, source=source, source_sha256=sha)


def main(argv: list[str] | None = None) -> None:
    """Command line: build the index and print its size."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True,
                        help="CIFAR-10 source: cifar10-jpeg.tar.gz, a cifar-10-batches-py folder, "
                             "an .npz, or 'keras'")
    parser.add_argument("--out", type=Path, default=C.default_index_path(), help="the .npz to write")
    parser.add_argument("--threshold-strict", type=float, default=C.THRESHOLD_STRICT,
                        help="copy whenever the aligned coarse distance is at most this")
    parser.add_argument("--threshold-score", type=float, default=C.THRESHOLD_SCORE,
                        help="copy when fine mismatch + coarse weight * distance is at most this")
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    index = build_from_data(args.data, (args.threshold_strict, args.threshold_score))
    size = C.save_copy_index(index, args.out)
    print(f"wrote {args.out}: {len(index)} images {dict(zip(index.split_names, index.split_sizes))}, "
          f"{size / 1e6:.2f} MB, descriptor v{index.version}, thresholds strict "
          f"{index.threshold_strict} score {index.threshold_score}, source sha256 "
          f"{index.source_sha256[:12] or '-'} ({time.perf_counter() - t0:.0f} s)")


if __name__ == "__main__":
    main()
