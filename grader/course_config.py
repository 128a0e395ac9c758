"""The course config file ``grade.toml``: an instructor's defaults for every command.

Found as ``--config FILE``, else ``$DCGAN_GRADER_CONFIG``, else ``grade.toml`` in the current
folder. Top-level keys apply to every command that has the option; a table named after a
command (``[grade]`` for ``grade SUBMISSION``, ``[cohort]``, ``[rescore]``, ...) applies to
that command only and wins. Keys are the long options without the dashes (``memory-mb`` or
``memory_mb``); relative paths are read from the config file's folder. Options given on the
command line always win::

    lang = "ko"
    rubric = "rubric.toml"
    overrides = "overrides.csv"
    roster = "roster.csv"
    [cohort]
    workers = 2
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from grader.config import ENV_PREFIX
from grader.errors import UsageError

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

ENV_CONFIG = f"{ENV_PREFIX}CONFIG"
CONFIG_NAME = "grade.toml"
#: keys whose values are paths (resolved against the config file's folder)
PATH_KEYS = frozenset({"rubric", "overrides", "roster", "data", "assignment"})
#: keys a course may set (the options that make sense as a course's defaults)
KNOWN_KEYS = frozenset({
    "lang", "rubric", "overrides", "roster", "data", "assignment", "mode", "seed", "workers",
    "isolation", "memory_mb", "timeout", "threads", "gradescope", "gradescope_lang",
    "gradescope_visibility", "scheduler",
})
#: table names (the ``grade`` table is ``grade SUBMISSION``)
VERB_TABLES = frozenset({"grade", "check", "judge", "cohort", "rescore", "gradescope"})


def find_config(explicit: str | None) -> Path | None:
    """The config file to use, or None (``--config`` > ``$DCGAN_GRADER_CONFIG`` > ./grade.toml).

    Raises:
        UsageError: ``--config`` or the environment names a file that does not exist.
    """
    named = explicit or os.environ.get(ENV_CONFIG) or None
    if named:
        path = Path(named)
        if not path.is_file():
            raise UsageError(f"The course config {path} does not exist.")
        return path
    here = Path.cwd() / CONFIG_NAME
    return here if here.is_file() else None


def load_config(path: Path, verb: str | None) -> dict[str, Any]:
    """The defaults ``path`` sets for ``verb`` (None: ``grade SUBMISSION``), paths resolved.

    Raises:
        UsageError: The file is not valid TOML, or it sets a key no command knows.
    """
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise UsageError(f"The course config {path} cannot be read: {exc}") from exc
    table = verb or "grade"
    chosen: dict[str, Any] = {}
    for key, value in raw.items():
        if isinstance(value, dict):
            if key not in VERB_TABLES:
                raise UsageError(f"{path}: unknown table [{key}].",
                                 f"Tables: {', '.join(sorted(VERB_TABLES))}.")
            continue
        chosen[key] = value
    chosen.update(raw.get(table) or {})
    out = {}
    for key, value in chosen.items():
        name = key.replace("-", "_")
        if name not in KNOWN_KEYS:
            raise UsageError(f"{path}: unknown setting {key!r}.",
                             f"Settings: {', '.join(sorted(KNOWN_KEYS))}.")
        if name in PATH_KEYS and isinstance(value, str) and value and \
                not (name in ("data", "assignment") and "/" not in value and "." not in value):
            value = str((path.parent / value).resolve())
        out[name] = value
    return out


def apply_config(parser: argparse.ArgumentParser, config: dict[str, Any]) -> list[str]:
    """Make ``config`` the parser's defaults where it has the option; the keys applied."""
    known = {a.dest: a for a in parser._actions}  # noqa: SLF001 - argparse has no public list
    applied = []
    for name, value in config.items():
        action = known.get(name)
        if action is None:
            continue
        if action.type is Path and isinstance(value, str):
            value = Path(value)
        if action.choices is not None and value not in action.choices:
            raise UsageError(f"grade.toml: {name} = {value!r} is not one of "
                             f"{', '.join(map(str, action.choices))}.")
        parser.set_defaults(**{name: value})
        applied.append(name)
    return applied
