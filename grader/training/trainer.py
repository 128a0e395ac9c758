"""The grader's GAN trainer: trains any generator/discriminator pair with given losses.

One library function, :func:`train_gan`, used by the grading run (the student's models, in
the trusted training process) and by ``grade reference train`` (the baselines grading is
calibrated on). Accuracies in the history are always the trusted ones, computed from the
discriminator's outputs (logit >= 0 means "real"), whatever the student's own
``discriminator_accuracy`` does; the student's values are recorded beside them.

Determinism: data order comes from ``numpy.random.default_rng((seed, epoch))`` and noise from
``tf.random.stateless_normal`` keyed on ``(seed, step)``, so the same seed gives the same
history on CPU, and ``--resume`` continues exactly from a checkpoint.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import tensorflow as tf

from grader.evidence import HISTORY_KEYS
from grader.training.run_files import save_gif, save_grid_png, save_history_png

LossFn = Callable[..., tf.Tensor]
GENERATOR_PREFIX = "generator_step_"
"""Saved generators are ``generator_step_NNNNNN.keras`` (see :func:`saved_generators`)."""
EMA_PREFIX = "generator_ema_step_"
"""With ``ema_decay`` the weight average is saved beside them as ``generator_ema_step_NNNNNN.keras``."""


@dataclass(frozen=True)
class TrainConfig:
    """Budget and bookkeeping of one training run."""

    steps: int = 1000
    """Optimisation steps (one generator and one discriminator update each)."""
    batch_size: int = 128
    seed: int = 0
    sample_every: int = 100
    """Save a grid of fixed-noise samples every this many steps (and at step 0 and the end)."""
    n_fixed: int = 16
    """Number of fixed noise vectors (the lesson's 16, a 4x4 grid)."""
    checkpoint_every: int = 0
    """Write a checkpoint every this many steps (0: only at the end); needs ``out_dir``."""
    jit_compile: bool = False
    """Compile the step with XLA (measured by ``bench/train_throughput.py``)."""
    save_generator_at: tuple[int, ...] = ()
    """Steps at which to save the generator as ``generator_step_NNNNNN.keras``."""
    decision_threshold: float = 0.0
    """A discriminator output at or above this counts as "real" in the trusted accuracy:
    0 for logits, 0.5 for a discriminator that ends with a sigmoid (probabilities)."""
    ema_decay: float = 0.0
    """Keep an exponential moving average of the generator's weights with this decay per step
    (0: none). Averaged generators (Yazici et al. 2019) are saved beside the trained ones;
    the history, frames and checkpoint-restored models stay the trained generator's."""


@dataclass
class TrainResult:
    """What a run produced (also written to ``out_dir`` when one was given)."""

    history: dict[str, list[float]]
    frames: np.ndarray
    """uint8 (F, n_fixed, height, width, channels): fixed-noise samples over training."""
    frame_steps: list[int]
    wall_s: float
    images_per_s: float
    loop: str
    """``reference`` or ``student_train_step``."""
    steps_done: int
    interrupted: bool = False
    generator: tf.keras.Model | None = field(default=None, repr=False)

    def sample(self, n: int, seed: int = 1234) -> np.ndarray:
        """Draw ``n`` images from the trained generator as uint8 (n, height, width, channels)."""
        assert self.generator is not None
        return sample_images(self.generator, n, seed, channels=self.frames.shape[-1])


def to_uint8(images: np.ndarray | tf.Tensor) -> np.ndarray:
    """Map generator output in [-1, 1] to uint8 [0, 255]."""
    x = np.asarray(images, dtype=np.float32)
    return np.clip(np.rint((x + 1.0) * 127.5), 0, 255).astype(np.uint8)


def noise_dim_of(generator: tf.keras.Model) -> int:
    """Read the noise dimension from the generator's input shape."""
    shape = generator.inputs[0].shape if generator.inputs else None
    if shape is None or len(shape) != 2 or shape[-1] is None:
        raise ValueError(f"generator input shape {shape} is not (None, k)")
    return int(shape[-1])


def saved_generators(run_dir: Path) -> list[tuple[int, Path]]:
    """A run's saved generators (``generator_step_NNNNNN.keras``) as (step, path), by step."""
    found = sorted(Path(run_dir).glob(f"{GENERATOR_PREFIX}*.keras"))
    return [(int(p.stem.removeprefix(GENERATOR_PREFIX)), p) for p in found]


def output_shape_of(generator: tf.keras.Model) -> tuple[int, int, int]:
    """(height, width, channels) of the generator's images, from its output shape."""
    shape = tuple(generator.outputs[0].shape[1:]) if generator.outputs else ()
    if len(shape) != 3 or any(d is None for d in shape):
        raise ValueError(f"generator output shape {shape} is not (height, width, channels)")
    return int(shape[0]), int(shape[1]), int(shape[2])


def sample_images(generator: tf.keras.Model, n: int, seed: int, batch: int = 256,
                  channels: int | None = None) -> np.ndarray:
    """Sample ``n`` images with noise from ``seed``; uint8 (n, height, width, channels).

    ``channels`` keeps only the first channels of a wider output (default: all of them).
    """
    nz = noise_dim_of(generator)
    z = tf.random.stateless_normal([n, nz], seed=[seed, 7])
    out = [to_uint8(generator(z[i:i + batch], training=False)) for i in range(0, n, batch)]
    if not out:
        return np.zeros((0, *output_shape_of(generator)), np.uint8)
    images = np.concatenate(out)
    return images[..., :channels] if channels else images


#: Keras dtype policies the trainer supports: the models must be *built* under the policy
#: (:func:`precision_policy`); bfloat16 needs no loss scaling (float16 would, and is not used)
PRECISIONS = ("float32", "mixed_bfloat16")


@contextlib.contextmanager
def precision_policy(name: str) -> Iterator[None]:
    """Build models under Keras's ``name`` dtype policy inside the block, then restore it.

    ``mixed_bfloat16`` computes in bfloat16 with float32 weights: faster where the CPU has
    bfloat16 units (``grader.judge.precision.native_bfloat16``), and checked against the
    spread of float32 runs by ``bench/precision_quality.py``.

    Raises:
        ValueError: ``name`` is not one of :data:`PRECISIONS`.
    """
    if name not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {name!r}")
    import keras

    before = keras.mixed_precision.global_policy().name
    keras.mixed_precision.set_global_policy(name)
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy(before)


def _build_optimizer(optimizer, model) -> None:
    """Create an optimizer's slot variables before the step is traced.

    A Keras 3 optimizer builds its variables on its first ``apply_gradients``; inside a
    ``tf.function`` that makes TensorFlow trace the step twice (once to create them). Built
    here, the step is traced once. Optimizers without ``build`` (or already built) are left.
    """
    build = getattr(optimizer, "build", None)
    if callable(build) and not getattr(optimizer, "built", False):
        try:
            build(model.trainable_variables)
        except Exception:  # an optimizer that builds differently: it builds itself later
            pass


def _make_step(generator, discriminator, generator_loss, discriminator_loss,
               gen_opt, disc_opt, nz: int, seed: int, jit: bool, threshold: float = 0.0):
    """Build the compiled training step (trusted accuracy computed from logits)."""

    def step(real_u8, step_idx):
        real = tf.cast(real_u8, tf.float32) / 127.5 - 1.0
        batch = tf.shape(real)[0]
        z = tf.random.stateless_normal([batch, nz], seed=tf.stack([tf.cast(seed, tf.int64),
                                                                   tf.cast(step_idx, tf.int64)]))
        with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
            fake = generator(z, training=True)
            # float32 logits whatever the models compute in (a no-op for float32 models;
            # mixed_bfloat16 models output bfloat16, and the losses need float32)
            real_logits = tf.cast(discriminator(real, training=True), tf.float32)
            fake_logits = tf.cast(discriminator(fake, training=True), tf.float32)
            g_loss = generator_loss(fake_logits)
            d_loss = discriminator_loss(real_logits, fake_logits)
        g_grads = g_tape.gradient(g_loss, generator.trainable_variables)
        d_grads = d_tape.gradient(d_loss, discriminator.trainable_variables)
        gen_opt.apply_gradients(zip(g_grads, generator.trainable_variables))
        disc_opt.apply_gradients(zip(d_grads, discriminator.trainable_variables))
        real_acc = tf.reduce_mean(tf.cast(real_logits >= threshold, tf.float32))
        fake_acc = tf.reduce_mean(tf.cast(fake_logits < threshold, tf.float32))
        return (tf.reduce_mean(g_loss), tf.reduce_mean(d_loss), real_acc, fake_acc,
                real_logits, fake_logits)

    return tf.function(step, jit_compile=jit, reduce_retracing=True)


def _make_ema(generator: tf.keras.Model, decay: float):
    """A copy of ``generator`` and a compiled update that moves its weights towards G's.

    All weights are averaged, batch-norm moving statistics included, so the copy samples in
    inference mode like the trained generator does.
    """
    ema = tf.keras.models.clone_model(generator)
    ema.set_weights(generator.get_weights())
    pairs = list(zip(ema.weights, generator.weights))

    @tf.function
    def update():
        for avg, cur in pairs:
            avg.assign(decay * avg + (1.0 - decay) * tf.cast(cur, avg.dtype))

    return ema, update


def _make_probe(generator, discriminator, nz: int, seed: int, threshold: float = 0.0):
    """Trusted accuracy for a student's own train_step: D's logits on the same batch."""

    @tf.function(reduce_retracing=True)
    def probe(real_u8, step_idx):
        real = tf.cast(real_u8, tf.float32) / 127.5 - 1.0
        z = tf.random.stateless_normal([tf.shape(real)[0], nz],
                                       seed=tf.stack([tf.cast(seed, tf.int64) + 1,
                                                      tf.cast(step_idx, tf.int64)]))
        real_logits = discriminator(real, training=False)
        fake_logits = discriminator(generator(z, training=False), training=False)
        return (tf.reduce_mean(tf.cast(real_logits >= threshold, tf.float32)),
                tf.reduce_mean(tf.cast(fake_logits < threshold, tf.float32)))

    return probe


@functools.lru_cache(maxsize=2)
def _epoch_permutation(n: int, seed: int, epoch: int) -> np.ndarray:
    return np.random.default_rng((seed, epoch)).permutation(n)


def _batch_indices(n: int, batch: int, seed: int, step: int) -> np.ndarray:
    """Indices of the batch used at ``step``: an epoch-wise permutation, deterministic."""
    per_epoch = max(1, n // batch)
    epoch, pos = divmod(step, per_epoch)
    return _epoch_permutation(n, seed, epoch)[pos * batch:(pos + 1) * batch]


def _scalar(value) -> float:
    arr = np.asarray(value, dtype=np.float64)
    return float(arr.mean()) if arr.size else float("nan")


def train_gan(
    generator: tf.keras.Model,
    discriminator: tf.keras.Model,
    images: np.ndarray,
    *,
    generator_loss: LossFn,
    discriminator_loss: LossFn,
    generator_optimizer=None,
    discriminator_optimizer=None,
    config: TrainConfig = TrainConfig(),
    student_accuracy: Callable | None = None,
    train_step: Callable | None = None,
    out_dir: Path | None = None,
    resume: bool = False,
    progress: bool | Callable[[int, dict[str, float]], None] = False,
    metadata: dict | None = None,
) -> TrainResult:
    """Train ``generator`` against ``discriminator`` on uint8 ``images`` (N, H, W, C).

    Args:
        generator: Maps (B, k) noise to (B, H, W, C) in [-1, 1].
        discriminator: Maps images to (B, 1) or (B,) logits.
        images: Real training images, uint8.
        generator_loss: ``f(fake_logits) -> loss``.
        discriminator_loss: ``f(real_logits, fake_logits) -> loss``.
        generator_optimizer: Defaults to Adam(2e-4, beta_1=0.5); likewise for D.
        config: Budget, batch, seed, sampling and checkpoint cadence.
        student_accuracy: The student's ``discriminator_accuracy``; its values are recorded
            as ``student_real_accuracy``/``student_fake_accuracy`` beside the trusted ones.
        train_step: The student's own ``train_step(images_float_batch)``; when given it does
            the updates and the trusted accuracy is measured by an extra forward pass.
        out_dir: Write history, plots, sample grids, GIF and checkpoints here.
        resume: Continue from the latest checkpoint in ``out_dir``.
        progress: True for a terminal progress bar, or a callback ``(step, latest)``.
        metadata: Extra run metadata stored in ``history.json``.

    Returns:
        The history, fixed-noise frames and speed of the run.
    """
    images = np.ascontiguousarray(images, dtype=np.uint8)
    if images.ndim != 4 or len(images) == 0:
        raise ValueError(f"training images have shape {images.shape}, expected (N, H, W, C)")
    channels = images.shape[-1]
    cfg = config
    batch = min(cfg.batch_size, len(images))
    nz = noise_dim_of(generator)
    gen_opt = generator_optimizer or tf.keras.optimizers.Adam(2e-4, beta_1=0.5)
    disc_opt = discriminator_optimizer or tf.keras.optimizers.Adam(2e-4, beta_1=0.5)
    fixed_noise = tf.random.stateless_normal([cfg.n_fixed, nz], seed=[cfg.seed, 424242])
    history: dict[str, list[float]] = {k: [] for k in HISTORY_KEYS}
    if student_accuracy is not None:
        history["student_real_accuracy"], history["student_fake_accuracy"] = [], []
    frames: list[np.ndarray] = []
    frame_steps: list[int] = []
    start_step = 0

    step_var = tf.Variable(0, dtype=tf.int64, trainable=False)
    ema, ema_update = _make_ema(generator, cfg.ema_decay) if cfg.ema_decay > 0 else (None, None)
    manager = None
    if out_dir is not None:
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        extra = {"generator_ema": ema} if ema is not None else {}
        ckpt = tf.train.Checkpoint(generator=generator, discriminator=discriminator,
                                   generator_optimizer=gen_opt,
                                   discriminator_optimizer=disc_opt, step=step_var, **extra)
        manager = tf.train.CheckpointManager(ckpt, str(out_dir / "checkpoints"), max_to_keep=2)
        if resume and manager.latest_checkpoint:
            ckpt.restore(manager.latest_checkpoint).expect_partial()
            start_step = int(step_var.numpy())
            history, frames, frame_steps = _load_partial(out_dir, start_step, history)

    loop = "student_train_step" if train_step is not None else "reference"
    _build_optimizer(gen_opt, generator)
    _build_optimizer(disc_opt, discriminator)
    if train_step is None:
        step_fn = _make_step(generator, discriminator, generator_loss, discriminator_loss,
                             gen_opt, disc_opt, nz, cfg.seed, cfg.jit_compile,
                             cfg.decision_threshold)
    else:
        probe = _make_probe(generator, discriminator, nz, cfg.seed, cfg.decision_threshold)

    def record_frame(at: int) -> None:
        frames.append(to_uint8(generator(fixed_noise, training=False))[..., :channels])
        frame_steps.append(at)

    if not frame_steps:
        record_frame(start_step)
    bar = _progress_bar(cfg.steps, start_step) if progress is True else None
    t0 = time.perf_counter()
    step = start_step
    interrupted = False
    try:
        for step in range(start_step, cfg.steps):
            idx = _batch_indices(len(images), batch, cfg.seed, step)
            real_u8 = tf.constant(images[idx])
            if train_step is None:
                g, d, ra, fa, rl, fl = step_fn(real_u8, tf.constant(step, tf.int64))
            else:
                out = train_step(tf.cast(real_u8, tf.float32) / 127.5 - 1.0)
                g, d = out[0], out[1]
                ra, fa = probe(real_u8, tf.constant(step, tf.int64))
                rl = fl = None
            values = {"gen_loss": _scalar(g), "disc_loss": _scalar(d),
                      "real_accuracy": _scalar(ra), "fake_accuracy": _scalar(fa)}
            if ema_update is not None:
                ema_update()
            for key, val in values.items():
                history[key].append(val)
            if student_accuracy is not None:
                sra, sfa = _student_accuracy(student_accuracy, rl, fl, out if rl is None else None)
                history["student_real_accuracy"].append(sra)
                history["student_fake_accuracy"].append(sfa)
            done = step + 1
            if done % cfg.sample_every == 0 or done == cfg.steps:
                record_frame(done)
            if out_dir is not None and (done in cfg.save_generator_at):
                _save_model(generator, out_dir / f"{GENERATOR_PREFIX}{done:06d}.keras")
                if ema is not None:
                    _save_model(ema, out_dir / f"{EMA_PREFIX}{done:06d}.keras")
            if manager is not None and cfg.checkpoint_every and done % cfg.checkpoint_every == 0:
                step_var.assign(done)
                manager.save(checkpoint_number=done)
            if bar is not None:
                bar.update(done, values, batch * (done - start_step) / (time.perf_counter() - t0))
            elif callable(progress):
                progress(done, values)
        step = cfg.steps
    except KeyboardInterrupt:
        interrupted = True
        step = len(history["gen_loss"])
    finally:
        if bar is not None:
            bar.close()
    wall = time.perf_counter() - t0
    trained = step - start_step
    result = TrainResult(
        history=history, frames=np.stack(frames), frame_steps=frame_steps, wall_s=wall,
        images_per_s=batch * trained / wall if wall > 0 else 0.0, loop=loop, steps_done=step,
        interrupted=interrupted, generator=generator,
    )
    if out_dir is not None:
        if frame_steps[-1] != step:
            record_frame(step)
            result.frames = np.stack(frames)
        step_var.assign(step)
        manager.save(checkpoint_number=step)
        meta = {"seed": cfg.seed, "batch_size": batch, "steps": step, "config": asdict(cfg),
                "n_images": int(len(images)), "noise_dim": nz, **(metadata or {})}
        write_outputs(out_dir, result, meta)
        _save_model(generator, out_dir / "generator.keras")
        if ema is not None:
            _save_model(ema, out_dir / "generator_ema.keras")
    if interrupted:
        raise KeyboardInterrupt
    return result


def _student_accuracy(fn, real_logits, fake_logits, step_out) -> tuple[float, float]:
    """Run the student's accuracy function eagerly; NaN when it fails."""
    try:
        if real_logits is not None:
            ra, fa = fn(real_logits, fake_logits)
        else:
            ra, fa = step_out[2], step_out[3]
        return _scalar(ra), _scalar(fa)
    except Exception:  # student code: any failure is recorded as missing values
        return float("nan"), float("nan")


def _save_model(model: tf.keras.Model, path: Path) -> None:
    tmp = path.with_suffix(".tmp.keras")
    model.save(tmp)
    os.replace(tmp, path)


def _load_partial(out_dir: Path, start: int, empty: dict) -> tuple[dict, list, list]:
    """Reload history and frames of an interrupted/finished run up to ``start`` steps."""
    hist_file, frames_file = out_dir / "history.json", out_dir / "frames.npz"
    if not hist_file.is_file() or not frames_file.is_file():
        return empty, [], []
    saved = json.loads(hist_file.read_text())["history"]
    history = {k: list(saved.get(k, []))[:start] for k in empty}
    with np.load(frames_file, allow_pickle=False) as z:
        keep = [i for i, s in enumerate(z["steps"]) if s <= start]
        frames = [z["frames"][i] for i in keep]
        steps = [int(z["steps"][i]) for i in keep]
    return history, frames, steps


def write_outputs(out_dir: Path, result: TrainResult, meta: dict) -> None:
    """Write history.json, history.png, samples/step_NNNNNN.png, training.gif, summary.json."""

    out_dir = Path(out_dir)
    (out_dir / "samples").mkdir(parents=True, exist_ok=True)
    np.savez_compressed(out_dir / "frames.npz", frames=result.frames,
                        steps=np.asarray(result.frame_steps, dtype=np.int64))
    grid_paths = []
    for frame, step in zip(result.frames, result.frame_steps):
        path = out_dir / "samples" / f"step_{step:06d}.png"
        if not path.exists():
            save_grid_png(frame, path)
        grid_paths.append(path)
    save_gif(grid_paths, out_dir / "training.gif")
    device = "GPU" if tf.config.list_physical_devices("GPU") else "CPU"
    meta = {**meta, "wall_s": round(result.wall_s, 2),
            "images_per_s": round(result.images_per_s, 1), "tf_version": tf.__version__,
            "device": device, "loop": result.loop, "interrupted": result.interrupted}
    (out_dir / "history.json").write_text(json.dumps({"meta": meta, "history": result.history}))
    save_history_png(result.history, out_dir / "history.png")
    (out_dir / "summary.json").write_text(json.dumps(summarize(result.history, meta), indent=1))


def summarize(history: dict[str, list[float]], meta: dict) -> dict:
    """Compact run summary: means of the last 10% of steps and of the first 10%."""
    out = {"meta": meta}
    for key, values in history.items():
        vals = np.asarray(values, dtype=np.float64)
        if vals.size == 0:
            continue
        k = max(1, vals.size // 10)
        out[key] = {"first": float(np.nanmean(vals[:k])), "last": float(np.nanmean(vals[-k:])),
                    "min": float(np.nanmin(vals)), "max": float(np.nanmax(vals))}
    return out


class _progress_bar:
    """A rich progress bar showing steps, images/s and the latest losses."""

    def __init__(self, total: int, start: int) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
        )

        self._p = Progress(TextColumn("training"), BarColumn(), MofNCompleteColumn(),
                           TimeRemainingColumn(), TextColumn("{task.fields[info]}"))
        self._task = self._p.add_task("train", total=total, completed=start, info="")
        self._p.start()

    def update(self, done: int, values: dict[str, float], ips: float) -> None:
        info = (f"{ips:6.0f} img/s  G {values['gen_loss']:.3f}  D {values['disc_loss']:.3f}  "
                f"fake acc {values['fake_accuracy']:.2f}")
        self._p.update(self._task, completed=done, info=info)

    def close(self) -> None:
        self._p.stop()
