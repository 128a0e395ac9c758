"""Errors that reach users: one plain sentence for students, details for instructors."""

from __future__ import annotations


class GraderError(Exception):
    """An error with a student-facing sentence and an optional instructor-facing detail."""

    exit_code = 3

    def __init__(self, student: str, detail: str = "") -> None:
        super().__init__(student if not detail else f"{student}\n{detail}")
        self.student = student
        """One sentence a student understands: what went wrong and what to do."""
        self.detail = detail
        """Technical detail for instructors (paths, exception text)."""


class DataError(GraderError):
    """CIFAR-10 could not be found or read."""


class UsageError(GraderError):
    """The command line or a configuration file is wrong."""

    exit_code = 2
