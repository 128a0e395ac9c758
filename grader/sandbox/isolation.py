"""Pick the strongest isolation that works here (bwrap > unshare > subprocess) and build it.

``bwrap`` (bubblewrap): a fresh mount namespace with read-only system folders, the Python
installation, the virtual environment and the grader's two packages (not the folder around
them); the submission read-only; the work folder writable; a private tmpfs ``/tmp``; no
network, own PID namespace, no capabilities. The assignments (``grader/assignments``: the
judge's weights, the data subset) are hidden behind an empty folder.
Nothing else (home folders, sibling submissions) is visible.

``unshare``: a user + network + PID namespace only (no network, same file system view).

``subprocess``: a plain process group; limits and timeouts still apply, the network does not.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
from pathlib import Path

ISOLATIONS = ("bwrap", "unshare", "subprocess")
HIDDEN = (Path(__file__).resolve().parents[1] / "assignments",)
"""Folders of the grader that student code must not read (judge weights, data)."""
_SYSTEM_DIRS = ("/usr", "/etc", "/opt", "/sys")
_MERGED_USR = ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")


def _library_paths() -> list[str]:
    """Where installed libraries live: site-packages folders (user site too) and PYTHONPATH.

    Other ``sys.path`` entries (the current directory, folders a test runner inserts) are
    left out on purpose: they are where submissions tend to be.
    """
    import site

    paths = [*site.getsitepackages(), site.getusersitepackages()]
    paths += [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p not in ("", ".")]
    return paths


def _python_roots() -> list[Path]:
    """Folders the child's Python needs: the installation, the venv, and the grader package.

    Only the ``grader`` package folder is bound, not the folder that holds it: in a checkout
    that folder also holds ``reference/`` (trained generators), ``submissions/``, ``runs/``
    and whatever an instructor keeps there. The current directory (``''`` on ``sys.path``) is never bound:
    an instructor who grades from a course folder would otherwise show every student's
    submission to every other student.
    """
    import grader

    roots = {Path(sys.base_prefix).resolve(), Path(sys.prefix).resolve(),
             Path(sys.executable).resolve().parent.parent,
             Path(grader.__file__).resolve().parent}
    for entry in _library_paths():
        p = Path(entry).resolve()
        if p.is_dir() and not any(str(p).startswith(s) for s in _SYSTEM_DIRS):
            roots.add(p)
    # keep only outermost folders
    ordered = sorted(roots, key=lambda p: len(p.parts))
    out: list[Path] = []
    for p in ordered:
        if not any(p == q or q in p.parents for q in out):
            out.append(p)
    return out


def bwrap_prefix(work_dir: Path, read_only: list[Path], tmp_size_mb: int) -> list[str]:
    """The ``bwrap ... --`` argument list for a child working in ``work_dir``."""
    args = ["bwrap", "--unshare-user", "--uid", "1000", "--gid", "1000", "--unshare-net",
            "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
            "--die-with-parent", "--new-session", "--cap-drop", "ALL", "--hostname", "sandbox"]
    for d in _SYSTEM_DIRS:
        args += ["--ro-bind-try", d, d]
    for d in _MERGED_USR:
        p = Path(d)
        if p.is_symlink():
            args += ["--symlink", os.readlink(p), d]
        elif p.is_dir():
            args += ["--ro-bind", d, d]
    args += ["--proc", "/proc", "--dev", "/dev"]
    for dev in sorted(Path("/dev").glob("nvidia*")):  # GPU machines: keep the devices usable
        args += ["--dev-bind-try", str(dev), str(dev)]
    args += ["--size", str(tmp_size_mb * (1 << 20)), "--tmpfs", "/tmp"]
    for p in [*_python_roots(), *read_only]:
        args += ["--ro-bind-try", str(p), str(p)]
    # The judge's weights and the data stay outside: a train_step that could load the judge
    # could train the generator against the very classifier that grades it.
    for hidden in HIDDEN:
        args += ["--tmpfs", str(hidden)]
    work = str(Path(work_dir).resolve())
    args += ["--bind", work, work, "--chdir", work, "--"]
    return args


def unshare_prefix() -> list[str]:
    """The ``unshare ... --`` argument list (user, network and PID namespaces)."""
    return ["unshare", "--user", "--map-root-user", "--net", "--pid", "--fork", "--kill-child",
            "--mount", "--mount-proc", "--"]


def prefix_for(isolation: str, work_dir: Path, read_only: list[Path],
               tmp_size_mb: int = 256) -> list[str]:
    """Command prefix for ``isolation`` (``subprocess`` has none)."""
    if isolation == "bwrap":
        return bwrap_prefix(work_dir, read_only, tmp_size_mb)
    if isolation == "unshare":
        return unshare_prefix()
    return []


@functools.cache
def works(isolation: str) -> bool:
    """Quick self-test: can ``isolation`` start a process with no network here?"""
    if isolation == "subprocess":
        return True
    tool = "bwrap" if isolation == "bwrap" else "unshare"
    if shutil.which(tool) is None:
        return False
    probe = Path(os.environ.get("TMPDIR", "/tmp"))
    cmd = prefix_for(isolation, probe, [], 16) + [sys.executable, "-S", "-c",
                                                   "import socket; print('ok')"]
    try:
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=20,
                             stdin=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError):
        return False
    return res.returncode == 0 and res.stdout.strip() == "ok"


def choose(requested: str = "auto") -> str:
    """The isolation to use: ``requested`` if it works, else the best that works.

    ``$DCGAN_GRADER_ISOLATION`` overrides ``auto``.
    """
    if requested == "auto":
        requested = os.environ.get("DCGAN_GRADER_ISOLATION", "auto")
    if requested in ISOLATIONS and works(requested):
        return requested
    return next(i for i in ISOLATIONS if works(i))
