"""Measure ``grade check`` latency on the lesson's models adapted to 32x32x3 (target: <= 20 s).

Usage: python bench/check_latency.py [--repeat 3] [--isolation auto]
Writes nothing; prints per-run wall time and the child's phase timings.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

#: the lesson's full-size generator/discriminator (7x7x256 start, 5x5 kernels), made 32x32x3
LESSON = [
    "import tensorflow as tf\nfrom tensorflow.keras import layers\nfrom IPython import display",
    """def make_generator_model():
    model = tf.keras.Sequential()
    model.add(layers.Dense(8*8*256, use_bias=False, input_shape=(100,)))
    model.add(layers.BatchNormalization())
    model.add(layers.LeakyReLU())
    model.add(layers.Reshape((8, 8, 256)))
    model.add(layers.Conv2DTranspose(128, (5, 5), strides=(1, 1), padding='same', use_bias=False))
    model.add(layers.BatchNormalization())
    model.add(layers.LeakyReLU())
    model.add(layers.Conv2DTranspose(64, (5, 5), strides=(2, 2), padding='same', use_bias=False))
    model.add(layers.BatchNormalization())
    model.add(layers.LeakyReLU())
    model.add(layers.Conv2DTranspose(3, (5, 5), strides=(2, 2), padding='same', use_bias=False,
                                     activation='tanh'))
    return model""",
    """def make_discriminator_model():
    model = tf.keras.Sequential()
    model.add(layers.Conv2D(64, (5, 5), strides=(2, 2), padding='same', input_shape=[32, 32, 3]))
    model.add(layers.LeakyReLU())
    model.add(layers.Dropout(0.3))
    model.add(layers.Conv2D(128, (5, 5), strides=(2, 2), padding='same'))
    model.add(layers.LeakyReLU())
    model.add(layers.Dropout(0.3))
    model.add(layers.Flatten())
    model.add(layers.Dense(1))
    return model""",
    """cross_entropy = tf.keras.losses.BinaryCrossentropy(from_logits=True)
def generator_loss(fake_output):
    return cross_entropy(tf.ones_like(fake_output), fake_output)
def discriminator_loss(real_output, fake_output):
    return cross_entropy(tf.ones_like(real_output), real_output) + \\
        cross_entropy(tf.zeros_like(fake_output), fake_output)""",
    """def discriminator_accuracy(real_output, fake_output):
    real_accuracy = tf.reduce_mean(tf.cast(tf.math.greater_equal(real_output, tf.constant([0.5])), tf.float32))
    fake_accuracy = tf.reduce_mean(tf.cast(tf.math.less(fake_output, tf.constant([0.5])), tf.float32))
    return real_accuracy, fake_accuracy""",
    "generator_optimizer = tf.keras.optimizers.Adam(1e-4)\n"
    "discriminator_optimizer = tf.keras.optimizers.Adam(1e-4)",
    "generator = make_generator_model()\ndiscriminator = make_discriminator_model()\n"
    "noise = tf.random.normal([1, 100])\ngenerated_image = generator(noise, training=False)\n"
    "decision = discriminator(generated_image, training=False)",
]


def main() -> None:
    """Run ``grade check`` on the lesson notebook ``--repeat`` times and print timings."""
    import nbformat

    from grader.cli import main as grade

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--isolation", default="auto")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        nb = Path(tmp) / "lesson_cifar10.ipynb"
        cells = [nbformat.v4.new_code_cell(src) for src in LESSON]
        nbformat.write(nbformat.v4.new_notebook(cells=cells), nb)
        walls = []
        for i in range(args.repeat):
            t0 = time.perf_counter()
            code = grade(["check", str(nb), "--isolation", args.isolation])
            walls.append(time.perf_counter() - t0)
            print(f"run {i + 1}: exit {code}, {walls[-1]:.1f} s")
    print(f"grade check latency: median {statistics.median(walls):.1f} s, "
          f"min {min(walls):.1f} s, max {max(walls):.1f} s (target <= 20 s)")


if __name__ == "__main__":
    main()
