"""Execute a submission's code units in one namespace, keeping every version of every name.

Runs only inside the child process. A failing unit is recorded (type, message, origin) and
execution goes on, as when a student runs the cells of a notebook one by one.
"""

from __future__ import annotations

import re
import signal
import sys
import time
import types
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from grader.sandbox.student.explain import explain_error, register_source

STUDENT_MODULE = "__student__"


class StudentTimeout(BaseException):
    """Raised in the child when one student call runs past its time limit.

    A BaseException so that a student's ``except Exception:`` cannot swallow it.
    """


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise :class:`StudentTimeout` in the main thread after ``seconds`` (0: no limit)."""
    if seconds <= 0:
        yield
        return

    def on_alarm(signum, frame):  # noqa: ARG001 - signal handler signature
        raise StudentTimeout(f"took longer than {seconds:g} s")

    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


@dataclass
class Version:
    """One definition of a name: the object as it was right after its unit ran."""

    name: str
    obj: Any
    unit: int
    """Index of the unit that defined it (definition order)."""
    origin: str


@dataclass
class UnitRun:
    """Outcome of executing one code unit."""

    origin: str
    kind: str
    name: str
    ok: bool
    error_type: str = ""
    message: str = ""
    """One line for students: the message and the student's line."""
    detail: str = ""
    """The full traceback, for instructors."""
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        """Plain dict for result.json."""
        return dict(self.__dict__)


def install_notebook_stubs() -> None:
    """Make ``from IPython import display`` work as in a notebook (no-op display functions).

    Only when IPython itself is not installed; nothing else is pre-seeded.
    """
    import importlib.util
    if importlib.util.find_spec("IPython") is not None:
        return
    ipython = types.ModuleType("IPython")
    display = types.ModuleType("IPython.display")
    for name in ("display", "clear_output", "Image", "HTML", "Markdown", "Audio", "Video"):
        setattr(display, name, lambda *args, **kwargs: None)
    ipython.display = display
    ipython.get_ipython = lambda: None
    sys.modules.setdefault("IPython", ipython)
    sys.modules.setdefault("IPython.display", display)


def describe_error(exc: BaseException) -> tuple[str, str]:
    """(type name, one-line message with the student's line) of a student exception."""
    err = explain_error(exc)
    return err.kind, err.message + err.where_suffix


def first_line(unit: dict[str, Any]) -> int:
    """Line of the unit's first line in its cell or file (from the plan, else its origin)."""
    line = unit.get("line")
    if isinstance(line, int) and 0 < line < 1_000_000:
        return line
    match = re.search(r" line (\d+)$", str(unit.get("origin", "")))
    return int(match.group(1)) if match else 1


def compile_unit(unit: dict[str, Any], origin: str):
    """Compile a unit so that tracebacks give the line numbers of the student's cell or file.

    The source is shifted down by blank lines to its real first line, and remembered for
    :func:`grader.sandbox.student.explain.explain_error`.
    """
    source = str(unit.get("source", ""))
    start = first_line(unit)
    register_source(origin, start, source)
    return compile("\n" * (start - 1) + source, origin, "exec")


@dataclass
class StudentCode:
    """The namespace of a submission and the history of its definitions."""

    ns: dict[str, Any] = field(default_factory=lambda: {"__name__": STUDENT_MODULE,
                                                         "__builtins__": __builtins__})
    versions: dict[str, list[Version]] = field(default_factory=dict)
    runs: list[UnitRun] = field(default_factory=list)

    def run_units(self, units: list[dict[str, Any]], unit_timeout_s: float,
                  on_unit: Callable[[UnitRun], None] | None = None) -> None:
        """Execute ``units`` in order; record failures and new definitions."""
        for index, unit in enumerate(units):
            origin = str(unit.get("origin") or f"unit {index}")
            run = UnitRun(origin=origin, kind=str(unit.get("kind", "")),
                          name=str(unit.get("name") or ""), ok=True)
            t0 = time.perf_counter()
            try:
                code = compile_unit(unit, origin)
                with time_limit(unit_timeout_s):
                    exec(code, self.ns)  # noqa: S102 - this is the sandboxed child
            except BaseException as exc:  # student code: record and go on
                err = explain_error(exc)
                run.ok = False
                run.error_type, run.message = err.kind, err.message + err.where_suffix
                run.detail = err.detail
            run.seconds = round(time.perf_counter() - t0, 3)
            self.runs.append(run)
            self._record_versions(index, origin)
            if on_unit is not None:
                on_unit(run)

    def _record_versions(self, index: int, origin: str) -> None:
        for name, obj in list(self.ns.items()):
            if name.startswith("__") or not is_student_object(obj):
                continue
            seen = self.versions.setdefault(name, [])
            if not seen or seen[-1].obj is not obj:
                seen.append(Version(name, obj, index, origin))

    def failures(self) -> list[UnitRun]:
        """Units that raised."""
        return [r for r in self.runs if not r.ok]

    def latest(self, name: str) -> Any:
        """The current value of ``name`` (the last definition), or None."""
        return self.ns.get(name)


def is_student_object(obj: Any) -> bool:
    """True for functions/classes defined by the student, and for Keras models."""
    inner = getattr(obj, "python_function", obj)  # unwrap @tf.function
    if isinstance(inner, (types.FunctionType, type)):
        return getattr(inner, "__module__", None) == STUDENT_MODULE
    return is_keras_model(obj)


def is_keras_model(obj: Any) -> bool:
    """True for a Keras model instance (checked without importing Keras)."""
    for klass in type(obj).__mro__:
        if klass.__name__ in ("Model", "Functional", "Sequential") and \
                klass.__module__.startswith(("keras", "tf_keras", "tensorflow")):
            return True
    return False
