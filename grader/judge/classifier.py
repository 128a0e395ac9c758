"""The assignment's image judge: images in, calibrated probabilities and features out.

Trusted code only: it never sees student code, just pixel arrays. The model is loaded once
per process with ``safe_mode=True`` (no arbitrary code from the ``.keras`` file).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from grader.assignment import get_assignment
from grader.judge.calibration import (
    RECALIBRATE_HINT,
    ClassStats,
    FeatureStats,
    JudgeAssetError,
    JudgeCalibration,
    file_sha256,
    in_distribution_mask,
    load_calibration,
    load_class_stats,
    load_feature_stats,
)
from grader.judge.copies import load_copy_index
from grader.judge.precision import compute_policy, setting_problem
from grader.judge.realism import load_realism

DEFAULT_BATCH = 64
"""Images per forward pass: at 64 a batch's activations stay small (a quick grade's trusted
process peaked 290 MB lower than at 500, bench/grade_memory.py) and throughput is the same
or better on this CPU (2,048 images: 8.1 s at 64, 9.4 s at 500)."""
_CACHE: dict[tuple[str, ...], Judge] = {}
_LOCK = threading.Lock()


def images_to_pixels(images: np.ndarray, shape: tuple[int, ...] | None = None) -> np.ndarray:
    """Check the input contract and return float32 pixels 0..255, shape (N, H, W, C).

    Accepted: uint8 (N, H, W, C), or floats in [-1, 1] (the generator's tanh range),
    mapped by (x + 1) * 127.5. With ``shape`` (H, W, C) the images must have it.

    Raises:
        ValueError: Wrong shape, dtype, or float values outside [-1, 1] (or NaN).
    """
    x = np.asarray(images)
    if x.ndim != 4 or (shape is not None and x.shape[1:] != tuple(shape)):
        want = "(N, " + ", ".join(str(d) for d in shape) + ")" if shape else "(N, H, W, C)"
        raise ValueError(f"the judge takes images of shape {want}; got {x.shape}")
    if x.dtype == np.uint8:
        return x.astype(np.float32)
    if np.issubdtype(x.dtype, np.floating):
        if x.size and not np.isfinite(x).all():
            raise ValueError("the images contain NaN or infinite values")
        if x.size and (x.min() < -1.0 - 1e-3 or x.max() > 1.0 + 1e-3):
            raise ValueError(
                f"float images must lie in [-1, 1] (tanh output); got {x.min():.3g}..{x.max():.3g}. "
                "Pass uint8 0..255 images instead if that is what you have.")
        return ((np.clip(x, -1.0, 1.0) + 1.0) * 127.5).astype(np.float32)
    raise ValueError(f"the judge takes uint8 or float images; got dtype {x.dtype}")


@dataclass
class Judge:
    """A loaded classifier with its calibration (temperature, tau) and reference stats."""

    model: object
    """A keras Model returning (logits, features)."""
    calibration: JudgeCalibration
    reference_stats: FeatureStats
    weights_path: Path
    class_stats: ClassStats | None = None
    """Class-conditional real-feature Gaussians for the out-of-distribution gate."""
    warnings: list[str] = field(default_factory=list)
    """Problems found at load time (e.g. calibration made for other weights)."""
    precision: str = "float32"
    """The arithmetic the network runs in here (:mod:`grader.judge.precision`)."""
    class_names: tuple[str, ...] = ()
    """The classes, in the order of the network's outputs (the assignment's)."""
    realism: object = None
    """The per-tile recognizability score fitted on eye labels (``judge.realism``), if any."""
    copy_index: object = None
    """The index of real images for the copy check (``judge.copies``), if any."""
    _compiled: object = field(default=None, repr=False, compare=False)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """(H, W, C) of the images the network takes."""
        return tuple(int(d) for d in self.model.inputs[0].shape[1:])  # type: ignore[attr-defined]

    @property
    def tau(self) -> float:
        """Recognizability threshold on the calibrated top-1 probability."""
        return self.calibration.tau

    @property
    def temperature(self) -> float:
        """Softmax temperature fitted on held-out real images."""
        return self.calibration.temperature

    @property
    def fcd_table(self) -> dict[int, float]:
        """Real-vs-real FCD by N (see :func:`grader.judge.metrics.fcd_reference_at_n`)."""
        return self.calibration.fcd_reference

    def _forward(self, x: np.ndarray):
        """The model under ``tf.function`` (traced once per batch shape; faster than eager)."""
        if self._compiled is None:
            import tensorflow as tf

            model = self.model
            self._compiled = tf.function(lambda t: model(t, training=False), reduce_retracing=True)
        import tensorflow as tf

        return self._compiled(tf.convert_to_tensor(x))

    def in_distribution(self, features: np.ndarray) -> np.ndarray | None:
        """True where features lie within the real-image range (None: no gate installed).

        Confidence alone is not enough: a classifier can be confidently wrong on noise and on
        early, blurry GAN outputs. We also require (1) the nearest class-conditional
        Mahalanobis distance to be below the threshold that 99% of held-out real images meet,
        and (2) the feature vector to be at least as long as that of 98% of held-out real
        images (a short feature vector means the network found little it knows).
        """
        cal = self.calibration
        return in_distribution_mask(features, self.class_stats, cal.ood_threshold,
                                    cal.min_feature_norm)

    def logits_and_features(self, images: np.ndarray,
                            batch_size: int = DEFAULT_BATCH) -> tuple[np.ndarray, np.ndarray]:
        """Raw logits (N, classes) and features (N, D) in float64, computed in batches."""
        x = images_to_pixels(images, self.image_shape)
        logits, feats = [], []
        for i in range(0, len(x), batch_size):
            lo, fe = self._forward(x[i:i + batch_size])
            logits.append(np.asarray(lo, dtype=np.float64))
            feats.append(np.asarray(fe, dtype=np.float64))
        if not logits:
            return (np.zeros((0, len(self.class_names))),
                    np.zeros((0, self.reference_stats.mean.shape[0])))
        return np.concatenate(logits), np.concatenate(feats)

    def predict(self, images: np.ndarray,
                batch_size: int = DEFAULT_BATCH) -> tuple[np.ndarray, np.ndarray]:
        """Calibrated probabilities softmax(logits / T), shape (N, classes), and features (N, D).

        Raises:
            ValueError: The images break the contract of :func:`images_to_pixels`.
        """
        logits, feats = self.logits_and_features(images, batch_size)
        return softmax(logits / self.temperature), feats


def softmax(z: np.ndarray) -> np.ndarray:
    """Row-wise softmax, numerically stable."""
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def load_keras_with_features(path: Path, policy: str = "float32"):
    """Load a ``.keras`` classifier safely and wrap it to return (logits, features).

    ``policy`` (``float32`` or ``bfloat16``) is the arithmetic it computes in (see
    :mod:`grader.judge.network`).

    Raises:
        JudgeAssetError: The file is missing, unreadable, or has no ``features`` layer.
    """
    if not Path(path).is_file():
        raise JudgeAssetError("The image judge's classifier weights are missing.",
                              f"{path} does not exist. Train them with reference/train_classifier.py.")
    import keras

    from grader.judge.network import with_compute_policy  # registers the judge's own layers

    try:
        model = keras.saving.load_model(path, compile=False, safe_mode=True)
        model = with_compute_policy(model, policy)
        feats = model.get_layer("features").output
    except Exception as exc:  # keras raises many types for bad files
        raise JudgeAssetError("The image judge's classifier could not be loaded.",
                              f"{path}: {type(exc).__name__}: {exc}") from exc
    return keras.Model(model.inputs[0], [model.outputs[0], feats])


def check_judge_files(assignment: str | Path | None = None) -> None:
    """Fail early, without TensorFlow, when a judge file the assignment names is missing.

    Raises:
        JudgeAssetError: The weights, calibration or statistics file does not exist.
    """
    files = get_assignment(assignment).judge
    missing = [p for p in (files.weights, files.calibration, files.test_stats) if not
               Path(p).is_file()]
    if missing:
        raise JudgeAssetError(f"The image judge is missing: {', '.join(map(str, missing))}.",
                              RECALIBRATE_HINT)


def load_judge(path: Path | None = None, calibration_path: Path | None = None,
               stats_path: Path | None = None, *, assignment: str | Path | None = None) -> Judge:
    """Load the judge once per process (cached by its files and precision).

    Args:
        path: The ``.keras`` classifier; default the assignment's.
        calibration_path: Its calibration JSON; default the assignment's.
        stats_path: Real test-image feature stats (the class statistics are read from the
            same folder); default the assignment's.
        assignment: Which assignment's judge (default: the current one).

    Raises:
        JudgeAssetError: An asset is missing or unreadable.
    """
    spec = get_assignment(assignment)
    files = spec.judge
    paths = (Path(path or files.weights), Path(calibration_path or files.calibration),
             Path(stats_path or files.test_stats))
    precision = compute_policy()
    key = (*(str(p) for p in paths), precision)
    with _LOCK:
        if key not in _CACHE:
            model = load_keras_with_features(paths[0], precision)
            calibration = load_calibration(paths[1])
            stats = load_feature_stats(paths[2])
            warnings = [p for p in (setting_problem(),) if p]
            if file_sha256(paths[0]) != calibration.weights_sha256:
                warnings.append("The judge's calibration was made for other weights; "
                                f"its threshold may be off. {RECALIBRATE_HINT}")
            class_stats = load_class_stats(paths[2].with_name(files.class_stats.name))
            realism = load_realism(files.realism) if files.realism and \
                files.realism.is_file() else None
            copies = load_copy_index(files.copy_index) if files.copy_index and \
                files.copy_index.is_file() else None
            _CACHE[key] = Judge(model, calibration, stats, paths[0], class_stats, warnings,
                                precision, spec.class_names, realism, copies)
        return _CACHE[key]
