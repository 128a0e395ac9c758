"""Statistics of training curves: the early peak, trend tests of accuracy, rank rise of quality."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np


@dataclass
class TrendStats:
    """Kendall trend test of a per-step accuracy curve after its early peak."""

    n: int
    """Steps in the curve."""
    peak_step: int
    """Step of the smoothed curve's maximum within the early search window."""
    peak_value: float
    n_bins: int
    """Bin means the test ran on (per-step values are autocorrelated)."""
    tau_distance: float
    """Kendall tau of |bin mean - 0.5| against time; negative = approaching 0.5."""
    p_distance: float
    tau_value: float
    """Kendall tau of the bin means themselves against time; negative = going down."""
    p_value: float
    final_level: float
    """Mean of the last ``tail_fraction`` of steps."""
    final_distance: float
    """|final_level - 0.5|."""
    bin_means: list[float] = field(default_factory=list)
    bin_steps: list[int] = field(default_factory=list)
    """Centre step of each bin, for plotting."""

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON dict."""
        return asdict(self)


@dataclass
class RiseStats:
    """Spearman rank correlation of a quality measure with its index (frame order)."""

    n: int
    rho: float
    p: float
    metric: str
    """Which quality measure was ranked (e.g. ``recognizable_fraction``)."""

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON dict."""
        return asdict(self)


def moving_average(values: np.ndarray, window: int) -> np.ndarray:
    """Centred moving average of the same length (the window shrinks at the edges)."""
    x = np.asarray(values, dtype=float)
    window = max(1, min(int(window), len(x)))
    if window == 1 or len(x) == 0:
        return x.copy()
    kernel = np.ones(window)
    sums = np.convolve(x, kernel, mode="same")
    counts = np.convolve(np.ones_like(x), kernel, mode="same")
    return sums / counts


