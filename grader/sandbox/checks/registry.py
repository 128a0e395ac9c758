"""The registry of checks: ids, what each needs, and the context checks run in.

A check is registered with :func:`register_check` under a stable id, with the things it
needs (``needs``): a need that is not met (no generator was built, an earlier check failed)
turns the check into ``skip`` with the need's own reason, so a check function only ever
handles the case it is about. The checks run inside the student's sandboxed process (they
call the student's functions); the registry itself (ids, needs) is plain data the parent
and the rubric use too. Adding a check: write a function ``(ctx) -> CheckResult`` in one of
the modules here and register it where its neighbours are; its messages go in
``catalogs/checks.toml``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from grader.evidence import CheckResult
from grader.registry import Registry, RegistryError
from grader.text import Msg, msg


@dataclass
class CheckContext:
    """What the checks see: the student's namespace, the models found, the assignment facts."""

    ns: dict[str, Any]
    """The student's namespace (after every code unit ran)."""
    facts: dict[str, Any]
    """The assignment facts (``Assignment.facts()``): image shape, noise size, lesson names."""
    seconds: float
    """Time limit of one call into student code."""
    seed: int
    real: Any = None
    """A few real training images (uint8), for the checks that need them."""
    generator: Any = None
    """The chosen generator candidate (``discover.Built``), or None."""
    discriminator: Any = None
    generator_candidates: list[Any] = field(default_factory=list)
    discriminator_candidates: list[Any] = field(default_factory=list)
    results: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Results so far, by check id (plain dicts)."""
    cache: dict[str, Any] = field(default_factory=dict)
    """Values shared between checks (e.g. the generator's probe outputs)."""
    extra: dict[str, Any] = field(default_factory=dict)
    """What the caller adds for particular checks (the intake's failures, the code runs)."""

    @property
    def image_shape(self) -> tuple[int, ...]:
        """(height, width, channels) of the assignment's images."""
        return tuple(self.facts["image_shape"])

    def passed(self, check_id: str) -> bool:
        """True when ``check_id`` has run and passed."""
        return self.results.get(check_id, {}).get("status") == "pass"


CheckFn = Callable[[CheckContext], CheckResult]


@dataclass(frozen=True)
class Need:
    """A precondition of checks, and the reason given when it is not met."""

    met: Callable[[CheckContext], bool]
    skip: str
    """Catalog key of the skip message."""


@dataclass(frozen=True)
class CheckSpec:
    """One registered check."""

    id: str
    run: CheckFn
    needs: tuple[str, ...] = ()


NEEDS: dict[str, Need] = {
    "generator": Need(lambda c: c.generator is not None, "checks.skip_no_generator"),
    "discriminator": Need(lambda c: c.discriminator is not None, "checks.skip_no_discriminator"),
    "a_model": Need(lambda c: c.generator is not None or c.discriminator is not None,
                    "checks.skip_no_model"),
    "generator_shape": Need(lambda c: c.passed("generator_output_shape"),
                            "checks.skip_output_shape"),
    "generator_probe": Need(lambda c: c.cache.get("generator_probe") is not None,
                            "checks.skip_generator_failed"),
    "discriminator_input": Need(lambda c: not c.cache.get("discriminator_leftover"),
                                "checks.skip_input_shape"),
    "discriminator_shape": Need(lambda c: c.passed("discriminator_output_shape"),
                                "checks.skip_output_shape"),
    "models_fit": Need(lambda c: c.generator is not None and c.discriminator is not None
                       and c.passed("generator_output_shape")
                       and c.passed("discriminator_output_shape"),
                       "checks.skip_models_do_not_fit"),
}

CHECKS: Registry[CheckSpec] = Registry("check", CheckSpec)


def register_check(check_id: str, run: CheckFn, needs: tuple[str, ...] = ()) -> CheckSpec:
    """Register a check (in run order).

    Raises:
        RegistryError: A bad or taken id, a function that is not callable, or an unknown need.
    """
    if not callable(run):
        raise RegistryError(f"check {check_id!r}: the check must be callable")
    unknown = [n for n in needs if n not in NEEDS]
    if unknown:
        raise RegistryError(f"check {check_id!r}: unknown need(s) {unknown}; known: "
                            f"{', '.join(NEEDS)}")
    return CHECKS.register(check_id, CheckSpec(check_id, run, tuple(needs)))


def result(check_id: str, status: str, text: Msg, **details: Any) -> dict[str, Any]:
    """A :class:`grader.evidence.CheckResult` as a plain dict."""
    return CheckResult(id=check_id, status=status, message=text,  # type: ignore[arg-type]
                       details=details).to_dict()


def skipped(check_id: str, text: Msg) -> dict[str, Any]:
    """A skipped check."""
    return result(check_id, "skip", text)


def run_one(spec: CheckSpec, ctx: CheckContext) -> dict[str, Any]:
    """Run one check, or skip it with the reason of its first unmet need."""
    for need in spec.needs:
        if not NEEDS[need].met(ctx):
            out = skipped(spec.id, msg(NEEDS[need].skip))
            break
    else:
        out = spec.run(ctx)
    ctx.results[spec.id] = out
    return out
