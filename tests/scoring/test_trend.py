"""Trend, rank-rise and bootstrap statistics against independent formulas and known cases."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from grader.stats.bootstrap import bootstrap_difference
from grader.stats.trend import bin_means, fake_accuracy_trend, moving_average, quality_rise

KW = {"peak_search_fraction": 0.5, "smooth_fraction": 0.05, "n_bins": 20, "tail_fraction": 0.1}


def test_moving_average_matches_direct_means():
    x = np.arange(10, dtype=float) ** 2
    m = moving_average(x, 3)
    assert m[0] == pytest.approx((x[0] + x[1]) / 2)
    assert m[5] == pytest.approx(x[4:7].mean())
    assert len(m) == len(x)


def test_bin_means_cover_all_values():
    x = np.arange(103, dtype=float)
    means, centres = bin_means(x, 10)
    assert len(means) == 10 and centres[0] < centres[-1]
    assert means.mean() == pytest.approx(x.mean(), rel=0.02)


def _curve(steps, end, seed=0, noise=0.05):
    rng = np.random.default_rng(seed)
    t = np.arange(steps)
    c = end + (1 - end) * np.exp(-t / (steps / 4))
    c[: steps // 20] = np.linspace(0.5, 1.0, steps // 20)
    return np.clip(c + rng.normal(0, noise, steps), 0, 1)


def test_decay_towards_half_is_a_significant_approach():
    t = fake_accuracy_trend(_curve(2000, 0.55), **KW)
    assert t.tau_distance < -0.5 and t.p_distance < 0.01
    assert 0 <= t.peak_step < 1000 and t.peak_value > 0.9
    assert abs(t.final_level - 0.57) < 0.05
    # oracle: the test is Kendall's tau of |bin means - 0.5| against order, after the peak
    means, _ = bin_means(_curve(2000, 0.55)[t.peak_step:], 20)
    ref = stats.kendalltau(np.arange(len(means)), np.abs(means - 0.5))
    assert t.tau_distance == pytest.approx(ref.statistic)
    assert t.p_distance == pytest.approx(ref.pvalue)


def test_rising_away_from_half_is_receding():
    x = np.clip(np.linspace(0.5, 1.0, 1000) + np.random.default_rng(1).normal(0, 0.03, 1000), 0, 1)
    t = fake_accuracy_trend(x, **KW)
    assert t.tau_distance > 0.5 and t.p_distance < 0.01


def test_flat_noise_has_no_trend_and_constant_is_safe():
    x = 0.8 + np.random.default_rng(2).normal(0, 0.05, 1000)
    t = fake_accuracy_trend(x, **KW)
    assert t.p_distance > 0.01
    c = fake_accuracy_trend(np.full(100, 0.5), **KW)
    assert (c.tau_distance, c.p_distance, c.final_distance) == (0.0, 1.0, 0.0)
    with pytest.raises(ValueError):
        fake_accuracy_trend([0.5, 0.6], **KW)


def test_quality_rise_is_spearman():
    y = [0.0, 0.1, 0.05, 0.2, 0.3, 0.5]
    r = quality_rise(y, "recognizable_fraction")
    ref = stats.spearmanr(np.arange(6), y)
    assert r.rho == pytest.approx(ref.statistic) and r.p == pytest.approx(ref.pvalue)
    assert quality_rise([0.0] * 5, "x").rho == 0.0
    assert quality_rise([0.1, 0.2], "x").p == 1.0


def test_bootstrap_difference_seeded_and_sensible():
    rng = np.random.default_rng(0)
    before = rng.random(1000) < 0.2
    after = rng.random(1000) < 0.35
    d1 = bootstrap_difference(before, after, n_boot=2000, seed=7)
    d2 = bootstrap_difference(before, after, n_boot=2000, seed=7)
    assert d1 == d2
    assert 0 < d1.ci_low < d1.diff < d1.ci_high
    # oracle: the normal-approximation interval of a difference of proportions
    se = np.sqrt(before.mean() * (1 - before.mean()) / 1000 + after.mean() * (1 - after.mean()) / 1000)
    assert d1.ci_low == pytest.approx(d1.diff - 1.96 * se, abs=0.01)
    assert d1.ci_high == pytest.approx(d1.diff + 1.96 * se, abs=0.01)
    same = bootstrap_difference(before, rng.random(1000) < 0.2, n_boot=2000, seed=7)
    assert same.ci_low < 0 < same.ci_high
    with pytest.raises(ValueError):
        bootstrap_difference(np.array([]), after, n_boot=10, seed=0)
