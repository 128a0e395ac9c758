"""Reference solution of "CIFAR-10 이미지 생성하기": a DCGAN for 32x32x3 images.

This is the assignment solved as a careful student would: the same function names as the
lesson, adapted to CIFAR-10, with a *correct* ``discriminator_accuracy`` (the discriminator
outputs logits, so a real image is "judged real" when its logit is >= 0, i.e. sigmoid >= 0.5;
the lesson compares raw logits with 0.5, which miscounts logits in [0, 0.5)).

The notebook ``reference/solution.ipynb`` is generated from this file by
``python -m reference.make_notebook``.
"""

# %% [markdown]
# ## Step 2-3. Models
# The generator maps noise (None, 100) to (None, 32, 32, 3) in [-1, 1] (tanh). The
# discriminator maps an image to one logit (no sigmoid: the losses use from_logits=True).
# Architecture after Radford et al. (2016), "Unsupervised Representation Learning with
# Deep Convolutional GANs": strided (transposed) convolutions, batch norm in G, LeakyReLU.

# %%
import tensorflow as tf
from tensorflow.keras import layers

NOISE_DIM = 100


def make_generator_model(noise_dim: int = NOISE_DIM) -> tf.keras.Model:
    """DCGAN generator: (None, noise_dim) -> (None, 32, 32, 3), tanh."""
    return tf.keras.Sequential(
        [
            layers.Input(shape=(noise_dim,)),
            layers.Dense(4 * 4 * 256, use_bias=False),
            layers.BatchNormalization(),
            layers.LeakyReLU(0.2),
            layers.Reshape((4, 4, 256)),
            layers.Conv2DTranspose(128, 4, strides=2, padding="same", use_bias=False),
            layers.BatchNormalization(),
            layers.LeakyReLU(0.2),
            layers.Conv2DTranspose(64, 4, strides=2, padding="same", use_bias=False),
            layers.BatchNormalization(),
            layers.LeakyReLU(0.2),
            layers.Conv2DTranspose(3, 4, strides=2, padding="same", activation="tanh"),
        ],
        name="generator",
    )


def make_discriminator_model() -> tf.keras.Model:
    """DCGAN discriminator: (None, 32, 32, 3) -> (None, 1) logits."""
    return tf.keras.Sequential(
        [
            layers.Input(shape=(32, 32, 3)),
            layers.Conv2D(64, 4, strides=2, padding="same"),
            layers.LeakyReLU(0.2),
            layers.Conv2D(128, 4, strides=2, padding="same", use_bias=False),
            layers.BatchNormalization(),
            layers.LeakyReLU(0.2),
            layers.Conv2D(256, 4, strides=2, padding="same", use_bias=False),
            layers.BatchNormalization(),
            layers.LeakyReLU(0.2),
            layers.Flatten(),
            layers.Dense(1),
        ],
        name="discriminator",
    )


# %% [markdown]
# ## Step 4. Losses, accuracy and optimizers

# %%
cross_entropy = tf.keras.losses.BinaryCrossentropy(from_logits=True)


def generator_loss(fake_output):
    """The generator wants the discriminator to call its images real (label 1)."""
    return cross_entropy(tf.ones_like(fake_output), fake_output)


def discriminator_loss(real_output, fake_output):
    """Real images should get label 1, generated ones label 0."""
    real_loss = cross_entropy(tf.ones_like(real_output), real_output)
    fake_loss = cross_entropy(tf.zeros_like(fake_output), fake_output)
    return real_loss + fake_loss


def discriminator_accuracy(real_output, fake_output):
    """Fraction of real logits >= 0 and of fake logits < 0 (sigmoid threshold 0.5)."""
    real_accuracy = tf.reduce_mean(tf.cast(real_output >= 0.0, tf.float32))
    fake_accuracy = tf.reduce_mean(tf.cast(fake_output < 0.0, tf.float32))
    return real_accuracy, fake_accuracy


def make_optimizers():
    """Adam with the DCGAN paper's settings (lr 2e-4, beta_1 0.5) for G and D."""
    return (tf.keras.optimizers.Adam(2e-4, beta_1=0.5),
            tf.keras.optimizers.Adam(2e-4, beta_1=0.5))


generator_optimizer, discriminator_optimizer = make_optimizers()
