"""Phase ``check``: find and build the models, then run every registered check (student side)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from grader.sandbox.checks import CHECKS, CheckContext, run_one
from grader.sandbox.checks.training import save_models
from grader.sandbox.student.discover import Built, discover
from grader.tf_setup import configure_tensorflow

if TYPE_CHECKING:
    from grader.sandbox.student.process import Child


def select(built: list[Built]) -> tuple[Built | None, Built | None]:
    """(baseline, final): the first and the last candidate that built a working model."""
    ok = [b for b in built if b.ok]
    return (ok[0], ok[-1]) if ok else (None, None)


def run_check(child: Child, spec: dict[str, Any]) -> None:
    """Run all checks, appending each to ``child.result['checks']`` as soon as it is known."""
    checks: list[dict[str, Any]] = child.result["checks"]
    facts = child.facts
    ctx = CheckContext(ns=child.code.ns, facts=facts, seconds=child.call_s, seed=child.seed,
                       extra={"intake_failures": list(child.plan.get("intake_failures", [])),
                              "runs": list(child.code.runs),
                              "usable": bool(child.code.versions)})
    order = list(CHECKS.items())
    first, rest = order[0], order[1:]  # code_cells runs before TensorFlow starts
    checks.append(run_one(first[1], ctx))
    child.save()
    configure_tensorflow(seed=child.seed, threads=int(child.plan.get("threads", 2)))
    ctx.real = child.probe_images(int(spec.get("batch", 16)))
    gens = discover(child.code, "generator", child.call_s, facts)
    g_base, g = select(gens)
    discs = discover(child.code, "discriminator", child.call_s, facts)
    d_base, d = select(discs)
    ctx.generator, ctx.discriminator = g, d
    ctx.generator_candidates, ctx.discriminator_candidates = gens, discs
    child.result["selection"] = {
        "generator": {"baseline": g_base and g_base.summary(), "final": g and g.summary()},
        "discriminator": {"baseline": d_base and d_base.summary(), "final": d and d.summary()},
    }
    for check_id, spec_ in rest:
        if check_id == "trainable_step":  # save the models before the step changes them
            fits = ctx.passed("generator_output_shape") and ctx.passed(
                "discriminator_output_shape") and g is not None and d is not None
            child.result["models"] = save_models(g, d, child.work) if fits else \
                {"trusted_models": False}
        checks.append(run_one(spec_, ctx))
        child.save()
