"""Strip IPython syntax (magics, shell escapes, help queries) from a cell, line by line.

IPython is not a dependency, so this is a small stand-in for its input transformers. Every
removed line becomes ``pass`` at the same indentation (or a blank line for a cell magic), so
line numbers still match the student's cell and an indented block never becomes empty.
Lines inside a multi-line string or a bracket continuation are never touched.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

#: cell magics whose body is Python: the magic line goes, the body stays
KEEP_BODY_CELL_MAGICS = frozenset({"time", "timeit", "capture", "prun", "debug", "python", "python3"})
#: every other cell magic (%%bash, %%sh, %%writefile, %%html, ...) drops the whole cell

_CELL_MAGIC = re.compile(r"^\s*%%(\S*)")
_LINE_MAGIC = re.compile(r"^\s*%{1}[A-Za-z_]")
_SHELL = re.compile(r"^\s*!")
_ASSIGN_SHELL = re.compile(r"^\s*[A-Za-z_][\w.]*(\s*,\s*[A-Za-z_][\w.]*)*\s*=\s*[!%]")
_HELP = re.compile(r"^\s*(\?{1,2}\s*[A-Za-z_][\w.]*(\(\))?|[A-Za-z_][\w.]*(\(\))?\s*\?{1,2})\s*$")
_AUTOMAGIC = re.compile(r"^(pip|conda|apt|apt-get)\s+(install|uninstall|list|show)\b")


@dataclass
class Stripped:
    """A cell after stripping IPython syntax."""

    text: str
    """Python text with the same number of lines as the input (empty if the cell is dropped)."""
    dropped_cell: str | None = None
    """The cell magic (e.g. ``bash``) that made the whole cell non-Python, if any."""
    removed: list[tuple[int, str]] = field(default_factory=list)
    """(line number, what) for each removed line: ``magic``, ``shell``, ``help``, ``cell magic``."""


def strip_ipython(source: str) -> Stripped:
    """Turn an IPython cell into plain Python text.

    Args:
        source: The cell's source text.

    Returns:
        The stripped text; ``dropped_cell`` is set when a cell magic such as ``%%bash``
        means the body is not Python (the text is then empty).
    """
    lines = source.split("\n")
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    removed: list[tuple[int, str]] = []
    if first is not None:
        match = _CELL_MAGIC.match(lines[first])
        if match:
            name = match.group(1)
            if name not in KEEP_BODY_CELL_MAGICS:
                return Stripped("", dropped_cell=name or "%%", removed=[(first + 1, "cell magic")])
            lines[first] = ""
            removed.append((first + 1, "cell magic"))
    scanner = _Scanner()
    out: list[str] = []
    for number, line in enumerate(lines, start=1):
        what = None if scanner.continuing else _ipython_kind(line)
        if what:
            indent = line[: len(line) - len(line.lstrip())]
            out.append(f"{indent}pass")
            removed.append((number, what))
            continue
        out.append(line)
        scanner.feed(line)
    return Stripped("\n".join(out), removed=removed)


def _ipython_kind(line: str) -> str | None:
    if _CELL_MAGIC.match(line):  # a %%magic that is not the first line: IPython rejects it too
        return "magic"
    if _LINE_MAGIC.match(line):
        return "magic"
    if _SHELL.match(line) or _ASSIGN_SHELL.match(line):
        return "shell"
    if _HELP.match(line):
        return "help"
    if _AUTOMAGIC.match(line):
        return "shell"
    return None


class _Scanner:
    """Tracks open strings, brackets and backslash continuations across lines."""

    def __init__(self) -> None:
        self.quote: str | None = None  # the open triple quote, if any
        self.depth = 0
        self.backslash = False

    @property
    def continuing(self) -> bool:
        """True when the next line continues a statement (so it is not a fresh line)."""
        return self.quote is not None or self.depth > 0 or self.backslash

    def feed(self, line: str) -> None:
        i, n = 0, len(line)
        self.backslash = False
        while i < n:
            if self.quote:
                end = _find_close(line, i, self.quote)
                if end < 0:
                    return
                i, self.quote = end, None
                continue
            ch = line[i]
            if ch == "#":
                return
            if ch in "([{":
                self.depth += 1
            elif ch in ")]}":
                self.depth = max(0, self.depth - 1)
            elif ch in "'\"":
                triple = line[i: i + 3]
                if triple in ("'''", '"""'):
                    self.quote = triple
                    i += 3
                    continue
                end = _find_close(line, i + 1, ch)
                if end < 0:  # unterminated single-quoted string: a syntax error, stop here
                    return
                i = end
                continue
            elif ch == "\\" and i == n - 1:
                self.backslash = True
            i += 1


def _find_close(line: str, start: int, quote: str) -> int:
    """Index just past the closing ``quote`` from ``start``, or -1 if not on this line."""
    i = start
    while i < len(line):
        if line[i] == "\\":
            i += 2
            continue
        if line.startswith(quote, i):
            return i + len(quote)
        i += 1
    return -1
