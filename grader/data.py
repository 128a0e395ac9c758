"""Training data: find a source, decode it once, cache uint8 arrays, load fast.

The assignment says what the images are (shape, classes) and which loader family its data
set uses (``Assignment.data``). Source selection order (first usable wins):

1. ``--data PATH`` (or ``data=`` in the API);
2. the ``DCGAN_GRADER_DATA`` environment variable;
3. keras's local cache (``~/.keras/datasets``; never downloads on its own; CIFAR-10 only);
4. the subset bundled inside the assignment folder (offline, small).

``PATH`` may be: the word ``keras`` (use ``tf.keras.datasets.<dataset>.load_data()``,
which downloads when needed), a ``cifar-10-batches-py`` folder of pickled batches
(or the ``cifar-10-python.tar.gz`` that holds it), an image tree
``train/<class>/*.{jpg,png}`` + ``test/<class>/...`` (or that tree in a ``.tar.gz``),
an ``.npz`` with ``x_train, y_train, x_test, y_test``, or ``bundled``.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import pickle
import tarfile
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from grader.assignment import Assignment, get_assignment
from grader.config import ENV_PREFIX
from grader.errors import DataError

ENV_DATA = f"{ENV_PREFIX}DATA"
ENV_CACHE = f"{ENV_PREFIX}CACHE"
_IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")
_CACHE_FORMAT = 1


@dataclass(frozen=True)
class Dataset:
    """A data set as uint8 arrays (N, H, W, C) and int64 labels (N,)."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    source: str
    """Human-readable description of where the arrays came from."""

    @property
    def is_subset(self) -> bool:
        """True when this is the small bundled subset, not the full data set."""
        return self.source.startswith("bundled")


def cache_dir() -> Path:
    """The cache folder: ``$DCGAN_GRADER_CACHE`` or ``~/.cache/dcgan-grader``."""
    env = os.environ.get(ENV_CACHE)
    return Path(env).expanduser() if env else Path.home() / ".cache" / "dcgan-grader"


def load_dataset(data: str | os.PathLike | None = None, *,
                 assignment: Assignment | str | Path | None = None,
                 use_cache: bool = True) -> Dataset:
    """Load the assignment's data set from the first usable source (see the module docstring).

    Args:
        data: An explicit source (path, ``keras`` or ``bundled``); overrides the rest.
        assignment: The assignment (an ``Assignment``, an id or a folder; default: current).
        use_cache: Read and write decoded arrays under :func:`cache_dir`.

    Raises:
        DataError: No source was usable; the message lists what was tried.
    """
    spec_of = assignment if isinstance(assignment, Assignment) else get_assignment(assignment)
    tried: list[str] = []
    for label, spec in _candidates(data, spec_of):
        try:
            return _load_spec(spec, label, spec_of, use_cache=use_cache)
        except DataError as exc:
            tried.append(f"{label}: {exc.student}")
            if label.startswith(("--data", ENV_DATA)):
                break  # an explicit choice that fails must not silently fall back
    raise DataError(
        "No usable CIFAR-10 data was found.",
        detail="Tried:\n  - " + "\n  - ".join(tried) + "\n"
        "Fix: pass --data PATH (an .npz, a cifar-10-batches-py folder, an image tree "
        f"train/<class>/*.jpg or its .tar.gz), set {ENV_DATA}, or pass --data keras "
        "on a machine with internet access.",
    )


def _candidates(data: str | os.PathLike | None, a: Assignment) -> Iterable[tuple[str, str]]:
    if data is not None:
        yield f"--data {data}", str(data)
        return
    env = os.environ.get(ENV_DATA)
    if env:
        yield f"{ENV_DATA}={env}", env
        return
    if a.data.dataset == "cifar10":
        for path in _keras_cache_paths():
            yield f"keras cache {path}", str(path)
    yield "bundled subset", "bundled"


