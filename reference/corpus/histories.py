"""Training histories for the corpus: the reference runs' real ones and simulated ones.

A simulated history draws, at every step, a batch of discriminator logits for real and for
generated images around a latent mean (a smooth curve plus a slow random walk), then computes
from that very batch what the student's code would record: the losses as the notebook's loss
functions compute them and the accuracies as its ``discriminator_accuracy`` computes them
(with the lesson's bug of comparing logits with 0.5, or correctly). So a buggy notebook's
curve is biased exactly the way the bug biases it, and batch means are binomial.

Latent fake-accuracy shapes (``kind``):

- ``high``: starts near 1.0 and stays around 0.9 (0.85-1.0), as the reference runs do;
- ``down``: starts near 1.0 and comes down to about 0.55 by mid-training;
- ``osc``: like ``down`` with slow swings of +-0.15 (a few epochs per period);
- ``dwins``: the discriminator wins, fake accuracy goes to 1.0 and the generator loss rises;
- ``flat``: hovers around 0.57 from the start (a run continued from a checkpoint).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from reference.corpus.sources import ROOT

KINDS = ("high", "down", "osc", "dwins", "flat")
REAL_LONG = ROOT / "reference" / "baselines" / "long" / "history.json"
REAL_50 = ROOT / "runs" / "baseline_50" / "history.json"
KEYS = ("gen_loss", "disc_loss", "real_accuracy", "fake_accuracy")


@dataclass(frozen=True)
class HistorySpec:
    """How to make one run's history."""

    kind: str
    """A latent shape of :data:`KINDS`, or ``real_long`` / ``real_50`` (reference runs)."""
    epochs: int
    """Epochs of the run."""
    batch: int = 128
    """Batch size (steps per epoch = ceil(50000 / batch))."""
    head: str = "logits"
    """``logits``, ``sigmoid`` (probabilities, from_logits=False) or ``double_sigmoid``."""
    accuracy: str = "fixed"
    """``fixed`` (threshold 0 on logits / 0.5 on probabilities) or ``lesson_bug``."""
    label_smoothing: float = 1.0
    """Target for real images in the discriminator loss (0.9 with one-sided smoothing)."""


