"""The two executors: grade jobs on this machine (:func:`run_local`) or on Dask (:func:`run_dask`).

Both stage each student's outputs in ``staging/<student>`` and call ``on_done`` in the
calling thread as each student finishes; committing is the caller's job.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import asdict
from pathlib import Path
from typing import Any

from grader.cohort.execute import GradeJob, JobOutcome, Running, run_job
from grader.cohort.roster import Student
from grader.errors import UsageError

DoneFn = Callable[[Student, JobOutcome, Path], None]
"""``on_done(student, outcome, staged)``: called once per finished student."""


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
    try:
        from distributed import Client, as_completed
    except ImportError as exc:
        raise UsageError("Grading on a Dask cluster needs the 'cluster' extra.",
                         "Install it with: pip install -e \".[cpu,cluster]\" (or "
                         "pip install 'distributed>=2024.1').") from exc

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