def _keras_cache_paths() -> list[Path]:
    root = Path(os.environ.get("KERAS_HOME", Path.home() / ".keras")) / "datasets"
    found = [
        root / "cifar-10-batches-py",
        root / "cifar-10-batches-py_extracted" / "cifar-10-batches-py",
        root / "cifar-10-batches-py-target" / "cifar-10-batches-py",
    ]
    existing = [p for p in found if p.is_dir()]
    return existing or [root / "cifar-10-batches-py"]


def _load_spec(spec: str, label: str, a: Assignment, *, use_cache: bool) -> Dataset:
    if spec == "bundled":
        return load_bundled_subset(a)
    if spec == "keras":
        return _load_keras_download(a)
    path = Path(spec).expanduser()
    if not path.exists():
        raise DataError(f"{path} does not exist")
    key = _cache_key(path)
    cached = cache_dir() / f"{a.data.dataset}-{key}"
    if use_cache and (cached / "meta.json").is_file():
        return _read_cache(cached)
    data = _decode(path, a)
    if use_cache:
        _write_cache(cached, data)
    return data


def _cache_key(path: Path) -> str:
    stat = path.stat()
    ident = f"{_CACHE_FORMAT}|{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}"
    return hashlib.sha256(ident.encode()).hexdigest()[:16]


def _decode(path: Path, a: Assignment) -> Dataset:
    name = path.name.lower()
    if path.is_file() and name.endswith(".npz"):
        return _from_npz(path, a)
    if path.is_file() and name.endswith((".tar.gz", ".tgz", ".tar")):
        return _from_tarball(path, a)
    if path.is_dir():
        if (path / "data_batch_1").is_file():
            return _from_batches_dir(path, a)
        if (path / "cifar-10-batches-py" / "data_batch_1").is_file():
            return _from_batches_dir(path / "cifar-10-batches-py", a)
        if (path / "train").is_dir() and (path / "test").is_dir():
            return _from_image_tree(path, a)
        raise DataError(
            f"{path} is a folder but holds neither cifar-10-batches-py files "
            "(data_batch_1 ...) nor train/<class>/ and test/<class>/ image folders"
        )
    raise DataError(f"{path} is not a supported {a.data.name} source (.npz, .tar.gz or a folder)")


def _from_npz(path: Path, a: Assignment) -> Dataset:
    try:
        with np.load(path, allow_pickle=False) as z:
            missing = {"x_train", "y_train", "x_test", "y_test"} - set(z.files)
            if missing:
                raise DataError(f"{path} lacks arrays {sorted(missing)}")
            arrays = [z[k] for k in ("x_train", "y_train", "x_test", "y_test")]
    except (OSError, ValueError) as exc:
        raise DataError(f"{path} is not a readable .npz file ({exc})") from exc
    return _validated(*arrays, a=a, source=f"npz {path}")


def _unpickle_batch(raw: bytes, a: Assignment) -> tuple[np.ndarray, np.ndarray]:
    # The official CIFAR-10 batches are pickles of plain dicts of arrays and lists.
    # The data set is a trusted input chosen by the operator, never student-supplied.
    batch = pickle.loads(raw, encoding="bytes")  # noqa: S301
    h, w, c = a.image_shape
    x = np.asarray(batch[b"data"], dtype=np.uint8).reshape(-1, c, h, w).transpose(0, 2, 3, 1)
    y = np.asarray(batch[b"labels"], dtype=np.int64)
    return x, y


def _from_batches_dir(folder: Path, a: Assignment) -> Dataset:
    try:
        parts = [_unpickle_batch((folder / f"data_batch_{i}").read_bytes(), a)
                 for i in range(1, 6)]
        x_test, y_test = _unpickle_batch((folder / "test_batch").read_bytes(), a)
    except (OSError, KeyError, pickle.UnpicklingError, ValueError) as exc:
        raise DataError(f"{folder} holds unreadable {a.data.name} batches ({exc})") from exc
    x_train = np.concatenate([p[0] for p in parts])
    y_train = np.concatenate([p[1] for p in parts])
    return _validated(x_train, y_train, x_test, y_test, a=a,
                      source=f"cifar-10-batches-py {folder}")


