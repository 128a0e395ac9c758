"""A student's exception as one plain sentence plus the full traceback (inside the child).

Students read :attr:`StudentError.text`: the exception type, its message without the
tracebacks that TensorFlow and Keras embed in messages, and the line of *their* code
(``nb.ipynb cell 7, line 3: `x = ...```). Instructors get :attr:`StudentError.detail`, the
whole traceback with the student's lines filled in. The child's strings are not trusted by
the parent, which cleans and caps them again (:mod:`grader.errors`).

Student code is compiled from strings, so Python cannot show its lines; :func:`register_source`
keeps them here (not in ``linecache`` while code runs: AutoGraph would then start converting
functions it runs as written today).
"""

from __future__ import annotations

import errno
import linecache
import re
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path

from grader.errors import ANSI_ESCAPES, CONTROL_CHARS, detail_text

#: longest exception message shown to a student (characters)
MAX_MESSAGE = 300
#: longest code line quoted in a location
MAX_LINE = 80
_MAX_RAW = 100_000

_SOURCES: dict[str, dict[int, str]] = {}
"""Compile-time filename of student code -> line number -> text."""
_ROOTS: list[str] = []
"""Folders holding the submission's own files (imported helper modules)."""
_NOT_STUDENT = tuple(str(p) + "/" for p in (Path(__file__).resolve().parents[1],
                                             Path(__file__).resolve().parents[2] / "reference",
                                             Path(sys.prefix), Path(sys.base_prefix)))
"""The grader, the reference trainer and installed packages, even inside a submission root."""

_FRAME = re.compile(r'^(?P<indent>\s*)File "(?P<file>[^"]+)", line (?P<line>\d+)')
_TYPE_PREFIX = re.compile(r"^(?P<kind>[A-Za-z_][\w.]*(Error|Exception|Exit|Interrupt|Timeout)): ")
_TF_NOISE = re.compile(r"\{\{function_node [^}]*\}\}|\[\[\{\{node [^}]*\}\}\]\]|"
                       r"\[Op:[^\]]*\]( name:\s*\S*)?")
_DROP_LINE = re.compile(r"^(in user code:|Traceback \(most recent call last\):|"
                        r".*\(most recent call last\):|Graph execution error:|"
                        r"Exception encountered when calling .*)$")
_ARGS_BLOCK = re.compile(r"^Arguments received by .*:$")


@dataclass(frozen=True)
class StudentError:
    """What a student's code raised, in words a student reads."""

    kind: str
    """Exception type name (``ValueError``); ``Timeout`` when a time limit stopped the code."""
    message: str
    """One line, no traceback, at most :data:`MAX_MESSAGE` characters."""
    where: str = ""
    """The student's line: ``gan.py line 54: `return a + b``` (empty when unknown)."""
    detail: str = ""
    """The full traceback for instructors (multi-line, capped)."""

    @property
    def where_suffix(self) -> str:
        """`` (gan.py line 54: `...`)`` or empty."""
        return f" ({self.where})" if self.where else ""

    @property
    def text(self) -> str:
        """``ValueError: message (gan.py line 54: `...`)``."""
        said = f": {self.message}" if self.message else ""
        return f"{self.kind}{said}{self.where_suffix}"


def register_source(filename: str, first_line: int, source: str) -> None:
    """Remember the lines of student code compiled as ``filename`` starting at ``first_line``."""
    lines = _SOURCES.setdefault(filename, {})
    for offset, text in enumerate(source.split("\n")):
        lines[first_line + offset] = text


def set_student_roots(roots: list[str]) -> None:
    """Folders whose ``.py`` files are the student's (helper modules imported by the code)."""
    _ROOTS[:] = [str(Path(r)) for r in roots if r]


def explain_error(exc: BaseException) -> StudentError:
    """Describe a student exception: short text for students, full traceback for instructors."""
    kind = _safe(lambda: type(exc).__name__, "Exception")[:100]
    if kind == "StudentTimeout":
        kind = "Timeout"
    raw = _safe(lambda: str(exc), "(the error message could not be printed)")[:_MAX_RAW]
    message, frames = _clean_message(raw, kind)
    if isinstance(exc, MemoryError):
        message = "the code asked for more memory than the grader allows"
    elif isinstance(exc, OSError) and getattr(exc, "errno", None) == errno.EFBIG:
        message = "a file the code writes grew beyond the size the grader allows"
    if isinstance(exc, SyntaxError) and exc.lineno and is_student_file(exc.filename or ""):
        frames.append((exc.filename or "", int(exc.lineno)))
        message = _one_line(exc.msg or message)
    where = ""
    located = _innermost_student_frame(exc) or (frames[-1] if frames else None)
    if located is not None:
        where = location(*located)
    return StudentError(kind, message, where, _safe(lambda: format_detail(exc), raw))


