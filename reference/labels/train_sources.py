"""Train the two extra generator families of the label set: the lesson-style and a wider DCGAN.

- ``alice``: the lesson's Fashion-MNIST models adapted to 32x32x3 the way students do it
  (``ALICE_BASELINE`` in ``reference/build_samples.py``: Dense 8x8x256, 5x5 transposed
  convolutions with strides 1, 2, 2, tanh; Adam 1e-4), trained briefly: the brown/grey
  blobs on grass/sky backgrounds that students show.
- ``wide``: the reference DCGAN (``reference/solution.py``) with 1.5x the channels in both
  networks (G 384-192-96, D 96-192-384) and one-sided label smoothing (real target 0.9,
  Salimans et al. 2016, "Improved Techniques for Training GANs").

Both run the grader's trusted trainer (:func:`grader.training.trainer.train_gan`) under a wall-clock
budget; generators are saved at fixed steps, so a slow machine only drops the last ones.

Usage::

    nice -n 10 .venv/bin/python -m reference.labels.train_sources alice --minutes 15
    nice -n 10 .venv/bin/python -m reference.labels.train_sources wide --minutes 40
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DATA = "/work/shared/data/cifar10-jpeg.tar.gz"
STEPS_PER_EPOCH = 390
SAVE_AT = {"alice": (100, 195, 390, 780, 1170),
           "wide": (390, 780, 1170, 1560, 1950, 2340, 2730, 3120, 3510, 3900)}
"""Steps at which each family's generator is kept (1 epoch = 390 steps at batch 128)."""


def make_alice(tf):
    """The lesson-style generator and discriminator (as in ``ALICE_BASELINE``)."""
    layers = tf.keras.layers
    g = tf.keras.Sequential([
        layers.Input(shape=(100,)),
        layers.Dense(8 * 8 * 256, use_bias=False), layers.BatchNormalization(),
        layers.LeakyReLU(), layers.Reshape((8, 8, 256)),
        layers.Conv2DTranspose(128, 5, strides=1, padding="same", use_bias=False),
        layers.BatchNormalization(), layers.LeakyReLU(),
        layers.Conv2DTranspose(64, 5, strides=2, padding="same", use_bias=False),
        layers.BatchNormalization(), layers.LeakyReLU(),
        layers.Conv2DTranspose(3, 5, strides=2, padding="same", use_bias=False,
                               activation="tanh"),
    ], name="generator")
    d = tf.keras.Sequential([
        layers.Input(shape=(32, 32, 3)),
        layers.Conv2D(64, 5, strides=2, padding="same"), layers.LeakyReLU(),
        layers.Dropout(0.3),
        layers.Conv2D(128, 5, strides=2, padding="same"), layers.LeakyReLU(),
        layers.Dropout(0.3),
        layers.Flatten(), layers.Dense(1),
    ], name="discriminator")
    return g, d, tf.keras.optimizers.Adam(1e-4), tf.keras.optimizers.Adam(1e-4)


def make_wide(tf):
    """The reference DCGAN with 1.5x channels in G and D (Adam 2e-4, beta_1 0.5)."""
    layers = tf.keras.layers
    g = tf.keras.Sequential([
        layers.Input(shape=(100,)),
        layers.Dense(4 * 4 * 384, use_bias=False), layers.BatchNormalization(),
        layers.LeakyReLU(0.2), layers.Reshape((4, 4, 384)),
        layers.Conv2DTranspose(192, 4, strides=2, padding="same", use_bias=False),
        layers.BatchNormalization(), layers.LeakyReLU(0.2),
        layers.Conv2DTranspose(96, 4, strides=2, padding="same", use_bias=False),
        layers.BatchNormalization(), layers.LeakyReLU(0.2),
        layers.Conv2DTranspose(3, 4, strides=2, padding="same", activation="tanh"),
    ], name="generator")
    d = tf.keras.Sequential([
        layers.Input(shape=(32, 32, 3)),
        layers.Conv2D(96, 4, strides=2, padding="same"), layers.LeakyReLU(0.2),
        layers.Conv2D(192, 4, strides=2, padding="same", use_bias=False),
        layers.BatchNormalization(), layers.LeakyReLU(0.2),
        layers.Conv2D(384, 4, strides=2, padding="same", use_bias=False),
        layers.BatchNormalization(), layers.LeakyReLU(0.2),
        layers.Flatten(), layers.Dense(1),
    ], name="discriminator")
    return (g, d, tf.keras.optimizers.Adam(2e-4, beta_1=0.5),
            tf.keras.optimizers.Adam(2e-4, beta_1=0.5))


def losses(tf, real_target: float):
    """Binary cross-entropy on logits; real images get label ``real_target``."""
    bce = tf.keras.losses.BinaryCrossentropy(from_logits=True)

    def generator_loss(fake):
        return bce(tf.ones_like(fake), fake)

    def discriminator_loss(real, fake):
        return bce(tf.ones_like(real) * real_target, real) + bce(tf.zeros_like(fake), fake)

    return generator_loss, discriminator_loss


def main(argv: list[str] | None = None) -> int:
    """Train one family under a time budget and save its generators under ``runs/``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("family", choices=sorted(SAVE_AT))
    parser.add_argument("--minutes", type=float, default=15.0, help="wall-clock budget")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    from grader.data import load_dataset
    from grader.tf_setup import configure_tensorflow, import_tensorflow_quietly

    tf = import_tensorflow_quietly()
    from grader.training.trainer import TrainConfig, train_gan

    configure_tensorflow(seed=args.seed)
    images = load_dataset(DATA).x_train
    g, d, g_opt, d_opt = (make_alice if args.family == "alice" else make_wide)(tf)
    g_loss, d_loss = losses(tf, 1.0 if args.family == "alice" else 0.9)
    save_at = SAVE_AT[args.family]
    cfg = TrainConfig(steps=save_at[-1], seed=args.seed, sample_every=max(1, save_at[-1] // 20),
                      checkpoint_every=STEPS_PER_EPOCH, save_generator_at=save_at)
    deadline = time.monotonic() + 60.0 * args.minutes

    def stop_when_late(step: int, _values: dict[str, float]) -> None:
        if time.monotonic() > deadline:
            raise KeyboardInterrupt  # train_gan writes its outputs, then re-raises

    out = ROOT / "runs" / f"labels_{args.family}"
    try:
        train_gan(g, d, images, generator_loss=g_loss, discriminator_loss=d_loss,
                  generator_optimizer=g_opt, discriminator_optimizer=d_opt, config=cfg,
                  out_dir=out, progress=stop_when_late,
                  metadata={"family": args.family, "steps_per_epoch": STEPS_PER_EPOCH})
    except KeyboardInterrupt:
        print(f"{args.family}: stopped at the {args.minutes} min budget; outputs in {out}")
        return 0
    print(f"{args.family}: finished {save_at[-1]} steps; outputs in {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
