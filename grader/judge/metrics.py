"""Judge metrics on classifier outputs: recognizability, coverage, classifier score, FCD.

The maths here takes arrays (calibrated probabilities and penultimate features), not models,
so every formula can be tested against an independent implementation with a fake
classifier. :func:`score_images` binds the shipped classifier (loaded lazily) to it.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from grader.judge.calibration import FeatureStats, features_to_stats, load_calibration
from grader.judge.classifier import images_to_pixels, load_judge
from grader.judge.copies import find_copies
from grader.judge.realism import tile_scores
from grader.judge.results import FCD_NOTE, ImageVerdict, JudgeResult
from grader.stats.inception import classifier_scores

#: Two images closer than this root-mean-square pixel difference (on the [-1, 1] scale) are
#: near-copies. Calibrated by ``reference.calibrate_near_copies`` (near_copy_calibration.md):
#: no two distinct real or reference-generated images came this close in any sample, while
#: the same image drawn twice in a matplotlib grid and cut out again usually does.
NEAR_COPY_RMS = 0.09
#: Images with a smaller pixel standard deviation are flat (blank panels, constant output);
#: they are never counted as near-copies (a flat image fails recognizability anyway).
FLAT_STD = 0.02
#: Above this many images the near-copy search runs on a random subset of this size.
NEAR_COPY_MAX_N = 1000

#: below this many images the feature covariance is rank-deficient (D = 128 here)
#: and FCD is dominated by small-sample bias; we still compute it but warn.
FCD_MIN_N_FACTOR = 1.0


class JudgeLike(Protocol):
    """What :func:`score_images` needs from a judge (the real one or a test fake).

    Optional: ``fcd_table`` (dict N -> real FCD), ``in_distribution(features)`` (a boolean
    mask or None) and ``warnings`` (list of str), used when present.
    """

    tau: float
    reference_stats: FeatureStats
    class_names: tuple[str, ...]
    image_shape: tuple[int, int, int]

    def predict(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Calibrated probabilities (N, classes) and features (N, D)."""


def coverage_k(n: int) -> int:
    """Recognized images a class needs to count as covered: max(1, round(0.02 * n)).

    With 10 classes a uniform generator puts 10% of its images in each class; 2% of N is a
    fifth of that fair share, so a class counts when it is clearly present, not by one
    lucky image in a large set. For a 16-image grid k = 1.
    """
    return max(1, round(0.02 * n))


def nearest_rms(unit: np.ndarray, block: int = 512) -> np.ndarray:
    """Per image, the RMS pixel difference to its nearest other image in the set (inf if alone).

    ``unit`` holds N images as floats on the [-1, 1] scale, any shape (N, ...).
    """
    a = np.asarray(unit, dtype=np.float32).reshape(len(unit), -1)
    n, d = a.shape
    out = np.full(n, np.inf, dtype=np.float64)
    if n < 2:
        return out
    sq = (a * a).sum(axis=1)
    for i in range(0, n, block):
        dist2 = sq[i:i + block, None] + sq[None, :] - 2.0 * (a[i:i + block] @ a.T)
        rows = np.arange(i, min(i + block, n))
        dist2[rows - i, rows] = np.inf
        out[rows] = np.sqrt(np.maximum(dist2.min(axis=1), 0.0) / d)
    return out


def near_copy_mask(pixels: np.ndarray, max_rms: float = NEAR_COPY_RMS,
                   max_n: int = NEAR_COPY_MAX_N, seed: int = 0,
                   groups: np.ndarray | None = None) -> np.ndarray:
    """Boolean (N,): the image has a near-copy in the set (RMS difference < ``max_rms``).

    ``pixels`` are float pixels 0..255 (N, H, W, C). Flat images (std < :data:`FLAT_STD`)
    never count. With ``groups`` (a label per image) copies are searched only within a
    group. Above ``max_n`` images only a random subset of ``max_n`` is searched (the rest
    count as False), which keeps the cost at O(max_n^2).
    """
    n = len(pixels)
    labels = np.zeros(n, np.int64) if groups is None else np.asarray(groups)
    if labels.shape != (n,):
        raise ValueError(f"groups {labels.shape} does not match {n} images")
    mask = np.zeros(n, dtype=bool)
    idx = np.arange(n)
    if n > max_n:
        idx = np.sort(np.random.default_rng(seed).choice(n, max_n, replace=False))
    unit = np.asarray(pixels)[idx].reshape(len(idx), -1).astype(np.float32) / 127.5 - 1.0
    keep = unit.std(axis=1) >= FLAT_STD
    idx, unit = idx[keep], unit[keep]
    for g in np.unique(labels[idx]):
        members = labels[idx] == g
        mask[idx[members]] = nearest_rms(unit[members]) < max_rms
    return mask


