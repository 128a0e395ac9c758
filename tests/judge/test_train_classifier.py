"""The judge's training script: augmentation, schedule, distillation, stages and resume."""

from __future__ import annotations

import json

import numpy as np
import pytest

from reference import train_classifier as tc


def test_heldout_split_is_balanced_disjoint_and_fixed():
    y = np.repeat(np.arange(10), 40)
    fit, held = tc.heldout_split(y, per_class=5)
    assert len(held) == 50 and np.bincount(y[held]).tolist() == [5] * 10
    assert not set(fit) & set(held) and len(fit) + len(held) == len(y)
    assert np.array_equal(held, tc.heldout_split(y, per_class=5)[1])


def test_augment_and_cutout_keep_shape_and_erase_a_square():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 128, (8, 32, 32, 3), dtype=np.uint8)
    assert tc.augment(x, rng).shape == x.shape
    erased = tc.cutout(np.zeros_like(x), 12, np.random.default_rng(1))
    grey = (erased[..., 0] == 128).sum(axis=(1, 2))
    assert grey.max() == 144 and grey.min() > 0  # clipped at the border, never empty
    assert tc.cutout(x, 0, rng) is x


def test_one_cycle_schedule_warms_up_then_decays():
    lrs = [tc.one_cycle_lr(s, 100, 0.05, 0.1) for s in range(101)]
    assert lrs[0] == pytest.approx(0.005)
    assert max(lrs) == pytest.approx(0.05, rel=1e-3) and int(np.argmax(lrs)) == 10
    assert lrs[-1] == pytest.approx(5e-5)
    assert all(a >= b for a, b in zip(lrs[10:], lrs[11:]))


def test_distill_loss_is_zero_for_equal_logits_and_grows_with_disagreement():
    import tensorflow as tf

    t = tf.constant([[3.0, 0.0, -1.0], [0.5, 0.2, 0.1]])
    assert float(tc.distill_loss(t, t, 2.0)) == pytest.approx(0.0, abs=1e-6)
    near = float(tc.distill_loss(t, t + tf.constant([[0.0, 0.5, 0.0]]), 2.0))
    far = float(tc.distill_loss(t, tf.reverse(t, axis=[1]), 2.0))
    assert 0 < near < far


@pytest.fixture
def tiny_run(tmp_path, monkeypatch):
    """A tiny random 'CIFAR-10' npz, a tiny network, and the log kept out of the repo."""
    rng = np.random.default_rng(0)
    data = tmp_path / "tiny.npz"
    np.savez(data, x_train=rng.integers(0, 256, (200, 32, 32, 3), dtype=np.uint8),
             y_train=np.repeat(np.arange(10), 20),
             x_test=rng.integers(0, 256, (50, 32, 32, 3), dtype=np.uint8),
             y_test=np.repeat(np.arange(10), 5))
    monkeypatch.setattr(tc, "LOG_PATH", tmp_path / "log.jsonl")
    monkeypatch.setattr(tc, "heldout_split", _split)
    monkeypatch.setenv("DCGAN_GRADER_CACHE", str(tmp_path / "cache"))
    cfg = dict(epochs=2, batch_size=50, lr=0.01, widths=(4, 4, 4), blocks=(1, 1, 1))
    yield tmp_path, str(data), cfg
    import keras

    keras.mixed_precision.set_global_policy("float32")  # train() sets it for the process


def _split(y):
    """Five held-out images per class (the real split keeps 500)."""
    fit, held = [], []
    for c in range(10):
        idx = np.flatnonzero(y == c)
        held += idx[:5].tolist()
        fit += idx[5:].tolist()
    return np.array(sorted(fit)), np.array(sorted(held))


