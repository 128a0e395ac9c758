"""Writing files atomically with shareable permissions, and resolving paths inside a folder.

A reader (the report, a cohort dashboard, a resumed run) never sees half a file: everything
is written to a temporary file in the same folder and moved into place with ``os.replace``.
Files get mode 0644 minus the umask (``tempfile.mkstemp`` alone would leave them 0600, which
stops an instructor from sharing a report folder).
"""

from __future__ import annotations

import io
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

FILE_MODE = 0o644


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_bytes_atomic(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (parent folders are created)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, FILE_MODE & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_text_atomic(path: str | Path, text: str) -> Path:
    """Write UTF-8 ``text`` to ``path`` atomically."""
    return write_bytes_atomic(path, text.encode("utf-8"))


def plain_json(obj: Any) -> Any:
    """``json.dumps`` default for NumPy scalars and arrays (anything else as its ``str``)."""
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj)
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    return str(obj)


def write_json_atomic(path: str | Path, obj: Any, *, indent: int | None = 1) -> Path:
    """Write ``obj`` as UTF-8 JSON (non-ASCII kept as is; NumPy values converted) atomically."""
    return write_text_atomic(path, json.dumps(obj, ensure_ascii=False, indent=indent,
                                              default=plain_json))


def savez_atomic(path: str | Path, **arrays: np.ndarray) -> Path:
    """Write arrays as a compressed ``.npz`` atomically (no object arrays: no pickles)."""
    buf = io.BytesIO()
    np.savez_compressed(buf, **{k: np.asarray(v) for k, v in arrays.items()})
    return write_bytes_atomic(path, buf.getvalue())


def inside(root: str | Path, rel: str | Path) -> Path:
    """``root / rel`` resolved, refusing anything that leaves ``root`` (``..``, links).

    Raises:
        ValueError: The path resolves outside ``root``.
    """
    base = Path(root).resolve()
    path = (base / rel).resolve()
    if path != base and base not in path.parents:
        raise ValueError(f"{rel} is outside {root}")
    return path


SCRATCH_SUFFIXES = (".keras", ".npy", ".h5", ".weights", ".index", ".ckpt", ".pkl")
"""Files of a work folder that nothing reads after grading: exported and copied models, the
real training images, copies of the student's checkpoints."""


def is_scratch(name: str) -> bool:
    """True for a work file that is removed once the report is written (see above)."""
    return name.endswith(SCRATCH_SUFFIXES) or ".data-" in name


def compact_work(work: str | Path) -> int:
    """Remove the scratch files of a work folder (never following links); bytes freed."""
    freed = 0
    for p in Path(work).rglob("*"):
        if p.is_symlink() or not p.is_file() or not is_scratch(p.name):
            continue
        try:
            freed += p.stat().st_size
            p.unlink()
        except OSError:
            pass
    return freed
