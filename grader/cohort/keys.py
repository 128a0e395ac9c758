"""Cache keys: what a grade depends on, and the committed record that holds its key.

A student is graded again only when :func:`grading_key` of its submission and the run's
settings differs from the key in its committed record (:data:`ENTRY_FILE`).
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


def settings_fingerprint(rubric: Path | None,
                         assignment: str | Path | None = None) -> dict[str, str]:
    """What changes grades besides the submission: assignment, rubric, judge and arithmetic."""
    spec = get_assignment(assignment)
    rubric_path = Path(rubric) if rubric else spec.rubric
    try:
        rubric_sha = hashlib.sha256(rubric_path.read_bytes()).hexdigest()
    except OSError:
        rubric_sha = "missing"
    try:
        judge_sha = json.loads(spec.judge.calibration.read_text())["weights_sha256"]
    except (OSError, ValueError, KeyError):
        judge_sha = "missing"
    return {"assignment": spec.id, "rubric_sha256": rubric_sha, "judge_sha256": judge_sha,
            "judge_precision": compute_policy(), "grader": __version__}


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
