"""Crafted submissions (as code units) for the sandbox tests: small and fast to build."""

from __future__ import annotations

IMPORTS = """\
import os
import numpy as np
import tensorflow as tf
from tensorflow.keras import layers
from IPython import display
"""

GENERATOR = """\
def make_generator_model():
    model = tf.keras.Sequential()
    model.add(layers.Dense(4 * 4 * 32, use_bias=False, input_shape=(100,)))
    model.add(layers.BatchNormalization())
    model.add(layers.LeakyReLU())
    model.add(layers.Reshape((4, 4, 32)))
    model.add(layers.Conv2DTranspose(16, (4, 4), strides=(2, 2), padding='same', use_bias=False))
    model.add(layers.BatchNormalization())
    model.add(layers.LeakyReLU())
    model.add(layers.Conv2DTranspose(8, (4, 4), strides=(2, 2), padding='same', use_bias=False))
    model.add(layers.LeakyReLU())
    model.add(layers.Conv2DTranspose(3, (4, 4), strides=(2, 2), padding='same', use_bias=False,
                                     activation='tanh'))
    return model
"""

DISCRIMINATOR = """\
def make_discriminator_model():
    model = tf.keras.Sequential()
    model.add(layers.Conv2D(8, (4, 4), strides=(2, 2), padding='same', input_shape=[32, 32, 3]))
    model.add(layers.LeakyReLU())
    model.add(layers.Dropout(0.3))
    model.add(layers.Conv2D(16, (4, 4), strides=(2, 2), padding='same'))
    model.add(layers.LeakyReLU())
    model.add(layers.Flatten())
    model.add(layers.Dense(1))
    return model
"""

LOSSES = """\
cross_entropy = tf.keras.losses.BinaryCrossentropy(from_logits=True)

def generator_loss(fake_output):
    return cross_entropy(tf.ones_like(fake_output), fake_output)

def discriminator_loss(real_output, fake_output):
    real_loss = cross_entropy(tf.ones_like(real_output), real_output)
    fake_loss = cross_entropy(tf.zeros_like(fake_output), fake_output)
    return real_loss + fake_loss
"""

ACCURACY_GOOD = """\
def discriminator_accuracy(real_output, fake_output):
    real_accuracy = tf.reduce_mean(tf.cast(tf.math.greater_equal(tf.sigmoid(real_output), 0.5), tf.float32))
    fake_accuracy = tf.reduce_mean(tf.cast(tf.math.less(tf.sigmoid(fake_output), 0.5), tf.float32))
    return real_accuracy, fake_accuracy
"""

ACCURACY_LESSON = """\
def discriminator_accuracy(real_output, fake_output):
    real_accuracy = tf.reduce_mean(tf.cast(tf.math.greater_equal(real_output, tf.constant([0.5])), tf.float32))
    fake_accuracy = tf.reduce_mean(tf.cast(tf.math.less(fake_output, tf.constant([0.5])), tf.float32))
    return real_accuracy, fake_accuracy
"""

OPTIMIZERS = """\
generator_optimizer = tf.keras.optimizers.Adam(1e-4)
discriminator_optimizer = tf.keras.optimizers.Adam(1e-4)
"""

BUILD = """\
generator = make_generator_model()
discriminator = make_discriminator_model()
"""

FASHION_GENERATOR = GENERATOR.replace("4 * 4 * 32", "7 * 7 * 32").replace(
    "(4, 4, 32)", "(7, 7, 32)").replace(
    "model.add(layers.Conv2DTranspose(3, (4, 4), strides=(2, 2)",
    "model.add(layers.Conv2DTranspose(1, (4, 4), strides=(1, 1)")
FASHION_DISCRIMINATOR = DISCRIMINATOR.replace("[32, 32, 3]", "[28, 28, 1]")


def units(*cells: str, kind: str = "function") -> list[dict]:
    """Code units as intake would give them (one per cell)."""
    return [{"origin": f"cell {i + 1}", "source": src, "kind": kind, "name": "", "names": []}
            for i, src in enumerate(cells)]


def good() -> list[dict]:
    """The lesson's code adapted to 32x32x3 with a correct accuracy: every check passes."""
    return units(IMPORTS, GENERATOR, DISCRIMINATOR, LOSSES, ACCURACY_GOOD, OPTIMIZERS, BUILD)


def lesson_accuracy_bug() -> list[dict]:
    """As :func:`good` but with the lesson's accuracy (raw logits compared with 0.5)."""
    return units(IMPORTS, GENERATOR, DISCRIMINATOR, LOSSES, ACCURACY_LESSON, OPTIMIZERS)


def fashion() -> list[dict]:
    """The Fashion-MNIST lesson models left unchanged (28x28x1)."""
    return units(IMPORTS, FASHION_GENERATOR, FASHION_DISCRIMINATOR, LOSSES, ACCURACY_LESSON)
