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


MALLORY = """\
import glob, os
TARGETS = {targets!r}
hits = []
for pattern in TARGETS + ["../*/result.json", "../../*/result.json", "../../../*/result.json",
                          "/tmp/**/cohort-entry.json"]:
    for path in glob.glob(pattern, recursive=True):
        for name in ("result.json", "cohort-entry.json", "report.html"):
            target = os.path.join(os.path.dirname(path), name)
            try:
                with open(target, "w") as fh:
                    fh.write('{{"score": 0, "max_score": 30, "key": "x", "items": []}}')
                hits.append(target)
            except OSError:
                pass
print("MALLORY wrote:", hits or "nothing")
"""


def mallory(root: Path, out: Path) -> None:
    """A student whose code tries to overwrite other students' committed results in ``out``
    (it knows the instructor's output folder: the worst case)."""
    targets = [str(out / "*" / "result.json"), str(out / "*" / "cohort-entry.json")]
    (root / "mallory.py").write_text(MALLORY.format(targets=targets), encoding="utf-8")


ENTRIES = {"bob": _bob, "sol": _solution, "empty": _empty, "garbage": _garbage}

