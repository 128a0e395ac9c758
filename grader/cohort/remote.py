"""Grading on a Dask worker: the submission travels as bytes, the kept outputs come back.

Workers need not share a file system with the machine that runs ``grade cohort``: the
runner packs each submission (a zip of a folder, or the file itself), the worker unpacks it
into a temporary folder, grades it with :func:`grader.cohort.execute.run_job` (the same
process boundary and limits as a local run) and returns the outcome and the kept files.
"""

from __future__ import annotations

import io
import socket
import tempfile
import zipfile
from pathlib import Path, PurePosixPath
from typing import Any

from grader.cohort.execute import GradeJob, collect_files, default_threads, run_job


def pack_submission(path: Path) -> tuple[str, bytes, bool]:
    """``(name, bytes, is_folder)``: a folder is zipped (symbolic links are left out)."""
    path = Path(path)
    if path.is_file():
        return path.name, path.read_bytes(), False
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        for p in sorted(path.rglob("*")):
            if p.is_file() and not p.is_symlink():
                zf.write(p, p.relative_to(path).as_posix())
    return path.name, buf.getvalue(), True


def _unpack(name: str, payload: bytes, is_folder: bool, into: Path) -> Path:
    target = into / (Path(name).name or "submission")
    if not is_folder:
        target.write_bytes(payload)
        return target
    target.mkdir()
    with zipfile.ZipFile(io.BytesIO(payload)) as zf:
        for info in zf.infolist():
            rel = PurePosixPath(info.filename)
            if rel.is_absolute() or ".." in rel.parts or info.is_dir():
                continue
            dest = target.joinpath(*rel.parts)
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(zf.read(info))
    return target


def _worker_threads() -> int:
    """Cores / task slots of all Dask workers on this host (``--nworkers`` share a machine)."""
    try:
        from distributed import get_worker

        worker = get_worker()
        slots = worker.state.nthreads
    except (ImportError, ValueError, AttributeError):
        return default_threads(1)
    try:
        host = worker.address.rsplit(":", 1)[0]
        infos = worker.client.scheduler_info().get("workers", {})
        same = [w for addr, w in infos.items() if addr.rsplit(":", 1)[0] == host]
        slots = max(slots, sum(int(w.get("nthreads", 1)) for w in same))
    except Exception:  # noqa: BLE001 - the local count is a safe fallback
        pass
    return default_threads(slots)


def grade_on_worker(job: dict[str, Any], name: str, payload: bytes,
                    is_folder: bool) -> dict[str, Any]:
    """Dask task: grade one packed submission; returns ``{"outcome", "files", "host"}``."""
    with tempfile.TemporaryDirectory(prefix="dcgan-cohort-") as tmp:
        sub = _unpack(name, payload, is_folder, Path(tmp))
        spec = GradeJob(**{**job, "submission": str(sub)})
        if spec.threads is None:
            spec.threads = _worker_threads()
        out = Path(tmp) / "out"
        outcome = run_job(spec, out)
        return {"outcome": outcome.to_dict(), "files": collect_files(out),
                "host": socket.gethostname()}
