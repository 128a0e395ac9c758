"""Resource limits for the child: rlimits, a cgroup when writable, and a process-tree watchdog.

Measured on the grading machine (TensorFlow 2.21 CPU): importing TF and training a small DCGAN
step peaks at ~1.4 GB virtual / ~0.65 GB resident, so ``RLIMIT_DATA`` at the memory limit
works with TF and turns a too-large model into a clean ``MemoryError`` /
``ResourceExhaustedError`` inside the child. ``RLIMIT_AS`` also works on CPU but breaks CUDA
builds (they reserve huge address ranges), so it is not used. A cgroup (v1 or v2, when the
hierarchy is writable) is the hard backstop for memory and task counts; without one, the
parent's watchdog sums the resident memory of the process tree and counts its processes.
"""

from __future__ import annotations

import os
import resource
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path

from grader.config import SANDBOX

CGROUP_ROOT = Path("/sys/fs/cgroup")
MB = 1 << 20


@dataclass(frozen=True)
class Limits:
    """Limits of one child run (one submission)."""

    timeout_s: float = 600.0
    """Hard wall-clock cap of the whole child (all phases)."""
    memory_mb: int = SANDBOX.memory_mb
    """Data segment limit (RLIMIT_DATA); cgroup and watchdog allow ``memory_slack_mb`` more."""
    memory_slack_mb: int = 512
    max_processes: int = 32
    """Processes in the tree (the watchdog kills the run above this)."""
    max_tasks: int = 512
    """Processes + threads (cgroup ``pids.max``; TF itself starts dozens of threads)."""
    file_size_mb: int = 1024
    """Largest file the child may write (RLIMIT_FSIZE)."""
    tmp_size_mb: int = 256
    """Size of the private ``/tmp`` (a tmpfs under bwrap)."""
    disk_mb: int = 2048
    """Most the work folder may hold; above it the run is stopped (a full disk hurts others)."""
    log_bytes: int = 64 * 1024
    """Keep only the last this many bytes of stdout/stderr."""
    threads: int = SANDBOX.threads
    """TF intra-op threads and ``OMP_NUM_THREADS`` in the child."""
    isolation: str = "auto"
    """``auto`` or ``bwrap`` (bubblewrap, refusing when it cannot run), or ``none`` (asked
    for by name: no isolation)."""
    poll_s: float = 0.2
    """Watchdog period."""
    use_cgroup: bool = True
    """Create a private cgroup when the hierarchy is writable (off: rlimits + watchdog only)."""


def apply_rlimits(limits: Limits) -> None:
    """Set rlimits on the current process (called in the forked child before exec)."""
    data = (limits.memory_mb) * MB
    _set(resource.RLIMIT_DATA, data)
    _set(resource.RLIMIT_FSIZE, limits.file_size_mb * MB)
    _set(resource.RLIMIT_NPROC, limits.max_tasks)  # effective only for a non-root real uid
    _set(resource.RLIMIT_CORE, 0)


