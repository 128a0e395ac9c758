"""The only place student code runs: an isolated child process with limits (see launch.py)."""

from grader.sandbox.launch import ChildOutcome, run_child
from grader.sandbox.limits import Limits

__all__ = ["ChildOutcome", "Limits", "run_child"]
