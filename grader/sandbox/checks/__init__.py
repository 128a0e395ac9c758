"""The checks of a submission (shapes, ranges, losses, accuracy, one training step).

:mod:`~grader.sandbox.checks.registry` holds :data:`CHECKS` (id -> function, needs, in run
order); the modules here register their checks on import: ``code`` (the code ran),
``models`` (builders, leftovers, generator and discriminator), ``losses`` (losses and
accuracy), ``training`` (parameters, one training step). Adding a check: write a function
``(ctx) -> result`` next to its neighbours, ``register_check`` it there, and put its words in
``catalogs/checks.toml``.
"""

from grader.sandbox.checks import code, losses, models, training  # noqa: F401 - register
from grader.sandbox.checks.registry import (
    CHECKS,
    NEEDS,
    CheckContext,
    CheckSpec,
    register_check,
    result,
    run_one,
    skipped,
)

__all__ = ["CHECKS", "NEEDS", "CheckContext", "CheckSpec", "register_check", "result",
           "run_one", "skipped"]