def die_with_parent() -> None:
    """Ask Linux to kill this process when its parent dies (``PR_SET_PDEATHSIG``; in a
    forked child before exec). Elsewhere a no-op: the parent's clean-up still kills it."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL), 0, 0, 0)
    except (OSError, AttributeError):
        pass


def folder_mb(folder: Path) -> float:
    """Size of the regular files under ``folder`` in MB (links are not followed)."""
    total = 0
    for root, _dirs, files in os.walk(folder):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except OSError:
                pass
    return total / MB


def _set(which: int, value: int) -> None:
    soft, hard = resource.getrlimit(which)
    if hard != resource.RLIM_INFINITY:
        value = min(value, hard)
    try:
        resource.setrlimit(which, (value, value))
    except (ValueError, OSError):
        pass


@dataclass
class Cgroup:
    """A private cgroup (v1: one folder per controller; v2: one folder) for one child."""

    dirs: dict[str, Path] = field(default_factory=dict)
    """controller (``memory``, ``pids``, or ``unified``) -> folder."""

    @property
    def active(self) -> bool:
        """True when at least one controller folder was created."""
        return bool(self.dirs)

    def join(self, pid: int) -> None:
        """Move ``pid`` into every folder (safe to call from a preexec function)."""
        for d in self.dirs.values():
            with open(d / "cgroup.procs", "w") as fh:
                fh.write(str(pid))

    def pids(self) -> list[int]:
        """Processes currently in the cgroup."""
        out: set[int] = set()
        for d in self.dirs.values():
            try:
                out.update(int(x) for x in (d / "cgroup.procs").read_text().split())
            except OSError:
                pass
        return sorted(out)

    def oom_killed(self) -> bool:
        """True when the kernel killed a task for exceeding the memory limit."""
        for name in ("memory.events", "memory.oom_control"):
            for d in self.dirs.values():
                text = _read(d / name)
                for line in text.splitlines():
                    key, _, val = line.partition(" ")
                    if key == "oom_kill" and val.strip().isdigit() and int(val) > 0:
                        return True
        return False

    def peak_mb(self) -> float | None:
        """Peak memory use of the cgroup in MB, when the kernel reports it."""
        for d in self.dirs.values():
            for name in ("memory.max_usage_in_bytes", "memory.peak"):
                text = _read(d / name).strip()
                if text.isdigit():
                    return int(text) / MB
        return None

    def destroy(self) -> None:
        """Kill whatever is left inside and remove the folders."""
        for _ in range(20):
            left = self.pids()
            if not left:
                break
            for pid in left:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            _sleep(0.05)
        for d in self.dirs.values():
            try:
                d.rmdir()
            except OSError:
                pass


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


def _sleep(seconds: float) -> None:
    time.sleep(seconds)


def create_cgroup(name: str, limits: Limits) -> Cgroup:
    """Create a child cgroup under this process's own cgroup; empty when not possible."""
    cg = Cgroup()
    mem = (limits.memory_mb + limits.memory_slack_mb) * MB
    own = _own_cgroups()
    if "" in own and (CGROUP_ROOT / "cgroup.controllers").exists():  # v2
        d = CGROUP_ROOT / own[""].lstrip("/") / name
        if _mkdir(d) and _write(d / "memory.max", str(mem)):
            _write(d / "pids.max", str(limits.max_tasks))
            _write(d / "memory.swap.max", "0")
            cg.dirs["unified"] = d
        return cg
    for ctrl, setting, value in (("memory", "memory.limit_in_bytes", mem),
                                 ("pids", "pids.max", limits.max_tasks)):
        if ctrl not in own:
            continue
        d = CGROUP_ROOT / ctrl / own[ctrl].lstrip("/") / name
        if _mkdir(d):
            if _write(d / setting, str(value)):
                cg.dirs[ctrl] = d
            else:
                _rmdir(d)
    return cg


def _own_cgroups() -> dict[str, str]:
    """controller -> path of this process's cgroup ("" is the v2 unified hierarchy)."""
    out: dict[str, str] = {}
    for line in _read(Path("/proc/self/cgroup")).splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        for ctrl in parts[1].split(",") if parts[1] else [""]:
            out[ctrl] = parts[2]
    return out


def _mkdir(d: Path) -> bool:
    try:
        d.mkdir(exist_ok=True)
        return True
    except OSError:
        return False


def _rmdir(d: Path) -> None:
    try:
        d.rmdir()
    except OSError:
        pass


def _write(path: Path, value: str) -> bool:
    try:
        path.write_text(value)
        return True
    except OSError:
        return False


def process_tree(root: int) -> list[int]:
    """``root`` and all its descendants (from ``/proc``; works across pid namespaces)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        stat = _read(Path("/proc") / entry / "stat")
        # the command name may contain spaces and parentheses: split after the last ')'
        tail = stat.rpartition(")")[2].split()
        if len(tail) >= 2 and tail[1].isdigit():
            children.setdefault(int(tail[1]), []).append(int(entry))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children.get(pid, []))
    return out


def tree_rss_mb(pids: list[int]) -> float:
    """Sum of resident memory (VmRSS) of ``pids`` in MB."""
    total = 0
    for pid in pids:
        for line in _read(Path(f"/proc/{pid}/status")).splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
                break
    return total / 1024
