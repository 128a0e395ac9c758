"""A second assignment of another shape and class set grades end to end.

The assignment is a folder written here: 16x16 grey images of three shapes, noise of size 8,
a tiny judge trained in the test, and the CIFAR-10 assignment's rubric. Nothing in the
engine knows these facts; it reads them from the folder.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from grader.assignment import get_assignment, load_assignment

ROOT = Path(__file__).resolve().parents[2]
SHAPE = (16, 16, 1)
CLASSES = ("disc", "bar", "cross")

ASSIGNMENT_TOML = """\
id = "shapes16"
title_en = "Generating grey shapes"
title_ko = "회색 도형 생성하기"
epochs = 5
rubric = "rubric.toml"

[images]
shape = [16, 16, 1]
noise_dim = 8
classes = ["disc", "bar", "cross"]

[data]
dataset = "npz"
name = "Shapes-16"
train_size = 600
subset = "data.npz"

[judge]
weights = "judge/classifier.keras"
calibration = "judge/calibration.json"
test_stats = "judge/test_stats.npz"
class_stats = "judge/class_stats.npz"

[[leftovers]]
shape = [32, 32, 3]
name = "CIFAR-10"
"""

SUBMISSION = '''\
import tensorflow as tf
from tensorflow.keras import layers

def make_generator_model():
    return tf.keras.Sequential([
        layers.Input(shape=(8,)),
        layers.Dense(4 * 4 * 16),
        layers.LeakyReLU(),
        layers.Reshape((4, 4, 16)),
        layers.Conv2DTranspose(8, 4, strides=2, padding="same"),
        layers.LeakyReLU(),
        layers.Conv2DTranspose(1, 4, strides=2, padding="same", activation="tanh"),
    ])

def make_discriminator_model():
    return tf.keras.Sequential([
        layers.Input(shape=(16, 16, 1)),
        layers.Conv2D(8, 4, strides=2, padding="same"),
        layers.LeakyReLU(),
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
    return (tf.reduce_mean(tf.cast(real_output >= 0, tf.float32)),
            tf.reduce_mean(tf.cast(fake_output < 0, tf.float32)))

generator_optimizer = tf.keras.optimizers.Adam(1e-3)
discriminator_optimizer = tf.keras.optimizers.Adam(1e-3)
'''


def shapes(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` grey 16x16 images of a disc, a bar or a cross (label 0, 1, 2) at random places."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:16, :16]
    x = np.zeros((n, *SHAPE), np.uint8)
    y = rng.integers(0, 3, n)
    for i, label in enumerate(y):
        cy, cx = rng.integers(5, 11, 2)
        if label == 0:
            mask = (yy - cy) ** 2 + (xx - cx) ** 2 <= 9
        elif label == 1:
            mask = (abs(yy - cy) <= 1) & (abs(xx - cx) <= 5)
        else:
            mask = ((abs(yy - cy) <= 1) & (abs(xx - cx) <= 4)) | \
                ((abs(xx - cx) <= 1) & (abs(yy - cy) <= 4))
        x[i, ..., 0] = np.where(mask, 220, 20) + rng.integers(0, 20, (16, 16))
    return x, y.astype(np.int64)


def build_assignment(folder: Path) -> Path:
    """Write the assignment folder, training its tiny judge (a few seconds)."""
    keras = pytest.importorskip("keras")
    from grader.judge.calibration import features_to_stats, fit_class_stats, save_feature_stats
    from grader.judge.classifier import file_sha256

    (folder / "judge").mkdir(parents=True)
    (folder / "assignment.toml").write_text(ASSIGNMENT_TOML, encoding="utf-8")
    shutil.copy(get_assignment("cifar10_dcgan").rubric, folder / "rubric.toml")
    x_train, y_train = shapes(600, 0)
    x_test, y_test = shapes(150, 1)
    np.savez_compressed(folder / "data.npz", x_train=x_train, y_train=y_train,
                        x_test=x_test, y_test=y_test)
    keras.utils.set_random_seed(0)
    inputs = keras.Input(SHAPE)
    h = keras.layers.Rescaling(1 / 255.0)(inputs)
    h = keras.layers.Conv2D(8, 3, activation="relu")(h)
    h = keras.layers.MaxPooling2D()(h)
    h = keras.layers.Conv2D(16, 3, activation="relu")(h)
    feats = keras.layers.GlobalAveragePooling2D(name="features")(h)
    model = keras.Model(inputs, keras.layers.Dense(3, name="logits")(feats))
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    model.fit(x_train.astype("float32"), y_train, epochs=8, batch_size=32, verbose=0)
    model.save(folder / "judge" / "classifier.keras")
    featurize = keras.Model(inputs, feats)
    f_test = featurize.predict(x_test.astype("float32"), verbose=0).astype(np.float64)
    save_feature_stats(features_to_stats(f_test), folder / "judge" / "test_stats.npz")
    cs = fit_class_stats(f_test, y_test)
    np.savez(folder / "judge" / "class_stats.npz", means=cs.means, precision=cs.precision)
    accuracy = float(model.evaluate(x_test.astype("float32"), y_test, verbose=0)[1])
    (folder / "judge" / "calibration.json").write_text(json.dumps({
        "temperature": 1.0, "tau": 0.6, "test_accuracy": accuracy,
        "weights_sha256": file_sha256(folder / "judge" / "classifier.keras")}))
    return folder


def test_the_assignment_folder_is_read(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "assignment.toml").write_text(ASSIGNMENT_TOML, encoding="utf-8")
    a = load_assignment(tmp_path / "a")
    assert a.image_shape == SHAPE and a.class_names == CLASSES and a.noise_dim == 8
    assert a.facts()["leftovers"] == [{"shape": [32, 32, 3], "name": "CIFAR-10"}]
    assert a.judge.weights == tmp_path / "a" / "judge" / "classifier.keras"


@pytest.mark.slow
def test_an_assignment_of_another_shape_grades_end_to_end(tmp_path):
    folder = build_assignment(tmp_path / "shapes16")
    sub = tmp_path / "shapes_gan.py"
    sub.write_text(SUBMISSION, encoding="utf-8")
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "grader.cli", str(sub), "--assignment",
                           str(folder), "--steps", "12", "--out", str(out)], cwd=ROOT,
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    res = json.loads((out / "result.json").read_text())
    checks = {c["id"]: c for c in res["checks"]}
    assert checks["generator_output_shape"]["status"] == "pass", checks["generator_output_shape"]
    assert "(16, 16, 1)" in checks["generator_output_shape"]["message_en"]
    assert checks["discriminator_output_shape"]["status"] == "pass"
    assert checks["fashion_mnist_leftover"]["status"] == "pass"
    assert checks["trainable_step"]["status"] == "pass"
    judged = json.loads((out / "work" / "judged.json").read_text())
    final = judged["final_samples"]
    assert final["class_names"] == list(CLASSES) and len(final["class_histogram"]) == 3
    assert final["n"] > 0
    assert (out / "report.html").stat().st_size > 1000
