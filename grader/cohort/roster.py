"""Who is in a cohort: one student per subfolder or per ``.ipynb``/``.py``/``.zip`` file."""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

from grader.errors import UsageError

SUBMISSION_SUFFIXES = (".ipynb", ".py", ".zip")
_SKIP_DIRS = {"__pycache__", "node_modules", ".git", ".ipynb_checkpoints"}


@dataclass(frozen=True)
class Student:
    """One submission of a cohort: a display/folder name and where it lies."""

    name: str
    path: Path


def safe_name(raw: str) -> str:
    """A folder-safe student name: path separators, control characters and leading dots go.

    Unicode letters (Korean names) are kept; anything else unsafe becomes ``_``.
    """
    name = re.sub(r"[\x00-\x1f/\\:*?\"<>|]", "_", raw).strip().lstrip(".")
    return name[:120] or "student"


def discover(root: Path, exclude: Path | None = None) -> list[Student]:
    """Students under ``root``, sorted by name.

    Each subfolder (not hidden) and each ``.ipynb``/``.py``/``.zip`` directly in ``root`` is one
    student, named by the folder or the file stem. When a folder and a file share a stem
    (``alice/`` and ``alice.zip``), the file keeps its suffix in the name (``alice.zip``).

    Args:
        root: The cohort folder.
        exclude: A folder inside ``root`` that is not a student (the output folder).

    Raises:
        UsageError: ``root`` is not a folder.
    """
    root = Path(root)
    if not root.is_dir():
        raise UsageError(f"{root} is not a folder of submissions.",
                         "grade cohort DIR expects one subfolder or notebook per student.")
    skip = exclude.resolve() if exclude is not None else None
    entries = sorted(root.iterdir(), key=lambda p: p.name)
    dirs = [p for p in entries if p.is_dir() and not p.name.startswith(".")
            and p.name not in _SKIP_DIRS and (skip is None or p.resolve() != skip)]
    files = [p for p in entries if p.is_file() and p.suffix.lower() in SUBMISSION_SUFFIXES
             and not p.name.startswith(".")]
    stems = [safe_name(p.stem) for p in files]
    taken = {safe_name(d.name) for d in dirs}
    out = [Student(safe_name(d.name), d) for d in dirs]
    for f, stem in zip(files, stems):
        name = stem if stem not in taken and stems.count(stem) == 1 else safe_name(f.name)
        taken.add(name)
        out.append(Student(name, f))
    return sorted(out, key=lambda s: s.name)


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


def submission_bytes(path: Path) -> int:
    """Bytes of a submission's regular files (links not followed): its expected grading cost.

    A notebook's size is mostly its embedded outputs (sample grids, plots, GIF frames), and
    those are what intake reads and the judge judges.
    """
    path = Path(path)
    try:
        if not path.is_dir():
            return path.lstat().st_size
    except OSError:
        return 0
    total = 0
    for root, _dirs, files in os.walk(path, followlinks=False):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except OSError:
                pass
    return total


def content_hash(path: Path) -> str:
    """SHA-256 over a submission's files: relative paths and bytes, in a fixed order.

    Symbolic links are hashed by their target text, not followed (a submission must not make
    the grader read files outside it). Unreadable files contribute their name and an error mark.
    """
    h = hashlib.sha256()
    path = Path(path)
    if path.is_file():
        files = [(path.name, path)]
    else:
        files = []
        for dirpath, dirnames, filenames in os.walk(path, followlinks=False):
            dirnames.sort()
            for fn in sorted(filenames):
                full = Path(dirpath) / fn
                files.append((full.relative_to(path).as_posix(), full))
    for rel, full in files:
        h.update(rel.encode("utf-8", "surrogateescape") + b"\0")
        try:
            if full.is_symlink():
                h.update(b"link:" + os.readlink(full).encode("utf-8", "surrogateescape"))
            else:
                with open(full, "rb") as fh:
                    for block in iter(lambda: fh.read(1 << 20), b""):
                        h.update(block)
        except OSError:
            h.update(b"<unreadable>")
        h.update(b"\0")
    return h.hexdigest()