def bin_means(values: np.ndarray, n_bins: int) -> tuple[np.ndarray, np.ndarray]:
    """Split ``values`` into ``n_bins`` contiguous bins; return (bin means, bin centre indices)."""
    x = np.asarray(values, dtype=float)
    n_bins = max(1, min(int(n_bins), len(x)))
    edges = np.linspace(0, len(x), n_bins + 1).astype(int)
    spans = [(a, b) for a, b in zip(edges[:-1], edges[1:], strict=True) if b > a]
    means = np.array([x[a:b].mean() for a, b in spans])
    centres = np.array([(a + b - 1) // 2 for a, b in spans])
    return means, centres


def fake_accuracy_trend(values: list[float] | np.ndarray, *, peak_search_fraction: float,
                        smooth_fraction: float, n_bins: int, tail_fraction: float) -> TrendStats:
    """Test whether a fake-accuracy curve moves towards 0.5 after the discriminator's early peak.

    The curve is smoothed with a centred moving average (window ``smooth_fraction`` of the run)
    to find the peak in the first ``peak_search_fraction`` of steps. The stretch after the peak
    is reduced to ``n_bins`` bin means (per-step accuracies are strongly autocorrelated, so a
    test on raw steps would be overconfident), and Kendall's tau (``scipy.stats.kendalltau``,
    two-sided) is computed for the distance |mean - 0.5| against bin order.

    Args:
        values: per-step fake accuracy (fraction of fake logits < 0), at least 4 steps.
        peak_search_fraction: share of the run searched for the early peak.
        smooth_fraction: moving-average window as a share of the run.
        n_bins: bins of the post-peak stretch for the trend test.
        tail_fraction: share of final steps averaged into ``final_level``.

    Returns:
        The trend statistics; NaN p-values (constant curves) are reported as 1.0.

    Raises:
        ValueError: fewer than 4 finite steps.
    """
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    if len(x) < 4:
        raise ValueError(f"need at least 4 steps of fake accuracy, got {len(x)}")
    smooth = moving_average(x, max(1, round(smooth_fraction * len(x))))
    search = max(1, round(peak_search_fraction * len(x)))
    peak = int(np.argmax(smooth[:search]))
    after = x[peak:]
    means, centres = bin_means(after, n_bins)
    tau_d, p_d = _kendall(np.abs(means - 0.5))
    tau_v, p_v = _kendall(means)
    tail = x[-max(1, round(tail_fraction * len(x))):]
    final = float(tail.mean())
    return TrendStats(n=len(x), peak_step=peak, peak_value=float(smooth[peak]), n_bins=len(means),
                      tau_distance=tau_d, p_distance=p_d, tau_value=tau_v, p_value=p_v,
                      final_level=final, final_distance=abs(final - 0.5),
                      bin_means=[float(m) for m in means],
                      bin_steps=[int(c + peak) for c in centres])


def level_half_width(per_column: list[float] | np.ndarray, tail_fraction: float,
                     base: float = 0.0) -> float | None:
    """Half-width of the interval around a read curve's final level: the mean of the last
    ``tail_fraction`` of its per-column level uncertainties, plus ``base``; None without any
    (finite) value. The plot reader's ``SeriesReading.level_interval`` and the judged
    history's ``final_level_half_width`` both use it."""
    unc = np.asarray(per_column, dtype=float)
    unc = unc[np.isfinite(unc)]
    if not len(unc):
        return None
    return float(unc[-max(1, round(tail_fraction * len(unc))):].mean()) + float(base)


def final_distance_probes(low: float, high: float, edges: tuple[float, ...]) -> list[float]:
    """Distances from 0.5 that cover every verdict band a final level in [low, high] can
    fall in: the nearest and farthest point of the interval and the middle of each band
    (between consecutive ``edges``, e.g. settled and max-final distance) lying inside."""
    ends = (abs(low - 0.5), abs(high - 0.5))
    d_min = 0.0 if low <= 0.5 <= high else min(ends)
    d_max = max(ends)
    mids = [(a + b) / 2 for a, b in zip((0.0, *edges), (*edges, 1.0))]
    return [d_min, d_max] + [m for m in mids if d_min <= m <= d_max]


def trend_decision(t: TrendStats, settled_distance: float, max_final_distance: float,
                   alpha: float) -> tuple[str, str]:
    """(status, why) of a fake-accuracy trend: the training_progress rubric's decision.

    ``why`` names the case: ``settled`` (ends within ``settled_distance`` of 0.5), ``down``
    (approaches 0.5 significantly and ends within ``max_final_distance``), ``far`` (approaches
    but ends farther), ``away`` (recedes significantly), ``hovers`` (no significant trend,
    ends within ``max_final_distance``) or ``stays_far``.
    """
    approaching = t.tau_distance < 0 and t.p_distance < alpha
    receding = t.tau_distance > 0 and t.p_distance < alpha
    if t.final_distance <= settled_distance:
        return "pass", "settled"
    if approaching and t.final_distance <= max_final_distance:
        return "pass", "down"
    if approaching:
        return "partial", "far"
    if receding:
        return "fail", "away"
    if t.final_distance <= max_final_distance:
        return "partial", "hovers"
    return "fail", "stays_far"


def _kendall(y: np.ndarray) -> tuple[float, float]:
    if len(y) < 3 or np.ptp(y) == 0:
        return 0.0, 1.0
    from scipy import stats  # imported when used: the grader's process starts lighter

    res = stats.kendalltau(np.arange(len(y)), y)
    tau, p = float(res.statistic), float(res.pvalue)
    return (0.0, 1.0) if not np.isfinite(tau) else (tau, p if np.isfinite(p) else 1.0)


def quality_rise(values: list[float] | np.ndarray, metric: str) -> RiseStats:
    """Spearman rank correlation (``scipy.stats.spearmanr``) of ``values`` with their order.

    A constant sequence (e.g. every frame judged 0% recognizable) has no rise: rho 0, p 1.
    """
    y = np.asarray(values, dtype=float)
    if len(y) < 3 or not np.all(np.isfinite(y)) or np.ptp(y) == 0:
        return RiseStats(n=len(y), rho=0.0, p=1.0, metric=metric)
    from scipy import stats

    res = stats.spearmanr(np.arange(len(y)), y)
    rho, p = float(res.statistic), float(res.pvalue)
    return RiseStats(n=len(y), rho=rho if np.isfinite(rho) else 0.0,
                     p=p if np.isfinite(p) else 1.0, metric=metric)
