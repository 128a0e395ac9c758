"""The judge's shipped assets: calibration JSON and real-image feature statistics.

Everything here is plain numpy/JSON (no TensorFlow), so metrics and reports can use the
calibration without loading the classifier. The files belong to the assignment
(``Assignment.judge``: ``grader/assignments/<id>/judge/``); they are produced by
``reference/train_classifier.py`` (weights) and ``reference/calibrate_judge.py`` (the rest).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from grader.assignment import JudgeFiles, get_assignment
from grader.errors import GraderError

RECALIBRATE_HINT = "Run: .venv/bin/python -m reference.calibrate_judge"


def judge_files(assignment: str | Path | None = None) -> JudgeFiles:
    """The judge files of an assignment (default: the current one, see ``get_assignment``)."""
    return get_assignment(assignment).judge


class JudgeAssetError(GraderError):
    """The judge's weights or calibration files are missing or unreadable."""


@dataclass(frozen=True)
class FeatureStats:
    """Gaussian statistics of penultimate features of a set of images."""

    mean: np.ndarray
    """Feature mean, shape (D,)."""
    cov: np.ndarray
    """Feature covariance (unbiased, N-1), shape (D, D)."""
    n: int
    """Number of images the statistics were computed from."""


@dataclass(frozen=True)
class ClassStats:
    """Class-conditional Gaussians of real features (tied covariance) for the OOD gate."""

    means: np.ndarray
    """Per-class feature means, shape (10, D)."""
    precision: np.ndarray
    """Inverse of the shared within-class covariance, shape (D, D)."""

    def min_mahalanobis(self, features: np.ndarray) -> np.ndarray:
        """Squared Mahalanobis distance of each feature row to the nearest class mean (N,)."""
        f = np.asarray(features, dtype=np.float64)
        diff = f[:, None, :] - self.means[None, :, :]
        return ((diff @ self.precision) * diff).sum(axis=-1).min(axis=1)


@dataclass(frozen=True)
class JudgeCalibration:
    """What ``calibrate_judge`` measured for one set of weights."""

    temperature: float
    """Logits are divided by this before the softmax (fitted on held-out train images)."""
    tau: float
    """An image is *recognizable* when its calibrated top-1 probability is >= tau."""
    weights_sha256: str
    """sha256 of the ``classifier.keras`` the calibration belongs to."""
    test_accuracy: float = float("nan")
    ood_threshold: float = float("inf")
    """Images whose min squared Mahalanobis distance exceeds this are out of distribution."""
    min_feature_norm: float = float("-inf")
    """Images whose feature vector is shorter than this are out of distribution: the network
    finds too little of what it knows in them (blurry blobs, noise)."""
    fcd_reference: dict[int, float] = field(default_factory=dict)
    """Real-vs-real FCD (held-out train images vs test stats) by sample size N."""
    extra: dict = field(default_factory=dict)
    """Everything else in the JSON (ECE, precision at tau, data source, ...)."""


