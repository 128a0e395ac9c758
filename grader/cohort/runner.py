"""``grade cohort``: grade every student of a folder, in parallel or on Dask, resumably.

Flow: roster -> cache keys -> jobs for what changed -> executor (local processes or a Dask
cluster) -> each finished student is committed at once (one folder rename) -> similarity ->
gradebook, ``cohort.json`` and dashboard. A student is committed with its record
(``cohort-entry.json``), which holds the cache key; a later run skips students whose key is
unchanged, so a run killed halfway loses nothing already graded.

The steps live in :mod:`~grader.cohort.keys` (cache keys), :mod:`~grader.cohort.executors`
(local and Dask), :mod:`~grader.cohort.commit` (committing a student, the run's lock) and
:mod:`~grader.cohort.finish` (similarity and the cohort outputs); this module runs them.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import signal
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.cohort.commit import (
    STATE_DIR,
    cohort_lock,
    commit,
    integrity_problems,
    make_record,
    read_ledger,
    record_in_ledger,
)
from grader.cohort.execute import GradeJob, JobOutcome, default_threads
from grader.cohort.executors import run_dask, run_local
from grader.cohort.finish import write_outputs
from grader.cohort.keys import (
    ENTRY_FILE,
    grading_key,
    read_entry,
    scoring_key,
    settings_fingerprint,
)
from grader.cohort.roster import Student, content_hash, discover, select, submission_bytes
from grader.config import SANDBOX
from grader.errors import GraderError
from grader.files import write_text_atomic

MODE_TIMEOUT_S = {"quick": 1800.0, "full": 8 * 3600.0}
"""Default per-student limit of the whole grading process (above the sandbox's own limits)."""


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
    """Settings that change the evidence (mode, budget, seed, data): part of the cache key."""
    rubric: str | None = None
    """The rubric file (absolute), or None for the assignment's."""
    roster: Path | None = None
    """An instructor's class list joined to ``grades.csv`` (:mod:`grader.cohort.class_list`)."""
    score_settings: dict[str, Any] = field(default_factory=dict)
    """Settings that change only scoring and rendering (language, Gradescope output); with
    the rubric's content they make the scoring key: a change re-scores, it does not train."""
    timeout_s: float | None = None
    memory_mb: int = SANDBOX.memory_mb
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
    tampered: list[str] = field(default_factory=list)
    """Students whose committed files changed after the runner committed them (and why)."""
    rescored: list[str] = field(default_factory=list)
    """Students whose evidence was current but whose rubric or language changed: re-scored
    from the kept evidence (they are also in ``cached``)."""


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """Turn SIGTERM into KeyboardInterrupt while grading (main thread only)."""
    try:
        old = signal.signal(signal.SIGTERM, signal.default_int_handler)
    except ValueError:  # not the main thread
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)


def _rescore(opts: CohortOptions, name: str, score_key: str) -> bool:
    """Re-score one committed student from its kept evidence; False when it cannot be."""
    from grader.rescore import rescore_folder

    folder = opts.out / name
    try:
        outcome = rescore_folder(folder, rubric=opts.rubric, lang=opts.lang, student=name)
    except GraderError:
        return False
    entry = read_entry(folder) or {}
    entry.update(score=outcome.result["score"], max_score=outcome.result["max_score"],
                 scoring_key=score_key, rescored_at=time.strftime("%Y-%m-%dT%H:%M:%S"))
    write_text_atomic(folder / ENTRY_FILE, json.dumps(entry, ensure_ascii=False, indent=1))
    record_in_ledger(opts.out, name, entry)
    return True


def run_cohort(opts: CohortOptions, reporter: Any = None,
               then: Callable[[CohortRun], None] | None = None) -> CohortRun:
    """Grade the cohort and write every output; see the module docstring.

    Args:
        opts: The command's options.
        reporter: Optional object with ``start(total, cached)``, ``finished(record)`` and
            ``stop()`` (the terminal progress display).
        then: Called with the finished run while the cohort's lock is still held (more
            outputs into the students' folders, e.g. Gradescope's ``results.json``), so no
            other ``grade cohort`` can write there meanwhile.
    """
    t0 = time.monotonic()
    opts.out.mkdir(parents=True, exist_ok=True)
    students = discover(opts.root, exclude=opts.out)
    chosen = select(students, opts.only)
    settings = {**opts.key_settings, **settings_fingerprint()}
    hashes = {s.name: content_hash(s.path) for s in students}  # read once, used twice
    keys = {s.name: grading_key(hashes[s.name], settings) for s in chosen}
    score_key = scoring_key(opts.lang, opts.rubric, **opts.score_settings)
    timeout = opts.timeout_s or MODE_TIMEOUT_S.get(opts.mode, 1800.0)

    def job(s: Student) -> tuple[Student, GradeJob]:
        return s, GradeJob(s.name, str(s.path.resolve()), list(opts.grade_flags), timeout,
                           opts.memory_mb + SANDBOX.grader_memory_mb,
                           None if opts.scheduler else default_threads(opts.workers))

    cached, jobs, restale = [], [], []
    ledger = read_ledger(opts.out)
    tampered = []
    for s in chosen:
        entry = read_entry(opts.out / s.name)
        changed = integrity_problems(opts.out, s.name, ledger) if entry and s.name in ledger \
            else []
        if changed:
            tampered.append(f"{s.name}: {'; '.join(changed)} (graded again)")
        if entry and entry["key"] == keys[s.name] and not opts.force and not changed:
            stale = entry.get("status") == "graded" and entry.get("scoring_key") != score_key
            (restale if stale else cached).append(s.name)
        else:
            jobs.append(job(s))
    graded_now: list[str] = []
    failed: list[str] = []
    rescored: list[str] = []
    interrupted = False

    def on_done(student: Student, outcome: JobOutcome, staged: Path) -> None:
        if outcome.status == "interrupted":
            return
        record = make_record(student, outcome, keys[student.name], staged, opts.lang)
        record["scoring_key"] = score_key
        commit(opts.out, student.name, staged, record)
        (failed if record["status"] == "failed" else graded_now).append(student.name)
        if reporter:
            reporter.finished(record)

    with cohort_lock(opts.out), _sigterm_as_interrupt():
        staging = opts.out / STATE_DIR / "work"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        for name in restale:  # same evidence, other rubric or language: score again
            if _rescore(opts, name, score_key):
                cached.append(name)
                rescored.append(name)
            else:
                jobs.append(job(next(st for st in chosen if st.name == name)))
        # biggest first: the longest grades start early, so no worker is left with one at the end
        jobs.sort(key=lambda sj: -submission_bytes(sj[0].path))
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
        run = CohortRun([], graded_now, cached, failed, interrupted, time.monotonic() - t0,
                        tampered=tampered, rescored=rescored)
        run.records, run.paths = write_outputs(opts, students, set(cached), run, hashes)
        if then is not None:
            then(run)
    return run
