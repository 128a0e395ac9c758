"""Errors that reach users: one plain sentence for students, details for instructors."""

from __future__ import annotations

import re
from enum import IntEnum

from grader.text import Msg


class ExitCode(IntEnum):
    """The exit codes of every ``grade`` verb; :data:`EXIT_MEANINGS` says what each means."""

    OK = 0
    PROBLEM = 1
    USAGE = 2
    CANNOT_RUN = 3
    INTERRUPTED = 130


#: one sentence per exit code (the README's table is checked against these)
EXIT_MEANINGS: dict[ExitCode, str] = {
    ExitCode.OK: "done: the report was written, whatever the score (`grade`, `grade cohort` "
                 "even when some students' grading failed: their reports say why), no check "
                 "failed, every input was read",
    ExitCode.PROBLEM: "done, and a problem was found: a check failed or the submission could "
                      "not be read (`grade check`), an image could not be read (`grade "
                      "judge`)",
    ExitCode.USAGE: "usage: an unknown option or bad value, a path that does not exist, or a "
                    "bad rubric, overrides, roster or `grade.toml` file",
    ExitCode.CANNOT_RUN: "the grader could not run at all: no training data, the judge's "
                         "weights missing, no sandbox on this machine",
    ExitCode.INTERRUPTED: "stopped by Ctrl-C or SIGTERM (children are killed, finished "
                          "results are kept)",
}


class GraderError(Exception):
    """An error with a student-facing sentence and an optional instructor-facing detail."""

    exit_code: int = ExitCode.CANNOT_RUN

    def __init__(self, student: str | Msg, detail: str = "") -> None:
        message = student if isinstance(student, Msg) else Msg(str(student), str(student))
        super().__init__(message.en if not detail else f"{message.en}\n{detail}")
        self.message = message
        """One sentence a student understands (both languages): what went wrong, what to do."""
        self.detail = detail
        """Technical detail for instructors (paths, exception text)."""

    @property
    def student(self) -> str:
        """The sentence in English."""
        return self.message.en


class DataError(GraderError):
    """CIFAR-10 could not be found or read."""


class UsageError(GraderError):
    """The command line or a configuration file is wrong."""

    exit_code = ExitCode.USAGE


#: longest one-line text from the isolated run kept for students (characters)
MAX_STUDENT_TEXT = 1_000
#: longest multi-line detail (a traceback) kept for instructors
MAX_DETAIL = 20_000

#: terminal colour and cursor codes
ANSI_ESCAPES = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b")
#: control characters (terminal codes, NUL, ...) other than the newline
CONTROL_CHARS = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f]")
#: lone surrogates (not encodable) and bidirectional overrides (they can disguise text);
#: letters of every script, Korean included, are kept
_INVISIBLE = re.compile("[\ud800-\udfff\u202a-\u202e\u2066-\u2069]")


def student_text(value: object, limit: int = MAX_STUDENT_TEXT) -> str:
    """Untrusted text (from the child) as one clean line of at most ``limit`` characters.

    Args:
        value: Usually a string; anything else is shown through ``str`` (None gives "").
        limit: Longest result; longer text is cut and ends with an ellipsis.
    """
    text = _clean(value, limit * 4)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def detail_text(value: object, limit: int = MAX_DETAIL) -> str:
    """Untrusted multi-line text (a traceback) kept for instructors: clean, middle cut if long."""
    text = _clean(value, limit * 4)
    if len(text) <= limit:
        return text
    head = limit // 5
    tail = limit - head - 40
    return f"{text[:head]}\n[... {len(text) - head - tail} characters cut ...]\n{text[-tail:]}"


def _clean(value: object, read: int) -> str:
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    if len(text) > read:  # never run the patterns over megabytes a submission printed
        text = text[:read // 2] + text[-read // 2:]
    text = ANSI_ESCAPES.sub("", text).replace("\r\n", "\n").replace("\r", "\n").replace("\t", "    ")
    return _INVISIBLE.sub("", CONTROL_CHARS.sub(" ", text))