def steps_per_epoch(batch: int) -> int:
    """Batches per epoch over CIFAR-10's 50,000 training images."""
    return -(-50000 // batch)


def _latent_fake_acc(kind: str, t: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The latent (expected) fake accuracy at training fraction ``t`` in [0, 1]."""
    walk = np.cumsum(rng.normal(0, 1, t.size))
    walk = (walk - np.linspace(walk[0], walk[-1], t.size)) / (np.sqrt(t.size) + 1e-9)
    start = 0.99 - 0.25 * np.exp(-t / 0.004)  # the first few hundred steps climb to ~1
    if kind == "high":
        p = 0.9 + 0.05 * np.exp(-t / 0.05) + 0.03 * walk
        return np.clip(np.minimum(p, start), 0.84, 0.995)
    if kind == "flat":
        return np.clip(0.57 + 0.03 * walk, 0.45, 0.7)
    if kind == "dwins":
        return np.clip(np.minimum(0.97 + 0.03 * t, start) + 0.005 * walk, 0.9, 0.999)
    p = 0.53 + 0.44 * np.exp(-t / 0.18) + 0.025 * walk
    if kind == "osc":  # two incommensurate swings with random phases, growing in
        f1, f2, ph1, ph2 = rng.uniform(4, 7), rng.uniform(11, 17), *rng.uniform(0, 6.3, 2)
        swing = 0.11 * np.sin(2 * np.pi * f1 * t + ph1) + 0.06 * np.sin(2 * np.pi * f2 * t + ph2)
        p = p + swing * np.clip(t * 6, 0, 1) * np.clip((1 - t) * 8, 0.3, 1) * (1 + 0.5 * walk)
    elif kind != "down":
        raise ValueError(f"unknown history kind {kind!r}; expected one of {KINDS}")
    return np.clip(np.minimum(p, start), 0.3, 0.995)


def _probit(p: np.ndarray) -> np.ndarray:
    from scipy.special import ndtri

    return ndtri(np.clip(p, 1e-4, 1 - 1e-4))


def _softplus(x: np.ndarray) -> np.ndarray:
    return np.logaddexp(0.0, x)


def simulate(spec: HistorySpec, seed: int) -> dict[str, list[float]]:
    """A per-step history as the notebook's code would record it (see the module docstring).

    Args:
        spec: Shape, length and the code details that change what is recorded.
        seed: Seeds the logits and the random walk.

    Returns:
        ``gen_loss``, ``disc_loss``, ``real_accuracy``, ``fake_accuracy``: one float per step.
    """
    rng = np.random.default_rng(seed)
    per = steps_per_epoch(spec.batch)
    n = per * spec.epochs
    t = np.arange(n) / max(n - 1, 1)
    spread = 1.4 + 0.3 * np.sin(np.linspace(0, 7, n)) + 0.1 * rng.standard_normal(n)
    p_fake = _latent_fake_acc(spec.kind, t, rng)
    drift = rng.standard_normal(n).cumsum() / np.sqrt(n)
    p_real = np.clip(p_fake + 0.04 + 0.05 * drift, 0.3, 0.995)
    m_fake = -spread * _probit(p_fake)  # fake logits ~ N(m_fake, spread): P(logit < 0) = p_fake
    m_real = spread * _probit(p_real)
    sizes = np.full(n, spec.batch)
    sizes[per - 1::per] = 50000 - (per - 1) * spec.batch  # the short last batch of an epoch
    mask = np.arange(spec.batch)[None, :] < sizes[:, None]
    lf = m_fake[:, None] + spread[:, None] * rng.standard_normal((n, spec.batch))
    lr = m_real[:, None] + spread[:, None] * rng.standard_normal((n, spec.batch))
    if spec.head == "double_sigmoid":  # BCE(from_logits=True) applied to probabilities
        of, orr = 1 / (1 + np.exp(-lf)), 1 / (1 + np.exp(-lr))
    else:
        of, orr = lf, lr
    y = spec.label_smoothing
    thr = 0.5 if spec.accuracy == "lesson_bug" and spec.head == "logits" else 0.0

    def bmean(a: np.ndarray) -> np.ndarray:
        return (a * mask).sum(axis=1) / sizes

    hist = {
        "gen_loss": bmean(_softplus(-of)),
        "disc_loss": bmean(y * _softplus(-orr) + (1 - y) * _softplus(orr)) + bmean(_softplus(of)),
        "real_accuracy": bmean(lr >= thr),
        "fake_accuracy": bmean(lf < thr),
    }
    return {k: [float(v) for v in hist[k]] for k in KEYS}


def real(kind: str) -> dict[str, list[float]] | None:
    """A reference run's recorded history (``real_long`` or ``real_50``); None if absent."""
    path = REAL_LONG if kind == "real_long" else REAL_50
    if not path.is_file():
        return None
    data = json.loads(path.read_text())["history"]
    return {k: [float(v) for v in data[k]] for k in KEYS}


def make_history(spec: HistorySpec, seed: int) -> tuple[dict[str, list[float]], str]:
    """The history of one run and what it is (``real_long``, ``simulated:down``, ...).

    ``real_50`` falls back to a simulated ``high`` curve until the 50-epoch run has written
    its history (the reference runs' fake accuracy stays near 0.9).
    """
    if spec.kind.startswith("real"):
        hist = real(spec.kind)
        if hist is not None:
            return hist, spec.kind
        spec = HistorySpec("high", spec.epochs, spec.batch, spec.head, spec.accuracy,
                           spec.label_smoothing)
        return _clear_of_the_line(spec, seed), "simulated:high (real_50 not written yet)"
    return _clear_of_the_line(spec, seed), f"simulated:{spec.kind}"


def _clear_of_the_line(spec: HistorySpec, seed: int, tries: int = 20) -> dict[str, list[float]]:
    """Simulate, re-drawing until the curve is clearly on its side of the truth rule.

    ``down``/``osc`` must end at most 0.65 and fall at least 0.2 (the rule: <= 0.70, >= 0.15);
    ``high``/``dwins`` must end at least 0.8. Borderline curves would make the truth a coin
    toss between careful readers, so the corpus avoids them.
    """
    hist = simulate(spec, seed)
    for k in range(1, tries):
        first, last = trend(hist["fake_accuracy"])
        if spec.kind in ("down", "osc") and last <= 0.65 and first - last >= 0.2:
            break
        if spec.kind in ("high", "dwins") and last >= 0.8:
            break
        if spec.kind == "flat":
            break
        hist = simulate(spec, seed + 7919 * k)
    return hist


def trend(values: list[float]) -> tuple[float, float]:
    """Means of the first and of the last 10% of a per-step series."""
    x = np.asarray(values, np.float64)
    k = max(1, x.size // 10)
    return float(x[:k].mean()), float(x[-k:].mean())


def epoch_means(values: list[float], per_epoch: int) -> list[float]:
    """Per-epoch means of a per-step series."""
    x = np.asarray(values, np.float64)
    return [float(x[i:i + per_epoch].mean()) for i in range(0, x.size, per_epoch)]


def save_json(hist: dict[str, list[float]], path: Path) -> None:
    """Write a history as compact JSON."""
    path.write_text(json.dumps({k: [round(v, 5) for v in hist[k]] for k in hist}))
