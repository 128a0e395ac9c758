"""Notebooks with outputs, built for the hostile tests (lesson code, crafted figures)."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import numpy as np

LESSON_CODE = """\
import tensorflow as tf
from tensorflow.keras import layers
import matplotlib.pyplot as plt

def make_generator_model():
    model = tf.keras.Sequential()
    model.add(layers.Dense(8 * 8 * 64, use_bias=False, input_shape=(100,)))
    model.add(layers.BatchNormalization())
    model.add(layers.LeakyReLU())
    model.add(layers.Reshape((8, 8, 64)))
    model.add(layers.Conv2DTranspose(32, (5, 5), strides=(2, 2), padding='same', use_bias=False))
    model.add(layers.BatchNormalization())
    model.add(layers.LeakyReLU())
    model.add(layers.Conv2DTranspose(3, (5, 5), strides=(2, 2), padding='same', use_bias=False,
                                     activation='tanh'))
    return model

def make_discriminator_model():
    model = tf.keras.Sequential()
    model.add(layers.Conv2D(32, (5, 5), strides=(2, 2), padding='same', input_shape=[32, 32, 3]))
    model.add(layers.LeakyReLU())
    model.add(layers.Flatten())
    model.add(layers.Dense(1))
    return model
"""

DRAW_CODE = """\
def generate_and_save_images(model, epoch, it, sample_seeds):
    predictions = model(sample_seeds, training=False)
    fig = plt.figure(figsize=(4, 4))
    for i in range(predictions.shape[0]):
        plt.subplot(4, 4, i + 1)
        plt.imshow((predictions[i] + 1) / 2)
        plt.axis('off')
    plt.savefig('generated_samples/sample_epoch_{:04d}_iter_{:03d}.png'.format(epoch, it))
    plt.show()

def draw_train_history(history, epoch):
    plt.subplot(211)
    plt.plot(history['gen_loss'])
    plt.plot(history['disc_loss'])
    plt.title('model loss')
    plt.legend(['gen_loss', 'disc_loss'], loc='upper left')
    plt.subplot(212)
    plt.plot(history['fake_accuracy'])
    plt.plot(history['real_accuracy'])
    plt.title('discriminator accuracy')
    plt.legend(['fake_accuracy', 'real_accuracy'], loc='upper left')
    plt.savefig('training_history/train_history_{:04d}.png'.format(epoch))
    plt.show()
"""

TRAIN_CODE = """\
EPOCHS = 50
train(train_dataset, EPOCHS, save_every)
generate_and_save_images(generator, EPOCHS, 0, seed)
draw_train_history(history, EPOCHS)
"""


def png(fig) -> str:
    """A matplotlib figure as base64 PNG (closed afterwards)."""
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode()


def grid_png(tiles: np.ndarray) -> str:
    """16 uint8 tiles drawn as the lesson's generate_and_save_images draws them."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(4, 4))
    for i in range(16):
        plt.subplot(4, 4, i + 1)
        plt.imshow(tiles[i])
        plt.axis("off")
    return png(fig)


def history_png(steps: int = 400, seed: int = 0) -> str:
    """A draw_train_history figure: fake accuracy falls from ~1 towards 0.5."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rng = np.random.default_rng(seed)
    t = np.arange(steps)
    fake = np.clip(0.55 + 0.45 * np.exp(-t / 120) + rng.normal(0, 0.04, steps), 0, 1)
    real = np.clip(0.6 + 0.3 * np.exp(-t / 150) + rng.normal(0, 0.04, steps), 0, 1)
    fig = plt.figure(figsize=(8, 6))
    plt.subplot(211)
    plt.plot(1.0 + 0.3 * rng.normal(size=steps))
    plt.plot(1.2 + 0.2 * rng.normal(size=steps))
    plt.title("model loss")
    plt.legend(["gen_loss", "disc_loss"], loc="upper left")
    plt.subplot(212)
    plt.plot(fake)
    plt.plot(real)
    plt.title("discriminator accuracy")
    plt.legend(["fake_accuracy", "real_accuracy"], loc="upper left")
    return png(fig)


def blobs(n: int = 16, seed: int = 0) -> np.ndarray:
    """Smooth colour blobs: what an untrained or barely trained generator shows."""
    from scipy.ndimage import gaussian_filter

    rng = np.random.default_rng(seed)
    x = gaussian_filter(rng.normal(size=(n, 32, 32, 3)), sigma=(0, 4, 4, 0))
    x = (x - x.min()) / (x.max() - x.min() + 1e-9)
    return (255 * x).astype(np.uint8)


def notebook(path: Path, grid: str, history: str) -> Path:
    """A lesson notebook whose training cell shows ``grid`` and ``history`` (base64 PNGs)."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    cells = [nbformat.v4.new_code_cell(LESSON_CODE, execution_count=1),
             nbformat.v4.new_code_cell(DRAW_CODE, execution_count=2),
             nbformat.v4.new_code_cell(TRAIN_CODE, execution_count=3)]
    cells[2].outputs = [
        nbformat.v4.new_output("display_data", data={"image/png": grid, "text/plain": "<Figure>"}),
        nbformat.v4.new_output("display_data", data={"image/png": history,
                                                     "text/plain": "<Figure>"})]
    nb.cells = cells
    nbformat.write(nb, str(path))
    return path