def _decode_image(raw: bytes, shape: tuple[int, int, int]) -> np.ndarray:
    from PIL import Image

    with Image.open(io.BytesIO(raw)) as img:
        arr = np.asarray(img.convert("RGB" if shape[-1] == 3 else "L"), dtype=np.uint8)
    if arr.ndim == 2:
        arr = arr[..., None]
    if arr.shape != tuple(shape):
        raise ValueError(f"image of shape {arr.shape}, expected {shape}")
    return arr


def _split_from_members(members: dict[str, list[tuple[str, bytes]]], where: str,
                        a: Assignment) -> Dataset:
    out = []
    for split in ("train", "test"):
        items = sorted(members.get(split, []))
        if not items:
            raise DataError(f"{where} has no {split}/<class>/ images")
        xs, ys = [], []
        for rel, raw in items:
            cls = rel.split("/")[0]
            try:
                xs.append(_decode_image(raw, a.image_shape))
            except Exception as exc:  # Pillow raises many types for corrupt files
                raise DataError(f"{where}: cannot decode {split}/{rel} ({exc})") from exc
            ys.append(a.class_names.index(cls))
        out += [np.stack(xs), np.asarray(ys, dtype=np.int64)]
    return _validated(*out, a=a, source=f"image tree {where}")


def _tree_key(rel: str, classes: tuple[str, ...]) -> tuple[str, str] | None:
    """Map 'x/train/cat/0001.jpg' to ('train', 'cat/0001.jpg'); None when not an image."""
    parts = rel.replace("\\", "/").split("/")
    if len(parts) < 3 or not parts[-1].lower().endswith(_IMAGE_SUFFIXES):
        return None
    split, cls = parts[-3], parts[-2]
    if split not in ("train", "test") or cls not in classes:
        return None
    return split, f"{cls}/{parts[-1]}"


def _from_image_tree(root: Path, a: Assignment) -> Dataset:
    members: dict[str, list[tuple[str, bytes]]] = {}
    for split in ("train", "test"):
        for file in (root / split).rglob("*"):
            key = _tree_key(str(file.relative_to(root)), a.class_names)
            if key:
                members.setdefault(key[0], []).append((key[1], file.read_bytes()))
    return _split_from_members(members, str(root), a)


def _from_tarball(path: Path, a: Assignment) -> Dataset:
    members: dict[str, list[tuple[str, bytes]]] = {}
    batches: dict[str, bytes] = {}
    try:
        with tarfile.open(path) as tar:
            for info in tar:
                if not info.isfile():
                    continue
                base = info.name.rsplit("/", 1)[-1]
                if base.startswith(("data_batch_", "test_batch")):
                    batches[base] = tar.extractfile(info).read()
                    continue
                key = _tree_key(info.name, a.class_names)
                if key:
                    members.setdefault(key[0], []).append((key[1], tar.extractfile(info).read()))
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise DataError(f"{path} is not a readable tar archive ({exc})") from exc
    if len(batches) == 6:
        parts = [_unpickle_batch(batches[f"data_batch_{i}"], a) for i in range(1, 6)]
        x_test, y_test = _unpickle_batch(batches["test_batch"], a)
        return _validated(
            np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]),
            x_test, y_test, a=a, source=f"cifar-10-python archive {path}",
        )
    if not members:
        raise DataError(f"{path} holds neither {a.data.name} batches nor train/<class>/ images")
    return _split_from_members(members, str(path), a)


def _load_keras_download(a: Assignment) -> Dataset:
    try:
        import tensorflow as tf

        loader = getattr(tf.keras.datasets, a.data.dataset)
        (x_train, y_train), (x_test, y_test) = loader.load_data()
    except Exception as exc:  # network errors come in many types
        raise DataError(f"keras could not download {a.data.name} "
                        f"({type(exc).__name__}: {exc})") from exc
    return _validated(x_train, y_train, x_test, y_test, a=a, source="keras download")


