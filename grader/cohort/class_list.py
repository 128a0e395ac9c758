"""An instructor's class list (``--roster roster.csv``) joined to the gradebook.

The CSV needs a ``student`` column holding what the submission is called in the cohort folder
(its subfolder, or its file name with or without the suffix); a student may instead be found
by an ``id`` column (LMS downloads often name submissions by student id). Optional columns:
``id``, ``name``, ``email``. ``grades.csv`` gets ``student_id``, ``name`` and ``email`` beside
each student, and one row with status ``missing`` for each listed student who submitted
nothing. The rows are kept in ``cohort.json`` (``meta.roster``), so ``grade rescore`` joins
them again.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader.cohort.roster import safe_name
from grader.errors import UsageError

#: accepted header names (lower case) for each column
ALIASES = {
    "student": ("student", "submission", "folder", "username", "login"),
    "id": ("id", "student_id", "sid", "학번"),
    "name": ("name", "full_name", "이름", "성명"),
    "email": ("email", "e-mail", "mail", "이메일"),
}
#: the columns grades.csv gains
CSV_COLUMNS = ("student_id", "name", "email")


@dataclass(frozen=True)
class ClassMember:
    """One row of the class list."""

    student: str
    id: str = ""
    name: str = ""
    email: str = ""

    def keys(self) -> set[str]:
        """The names a submission of this student may carry."""
        found = {k for k in (self.student, self.id) if k}
        return found | {safe_name(k) for k in found}


def load_class_list(path: str | Path) -> list[ClassMember]:
    """Read a roster CSV (UTF-8, a BOM is fine; CP949 from Korean Excel is read too).

    Raises:
        UsageError: The file cannot be read, has no student (or id) column, or is empty.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"The roster {path} cannot be read: {exc}") from exc
    for encoding in ("utf-8-sig", "cp949"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise UsageError(f"The roster {path} is neither UTF-8 nor CP949 text.")
    reader = csv.DictReader(io.StringIO(text))
    header = {(h or "").strip().lower(): h for h in reader.fieldnames or []}
    columns = {key: next((header[a] for a in names if a in header), None)
               for key, names in ALIASES.items()}
    if columns["student"] is None and columns["id"] is None:
        raise UsageError(f"The roster {path} has no student or id column.",
                         "Its first line must name the columns, e.g.: student,id,name,email")
    members = []
    for row in reader:
        values = {key: str(row.get(col) or "").strip() if col else ""
                  for key, col in columns.items()}
        if values["student"] or values["id"]:
            members.append(ClassMember(values["student"] or values["id"], values["id"],
                                       values["name"], values["email"]))
    if not members:
        raise UsageError(f"The roster {path} lists no students.")
    return members


def to_meta(members: list[ClassMember], path: str | Path) -> dict[str, Any]:
    """The roster as plain data for ``cohort.json``'s meta."""
    return {"file": str(path), "rows": [m.__dict__ for m in members]}


def from_meta(meta: dict[str, Any]) -> list[ClassMember]:
    """The roster kept in ``cohort.json``'s meta (none when absent or damaged)."""
    rows = (meta.get("roster") or {}).get("rows") if isinstance(meta.get("roster"), dict) \
        else None
    try:
        return [ClassMember(**{k: str(r.get(k) or "") for k in ("student", "id", "name",
                                                                 "email")})
                for r in rows or [] if isinstance(r, dict)]
    except TypeError:
        return []


def match(members: list[ClassMember], students: list[str]) -> tuple[dict[str, ClassMember],
                                                                    list[ClassMember]]:
    """Pair submissions with class-list rows.

    Returns:
        ``student -> member`` for the matched submissions, and the members with no submission.
    """
    by_key: dict[str, ClassMember] = {}
    for m in members:
        for k in m.keys():
            by_key.setdefault(k, m)
    paired: dict[str, ClassMember] = {}
    for name in students:
        stem = name
        for suffix in (".zip", ".ipynb", ".py"):
            stem = stem.removesuffix(suffix)
        m = by_key.get(name) or by_key.get(stem)
        if m is not None:
            paired[name] = m
    used = {id(m) for m in paired.values()}
    return paired, [m for m in members if id(m) not in used]
