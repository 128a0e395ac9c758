"""The trusted process: ``python -m grader.sandbox.trusted PLAN.json`` (imports no student code).

It reads what the student's process exported (model files, loss coefficients, optimizer
configs), loads the models safely and re-initialises them (:mod:`.models`), checks them
(the model checks of the registry, run here on the exported models: the verified results),
restores the student's checkpoint into the generator architecture (:mod:`.restore`),
trains each variant with the grader's trainer and the student's losses as data, and samples
the trained generators. Everything the grade rests on comes from here; the parent still
checks every number against what it asked for (:func:`grader.sandbox.plan.verify_trusted`).
It runs sandboxed too: the model files are hostile data.
"""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from grader.evidence import History, VariantRun
from grader.files import savez_atomic, write_json_atomic
from grader.sandbox.checks import CHECKS, CheckContext, run_one
from grader.sandbox.student.discover import Built
from grader.sandbox.trusted.judging import judge_runs_here, judge_shown_here
from grader.sandbox.trusted.models import (
    ModelRefused,
    load_discriminator,
    load_generator,
)
from grader.sandbox.trusted.restore import restore_checkpoint
from grader.tf_setup import configure_tensorflow, import_tensorflow_quietly, limit_threads
from grader.training.losses import (
    LossSpec,
    LossSpecError,
    discriminator_loss_from,
    generator_loss_from,
)

RESULT_VERSION = 1
#: the registry checks that need only the models: they run here, on the exported files
MODEL_CHECKS = ("noise_dim", "generator_output_shape", "generator_output_range",
                "generator_uses_noise", "discriminator_output_shape",
                "discriminator_final_activation", "parameter_counts")


def weight_change(before: list[np.ndarray], model: Any) -> float:
    """Relative L2 change of a model's trainable weights since ``before``."""
    after = [np.array(w) for w in model.trainable_weights]
    num = sum(float(np.sum((a - b) ** 2)) for a, b in zip(after, before, strict=False))
    den = sum(float(np.sum(b ** 2)) for b in before)
    return float(np.sqrt(num / den)) if den > 0 else float(np.sqrt(num))


