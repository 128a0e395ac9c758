"""Name-based candidates for the functions the sandbox looks for (generator, losses, ...).

This only orders definitions by how much their names look like the assignment's; the
sandbox then decides by behaviour (calling them on the right shapes).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from grader.intake.submission import CodeUnit

ROLES = ("generator", "discriminator", "generator_loss", "discriminator_loss",
         "discriminator_accuracy", "train_step")
#: role -> the name the assignment asks for
STANDARD_NAMES = {r: r for r in ROLES} | {"generator": "make_generator_model",
                                         "discriminator": "make_discriminator_model"}
CONFIDENCE_STANDARD = 1.0
CONFIDENCE_FROM_ASSIGNMENT = 0.7


@dataclass(frozen=True)
class _Rule:
    confidence: float
    pattern: re.Pattern[str]
    max_required: int | None = None
    """Only functions with at most this many required parameters match (``None``: any)."""
    kinds: tuple[str, ...] = ("function",)


def _r(conf: float, pattern: str, max_required: int | None = None,
       kinds: tuple[str, ...] = ("function",)) -> _Rule:
    return _Rule(conf, re.compile(pattern, re.IGNORECASE), max_required, kinds)


#: role -> rules after the standard name; the first matching rule gives the confidence
RULES: dict[str, tuple[_Rule, ...]] = {
    "generator": (
        _r(0.8, r"^make_generator_model_?\w+$"),
        _r(0.6, r"^(build|make|create|get|define)_?\w*generator", 0),
        _r(0.6, r"^(generator(_model)?|gen_model|g_model)$", 0),
        _r(0.5, r"generator", 0, ("class",)),
        _r(0.4, r"generator|^gen_|_gen$|^g$", 0),
        _r(0.2, r"gan", 0),
    ),
    "discriminator": (
        _r(0.8, r"^make_discriminator_model_?\w+$"),
        _r(0.6, r"^(build|make|create|get|define)_?\w*(discriminator|critic)", 0),
        _r(0.6, r"^(discriminator(_model)?|disc_model|d_model|critic)$", 0),
        _r(0.5, r"discriminator|critic", 0, ("class",)),
        _r(0.4, r"discriminator|critic|^disc_|_disc$|^d$", 0),
        _r(0.2, r"gan", 0),
    ),
    "generator_loss": (
        _r(0.8, r"^generator_loss_?\w+$"),
        _r(0.6, r"^(gen|g)_loss|^gen\w*_loss"),
        _r(0.4, r"gen\w*loss|loss\w*gen", 3),
    ),
    "discriminator_loss": (
        _r(0.8, r"^discriminator_loss_?\w+$"),
        _r(0.6, r"^(disc|d)_loss|^disc\w*_loss"),
        _r(0.4, r"disc\w*loss|loss\w*disc|critic\w*loss", 3),
    ),
    "discriminator_accuracy": (
        _r(0.8, r"^discriminator_accuracy_?\w+$"),
        _r(0.6, r"^(disc|d)\w*_acc(uracy)?$"),
        _r(0.4, r"acc(uracy)?", 3),
    ),
    "train_step": (
        _r(0.8, r"^train_step_?\w+$"),
        _r(0.6, r"^train\w*_step$|^step$|^training_step$"),
        _r(0.4, r"step", 3),
    ),
}
_TARGET = {
    "generator": re.compile(r"^(generator|gen|g|g_model|generator_model)(_\w+)?$", re.IGNORECASE),
    "discriminator": re.compile(r"^(discriminator|disc|d|d_model|critic|discriminator_model)(_\w+)?$",
                                re.IGNORECASE),
}


@dataclass(frozen=True)
class Candidate:
    """A definition that may play a role, with how sure its name makes us."""

    role: str
    name: str
    confidence: float
    order: int
    """The unit's ``order`` (index into ``Submission.code_units``)."""
    origin: str
    reason: str


def find_candidates(units: list[CodeUnit], role: str | None = None) -> list[Candidate]:
    """Ordered candidates: standard names first (every version, in file order), then variants.

    Args:
        units: ``Submission.code_units``.
        role: One of :data:`ROLES`, or ``None`` for all roles (grouped in :data:`ROLES` order).

    Returns:
        Candidates sorted by confidence (highest first), then file order.
    """
    roles = ROLES if role is None else (role,)
    found: list[Candidate] = []
    for r in roles:
        found += sorted(_for_role(units, r), key=lambda c: (-c.confidence, c.order))
    return found


def _for_role(units: list[CodeUnit], role: str) -> list[Candidate]:
    out: list[Candidate] = []
    taken: set[int] = set()
    for unit in units:
        if unit.kind not in ("function", "class") or not unit.name:
            continue
        if unit.name == STANDARD_NAMES[role]:
            out.append(Candidate(role, unit.name, CONFIDENCE_STANDARD, unit.order, unit.origin,
                                 "standard name"))
            taken.add(unit.order)
            continue
        for rule in RULES[role]:
            if unit.kind in rule.kinds and rule.pattern.search(unit.name) and (
                    rule.max_required is None or unit.required_params <= rule.max_required):
                out.append(Candidate(role, unit.name, rule.confidence, unit.order, unit.origin,
                                     f"name matches {rule.pattern.pattern!r}"))
                taken.add(unit.order)
                break
    if role in _TARGET:  # generator = build_G(): the assignment names the role
        for unit in units:
            if unit.kind != "model_build" or not any(_TARGET[role].match(n) for n in unit.names):
                continue
            for callee in units:
                if callee.kind in ("function", "class") and callee.name == unit.calls \
                        and callee.order not in taken:
                    out.append(Candidate(role, callee.name, CONFIDENCE_FROM_ASSIGNMENT, callee.order,
                                         callee.origin, f"{unit.source.strip()[:60]} ({unit.origin})"))
                    taken.add(callee.order)
    return out