def file_sha256(path: Path) -> str:
    """Hex sha256 of a file's bytes."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def load_calibration(path: Path | None = None) -> JudgeCalibration:
    """Read the calibration JSON.

    Args:
        path: The JSON file; default the current assignment's.

    Raises:
        JudgeAssetError: The file is missing or lacks required keys.
    """
    path = Path(path or judge_files().calibration)
    try:
        raw = json.loads(path.read_text())
        known = {"temperature", "tau", "weights_sha256", "test_accuracy", "fcd_reference",
                 "ood_threshold", "min_feature_norm"}
        return JudgeCalibration(
            temperature=float(raw["temperature"]), tau=float(raw["tau"]),
            weights_sha256=str(raw["weights_sha256"]),
            test_accuracy=float(raw.get("test_accuracy", float("nan"))),
            ood_threshold=float(raw.get("ood_threshold", float("inf"))),
            min_feature_norm=float(raw.get("min_feature_norm", float("-inf"))),
            fcd_reference={int(k): float(v) for k, v in raw.get("fcd_reference", {}).items()},
            extra={k: v for k, v in raw.items() if k not in known},
        )
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise JudgeAssetError("The image judge is not calibrated in this install.",
                              f"{path}: {exc}. {RECALIBRATE_HINT}") from exc


def load_feature_stats(path: Path | None = None) -> FeatureStats:
    """Read the real test-image feature statistics (``allow_pickle=False``).

    Raises:
        JudgeAssetError: The file is missing or malformed.
    """
    path = Path(path or judge_files().test_stats)
    try:
        with np.load(path, allow_pickle=False) as z:
            mean, cov, n = z["mean"].astype(np.float64), z["cov"].astype(np.float64), int(z["n"])
    except (OSError, ValueError, KeyError) as exc:
        raise JudgeAssetError("The image judge's reference statistics are missing.",
                              f"{path}: {exc}. {RECALIBRATE_HINT}") from exc
    if mean.ndim != 1 or cov.shape != (len(mean), len(mean)):
        raise JudgeAssetError("The image judge's reference statistics are malformed.",
                              f"{path}: mean {mean.shape}, cov {cov.shape}")
    return FeatureStats(mean=mean, cov=cov, n=n)


def load_class_stats(path: Path | None = None) -> ClassStats | None:
    """Read the class-conditional statistics; None when the file is absent (no OOD gate).

    Raises:
        JudgeAssetError: The file exists but is malformed.
    """
    path = Path(path or judge_files().class_stats)
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as z:
            means, prec = z["means"].astype(np.float64), z["precision"].astype(np.float64)
    except (OSError, ValueError, KeyError) as exc:
        raise JudgeAssetError("The image judge's class statistics are unreadable.",
                              f"{path}: {exc}. {RECALIBRATE_HINT}") from exc
    if means.ndim != 2 or prec.shape != (means.shape[1], means.shape[1]):
        raise JudgeAssetError("The image judge's class statistics are malformed.", str(path))
    return ClassStats(means=means, precision=prec)


def in_distribution_mask(features: np.ndarray, class_stats: ClassStats | None,
                         ood_threshold: float, min_feature_norm: float) -> np.ndarray | None:
    """The judge's out-of-distribution gates on penultimate features (None: no gate set).

    True where the nearest class-conditional squared Mahalanobis distance is at most
    ``ood_threshold`` (skipped without class statistics or with an infinite threshold) and the
    feature vector is at least ``min_feature_norm`` long (skipped when it is -inf).
    """
    gates = []
    if class_stats is not None and np.isfinite(ood_threshold):
        gates.append(class_stats.min_mahalanobis(features) <= ood_threshold)
    if np.isfinite(min_feature_norm):
        gates.append(np.linalg.norm(np.asarray(features, dtype=np.float64), axis=1)
                     >= min_feature_norm)
    return np.logical_and.reduce(gates) if gates else None


def fit_class_stats(features: np.ndarray, labels: np.ndarray, ridge: float = 1e-6) -> ClassStats:
    """Class means and the inverse tied within-class covariance (Lee et al. 2018,
    https://arxiv.org/abs/1807.03888), with a small ridge for stability."""
    f = np.asarray(features, dtype=np.float64)
    classes = np.unique(labels)
    means = np.stack([f[labels == c].mean(0) for c in classes])
    centred = f - means[np.searchsorted(classes, labels)]
    cov = centred.T @ centred / len(f)
    cov += ridge * np.trace(cov) / len(cov) * np.eye(len(cov))
    return ClassStats(means=means, precision=np.linalg.inv(cov))


def save_feature_stats(stats: FeatureStats, path: Path) -> None:
    """Write feature statistics as a plain ``.npz`` (no pickles)."""
    np.savez(path, mean=stats.mean, cov=stats.cov, n=np.int64(stats.n))


def features_to_stats(features: np.ndarray) -> FeatureStats:
    """Mean and unbiased covariance of features (N, D) in float64."""
    f = np.asarray(features, dtype=np.float64)
    if f.ndim != 2 or len(f) < 2:
        raise ValueError(f"need features of shape (N>=2, D), got {f.shape}")
    return FeatureStats(mean=f.mean(0), cov=np.cov(f, rowvar=False), n=len(f))