def is_student_file(filename: str) -> bool:
    """True for code compiled from the submission, or a file in the submission's folders."""
    if filename in _SOURCES:
        return True
    return bool(_ROOTS) and filename.endswith(".py") and \
        any(filename.startswith(root + "/") for root in _ROOTS) and \
        not filename.startswith(_NOT_STUDENT)


def location(filename: str, lineno: int) -> str:
    """``gan.py line 54: `text``` or ``nb.ipynb cell 7, line 3: `text``` for a student frame."""
    match = re.fullmatch(r"(?P<file>.+) line \d+", filename)
    if match:  # a .py unit: its origin names the file line where the unit starts
        where = f"{match['file']} line {lineno}"
    elif filename in _SOURCES:
        where = f"{filename}, line {lineno}"
    else:
        root = next((r for r in _ROOTS if filename.startswith(r + "/")), "")
        where = f"{filename[len(root) + 1:] if root else filename} line {lineno}"
    text = _line_text(filename, lineno)
    return f"{where}: `{text}`" if text else where


def format_detail(exc: BaseException) -> str:
    """The whole traceback, student lines included, cleaned and capped (``detail_text``)."""
    added = []
    try:
        for name, lines in _SOURCES.items():
            if name not in linecache.cache:
                numbered = [lines.get(i, "") + "\n" for i in range(1, max(lines) + 1)]
                linecache.cache[name] = (sum(map(len, numbered)), None, numbered, name)
                added.append(name)
        text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    finally:
        for name in added:  # only while formatting: see the module docstring
            linecache.cache.pop(name, None)
    return detail_text(text)


def _clean_message(raw: str, kind: str) -> tuple[str, list[tuple[str, int]]]:
    """The message without embedded tracebacks, and the student frames it named."""
    kept: list[str] = []
    frames: list[tuple[str, int]] = []
    frame_indent: int | None = None
    in_args = False
    for line in ANSI_ESCAPES.sub("", raw).splitlines():
        frame = _FRAME.match(line)
        if frame:
            frame_indent = len(frame["indent"])
            if is_student_file(frame["file"]):
                frames.append((frame["file"], int(frame["line"])))
            continue
        stripped = line.strip()
        indent = len(line) - len(line.lstrip())
        if frame_indent is not None and stripped and indent > frame_indent:
            continue  # the code line printed under a frame
        frame_indent = None
        prefix = _TYPE_PREFIX.match(stripped)
        if prefix and prefix["kind"].rsplit(".", 1)[-1] == kind:
            stripped = stripped[prefix.end():]
        if _ARGS_BLOCK.match(stripped):
            in_args = True
            continue
        if in_args and (stripped.startswith(("•", "-", "*")) or not stripped):
            continue
        in_args = False
        stripped = _TF_NOISE.sub("", stripped).strip()
        if stripped and not _DROP_LINE.match(stripped):
            kept.append(stripped)
    return _one_line(" ".join(kept) if kept else raw), frames


def _one_line(text: str) -> str:
    text = " ".join(CONTROL_CHARS.sub(" ", ANSI_ESCAPES.sub("", text)).split())
    if len(text) > MAX_MESSAGE:
        cut = text[:MAX_MESSAGE - 1]
        text = (cut.rsplit(" ", 1)[0] if " " in cut[MAX_MESSAGE // 2:] else cut) + "…"
    return text


def _innermost_student_frame(exc: BaseException) -> tuple[str, int] | None:
    """The deepest student frame of the exception, else of what caused it (a few levels)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen and len(seen) < 5:
        seen.add(id(current))
        found = [(frame.f_code.co_filename, lineno)
                 for frame, lineno in traceback.walk_tb(current.__traceback__)
                 if lineno and is_student_file(frame.f_code.co_filename)]
        if found:
            return found[-1]
        current = current.__cause__ or current.__context__
    return None


def _line_text(filename: str, lineno: int) -> str:
    text = _SOURCES.get(filename, {}).get(lineno)
    if text is None and is_student_file(filename):
        text = linecache.getline(filename, lineno)
    text = " ".join(CONTROL_CHARS.sub(" ", text or "").split())
    return text if len(text) <= MAX_LINE else text[:MAX_LINE - 1] + "…"


def _safe(fn, default: str) -> str:
    """Call ``fn`` (which may run student code, e.g. ``__str__``); any failure gives ``default``."""
    try:
        value = fn()
        return value if isinstance(value, str) else default
    except BaseException:  # a student's __str__ may raise anything, even SystemExit
        return default
