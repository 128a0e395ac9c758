"""Build the bundled CIFAR-10 subset (``grader/assets/cifar10_subset.npz``).

The subset keeps the original JPEG bytes of the shared CIFAR-10 copy (no re-encoding):
the first ``--train-per-class`` files (sorted by name) of every class from ``train/`` and
the first ``--test-per-class`` from ``test/``, concatenated into one byte array per split
with offsets, so that the file loads with ``allow_pickle=False``.

Usage::

    python -m reference.make_subset ../shared/data/cifar10-jpeg.tar.gz \
        --train-per-class 500 --test-per-class 50
"""

from __future__ import annotations

import argparse
import tarfile
from pathlib import Path

import numpy as np

from grader.assignment import get_assignment

CLASS_NAMES = get_assignment().class_names


def build(archive: Path, train_per_class: int, test_per_class: int, out: Path) -> int:
    """Write the subset to ``out`` and return its size in bytes."""
    want = {"train": train_per_class, "test": test_per_class}
    found: dict[tuple[str, str], list[tuple[str, bytes]]] = {}
    with tarfile.open(archive) as tar:
        for info in tar:
            parts = info.name.split("/")
            if info.isfile() and len(parts) >= 3 and parts[-3] in want and parts[-2] in CLASS_NAMES:
                found.setdefault((parts[-3], parts[-2]), []).append(
                    (parts[-1], tar.extractfile(info).read()))
    arrays: dict[str, np.ndarray] = {}
    for split, n in want.items():
        blobs, labels = [], []
        for label, cls in enumerate(CLASS_NAMES):
            files = sorted(found.get((split, cls), []))[:n]
            if len(files) < n:
                raise SystemExit(f"{archive}: only {len(files)} {split}/{cls} images, need {n}")
            blobs += [raw for _, raw in files]
            labels += [label] * n
        offsets = np.cumsum([0] + [len(b) for b in blobs]).astype(np.int64)
        arrays[f"{split}_jpeg"] = np.frombuffer(b"".join(blobs), dtype=np.uint8)
        arrays[f"{split}_offsets"] = offsets
        arrays[f"{split}_labels"] = np.asarray(labels, dtype=np.uint8)
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez(out, **arrays)
    return out.stat().st_size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("archive", type=Path, help="cifar10-jpeg.tar.gz (train/<class>/NNNN.jpg)")
    parser.add_argument("--train-per-class", type=int, default=500)
    parser.add_argument("--test-per-class", type=int, default=50)
    parser.add_argument("--out", type=Path, default=get_assignment().data.subset)
    args = parser.parse_args()
    size = build(args.archive, args.train_per_class, args.test_per_class, args.out)
    print(f"wrote {args.out} ({size / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()
