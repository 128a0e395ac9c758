"""The judge network's shipped form: built-in flip averaging, bfloat16 arithmetic, precision choice."""

from __future__ import annotations

import numpy as np
import pytest

from grader.judge import precision


@pytest.fixture(scope="module")
def small_net():
    """A tiny untrained judge-shaped network (features layer + linear logits head)."""
    import keras

    from reference.train_classifier import build_model

    keras.utils.set_random_seed(3)
    return build_model(widths=(4, 8, 8), blocks=(1, 1, 1))


def _pixels(n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (n, 32, 32, 3)).astype("float32")


def test_flip_average_is_the_mean_of_both_views_and_survives_safe_loading(small_net, tmp_path):
    import keras

    from grader.judge.network import has_flip_average, with_flip_average

    wrapped = with_flip_average(small_net)
    assert has_flip_average(wrapped) and not has_flip_average(small_net)
    assert with_flip_average(wrapped) is wrapped
    x = _pixels(3, 0)
    views = small_net(x).numpy(), small_net(x[:, :, ::-1]).numpy()
    np.testing.assert_allclose(wrapped(x).numpy(), (views[0] + views[1]) / 2, atol=1e-5)
    mirrored = x[:, :, ::-1].copy()
    np.testing.assert_allclose(wrapped(mirrored).numpy(), wrapped(x).numpy(), atol=1e-5)
    wrapped.save(tmp_path / "w.keras")
    loaded = keras.saving.load_model(tmp_path / "w.keras", compile=False, safe_mode=True)
    np.testing.assert_allclose(loaded(x).numpy(), wrapped(x).numpy(), atol=1e-6)


def test_bfloat16_keeps_the_tail_in_float32_and_stays_close(small_net, tmp_path):
    from grader.judge.classifier import load_keras_with_features
    from grader.judge.network import with_flip_average

    with_flip_average(small_net).save(tmp_path / "w.keras")
    f32 = load_keras_with_features(tmp_path / "w.keras", "float32")
    b16 = load_keras_with_features(tmp_path / "w.keras", "bfloat16")
    x = _pixels(8, 1)
    (l32, f_32), (l16, f_16) = f32(x), b16(x)
    assert l16.dtype.name == "float32" and f_16.dtype.name == "float32"
    policies = {layer.dtype_policy.name for layer in b16.get_layer("backbone").layers[1:]}
    assert "mixed_bfloat16" in policies
    assert b16.get_layer("logits").dtype_policy.name == "float32"
    scale = float(np.abs(l32.numpy()).max()) + 1e-6
    assert float(np.abs(l16.numpy() - l32.numpy()).max()) / scale < 0.05
    assert float(np.abs(l16.numpy() - l32.numpy()).max()) > 0  # it really ran in bfloat16
    np.testing.assert_allclose(f_16.numpy(), f_32.numpy(), atol=0.05 * float(np.abs(f_32).max()))


def test_precision_choice_follows_the_cpu_and_the_setting(monkeypatch):
    monkeypatch.delenv(precision.PRECISION_ENV, raising=False)
    monkeypatch.setattr(precision, "native_bfloat16", lambda: True)
    assert precision.compute_policy() == "bfloat16" and precision.setting_problem() is None
    monkeypatch.setattr(precision, "native_bfloat16", lambda: False)
    assert precision.compute_policy() == "float32"
    monkeypatch.setenv(precision.PRECISION_ENV, "bfloat16")
    assert precision.compute_policy() == "bfloat16"
    monkeypatch.setenv(precision.PRECISION_ENV, " Float32 ")
    assert precision.compute_policy() == "float32"
    monkeypatch.setenv(precision.PRECISION_ENV, "fp8")
    assert precision.compute_policy() == "float32"  # unknown: automatic, and said so
    assert "fp8" in precision.setting_problem()


def test_the_judge_is_cached_per_precision(monkeypatch):
    from grader.judge.classifier import load_judge

    monkeypatch.setenv(precision.PRECISION_ENV, "float32")
    a = load_judge()
    monkeypatch.setenv(precision.PRECISION_ENV, "bfloat16")
    b = load_judge()
    assert (a.precision, b.precision) == ("float32", "bfloat16") and a is not b
    x = _pixels(16, 2).astype(np.uint8)
    pa, _ = a.predict(x)
    pb, _ = b.predict(x)
    assert np.abs(pa - pb).max() < 0.2
