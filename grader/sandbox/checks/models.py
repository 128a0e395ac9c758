"""Checks of the generator and discriminator models (they call the student's models).

``generator_builds`` / ``discriminator_builds`` (which function, did it build),
``fashion_mnist_leftover`` (a model shaped for the lesson's other data set),
``noise_dim``, ``generator_output_shape``, ``generator_output_range``,
``generator_uses_noise``, ``discriminator_output_shape`` and
``discriminator_final_activation`` (logits or probabilities).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from grader.sandbox.checks.registry import CheckContext, register_check, result
from grader.sandbox.student.discover import Built
from grader.sandbox.student.explain import explain_error
from grader.sandbox.student.namespace import time_limit
from grader.text import Msg, msg, plain

BATCHES = (1, 7, 16)


def _np(x) -> np.ndarray:
    if isinstance(x, (list, tuple)):
        x = x[0]
    return np.asarray(x, dtype=np.float64)


def shape_text(shape: tuple[int, ...] | list[int]) -> str:
    """``32x32x3``."""
    return "x".join(str(int(d)) for d in shape)


def leftover_of(ctx: CheckContext, shape: tuple | None) -> str | None:
    """The name of the lesson data set whose image shape ``shape`` is (None: not a leftover)."""
    if shape is None:
        return None
    for x in ctx.facts.get("leftovers", []):
        if tuple(shape) == tuple(x["shape"]):
            return str(x["name"])
    return None


def noise_dim_of(b: Built, default: int) -> int:
    """Noise size from the generator's declared input (None, k); ``default`` when not declared."""
    shape = b.input_shape or (None, default)
    return int(shape[-1]) if len(shape) == 2 and shape[-1] else default


# --- builders --------------------------------------------------------------------------------

def later_failure(chosen: Built, candidates: list[Built]) -> Built | None:
    """The last version of the chosen function, defined after it, that raised when called.

    Such a version is the student's latest (often their improvement); the grader falls back
    to the earlier working one, and the student must be told why.
    """
    broken = [b for b in candidates if b.name == chosen.name and b.unit > chosen.unit
              and not b.ok and b.error_detail]
    return broken[-1] if broken else None


def _builds(role: str, chosen: Built | None, candidates: list[Built],
            ctx: CheckContext) -> dict[str, Any]:
    check_id = f"{role}_builds"
    role_words = msg(f"checks.role_{role}")
    std = ctx.facts["lesson"][role]
    details: dict[str, Any] = {"candidates": [b.summary() for b in candidates]}
    if chosen is None and not candidates:
        return result(check_id, "fail", msg("checks.builds_none_found", role=role_words, std=std),
                      **details)
    if chosen is None:
        last = candidates[-1]
        return result(check_id, "fail", msg("checks.builds_failed", label=last.label(),
                                            error=last.error),
                      **details, error_detail=last.error_detail)
    details.update(used=chosen.name, origin=chosen.origin, how=chosen.how)
    broken = later_failure(chosen, candidates)
    if broken is not None:
        return result(check_id, "warn",
                      msg("checks.builds_later_failed", broken=broken.label(), error=broken.error,
                          chosen=chosen.label()),
                      **details, error_detail=broken.error_detail,
                      later_failed={"name": broken.name, "origin": broken.origin,
                                    "error": broken.error})
    if chosen.how in ("shape guess", "model object"):
        return result(check_id, "warn",
                      msg("checks.builds_by_shape", role=role_words, label=chosen.label()),
                      **details)
    note = plain("") if chosen.how == "standard name" else msg("checks.builds_found_by_name",
                                                               std=std)
    return result(check_id, "pass", msg("checks.builds_ok", label=chosen.label(), note=note),
                  **details)


def generator_builds(ctx: CheckContext) -> dict[str, Any]:
    """``generator_builds``: which function made the generator, and whether it built."""
    return _builds("generator", ctx.generator, ctx.generator_candidates, ctx)


def discriminator_builds(ctx: CheckContext) -> dict[str, Any]:
    """``discriminator_builds``."""
    return _builds("discriminator", ctx.discriminator, ctx.discriminator_candidates, ctx)


