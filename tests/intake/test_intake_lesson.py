"""A lesson-style CIFAR-10 notebook (written for this test, following the course's steps)."""

from __future__ import annotations

import sys
from pathlib import Path

from intake_builders import notebook

from grader.intake import Submission, load_submission
from grader.intake.candidates import find_candidates

CELLS = [
    "import os, glob, time\nimport imageio\nimport numpy as np\nimport tensorflow as tf\n"
    "from tensorflow.keras import layers\nfrom IPython import display\n"
    "import matplotlib.pyplot as plt\n%matplotlib inline",
    "!mkdir -p ~/aiffel/dcgan_newimage/cifar10/generated_samples",
    "cifar10 = tf.keras.datasets.cifar10\n(train_x, _), (test_x, _) = cifar10.load_data()\ntrain_x.shape",
    "train_x = (train_x - 127.5) / 127.5\nprint(train_x.max(), train_x.min())",
    "BUFFER_SIZE = 50000\nBATCH_SIZE = 256\n"
    "train_dataset = tf.data.Dataset.from_tensor_slices(train_x).shuffle(BUFFER_SIZE).batch(BATCH_SIZE)",
    "def make_generator_model():\n    net = tf.keras.Sequential()\n"
    "    net.add(layers.Dense(4 * 4 * 256, use_bias=False, input_shape=(100,)))\n"
    "    net.add(layers.Reshape((4, 4, 256)))\n"
    "    net.add(layers.Conv2DTranspose(3, 5, strides=8, padding='same', activation='tanh'))\n"
    "    return net",
    "generator = make_generator_model()\ngenerator.summary()",
    "noise = tf.random.normal([1, 100])\ngenerated_image = generator(noise, training=False)\n"
    "plt.imshow((generated_image[0] + 1) / 2)",
    "def make_discriminator_model():\n    net = tf.keras.Sequential()\n"
    "    net.add(layers.Conv2D(64, 5, strides=2, padding='same', input_shape=[32, 32, 3]))\n"
    "    net.add(layers.Flatten())\n    net.add(layers.Dense(1))\n    return net",
    "discriminator = make_discriminator_model()\ndecision = discriminator(generated_image, training=False)",
    "cross_entropy = tf.keras.losses.BinaryCrossentropy(from_logits=True)",
    "def generator_loss(fake_output):\n    return cross_entropy(tf.ones_like(fake_output), fake_output)\n\n"
    "def discriminator_loss(real_output, fake_output):\n"
    "    return (cross_entropy(tf.ones_like(real_output), real_output)\n"
    "            + cross_entropy(tf.zeros_like(fake_output), fake_output))",
    "def discriminator_accuracy(real_output, fake_output):\n"
    "    real = tf.reduce_mean(tf.cast(real_output >= 0.0, tf.float32))\n"
    "    fake = tf.reduce_mean(tf.cast(fake_output < 0.0, tf.float32))\n    return real, fake",
    "generator_optimizer = tf.keras.optimizers.Adam(2e-4, beta_1=0.5)\n"
    "discriminator_optimizer = tf.keras.optimizers.Adam(2e-4, beta_1=0.5)",
    "noise_dim = 100\nnum_examples_to_generate = 16\n"
    "seed = tf.random.normal([num_examples_to_generate, noise_dim])",
    "@tf.function\ndef train_step(images):\n    noise = tf.random.normal([BATCH_SIZE, noise_dim])\n"
    "    with tf.GradientTape() as gt, tf.GradientTape() as dt:\n"
    "        fake = generator(noise, training=True)\n"
    "        real_out = discriminator(images, training=True)\n"
    "        fake_out = discriminator(fake, training=True)\n"
    "        g_loss = generator_loss(fake_out)\n        d_loss = discriminator_loss(real_out, fake_out)\n"
    "    generator_optimizer.apply_gradients(zip(gt.gradient(g_loss, generator.trainable_variables),"
    " generator.trainable_variables))\n"
    "    discriminator_optimizer.apply_gradients(zip(dt.gradient(d_loss, discriminator.trainable_variables),"
    " discriminator.trainable_variables))\n    return g_loss, d_loss",
    "checkpoint_dir = os.getenv('HOME') + '/aiffel/dcgan_newimage/cifar10/training_checkpoints'\n"
    "checkpoint_prefix = os.path.join(checkpoint_dir, 'ckpt')\n"
    "checkpoint = tf.train.Checkpoint(generator=generator, discriminator=discriminator)",
    "save_every = 5\nEPOCHS = 50",
    "%%time\ntrain(train_dataset, EPOCHS, save_every)",
    "anim_file = os.getenv('HOME') + '/aiffel/dcgan_newimage/cifar10/cifar10_dcgan.gif'\n"
    "with imageio.get_writer(anim_file, mode='I') as writer:\n"
    "    for name in sorted(glob.glob('generated_samples/sample*.png')):\n"
    "        writer.append_data(imageio.imread(name))\n"
    "!ls -l ~/aiffel/dcgan_newimage/cifar10/cifar10_dcgan.gif",
]

