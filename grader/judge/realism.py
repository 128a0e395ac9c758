"""Per-tile recognizability: the judge's outputs combined into a score fitted to eye-read labels.

The judge's calibrated top-1 probability was calibrated on real photos; on generated tiles it
calls about half of blurry colour blobs "recognizable". This module combines it with other
per-tile signals into two probabilities that were fitted on tiles labelled by eye
(``reference/labels/``, protocol in ``reference/labels/PROTOCOL.md``):

- ``p_clear``: the class can be named without doubt;
- ``p_named``: the tile is at least plausible (a class is suggested).

Components (:data:`COMPONENTS`), all from one judge and numpy:

- ``logit_top1``: logit of the calibrated top-1 probability;
- ``log_realism``: log of the k-NN realism score of Kynkäänniemi et al. (2019), "Improved
  Precision and Recall Metric for Assessing Generative Models" (https://arxiv.org/abs/
  1904.06991), in the judge's feature space against real training images:
  ``R(x) = max_i r_k(real_i) / ||f(x) - f(real_i)||`` over the real images whose k-NN radius
  ``r_k`` is at most the median (the paper's pruning of outlier spheres);
- ``shift_agreement``: the mean calibrated probability of the tile's top class over small
  shifts (1-2 px) and a slight blur (the judge already averages horizontal flips);
- ``log_mahalanobis``: log of the squared Mahalanobis distance to the nearest class mean;
- ``feature_norm``: the length of the penultimate feature vector;
- ``pc01`` .. ``pcK`` (optional): the projections of the penultimate features on the first K
  principal axes of the labelled tiles' features (fitted on the fit half of the label set
  only; the asset's ``pca_mean`` and ``pca_axes``).

Counts (:func:`tile_flags`; each flag implies the next): ``clear`` (``p_clear >=
threshold_clear``) and ``named`` (``p_named >= threshold_named``, or clear) set a grid's pass; ``hinted`` (``p_named >= threshold_hint``, at most
``threshold_named``, chosen on grids of the fit half) counts the tiles that at least hint at
an object, which decides partial vs fail. An asset without ``threshold_hint`` uses
``threshold_named`` (so does the shipped one: no lower value agreed better).

NOTE: the fitted coefficients belong to one set of judge weights and one label set. Retrain
the judge and you must re-run ``python -m reference.calibrate_recognizable``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from grader.judge.calibration import JudgeAssetError

COMPONENTS: tuple[str, ...] = ("logit_top1", "log_realism", "shift_agreement",
                               "log_mahalanobis", "feature_norm")
"""The hand-made components; the asset may add ``pc01`` .. ``pcK`` (:func:`pca_names`)."""
MAX_PCA = 64
"""Most principal components an asset may use (the asset stays small)."""
REFIT_HINT = "Run: .venv/bin/python -m reference.calibrate_recognizable"
KEY_P_CLEAR = "p_clear"
KEY_P_NAMED = "p_named"
SHIFTS: tuple[tuple[int, int], ...] = ((2, 0), (-2, 0), (0, 2), (0, -2), (1, 1), (-1, -1))
"""(dy, dx) pixel shifts of the augmented views (edge pixels repeated)."""
_EPS = 1e-6


class JudgeLike(Protocol):
    """What the score needs from a judge: ``predict`` and (optionally) ``class_stats``."""

    def predict(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]: ...


@dataclass(frozen=True)
class RealismModel:
    """The shipped asset: real reference features, their k-NN radii and the fitted score."""

    real_features: np.ndarray
    """Judge features of real training images (M, D), float32; the pruned half (r_k <= median)."""
    real_radii: np.ndarray
    """Distance of each of them to its k-th nearest real neighbour (M,)."""
    k: int
    """The k of the k-NN radii (3, as in the paper)."""
    components: tuple[str, ...]
    """Names of the standardized inputs, in the order of ``mean``/``scale``/coefficients."""
    mean: np.ndarray
    """Per-component mean used for standardization (C,)."""
    scale: np.ndarray
    """Per-component standard deviation used for standardization (C,)."""
    coef_clear: np.ndarray
    """Logistic coefficients of P(clear) on standardized components (C,)."""
    intercept_clear: float
    coef_named: np.ndarray
    """Logistic coefficients of P(clear or plausible) on standardized components (C,)."""
    intercept_named: float
    threshold_clear: float
    """A tile counts as clear when ``p_clear`` >= this."""
    threshold_named: float
    """A tile counts as at least plausible when ``p_named`` >= this."""
    pca_mean: np.ndarray | None = None
    """Mean of the tiles' judge features the principal axes are centred on (D,); None: the
    score uses no ``pcNN`` component."""
    pca_axes: np.ndarray | None = None
    """The first K principal axes as columns (D, K): ``pcJJ = (f - pca_mean) @ pca_axes[:, J-1]``."""
    threshold_hint: float | None = None
    """A tile at least hints at an object (counts towards partial) when ``p_named`` >= this;
    None: ``threshold_named``."""

    @property
    def hint_threshold(self) -> float:
        """``threshold_hint``, or ``threshold_named`` for an asset without one."""
        return self.threshold_named if self.threshold_hint is None else self.threshold_hint

    @property
    def n_pca(self) -> int:
        """K, the number of principal components the asset carries (0 without)."""
        return 0 if self.pca_axes is None else int(self.pca_axes.shape[1])


def pca_names(k: int) -> tuple[str, ...]:
    """Names of the first k principal components: ``pc01`` .. ``pcK``."""
    return tuple(f"pc{j + 1:02d}" for j in range(k))


@dataclass(frozen=True)
class TileScores:
    """Per-tile recognizability of N images."""

    p_clear: np.ndarray
    """Probability that a reader names the class without doubt (N,)."""
    p_named: np.ndarray
    """Probability that the tile is at least plausible (N,); never below ``p_clear``."""
    predicted_class: np.ndarray
    """The judge's top-1 class index (N,)."""
    components: dict[str, np.ndarray]
    """The raw (unstandardized) inputs of the score, by name (:data:`COMPONENTS` and the
    asset's ``pcNN``)."""
    clear: np.ndarray
    """``p_clear >= threshold_clear`` (N,) bool."""
    named: np.ndarray
    """``p_named >= threshold_named``, or clear (N,) bool."""
    hinted: np.ndarray | None = None
    """``p_named >= threshold_hint``, or named (N,) bool: the tile at least hints at an object
    (counts towards partial). See :func:`tile_flags`."""


