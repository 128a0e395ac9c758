"""The classifier score: the Inception Score computed with the assignment's judge."""

from __future__ import annotations

import numpy as np


def classifier_scores(prob_sets: np.ndarray, eps: float = 1e-12) -> np.ndarray:
    """Classifier score of each set in a stack (the Inception Score with our judge; one set:
    ``grader.judge.metrics.classifier_score``).

    Args:
        prob_sets: Calibrated class probabilities, shape (B, N, classes).

    Returns:
        Shape (B,): exp(mean_x KL(p(y|x) || p(y))) per set.
    """
    p = np.clip(prob_sets, eps, 1.0)
    py = p.mean(axis=1, keepdims=True)
    kl = np.sum(p * (np.log(p) - np.log(py)), axis=2)
    return np.exp(kl.mean(axis=1))
