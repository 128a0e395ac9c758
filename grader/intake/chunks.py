"""A chunk of student code (a notebook cell or a ``.py`` file part), parsed with ``ast``."""

from __future__ import annotations

import ast
import textwrap
from dataclasses import dataclass, field
from typing import Any

from grader.intake.magics import strip_ipython
from grader.intake.submission import CellFailure
from grader.text import Msg


@dataclass
class Chunk:
    """One unit of parsing: a cell, or a ``.py`` file (or one ``# In[ ]:`` part of it)."""

    file: str
    """Source file relative to the submission root."""
    raw: str
    """The text as the student wrote it."""
    cell: int | None = None
    """Notebook cell number (1-based, every cell counted); ``None`` for ``.py`` files."""
    execution_count: int | None = None
    line_offset: int = 0
    """For ``.py`` parts: lines of the file before this part."""
    text: str = ""
    """Python text after stripping IPython syntax (same line count as ``raw``)."""
    tree: ast.Module | None = None
    failure: CellFailure | None = None
    dropped_cell: str | None = None
    """The cell magic (``bash``, ``writefile``, ...) that made the whole cell non-Python."""
    removed: list[tuple[int, str]] = field(default_factory=list)
    outputs: list[Any] = field(default_factory=list)
    """Notebook outputs of the cell (nbformat nodes), for embedded images."""

    def origin(self, line: int | None = None) -> str:
        """``nb.ipynb cell 7`` or ``main.py line 12`` (``line`` is within the chunk)."""
        if self.cell is not None:
            return f"{self.file} cell {self.cell}"
        return f"{self.file} line {self.line_offset + (line or 1)}"

    def unit_line(self, line: int) -> int:
        """A chunk line as reported to users: within the cell, or within the whole file."""
        return line if self.cell is not None else self.line_offset + line


def parse_chunk(chunk: Chunk) -> Chunk:
    """Strip IPython syntax and parse; a syntax error becomes ``chunk.failure``, never an exception.

    Args:
        chunk: A chunk with ``raw`` set.

    Returns:
        The same chunk with ``text`` and either ``tree`` or ``failure`` (or ``dropped_cell``) set.
    """
    stripped = strip_ipython(chunk.raw)
    chunk.text, chunk.dropped_cell, chunk.removed = stripped.text, stripped.dropped_cell, stripped.removed
    if chunk.dropped_cell is not None:
        return chunk
    try:
        chunk.tree = ast.parse(chunk.text)
    except IndentationError as exc:
        # IPython strips a cell's common leading indentation before running it; so do we
        dedented = textwrap.dedent(chunk.text)
        if chunk.cell is None or dedented == chunk.text:
            chunk.failure = _syntax_failure(chunk, exc)
            return chunk
        try:
            chunk.tree, chunk.text = ast.parse(dedented), dedented
        except SyntaxError:
            chunk.failure = _syntax_failure(chunk, exc)
    except SyntaxError as exc:
        chunk.failure = _syntax_failure(chunk, exc)
    except (ValueError, RecursionError, MemoryError) as exc:  # null bytes, absurd nesting
        chunk.failure = _failure(chunk, None, type(exc).__name__, str(exc))
    return chunk


def _syntax_failure(chunk: Chunk, exc: SyntaxError) -> CellFailure:
    line = exc.lineno or 1
    lines = chunk.raw.split("\n")
    code = lines[line - 1].strip() if 0 < line <= len(lines) else ""
    return _failure(chunk, line, exc.msg or "invalid syntax", f"{type(exc).__name__}: {exc.msg}\n{code}")


def _failure(chunk: Chunk, line: int | None, msg: str, detail: str) -> CellFailure:
    shown = chunk.unit_line(line) if line else None
    if chunk.cell is not None:
        where_en, where_ko = f"Cell {chunk.cell} of {chunk.file}", f"{chunk.file}의 {chunk.cell}번째 셀"
        rest_en, rest_ko = "the other cells were still read", "나머지 셀은 계속 읽었습니다"
    else:
        where_en = where_ko = chunk.file
        rest_en, rest_ko = "the other parts were still read", "나머지 부분은 계속 읽었습니다"
    at_en = f" on line {shown}" if shown else ""
    at_ko = f" {shown}번째 줄에" if shown else "에"
    return CellFailure(
        origin=chunk.origin(line),
        message=Msg(f"{where_en} has a syntax error{at_en} ({msg}), so it was skipped; "
                    f"{rest_en}. Fix the error and run it again.",
                    f"{where_ko}{at_ko} 문법 오류({msg})가 있어 이 부분은 건너뛰었고, {rest_ko}. "
                    "오류를 고친 뒤 다시 실행해 보세요."),
        detail=detail,
        line=shown,
    )