def leftover(ctx: CheckContext) -> dict[str, Any]:
    """``fashion_mnist_leftover``: a generator output or discriminator input of a lesson shape."""
    g, d = ctx.generator, ctx.discriminator
    g_out = tuple(g.output_shape[1:]) if g and g.output_shape else None
    d_in = tuple(d.input_shape[1:]) if d and d.input_shape else None
    target = shape_text(ctx.image_shape)
    details = {"generator_output": g_out and list(g_out),
               "discriminator_input": d_in and list(d_in)}
    found = [(part, name, shape) for part, shape in (("generator_output", g_out),
                                                      ("discriminator_input", d_in))
             if (name := leftover_of(ctx, shape))]
    if not found:
        return result("fashion_mnist_leftover", "pass", msg("checks.leftover_none", target=target),
                      **details)
    parts = [msg(f"checks.part_{part}") for part, _, _ in found]
    joined = Msg(" and ".join(p.en for p in parts), ", ".join(p.ko for p in parts))
    colour = msg("checks.colour_kind") if ctx.image_shape[-1] == 3 else plain("")
    return result("fashion_mnist_leftover", "fail",
                  msg("checks.leftover_found", parts=joined,
                      verb="are" if len(found) > 1 else "is", shape=shape_text(found[0][2]),
                      leftover=found[0][1], dataset=ctx.facts.get("dataset_name", ""),
                      target=target, kind=colour), **details)


# --- generator -------------------------------------------------------------------------------

def noise_dim(ctx: CheckContext) -> dict[str, Any]:
    """``noise_dim``: the generator's declared noise size (any size works)."""
    g, standard = ctx.generator, int(ctx.facts["noise_dim"])
    k = noise_dim_of(g, standard)
    if g.input_shape is not None and len(g.input_shape) == 2 and g.input_shape[-1]:
        note = plain("") if k == standard else msg("checks.noise_dim_other", standard=standard)
        return result("noise_dim", "pass", msg("checks.noise_dim_ok", k=k, note=note), noise_dim=k)
    return result("noise_dim", "warn", msg("checks.noise_dim_guessed",
                                           shape=list(g.input_shape or []), k=k), noise_dim=k)


def generator_output_shape(ctx: CheckContext) -> dict[str, Any]:
    """``generator_output_shape``: images of the assignment's shape for several batch sizes."""
    import tensorflow as tf

    g = ctx.generator
    k = noise_dim_of(g, int(ctx.facts["noise_dim"]))
    want = list(ctx.image_shape)
    shapes, error, detail = {}, "", ""
    try:
        with time_limit(ctx.seconds):
            for b in BATCHES:
                y = g.model(tf.random.normal([b, k], seed=ctx.seed + b), training=False)
                shapes[b] = list(_np(y).shape)
    except BaseException as exc:
        err = explain_error(exc)
        error, detail = err.text, err.detail
    if error:
        return result("generator_output_shape", "fail", msg("checks.gen_shape_error", error=error),
                      shapes=shapes, error_detail=detail)
    if all(shapes.get(b) == [b, *want] for b in BATCHES):
        return result("generator_output_shape", "pass",
                      msg("checks.gen_shape_ok", shape=str(tuple(want)),
                          batches=msg("checks.batches")), shapes=shapes)
    got = shapes.get(16) or next(iter(shapes.values()), [])
    name = leftover_of(ctx, tuple(got[1:]))
    if name:
        text = msg("checks.gen_shape_leftover", got=shape_text(got[1:]), leftover=name,
                   target=shape_text(want), dataset=ctx.facts.get("dataset_name", ""))
    else:
        text = msg("checks.gen_shape_wrong", got=str(tuple(got[1:])), shape=str(tuple(want)))
    return result("generator_output_shape", "fail", text, shapes=shapes)


