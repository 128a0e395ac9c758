"""Entry point of one cohort grading process: ``python -m grader.cohort.worker ARGS``.

Same as ``grade ARGS``, but first asks Linux to kill this process when the cohort runner
that started it dies (``PR_SET_PDEATHSIG``), so killing ``grade cohort`` never leaves orphaned
trainings behind. The sandbox's own child dies with this one (bubblewrap
``--die-with-parent``).
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys

PARENT_ENV = "DCGAN_GRADER_COHORT_PARENT"


def die_with_parent() -> None:
    """Request SIGKILL on parent death; exit at once if the parent is already gone."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, int(signal.SIGKILL), 0, 0, 0)  # PR_SET_PDEATHSIG = 1
    except (OSError, AttributeError):
        return  # not Linux: the runner's own clean-up still kills its children
    expected = os.environ.get(PARENT_ENV)
    if expected and expected.isdigit() and os.getppid() != int(expected):
        os._exit(130)  # the runner died before prctl took effect


def main() -> int:
    """Run ``grade`` with this process's arguments."""
    die_with_parent()
    from grader.cli import main as grade_main

    return grade_main(sys.argv[1:])


if __name__ == "__main__":
    from grader.cli import exit_fast

    exit_fast(main())
