"""Broken submissions in the check phase, and the train / sample_checkpoint phases."""

from __future__ import annotations

import numpy as np
import pytest
import sandbox_fixtures as fixtures

from grader.assignment import get_assignment
from grader.evidence import load_images_npz
from grader.sandbox.launch import run_child
from grader.sandbox.limits import Limits
from grader.sandbox.plan import checks_from_outcome, make_plan, write_real_images

tf = pytest.importorskip("tensorflow")

LIMITS = Limits(timeout_s=240, memory_mb=3072)
BCE = tf.keras.losses.BinaryCrossentropy(from_logits=True)
BCE_P = tf.keras.losses.BinaryCrossentropy(from_logits=False)


def _run(tmp_path, units, phases=None):
    work = tmp_path / "work"
    from grader.data import load_dataset

    write_real_images(work, load_dataset().x_train[:96], (32, 32, 3))
    plan = make_plan(units, phases or [{"name": "check", "timeout_s": 120}], assignment=get_assignment(), threads=2)
    out = run_child(plan, work, LIMITS)
    return out, {c.id: c for c in checks_from_outcome(out)}


def test_missing_and_raising_functions_and_variant_names(tmp_path):
    raising = "def make_generator_model():\n    raise ValueError('not done yet')\n"
    variant = fixtures.GENERATOR.replace("make_generator_model", "build_generator_v2")
    out, checks = _run(tmp_path, fixtures.units(fixtures.IMPORTS, raising, variant,
                                                "def generator_loss(f):\n    return 0.0\n"))
    assert out.status == "ok"
    g = checks["generator_builds"]
    assert g.status == "pass" and g.details["used"] == "build_generator_v2"
    assert "not done yet" in g.details["candidates"][0]["error"]
    assert checks["discriminator_builds"].status == "fail"
    assert checks["loss_functions"].status == "fail"  # discriminator_loss missing
    assert checks["accuracy_function"].status == "fail"
    assert checks["trainable_step"].status == "skip"


def test_train_and_sample_checkpoint_phases(tmp_path):
    pytest.importorskip("tensorflow")
    ckpt = ("ckpt_dir = os.path.join(os.getcwd(), 'ckpt')\n"
            "tf.train.Checkpoint(generator=generator, discriminator=discriminator)"
            ".save(os.path.join(ckpt_dir, 'ckpt'))\n")
    improved = fixtures.GENERATOR.replace("LeakyReLU()", "ReLU()")
    units = fixtures.good() + fixtures.units(ckpt, improved)
    phases = [{"name": "train", "timeout_s": 200, "steps": 3, "batch_size": 16,
               "sample_every": 2, "n_samples": 8},
              {"name": "sample_checkpoint", "timeout_s": 60, "path": "ckpt", "n": 5}]
    out, _ = _run(tmp_path, units, phases)
    assert out.status == "ok", out.log_tail[-2000:]
    assert out.result["phase_errors"] == {}
    variants = out.result["variants"]
    assert [v["name"] for v in variants] == ["baseline", "final"]
    for v in variants:
        assert v["error"] is None and len(v["history"]["gen_loss"]) == 3
        imgs = load_images_npz(tmp_path / "work" / v["samples_file"], "images", (32, 32, 3))
        assert imgs.shape == (8, 32, 32, 3)
        assert load_images_npz(tmp_path / "work" / v["frames_file"], "frames", (32, 32, 3)).shape[1] == 16
    assert np.isfinite(variants[0]["history"]["disc_loss"]).all()
    samples = load_images_npz(tmp_path / "work" / out.result["checkpoint_samples_file"], "images", (32, 32, 3))
    assert samples.shape == (5, 32, 32, 3)


def test_a_loss_only_improvement_is_trained_as_two_variants(tmp_path):
    pytest.importorskip("tensorflow")
    smoothing = ("def discriminator_loss(real_output, fake_output):\n"
                 "    return (cross_entropy(tf.ones_like(real_output) * 0.9, real_output)\n"
                 "            + cross_entropy(tf.zeros_like(fake_output), fake_output))\n")
    units = fixtures.good() + fixtures.units(smoothing)
    phases = [{"name": "train", "timeout_s": 200, "steps": 2, "batch_size": 16,
               "sample_every": 2, "n_samples": 4}]
    out, _ = _run(tmp_path, units, phases)
    assert out.status == "ok", out.log_tail[-2000:]
    variants = out.result["variants"]
    assert [v["name"] for v in variants] == ["baseline", "final"]
    assert variants[0]["generator_fn"] == variants[1]["generator_fn"]
    assert all(v["error"] is None for v in variants)


LESSON_TRAIN_STEP = '''\
noise_dim = 100
BATCH_SIZE = 256


@tf.function
def train_step(images):
    noise = tf.random.normal([BATCH_SIZE, noise_dim])
    with tf.GradientTape() as gen_tape, tf.GradientTape() as disc_tape:
        generated_images = generator(noise, training=True)
        real_output = discriminator(images, training=True)
        fake_output = discriminator(generated_images, training=True)
        gen_loss = generator_loss(fake_output)
        disc_loss = discriminator_loss(real_output, fake_output)
        real_accuracy, fake_accuracy = discriminator_accuracy(real_output, fake_output)
    g_grads = gen_tape.gradient(gen_loss, generator.trainable_variables)
    d_grads = disc_tape.gradient(disc_loss, discriminator.trainable_variables)
    generator_optimizer.apply_gradients(zip(g_grads, generator.trainable_variables))
    discriminator_optimizer.apply_gradients(zip(d_grads, discriminator.trainable_variables))
    return gen_loss, disc_loss, real_accuracy, fake_accuracy
'''


def test_the_students_own_train_step_is_used_and_a_broken_one_falls_back(tmp_path):
    pytest.importorskip("tensorflow")
    broken = "def train_step(images, labels):\n    raise RuntimeError('needs labels')\n"
    phases = [{"name": "train", "timeout_s": 200, "steps": 2, "batch_size": 16,
               "sample_every": 2, "n_samples": 4}]
    out, _ = _run(tmp_path / "good", fixtures.good() + fixtures.units(LESSON_TRAIN_STEP), phases)
    assert out.status == "ok", out.log_tail[-2000:]
    hist = out.result["variants"][-1]["history"]
    assert hist["loop"] == "student_train_step", hist.get("loop_note")
    assert len(hist["fake_accuracy"]) == 2
    out, _ = _run(tmp_path / "broken", fixtures.good() + fixtures.units(broken), phases)
    hist = out.result["variants"][-1]["history"]
    assert hist["loop"] == "reference" and "train_step" in hist["loop_note"]


def test_models_without_losses_fail_training_in_plain_words(tmp_path):
    """Without the losses no step can run: the variant says so, not a TypeError on None."""
    units = fixtures.units(fixtures.IMPORTS, fixtures.GENERATOR, fixtures.DISCRIMINATOR)
    phases = [{"name": "train", "timeout_s": 200, "steps": 1, "batch_size": 16,
               "sample_every": 1, "n_samples": 4}]
    out, _ = _run(tmp_path, units, phases)
    assert out.status == "ok", out.log_tail[-2000:]
    errors = [v["error"] for v in out.result["variants"]]
    assert errors and all("no generator_loss or discriminator_loss function was found" in e
                          for e in errors), errors
    assert not any("NoneType" in e for e in errors)