def last_activation(model) -> str:
    """Name of the activation applied last (``tanh``, ``sigmoid``, ``linear``, ``unknown``)."""
    layers = list(getattr(model, "layers", []))
    while layers:
        layer = layers.pop()
        if hasattr(layer, "layers") and layer.layers:  # nested model
            layers.extend(layer.layers)
            continue
        name = type(layer).__name__
        if name in ("Reshape", "Flatten", "Dropout", "Lambda"):
            if name == "Lambda":
                return "unknown"
            continue
        act = getattr(layer, "activation", None)
        if act is None:
            return name.lower() if name in ("Sigmoid", "Tanh") else "unknown"
        return str(getattr(act, "__name__", act))
    return "unknown"


def _probe_generator(ctx: CheckContext) -> dict[str, Any] | str:
    """Outputs for two noise batches (and one repeat, and one scaled); the error text on failure."""
    import tensorflow as tf

    g, k = ctx.generator, noise_dim_of(ctx.generator, int(ctx.facts["noise_dim"]))
    try:
        with time_limit(ctx.seconds):
            z1 = tf.random.normal([32, k], seed=ctx.seed)
            z2 = tf.random.normal([32, k], seed=ctx.seed + 1)
            out = {"y1": _np(g.model(z1, training=False)), "y1b": _np(g.model(z1, training=False)),
                   "y2": _np(g.model(z2, training=False)),
                   "big": _np(g.model(z1 * 4.0, training=False))}
    except BaseException as exc:
        err = explain_error(exc)
        return {"error": err.text, "detail": err.detail}
    return out


def generator_output_range(ctx: CheckContext) -> dict[str, Any]:
    """``generator_output_range``: outputs within [-1, 1] (tanh), also for large noise."""
    probe = _probe_generator(ctx)
    if "error" in probe:
        return result("generator_output_range", "fail",
                      msg("checks.gen_failed", error=probe["error"]), error_detail=probe["detail"])
    ctx.cache["generator_probe"] = probe
    act = last_activation(ctx.generator.model)
    lo = float(min(probe["y1"].min(), probe["big"].min()))
    hi = float(max(probe["y1"].max(), probe["big"].max()))
    details = {"min": lo, "max": hi, "last_activation": act}
    if not np.isfinite([lo, hi]).all():
        return result("generator_output_range", "fail", msg("checks.gen_range_nan"), **details)
    if lo < -1.0001 or hi > 1.0001:
        return result("generator_output_range", "fail",
                      msg("checks.gen_range_outside", lo=lo, hi=hi), **details)
    if lo >= 0.0:
        return result("generator_output_range", "warn", msg("checks.gen_range_positive", act=act),
                      **details)
    return result("generator_output_range", "pass", msg("checks.gen_range_ok", lo=lo, hi=hi),
                  **details)


def generator_uses_noise(ctx: CheckContext) -> dict[str, Any]:
    """``generator_uses_noise``: different noise gives different images."""
    probe = ctx.cache["generator_probe"]
    y1, y1b, y2 = probe["y1"], probe["y1b"], probe["y2"]
    diff = float(np.abs(y1 - y2).mean())
    spread = float(y1.std(axis=0).mean())
    nd = {"mean_abs_diff": diff, "batch_std": spread,
          "repeat_diff": float(np.abs(y1 - y1b).max())}
    if diff < 1e-6 or spread < 1e-6:
        return result("generator_uses_noise", "fail", msg("checks.noise_ignored"), **nd)
    return result("generator_uses_noise", "pass", msg("checks.noise_used"), **nd)


# --- discriminator ---------------------------------------------------------------------------

