"""``grade cohort``: grade every student of a folder, in parallel or on Dask, resumably.

Flow: roster -> cache keys -> jobs for what changed -> executor (local processes or a Dask
cluster) -> each finished student is committed at once (one folder rename) -> similarity ->
gradebook, ``cohort.json`` and dashboard. A student is committed with its record
(``cohort-entry.json``), which holds the cache key; a later run skips students whose key is
unchanged, so a run killed halfway loses nothing already graded.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import signal
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from grader import __version__
from grader.cohort.execute import (
    KEEP_FILES,
    GradeJob,
    JobOutcome,
    Running,
    default_threads,
    run_job,
)
from grader.cohort.roster import Student, content_hash, discover
from grader.errors import UsageError
from grader.report.result_json import write_text_atomic

ENTRY_FILE = "cohort-entry.json"
STATE_DIR = ".cohort"
MODE_TIMEOUT_S = {"quick": 1800.0, "full": 8 * 3600.0}
"""Default per-student limit of the whole grading process (above the sandbox's own limits)."""

DoneFn = Callable[[Student, JobOutcome, Path], None]


@dataclass
class CohortOptions:
    """What ``grade cohort`` was asked to do."""

    root: Path
    out: Path
    mode: str = "quick"
    workers: int = 1
    scheduler: str | None = None
    only: list[str] | None = None
    force: bool = False
    lang: str = "en"
    grade_flags: list[str] = field(default_factory=list)
    """Flags passed to each ``grade`` run (budget, seed, data, rubric, isolation, memory)."""
    key_settings: dict[str, Any] = field(default_factory=dict)
    """Settings that change a grade: part of every cache key."""
    timeout_s: float | None = None
    memory_mb: int = 4096
    """The student's sandbox limit; the whole grading process may use 4 GB more."""


@dataclass
class CohortRun:
    """What a cohort run did: records per student and where the outputs went."""

    records: list[dict[str, Any]]
    graded_now: list[str]
    cached: list[str]
    failed: list[str]
    interrupted: bool
    wall_s: float
    paths: Any = None


# ----------------------------------------------------------------------------- cache keys


def settings_fingerprint(rubric: Path | None) -> dict[str, str]:
    """Hashes of what changes grades besides the submission: rubric file and judge weights."""
    from grader.judge.calibration import CALIBRATION_PATH
    from grader.rubric import default_rubric_path

    rubric_path = Path(rubric) if rubric else default_rubric_path()
    try:
        rubric_sha = hashlib.sha256(rubric_path.read_bytes()).hexdigest()
    except OSError:
        rubric_sha = "missing"
    try:
        judge_sha = json.loads(CALIBRATION_PATH.read_text())["weights_sha256"]
    except (OSError, ValueError, KeyError):
        judge_sha = "missing"
    return {"rubric_sha256": rubric_sha, "judge_sha256": judge_sha, "grader": __version__}


def grading_key(submission_sha: str, settings: dict[str, Any]) -> str:
    """The cache key of one grade: submission content + grader version + rubric + mode + ..."""
    blob = json.dumps({"submission": submission_sha, **settings}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


def read_entry(student_dir: Path) -> dict[str, Any] | None:
    """A committed student's record, or None (missing or unreadable: grade again)."""
    try:
        entry = json.loads((student_dir / ENTRY_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return entry if isinstance(entry, dict) and isinstance(entry.get("key"), str) else None


# ------------------------------------------------------------------------------- commit


def commit(out: Path, student: str, staged: Path, record: dict[str, Any]) -> None:
    """Make ``staged`` the student's output folder ``out/<student>`` in one rename.

    Scratch files are removed first; the record is written last inside ``staged``, so a
    committed folder always has its record and a folder without one is never trusted.
    """
    keep = {staged / rel for rel in KEEP_FILES}
    for p in sorted(staged.rglob("*"), key=lambda q: len(q.parts), reverse=True):
        if p.is_symlink() or (p.is_file() and p not in keep):
            p.unlink()
        elif p.is_dir() and not any(p.iterdir()):
            p.rmdir()
    write_text_atomic(staged / ENTRY_FILE, json.dumps(record, ensure_ascii=False, indent=1))
    final = out / student
    trash = out / STATE_DIR / "trash" / f"{student}-{uuid.uuid4().hex[:8]}"
    trash.parent.mkdir(parents=True, exist_ok=True)
    if final.exists():
        os.replace(final, trash)
    os.replace(staged, final)
    shutil.rmtree(trash, ignore_errors=True)


def _record(student: Student, outcome: JobOutcome, key: str, staged: Path,
            lang: str) -> dict[str, Any]:
    """The record of a finished student; writes a failure report when grading died."""
    score = max_score = None
    status, reason = outcome.status, outcome.reason
    if status == "graded":
        try:
            result = json.loads((staged / "result.json").read_text(encoding="utf-8"))
            score, max_score = float(result["score"]), float(result["max_score"])
        except (OSError, ValueError, KeyError, TypeError):
            status, reason = "failed", "The grader wrote an unreadable result.json."
    if status != "graded":
        from grader.cohort.outputs import write_failure_report

        (staged / "result.json").unlink(missing_ok=True)
        write_failure_report(staged, student.name, reason or "unknown error", lang=lang)
    return {
        "student": student.name, "status": status, "reason": reason, "score": score,
        "max_score": max_score, "report": f"{student.name}/report.html",
        "result": f"{student.name}/result.json" if status == "graded" else None,
        "seconds": round(outcome.seconds, 1), "cached": False, "key": key,
        "submission": student.path.name, "peak_mb": round(outcome.peak_mb),
        "exit_code": outcome.exit_code, "host": outcome.host,
        "graded_at": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }


# ----------------------------------------------------------------------------- executors


def run_local(jobs: list[tuple[Student, GradeJob]], staging: Path, workers: int,
              on_done: DoneFn) -> None:
    """Grade ``jobs`` on this machine, ``workers`` processes at a time.

    ``on_done`` runs in the calling thread as each student finishes. On KeyboardInterrupt
    every running grade is killed, nothing pending starts, and the interrupt propagates.
    """
    running = Running()
    pool = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="grade")
    futures: dict[Future, Student] = {}
    try:
        for student, job in jobs:
            futures[pool.submit(run_job, job, staging / student.name, running)] = student
        pending = set(futures)
        while pending:
            done, pending = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
            for fut in done:
                student = futures[fut]
                on_done(student, fut.result(), staging / student.name)
    except BaseException:
        running.kill_all()
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)


def run_dask(jobs: list[tuple[Student, GradeJob]], staging: Path, address: str, full: bool,
             on_done: DoneFn) -> None:
    """Grade ``jobs`` as tasks on the Dask cluster at ``address``.

    Submissions are packed and sent a few at a time (a window of twice the cluster's
    threads), so a cohort of large notebooks never sits in memory at once. ``--full`` tasks
    need the worker resource ``GPU``.
    """
    from distributed import Client, as_completed

    from grader.cohort.remote import grade_on_worker, pack_submission

    try:
        client = Client(address, timeout=30)
    except (OSError, TimeoutError) as exc:
        raise UsageError(f"Could not connect to the Dask scheduler at {address}: {exc}",
                         "Start one with `dask scheduler` and workers with `dask worker "
                         "ADDRESS` (see the README).") from exc
    with client:
        info = client.scheduler_info()
        workers = info.get("workers", {})
        if not workers:
            client.wait_for_workers(1, timeout=120)
            workers = client.scheduler_info().get("workers", {})
        resources = {"GPU": 1} if full else None
        if full and not any((w.get("resources") or {}).get("GPU") for w in workers.values()):
            raise UsageError("--full needs Dask workers with a GPU resource; none has one.",
                             "Start GPU workers with: dask worker ADDRESS --nthreads 1 "
                             "--resources GPU=1")
        window = max(2, 2 * sum(int(w.get("nthreads", 1)) for w in workers.values()))
        todo = list(jobs)
        futures: dict[Any, Student] = {}
        ac = as_completed()

        def submit_next() -> None:
            student, job = todo.pop(0)
            name, payload, is_folder = pack_submission(Path(job.submission))
            fut = client.submit(grade_on_worker, asdict(job), name, payload, is_folder,
                                resources=resources, pure=False,
                                key=f"grade-{uuid.uuid4().hex[:8]}-{student.name}")
            futures[fut] = student
            ac.add(fut)

        try:
            while todo and len(futures) < window:
                submit_next()
            for fut in ac:
                student = futures.pop(fut)
                staged = staging / student.name
                shutil.rmtree(staged, ignore_errors=True)
                staged.mkdir(parents=True)
                try:
                    reply = fut.result()
                except Exception as exc:  # noqa: BLE001 - a worker died or the task failed
                    outcome = JobOutcome(student.name, "failed",
                                         "The Dask worker grading this submission failed "
                                         f"({type(exc).__name__}: {exc}).")
                else:
                    outcome = JobOutcome(**reply["outcome"])
                    for rel, data in reply.get("files", {}).items():
                        dest = staged / rel
                        if dest.resolve().is_relative_to(staged.resolve()):
                            dest.parent.mkdir(parents=True, exist_ok=True)
                            dest.write_bytes(data)
                    outcome.host = reply.get("host")
                on_done(student, outcome, staged)
                if todo:
                    submit_next()
        except BaseException:
            client.cancel(list(futures))
            raise


# ------------------------------------------------------------------------------ the run


@contextlib.contextmanager
def cohort_lock(out: Path) -> Iterator[None]:
    """One ``grade cohort`` at a time per output folder."""
    state = out / STATE_DIR
    state.mkdir(parents=True, exist_ok=True)
    with open(state / "lock", "w") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            raise UsageError(f"Another `grade cohort` run is writing to {out}.",
                             "Wait for it to finish or choose another --out.") from exc
        yield


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    try:
        old = signal.signal(signal.SIGTERM, signal.default_int_handler)
    except ValueError:  # not the main thread
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)


def select(students: list[Student], only: list[str] | None) -> list[Student]:
    """The students named by ``--only`` (all when None); unknown names are an error."""
    if not only:
        return students
    names = {s.name for s in students}
    unknown = [n for n in only if n not in names]
    if unknown:
        raise UsageError(f"--only names students that are not in the folder: {', '.join(unknown)}",
                         "Students: " + ", ".join(sorted(names)))
    return [s for s in students if s.name in set(only)]


def run_cohort(opts: CohortOptions, reporter: Any = None) -> CohortRun:
    """Grade the cohort and write every output; see the module docstring.

    Args:
        opts: The command's options.
        reporter: Optional object with ``start(total, cached)``, ``finished(record)`` and
            ``stop()`` (the terminal progress display).
    """
    t0 = time.monotonic()
    opts.out.mkdir(parents=True, exist_ok=True)
    students = discover(opts.root, exclude=opts.out)
    chosen = select(students, opts.only)
    settings = {**opts.key_settings, **settings_fingerprint(opts.key_settings.get("rubric"))}
    hashes = {s.name: content_hash(s.path) for s in students}  # read once, used twice
    keys = {s.name: grading_key(hashes[s.name], settings) for s in chosen}
    timeout = opts.timeout_s or MODE_TIMEOUT_S.get(opts.mode, 1800.0)
    cached, jobs = [], []
    for s in chosen:
        entry = read_entry(opts.out / s.name)
        if entry and entry["key"] == keys[s.name] and not opts.force:
            cached.append(s.name)
        else:
            jobs.append((s, GradeJob(s.name, str(s.path.resolve()), list(opts.grade_flags),
                                     timeout, opts.memory_mb + 4096,
                                     None if opts.scheduler else default_threads(opts.workers))))
    graded_now: list[str] = []
    failed: list[str] = []
    interrupted = False

    def on_done(student: Student, outcome: JobOutcome, staged: Path) -> None:
        if outcome.status == "interrupted":
            return
        record = _record(student, outcome, keys[student.name], staged, opts.lang)
        commit(opts.out, student.name, staged, record)
        (failed if record["status"] == "failed" else graded_now).append(student.name)
        if reporter:
            reporter.finished(record)

    with cohort_lock(opts.out), _sigterm_as_interrupt():
        staging = opts.out / STATE_DIR / "work"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        if reporter:
            reporter.start(len(jobs), [s for s in chosen if s.name in cached])
        try:
            if opts.scheduler:
                run_dask(jobs, staging, opts.scheduler, opts.mode == "full", on_done)
            else:
                run_local(jobs, staging, opts.workers, on_done)
        except KeyboardInterrupt:
            interrupted = True
        finally:
            if reporter:
                reporter.stop()
            shutil.rmtree(staging, ignore_errors=True)
        run = CohortRun([], graded_now, cached, failed, interrupted, time.monotonic() - t0)
        run.records, run.paths = write_outputs(opts, students, set(cached), run, hashes)
    return run


def write_outputs(opts: CohortOptions, students: list[Student], cached: set[str],
                  run: CohortRun, hashes: dict[str, str]) -> tuple[list[dict[str, Any]], Any]:
    """Gradebook, ``cohort.json``, similarity and dashboard over every committed student."""
    from grader.cohort.outputs import write_cohort_outputs

    records, results = [], {}
    for s in students:
        entry = read_entry(opts.out / s.name)
        if entry is None:
            continue
        entry["cached"] = s.name in cached
        records.append(entry)
        if entry.get("status") == "graded":
            try:
                results[s.name] = json.loads((opts.out / s.name / "result.json")
                                             .read_text(encoding="utf-8"))
            except (OSError, ValueError):
                entry.update(status="failed", reason="result.json is missing or unreadable")
    committed = {r["student"] for r in records}
    flags = similarity_flags([s for s in students if s.name in committed], opts.out, hashes)
    meta = {"mode": opts.mode, "grader_version": __version__,
            "rubric": _rubric_meta(opts.key_settings.get("rubric")),
            "created": time.strftime("%Y-%m-%dT%H:%M:%S"), "workers": opts.workers,
            "scheduler": opts.scheduler, "wall_s": round(run.wall_s, 1),
            "n_cached": len(cached), "interrupted": run.interrupted}
    paths = write_cohort_outputs(opts.out, records, results, flags, meta, lang=opts.lang)
    return records, paths


def similarity_flags(students: list[Student], out: Path,
                     hashes: dict[str, str]) -> list[dict[str, Any]]:
    """Similarity flags between students (trusted: reads files, never runs them).

    Each student's fingerprint is cached in ``OUT/.cohort/prints/`` under the SHA-256 of the
    submission and the normaliser's version, so a re-run only reads changed submissions.
    """
    from grader.cohort.similarity import (
        NORMALISER_VERSION,
        SubmissionPrint,
        find_similar,
        fingerprint_submission,
    )

    cache = out / STATE_DIR / "prints"
    cache.mkdir(parents=True, exist_ok=True)
    scratch = out / STATE_DIR / "similarity"
    prints = {}
    for s in students:
        tag = f"{hashes[s.name]}-v{NORMALISER_VERSION}"
        cached = cache / f"{s.name}.json"
        try:
            raw = json.loads(cached.read_text(encoding="utf-8"))
            if raw.get("tag") == tag:
                prints[s.name] = SubmissionPrint.from_dict(raw["print"])
                continue
        except (OSError, ValueError, KeyError, TypeError):
            pass
        work = scratch / s.name
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        prints[s.name] = fingerprint_submission(s.path, work)
        write_text_atomic(cached, json.dumps({"tag": tag, "print": prints[s.name].to_dict()}))
    shutil.rmtree(scratch, ignore_errors=True)
    return [f.to_dict() for f in find_similar(prints)]


def _rubric_meta(rubric: str | None) -> dict[str, Any]:
    from grader.rubric import load_rubric

    try:
        r = load_rubric(rubric)
    except Exception:  # noqa: BLE001 - the dashboard only shows it
        return {"id": "unknown", "version": "unknown"}
    return {"id": getattr(r, "id", "unknown"), "version": getattr(r, "version", "unknown")}
