"""Run one student's grading as its own process, with a time limit and a memory limit.

This is the failure boundary of a cohort: whatever the submission does (and whatever the
grader does with it), the cohort runner gets back a :class:`JobOutcome` with a reason in
words, never an exception. The student's code itself runs further inside the sandbox that
``grade`` starts (:mod:`grader.sandbox`).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from grader.cohort.worker import PARENT_ENV
from grader.config import SANDBOX
from grader.files import is_scratch

#: Files of a grading output folder that a cohort keeps: the outputs, and under ``work/`` the
#: evidence that ``grade rescore`` re-scores and re-renders from (the grader's own samples,
#: the student's judged tiles and figures, logs). Models and real images are scratch.
TOP_FILES = ("report.html", "result.json", "results.json", "grade.log")


def is_kept(rel: str) -> bool:
    """True for a kept file of a grading output folder (``rel``: relative POSIX path)."""
    if rel in TOP_FILES:
        return True
    parts = rel.split("/")
    if parts[0] != "work" or ".." in parts or len(parts) < 2:
        return False
    return not is_scratch(parts[-1])


LOG_FILE = "grade.log"


@dataclass
class GradeJob:
    """Everything needed to grade one student (plain data: it travels to Dask workers)."""

    student: str
    submission: str
    """Path of the submission (on the machine that runs the job)."""
    flags: list[str] = field(default_factory=list)
    """``grade`` flags: mode, budget, seed, data, rubric, language, isolation, memory."""
    timeout_s: float = 1800.0
    memory_mb: int = SANDBOX.memory_mb + SANDBOX.grader_memory_mb
    """Limit on the resident memory of the whole grading process tree."""
    threads: int | None = None
    """TensorFlow threads (None: decided where the job runs)."""


@dataclass
class JobOutcome:
    """How one grading process ended."""

    student: str
    status: str
    """``graded``, ``failed`` or ``interrupted`` (the runner was stopped: not recorded)."""
    reason: str | None = None
    seconds: float = 0.0
    exit_code: int | None = None
    peak_mb: float = 0.0
    log_tail: str = ""
    host: str | None = None
    """The Dask worker's host name (None for a local run)."""

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (JSON-ready)."""
        return asdict(self)


class Running:
    """Process groups started by this runner, so an interrupt can stop them all."""

    def __init__(self) -> None:
        self.procs: set[subprocess.Popen] = set()
        self.stopping = False

    def kill_all(self) -> None:
        """Stop every grading process (and its sandbox) now."""
        self.stopping = True
        for proc in list(self.procs):
            _killpg(proc)


def run_job(job: GradeJob, out_dir: Path, running: Running | None = None,
            poll_s: float = 0.5) -> JobOutcome:
    """Grade ``job`` into ``out_dir`` in a child process; wait, enforcing the limits.

    Args:
        job: What to grade and how.
        out_dir: Output folder of ``grade`` (created; its old content is replaced).
        running: Registry for interrupts; the process is registered while it runs.
        poll_s: Watchdog period.
    """
    from grader.sandbox.limits import process_tree, tree_rss_mb

    out_dir.mkdir(parents=True, exist_ok=True)
    threads = job.threads or default_threads(1)
    cmd = [sys.executable, "-m", "grader.cohort.worker", job.submission, "--out", str(out_dir),
           "--threads", str(threads), *job.flags]
    env = dict(os.environ)
    env.update({PARENT_ENV: str(os.getpid()), "OMP_NUM_THREADS": str(threads),
                "TF_NUM_INTRAOP_THREADS": str(threads), "TF_NUM_INTEROP_THREADS": "1",
                "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONUNBUFFERED": "1"})
    t0 = time.monotonic()
    log_path = out_dir / LOG_FILE
    peak = 0.0
    with open(log_path, "wb") as log:
        try:
            proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log,
                                    stderr=subprocess.STDOUT, env=env, start_new_session=True)
        except OSError as exc:
            return JobOutcome(job.student, "failed", f"The grader could not start: {exc}.")
        if running is not None:
            running.procs.add(proc)
        reason = None
        try:
            while proc.poll() is None:
                time.sleep(poll_s)
                elapsed = time.monotonic() - t0
                rss = tree_rss_mb(process_tree(proc.pid))
                peak = max(peak, rss)
                if elapsed > job.timeout_s:
                    reason = (f"Grading took longer than {job.timeout_s / 60:.0f} minutes and was "
                              "stopped. Your code may loop forever or train far longer than the "
                              "grader's budget (for example a training loop at import time).")
                elif rss > job.memory_mb:
                    reason = (f"Grading used more than {job.memory_mb / 1024:.1f} GB of memory and "
                              "was stopped. Check for very large models, batches or arrays.")
                if reason:
                    _killpg(proc)
                    proc.wait()
                    break
        finally:
            if running is not None:
                running.procs.discard(proc)
    seconds = time.monotonic() - t0
    tail = _tail(log_path)
    code = proc.returncode
    if reason:
        return JobOutcome(job.student, "failed", reason, seconds, code, peak, tail)
    if running is not None and running.stopping:
        return JobOutcome(job.student, "interrupted", "stopped by the user", seconds, code, peak,
                          tail)
    if code == 0 and (out_dir / "result.json").is_file():
        return JobOutcome(job.student, "graded", None, seconds, code, peak, tail)
    return JobOutcome(job.student, "failed", _failure_reason(code, tail), seconds, code, peak, tail)


def default_threads(workers: int) -> int:
    """TensorFlow threads per run so that ``workers`` runs do not oversubscribe the cores."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count() or 1
    return max(1, cores // max(1, workers))


def _failure_reason(code: int | None, tail: str) -> str:
    errors = [ln.removeprefix("error: ").strip() for ln in tail.splitlines()
              if ln.startswith("error: ")]
    if errors:
        return f"The grader stopped with an error: {errors[-1]}"
    if code is not None and code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return (f"The grading process crashed ({name}). This is usually a problem of the "
                "grader or the machine, not of your code; the instructor will re-run it.")
    return (f"The grading process ended with exit code {code} without writing a result. "
            "The last lines of its log are kept in grade.log.")


def _killpg(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _tail(path: Path, limit: int = 4000) -> str:
    try:
        data = path.read_bytes()[-limit:]
    except OSError:
        return ""
    return data.decode("utf-8", "replace")


def collect_files(out_dir: Path, limit_bytes: int = 64 << 20) -> dict[str, bytes]:
    """The kept files of a grading output folder, as ``{relative path: bytes}``."""
    files: dict[str, bytes] = {}
    total = 0
    for p in sorted(out_dir.rglob("*")):
        rel = p.relative_to(out_dir).as_posix()
        if p.is_symlink() or not p.is_file() or not is_kept(rel):
            continue
        size = p.stat().st_size
        if total + size > limit_bytes:
            continue
        files[rel] = p.read_bytes()
        total += size
    return files
