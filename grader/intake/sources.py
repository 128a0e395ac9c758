"""Walk a submission folder safely and read ``.py`` files into chunks."""

from __future__ import annotations

import ast
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from grader.intake.chunks import Chunk
from grader.intake.magics import strip_ipython
from grader.text import Msg

MAX_DEPTH = 12
MAX_FILES = 5_000
MAX_FILE_BYTES = 100 * 1024 * 1024
MAX_CODE_FILES = 50
MAX_PY_BYTES = 5 * 1024 * 1024
#: folders that never hold the student's own work
SKIP_DIRS = frozenset({"__pycache__", "__MACOSX", "node_modules", "site-packages"})
CODE_SUFFIXES = (".ipynb", ".py")
#: ``# In[12]:`` (nbconvert) and ``# %%`` (jupytext, VS Code) cell markers at column 0
_CELL_MARKER = re.compile(r"^#\s*(In\s*\[\s*(\d*)\s*\]\s*:|%%)")


@dataclass
class FileEntry:
    """A regular file inside the submission."""

    rel: str
    """POSIX path relative to the submission root."""
    path: Path
    size: int


@dataclass
class Walk:
    """What a folder holds: regular files (no links), folders, and warnings."""

    files: list[FileEntry] = field(default_factory=list)
    dirs: list[str] = field(default_factory=list)
    warnings: list[Msg] = field(default_factory=list)

    def code_files(self) -> list[FileEntry]:
        """Notebooks first, then ``.py`` files, each sorted by path."""
        notebooks = sorted((f for f in self.files if f.rel.lower().endswith(".ipynb")), key=lambda f: f.rel)
        scripts = sorted((f for f in self.files if f.rel.lower().endswith(".py")), key=lambda f: f.rel)
        return notebooks + scripts


def walk_submission(root: Path, exclude: Path | None = None) -> Walk:
    """List the regular files of a submission folder without following any link.

    Hidden entries (``.ipynb_checkpoints``, ``.git``), caches and virtual environments are
    skipped. A link that points outside the submission is ignored with a warning.

    Args:
        root: The submission folder.
        exclude: A folder not to list (the work folder, when it lies inside the submission).

    Returns:
        A :class:`Walk`; files over :data:`MAX_FILE_BYTES` are left out with a warning.
    """
    walk = Walk()
    real_root = root.resolve()
    skip = exclude.resolve() if exclude is not None else None
    stack: list[tuple[Path, int]] = [(root, 0)]
    too_deep = False
    while stack:
        folder, depth = stack.pop()
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:
            where = _rel(folder, root) or "."
            walk.warnings.append(Msg(f"Could not list {where}: {exc.strerror}.",
                                     f"{where} 폴더를 읽을 수 없습니다: {exc.strerror}."))
            continue
        for entry in entries:
            path = Path(entry.path)
            rel = _rel(path, root)
            if entry.name.startswith(".") or entry.name in SKIP_DIRS:
                continue
            if entry.is_symlink():
                _note_link(walk, path, rel, real_root)
                continue
            if entry.is_dir(follow_symlinks=False):
                if skip is not None and path.resolve() == skip:
                    continue
                if (path / "pyvenv.cfg").exists():
                    walk.warnings.append(Msg(f"Skipped {rel}/: it is a Python virtual environment.",
                                              f"{rel}/은(는) 파이썬 가상 환경이라 건너뛰었습니다."))
                elif depth + 1 > MAX_DEPTH:
                    too_deep = True
                else:
                    walk.dirs.append(rel)
                    stack.append((path, depth + 1))
                continue
            if not entry.is_file(follow_symlinks=False):
                continue
            size = entry.stat(follow_symlinks=False).st_size
            if size > MAX_FILE_BYTES:
                walk.warnings.append(Msg(
                    f"Skipped {rel}: {size / 2**20:.0f} MB is over the "
                    f"{MAX_FILE_BYTES // 2**20} MB limit per file.",
                    f"{rel}은(는) {size / 2**20:.0f} MB로 파일당 한도 "
                    f"{MAX_FILE_BYTES // 2**20} MB를 넘어 건너뛰었습니다."))
                continue
            if len(walk.files) >= MAX_FILES:
                walk.warnings.append(Msg(
                    f"The submission has more than {MAX_FILES} files; the rest were ignored.",
                    f"제출물의 파일이 {MAX_FILES}개를 넘어 나머지는 읽지 않았습니다."))
                return walk
            walk.files.append(FileEntry(rel, path, size))
    if too_deep:
        walk.warnings.append(Msg(f"Folders nested deeper than {MAX_DEPTH} levels were not read.",
                                  f"{MAX_DEPTH}단계보다 깊은 폴더는 읽지 않았습니다."))
    walk.files.sort(key=lambda f: f.rel)
    walk.dirs.sort()
    return walk


def _note_link(walk: Walk, path: Path, rel: str, real_root: Path) -> None:
    try:
        target = path.resolve()
        inside = target == real_root or real_root in target.parents
    except (OSError, RuntimeError):  # a loop of links
        inside = False
    if not inside:
        walk.warnings.append(Msg(f"Ignored {rel}: it is a link to a place outside the submission.",
                                          f"{rel}은(는) 제출물 밖을 가리키는 링크라 무시했습니다."))


def _rel(path: Path, root: Path) -> str:
    rel = os.path.relpath(path, root)
    return "" if rel == "." else Path(rel).as_posix()


def py_chunks(text: str, rel: str) -> list[Chunk]:
    """Split a ``.py`` file into chunks for parsing.

    A file that parses is one chunk. A file with a syntax error is split at ``# In[ ]:`` or
    ``# %%`` cell markers (exported notebooks), so one bad cell does not lose the others.

    Args:
        text: The decoded file text.
        rel: The file's path relative to the submission root.

    Returns:
        Chunks (not yet parsed) covering the whole file in order.
    """
    whole = Chunk(file=rel, raw=text)
    try:
        ast.parse(strip_ipython(text).text or text)
        return [whole]
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        pass
    lines = text.split("\n")
    starts = [i for i, line in enumerate(lines) if _CELL_MARKER.match(line)]
    if not starts:
        return [whole]
    if starts[0] != 0:
        starts.insert(0, 0)
    chunks = []
    for k, start in enumerate(starts):
        end = starts[k + 1] if k + 1 < len(starts) else len(lines)
        match = _CELL_MARKER.match(lines[start])
        count = int(match.group(2)) if match and match.group(2) else None
        chunks.append(Chunk(file=rel, raw="\n".join(lines[start:end]), line_offset=start,
                            execution_count=count))
    return chunks
