"""Messages in both report languages that still travel as plain English strings."""

from __future__ import annotations


class Said(str):
    """An English message (the ``str`` value) carrying its Korean wording in ``.ko``.

    Warnings flow through lists of ``str`` from intake to the report; a ``Said`` fits those
    lists unchanged, stays English in JSON and logs, and lets the Korean report use ``.ko``.
    """

    ko: str

    def __new__(cls, en: str, ko: str) -> Said:
        obj = super().__new__(cls, en)
        obj.ko = ko
        return obj

    def __getnewargs__(self) -> tuple[str, str]:  # pickle and copy keep the Korean text
        return str(self), self.ko


def korean(message: str) -> str:
    """The Korean wording of ``message`` when it has one, else the message itself."""
    return getattr(message, "ko", message)
