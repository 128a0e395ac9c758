"""Differences between two image sets with percentile bootstrap intervals."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np


@dataclass
class DiffStats:
    """Difference of a statistic of two image sets with a percentile bootstrap interval."""

    before: float
    after: float
    diff: float
    """after - before."""
    ci_low: float
    ci_high: float
    n_before: int
    n_after: int
    n_boot: int
    seed: int
    metric: str = "recognizable_fraction"
    """What was compared: ``recognizable_fraction`` or ``classifier_score``."""

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON dict."""
        return asdict(self)


def bootstrap_difference(before: np.ndarray, after: np.ndarray, *, n_boot: int, seed: int,
                         ci_level: float = 0.95) -> DiffStats:
    """Percentile bootstrap interval of mean(after) - mean(before) for two independent samples.

    Each sample (booleans: recognized or not, one per image) is resampled with replacement on
    its own, ``n_boot`` times, with ``numpy.random.default_rng(seed)``.

    Raises:
        ValueError: either sample is empty.
    """
    return bootstrap_set_difference(
        np.asarray(before, dtype=float), np.asarray(after, dtype=float),
        lambda sets: sets.mean(axis=1), n_boot=n_boot, seed=seed, ci_level=ci_level,
        metric="recognizable_fraction")


def bootstrap_set_difference(before: np.ndarray, after: np.ndarray,
                             statistic: Callable[[np.ndarray], np.ndarray], *, n_boot: int,
                             seed: int, ci_level: float = 0.95, metric: str = "",
                             chunk: int = 250) -> DiffStats:
    """Percentile bootstrap interval of statistic(after) - statistic(before).

    ``before`` and ``after`` hold one row per image (a flag, or a probability vector); each is
    resampled with replacement on its own, ``n_boot`` times, with
    ``numpy.random.default_rng(seed)``. ``statistic`` maps a stack of resampled sets,
    shape (B, N, ...), to one value per set, shape (B,); it also gives the point values.

    Raises:
        ValueError: either sample is empty.
    """
    a, b = np.asarray(before, dtype=float), np.asarray(after, dtype=float)
    if len(a) == 0 or len(b) == 0:
        raise ValueError("both image sets must be non-empty")
    rng = np.random.default_rng(seed)
    ia = rng.integers(0, len(a), size=(n_boot, len(a)))
    ib = rng.integers(0, len(b), size=(n_boot, len(b)))
    diffs = np.concatenate([statistic(b[ib[i:i + chunk]]) - statistic(a[ia[i:i + chunk]])
                            for i in range(0, n_boot, chunk)])
    alpha = (1.0 - ci_level) / 2.0
    lo, hi = np.quantile(diffs, [alpha, 1.0 - alpha])
    va, vb = float(statistic(a[None])[0]), float(statistic(b[None])[0])
    return DiffStats(before=va, after=vb, diff=vb - va, ci_low=float(lo), ci_high=float(hi),
                     n_before=len(a), n_after=len(b), n_boot=int(n_boot), seed=int(seed),
                     metric=metric)
