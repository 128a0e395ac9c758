"""Phase ``export``: describe each variant as data for the trusted process (student side).

For baseline and final, the models are built afresh and saved in Keras format (architecture
and initial weights; the trusted side re-initialises them), the losses are fitted to the
binary cross-entropy family and written as coefficients, and the optimizers as Keras configs.
Nothing that crosses is code: a model with custom or ``Lambda`` layers, a loss outside the
family or an optimizer of a custom class cannot cross, and the variant is marked so (the
parent then trains it in a second student process, and its results are unverified).
The student's own ``train_step`` is run for a few steps on synthetic images, to show that it
works; no real training data ever reaches this process.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from grader.sandbox.checks import CheckContext
from grader.sandbox.checks.losses import fit_loss
from grader.sandbox.checks.models import noise_dim_of, output_kind
from grader.sandbox.checks.training import builtin_only, fresh_optimizer
from grader.sandbox.student.explain import explain_error
from grader.sandbox.student.namespace import compile_unit, time_limit
from grader.sandbox.student.train_phase import (
    HELPERS,
    NO_WORKING_PAIR,
    _fresh,
    _train_step_unit,
    snapshot,
    variant_pairs,
)
from grader.tf_setup import configure_tensorflow
from grader.training.losses import LossSpec, spec_from_fit

if TYPE_CHECKING:
    from grader.sandbox.student.process import Child

#: steps of the student's own train_step on synthetic images
STEP_SMOKE_STEPS = 2


def synthetic_images(n: int, shape: tuple[int, ...], seed: int) -> np.ndarray:
    """Smooth random uint8 images (blurred noise): image-like input that is not data."""
    rng = np.random.default_rng(seed)
    h, w, c = shape
    coarse = rng.uniform(0, 255, (n, max(1, h // 4), max(1, w // 4), c))
    big = np.repeat(np.repeat(coarse, 4, axis=1), 4, axis=2)[:, :h, :w, :]
    return np.clip(big + rng.normal(0, 12, big.shape), 0, 255).astype(np.uint8)


def _loss_spec(fn: Any, n_args: int, seed: int, seconds: float) -> tuple[dict | None, str]:
    """The loss as data (a LossSpec dict), or None and why it cannot cross."""
    if not callable(fn):
        return None, "the loss function is missing"
    try:
        with time_limit(seconds):
            for space in ("logits", "probs"):
                fit = fit_loss(fn, n_args, space, seed)
                if fit.get("fits"):
                    return spec_from_fit(fit, space).to_dict(), ""
    except BaseException as exc:  # student code
        return None, f"the loss failed: {explain_error(exc).text}"
    return None, "the loss is not binary cross-entropy, so it cannot be rebuilt as data"


def compiled_with_bce(model: Any) -> bool:
    """True when a model was compiled with binary cross-entropy, or not compiled at all (the
    course notes' ``train_on_batch`` style compiles the discriminator with it)."""
    loss = getattr(model, "loss", None)
    if loss is None:
        return True
    name = loss if isinstance(loss, str) else getattr(loss, "name", type(loss).__name__)
    return str(name).lower().replace("_", "") in ("binarycrossentropy", "bce")


def standard_loss(role: str, output_kind: str) -> dict[str, Any]:
    """The standard GAN cross-entropy (the lesson's losses) as a LossSpec dict."""
    space = "probs" if output_kind == "probabilities" else "logits"
    coef = [1.0, 0.0] if role == "generator" else [1.0, 0.0, 0.0, 1.0]
    return LossSpec(space, tuple(coef)).to_dict()


def _optimizer_config(ns: dict[str, Any], name: str) -> tuple[dict | None, str]:
    """A built-in Keras optimizer's serialized config (a copy of the student's, or Adam)."""
    import keras

    opt, how = fresh_optimizer(ns, name)
    if not type(opt).__module__.startswith(("keras", "tf_keras", "tensorflow")):
        return None, f"the {name} is of a custom class ({type(opt).__name__})"
    try:
        return keras.optimizers.serialize(opt), how
    except Exception as exc:  # a student's object that does not serialise
        return None, f"the {name} could not be described: {type(exc).__name__}"


def _step_smoke(child: Child, boundary: int, g, d, ns: dict[str, Any]) -> dict[str, Any]:
    """Run the student's ``train_step(images)`` a few times on synthetic images."""
    import tensorflow as tf

    unit = _train_step_unit(child, boundary)
    if unit is None:
        return {"present": False}
    private = dict(ns)
    private.update(generator=g.model, discriminator=d.model,
                   BATCH_SIZE=16, generator_optimizer=fresh_optimizer(ns, "generator_optimizer")[0],
                   discriminator_optimizer=fresh_optimizer(ns, "discriminator_optimizer")[0])
    images = synthetic_images(16, tuple(child.facts["image_shape"]), child.seed)
    try:
        with time_limit(child.call_s):
            exec(compile_unit(unit, str(unit.get("origin") or "train_step")), private)  # noqa: S102
            step = private.get("train_step")
            if not callable(step):
                return {"present": True, "ok": False, "error": "train_step is not a function"}
            for _ in range(STEP_SMOKE_STEPS):
                out = step(tf.constant(images, tf.float32) / 127.5 - 1.0)
    except BaseException as exc:  # student code
        err = explain_error(exc)
        return {"present": True, "ok": False, "error": err.text, "error_detail": err.detail}
    values = out if isinstance(out, (list, tuple)) else [out]
    finite = all(np.isfinite(np.asarray(v, dtype=np.float64)).all() for v in values[:2])
    return {"present": True, "ok": bool(finite),
            "error": "" if finite else "train_step returned non-finite losses"}


def _export_variant(child: Child, name: str, g, d, boundary: int) -> dict[str, Any]:
    helpers = {h: snapshot(child.code, h, boundary) for h in HELPERS}
    ns = {**child.code.ns, **{k: v for k, v in helpers.items() if v is not None}}
    entry: dict[str, Any] = {"name": name, "generator_fn": g.label(),
                             "discriminator_fn": d.label(), "exportable": False, "why_not": ""}
    g2, d2 = _fresh(g, child), _fresh(d, child)
    if not (g2.ok and d2.ok):
        bad = g2 if not g2.ok else d2
        entry["error"] = f"rebuilding {bad.label()} failed: {bad.error}"
        entry["error_detail"] = bad.error_detail
        return entry
    entry["noise_dim"] = noise_dim_of(g2, int(child.facts["noise_dim"]))
    ctx = CheckContext(ns=ns, facts=child.facts, seconds=child.call_s, seed=child.seed,
                       real=synthetic_images(16, tuple(child.facts["image_shape"]), child.seed),
                       generator=g2, discriminator=d2)
    try:
        entry["output_kind"] = output_kind(ctx)[0]
    except BaseException as exc:  # student models
        entry["output_kind"] = "logits"
        entry["output_kind_error"] = explain_error(exc).text
    reasons = []
    for role, b in (("generator", g2), ("discriminator", d2)):
        if not builtin_only(b.model):
            reasons.append(f"the {role} uses custom or Lambda layers")
            continue
        file = f"{name}_{role}.keras"
        try:
            with time_limit(child.call_s):
                b.model.save(child.work / file)
            entry[f"{role}_file"] = file
        except BaseException as exc:  # student models
            reasons.append(f"the {role} could not be saved: {explain_error(exc).text}")
    lesson = child.facts["lesson"]
    losses, standard = {}, []
    for role, key, n_args in (("generator", lesson["generator_loss"], 1),
                              ("discriminator", lesson["discriminator_loss"], 2)):
        spec, why = _loss_spec(ns.get(key), n_args, child.seed, child.call_s)
        if spec is None and not callable(ns.get(key)) and compiled_with_bce(d.model):
            spec = standard_loss(role, entry["output_kind"])  # the Keras compile style
            standard.append(key)
        losses[role] = spec
        if spec is None:
            reasons.append(f"{key}: {why}")
    entry["losses"] = losses
    entry["standard_losses"] = standard
    optimizers = {}
    for role in ("generator", "discriminator"):
        config, how = _optimizer_config(ns, f"{role}_optimizer")
        optimizers[role] = config
        if config is None:
            reasons.append(how)
    entry["optimizers"] = optimizers
    if name == "final":  # the loop that made the student's results (tracing it costs seconds)
        entry["train_step"] = _step_smoke(child, boundary, g2, d2, ns)
    entry["exportable"] = not reasons
    entry["why_not"] = "; ".join(reasons)
    return entry


def run_export(child: Child, spec: dict[str, Any]) -> None:
    """Export every variant; the description goes to ``child.result['export']``."""
    configure_tensorflow(seed=child.seed, threads=int(child.plan.get("threads", 2)))
    pairs = variant_pairs(child.code, child.call_s, child.facts)
    export: dict[str, Any] = {"variants": []}
    child.result["export"] = export
    if not pairs:
        child.result["phase_errors"]["export"] = NO_WORKING_PAIR
        return
    for name, g, d, boundary in pairs:
        try:
            entry = _export_variant(child, name, g, d, boundary)
        except BaseException as exc:  # student code reached from the grader's side
            err = explain_error(exc)
            entry = {"name": name, "exportable": False, "error": err.text,
                     "error_detail": err.detail}
        export["variants"].append(entry)
        child.save()
