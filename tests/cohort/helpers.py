"""Small cohorts for the cohort tests: copies of samples and broken submissions."""

from __future__ import annotations

import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def make_cohort(root: Path, names: tuple[str, ...]) -> Path:
    """A cohort folder with the named entries (see ``ENTRIES``)."""
    root.mkdir(parents=True, exist_ok=True)
    for name in names:
        ENTRIES[name](root)
    return root


def _bob(root: Path) -> None:
    shutil.copytree(ROOT / "submissions" / "bob", root / "bob")


def _solution(root: Path) -> None:
    shutil.copy(ROOT / "reference" / "solution.py", root / "sol.py")


def _empty(root: Path) -> None:
    (root / "empty.ipynb").write_text('{"cells": [], "metadata": {}, "nbformat": 4, '
                                      '"nbformat_minor": 5}')


def _garbage(root: Path) -> None:
    (root / "garbage.ipynb").write_bytes(b"\xff\xfe\x00 not a notebook \x89")


ENTRIES = {"bob": _bob, "sol": _solution, "empty": _empty, "garbage": _garbage}