def load_realism(path: Path) -> RealismModel:
    """Read a realism asset (``allow_pickle=False``): an assignment's ``[judge] realism`` file.

    An asset written before the principal components (no ``pca_mean``/``pca_axes``, no
    ``threshold_hint``) still loads: it uses the hand-made components and counts towards
    partial with ``threshold_named``.

    Raises:
        JudgeAssetError: The file is missing or malformed.
    """
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as z:
            model = RealismModel(
                real_features=z["real_features"].astype(np.float32),
                real_radii=z["real_radii"].astype(np.float32), k=int(z["k"]),
                components=tuple(str(c) for c in z["components"]),
                mean=z["mean"].astype(np.float64), scale=z["scale"].astype(np.float64),
                coef_clear=z["coef_clear"].astype(np.float64),
                intercept_clear=float(z["intercept_clear"]),
                coef_named=z["coef_named"].astype(np.float64),
                intercept_named=float(z["intercept_named"]),
                threshold_clear=float(z["threshold_clear"]),
                threshold_named=float(z["threshold_named"]),
                pca_mean=(z["pca_mean"].astype(np.float64) if "pca_mean" in z.files
                          else None),
                pca_axes=(z["pca_axes"].astype(np.float64) if "pca_axes" in z.files
                          else None),
                threshold_hint=(float(z["threshold_hint"]) if "threshold_hint" in z.files
                                else None))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise JudgeAssetError("The per-tile recognizability score is not installed.",
                              f"{path}: {exc}. {REFIT_HINT}") from exc
    problem = asset_problem(model)
    if problem:
        raise JudgeAssetError("The per-tile recognizability score is malformed.",
                              f"{path}: {problem}. {REFIT_HINT}")
    return model


