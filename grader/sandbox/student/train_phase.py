"""Phases ``train`` and ``sample_checkpoint`` (inside the child).

``train`` trains each variant (``baseline``: the first working generator/discriminator pair;
``final``: the last) with :func:`grader.training.trainer.train_gan` and the student's losses, and
writes ``<variant>_samples.npz`` (``images``), ``<variant>_frames.npz`` (``frames``) and the
history as a :class:`grader.evidence.VariantRun` dict. ``sample_checkpoint`` restores the
student's checkpoint into freshly built final models and samples images.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from grader.evidence import History, VariantRun
from grader.files import write_json_atomic
from grader.sandbox.checks.training import fresh_optimizer
from grader.sandbox.student.check_phase import select
from grader.sandbox.student.discover import Built, build, discover
from grader.sandbox.student.explain import explain_error
from grader.sandbox.student.namespace import StudentCode, compile_unit, time_limit
from grader.tf_setup import configure_tensorflow

if TYPE_CHECKING:
    from grader.sandbox.student.process import Child

HELPERS = ("generator_loss", "discriminator_loss", "discriminator_accuracy",
           "generator_optimizer", "discriminator_optimizer")


def snapshot(code: StudentCode, name: str, boundary: int) -> Any:
    """The version of ``name`` in force before unit ``boundary`` (else its first version)."""
    versions = code.versions.get(name) or []
    before = [v for v in versions if v.unit < boundary]
    if before:
        return before[-1].obj
    if versions:
        return versions[0].obj
    return code.ns.get(name)


def variant_pairs(code: StudentCode, seconds: float,
                  facts: dict[str, Any]) -> list[tuple[str, Built, Built, int]]:
    """``(name, generator, discriminator, boundary)`` for baseline and final (once if equal)."""
    gens = discover(code, "generator", seconds, facts)
    discs = discover(code, "discriminator", seconds, facts)
    (g0, g1), (d0, d1) = select(gens), select(discs)
    if g1 is None or d1 is None:
        return []
    units = sorted({b.unit for b in gens + discs})
    if (g0.unit, d0.unit) != (g1.unit, d1.unit):
        later = [u for u in units if u > max(g0.unit, d0.unit)]
        return [("baseline", g0, d0, later[0] if later else 1 << 30), ("final", g1, d1, 1 << 30)]
    # Same models throughout: an improvement may still redefine a loss or an optimizer
    # (label smoothing, another learning rate). The baseline then uses the first versions.
    redefined = [vs[1].unit for h in HELPERS if len(vs := code.versions.get(h) or []) > 1]
    if redefined:
        return [("baseline", g1, d1, min(redefined)), ("final", g1, d1, 1 << 30)]
    return [("final", g1, d1, 1 << 30)]


def _fresh(b: Built, child: Child) -> Built:
    """Build the same version again, so that each variant starts from new weights."""
    if b.version is None:
        return b
    return build(b.role, b.version, b.how, child.code.ns, child.call_s, child.facts)


def run_train(child: Child, spec: dict[str, Any]) -> None:
    """Train every variant for the plan's budget; results go to ``child.result['variants']``."""
    from grader.training.trainer import TrainConfig

    configure_tensorflow(seed=child.seed, threads=int(child.plan.get("threads", 2)))
    images = child.real_images()
    cfg = TrainConfig(steps=int(spec.get("steps", 200)), batch_size=int(spec.get("batch_size", 64)),
                      seed=child.seed, sample_every=int(spec.get("sample_every", 20)),
                      n_fixed=int(spec.get("n_fixed", 16)))
    n_samples = int(spec.get("n_samples", 256))
    pairs = variant_pairs(child.code, child.call_s, child.facts)
    only = spec.get("only")
    if isinstance(only, list):  # the variants the trusted process could not take
        pairs = [p for p in pairs if p[0] in only]
    if not pairs:
        child.result["phase_errors"]["train"] = NO_WORKING_PAIR
        return
    for name, g, d, boundary in pairs:
        run = VariantRun(name=name, generator_fn=g.label(), discriminator_fn=d.label(),
                         history=History())
        stage = ["preparing the training"]
        try:
            _train_variant(child, run, g, d, boundary, images, cfg, n_samples, stage)
        except _VariantFailed as failed:
            run.error, run.error_detail = failed.text, failed.detail
        except BaseException as exc:  # student code inside the loop
            err = explain_error(exc)
            run.error, run.error_detail = f"{stage[0]} failed: {err.text}", err.detail
        child.result["variants"].append(asdict(run))
        child.save()


