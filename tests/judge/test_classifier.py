"""The classifier wrapper: input contract, safe loading, batching, calibration binding."""

from __future__ import annotations

import json

import numpy as np
import pytest

from grader.judge.calibration import (
    FeatureStats,
    JudgeAssetError,
    file_sha256,
    fit_class_stats,
    save_feature_stats,
)
from grader.judge.classifier import images_to_pixels, load_judge, softmax


def test_input_contract():
    u8 = np.zeros((2, 32, 32, 3), np.uint8)
    assert images_to_pixels(u8).dtype == np.float32
    f = np.array([-1.0, 0.0, 1.0], np.float32)[:, None, None, None] * np.ones((3, 32, 32, 3), np.float32)
    np.testing.assert_allclose(images_to_pixels(f)[:, 0, 0, 0], [0.0, 127.5, 255.0])
    for bad in (np.zeros((2, 28, 28, 1), np.uint8), np.zeros((32, 32, 3), np.uint8),
                np.full((1, 32, 32, 3), 3.0, np.float32), np.zeros((1, 32, 32, 3), np.int32),
                np.full((1, 32, 32, 3), np.nan, np.float32)):
        with pytest.raises(ValueError):
            images_to_pixels(bad, (32, 32, 3))


@pytest.fixture(scope="module")
def tiny_assets(tmp_path_factory):
    """A tiny untrained classifier with a features layer, saved with its calibration files."""
    import keras

    from reference.train_classifier import build_model

    folder = tmp_path_factory.mktemp("judge")
    keras.utils.set_random_seed(0)
    model = build_model(widths=(4, 8, 8), blocks=(1, 1, 1))
    weights = folder / "classifier.keras"
    model.save(weights)
    rng = np.random.default_rng(0)
    save_feature_stats(FeatureStats(mean=np.zeros(8), cov=np.eye(8), n=100), folder / "test_stats.npz")
    cs = fit_class_stats(rng.normal(size=(200, 8)), np.arange(200) % 10)
    np.savez(folder / "class_stats.npz", means=cs.means, precision=cs.precision)
    cal = {"temperature": 2.0, "tau": 0.5, "weights_sha256": file_sha256(weights),
           "ood_threshold": 1e9, "fcd_reference": {"16": 5.0, "1000": 0.1}}
    (folder / "calibration.json").write_text(json.dumps(cal))
    return folder


def _load(folder):
    return load_judge(folder / "classifier.keras", folder / "calibration.json",
                      folder / "test_stats.npz")


def test_load_once_predict_calibrated_and_batch_invariant(tiny_assets):
    judge = _load(tiny_assets)
    assert _load(tiny_assets) is judge  # cached per process
    assert not judge.warnings
    x = np.random.default_rng(1).integers(0, 256, (37, 32, 32, 3), dtype=np.uint8)
    probs, feats = judge.predict(x, batch_size=5)
    probs2, feats2 = judge.predict(x, batch_size=64)
    np.testing.assert_allclose(probs, probs2, atol=1e-6)
    np.testing.assert_allclose(feats, feats2, atol=1e-5)
    logits, _ = judge.logits_and_features(x, batch_size=5)  # same batches: exact
    np.testing.assert_allclose(probs, softmax(logits / 2.0), atol=1e-9)
    assert probs.shape == (37, 10) and feats.shape == (37, 8)
    assert judge.in_distribution(feats).all()
    with pytest.raises(ValueError):
        judge.predict(np.zeros((1, 64, 64, 3), np.uint8))


def test_weak_feature_gate(tiny_assets, tmp_path):
    """Feature vectors shorter than ``min_feature_norm`` are out of distribution."""
    import dataclasses

    judge = _load(tiny_assets)
    feats = np.array([[0.1] * 8, [3.0] * 8])  # norms 0.28 and 8.5
    assert judge.in_distribution(feats).tolist() == [True, True]
    strict = dataclasses.replace(judge, calibration=dataclasses.replace(
        judge.calibration, min_feature_norm=1.0))
    assert strict.in_distribution(feats).tolist() == [False, True]
    no_gates = dataclasses.replace(strict, class_stats=None, calibration=dataclasses.replace(
        judge.calibration, ood_threshold=float("inf")))
    assert no_gates.in_distribution(feats) is None


def test_stale_calibration_is_reported(tiny_assets, tmp_path):
    import shutil

    for name in ("classifier.keras", "test_stats.npz", "class_stats.npz"):
        shutil.copy(tiny_assets / name, tmp_path / name)
    cal = json.loads((tiny_assets / "calibration.json").read_text())
    cal["weights_sha256"] = "0" * 64
    (tmp_path / "calibration.json").write_text(json.dumps(cal))
    assert any("other weights" in w for w in _load(tmp_path).warnings)


def test_missing_weights_and_unsafe_models_are_refused(tmp_path):
    import keras

    with pytest.raises(JudgeAssetError):
        load_judge(tmp_path / "nope.keras", tmp_path / "c.json", tmp_path / "s.npz")
    inputs = keras.Input((32, 32, 3))
    x = keras.layers.Lambda(lambda t: t * 2.0)(inputs)
    feats = keras.layers.GlobalAveragePooling2D(name="features")(x)
    keras.Model(inputs, keras.layers.Dense(10)(feats)).save(tmp_path / "lambda.keras")
    with pytest.raises(JudgeAssetError):
        load_judge(tmp_path / "lambda.keras", tmp_path / "c.json", tmp_path / "s.npz")
