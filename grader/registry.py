"""Registries: named entries (checks, rubric items, evidence sources, assignments, verbs).

A registry is a dict filled by ``register`` calls that reject a bad name, a duplicate or a
value of the wrong type with a message that says what is wrong and what is allowed, so a
mistake in a new entry shows at import time rather than deep inside a grading run.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Generic, TypeVar

T = TypeVar("T")

NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")
"""Registry keys are short lowercase names (``generator_output_shape``, ``recognizable``)."""


class RegistryError(ValueError):
    """A registration or a lookup was wrong (bad name, duplicate, wrong type, unknown name)."""


class Registry(Generic[T]):
    """Named entries of one kind, in registration order.

    Args:
        what: What an entry is, for messages (``check``, ``rubric item``).
        kind: The type (or types) every entry must be an instance of.
    """

    def __init__(self, what: str, kind: type | tuple[type, ...]) -> None:
        self.what = what
        self.kind = kind
        self._entries: dict[str, T] = {}

    def register(self, name: str, entry: T, *, replace: bool = False) -> T:
        """Add ``entry`` under ``name`` and return it.

        Raises:
            RegistryError: ``name`` is not a short lowercase name, is already taken (unless
                ``replace``), or ``entry`` is not of the registry's kind.
        """
        if not isinstance(name, str) or not NAME_PATTERN.match(name):
            raise RegistryError(f"{self.what} name {name!r} must be lowercase letters, digits "
                                "and underscores, starting with a letter")
        if name in self._entries and not replace:
            raise RegistryError(f"{self.what} {name!r} is already registered")
        if not isinstance(entry, self.kind):
            kinds = self.kind if isinstance(self.kind, tuple) else (self.kind,)
            raise RegistryError(f"{self.what} {name!r} must be a "
                                f"{' or '.join(k.__name__ for k in kinds)}, "
                                f"got {type(entry).__name__}")
        self._entries[name] = entry
        return entry

    def __getitem__(self, name: str) -> T:
        try:
            return self._entries[name]
        except KeyError:
            known = ", ".join(self._entries) or "none"
            raise RegistryError(f"unknown {self.what} {name!r}; known: {known}") from None

    def get(self, name: str, default: T | None = None) -> T | None:
        """The entry, or ``default`` when ``name`` is not registered."""
        return self._entries.get(name, default)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def names(self) -> tuple[str, ...]:
        """Registered names in registration order."""
        return tuple(self._entries)

    def items(self) -> list[tuple[str, T]]:
        """(name, entry) pairs in registration order."""
        return list(self._entries.items())