def asset_problem(model: RealismModel) -> str:
    """Why a realism model cannot be used ("" when it can)."""
    c = len(model.components)
    if not all(np.shape(a) == (c,) for a in (model.mean, model.scale, model.coef_clear,
                                              model.coef_named)):
        return f"mean, scale and coefficients must each hold {c} values"
    if model.real_features.ndim != 2 or model.real_radii.shape != (len(model.real_features),):
        return "real_features must be (M, D) and real_radii (M,)"
    if len(set(model.components)) != c:
        return "a component is listed twice"
    if (model.pca_mean is None) != (model.pca_axes is None):
        return "pca_mean and pca_axes come together"
    k = model.n_pca
    if model.pca_axes is not None:
        d = model.real_features.shape[1]
        if model.pca_axes.ndim != 2 or model.pca_axes.shape[0] != d or \
                np.shape(model.pca_mean) != (d,) or not 1 <= k <= MAX_PCA:
            return (f"pca_mean must be ({d},) and pca_axes ({d}, K) with 1 <= K <= {MAX_PCA}; "
                    f"got {np.shape(model.pca_mean)} and {np.shape(model.pca_axes)}")
    unknown = set(model.components) - set(COMPONENTS) - set(pca_names(k))
    if unknown:
        return (f"unknown components {sorted(unknown)} (known: {', '.join(COMPONENTS)}"
                + (f", pc01..pc{k:02d}" if k else "; pcNN need pca_mean and pca_axes") + ")")
    arrays = [model.mean, model.scale, model.coef_clear, model.coef_named, model.real_radii]
    if model.pca_axes is not None:
        arrays += [model.pca_mean, model.pca_axes]
    if not all(np.isfinite(a).all() for a in arrays) or not np.all(model.scale > 0):
        return "non-finite values or a non-positive scale"
    if model.threshold_hint is not None and not np.isfinite(model.threshold_hint):
        return "threshold_hint is not finite"
    return ""


def save_realism(model: RealismModel, path: Path) -> None:
    """Write the asset as a plain compressed ``.npz`` (features as float16, no pickles).

    The principal axes are stored as float32 (D x K: a few KB) and ``threshold_hint`` only
    when the model has them.
    """
    extra: dict[str, np.ndarray] = {}
    if model.pca_axes is not None and model.pca_mean is not None:
        extra.update(pca_mean=np.asarray(model.pca_mean, np.float32),
                     pca_axes=np.asarray(model.pca_axes, np.float32))
    if model.threshold_hint is not None:
        extra["threshold_hint"] = np.float64(model.threshold_hint)
    np.savez_compressed(
        path, real_features=model.real_features.astype(np.float16),
        real_radii=model.real_radii.astype(np.float32), k=np.int64(model.k),
        components=np.asarray(model.components), mean=model.mean, scale=model.scale,
        coef_clear=model.coef_clear, intercept_clear=np.float64(model.intercept_clear),
        coef_named=model.coef_named, intercept_named=np.float64(model.intercept_named),
        threshold_clear=np.float64(model.threshold_clear),
        threshold_named=np.float64(model.threshold_named), **extra)


def pca_components(features: np.ndarray, model: RealismModel) -> dict[str, np.ndarray]:
    """The ``pcNN`` components of judge features (N, D): {} when the model has no PCA."""
    if model.pca_axes is None or model.pca_mean is None:
        return {}
    proj = (np.asarray(features, np.float64) - model.pca_mean) @ model.pca_axes
    return {name: proj[:, j] for j, name in enumerate(pca_names(model.n_pca))}


