"""Stand-ins for training: call the notebook's own functions with saved generators.

A training cell of a corpus notebook is not run; its driver reproduces what the cell would
leave behind. It calls the student's ``generate_and_save_images`` (or ``sample``) with the
saved snapshot generators at the epochs they belong to (writing the sample PNGs the GIF is made
from), prints the lines the student's loop prints, shows the final grid and the history plot
through the student's own functions, and writes a real checkpoint where the student's models
have the snapshot's architecture. What the notebook then shows is recorded as evidence.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from reference.corpus import snippets_loop as sl
from reference.corpus.histories import epoch_means
from reference.corpus.kernel import Kernel
from reference.corpus.sources import ROOT, Snapshot, load_generator, to_uint8

ALICE_CKPT = ROOT / "submissions" / "alice" / "training_checkpoints"
"""A trained reference-architecture discriminator (12 epochs) for checkpoints."""


class SnapshotModel:
    """A saved generator called the way the student's code calls its generator."""

    def __init__(self, model, z: np.ndarray | None = None, gray28: bool = False):
        """Args: model is a Keras generator; z fixes the noise of ``predict``; gray28 mimics 28x28x1."""
        self.model, self.z, self.gray28 = model, z, gray28

    def __call__(self, x, training: bool = False):
        import tensorflow as tf

        y = self.model(x, training=False)
        if self.gray28:
            y = tf.image.resize(tf.image.rgb_to_grayscale(y), [28, 28])
        return y

    def predict(self, x, verbose: int = 0, **_: object) -> np.ndarray:
        """``generator.predict(noise)``: the fixed noise replaces the student's random noise."""
        z = self.z[: len(x)] if self.z is not None and len(self.z) >= len(x) else x
        return np.asarray(self(np.asarray(z, np.float32)))


@dataclass
class RunContext:
    """Everything a driver needs for one training run of a notebook."""

    index: int
    epochs: int
    per_epoch: int
    z: np.ndarray
    frames: list[Snapshot]
    """Snapshots of the saved sample grids, in training order; the last is the final one."""
    history: dict[str, list[float]]
    gray28: bool = False
    start_epoch: int = 0
    interrupt_at: int | None = None
    checkpoint_count: int = 0
    """Write ``ckpt-N`` with this N after training (0: no checkpoint)."""
    seconds_per_epoch: float = 30.0
    plot: bool = True
    """The notebook plots the history (``draw_train_history`` exists and is called)."""
    scale: float = 1.0
    """Frame epochs per snapshot epoch (a short run standing in for a longer one)."""
    used: dict[str, str] = field(default_factory=dict)
    """Requested snapshot name -> the stand-in actually loaded (missing files only)."""
    record: dict = field(default_factory=dict)

    def model(self, snap: Snapshot) -> SnapshotModel:
        """The student-facing model of a snapshot (its stand-in if the file is missing)."""
        return SnapshotModel(load_generator(self.used.get(snap.name, snap.name)), self.z,
                             self.gray28)

    def epoch_of(self, snap: Snapshot) -> float:
        """The epoch (within this run) a snapshot stands for; stretched when ``scale`` != 1."""
        return (snap.epochs - self.start_epoch * (self.scale == 1.0)) * self.scale

    def at_epoch(self, epoch: float) -> Snapshot:
        """The last snapshot standing for at most ``epoch`` total epochs (else the first)."""
        done = [s for s in self.frames
                if self.start_epoch + self.epoch_of(s) <= epoch + 1e-6]
        return done[-1] if done else self.frames[0]


def sample_name(epoch: int, it: int) -> str:
    """The lesson's sample file name."""
    return f"sample_epoch_{epoch:04d}_iter_{it:03d}.png"


def frame_key(epochs: float, per_epoch: int) -> tuple[int, int]:
    """(epoch, iter) in the lesson's file names for a generator trained ``epochs`` epochs."""
    whole = int(epochs + 1e-9)
    it = int(round((epochs - whole) * per_epoch / 50.0)) * 50
    return whole + 1, it + 1


def note_file(ctx: RunContext, key: str, snap_name: str) -> None:
    """Remember which generator drew a saved sample file (for the GIF's evidence)."""
    ctx.record.setdefault("files", {})[key] = ctx.used.get(snap_name, snap_name)


