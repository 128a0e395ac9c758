"""Images/s of the reference trainer vs the lesson's plain ``train_step`` loop.

Same models (``reference.solution``), same batch, same data, one run, warm-up excluded.
Variants: the lesson loop (``tf.data`` shuffle+batch, ``@tf.function`` train_step, history
appended as tensors); the reference trainer (in-memory uint8 batches, ``tf.function``);
the reference trainer with ``jit_compile=True`` (XLA); both again with the models built
under the ``mixed_bfloat16`` policy (bfloat16 compute, float32 weights).

Usage: python bench/train_throughput.py [--steps 60] [--batch 128] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np


def lesson_loop(images: np.ndarray, steps: int, batch: int) -> float:
    """The lesson's loop, adapted to CIFAR-10; returns images/s over ``steps`` timed steps."""
    import tensorflow as tf

    from reference import solution

    tf.keras.utils.set_random_seed(0)
    generator = solution.make_generator_model()
    discriminator = solution.make_discriminator_model()
    g_opt, d_opt = solution.make_optimizers()
    train_x = (images.astype("float32") - 127.5) / 127.5
    dataset = (tf.data.Dataset.from_tensor_slices(train_x).shuffle(len(train_x))
               .batch(batch, drop_remainder=True).repeat())

    @tf.function
    def train_step(real):
        noise = tf.random.normal([batch, 100])
        with tf.GradientTape() as gen_tape, tf.GradientTape() as disc_tape:
            fake = generator(noise, training=True)
            real_output = discriminator(real, training=True)
            fake_output = discriminator(fake, training=True)
            gen_loss = solution.generator_loss(fake_output)
            disc_loss = solution.discriminator_loss(real_output, fake_output)
            real_acc, fake_acc = solution.discriminator_accuracy(real_output, fake_output)
        g_grads = gen_tape.gradient(gen_loss, generator.trainable_variables)
        d_grads = disc_tape.gradient(disc_loss, discriminator.trainable_variables)
        g_opt.apply_gradients(zip(g_grads, generator.trainable_variables))
        d_opt.apply_gradients(zip(d_grads, discriminator.trainable_variables))
        return gen_loss, disc_loss, real_acc, fake_acc

    history = {"gen_loss": [], "disc_loss": [], "real_accuracy": [], "fake_accuracy": []}
    it = iter(dataset)
    for _ in range(3):
        train_step(next(it))
    t0 = time.perf_counter()
    for _ in range(steps):
        out = train_step(next(it))
        for key, value in zip(history, out):
            history[key].append(value)
    float(history["gen_loss"][-1])  # make sure the work is done
    return batch * steps / (time.perf_counter() - t0)


def reference_trainer(images: np.ndarray, steps: int, batch: int, jit: bool,
                      precision: str = "float32") -> float:
    """The reference trainer; images/s measured after a 3-step warm-up."""
    import tensorflow as tf

    from grader.training.trainer import TrainConfig, precision_policy, train_gan
    from reference import solution

    tf.keras.utils.set_random_seed(0)
    with precision_policy(precision):
        generator = solution.make_generator_model()
        discriminator = solution.make_discriminator_model()
    times: list[float] = []

    def tick(step: int, _values: dict) -> None:
        times.append(time.perf_counter())

    train_gan(generator, discriminator, images, generator_loss=solution.generator_loss,
              discriminator_loss=solution.discriminator_loss,
              config=TrainConfig(steps=steps + 3, batch_size=batch, sample_every=10**9,
                                 jit_compile=jit), progress=tick)
    return batch * steps / (times[-1] - times[2])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--json", default=None)
    args = parser.parse_args()

    from grader.data import load_dataset
    from grader.tf_setup import configure_tensorflow

    device = configure_tensorflow(seed=0)
    images = load_dataset().x_train
    results = {
        "lesson_loop": lesson_loop(images, args.steps, args.batch),
        "reference": reference_trainer(images, args.steps, args.batch, jit=False),
        "reference_jit": reference_trainer(images, args.steps, args.batch, jit=True),
        "reference_bf16": reference_trainer(images, args.steps, args.batch, jit=False,
                                            precision="mixed_bfloat16"),
        "reference_bf16_jit": reference_trainer(images, args.steps, args.batch, jit=True,
                                                precision="mixed_bfloat16"),
    }
    base = results["lesson_loop"]
    from grader.judge.precision import native_bfloat16

    print(f"device {device}, batch {args.batch}, {args.steps} timed steps each, "
          f"native bfloat16: {native_bfloat16()}")
    for name, ips in results.items():
        print(f"  {name:<15} {ips:8.1f} img/s   x{ips / base:.2f} vs lesson loop")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"device": device, "batch": args.batch, "steps": args.steps,
                       "images_per_s": results}, fh, indent=1)


if __name__ == "__main__":
    main()
