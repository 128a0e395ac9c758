"""Transitional alias of :mod:`grader.stats` for modules written before the move (removed
when they are merged)."""

from grader.stats.bootstrap import DiffStats, bootstrap_difference, bootstrap_set_difference
from grader.stats.inception import classifier_scores
from grader.stats.trend import RiseStats, TrendStats, fake_accuracy_trend, quality_rise

__all__ = ["DiffStats", "RiseStats", "TrendStats", "bootstrap_difference",
           "bootstrap_set_difference", "classifier_scores", "fake_accuracy_trend",
           "quality_rise"]
