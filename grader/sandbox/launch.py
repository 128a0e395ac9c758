"""Launch the child on a plan: isolation, limits, phase timeouts, log capture; never raises.

The parent only ever reads JSON (``result.json``, ``progress.json``) and, elsewhere,
``np.load(..., allow_pickle=False)``; it never imports student code.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import grader
from grader.sandbox import isolation as iso
from grader.sandbox.limits import (
    Cgroup,
    Limits,
    apply_rlimits,
    create_cgroup,
    die_with_parent,
    folder_mb,
    process_tree,
    tree_rss_mb,
)
from grader.text import Msg, msg

Status = Literal["ok", "timeout", "memory", "processes", "disk", "crashed"]
PLAN_FILE = "plan.json"
#: the one child that may read its judge (it runs no student code)
TRUSTED_MODULE = "grader.sandbox.trusted"
RESULT_FILE = "result.json"
PROGRESS_FILE = "progress.json"
LOG_FILE = "child.log"
MAX_RESULT_BYTES = 32 << 20
#: seconds allowed for Python + imports before the first phase starts
STARTUP_S = 60.0
#: seconds between measurements of the work folder's size
DISK_POLL_S = 2.0

@dataclass
class ChildOutcome:
    """What came back from one child run."""

    status: Status
    exit_code: int | None
    result: dict[str, Any] | None
    """Parsed ``result.json`` (possibly partial after a kill), or None."""
    log_tail: str
    """The last ``Limits.log_bytes`` of stdout+stderr."""
    isolation: str
    wall_s: float
    phase: str = ""
    """The phase running when the child ended (``load``, ``check``, ``train``, ...)."""
    message: Msg = field(default_factory=lambda: Msg(""))
    """One sentence for the student when status is not ``ok``."""
    peak_memory_mb: float | None = None
    timings: dict[str, float] = field(default_factory=dict)
    """Seconds per phase as seen by the parent."""


class _Tail:
    """Read a pipe in a thread, keeping only the last ``limit`` bytes."""

    def __init__(self, stream, limit: int) -> None:
        self._buf: deque[bytes] = deque()
        self._size = 0
        self._limit = limit
        self.total = 0
        self._thread = threading.Thread(target=self._pump, args=(stream,), daemon=True)
        self._thread.start()

    def _pump(self, stream) -> None:
        for chunk in iter(lambda: stream.read1(65536), b""):
            self.total += len(chunk)
            self._buf.append(chunk)
            self._size += len(chunk)
            while self._size - len(self._buf[0]) >= self._limit:
                self._size -= len(self._buf.popleft())

    def text(self, timeout: float = 2.0) -> str:
        self._thread.join(timeout)
        data = b"".join(self._buf)[-self._limit:]
        prefix = f"[... {self.total - len(data)} bytes of output cut ...]\n" \
            if self.total > len(data) else ""
        return prefix + data.decode("utf-8", errors="replace")


def child_env(work_dir: Path, limits: Limits) -> dict[str, str]:
    """Environment of the child: minimal, no proxies, HOME in the work folder."""
    keep = ("PATH", "LANG", "LC_ALL", "CUDA_VISIBLE_DEVICES", "LD_LIBRARY_PATH", "TZ")
    env = {k: v for k, v in os.environ.items() if k in keep}
    threads = str(max(1, limits.threads))
    env.update({
        "HOME": str(work_dir), "TMPDIR": "/tmp", "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONIOENCODING": "utf-8", "PYTHONUNBUFFERED": "1", "MPLBACKEND": "Agg",
        "TF_CPP_MIN_LOG_LEVEL": "2", "OMP_NUM_THREADS": threads,
        "DCGAN_GRADER_THREADS": threads, "KERAS_HOME": str(work_dir / ".keras"),
        # numpy's BLAS works on small matrices here (128-d judge features); its threads
        # spin-wait when the student's and the trusted process share the cores, which made
        # a 128 x 128 eigen-solve take 2.5 s instead of 12 ms (bench/blas_threads.py)
        "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
    })
    env.setdefault("PATH", "/usr/bin:/bin")
    return env


#: the student's process (runs student code)
STUDENT_MODULE = "grader.sandbox.student"


def child_python(module: str) -> list[str]:
    """``python -I`` running ``module`` from the same ``grader`` package as this process.

    ``-I`` keeps the environment (``PYTHONPATH``, the user's site folder) and the working
    folder out of the child's ``sys.path``; the folder holding this grader is put back
    explicitly, so the child runs the very code the parent runs (and only that folder is
    bound into the sandbox).
    """
    package_parent = str(Path(grader.__file__).resolve().parents[1])
    boot = (f"import sys, runpy; sys.path.insert(0, {package_parent!r}); "
            f"runpy.run_module({module!r}, run_name='__main__', alter_sys=True)")
    return [sys.executable, "-I", "-c", boot]


def run_child(plan: dict[str, Any], work_dir: Path, limits: Limits | None = None,
              module: str = STUDENT_MODULE) -> ChildOutcome:
    """Run ``python -m MODULE plan.json`` isolated in ``work_dir``.

    Args:
        plan: JSON-serialisable plan (see :mod:`grader.sandbox.plan`).
        work_dir: Private, writable folder; the child writes its outputs here.
        limits: Time, memory, process and output limits (defaults: :class:`Limits`).

    Returns:
        The outcome; anything the child does (crash, hang, kill) becomes a status.
    """
    t0 = time.monotonic()
    limits = limits or Limits()
    work_dir = Path(work_dir).resolve()
    isolation = "none"
    try:
        work_dir.mkdir(parents=True, exist_ok=True)
        for name in (RESULT_FILE, PROGRESS_FILE):
            (work_dir / name).unlink(missing_ok=True)
        (work_dir / PLAN_FILE).write_text(json.dumps(plan))
        isolation = iso.choose(limits.isolation)
        read_only = [Path(p) for p in plan.get("read_only", [])]
        # only the trusted process is shown its judge: the student's code never is
        expose = [Path(p) for p in plan.get("judge", {}).get("expose", [])] \
            if module == TRUSTED_MODULE else []
        cmd = iso.prefix_for(isolation, work_dir, read_only, limits.tmp_size_mb,
                             expose=expose) + [
            *child_python(module), str(work_dir / PLAN_FILE)]
        cgroup = create_cgroup(f"dcgan-grader-{os.getpid()}-{uuid.uuid4().hex[:8]}", limits) \
            if limits.use_cgroup else Cgroup()
    except iso.IsolationError:
        raise  # refuse to run student code unisolated: the caller says how to fix it
    except Exception as exc:  # the parent's own setup failed: report, do not raise
        return _outcome("crashed", None, None, f"could not start the child: {exc}", isolation,
                        t0, "", limits, None)
    try:
        return _supervise(cmd, plan, work_dir, limits, cgroup, isolation, t0)
    finally:
        cgroup.destroy()


def _supervise(cmd: list[str], plan: dict, work_dir: Path, limits: Limits, cgroup: Cgroup,
               isolation: str, t0: float) -> ChildOutcome:
    def preexec() -> None:
        die_with_parent()
        apply_rlimits(limits)
        if cgroup.active:
            cgroup.join(os.getpid())

    try:
        proc = subprocess.Popen(cmd, cwd=work_dir, env=child_env(work_dir, limits),
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, start_new_session=True,
                                preexec_fn=preexec)
    except OSError as exc:
        return _outcome("crashed", None, None, f"could not start the child: {exc}", isolation,
                        t0, "", limits, None)
    tail = _Tail(proc.stdout, limits.log_bytes)
    timeouts = {"load": float(plan.get("load_timeout_s", 120.0)),
                "waiting": float(plan.get("await_timeout_s", STARTUP_S))}
    timeouts.update({p["name"]: float(p.get("timeout_s", 300.0)) for p in plan.get("phases", [])})
    phase, phase_start, timings = "startup", time.monotonic(), {}
    killed: Status | None = None
    last_disk = 0.0
    try:
        while proc.poll() is None:
            time.sleep(limits.poll_s)
            now = time.monotonic()
            seen = _read_progress(work_dir)
            if seen and seen != phase:
                timings[phase] = round(now - phase_start, 3)
                phase, phase_start = seen, now
            limit = timeouts.get(phase, STARTUP_S)
            if now - phase_start > limit or now - t0 > limits.timeout_s:
                killed = "timeout"
            else:
                tree = process_tree(proc.pid)
                if len(tree) > limits.max_processes + 3:  # + bwrap and its init
                    killed = "processes"
                elif tree_rss_mb(tree) > limits.memory_mb + limits.memory_slack_mb:
                    killed = "memory"
                elif now - last_disk > DISK_POLL_S:
                    last_disk = now
                    if folder_mb(work_dir) > limits.disk_mb:
                        killed = "disk"
            if killed:
                _kill(proc, cgroup)
                break
    except BaseException:  # Ctrl-C or SIGTERM of the grader: the student's code dies with it
        _kill(proc, cgroup)
        raise
    proc.wait()
    timings[phase] = round(time.monotonic() - phase_start, 3)
    log = tail.text()
    _write_log(work_dir / LOG_FILE, log)
    result = _read_result(work_dir / RESULT_FILE)
    code = proc.returncode
    if killed is None and cgroup.oom_killed():
        killed = "memory"
    status: Status = killed or ("ok" if code == 0 and result is not None else "crashed")
    limit = timeouts.get(phase, STARTUP_S) if killed != "timeout" or \
        time.monotonic() - t0 <= limits.timeout_s else limits.timeout_s
    out = _outcome(status, code, result, log, isolation, t0, phase, limits, cgroup.peak_mb(),
                   limit)
    out.timings = timings
    return out


def _kill(proc: subprocess.Popen, cgroup: Cgroup) -> None:
    """Kill the whole tree: process group, every descendant, and the cgroup."""
    pids = process_tree(proc.pid)
    for target in (lambda: os.killpg(proc.pid, signal.SIGKILL),
                   *[(lambda p=p: os.kill(p, signal.SIGKILL)) for p in pids]):
        try:
            target()
        except OSError:
            pass
    cgroup.destroy()


def _read_progress(work_dir: Path) -> str | None:
    try:
        raw = json.loads((work_dir / PROGRESS_FILE).read_text()[:4096])
    except (OSError, ValueError):
        return None
    phase = raw.get("phase") if isinstance(raw, dict) else None
    return phase if isinstance(phase, str) and len(phase) < 64 else None


def _read_result(path: Path) -> dict[str, Any] | None:
    try:
        if path.stat().st_size > MAX_RESULT_BYTES:
            return None
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return raw if isinstance(raw, dict) else None


def _write_log(path: Path, text: str) -> None:
    try:
        path.unlink(missing_ok=True)  # the child may have left a link here
        path.write_text(text, encoding="utf-8")
    except OSError:
        pass


def _outcome(status: Status, code: int | None, result: dict | None, log: str, isolation: str,
             t0: float, phase: str, limits: Limits, peak: float | None,
             limit: float = 0.0) -> ChildOutcome:
    text = Msg("")
    if status != "ok":
        text = msg(f"sandbox.{status}", limit=limit, phase=phase, mem=limits.memory_mb,
                   procs=limits.max_processes, code=code, disk=limits.disk_mb)
        if status == "crashed" and code is None and log.strip():
            text = Msg(log.strip().splitlines()[-1], text.ko)
    return ChildOutcome(status=status, exit_code=code, result=result, log_tail=log,
                        isolation=isolation, wall_s=round(time.monotonic() - t0, 3), phase=phase,
                        message=text, peak_memory_mb=peak)
