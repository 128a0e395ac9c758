"""Cache keys: what a grade depends on, and the committed record that holds its keys.

Two keys, because most of what changes a grade does not need new training:

- :func:`grading_key` covers what changes the *evidence* (the submission's content, mode,
  budget, seed, data, assignment, the judge's weights and arithmetic, the grader's version).
  When it differs from the committed record's ``key`` (:data:`ENTRY_FILE`), the student is
  graded again: student code runs and the grader trains.
- :func:`scoring_key` covers what only changes the *scoring and rendering* (the rubric's
  content, the report language, Gradescope output). When only this differs, the student is
  re-scored from the kept evidence in about a second (:mod:`grader.rescore`).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from grader import __version__
from grader.assignment import get_assignment
from grader.judge.precision import compute_policy

ENTRY_FILE = "cohort-entry.json"
"""A committed student's record, inside its output folder; it holds the cache key."""


def rubric_sha256(rubric: Path | str | None, assignment: str | Path | None = None) -> str:
    """SHA-256 of the rubric file in use (the assignment's when ``rubric`` is None)."""
    path = Path(rubric) if rubric else get_assignment(assignment).rubric
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return "missing"


def scoring_key(lang: str, rubric: Path | str | None, **extra: Any) -> str:
    """The key of what scoring and rendering depend on: rubric content, language, ``extra``
    (Gradescope output and its settings)."""
    settings = {"lang": lang, "rubric_sha256": rubric_sha256(rubric), **extra}
    blob = json.dumps(settings, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


def settings_fingerprint(assignment: str | Path | None = None) -> dict[str, str]:
    """What changes the evidence besides the submission: assignment, judge and arithmetic."""
    spec = get_assignment(assignment)
    try:
        judge_sha = json.loads(spec.judge.calibration.read_text())["weights_sha256"]
    except (OSError, ValueError, KeyError):
        judge_sha = "missing"
    return {"assignment": spec.id, "judge_sha256": judge_sha,
            "judge_precision": compute_policy(), "grader": __version__}


def grading_key(submission_sha: str, settings: dict[str, Any]) -> str:
    """The cache key of one grade's evidence: submission content + grader version + mode + ..."""
    blob = json.dumps({"submission": submission_sha, **settings}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


def read_entry(student_dir: Path) -> dict[str, Any] | None:
    """A committed student's record, or None (missing or unreadable: grade again)."""
    try:
        entry = json.loads((student_dir / ENTRY_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return entry if isinstance(entry, dict) and isinstance(entry.get("key"), str) else None