NO_WORKING_PAIR = "your code builds no working generator and discriminator pair (see the checks)"
"""The phase error when no generator and discriminator were built."""


class _VariantFailed(Exception):
    """A variant could not be trained for a reason already put in words."""

    def __init__(self, text: str, detail: str) -> None:
        super().__init__(text)
        self.text, self.detail = text, detail


def _train_variant(child: Child, run: VariantRun, g: Built, d: Built, boundary: int,
                   images: np.ndarray, cfg, n_samples: int, stage: list[str]) -> None:
    """Train one variant and write its samples; ``stage[0]`` says what runs (for errors)."""
    from grader.training.trainer import train_gan

    name = run.name
    helpers = {h: snapshot(child.code, h, boundary) for h in HELPERS}
    ns = {**child.code.ns, **{k: v for k, v in helpers.items() if v is not None}}
    res, note, note_detail = None, "", ""
    step_unit = _train_step_unit(child, boundary)
    if step_unit is not None:
        stage[0] = "your train_step(images)"
        res, note, note_detail = _try_student_step(child, step_unit, g, d, ns, images, cfg,
                                                   name, helpers)
    if res is None:
        stage[0] = "rebuilding your models"
        g2, d2 = _fresh(g, child), _fresh(d, child)
        if not (g2.ok and d2.ok):
            bad = g2 if not g2.ok else d2
            raise _VariantFailed(f"rebuilding {bad.label()} failed: {bad.error}",
                                 bad.error_detail)
        missing = [k for k in ("generator_loss", "discriminator_loss") if helpers.get(k) is None]
        if missing:
            raise _VariantFailed(f"no {' or '.join(missing)} function was found, so a training "
                                 "step cannot be run; define the losses as in the lesson", "")
        stage[0] = "a training step with your losses and optimizers"
        res = train_gan(g2.model, d2.model, images,
                        generator_loss=helpers["generator_loss"],
                        discriminator_loss=helpers["discriminator_loss"],
                        generator_optimizer=_optimizer(ns, helpers, "generator_optimizer"),
                        discriminator_optimizer=_optimizer(ns, helpers,
                                                           "discriminator_optimizer"),
                        config=cfg, student_accuracy=helpers["discriminator_accuracy"],
                        progress=_step_reporter(child, name))
    run.history = _history(res, cfg)
    run.history.loop_note, run.history.loop_note_detail = note, note_detail
    stage[0] = "sampling images from the trained generator"
    run.samples_file = f"{name}_samples.npz"
    np.savez_compressed(child.work / run.samples_file,
                        images=res.sample(n_samples, child.seed + 1))
    run.frames_file = f"{name}_frames.npz"
    np.savez_compressed(child.work / run.frames_file, frames=res.frames)
    run.frame_steps = [int(s) for s in res.frame_steps]


def _optimizer(ns: dict[str, Any], helpers: dict[str, Any], name: str):

    return fresh_optimizer(ns, name)[0] if helpers[name] is not None else None


def _train_step_unit(child: Child, boundary: int) -> dict[str, Any] | None:
    """The code unit of the student's ``train_step`` in force for a variant, if any."""
    versions = [v for v in child.code.versions.get("train_step", []) if v.unit < boundary]
    versions = versions or child.code.versions.get("train_step", [])[:1]
    units = child.plan.get("units", [])
    if not versions or versions[-1].unit >= len(units):
        return None
    return units[versions[-1].unit]


