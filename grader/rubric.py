"""The rubric as data: load and validate an assignment's ``rubric.toml`` into frozen dataclasses.

The structure is checked here; what the scorers need (which items exist, their thresholds
and parts, the evidence sources and check ids) comes in as :class:`RubricRules` from
:func:`grader.scoring.load_rubric`, which knows the registries.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

from grader.assignment import get_assignment
from grader.errors import UsageError

#: level names every item must define (``partial`` is optional but usual)
REQUIRED_LEVELS = ("full", "none")
#: item statuses map onto rubric levels
STATUS_LEVEL = {"pass": "full", "partial": "partial", "fail": "none"}
#: rubric-wide thresholds the scoring engine reads
REQUIRED_SCORING_THRESHOLDS = ("alpha", "authoritative_min_steps", "bootstrap_samples")


@dataclass(frozen=True)
class RubricRules:
    """What a rubric must fit: the registered items (with their thresholds and parts), the
    evidence sources and the check ids. Empty collections skip that part of the check."""

    items: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = field(default_factory=dict)
    """item id -> (thresholds its scorer reads, parts it combines)."""
    sources: frozenset[str] = frozenset()
    checks: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Threshold:
    """A number the scorer compares against, with its provenance."""

    name: str
    value: float
    source: str
    """Where the number comes from (a measurement, a convention, or 'provisional')."""
    calibrated: bool = False
    """False while the value is a provisional guess not yet measured on baselines."""


@dataclass(frozen=True)
class Level:
    """A partial-credit level of an item: a name and the fraction of the points it earns."""

    name: str
    fraction: float
    en: str = ""
    """What the level means, in English."""
    ko: str = ""
    """What the level means, in Korean."""


@dataclass(frozen=True)
class Part:
    """A weighted part of an item (e.g. the GIF and the fake-accuracy trend of item 2)."""

    id: str
    weight: float
    title_en: str
    title_ko: str
    evidence: tuple[str, ...] = ()


#: string settings an item may carry besides ``*_level`` ones, with their allowed values
OPTION_VALUES: dict[str, tuple[str, ...]] = {
    "compare_by": ("classifier_score", "recognizable_fraction"),
}


@dataclass(frozen=True)
class RubricItem:
    """One rubric item (평가문항) with its criterion (상세기준), points and thresholds."""

    id: str
    number: int
    points: float
    title_en: str
    title_ko: str
    criterion_en: str
    criterion_ko: str
    evidence: tuple[str, ...]
    """Evidence sources this item accepts, most trusted first."""
    gates: tuple[str, ...]
    """Check ids that must not fail before the item can score."""
    levels: tuple[Level, ...]
    thresholds: tuple[Threshold, ...]
    parts: tuple[Part, ...] = ()
    options: tuple[tuple[str, str], ...] = ()
    """Other string settings of the item (e.g. ``student_plot_level``)."""

    def threshold(self, name: str) -> float:
        """Return the value of threshold ``name`` (KeyError when absent)."""
        for t in self.thresholds:
            if t.name == name:
                return t.value
        raise KeyError(f"rubric item {self.id!r} has no threshold {name!r}")

    def level_fraction(self, name: str) -> float:
        """Return the fraction of points of level ``name``."""
        for lv in self.levels:
            if lv.name == name:
                return lv.fraction
        raise KeyError(f"rubric item {self.id!r} has no level {name!r}")

    def option(self, name: str, default: str = "") -> str:
        """Return the string option ``name`` or ``default``."""
        return dict(self.options).get(name, default)


@dataclass(frozen=True)
class Rubric:
    """A whole rubric: items, rubric-wide scoring settings, and load-time warnings."""

    id: str
    version: str
    title_en: str
    title_ko: str
    items: tuple[RubricItem, ...]
    thresholds: tuple[Threshold, ...]
    seed: int = 0
    known_checks: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    """Problems that do not stop the rubric from being used (e.g. unknown gate ids)."""
    path: str = ""
    calibrated: bool = field(default=False)
    """True only when every threshold is calibrated."""

    @property
    def max_score(self) -> float:
        """Sum of the items' points."""
        return float(sum(i.points for i in self.items))

    def item(self, item_id: str) -> RubricItem:
        """Return the item with id ``item_id`` (KeyError when absent)."""
        for it in self.items:
            if it.id == item_id:
                return it
        raise KeyError(f"rubric has no item {item_id!r}")

    def threshold(self, name: str) -> float:
        """Return the value of rubric-wide threshold ``name``."""
        for t in self.thresholds:
            if t.name == name:
                return t.value
        raise KeyError(f"rubric has no scoring threshold {name!r}")


def default_rubric_path() -> Path:
    """The current assignment's rubric (``grader/assignments/<id>/rubric.toml``)."""
    return get_assignment().rubric


