"""An instructor's decisions: points set by hand for one student's item, with a comment.

The file is CSV (header ``student,item,points,comment``) or TOML (``[[override]]`` tables
with the same keys). ``student`` is the submission's name as the grader shows it (the folder,
or the file name with or without its suffix); ``item`` is a rubric item id or its number.
An override replaces the item's points (its status follows: all points pass, none fail,
otherwise partial), clears its review, and keeps what the grader measured beside it, so the
report can show both. It is applied after scoring, by ``grade --overrides`` and
``grade rescore --overrides``.

Overrides stick: the ones applied to a grade are kept beside its evidence
(:data:`KEPT_FILE` in ``work/``) and applied again by every later re-score, so re-scoring
after a rubric change never loses an instructor's decision. A new file's row replaces an
earlier one for the same item; the others stay.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path

from grader.errors import UsageError
from grader.scoring.grades import Grade

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

FIELDS = ("student", "item", "points", "comment")
#: the overrides applied to a grade, kept in its work folder (JSON list of rows)
KEPT_FILE = "overrides.json"


@dataclass(frozen=True)
class Override:
    """Points an instructor set for one item of one student."""

    student: str
    item: str
    """Rubric item id, or its number as text."""
    points: float
    comment: str = ""


def load_overrides(path: str | Path) -> list[Override]:
    """Read an overrides file (CSV or TOML, by suffix; UTF-8, a BOM is fine).

    Raises:
        UsageError: The file is missing, unreadable, or a row is incomplete.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"The overrides file {path} cannot be read: {exc}") from exc
    if path.suffix.lower() == ".toml":
        try:
            rows = tomllib.loads(text).get("override", [])
        except tomllib.TOMLDecodeError as exc:
            raise UsageError(f"The overrides file {path} is not valid TOML: {exc}") from exc
    else:
        reader = csv.DictReader(io.StringIO(text))
        missing = [f for f in FIELDS[:3] if f not in (reader.fieldnames or [])]
        if missing:
            raise UsageError(f"The overrides file {path} lacks the column(s) "
                             f"{', '.join(missing)}.",
                             "Its first line must be: student,item,points,comment")
        rows = list(reader)
    out = []
    for k, row in enumerate(rows, start=1):
        if not isinstance(row, dict):
            raise UsageError(f"{path}: entry {k} is not a table of student, item, points.")
        student, item = str(row.get("student") or "").strip(), str(row.get("item") or "").strip()
        try:
            points = float(row.get("points"))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            points = float("nan")
        if not student or not item or points != points or points < 0:
            raise UsageError(f"{path}: entry {k} needs a student, an item and points >= 0 "
                             f"(got {row!r}).")
        out.append(Override(student, item, points, str(row.get("comment") or "").strip()))
    return out


def _names(submission: str) -> set[str]:
    name = submission.strip().rstrip("/")
    stem = name
    for suffix in (".zip", ".ipynb", ".py"):
        stem = stem.removesuffix(suffix)
    return {name, stem}


def apply_overrides(grade: Grade, overrides: list[Override], submission: str) -> list[str]:
    """Apply the overrides of ``submission`` to ``grade`` in place.

    Returns:
        Problems to warn about (an override naming an item the rubric does not have, or more
        points than the item has; those points are capped).
    """
    names = _names(submission)
    problems = []
    for o in overrides:
        if o.student not in names:
            continue
        item = next((i for i in grade.items if o.item in (i.id, str(i.number))), None)
        if item is None:
            problems.append(f"override for {o.student}: no rubric item {o.item!r}")
            continue
        points = min(o.points, item.max_score)
        if points < o.points:
            problems.append(f"override for {o.student}, item {item.id}: {o.points:g} points "
                            f"capped at {item.max_score:g}")
        before = item.override or {}  # a second override keeps what the grader measured
        item.override = {"points": points, "comment": o.comment,
                         "grader_status": before.get("grader_status", item.status),
                         "grader_score": before.get("grader_score", item.score),
                         "by": "instructor"}
        item.score = points
        item.status = "pass" if points >= item.max_score else ("fail" if points == 0
                                                                 else "partial")
        item.pending = 0.0
        item.review_reason_en = item.review_reason_ko = ""
    grade.recount()
    return problems


def applied_overrides(grade: Grade, student: str) -> list[Override]:
    """The overrides now set on ``grade``'s items (to keep them for later re-scores)."""
    return [Override(student, item.id, float(item.override["points"]),
                     str(item.override.get("comment") or ""))
            for item in grade.items if isinstance(item.override, dict)]


def read_kept(work: str | Path) -> list[Override]:
    """The overrides kept in a work folder (none when the file is missing or unreadable)."""
    try:
        rows = json.loads((Path(work) / KEPT_FILE).read_text(encoding="utf-8"))
        return [Override(str(r["student"]), str(r["item"]), float(r["points"]),
                         str(r.get("comment") or "")) for r in rows]
    except (OSError, ValueError, KeyError, TypeError):
        return []


def kept_json(overrides: list[Override]) -> str:
    """The text of :data:`KEPT_FILE` for ``overrides``."""
    return json.dumps([o.__dict__ for o in overrides], ensure_ascii=False, indent=1)