def _try_student_step(child: Child, unit: dict[str, Any], g: Built, d: Built,
                      ns: dict[str, Any], images: np.ndarray, cfg, name: str,
                      helpers: dict[str, Any]) -> tuple[Any, str, str]:
    """Train with the student's own ``train_step(images)`` (lesson signature), if it works.

    The step is re-created from its source in a private namespace whose ``generator``,
    ``discriminator``, optimizers and ``BATCH_SIZE`` are this variant's fresh objects, so a
    ``@tf.function`` traced earlier cannot update other models. Returns (None, why) when the
    step does not run with the lesson's signature; the caller then uses the reference loop.
    The third value is the full traceback when the step failed (for instructors).
    """
    from grader.training.trainer import train_gan

    g2, d2 = _fresh(g, child), _fresh(d, child)
    if not (g2.ok and d2.ok):
        return None, "the reference loop was used: the models could not be rebuilt", ""
    private = dict(ns)
    private.update(generator=g2.model, discriminator=d2.model, BATCH_SIZE=cfg.batch_size,
                   generator_optimizer=fresh_optimizer(ns, "generator_optimizer")[0],
                   discriminator_optimizer=fresh_optimizer(ns, "discriminator_optimizer")[0])
    try:
        with time_limit(child.call_s):
            exec(compile_unit(unit, str(unit.get("origin") or "train_step")), private)
        step = private.get("train_step")
        if not callable(step):
            return None, "the reference loop was used: train_step is not a function", ""
        res = train_gan(g2.model, d2.model, images, generator_loss=helpers["generator_loss"],
                        discriminator_loss=helpers["discriminator_loss"], config=cfg,
                        student_accuracy=helpers["discriminator_accuracy"], train_step=step,
                        progress=_step_reporter(child, name))
    except BaseException as exc:  # student code: any failure means "use the reference loop"
        if type(exc).__name__ == "StudentTimeout":
            raise
        err = explain_error(exc)
        return None, (f"the reference loop was used: your train_step(images) failed "
                      f"with {err.text}"), err.detail
    if not np.isfinite(res.history["gen_loss"]).all():
        return None, "the reference loop was used: your train_step gave non-finite losses", ""
    return res, "your own train_step was used", ""


def _step_reporter(child: Child, variant: str):
    """A ``train_gan`` progress callback that tells the parent the current step."""

    def report(step: int, _values: dict) -> None:
        if step % 5 == 0:
            write_json_atomic(child.work / "progress.json",
                              {"phase": "train", "variant": variant, "step": step}, indent=None)

    return report


def _history(res, cfg) -> History:
    h = res.history
    return History(gen_loss=h["gen_loss"], disc_loss=h["disc_loss"],
                   real_accuracy=h["real_accuracy"], fake_accuracy=h["fake_accuracy"],
                   student_real_accuracy=h.get("student_real_accuracy"),
                   student_fake_accuracy=h.get("student_fake_accuracy"),
                   batch_size=cfg.batch_size, steps=len(h["gen_loss"]), wall_s=float(res.wall_s),
                   images_per_s=float(res.images_per_s), loop=res.loop)


def run_sample_checkpoint(child: Child, spec: dict[str, Any]) -> None:
    """Restore the student's checkpoint (prefix, ``.keras``, ``.h5`` or ``.weights.h5``)."""
    import tensorflow as tf

    from grader.training.trainer import sample_images

    path = str(spec["path"])
    n = int(spec.get("n", 256))
    info: dict[str, Any] = {"path": path}
    child.result["checkpoint"] = info
    pairs = variant_pairs(child.code, child.call_s, child.facts)
    if path.endswith((".keras", ".h5")) and not path.endswith(".weights.h5"):
        g = tf.keras.models.load_model(path, compile=False)
        info["how"] = "load_model"
    else:
        if not pairs:
            raise RuntimeError("no working generator to restore the checkpoint into")
        _, g_b, d_b, _ = pairs[-1]
        g_b, d_b = _fresh(g_b, child), _fresh(d_b, child)
        g, d = g_b.model, d_b.model
        before = [v.numpy().copy() for v in g.weights]
        if path.endswith(".weights.h5"):
            g.load_weights(path)
            info["how"] = "load_weights"
        else:
            prefix = tf.train.latest_checkpoint(path) if Path(path).is_dir() else path
            tf.train.Checkpoint(generator=g, discriminator=d).restore(prefix).expect_partial()
            info["how"] = "tf.train.Checkpoint"
            info["prefix"] = prefix
        changed = any(not np.array_equal(b, v.numpy()) for b, v in zip(before, g.weights,
                                                                        strict=False))
        if not changed:
            raise RuntimeError("the checkpoint holds no weights for this generator "
                               "(names or shapes do not match)")
    images = sample_images(g, n, child.seed + 2, channels=child.facts["image_shape"][-1])
    np.savez_compressed(child.work / "checkpoint_samples.npz", images=images)
    child.result["checkpoint_samples_file"] = "checkpoint_samples.npz"