def load_rubric(path: str | Path | None = None, rules: RubricRules | None = None) -> Rubric:
    """Load and validate a rubric TOML file.

    Args:
        path: the TOML file; ``None`` loads the current assignment's rubric.
        rules: what the rubric must fit (see :class:`RubricRules`); None checks the
            structure only. Use :func:`grader.scoring.load_rubric` to check everything.

    Returns:
        The validated rubric. Non-fatal problems are listed in ``Rubric.warnings``.

    Raises:
        UsageError: the file is missing, is not TOML, or is not a valid rubric.
    """
    path = Path(path) if path is not None else default_rubric_path()
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise UsageError(f"The rubric file '{path}' does not exist.",
                         "Pass --rubric PATH to a rubric TOML file.") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(f"The rubric file '{path}' is not valid TOML: {exc}") from exc
    return parse_rubric(raw, str(path), rules)


def parse_rubric(raw: dict[str, Any], where: str = "<rubric>",
                 rules: RubricRules | None = None) -> Rubric:
    """Validate a rubric already parsed from TOML (see :func:`load_rubric`).

    Raises:
        UsageError: a key is missing, has the wrong type, or a value is out of range.
    """
    ctx = _Ctx(where)
    rules = rules or RubricRules()
    scoring = ctx.table(raw, "scoring", "top level")
    known = tuple(sorted(rules.checks))
    thresholds = _thresholds(ctx, scoring, "[scoring]", REQUIRED_SCORING_THRESHOLDS)
    items_raw = raw.get("items")
    if not isinstance(items_raw, list) or not items_raw:
        ctx.fail("needs at least one [[items]] table")
    items = tuple(_item(ctx, it, n, rules) for n, it in enumerate(items_raw, 1))
    ids = [i.id for i in items]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        ctx.fail(f"item ids must be unique; repeated: {', '.join(dupes)}")
    if "inconclusive_level" in scoring:
        ctx.warnings.append("[scoring] inconclusive_level is no longer used: an item the "
                            "evidence cannot settle is marked needs_review and scores nothing "
                            "until an instructor decides")
    all_thr = thresholds + tuple(t for i in items for t in i.thresholds)
    return Rubric(
        id=ctx.string(raw, "id", "top level"), version=str(raw.get("version", "")),
        title_en=ctx.string(raw, "title_en", "top level"),
        title_ko=ctx.string(raw, "title_ko", "top level"),
        items=items, thresholds=thresholds,
        seed=ctx.integer(scoring, "seed", "[scoring]", default=0), known_checks=known,
        warnings=tuple(ctx.warnings), path=where,
        calibrated=all(t.calibrated for t in all_thr),
    )


def _item(ctx: _Ctx, raw: Any, n: int, rules: RubricRules) -> RubricItem:
    if not isinstance(raw, dict):
        ctx.fail(f"[[items]] number {n} must be a table")
    item_id = ctx.string(raw, "id", f"[[items]] number {n}")
    where = f"item {item_id!r}"
    if rules.items and item_id not in rules.items:
        ctx.fail(f"{where}: no scorer exists for this id; known ids: "
                 f"{', '.join(rules.items)}")
    need_thresholds, need_parts = rules.items.get(item_id, ((), ()))
    points = ctx.number(raw, "points", where)
    if points <= 0:
        ctx.fail(f"{where}: points must be greater than 0, got {points}")
    evidence = tuple(ctx.str_list(raw, "evidence", where))
    unknown = [s for s in evidence if rules.sources and s not in rules.sources]
    if unknown:
        ctx.fail(f"{where}: unknown evidence source(s) {unknown}; known: {sorted(rules.sources)}")
    gates = tuple(ctx.str_list(raw, "gates", where, required=False))
    for g in gates:
        if rules.checks and g not in rules.checks:
            ctx.warnings.append(f"{where}: gate {g!r} is not a known check id; it will never "
                                "block the item unless a check with that id is reported")
    options = tuple((k, v) for k, v in raw.items()
                    if isinstance(v, str) and (k.endswith("_level") or k in OPTION_VALUES))
    for k, v in options:
        if k in OPTION_VALUES and v not in OPTION_VALUES[k]:
            ctx.fail(f"{where}: {k} = {v!r} is not one of {', '.join(OPTION_VALUES[k])}")
    return RubricItem(
        id=item_id, number=ctx.integer(raw, "number", where, default=n), points=float(points),
        title_en=ctx.string(raw, "title_en", where), title_ko=ctx.string(raw, "title_ko", where),
        criterion_en=ctx.string(raw, "criterion_en", where),
        criterion_ko=ctx.string(raw, "criterion_ko", where),
        evidence=evidence, gates=gates, levels=_levels(ctx, raw, where),
        thresholds=_thresholds(ctx, raw, where, need_thresholds),
        parts=_parts(ctx, raw, where, need_parts), options=options,
    )


