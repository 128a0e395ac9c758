"""Oracle tests of the judge metrics against independent numpy/scipy formulas."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy.special import rel_entr

from grader.assignment import get_assignment
from grader.judge import metrics as m
from grader.judge.calibration import FeatureStats, features_to_stats
from grader.judge.results import JudgeResult

from .conftest import FakeJudge

CLASSES = get_assignment().class_names


def _random_probs(n: int, seed: int, sharp: float = 3.0) -> np.ndarray:
    z = np.random.default_rng(seed).normal(0, sharp, (n, 10))
    e = np.exp(z - z.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


def test_classifier_score_matches_loop_formula():
    p = _random_probs(200, 1)
    py = p.mean(0)
    expected = np.exp(np.mean([rel_entr(row, py).sum() for row in p]))
    assert m.classifier_score(p) == pytest.approx(expected, rel=1e-9)


def test_classifier_score_bounds():
    one_hot = np.eye(10)[np.arange(100) % 10]
    assert m.classifier_score(one_hot) == pytest.approx(10.0, rel=1e-6)
    assert m.classifier_score(np.full((50, 10), 0.1)) == pytest.approx(1.0)
    assert m.classifier_score(np.tile(np.eye(10)[3], (40, 1))) == pytest.approx(1.0, abs=1e-6)


def _fd_eig(a: FeatureStats, b: FeatureStats) -> float:
    """Fréchet distance via Tr((A^1/2 B A^1/2)^1/2), computed with symmetric eigensolvers."""
    w, v = np.linalg.eigh(a.cov)
    root_a = (v * np.sqrt(np.clip(w, 0, None))) @ v.T
    inner = np.linalg.eigvalsh(root_a @ b.cov @ root_a)
    return float(((a.mean - b.mean) ** 2).sum() + np.trace(a.cov) + np.trace(b.cov)
                 - 2 * np.sqrt(np.clip(inner, 0, None)).sum())


def test_frechet_distance_matches_eigen_formula():
    rng = np.random.default_rng(2)
    fa = rng.normal(0, 1, (300, 6)) @ rng.normal(0, 1, (6, 6))
    fb = rng.normal(0.5, 2, (400, 6))
    a, b = features_to_stats(fa), features_to_stats(fb)
    assert m.frechet_distance(a, b) == pytest.approx(_fd_eig(a, b), rel=1e-6)


def test_frechet_distance_simple_cases():
    a = FeatureStats(mean=np.zeros(4), cov=np.eye(4), n=10)
    shifted = FeatureStats(mean=np.array([3.0, 4, 0, 0]), cov=np.eye(4), n=10)
    scaled = FeatureStats(mean=np.zeros(4), cov=4 * np.eye(4), n=10)
    assert m.frechet_distance(a, a) == pytest.approx(0.0, abs=1e-8)
    assert m.frechet_distance(a, shifted) == pytest.approx(25.0)
    assert m.frechet_distance(a, scaled) == pytest.approx(4 * (1 + 4 - 2 * 2))


def test_bootstrap_ci_matches_explicit_resampling():
    rng = np.random.default_rng(3)
    mask = rng.random(120) < 0.3
    lo, hi = m.bootstrap_fraction_ci(mask, n_boot=4000, seed=0)
    means = mask[rng.integers(0, len(mask), (4000, len(mask)))].mean(1)
    assert lo == pytest.approx(np.quantile(means, 0.025), abs=0.02)
    assert hi == pytest.approx(np.quantile(means, 0.975), abs=0.02)
    assert lo <= mask.mean() <= hi


def test_score_predictions_histogram_coverage_fraction():
    p = _random_probs(300, 4)
    feats = np.random.default_rng(5).normal(size=(300, 5))
    ref = features_to_stats(np.random.default_rng(6).normal(size=(1000, 5)))
    r = m.score_predictions(p, feats, tau=0.6, class_names=CLASSES, reference_stats=ref, n_boot=200)
    conf, top = p.max(1), p.argmax(1)
    hist = [int(((top == c) & (conf >= 0.6)).sum()) for c in range(10)]
    assert r.class_histogram == hist
    assert r.recognizable_fraction == pytest.approx((conf >= 0.6).mean())
    assert r.coverage_k == m.coverage_k(300) == 6
    assert r.class_coverage == sum(h >= 6 for h in hist)
    assert r.fcd == pytest.approx(_fd_eig(features_to_stats(feats), ref), rel=1e-6)
    assert [d.class_index for d in r.per_image] == top.tolist()
    assert not r.warnings  # 300 images > 5 feature dimensions


def test_gate_blocks_out_of_distribution_images():
    p = np.tile(np.eye(10)[2] * 0.99 + 0.001, (10, 1))
    gate = np.array([True] * 4 + [False] * 6)
    r = m.score_predictions(p, np.zeros((10, 3)), tau=0.5, class_names=CLASSES, reference_stats=None,
                            in_distribution=gate, n_boot=10)
    assert r.recognizable_fraction == pytest.approx(0.4)
    assert r.out_of_distribution_fraction == pytest.approx(0.6)
    assert r.class_histogram[2] == 4
    assert np.isnan(r.fcd)


def test_small_n_fcd_warns_and_reference_follows_table():
    p = _random_probs(16, 7)
    feats = np.random.default_rng(8).normal(size=(16, 32))
    ref = features_to_stats(np.random.default_rng(9).normal(size=(500, 32)))
    r = m.score_predictions(p, feats, tau=0.5, class_names=CLASSES, reference_stats=ref, fcd_table={16: 9.0, 64: 3.0})
    assert any("biased" in w for w in r.warnings)
    assert r.fcd_reference == pytest.approx(9.0)


def test_fcd_reference_fits_a_plus_b_over_n():
    table = {n: 0.5 + 80.0 / n for n in (16, 64, 256, 1000)}
    assert m.fcd_reference_at_n(100, table) == pytest.approx(0.5 + 0.8)
    assert np.isnan(m.fcd_reference_at_n(100, {}))


def test_to_dict_is_json_and_round_trips(fake_judge):
    imgs = np.random.default_rng(10).integers(0, 256, (20, 32, 32, 3), dtype=np.uint8)
    r = m.score_images(imgs, fake_judge, n_boot=50)
    d = json.loads(json.dumps(r.to_dict()))
    back = JudgeResult.from_dict(d)
    assert back.n == 20 and back.per_image == r.per_image
    assert back.class_histogram == r.class_histogram and back.class_names == list(CLASSES)
    with pytest.raises(ValueError, match="class_histogram"):
        JudgeResult.from_dict(dict(d, class_histogram="many"))


def test_score_images_uses_the_judges_gate():
    imgs = np.random.default_rng(11).integers(0, 256, (10, 32, 32, 3), dtype=np.uint8)
    open_gate = m.score_images(imgs, FakeJudge(tau=0.0), n_boot=10)
    closed = m.score_images(imgs, FakeJudge(tau=0.0, gate=np.zeros(10, bool)), n_boot=10)
    assert open_gate.recognizable_fraction == 1.0
    assert closed.recognizable_fraction == 0.0


def test_bad_shapes_raise():
    with pytest.raises(ValueError):
        m.score_predictions(np.ones((5, 9)), np.ones((5, 2)), tau=0.5, class_names=CLASSES, reference_stats=None)
    with pytest.raises(ValueError):
        m.score_predictions(np.ones((0, 10)), np.ones((0, 2)), tau=0.5, class_names=CLASSES, reference_stats=None)


def test_near_copies_are_found_within_groups_and_flat_images_never_count():
    rng = np.random.default_rng(0)
    distinct = rng.integers(0, 256, (6, 32, 32, 3)).astype(np.float32)
    twin = np.clip(distinct[0] + rng.normal(0, 2.0, distinct[0].shape), 0, 255)  # ~0.02 RMS
    flat = np.full((2, 32, 32, 3), 128.0, np.float32)  # two blank panels: equal, but flat
    x = np.concatenate([distinct, twin[None], flat])
    mask = m.near_copy_mask(x)
    assert mask.tolist() == [True, False, False, False, False, False, True, False, False]
    apart = m.near_copy_mask(x, groups=np.array([0, 0, 0, 0, 0, 0, 1, 1, 1]))
    assert not apart.any()  # the twin sits in another figure
    assert m.near_copy_mask(x, max_n=3, seed=1).sum() <= 2
    with pytest.raises(ValueError, match="groups"):
        m.near_copy_mask(x, groups=np.zeros(2))


def test_nearest_rms_matches_a_direct_loop():
    rng = np.random.default_rng(1)
    a = rng.uniform(-1, 1, (7, 12)).astype(np.float32)
    want = [min(np.sqrt(np.mean((a[i] - a[j]) ** 2)) for j in range(7) if j != i) for i in range(7)]
    np.testing.assert_allclose(m.nearest_rms(a, block=3), want, rtol=1e-5)
    assert np.isinf(m.nearest_rms(a[:1])).all()


def test_score_images_reports_the_near_copy_fraction(fake_judge):
    rng = np.random.default_rng(2)
    x = rng.integers(0, 256, (8, 32, 32, 3)).astype(np.uint8)
    x[4:] = x[0]  # five identical images of eight
    res = m.score_images(x, fake_judge, n_boot=10)
    assert res.near_copy_fraction == pytest.approx(5 / 8)
    assert [p.near_copy for p in res.per_image] == [True] + [False] * 3 + [True] * 4