class TrustedRun:
    """State of one trusted run: the plan and the result so far."""

    def __init__(self, plan: dict[str, Any], work: Path) -> None:
        self.plan = plan
        self.work = work
        self.facts: dict[str, Any] = dict(plan["assignment"])
        self.shape = tuple(int(d) for d in self.facts["image_shape"])
        self.seed = int(plan.get("seed", 0))
        self.result: dict[str, Any] = {"version": RESULT_VERSION, "checks": [], "variants": [],
                                       "phase_errors": {}, "phase_error_details": {},
                                       "timings": {}}

    def save(self) -> None:
        """Write the result so far."""
        write_json_atomic(self.work / "result.json", self.result, indent=None)

    def progress(self, phase: str, **extra: Any) -> None:
        """Tell the parent which phase runs now (it applies that phase's time limit)."""
        write_json_atomic(self.work / "progress.json",
                          {"phase": phase, "time": time.time(), **extra}, indent=None)

    def variant_spec(self, name: str) -> dict[str, Any] | None:
        """The plan's description of variant ``name``."""
        return next((v for v in self.plan.get("variants", []) if v.get("name") == name), None)

    def models(self, spec: dict[str, Any]) -> tuple[Built, Built]:
        """The variant's generator and discriminator, loaded, re-initialised and checked."""
        g = load_generator(self.work / spec["generator"], self.shape, int(spec["noise_dim"]))
        d = load_discriminator(self.work / spec["discriminator"], self.shape)
        return (Built("generator", spec.get("generator_fn", ""), -1, "exported", "exported",
                      model=g.model, input_shape=g.input_shape, output_shape=g.output_shape),
                Built("discriminator", spec.get("discriminator_fn", ""), -1, "exported",
                      "exported", model=d.model, input_shape=d.input_shape,
                      output_shape=d.output_shape))

    def run(self) -> int:
        """Run every phase of the plan; a phase's failure is recorded, not raised."""
        configure_tensorflow(seed=self.seed, threads=int(self.plan.get("threads", 2)))
        for phase in self.plan.get("phases", []):
            name = str(phase.get("name", ""))
            self.progress(name)
            t0 = time.perf_counter()
            try:
                {"verify": self.verify, "train": self.train, "judge": self.judge,
                 "sample_checkpoint": self.sample_checkpoint}[name](phase)
            except Exception as exc:  # a hostile model file must not crash the run
                self.result["phase_errors"][name] = f"{type(exc).__name__}: {str(exc)[:500]}"
            self.result["timings"][name] = round(time.perf_counter() - t0, 3)
            self.save()
        self.progress("done")
        return 0

    def verify(self, phase: dict[str, Any]) -> None:
        """The model checks, on the final variant's exported models."""
        spec = self.variant_spec("final") or (self.plan.get("variants") or [None])[-1]
        if spec is None:
            return
        try:
            g, d = self.models(spec)
        except ModelRefused as exc:
            self.result["model_refused"] = str(exc)
            return
        ctx = CheckContext(ns={}, facts=self.facts, seconds=float(phase.get("call_s", 60)),
                           seed=self.seed, generator=g, discriminator=d)
        for check_id in MODEL_CHECKS:
            out = run_one(CHECKS[check_id], ctx)
            out.setdefault("details", {})["verified"] = True
            self.result["checks"].append(out)

    def train(self, phase: dict[str, Any]) -> None:
        """Train every planned variant; histories, samples and frames go to the result."""
        from grader.training.trainer import TrainConfig

        images = np.load(self.work / self.plan["real_images"], allow_pickle=False)
        budget = phase["budget"]
        for spec in self.plan.get("variants", []):
            run = VariantRun(name=str(spec["name"]), generator_fn=str(spec.get("generator_fn")),
                             discriminator_fn=str(spec.get("discriminator_fn")),
                             history=History())
            try:
                kind = spec.get("output_kind", "logits")
                cfg = TrainConfig(steps=int(budget["steps"]), batch_size=int(budget["batch_size"]),
                                  seed=self.seed, sample_every=int(budget["sample_every"]),
                                  n_fixed=int(budget.get("n_fixed", 16)),
                                  decision_threshold=0.5 if kind == "probabilities" else 0.0)
                self._train_variant(run, spec, images, cfg, int(budget["n_samples"]))
            except (ModelRefused, LossSpecError) as exc:
                run.error = str(exc)
            except Exception as exc:  # training itself failed (NaNs, shapes): say so
                run.error = f"training failed: {type(exc).__name__}: {str(exc)[:300]}"
            self.result["variants"].append(asdict(run))
            self.save()

    def _train_variant(self, run: VariantRun, spec: dict[str, Any], images: np.ndarray,
                       cfg: Any, n_samples: int) -> None:
        import keras

        from grader.training.trainer import train_gan

        g, d = self.models(spec)
        losses = spec.get("losses") or {}
        g_loss = generator_loss_from(LossSpec.from_dict(losses.get("generator"), 2))
        d_loss = discriminator_loss_from(LossSpec.from_dict(losses.get("discriminator"), 4))
        optimizers = spec.get("optimizers") or {}
        opts = [keras.optimizers.deserialize(optimizers[r]) if optimizers.get(r) else None
                for r in ("generator", "discriminator")]

        def report(step: int, _values: dict) -> None:
            if step % 5 == 0:
                self.progress("train", variant=run.name, step=step)

        before = [np.array(w) for w in g.model.trainable_weights]
        res = train_gan(g.model, d.model, images, generator_loss=g_loss,
                        discriminator_loss=d_loss, generator_optimizer=opts[0],
                        discriminator_optimizer=opts[1], config=cfg, progress=report)
        h = res.history
        run.history = History(gen_loss=h["gen_loss"], disc_loss=h["disc_loss"],
                              real_accuracy=h["real_accuracy"],
                              fake_accuracy=h["fake_accuracy"], batch_size=cfg.batch_size,
                              steps=len(h["gen_loss"]), wall_s=float(res.wall_s),
                              images_per_s=float(res.images_per_s), loop="reference",
                              generator_change=weight_change(before, g.model))
        run.samples_file = f"{run.name}_samples.npz"
        savez_atomic(self.work / run.samples_file, images=res.sample(n_samples, self.seed + 1))
        run.frames_file = f"{run.name}_frames.npz"
        savez_atomic(self.work / run.frames_file, frames=res.frames)
        run.frame_steps = [int(s) for s in res.frame_steps]

    def judge(self, phase: dict[str, Any]) -> None:
        """Judge this run's samples, frames and checkpoint samples (the judge is trusted)."""
        self.result["judged_runs"] = judge_runs_here(
            phase, self.result.get("variants", []), self.result.get("checkpoint_samples_file"),
            self.work)

    def sample_checkpoint(self, phase: dict[str, Any]) -> None:
        """Restore the student's checkpoint into the final generator and sample it."""
        from grader.training.trainer import sample_images

        spec = self.variant_spec(str(phase.get("into", "final")))
        if spec is None:
            raise RuntimeError("no exported generator to restore the checkpoint into")
        g, d = self.models(spec)
        restored = restore_checkpoint(g.model, d.model, phase["path"])
        self.result["checkpoint"] = asdict(restored)
        if not restored.fits_code:
            return
        images = sample_images(g.model, int(phase.get("n", 256)), self.seed + 2,
                               channels=self.shape[-1])
        savez_atomic(self.work / "checkpoint_samples.npz", images=images)
        self.result["checkpoint_samples_file"] = "checkpoint_samples.npz"


