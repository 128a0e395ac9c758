"""Trusted scoring: rubric x evidence x judge results -> a grade with reasons in both languages.

Modules: :mod:`~grader.scoring.items` (the registry of item scorers), one module per rubric
item (``recognizable``, ``training_progress``, ``improvement``; each registers itself),
:mod:`~grader.scoring.sources` (the evidence sources), ``score`` (entry: gates, scorer per
item, warnings), ``grades`` (the grade record), ``common`` (shared helpers) and ``notes``
(warnings). :func:`load_rubric` reads a rubric and checks it against the registered items,
sources and checks.
"""

from pathlib import Path

from grader import rubric as _rubric
from grader.sandbox.checks import CHECKS
from grader.scoring import improvement, recognizable, training_progress  # noqa: F401 - register
from grader.scoring.grades import Grade, ItemGrade, ItemStatus, Note
from grader.scoring.items import ITEMS
from grader.scoring.score import score_submission
from grader.scoring.sources import SOURCES


def rubric_rules() -> _rubric.RubricRules:
    """What a rubric must fit: the registered items, evidence sources and checks."""
    return _rubric.RubricRules(
        items={name: (spec.thresholds, spec.parts) for name, spec in ITEMS.items()},
        sources=frozenset(SOURCES.names()), checks=frozenset(CHECKS.names()))


def load_rubric(path: str | Path | None = None) -> _rubric.Rubric:
    """Load a rubric (default: the current assignment's) and validate it for scoring.

    Raises:
        UsageError: The file is missing or invalid, names an unknown item or evidence source,
            or lacks a threshold or part an item's scorer needs.
    """
    return _rubric.load_rubric(path, rubric_rules())


__all__ = ["Grade", "ItemGrade", "ItemStatus", "Note", "load_rubric", "rubric_rules",
           "score_submission"]