def _levels(ctx: _Ctx, raw: dict[str, Any], where: str) -> tuple[Level, ...]:
    levels_raw = raw.get("levels")
    if not isinstance(levels_raw, list) or not levels_raw:
        ctx.fail(f"{where}: 'levels' must be a list of {{ name, fraction }} tables")
    levels = []
    for lv in levels_raw:
        if not isinstance(lv, dict):
            ctx.fail(f"{where}: each level must be a table {{ name = ..., fraction = ... }}")
        frac = ctx.number(lv, "fraction", f"{where} level")
        if not 0.0 <= frac <= 1.0:
            ctx.fail(f"{where}: level fraction must be between 0 and 1, got {frac}")
        levels.append(Level(name=ctx.string(lv, "name", f"{where} level"), fraction=float(frac),
                            en=str(lv.get("en", "")), ko=str(lv.get("ko", ""))))
    names = {lv.name for lv in levels}
    missing = [n for n in REQUIRED_LEVELS if n not in names]
    if missing:
        ctx.fail(f"{where}: levels must include {', '.join(missing)}")
    for key, value in raw.items():
        if key.endswith("_level") and isinstance(value, str) and value not in names:
            ctx.fail(f"{where}: {key} = {value!r} is not one of its levels {sorted(names)}")
    return tuple(levels)


def _parts(ctx: _Ctx, raw: dict[str, Any], where: str,
           need: tuple[str, ...]) -> tuple[Part, ...]:
    parts_raw = raw.get("parts", [])
    if not isinstance(parts_raw, list):
        ctx.fail(f"{where}: 'parts' must be a list of [[items.parts]] tables")
    parts = []
    for p in parts_raw:
        if not isinstance(p, dict):
            ctx.fail(f"{where}: each part must be a table")
        pid = ctx.string(p, "id", f"{where} part")
        weight = ctx.number(p, "weight", f"{where} part {pid!r}")
        if weight <= 0:
            ctx.fail(f"{where}: part {pid!r} weight must be greater than 0")
        parts.append(Part(id=pid, weight=float(weight), title_en=ctx.string(p, "title_en", pid),
                          title_ko=ctx.string(p, "title_ko", pid),
                          evidence=tuple(ctx.str_list(p, "evidence", pid, required=False))))
    missing = [n for n in need if n not in {p.id for p in parts}]
    if missing:
        ctx.fail(f"{where}: missing part(s) {', '.join(missing)} ([[items.parts]] with that id)")
    if parts and abs(sum(p.weight for p in parts) - 1.0) > 1e-6:
        ctx.fail(f"{where}: part weights must add up to 1, got {sum(p.weight for p in parts)}")
    return tuple(parts)


def _thresholds(ctx: _Ctx, raw: dict[str, Any], where: str,
                required: tuple[str, ...]) -> tuple[Threshold, ...]:
    table = raw.get("thresholds", {})
    if not isinstance(table, dict):
        ctx.fail(f"{where}: 'thresholds' must be a table")
    out = []
    for name, spec in table.items():
        if not isinstance(spec, dict):
            ctx.fail(f"{where}: threshold {name!r} must be an inline table "
                     "{ value = ..., calibrated = ..., source = \"...\" }")
        value = ctx.number(spec, "value", f"{where} threshold {name!r}")
        source = ctx.string(spec, "source", f"{where} threshold {name!r}")
        calibrated = spec.get("calibrated", False)
        if not isinstance(calibrated, bool):
            ctx.fail(f"{where}: threshold {name!r} 'calibrated' must be true or false")
        out.append(Threshold(name=name, value=float(value), source=source, calibrated=calibrated))
    missing = [r for r in required if r not in table]
    if missing:
        ctx.fail(f"{where}: missing threshold(s) {', '.join(missing)}")
    return tuple(out)


class _Ctx:
    """Validation helpers that name the file and the place of each problem."""

    def __init__(self, where: str) -> None:
        self.where = where
        self.warnings: list[str] = []

    def fail(self, msg: str) -> NoReturn:
        raise UsageError(f"The rubric '{self.where}' is not valid: {msg}.",
                         "Fix the rubric file (see grader/assignments/cifar10_dcgan/rubric.toml for "
                         "the format).")

    def table(self, raw: dict[str, Any], key: str, where: str) -> dict[str, Any]:
        value = raw.get(key)
        if not isinstance(value, dict):
            self.fail(f"{where}: missing table [{key}]")
        return value

    def string(self, raw: dict[str, Any], key: str, where: str, default: str | None = None) -> str:
        value = raw.get(key, default)
        if value is None:
            self.fail(f"{where}: missing key '{key}'")
        if not isinstance(value, str) or not value.strip():
            self.fail(f"{where}: '{key}' must be a non-empty string, got {value!r}")
        return value

    def number(self, raw: dict[str, Any], key: str, where: str) -> float:
        if key not in raw:
            self.fail(f"{where}: missing key '{key}'")
        value = raw[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.fail(f"{where}: '{key}' must be a number, got {value!r}")
        return float(value)

    def integer(self, raw: dict[str, Any], key: str, where: str, default: int) -> int:
        value = raw.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(f"{where}: '{key}' must be an integer, got {value!r}")
        return value

    def str_list(self, raw: dict[str, Any], key: str, where: str,
                 required: bool = True) -> list[str]:
        if key not in raw:
            if required:
                self.fail(f"{where}: missing key '{key}'")
            return []
        value = raw[key]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.fail(f"{where}: '{key}' must be a list of strings, got {value!r}")
        return value
