"""The checks on crafted submissions: lesson code passes, known pitfalls are named."""

from __future__ import annotations

import pytest
import sandbox_fixtures as fixtures

from grader.assignment import get_assignment
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


def test_good_lesson_code_passes_every_check(tmp_path):
    out, checks = _run(tmp_path, fixtures.good())
    assert out.status == "ok", out.log_tail[-2000:]
    bad = {k: (c.status, c.message.en) for k, c in checks.items() if c.status != "pass"}
    assert not bad
    assert len(checks) == 14
    assert out.result["models"]["trusted_models"] is True
    g = tf.keras.models.load_model(tmp_path / "work" / "generator.keras", safe_mode=True)
    assert g.output_shape == (None, 32, 32, 3)
    assert checks["parameter_counts"].details["generator"]["params"] == 63936


def test_lesson_accuracy_bug_warns_and_fashion_leftover_fails(tmp_path):
    out, checks = _run(tmp_path, fixtures.lesson_accuracy_bug())
    assert checks["accuracy_function"].status == "warn"
    assert all(c.status == "pass" for k, c in checks.items() if k != "accuracy_function")
    out, checks = _run(tmp_path, fixtures.fashion())
    assert checks["fashion_mnist_leftover"].status == "fail"
    assert "Fashion-MNIST" in checks["generator_output_shape"].message.en
    assert "Fashion-MNIST" in checks["discriminator_output_shape"].message.en
    assert checks["trainable_step"].status == "skip"
