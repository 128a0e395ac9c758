"""How short can the grader's verification run be, and where does "the images do not change" lie?

The grader's own run of the student's code only verifies (``grader.scoring.verification``):
it trains, and its fixed-noise images change. This bench trains the lesson-sized DCGAN of
the test fixtures with the trusted trainer on the bundled subset for a range of step counts,
twice: as written (Adam 1e-4), and as code that cannot learn (learning rate 0: the classic
"forgot to apply the gradients" bug, and a forged training loop). It prints the mean
absolute change between the first and the last fixed-noise frame (0..1 scale) and the wall
time, so that ``MIN_FRAME_CHANGE`` separates the two and the quick budget is the smallest
that does so with a margin.

Usage::

    .venv/bin/python bench/verification_budget.py [--steps 5,10,20,40,80] [--seeds 3]
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np


def lesson_models():
    import keras
    from keras import layers

    g = keras.Sequential([keras.Input((100,)), layers.Dense(4 * 4 * 32, use_bias=False),
                          layers.BatchNormalization(), layers.LeakyReLU(),
                          layers.Reshape((4, 4, 32)),
                          layers.Conv2DTranspose(16, 4, strides=2, padding="same",
                                                 use_bias=False),
                          layers.BatchNormalization(), layers.LeakyReLU(),
                          layers.Conv2DTranspose(8, 4, strides=2, padding="same", use_bias=False),
                          layers.LeakyReLU(),
                          layers.Conv2DTranspose(3, 4, strides=2, padding="same", use_bias=False,
                                                 activation="tanh")])
    d = keras.Sequential([keras.Input((32, 32, 3)),
                          layers.Conv2D(8, 4, strides=2, padding="same"), layers.LeakyReLU(),
                          layers.Conv2D(16, 4, strides=2, padding="same"), layers.LeakyReLU(),
                          layers.Flatten(), layers.Dense(1)])
    return g, d


def frame_change(frames: np.ndarray) -> float:
    """Mean absolute change between the first and the last frame, on a 0..1 scale."""
    return float(np.abs(frames[-1].astype(np.float64) - frames[0]).mean() / 255.0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", default="5,10,20,40,80")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--batch", type=int, default=64)
    args = ap.parse_args()

    import keras
    import tensorflow as tf

    from grader.data import load_dataset
    from grader.sandbox.trusted.process import weight_change
    from grader.tf_setup import configure_tensorflow
    from grader.training.trainer import TrainConfig, train_gan

    configure_tensorflow(threads=2)
    images = load_dataset("bundled").x_train
    bce = tf.keras.losses.BinaryCrossentropy(from_logits=True)

    def g_loss(fake):
        return bce(tf.ones_like(fake), fake)

    def d_loss(real, fake):
        return bce(tf.ones_like(real), real) + bce(tf.zeros_like(fake), fake)
    rows = []
    for steps in [int(s) for s in args.steps.split(",")]:
        for lr, label in ((1e-4, "trains"), (0.0, "cannot learn")):
            for seed in range(args.seeds):
                keras.utils.set_random_seed(seed)
                g, d = lesson_models()
                cfg = TrainConfig(steps=steps, batch_size=args.batch, seed=seed,
                                  sample_every=max(1, steps))
                before = [np.array(w) for w in g.trainable_weights]
                t0 = time.perf_counter()
                res = train_gan(g, d, images, generator_loss=g_loss, discriminator_loss=d_loss,
                                generator_optimizer=keras.optimizers.Adam(lr),
                                discriminator_optimizer=keras.optimizers.Adam(lr), config=cfg)
                rows.append({"steps": steps, "code": label, "seed": seed,
                             "frame_change": round(frame_change(res.frames), 4),
                             "generator_change": float(f"{weight_change(before, g):.3g}"),
                             "wall_s": round(time.perf_counter() - t0, 1)})
                print(json.dumps(rows[-1]), flush=True)
    print("\nsteps  code          frame change (min..max)  generator change (min..max)  wall s")
    for steps in sorted({r["steps"] for r in rows}):
        for label in ("trains", "cannot learn"):
            sel = [r for r in rows if r["steps"] == steps and r["code"] == label]
            fc = [r["frame_change"] for r in sel]
            gc = [r["generator_change"] for r in sel]
            print(f"{steps:5d}  {label:12s}  {min(fc):.4f} .. {max(fc):.4f}        "
                  f"{min(gc):.2e} .. {max(gc):.2e}      {np.mean([r['wall_s'] for r in sel]):.1f}")


if __name__ == "__main__":
    main()