def pairwise_distances(a: np.ndarray, b: np.ndarray, chunk: int = 1024) -> np.ndarray:
    """Euclidean distances between the rows of ``a`` (N, D) and ``b`` (M, D), float32 (N, M)."""
    a32, b32 = np.asarray(a, np.float32), np.asarray(b, np.float32)
    bb = (b32 * b32).sum(1)
    out = np.empty((len(a32), len(b32)), np.float32)
    for i in range(0, len(a32), chunk):
        x = a32[i:i + chunk]
        d2 = (x * x).sum(1)[:, None] + bb[None, :] - 2.0 * x @ b32.T
        out[i:i + chunk] = np.sqrt(np.maximum(d2, 0.0))
    return out


def knn_radii(features: np.ndarray, k: int = 3) -> np.ndarray:
    """Distance of each row to its k-th nearest other row (the k-NN sphere radius r_k)."""
    d = pairwise_distances(features, features)
    np.fill_diagonal(d, np.inf)
    return np.partition(d, k - 1, axis=1)[:, k - 1]


def prune_spheres(features: np.ndarray, radii: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Keep the real images whose radius is at most the median (Kynkäänniemi et al., Sec. 5)."""
    keep = radii <= np.median(radii)
    return features[keep], radii[keep]


def realism_score(features: np.ndarray, real_features: np.ndarray,
                  real_radii: np.ndarray) -> np.ndarray:
    """R(x) = max_i r_k(real_i) / ||f(x) - f(real_i)|| (N,); >= 1 inside some real sphere.

    NOTE: pass the pruned spheres (:func:`prune_spheres`); the paper's score uses them.
    """
    d = pairwise_distances(features, real_features)
    return (np.asarray(real_radii, np.float32)[None, :] / np.maximum(d, _EPS)).max(axis=1)


def shifted_views(images: np.ndarray) -> np.ndarray:
    """Small perturbations of uint8 images: :data:`SHIFTS` and a 3x3 binomial blur.

    Returns:
        uint8 (V, N, 32, 32, 3), V = len(SHIFTS) + 1.
    """
    x = np.asarray(images, np.uint8)
    pad = np.pad(x, ((0, 0), (2, 2), (2, 2), (0, 0)), mode="edge")
    h, w = x.shape[1:3]
    views = [pad[:, 2 - dy:2 - dy + h, 2 - dx:2 - dx + w] for dy, dx in SHIFTS]
    p = pad[:, 1:h + 3, 1:w + 3].astype(np.float32)
    rows = (p[:, :-2] + 2 * p[:, 1:-1] + p[:, 2:]) / 4.0
    blur = (rows[:, :, :-2] + 2 * rows[:, :, 1:-1] + rows[:, :, 2:]) / 4.0
    views.append(np.clip(np.rint(blur), 0, 255).astype(np.uint8))
    return np.stack(views)


def tile_components(judge: JudgeLike, images: np.ndarray, model: RealismModel,
                    predicted: tuple[np.ndarray, np.ndarray] | None = None
                    ) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The raw components of the score and the judge's top class for each image.

    Args:
        judge: Anything with ``predict(uint8 images) -> (probs, features)``; its
            ``class_stats`` (if any) gives ``log_mahalanobis`` (else NaN).
        images: uint8 (N, 32, 32, 3).
        model: The realism asset (reference features and radii).
        predicted: ``judge.predict(images)`` when the caller has it already.

    Returns:
        (components by name, predicted class (N,)).
    """
    probs, feats = predicted if predicted is not None else judge.predict(images)
    top = probs.argmax(axis=1)
    p1 = np.clip(probs[np.arange(len(top)), top], _EPS, 1 - _EPS)
    views = shifted_views(images)
    vprobs, _ = judge.predict(views.reshape(-1, *views.shape[2:]))
    vprobs = vprobs.reshape(len(views), len(images), -1)
    stats = getattr(judge, "class_stats", None)
    maha = (stats.min_mahalanobis(feats) if stats is not None
            else np.full(len(top), np.nan))
    comps = {
        "logit_top1": np.log(p1 / (1 - p1)),
        "log_realism": np.log(np.maximum(
            realism_score(feats, model.real_features, model.real_radii), _EPS)),
        "shift_agreement": vprobs[:, np.arange(len(top)), top].mean(axis=0),
        "log_mahalanobis": np.log(np.maximum(maha, _EPS)),
        "feature_norm": np.linalg.norm(feats, axis=1),
        **pca_components(feats, model),
    }
    return comps, top


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def scores_from_components(components: dict[str, np.ndarray],
                           model: RealismModel) -> tuple[np.ndarray, np.ndarray]:
    """(p_clear, p_named) from raw components with the model's coefficients."""
    z = np.stack([(components[c] - m) / s for c, m, s in
                  zip(model.components, model.mean, model.scale)], axis=1)
    p_clear = _sigmoid(z @ model.coef_clear + model.intercept_clear)
    p_named = np.maximum(_sigmoid(z @ model.coef_named + model.intercept_named), p_clear)
    return p_clear, p_named


def tile_flags(p_clear: np.ndarray, p_named: np.ndarray,
               model: RealismModel) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(clear, named, hinted) flags per tile: each implies the next, as the labels do.

    clear: ``p_clear >= threshold_clear``; named: ``p_named >= threshold_named`` or clear;
    hinted: ``p_named >= threshold_hint`` or named.
    """
    clear = np.asarray(p_clear) >= model.threshold_clear
    named = (np.asarray(p_named) >= model.threshold_named) | clear
    hinted = (np.asarray(p_named) >= model.hint_threshold) | named
    return clear, named, hinted


def tile_value(p_clear: np.ndarray, p_named: np.ndarray) -> np.ndarray:
    """Expected eye-label credit per tile: 1 when clear, 0.5 when plausible (item 3's unit)."""
    pc = np.asarray(p_clear, dtype=float)
    return pc + 0.5 * (np.maximum(np.asarray(p_named, dtype=float), pc) - pc)


def tile_scores(judge: JudgeLike, images: np.ndarray, model: RealismModel | None = None,
                predicted: tuple[np.ndarray, np.ndarray] | None = None) -> TileScores:
    """Per-tile recognizability of uint8 images (N, 32, 32, 3).

    Args:
        judge: The loaded judge (:func:`grader.judge.classifier.load_judge`) or a stand-in.
        images: uint8 (N, 32, 32, 3).
        model: The realism asset; default the judge's own (``judge.realism``, loaded
            with it from the assignment's ``[judge] realism`` file).
        predicted: ``judge.predict(images)`` when the caller has it already (it must be of
            these uint8 images).

    Returns:
        Probabilities, thresholded flags (clear, named, hinted), the predicted class and the
        components.

    Raises:
        ValueError: The images are not uint8 (N, 32, 32, 3).
        JudgeAssetError: The shipped asset is missing or malformed.
    """
    x = np.asarray(images)
    if x.dtype != np.uint8 or x.ndim != 4 or x.shape[1:] != (32, 32, 3):
        raise ValueError(f"tile_scores takes uint8 images (N, 32, 32, 3); got {x.dtype} {x.shape}")
    model = model or getattr(judge, "realism", None)
    if model is None:
        raise JudgeAssetError("The per-tile recognizability score is not installed.",
                              f"the judge has no realism asset. {REFIT_HINT}")
    if len(x) == 0:
        empty = np.zeros(0)
        names = dict.fromkeys((*COMPONENTS, *pca_names(model.n_pca)))
        return TileScores(empty, empty, np.zeros(0, np.int64), {c: empty for c in names},
                          np.zeros(0, bool), np.zeros(0, bool), np.zeros(0, bool))
    comps, top = tile_components(judge, x, model, predicted)
    p_clear, p_named = scores_from_components(comps, model)
    return TileScores(p_clear, p_named, top, comps, *tile_flags(p_clear, p_named, model))
