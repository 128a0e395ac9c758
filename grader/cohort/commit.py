"""Writing a finished student into the output folder, and the lock that allows one run.

Each finished student becomes ``OUT/<student>`` in one folder rename, with its record
(:data:`grader.cohort.keys.ENTRY_FILE`) written last, so a run killed at any point leaves
every student either fully committed or not at all.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from grader.cohort.execute import JobOutcome, is_kept
from grader.cohort.keys import ENTRY_FILE
from grader.cohort.roster import Student
from grader.errors import UsageError
from grader.report.result_json import write_text_atomic

STATE_DIR = ".cohort"
"""The run's own files inside the output folder: lock, staging, trash, similarity cache."""
LEDGER_FILE = "ledger.json"
"""``OUT/.cohort/ledger.json``: the SHA-256 of every committed student's files, written by
the runner alone (student code never sees the output folder); checked when outputs are
written, so a result changed after it was committed is reported, not trusted."""
HASHED_FILES = ("result.json", "report.html", ENTRY_FILE)


def file_hashes(folder: Path) -> dict[str, str]:
    """SHA-256 of the committed files of one student folder (missing files are left out)."""
    out = {}
    for name in HASHED_FILES:
        p = folder / name
        if p.is_file() and not p.is_symlink():
            out[name] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def read_ledger(out: Path) -> dict[str, dict[str, Any]]:
    """The ledger of committed students (empty when there is none or it is unreadable)."""
    try:
        raw = json.loads((out / STATE_DIR / LEDGER_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return raw if isinstance(raw, dict) else {}


def record_in_ledger(out: Path, student: str, record: dict[str, Any]) -> None:
    ledger = read_ledger(out)
    ledger[student] = {"hashes": file_hashes(out / student), "score": record.get("score"),
                       "max_score": record.get("max_score"), "status": record.get("status")}
    write_text_atomic(out / STATE_DIR / LEDGER_FILE,
                      json.dumps(ledger, ensure_ascii=False, indent=1, sort_keys=True))


def integrity_problems(out: Path, student: str,
                       ledger: dict[str, dict[str, Any]]) -> list[str]:
    """Files of a committed student that changed since the runner committed them."""
    known = (ledger.get(student) or {}).get("hashes")
    if not isinstance(known, dict):
        return ["no ledger entry (committed by an older grader, or the ledger was removed)"]
    now = file_hashes(out / student)
    return [f"{name} changed after it was committed" for name, sha in sorted(known.items())
            if now.get(name) != sha]


def make_record(student: Student, outcome: JobOutcome, key: str, staged: Path,
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


def commit(out: Path, student: str, staged: Path, record: dict[str, Any]) -> None:
    """Make ``staged`` the student's output folder ``out/<student>`` in one rename.

    Scratch files are removed first; the record is written last inside ``staged``, so a
    committed folder always has its record and a folder without one is never trusted.
    """
    for p in sorted(staged.rglob("*"), key=lambda q: len(q.parts), reverse=True):
        if p.is_symlink() or (p.is_file() and not is_kept(p.relative_to(staged).as_posix())):
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
    record_in_ledger(out, student, record)


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