def _validated(x_train, y_train, x_test, y_test, *, a: Assignment, source: str) -> Dataset:
    arrays = []
    shape = tuple(a.image_shape)
    for name, x, y in (("train", x_train, y_train), ("test", x_test, y_test)):
        x = np.asarray(x)
        y = np.asarray(y).reshape(-1).astype(np.int64)
        if x.ndim == 3 and shape[-1] == 1:  # grey images saved without a channel axis
            x = x[..., None]
        if x.ndim != 4 or x.shape[1:] != shape:
            want = ", ".join(str(d) for d in shape)
            raise DataError(f"{source}: x_{name} has shape {x.shape}, expected (N, {want})")
        if len(x) != len(y):
            raise DataError(f"{source}: x_{name} and y_{name} differ in length")
        if x.dtype != np.uint8:
            x = _to_uint8(x, f"{source}: x_{name}")
        if len(y) and (y.min() < 0 or y.max() >= a.n_classes):
            raise DataError(f"{source}: y_{name} has labels outside 0..{a.n_classes - 1}")
        arrays += [np.ascontiguousarray(x), y]
    return Dataset(*arrays, source=source)


def _to_uint8(x: np.ndarray, what: str) -> np.ndarray:
    x = x.astype(np.float32)
    lo, hi = float(x.min()), float(x.max())
    if lo >= -1.0 - 1e-3 and hi <= 1.0 + 1e-3 and lo < 0:
        x = (x + 1.0) * 127.5
    elif hi <= 1.0 + 1e-3:
        x = x * 255.0
    elif hi > 255.0 + 1e-3:
        raise DataError(f"{what} has values up to {hi}, not images")
    return np.clip(np.rint(x), 0, 255).astype(np.uint8)


def _write_cache(folder: Path, data: Dataset) -> None:
    """Write arrays to ``folder`` atomically (tmp dir + rename); failures are harmless."""
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=folder.parent, prefix=".tmp-"))
        for name in ("x_train", "y_train", "x_test", "y_test"):
            np.save(tmp / f"{name}.npy", getattr(data, name))
        (tmp / "meta.json").write_text(json.dumps({"source": data.source}))
        tmp.rename(folder)
    except OSError:
        pass  # a read-only home must not stop grading; we simply decode again next time


def _read_cache(folder: Path) -> Dataset:
    meta = json.loads((folder / "meta.json").read_text())
    arrays = [np.load(folder / f"{n}.npy", allow_pickle=False)
              for n in ("x_train", "y_train", "x_test", "y_test")]
    return Dataset(*arrays, source=meta["source"] + " (cached)")


def load_bundled_subset(a: Assignment | None = None) -> Dataset:
    """Load the small subset shipped in the assignment folder.

    It is either JPEG bytes with offsets (``train_jpeg``, ``train_offsets``, ``train_labels``
    and the same for ``test``; decoded and cached) or plain arrays (``x_train`` ...).
    """
    a = a or get_assignment()
    subset = a.data.subset
    if subset is None or not subset.is_file():
        raise DataError(f"the bundled subset {subset} is missing from this install")
    key = hashlib.sha256(subset.read_bytes()).hexdigest()[:16]
    cached = cache_dir() / f"bundled-{key}"
    if (cached / "meta.json").is_file():
        return _read_cache(cached)
    out = []
    with np.load(subset, allow_pickle=False) as z:
        if "x_train" in z.files:
            return _validated(z["x_train"], z["y_train"], z["x_test"], z["y_test"], a=a,
                              source="bundled subset")
        for split in ("train", "test"):
            blob, offsets = z[f"{split}_jpeg"], z[f"{split}_offsets"]
            xs = [_decode_image(blob[i:j].tobytes(), a.image_shape)
                  for i, j in zip(offsets[:-1], offsets[1:])]
            out += [np.stack(xs), z[f"{split}_labels"].astype(np.int64)]
    data = _validated(*out, a=a, source="bundled subset")
    _write_cache(cached, data)
    return data

