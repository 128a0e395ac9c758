"""The reference trainer: outputs, exact resume, determinism, trusted accuracy."""

from __future__ import annotations

import json

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")

from grader.data import load_dataset  # noqa: E402
from grader.training.trainer import TrainConfig, train_gan  # noqa: E402
from reference import solution  # noqa: E402

IMAGES = load_dataset("bundled").x_train[:96]


def _tiny_models(seed: int = 0):
    tf.keras.utils.set_random_seed(seed)
    return solution.make_generator_model(), solution.make_discriminator_model()


def _run(steps, out_dir=None, resume=False, seed=0, cfg_kw=None, **kw):
    g, d = _tiny_models(seed)
    cfg = TrainConfig(steps=steps, batch_size=16, seed=seed, sample_every=2, checkpoint_every=2,
                      **(cfg_kw or {}))
    return train_gan(g, d, IMAGES, generator_loss=solution.generator_loss,
                     discriminator_loss=solution.discriminator_loss, config=cfg,
                     out_dir=out_dir, resume=resume, **kw)


def test_writes_every_output(tmp_path):
    res = _run(4, tmp_path, student_accuracy=solution.discriminator_accuracy)
    for name in ("history.json", "history.png", "training.gif", "summary.json",
                 "generator.keras", "frames.npz", "checkpoints/checkpoint"):
        assert (tmp_path / name).is_file(), name
    assert sorted(p.name for p in (tmp_path / "samples").iterdir()) == [
        "step_000000.png", "step_000002.png", "step_000004.png"]
    hist = json.loads((tmp_path / "history.json").read_text())
    assert hist["meta"]["seed"] == 0 and hist["meta"]["steps"] == 4
    assert len(hist["history"]["fake_accuracy"]) == 4
    assert res.frames.shape == (3, 16, 32, 32, 3) and res.frames.dtype == np.uint8
    # the reference accuracy is the correct one, so the student's values equal the trusted ones
    np.testing.assert_allclose(res.history["student_fake_accuracy"], res.history["fake_accuracy"])


def test_weight_average_is_saved_beside_the_generator(tmp_path):
    decay = 0.5
    res = _run(2, tmp_path, cfg_kw={"ema_decay": decay, "save_generator_at": (1, 2)})
    for name in ("generator_step_000002.keras", "generator_ema_step_000002.keras",
                 "generator_ema.keras"):
        assert (tmp_path / name).is_file(), name
    g0, _ = _tiny_models(0)  # the same initial weights
    g1 = tf.keras.models.load_model(tmp_path / "generator_step_000001.keras")
    ema = tf.keras.models.load_model(tmp_path / "generator_ema_step_000002.keras")
    # two updates: ema = d^2 w0 + d(1-d) w1 + (1-d) w2, for every weight (BN statistics too)
    for w0, w1, w2, avg in zip(g0.weights, g1.weights, res.generator.weights, ema.weights):
        want = decay**2 * w0.numpy() + decay * (1 - decay) * w1.numpy() + (1 - decay) * w2.numpy()
        np.testing.assert_allclose(avg.numpy(), want, rtol=1e-4, atol=1e-5)
    # the history and frames are the trained generator's, unchanged by the average
    plain = _run(2)
    np.testing.assert_allclose(res.history["gen_loss"], plain.history["gen_loss"], rtol=1e-5)


def test_same_seed_same_history():
    a, b = _run(3), _run(3)
    for key in ("gen_loss", "disc_loss", "fake_accuracy"):
        np.testing.assert_allclose(a.history[key], b.history[key], rtol=1e-5, atol=1e-6)


def test_resume_continues_exactly(tmp_path):
    full = _run(6)
    _run(4, tmp_path / "r")
    resumed = _run(6, tmp_path / "r", resume=True)
    assert len(resumed.history["gen_loss"]) == 6
    np.testing.assert_allclose(resumed.history["gen_loss"], full.history["gen_loss"],
                               rtol=1e-3, atol=1e-4)
    assert resumed.frame_steps == [0, 2, 4, 6]


def test_lesson_accuracy_bug_is_recorded_beside_trusted_accuracy():
    def lesson_accuracy(real_output, fake_output):
        real = tf.reduce_mean(tf.cast(tf.math.greater_equal(real_output, 0.5), tf.float32))
        fake = tf.reduce_mean(tf.cast(tf.math.less(fake_output, 0.5), tf.float32))
        return real, fake

    res = _run(3, student_accuracy=lesson_accuracy)
    trusted = np.asarray(res.history["fake_accuracy"])
    student = np.asarray(res.history["student_fake_accuracy"])
    assert np.all(student >= trusted)  # raw-logit threshold 0.5 over-counts "fake" verdicts


def test_student_train_step_is_used():
    g, d = _tiny_models()
    g_opt, d_opt = solution.make_optimizers()

    def train_step(images):
        noise = tf.random.normal([tf.shape(images)[0], 100])
        with tf.GradientTape() as gt, tf.GradientTape() as dt:
            fake = g(noise, training=True)
            ro, fo = d(images, training=True), d(fake, training=True)
            gl, dl = solution.generator_loss(fo), solution.discriminator_loss(ro, fo)
        g_opt.apply_gradients(zip(gt.gradient(gl, g.trainable_variables), g.trainable_variables))
        d_opt.apply_gradients(zip(dt.gradient(dl, d.trainable_variables), d.trainable_variables))
        return gl, dl

    before = [w.numpy().copy() for w in g.trainable_variables]
    res = train_gan(g, d, IMAGES, generator_loss=solution.generator_loss,
                    discriminator_loss=solution.discriminator_loss, train_step=train_step,
                    config=TrainConfig(steps=2, batch_size=16, sample_every=1))
    assert res.loop == "student_train_step"
    assert len(res.history["fake_accuracy"]) == 2
    assert any(not np.allclose(a, w.numpy()) for a, w in zip(before, g.trainable_variables))


def test_reference_models_meet_the_contract():
    g, d = _tiny_models()
    z = tf.random.normal([7, 100])
    img = g(z, training=False)
    assert img.shape == (7, 32, 32, 3)
    assert float(tf.reduce_max(tf.abs(img))) <= 1.0
    assert d(img, training=False).shape == (7, 1)
    ra, fa = solution.discriminator_accuracy(tf.constant([[0.2], [-0.1]]), tf.constant([[0.3]]))
    assert float(ra) == 0.5 and float(fa) == 0.0  # 0.2 is "real" (logit >= 0)
