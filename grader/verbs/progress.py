"""Progress for a terminal (a rich bar) or for a log file (plain, time-stamped lines).

A progress bar drawn without a terminal shows nothing (a batch log stays empty for minutes),
so when stderr is not a terminal :func:`progress_lines` prints one line per stage change
instead, and at most one line per :data:`PLAIN_EVERY_S` within a stage.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TextIO

#: seconds between two plain lines of the same stage
PLAIN_EVERY_S = 10.0

ProgressFn = Callable[[str, float | None, str], None]


class PlainProgress:
    """``progress(stage, fraction, detail)`` as ``[  12 s] stage   detail (40%)`` lines."""

    def __init__(self, stream: TextIO | None = None, every_s: float = PLAIN_EVERY_S) -> None:
        self.stream = stream or sys.stderr
        self.every_s = every_s
        self.t0 = time.monotonic()
        self._last: tuple[str, str] | None = None
        self._last_t = -1e9

    def __call__(self, stage: str, fraction: float | None, detail: str) -> None:
        now = time.monotonic()
        same_stage = self._last is not None and self._last[0] == stage
        if self._last == (stage, detail) or (same_stage and now - self._last_t < self.every_s):
            return
        self._last, self._last_t = (stage, detail), now
        share = f" ({fraction:.0%})" if fraction is not None else ""
        print(f"[{now - self.t0:5.0f} s] {stage:<8} {detail}{share}", file=self.stream,
              flush=True)


@contextmanager
def progress_lines(console) -> Iterator[ProgressFn]:
    """A progress callback: a transient rich bar on a terminal, plain lines otherwise."""
    if not console.is_terminal:
        yield PlainProgress(console.file)
        return
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("[bold]{task.fields[stage]:<8}"), BarColumn(),
                  TextColumn("{task.description}"), TimeElapsedColumn(),
                  console=console, transient=True) as bar:
        task = bar.add_task("starting", total=None, stage="grade")

        def progress(stage: str, fraction: float | None, detail: str) -> None:
            if fraction is None:
                bar.update(task, description=detail, stage=stage, total=None)
            else:
                bar.update(task, description=detail, stage=stage, total=1.0, completed=fraction)

        yield progress
