"""Bilingual text: one message type (:class:`Msg`) and the catalogs its wording comes from.

Every sentence a student or an instructor reads exists in English and Korean. Wording lives
in TOML catalogs under ``grader/catalogs/`` (one file per area: ``sandbox.toml``,
``scoring.toml``, ...), one table per message::

    [timeout]
    en = "Your code took longer than {limit:.0f} s and was stopped."
    ko = "코드 실행이 {limit:.0f}초를 넘어 중단되었습니다."

and code asks for it by key: ``msg("sandbox.timeout", limit=60)``. A :class:`Msg` travels
through the evidence and the grade as data (JSON ``{"en": ..., "ko": ...}``); the report and
the terminal pick a language only when they show it.
"""

from __future__ import annotations

import functools
import string
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10 only
    import tomli as tomllib

CATALOG_DIR = Path(__file__).resolve().parent / "catalogs"
LANGS = ("en", "ko")


@dataclass(frozen=True)
class Msg:
    """A message in both languages (``ko`` empty: the same words in both, e.g. a file name)."""

    en: str
    ko: str = ""

    def text(self, lang: str) -> str:
        """The message in ``lang`` (``en`` or ``ko``)."""
        return self.ko if lang == "ko" and self.ko else self.en

    def __str__(self) -> str:
        return self.en

    def __contains__(self, part: object) -> bool:
        """``"word" in msg``: the text appears in either wording."""
        return isinstance(part, str) and (part in self.en or part in self.ko)

    def __add__(self, other: Msg | str) -> Msg:
        o = other if isinstance(other, Msg) else Msg(str(other))
        return Msg(self.en + o.en, self.text("ko") + o.text("ko"))

    def __radd__(self, other: str) -> Msg:
        return Msg(str(other)) + self

    def map(self, fn: Any) -> Msg:
        """Apply ``fn`` (str -> str) to both wordings."""
        return Msg(fn(self.en), fn(self.text("ko")))

    def to_json(self) -> dict[str, str]:
        """``{"en": ..., "ko": ...}``."""
        return {"en": self.en, "ko": self.text("ko")}

    @classmethod
    def from_json(cls, raw: Any) -> Msg:
        """Read :meth:`to_json` output; a plain string (older files) is the same in both."""
        if isinstance(raw, Msg):
            return raw
        if isinstance(raw, dict):
            en = str(raw.get("en", ""))
            return cls(en, str(raw.get("ko", "") or en))
        return cls(str(raw), str(raw))


def plain(text: object) -> Msg:
    """Text that reads the same in both languages (a name, a number, a quoted error)."""
    return Msg(str(text), str(text))


def join(parts: Iterable[Msg | str], sep: Msg | str = " ") -> Msg:
    """Concatenate messages with ``sep`` between them, language by language."""
    items = [p if isinstance(p, Msg) else plain(p) for p in parts]
    s = sep if isinstance(sep, Msg) else plain(sep)
    return Msg(s.en.join(p.en for p in items), s.text("ko").join(p.text("ko") for p in items))


class CatalogError(KeyError):
    """A message key is not in the catalogs, or its entry is malformed."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "catalog error"


@functools.cache
def _catalog(area: str) -> dict[str, dict[str, str]]:
    path = CATALOG_DIR / f"{area}.toml"
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise CatalogError(f"no message catalog {path.name}") from exc
    for key, entry in raw.items():
        if not isinstance(entry, dict) or not all(isinstance(entry.get(lang), str)
                                                  for lang in LANGS):
            raise CatalogError(f"{path.name}: [{key}] needs string 'en' and 'ko' entries")
    return raw


def catalog_areas() -> list[str]:
    """Names of the catalogs shipped (``sandbox``, ``scoring``, ...)."""
    return sorted(p.stem for p in CATALOG_DIR.glob("*.toml"))


def entry(key: str) -> dict[str, str]:
    """The raw ``{"en": ..., "ko": ...}`` templates of ``area.name``."""
    area, _, name = key.partition(".")
    table = _catalog(area)
    if name not in table:
        raise CatalogError(f"message {key!r} is not in catalogs/{area}.toml")
    return table[name]


def msg(key: str, **fields: Any) -> Msg:
    """The catalog message ``area.name`` with ``fields`` filled in (``str.format`` rules).

    A field value that is itself a :class:`Msg` is filled in language by language.

    Raises:
        CatalogError: The key is unknown.
        KeyError: A placeholder has no value in ``fields``.
    """
    templates = entry(key)
    out = {}
    for lang in LANGS:
        values = {k: (v.text(lang) if isinstance(v, Msg) else v) for k, v in fields.items()}
        out[lang] = templates[lang].format(**values)
    return Msg(out["en"], out["ko"])


def placeholders(template: str) -> set[str]:
    """Field names used in a ``str.format`` template (for the catalog consistency test)."""
    return {name.split(".")[0].split("[")[0] for _, name, _, _ in string.Formatter().parse(template)
            if name}


def strings(area: str, lang: str) -> dict[str, str]:
    """Every message of one catalog in one language, unformatted (for templates)."""
    return {key: entry[lang] for key, entry in _catalog(area).items()}
