"""The rubric items the grader can score: a registry of item scorers.

Each item module registers its scorer with the thresholds and parts it reads
(:func:`register_item`); the rubric is validated against :data:`ITEMS`, so a rubric that
names an unknown item or leaves out a threshold its scorer needs is refused when it is
loaded, not half-way through a grade. Adding an item: write ``scoring/<item>.py`` with a
scorer and a ``register_item`` call, import it in ``scoring/__init__.py``, and add its
``[[items]]`` table to the assignment's ``rubric.toml``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from grader.evidence import Evidence
from grader.judge.results import JudgedEvidence
from grader.registry import NAME_PATTERN, Registry, RegistryError
from grader.rubric import Rubric, RubricItem
from grader.scoring.grades import ItemGrade

ItemScorer = Callable[[RubricItem, Evidence, JudgedEvidence, Rubric], ItemGrade]


@dataclass(frozen=True)
class ItemSpec:
    """What the scorer of one rubric item needs from the rubric."""

    id: str
    scorer: ItemScorer
    thresholds: tuple[str, ...]
    """Thresholds the scorer reads; a rubric item without one of them cannot be applied."""
    parts: tuple[str, ...] = ()
    """Part ids the scorer combines (``[[items.parts]]`` in the rubric)."""


ITEMS: Registry[ItemSpec] = Registry("rubric item", ItemSpec)


def register_item(item_id: str, scorer: ItemScorer, *, thresholds: tuple[str, ...],
                  parts: tuple[str, ...] = ()) -> ItemSpec:
    """Register the scorer of a rubric item.

    Raises:
        RegistryError: A bad or taken id, a scorer that is not callable, or malformed
            threshold or part names.
    """
    if not callable(scorer):
        raise RegistryError(f"rubric item {item_id!r}: the scorer must be callable")
    for name in (*thresholds, *parts):
        if not isinstance(name, str) or not NAME_PATTERN.match(name):
            raise RegistryError(f"rubric item {item_id!r}: {name!r} is not a threshold or "
                                "part name (lowercase letters, digits, underscores)")
    return ITEMS.register(item_id, ItemSpec(item_id, scorer, tuple(thresholds), tuple(parts)))