def await_plan(work: Path, name: str, timeout_s: float,
               shown: dict[str, Any] | None = None, threads: int = 2) -> dict[str, Any] | None:
    """Import the heavy modules, wait for the parent's plan file ``work/name``, then judge what
    the student shows (``shown``, see :func:`.judging.judge_shown_here`).

    TensorFlow is imported while the student's code runs; the shown evidence is judged once
    the plan (or the parent's cancel) arrived, when the student's process has ended, so the
    two processes' peaks do not add up. Measured on four quick grades (bench/results/README.md,
    2026-12-03): peak summed RSS 1,459-1,539 MB judging during the student's run, 1,311-1,377 MB
    after it, for 1-6 s more wall time (22-26 s -> 25-28 s); only "after" meets both goals
    (1.5 GB, 30 s).

    Returns:
        The plan, or None when the parent cancelled (or never answered).
    """
    write_json_atomic(work / "progress.json", {"phase": "waiting", "time": time.time()},
                      indent=None)
    import_tensorflow_quietly()  # imported now, while the student's code runs
    import keras  # noqa: F401

    plan = _wait_for(work / Path(name).name, timeout_s)
    if shown:
        write_json_atomic(work / "progress.json", {"phase": "judge_shown", "time": time.time()},
                          indent=None)
        limit_threads(threads)
        judge_shown_here(shown, work)
    return plan


def _wait_for(go: Path, timeout_s: float) -> dict[str, Any] | None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if go.is_file():
            try:
                plan = json.loads(go.read_text(encoding="utf-8"))
            except ValueError:  # written atomically, so only a foreign file fails here
                return None
            return None if not isinstance(plan, dict) or plan.get("cancel") else plan
        time.sleep(0.05)
    return None


def main(argv: list[str]) -> int:
    """Entry point; returns the exit code."""
    if len(argv) != 2:
        print("usage: python -m grader.sandbox.trusted PLAN.json", file=sys.stderr)
        return 2
    plan_path = Path(argv[1])
    plan = json.loads(plan_path.read_text(encoding="utf-8"))
    os.chdir(plan_path.parent)
    if plan.get("await"):
        plan = await_plan(plan_path.parent, str(plan["await"]),
                          float(plan.get("await_timeout_s", 600.0)),
                          shown=(plan.get("judge") or {}).get("shown"),
                          threads=int(plan.get("threads", 2)))
        if plan is None:
            return 0
    run = TrustedRun(plan, plan_path.parent)
    run.save()
    return run.run()