def record_grid(ctx: RunContext, snap: Snapshot, where: str) -> None:
    """Note a grid the notebook displays: the run, its snapshot and where it is shown."""
    ctx.record.setdefault("grids", []).append({"snapshot": snap.name, "where": where,
                                               "used": ctx.used.get(snap.name, snap.name),
                                               "epochs": round(snap.epochs, 2)})


def grid_tiles(snap_name: str, z: np.ndarray) -> np.ndarray:
    """The uint8 tiles (before any display transform) a snapshot draws from noise ``z``."""
    return to_uint8(load_generator(snap_name)(z, training=False))[..., :3]


def drive_lesson(k: Kernel, ctx: RunContext, untrained) -> None:
    """The lesson's ``train()`` (clear_output every 50 iterations, history every epoch)."""
    import tensorflow as tf

    ns = k.ns
    ns["seed"] = tf.constant(ctx.z)
    gen = ns["generate_and_save_images"]
    hist = ns["draw_train_history"] if ctx.plot else (lambda *_: None)
    last_epoch = ctx.interrupt_at or ctx.epochs
    with k.quiet():
        if untrained is not None:
            gen(untrained, 1, 1, ns["seed"])
            note_file(ctx, sample_name(1, 1), "untrained")
        for snap in ctx.frames[:-1]:
            if ctx.epoch_of(snap) <= last_epoch + 1e-6:
                e, it = frame_key(ctx.epoch_of(snap), ctx.per_epoch)
                gen(ctx.model(snap), ctx.start_epoch + e, it, ns["seed"])
                note_file(ctx, sample_name(ctx.start_epoch + e, it), snap.name)
        mid = max(1, last_epoch // 2)
        hist(_head(ctx.history, mid * ctx.per_epoch), mid - 1)
    if ctx.interrupt_at:
        snap = ctx.at_epoch(ctx.interrupt_at)
        with k.quiet():
            hist(_head(ctx.history, last_epoch * ctx.per_epoch), last_epoch - 1)
        gen(ctx.model(snap), last_epoch + 1, 1, ns["seed"])
        note_file(ctx, sample_name(last_epoch + 1, 1), snap.name)
        print(f"Epoch {last_epoch + 1} | iter 1")
        print(f"Time for epoch {last_epoch + 1} : 0 sec")
        record_grid(ctx, snap, "train_cell")
        k.error("KeyboardInterrupt", "", _interrupt_traceback())
        return
    final = ctx.frames[-1]
    gen(ctx.model(final), ctx.start_epoch + ctx.epochs, ctx.per_epoch - 1, ns["seed"])
    note_file(ctx, sample_name(ctx.start_epoch + ctx.epochs, ctx.per_epoch - 1), final.name)
    print(f"Time for training : {int(ctx.epochs * ctx.seconds_per_epoch)} sec")
    hist(ctx.history, ctx.epochs - 1)
    record_grid(ctx, final, "train_cell")
    _checkpoint(ns, ctx, final)


def drive_epoch_log(k: Kernel, ctx: RunContext, untrained) -> None:
    """The per-epoch-summary ``train()`` (grids every 10 epochs, no clear_output)."""
    import tensorflow as tf

    ns = k.ns
    ns["seed"] = tf.constant(ctx.z)
    gen = ns["generate_and_save_images"]
    means = {key: epoch_means(v, ctx.per_epoch) for key, v in ctx.history.items()}
    rng = np.random.default_rng(ctx.index + 17)
    for e in range(1, ctx.epochs + 1):
        sec = ctx.seconds_per_epoch * (1.0 + 0.05 * rng.standard_normal()) + (4 if e == 1 else 0)
        print(sl.EPOCH_LINE.format(ctx.start_epoch + e, ctx.start_epoch + ctx.epochs,
                                   means["gen_loss"][e - 1], means["disc_loss"][e - 1],
                                   means["real_accuracy"][e - 1], means["fake_accuracy"][e - 1],
                                   sec))
        if e % 5 == 0 or e == ctx.epochs:
            total = ctx.start_epoch + e
            snap = ctx.frames[-1] if e == ctx.epochs else ctx.at_epoch(total)
            shown = e % 10 == 0 or e == ctx.epochs
            gen(ctx.model(snap), total, ctx.per_epoch, ns["seed"], show=shown)
            note_file(ctx, sample_name(total, ctx.per_epoch), snap.name)
            if shown:
                record_grid(ctx, snap, "train_cell")
    if untrained is not None:
        with k.quiet():
            gen(untrained, 0, 0, ns["seed"], show=False)
        note_file(ctx, sample_name(0, 0), "untrained")
    print(f"Time for training : {int(ctx.epochs * ctx.seconds_per_epoch)} sec")
    ns["history"] = ctx.history
    _checkpoint(ns, ctx, ctx.frames[-1])


def drive_tob(k: Kernel, ctx: RunContext, iterations: int, interval: int) -> None:
    """The ``train_on_batch`` loop: print every interval, save a 4x4 sample every interval."""
    ns = k.ns
    h = ctx.history
    ns["g_loss_hist"] = list(h["gen_loss"][:iterations])
    ns["d_loss_hist"] = [x / 2 for x in h["disc_loss"][:iterations]]
    ns["fake_acc_hist"] = list(h["fake_accuracy"][:iterations])
    ns["real_acc_hist"] = list(h["real_accuracy"][:iterations])
    real_gen = ns["generator"]
    print("\nGAN 학습 시작")
    try:
        for i in range(0, iterations + 1, interval):
            j = min(i, iterations - 1)
            acc = 50.0 * (h["fake_accuracy"][j] + h["real_accuracy"][j])
            print(f"반복: {i} 생성자 손실: {h['gen_loss'][j]:.3f} "
                  f"감별자 손실: {h['disc_loss'][j] / 2:.3f} 감별자 정확도: {acc:.1f}%")
            snap = ctx.frames[-1] if i == iterations else ctx.at_epoch(i / 390.0)
            ns["generator"] = real_gen if i == 0 else ctx.model(snap)
            with k.quiet():
                ns["sample"](i)
            note_file(ctx, f"img-{i:05d}.png", "untrained" if i == 0 else snap.name)
    finally:
        ns["generator"] = real_gen
    print(f"최종 학습 시간: {ctx.epochs * ctx.seconds_per_epoch:.1f}초")


def _head(history: dict[str, list[float]], n: int) -> dict[str, list[float]]:
    return {k: v[:n] for k, v in history.items()}


def _interrupt_traceback() -> list[str]:
    return [
        "\x1b[0;31m---------------------------------------------------------------------------"
        "\x1b[0m",
        "\x1b[0;31mKeyboardInterrupt\x1b[0m                         Traceback (most recent call"
        " last)",
        "File \x1b[0;32m<timed eval>:1\x1b[0m\n",
        "Cell \x1b[0;32mIn[27], line 11\x1b[0m, in \x1b[0;36mtrain\x1b[0;34m(dataset, epochs, "
        "save_every)\x1b[0m\n\x1b[1;32m     10\x1b[0m \x1b[38;5;28;01mfor\x1b[39;00m it, "
        "image_batch \x1b[38;5;129;01min\x1b[39;00m \x1b[38;5;28menumerate\x1b[39m(dataset):\n"
        "\x1b[0;32m---> 11\x1b[0m     gen_loss, disc_loss, real_accuracy, fake_accuracy "
        "\x1b[38;5;241m=\x1b[39m train_step(image_batch)\n",
        "\x1b[0;31mKeyboardInterrupt\x1b[0m: ",
    ]


def _same_shapes(a, b) -> bool:
    wa, wb = a.get_weights(), b.get_weights()
    return len(wa) == len(wb) and all(x.shape == y.shape for x, y in zip(wa, wb))


def _checkpoint(ns: dict, ctx: RunContext, final: Snapshot) -> None:
    """Write ``ckpt-N`` of the student's models with the final snapshot's generator weights."""
    if not ctx.checkpoint_count or "checkpoint" not in ns:
        return
    import tensorflow as tf

    g, d = ns["generator"], ns["discriminator"]
    src = load_generator(ctx.used.get(final.name, final.name))
    if not _same_shapes(g, src):
        ctx.record["checkpoint"] = "skipped: the notebook's generator differs from the snapshot"
        return
    g.set_weights(src.get_weights())
    if final.family == "ref" and len(d.get_weights()) == 14:
        tf.train.Checkpoint(discriminator=d).restore(
            tf.train.latest_checkpoint(str(ALICE_CKPT))).expect_partial()
    ns["generator_optimizer"].build(g.trainable_variables)
    ns["discriminator_optimizer"].build(d.trainable_variables)
    ckpt = ns["checkpoint"]
    ckpt.save_counter.assign(ctx.checkpoint_count - 1)
    ckpt.save(file_prefix=ns["checkpoint_prefix"])
    ctx.record["checkpoint"] = f"ckpt-{ctx.checkpoint_count} with {final.name} weights"