def test_stage_with_distillation_trains_exports_and_resumes(tiny_run):
    tmp, data, cfg = tiny_run
    first = tmp / "stage1"
    tc.train(tc.TrainConfig(**cfg), data, resume=False, max_epochs=None,
             export_to=first / "best.keras", run_dir=first)
    assert (first / "best.keras").is_file()
    assert sorted(p.name for p in (first / "epochs").iterdir()) == [
        "epoch_001.weights.h5", "epoch_002.weights.h5"]

    second = tmp / "stage2"
    stage2 = tc.TrainConfig(**cfg, init_from=str(first / "best.keras"),
                            distill_from=str(first / "best.keras"), distill_alpha=0.7,
                            precision="mixed_bfloat16")
    tc.train(stage2, data, resume=False, max_epochs=1, export_to=second / "best.keras",
             run_dir=second)
    tc.train(stage2, data, resume=True, max_epochs=None, export_to=second / "best.keras",
             run_dir=second)
    rows = [json.loads(line) for line in (tmp / "log.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in rows] == [1, 2, 1, 2]
    assert all(np.isfinite(r["train_loss"]) for r in rows)
    assert rows[-1]["config"]["distill_from"].endswith("best.keras")
    with pytest.raises(SystemExit, match="different config"):
        tc.train(tc.TrainConfig(**{**cfg, "epochs": 3}, init_from=stage2.init_from,
                                distill_from=stage2.distill_from, distill_alpha=0.5,
                                precision="mixed_bfloat16"),
                 data, resume=True, max_epochs=None, run_dir=second)


def test_greedy_soup_keeps_only_ingredients_that_help():
    from reference.soup import average, greedy_soup

    target = np.array([1.0, 1.0])
    ingredients = [[np.array([1.2, 0.8])], [np.array([0.8, 1.2])], [np.array([5.0, -3.0])]]

    def score(w):
        return -float(np.abs(w[0] - target).sum())

    chosen, best = greedy_soup(ingredients, score)
    assert sorted(chosen) == [0, 1] and best == pytest.approx(0.0)
    assert np.allclose(average([ingredients[0], ingredients[1]])[0], target)


def test_tau_needs_the_lower_bound_of_precision_to_reach_the_target():
    from reference.calibrate_judge import choose_tau

    rng = np.random.default_rng(0)
    n = 4000
    conf = rng.uniform(0.1, 1.0, n)
    labels = np.zeros(n, int)
    right = rng.random(n) < conf  # precision rises with confidence
    probs = np.full((n, 10), 0.0)
    probs[np.arange(n), np.where(right, 0, 1)] = conf
    probs[:, 2] = 1e-9
    point = choose_tau(probs, labels, confidence=0.5)  # ~ the point estimate
    strict = choose_tau(probs, labels, confidence=0.95)
    assert strict > point
    sel = conf >= strict
    assert right[sel].mean() >= 0.95


def _trained_bn_net(blocks, seed=0):
    """A small network whose batch norms hold non-trivial statistics (as after training)."""
    import keras

    net = tc.build_model((8, 16, 32), blocks)
    rng = np.random.default_rng(seed)
    for layer in net.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            n = layer.get_weights()[0].shape[0]
            layer.set_weights([rng.uniform(0.5, 1.5, n), rng.normal(0, 0.2, n),
                               rng.normal(0, 0.5, n), rng.uniform(0.5, 2.0, n)])
    return net


def test_deepen_adds_identity_blocks_and_refuses_a_shallower_target():
    src = _trained_bn_net((1, 1, 1))
    dst = tc.build_model((8, 16, 32), (1, 2, 3))
    x = np.random.default_rng(1).integers(0, 256, (16, 32, 32, 3)).astype("float32")
    before = dst(x, training=False).numpy()
    tc.deepen(src, dst)
    want = src(x, training=False).numpy()
    assert tc.blocks_of(dst) == (1, 2, 3)
    assert not np.allclose(before, want)
    np.testing.assert_allclose(dst(x, training=False).numpy(), want, atol=1e-5)
    with pytest.raises(ValueError, match="cannot deepen"):
        tc.deepen(dst, src)


def test_fold_batchnorm_keeps_the_function_and_loads_safely(tmp_path):
    import keras

    net = _trained_bn_net((1, 2, 1), seed=2)
    folded = tc.fold_batchnorm(net)
    assert not any(isinstance(layer, keras.layers.BatchNormalization) for layer in folded.layers)
    assert folded.get_layer("features") is not None
    x = np.random.default_rng(3).integers(0, 256, (16, 32, 32, 3)).astype("float32")
    np.testing.assert_allclose(folded(x).numpy(), net(x, training=False).numpy(), atol=1e-4)
    folded.save(tmp_path / "f.keras")
    again = keras.saving.load_model(tmp_path / "f.keras", safe_mode=True)
    np.testing.assert_allclose(again(x).numpy(), folded(x).numpy(), atol=1e-6)


def test_load_net_reads_the_depth_of_a_saved_model(tmp_path):
    net = _trained_bn_net((1, 2, 2), seed=4)
    net.save(tmp_path / "n.keras")
    again = tc.load_net(tmp_path / "n.keras", (8, 16, 32), (9, 9, 9))
    assert tc.blocks_of(again) == (1, 2, 2)
    x = np.random.default_rng(5).integers(0, 256, (4, 32, 32, 3)).astype("float32")
    np.testing.assert_allclose(again(x, training=False).numpy(),
                               net(x, training=False).numpy(), atol=1e-5)
    same_widths = tc.build_model((4, 4, 4), (1, 3, 2))  # stages told apart by resolution
    assert tc.blocks_of(same_widths) == (1, 3, 2)


def test_ship_judge_stages_the_folded_flip_averaged_inference_form(tmp_path):
    import keras

    from grader.judge.network import has_flip_average
    from reference.ship_judge import stage_weights

    net = _trained_bn_net((1, 1, 1), seed=6)
    net.save(tmp_path / "candidate.keras")
    stage_weights(tmp_path / "candidate.keras", tmp_path / "staged.keras")
    staged = keras.saving.load_model(tmp_path / "staged.keras", safe_mode=True)
    backbone = staged.get_layer("backbone")
    assert has_flip_average(staged)
    assert not any(isinstance(layer, keras.layers.BatchNormalization) for layer in backbone.layers)
    x = np.random.default_rng(7).integers(0, 256, (4, 32, 32, 3)).astype("float32")
    mean_logits = (net(x, training=False).numpy() + net(x[:, :, ::-1], training=False).numpy()) / 2
    np.testing.assert_allclose(staged(x).numpy(), mean_logits, atol=1e-4)
    stage_weights(tmp_path / "staged.keras", tmp_path / "again.keras")  # folded and wrapped
    again = keras.saving.load_model(tmp_path / "again.keras", safe_mode=True)
    assert sum(isinstance(layer, keras.Model) for layer in again.layers) == 1  # not wrapped twice
    np.testing.assert_allclose(again(x).numpy(), staged(x).numpy(), atol=1e-6)