KEPT = [
    ("import", ["os", "glob", "time"]), ("import", ["imageio"]), ("import", ["np"]),
    ("import", ["tf"]), ("import", ["layers"]), ("import", ["display"]), ("import", ["plt"]),
    ("assign", ["cifar10"]), ("assign", ["BUFFER_SIZE"]), ("assign", ["BATCH_SIZE"]),
    ("function", ["make_generator_model"]), ("model_build", ["generator"]), ("assign", ["noise"]),
    ("function", ["make_discriminator_model"]), ("model_build", ["discriminator"]),
    ("assign", ["cross_entropy"]), ("function", ["generator_loss"]), ("function", ["discriminator_loss"]),
    ("function", ["discriminator_accuracy"]), ("assign", ["generator_optimizer"]),
    ("assign", ["discriminator_optimizer"]), ("assign", ["noise_dim"]),
    ("assign", ["num_examples_to_generate"]), ("assign", ["seed"]), ("function", ["train_step"]),
    ("assign", ["save_every"]), ("assign", ["EPOCHS"]),
]


def _load(tmp_path: Path) -> Submission:
    return load_submission(notebook(CELLS, tmp_path / "lesson.ipynb"), tmp_path / "work")


def test_lesson_notebook_keeps_definitions_and_cheap_setup(tmp_path: Path) -> None:
    sub = _load(tmp_path)
    assert [(u.kind, u.names) for u in sub.code_units] == KEPT
    assert not sub.cell_failures
    assert sub.dropped_counts() == {
        "IPython magic or shell": 4, "data loading": 2, "expression": 1, "other assignment": 1,
        "plotting or display": 3, "runs a model": 2, "file I/O": 4, "checkpoint": 1, "training": 1,
    }
    step = sub.versions("train_step")[0]
    assert step.source.startswith("@tf.function\ndef train_step(images):") and step.decorators == ["tf.function"]
    assert [c.name for c in find_candidates(sub.code_units)] == [
        "make_generator_model", "make_discriminator_model", "generator_loss", "discriminator_loss",
        "discriminator_accuracy", "train_step"]
    assert sub.missing_artifacts == ["training_checkpoints", "cifar10_dcgan.gif"]


def test_json_round_trip_is_plain_data(tmp_path: Path) -> None:
    sub = _load(tmp_path)
    text = sub.to_json()
    back = Submission.from_json(text)
    assert back == sub
    assert back.to_json() == text
    assert "__class__" not in text and '"root": "' in text


def test_intake_does_not_import_tensorflow() -> None:
    import subprocess

    code = ("import sys, grader.intake; from grader.intake import load_submission; "
            "print('tensorflow' in sys.modules, 'keras' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
