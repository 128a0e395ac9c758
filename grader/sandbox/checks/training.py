"""``parameter_counts`` and ``trainable_step`` (one optimisation step), and saving models."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from grader.sandbox.checks.models import noise_dim_of
from grader.sandbox.checks.registry import CheckContext, register_check, result
from grader.sandbox.student.discover import Built
from grader.sandbox.student.explain import explain_error
from grader.sandbox.student.namespace import describe_error, time_limit
from grader.text import Msg, msg

SUMMARY_LAYERS = 40


def fresh_optimizer(ns: dict[str, Any], name: str):
    """A new optimizer like the student's ``name`` (same class and settings), else Adam(1e-4).

    A copy, because a Keras optimizer is bound to the variables it first updated.
    """
    import tensorflow as tf

    opt = ns.get(name)
    if opt is not None and hasattr(opt, "get_config"):
        try:
            return type(opt).from_config(opt.get_config()), f"student's {type(opt).__name__}"
        except Exception:  # student objects: fall back to the default
            pass
    return tf.keras.optimizers.Adam(1e-4), "Adam(1e-4) (no optimizer found)"


def one_step(g, d, g_loss, d_loss, g_opt, d_opt, real_u8: np.ndarray, nz: int, seed: int):
    """One generator and one discriminator update; returns (g_loss, d_loss) as floats."""
    import tensorflow as tf

    real = tf.constant(real_u8, tf.float32) / 127.5 - 1.0
    z = tf.random.stateless_normal([len(real_u8), nz], seed=[seed, 1])
    with tf.GradientTape() as gt, tf.GradientTape() as dt:
        fake = g(z, training=True)
        rl, fl = d(real, training=True), d(fake, training=True)
        gl, dl = g_loss(fl), d_loss(rl, fl)
        gl = gl[0] if isinstance(gl, (list, tuple)) else gl
        dl = dl[0] if isinstance(dl, (list, tuple)) else dl
    g_grads = gt.gradient(gl, g.trainable_variables)
    d_grads = dt.gradient(dl, d.trainable_variables)
    g_opt.apply_gradients([(a, v) for a, v in zip(g_grads, g.trainable_variables, strict=False) if a is not None])
    d_opt.apply_gradients([(a, v) for a, v in zip(d_grads, d.trainable_variables, strict=False) if a is not None])
    return float(np.mean(gl)), float(np.mean(dl)), \
        sum(a is None for a in g_grads), sum(a is None for a in d_grads)


def trainable_step(ctx: CheckContext) -> dict[str, Any]:
    """``trainable_step``: one step on real images gives finite losses and changes weights."""
    g, d, ns, lesson = ctx.generator, ctx.discriminator, ctx.ns, ctx.facts["lesson"]
    g_loss, d_loss = ns.get(lesson["generator_loss"]), ns.get(lesson["discriminator_loss"])
    if not (callable(g_loss) and callable(d_loss)):
        return result("trainable_step", "skip", msg("checks.skip_no_losses"))
    g_opt, g_how = fresh_optimizer(ns, "generator_optimizer")
    d_opt, d_how = fresh_optimizer(ns, "discriminator_optimizer")
    real = ctx.real
    details: dict[str, Any] = {"generator_optimizer": g_how, "discriminator_optimizer": d_how,
                               "batch": int(len(real))}
    try:
        with time_limit(ctx.seconds):
            before_g = [v.numpy().copy() for v in g.model.trainable_variables]
            before_d = [v.numpy().copy() for v in d.model.trainable_variables]
            gl, dl, g_none, d_none = one_step(g.model, d.model, g_loss, d_loss, g_opt, d_opt,
                                              real, noise_dim_of(g, int(ctx.facts["noise_dim"])),
                                              ctx.seed)
            moved_g = _moved(before_g, g.model.trainable_variables)
            moved_d = _moved(before_d, d.model.trainable_variables)
    except BaseException as exc:
        err = explain_error(exc)
        return result("trainable_step", "fail", msg("checks.step_failed", error=err.text),
                      **details, error_detail=err.detail)
    details.update(gen_loss=gl, disc_loss=dl, generator_weights_changed=moved_g,
                   discriminator_weights_changed=moved_d, generator_missing_gradients=g_none,
                   discriminator_missing_gradients=d_none)
    if not np.isfinite([gl, dl]).all():
        return result("trainable_step", "fail", msg("checks.step_not_finite", gl=gl, dl=dl),
                      **details)
    if not (moved_g and moved_d):
        who = msg("checks.role_generator" if not moved_g else "checks.role_discriminator")
        return result("trainable_step", "fail", msg("checks.step_no_gradient", who=who),
                      **details)
    return result("trainable_step", "pass", msg("checks.step_ok", gl=gl, dl=dl), **details)


def _moved(before: list[np.ndarray], variables) -> bool:
    return any(not np.array_equal(b, v.numpy()) for b, v in zip(before, variables, strict=False))


def layer_summary(model) -> list[dict[str, Any]]:
    """Class, output shape and parameter count of each layer (nested models flattened)."""
    rows = []
    for layer in getattr(model, "layers", [])[:SUMMARY_LAYERS]:
        try:
            shape = layer.output.shape
            shape = [None if s is None else int(s) for s in shape]
        except (AttributeError, ValueError):
            shape = None
        rows.append({"layer": type(layer).__name__, "output_shape": shape,
                     "params": int(layer.count_params()) if layer.built else 0})
    return rows


def parameter_counts(ctx: CheckContext) -> dict[str, Any]:
    """``parameter_counts`` with a short layer summary for the report."""
    details: dict[str, Any] = {}
    for role, b in (("generator", ctx.generator), ("discriminator", ctx.discriminator)):
        if b is not None and b.ok:
            try:
                details[role] = {"params": int(b.model.count_params()),
                                 "layers": layer_summary(b.model)}
            except Exception as exc:  # student models
                details[role] = {"error": "{}: {}".format(*describe_error(exc))}
    counted = [(r, v["params"]) for r, v in details.items() if "params" in v]
    parts = Msg(", ".join(f"{r} {n:,}" for r, n in counted),
                ", ".join(f"{msg('checks.role_' + r).ko} {n:,}" for r, n in counted))
    return result("parameter_counts", "pass", msg("checks.params", parts=parts), **details)


def builtin_only(model) -> bool:
    """True when every layer (recursively) is a built-in Keras class (loadable in safe mode)."""
    todo = [model]
    while todo:
        layer = todo.pop()
        klass = type(layer)
        if not klass.__module__.startswith("keras.") or klass.__name__ == "Lambda":
            return False
        todo.extend(getattr(layer, "layers", None) or [])
    return True


def save_models(g: Built | None, d: Built | None, work_dir, prefix: str = "") -> dict[str, Any]:
    """Save built-in-only models as ``.keras`` in the work folder; report what was saved."""
    out: dict[str, Any] = {"trusted_models": True}
    for role, b in (("generator", g), ("discriminator", d)):
        if b is None or not b.ok:
            out["trusted_models"] = False
            continue
        if not builtin_only(b.model):
            out["trusted_models"] = False
            out[f"{role}_note"] = "uses custom or Lambda layers: not saved"
            continue
        name = f"{prefix}{role}.keras"
        try:
            b.model.save(Path(work_dir) / name)
            out[f"{role}_file"] = name
        except Exception as exc:  # student models
            out["trusted_models"] = False
            out[f"{role}_note"] = "{}: {}".format(*describe_error(exc))
    return out


register_check("parameter_counts", parameter_counts, needs=("a_model",))
register_check("trainable_step", trainable_step, needs=("models_fit",))