def discriminator_output_shape(ctx: CheckContext) -> dict[str, Any]:
    """``discriminator_output_shape``: one score per image for several batch sizes."""
    import tensorflow as tf

    d = ctx.discriminator
    want = tuple(ctx.image_shape)
    in_shape = tuple(d.input_shape[1:]) if d.input_shape else ()
    name = leftover_of(ctx, in_shape)
    if name:
        ctx.cache["discriminator_leftover"] = True
        return result("discriminator_output_shape", "fail",
                      msg("checks.disc_input_leftover", got=shape_text(in_shape), leftover=name,
                          shape=str(want)), input_shape=list(in_shape))
    shapes, error, detail = {}, "", ""
    try:
        with time_limit(ctx.seconds):
            for b in BATCHES:
                x = tf.random.uniform([b, *want], -1.0, 1.0, seed=ctx.seed + b)
                shapes[b] = list(_np(d.model(x, training=False)).shape)
    except BaseException as exc:
        err = explain_error(exc)
        error, detail = err.text, err.detail
    if error:
        return result("discriminator_output_shape", "fail",
                      msg("checks.disc_shape_error", target=shape_text(want), error=error),
                      shapes=shapes, error_detail=detail)
    if not all(shapes.get(b) in ([b, 1], [b]) for b in BATCHES):
        return result("discriminator_output_shape", "fail",
                      msg("checks.disc_shape_wrong", got=shapes.get(16, [])), shapes=shapes)
    return result("discriminator_output_shape", "pass",
                  msg("checks.disc_shape_ok", batches=msg("checks.batches")), shapes=shapes)


def output_kind(ctx: CheckContext) -> tuple[str, dict[str, Any]]:
    """``logits`` or ``probabilities``, from the last activation and the output range."""
    import tensorflow as tf

    d, g, want = ctx.discriminator, ctx.generator, list(ctx.image_shape)
    act = last_activation(d.model)
    values = []
    with time_limit(ctx.seconds):
        inputs = [tf.random.uniform([16, *want], -1.0, 1.0, seed=ctx.seed),
                  tf.random.normal([16, *want], seed=ctx.seed) * 5.0]
        if ctx.real is not None and len(ctx.real):
            inputs.append(tf.constant(ctx.real[:16], tf.float32) / 127.5 - 1.0)
        if g is not None and g.ok:
            k = noise_dim_of(g, int(ctx.facts["noise_dim"]))
            inputs.append(g.model(tf.random.normal([16, k], seed=ctx.seed), training=False))
        for x in inputs:
            values.append(_np(d.model(x, training=False)).ravel())
    v = np.concatenate(values)
    lo, hi = float(v.min()), float(v.max())
    outside = lo < 0.0 or hi > 1.0
    if act == "sigmoid" and not outside:
        kind = "probabilities"
    elif outside or act in ("linear", "None", "none"):
        kind = "logits"
    else:
        kind = "probabilities" if act in ("softmax", "hard_sigmoid") else "logits"
    return kind, {"last_activation": act, "min": lo, "max": hi, "kind": kind}


def discriminator_final_activation(ctx: CheckContext) -> dict[str, Any]:
    """``discriminator_final_activation``: logits (expected) or sigmoid probabilities."""
    try:
        kind, det = output_kind(ctx)
    except BaseException as exc:
        err = explain_error(exc)
        return result("discriminator_final_activation", "fail",
                      msg("checks.disc_failed", error=err.text), error_detail=err.detail)
    ctx.cache["discriminator_kind"] = kind
    if kind == "logits":
        return result("discriminator_final_activation", "pass",
                      msg("checks.disc_logits", act=det["last_activation"], lo=det["min"],
                          hi=det["max"]), **det)
    return result("discriminator_final_activation", "warn", msg("checks.disc_sigmoid"), **det)


def discriminator_kind(ctx: CheckContext) -> str:
    """``logits`` or ``probabilities`` as the final-activation check found (logits by default)."""
    return ctx.cache.get("discriminator_kind", "logits")


register_check("generator_builds", generator_builds)
register_check("discriminator_builds", discriminator_builds)
register_check("fashion_mnist_leftover", leftover, needs=("a_model",))
register_check("noise_dim", noise_dim, needs=("generator",))
register_check("generator_output_shape", generator_output_shape, needs=("generator",))
register_check("generator_output_range", generator_output_range,
               needs=("generator", "generator_shape"))
register_check("generator_uses_noise", generator_uses_noise,
               needs=("generator", "generator_shape", "generator_probe"))
register_check("discriminator_output_shape", discriminator_output_shape,
               needs=("discriminator",))
register_check("discriminator_final_activation", discriminator_final_activation,
               needs=("discriminator", "discriminator_input", "discriminator_shape"))