def recognizable_mask(probs: np.ndarray, tau: float) -> np.ndarray:
    """Boolean (N,): calibrated top-1 probability >= tau."""
    return np.asarray(probs).max(axis=1) >= tau


def bootstrap_fraction_ci(mask: np.ndarray, n_boot: int = 1000, seed: int = 0,
                          level: float = 0.95) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean of a 0/1 vector.

    Resampling N Bernoulli values with replacement and taking their mean is the same
    distribution as Binomial(N, p_hat) / N, which we draw directly (O(n_boot), not
    O(n_boot * N)).
    """
    n = len(mask)
    if n == 0:
        return float("nan"), float("nan")
    p = float(np.mean(mask))
    draws = np.random.default_rng(seed).binomial(n, p, size=n_boot) / n
    alpha = (1 - level) / 2
    return float(np.quantile(draws, alpha)), float(np.quantile(draws, 1 - alpha))


def classifier_score(probs: np.ndarray, eps: float = 1e-12) -> float:
    """exp(mean_x KL(p(y|x) || p(y))) with p(y) the mean of p(y|x) over the set.

    The Inception Score of Salimans et al. 2016 (https://arxiv.org/abs/1606.03498) with
    our CIFAR-10 classifier in place of Inception; one split, no resampling.
    """
    return float(classifier_scores(np.asarray(probs, dtype=np.float64)[None], eps)[0])


def frechet_distance(a: FeatureStats, b: FeatureStats, eps: float = 1e-6) -> float:
    """Fréchet distance of two Gaussians: |mu_a - mu_b|^2 + Tr(Sa + Sb - 2 (Sa Sb)^1/2).

    Heusel et al. 2017 (https://arxiv.org/abs/1706.08500) on our classifier's features.
    NOTE: Tr((Sa Sb)^1/2) is computed as the sum of square roots of the eigenvalues of
    Sa Sb (real and >= 0 for covariance matrices; round-off below 0 is clipped), which equals
    the trace of ``scipy.linalg.sqrtm`` but takes milliseconds instead of seconds; singular
    covariances need no special case. Should the eigen-solver fail, ``eps`` times the
    identity is added to both covariances (as pytorch-fid does) and it is tried again.
    """
    diff = a.mean - b.mean
    try:
        eig = np.linalg.eigvals(a.cov @ b.cov)
    except np.linalg.LinAlgError:
        off = np.eye(len(a.mean)) * eps
        eig = np.linalg.eigvals((a.cov + off) @ (b.cov + off))
    tr_covmean = float(np.sqrt(np.clip(eig.real, 0.0, None)).sum())
    return float(diff @ diff + np.trace(a.cov) + np.trace(b.cov) - 2 * tr_covmean)


def fcd_reference_at_n(n: int, table: dict[int, float] | None = None) -> float:
    """Real-vs-real FCD at sample size ``n``, from the table shipped in calibration.json.

    FCD is biased upwards by roughly c / N (the covariance of few samples is noisy), so a
    16-image grid of *real* photos already scores far above 0. We fit FCD(N) = a + b / N
    to the shipped table (held-out real train images vs the real test statistics,
    averaged over draws) and evaluate it at ``n``. Returns NaN when there is no table.
    """
    if table is None:
        try:
            table = load_calibration().fcd_reference
        except Exception:  # no calibration installed: no reference, not a crash
            table = {}
    if not table or n < 2:
        return float("nan")
    ns = np.array(sorted(table), dtype=np.float64)
    vals = np.array([table[int(k)] for k in ns])
    if len(ns) == 1:
        return float(vals[0])
    design = np.stack([np.ones_like(ns), 1.0 / ns], axis=1)
    (a, b), *_ = np.linalg.lstsq(design, vals, rcond=None)
    return float(a + b / n)


def score_predictions(probs: np.ndarray, features: np.ndarray, *, tau: float,
                      class_names: tuple[str, ...] | list[str],
                      reference_stats: FeatureStats | None,
                      fcd_table: dict[int, float] | None = None,
                      in_distribution: np.ndarray | None = None,
                      n_boot: int = 1000, seed: int = 0,
                      k_coverage: int | None = None, with_fcd: bool = True,
                      near_copy: np.ndarray | None = None) -> JudgeResult:
    """All judge metrics from calibrated probabilities and features (no model involved).

    Args:
        probs: Calibrated class probabilities, shape (N, classes).
        features: Penultimate features, shape (N, D).
        tau: Recognizability threshold on the top-1 probability.
        class_names: The classes, in the order of the probability columns.
        reference_stats: Real-image feature stats for FCD (None: FCD is NaN).
        fcd_table: Real-vs-real FCD by N (see :func:`fcd_reference_at_n`).
        in_distribution: Boolean (N,) from the judge's out-of-distribution gate; images
            outside it are never recognizable (None: no gate).
        n_boot: Bootstrap resamples for the interval.
        seed: Seed of the bootstrap.
        k_coverage: Override of :func:`coverage_k`.
        with_fcd: Compute the FCD (False: NaN, for small per-frame sets where it means little).
        near_copy: Boolean (N,) from :func:`near_copy_mask` (None: not searched, all False).

    Raises:
        ValueError: Shapes do not match.
    """
    probs = np.asarray(probs, dtype=np.float64)
    features = np.asarray(features, dtype=np.float64)
    if probs.ndim != 2 or probs.shape[1] != len(class_names) or len(features) != len(probs):
        raise ValueError(f"probs {probs.shape} and features {features.shape} do not match")
    n, warnings = len(probs), []
    if n == 0:
        raise ValueError("no images to score")
    mask = recognizable_mask(probs, tau)
    ood = 0.0
    if in_distribution is not None:
        in_distribution = np.asarray(in_distribution, dtype=bool)
        if in_distribution.shape != mask.shape:
            raise ValueError(f"in_distribution {in_distribution.shape} does not match {mask.shape}")
        mask &= in_distribution
        ood = float(1.0 - in_distribution.mean())
    copies = np.zeros(n, dtype=bool) if near_copy is None else np.asarray(near_copy, dtype=bool)
    if copies.shape != mask.shape:
        raise ValueError(f"near_copy {copies.shape} does not match {mask.shape}")
    top = probs.argmax(axis=1)
    hist = np.bincount(top[mask], minlength=len(class_names))
    k = k_coverage if k_coverage is not None else coverage_k(n)
    lo, hi = bootstrap_fraction_ci(mask, n_boot=n_boot, seed=seed)
    fcd = float("nan")
    if not with_fcd:
        pass
    elif reference_stats is not None and n >= 2:
        fcd = frechet_distance(features_to_stats(features), reference_stats)
        if n < FCD_MIN_N_FACTOR * features.shape[1]:
            warnings.append(
                f"{FCD_NOTE} from only {n} images (fewer than the {features.shape[1]} feature "
                "dimensions) is strongly biased upwards; compare it with fcd_reference, "
                "the value real images get at the same N.")
    elif n < 2:
        warnings.append(f"{FCD_NOTE} needs at least 2 images.")
    per_image = [
        ImageVerdict(class_index=int(c), class_name=class_names[int(c)], prob=float(probs[i, c]),
                     recognizable=bool(mask[i]), near_copy=bool(copies[i]),
                     probs=[round(float(q), 5) for q in probs[i]])
        for i, c in enumerate(top)
    ]
    return JudgeResult(
        n=n, recognizable_fraction=float(mask.mean()), ci_low=lo, ci_high=hi, tau=float(tau),
        out_of_distribution_fraction=ood,
        class_histogram=[int(h) for h in hist], class_coverage=int((hist >= k).sum()),
        coverage_k=int(k), classifier_score=classifier_score(probs), fcd=fcd,
        fcd_reference=fcd_reference_at_n(n, fcd_table if fcd_table is not None else {}),
        near_copy_fraction=float(copies.mean()), per_image=per_image, warnings=warnings,
        class_names=list(class_names),
    )


def score_images(images: np.ndarray, judge: JudgeLike | None = None, *,
                 k_coverage: int | None = None, n_boot: int = 1000,
                 seed: int = 0, groups: np.ndarray | None = None) -> JudgeResult:
    """Score images (N, H, W, C) (uint8, or floats in [-1, 1]) with the assignment's judge.

    Args:
        images: The images; see :meth:`grader.judge.classifier.Judge.predict`.
        judge: A judge; default the shipped classifier (loaded once per process).
        k_coverage: Override of :func:`coverage_k`.
        n_boot: Bootstrap resamples for the interval of the recognizable fraction.
        seed: Seed of the bootstrap.
        groups: A label per image: near-copies are searched within each label only.

    Raises:
        ValueError: The images break the input contract.
        JudgeAssetError: The shipped classifier or its calibration is missing.
    """
    if judge is None:
        judge = load_judge()
    probs, features = judge.predict(images)
    pixels = images_to_pixels(images, judge.image_shape)
    gate = getattr(judge, "in_distribution", None)
    result = score_predictions(
        probs, features, tau=judge.tau, class_names=judge.class_names,
        reference_stats=judge.reference_stats, fcd_table=getattr(judge, "fcd_table", None),
        in_distribution=gate(features) if gate else None, n_boot=n_boot, seed=seed,
        k_coverage=k_coverage, near_copy=near_copy_mask(pixels, seed=seed, groups=groups))
    result.warnings = list(getattr(judge, "warnings", [])) + result.warnings
    u8 = np.rint(pixels).astype(np.uint8)
    # the judge's reading can be reused only when it saw exactly these uint8 images
    same = np.asarray(images).dtype == np.uint8 and np.asarray(images).shape == u8.shape
    add_tile_scores(result, judge, u8, (probs, features) if same else None)
    add_copies(result, getattr(judge, "copy_index", None), u8)
    return result


def add_tile_scores(result: JudgeResult, judge: JudgeLike, images: np.ndarray,
                    predicted: tuple[np.ndarray, np.ndarray] | None = None) -> None:
    """Fill the per-tile recognizability (eye-label score) into ``result``, when the judge
    has one for images of this shape (``predicted``: the judge's reading of ``images``)."""
    model = getattr(judge, "realism", None)
    if model is None or not len(images):
        return
    scores = tile_scores(judge, images, model, predicted)  # type: ignore[arg-type]
    for verdict, pc, pn, c, nm in zip(result.per_image, scores.p_clear, scores.p_named,
                                      scores.clear, scores.named, strict=True):
        verdict.p_clear, verdict.p_named = round(float(pc), 4), round(float(pn), 4)
        verdict.clear, verdict.named = bool(c), bool(nm)
    result.clear_count = int(scores.clear.sum())
    result.named_count = int(scores.named.sum())
    if scores.hinted is not None:
        result.hinted_count = int((scores.hinted | scores.named).sum())
    result.expected_clear = float(scores.p_clear.sum())


def add_copies(result: JudgeResult, index: object, images: np.ndarray) -> None:
    """Mark images that are near-copies of real ones (the copy index), when there is one."""
    if index is None or not len(images):
        return
    found = find_copies(index, images)  # type: ignore[arg-type]
    names = result.class_names
    for i, verdict in enumerate(result.per_image):
        if found.is_copy[i]:
            label = int(found.label[i])
            cls = names[label] if label < len(names) else str(label)
            verdict.copy_of = (f"{found.split[i]} {int(found.index[i])}, {cls}"
                               + (", mirrored" if found.mirrored[i] else ""))
    result.copy_fraction = float(found.is_copy.mean())
