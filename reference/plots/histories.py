"""Simulated training histories of the lesson's DCGAN: per-step batch accuracies and losses.

Each accuracy is the mean of ``batch`` Bernoulli trials around a latent probability, as a
per-batch accuracy is; the latent fake-accuracy curve follows one of the behaviours seen in
real notebooks (:data:`BEHAVIOURS`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

#: latent shapes of the fake-accuracy curve
BEHAVIOURS = ("high", "oscillating", "converging", "collapse", "bug", "declining", "rising")
#: how often each behaviour is drawn (the discriminator winning throughout is the commonest)
BEHAVIOUR_WEIGHTS = (0.3, 0.12, 0.2, 0.08, 0.12, 0.1, 0.08)
#: the CIFAR-10 training set
N_IMAGES = 50_000
REFERENCE_HISTORY = Path(__file__).resolve().parents[1] / "baselines" / "long" / "history.json"
KEYS = ("gen_loss", "disc_loss", "real_accuracy", "fake_accuracy")


@dataclass
class SimulatedHistory:
    """A history dict as the lesson's ``train()`` builds it, and how it was made."""

    history: dict[str, np.ndarray]
    """``gen_loss``, ``disc_loss``, ``real_accuracy``, ``fake_accuracy``: one value per step."""
    behaviour: str
    batch: int
    steps_per_epoch: int
    epochs: int
    latent_fake: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0))
    """The latent probability the per-step fake accuracies were drawn around."""


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-4, 1 - 1e-4)
    return np.log(p / (1 - p))


def _wander(rng: np.random.Generator, n: int, scale: float, cycles: float) -> np.ndarray:
    """Smooth random wander: a few random sinusoids, about ``cycles`` periods over the run."""
    t = np.linspace(0.0, 1.0, n)
    out = np.zeros(n)
    for _ in range(3):
        k = cycles * rng.uniform(0.5, 1.5)
        out += np.sin(2 * np.pi * k * t + rng.uniform(0, 2 * np.pi)) * rng.uniform(0.3, 1.0)
    return scale * out / 1.5


def latent_fake_curve(rng: np.random.Generator, n: int, behaviour: str) -> np.ndarray:
    """Latent probability of a correct call on a fake batch, per step.

    Args:
        rng: random source.
        n: number of steps.
        behaviour: one of :data:`BEHAVIOURS`.

    Returns:
        Shape (n,), values in (0, 1).
    """
    t = np.linspace(0.0, 1.0, n)
    start = rng.uniform(0.45, 0.75)
    rise = 1 - np.exp(-t / rng.uniform(0.005, 0.04))  # the discriminator learns fast at first
    if behaviour in ("high", "bug"):
        level = _logit(np.full(n, rng.uniform(0.86, 0.985))) + _wander(rng, n, 0.35, 3)
        z = _logit(np.full(n, start)) * (1 - rise) + level * rise
        if behaviour == "bug":  # raw logits compared with 0.5: more fakes called fake
            z = z + rng.uniform(0.8, 2.5)
        return _sigmoid(z)
    if behaviour == "oscillating":
        mid, amp = rng.uniform(0.55, 0.8), rng.uniform(0.15, 0.3)
        p = mid + amp * np.sin(2 * np.pi * rng.uniform(2, 8) * t + rng.uniform(0, 6.3))
        return np.clip(p + _wander(rng, n, 0.05, 12), 0.03, 0.99)
    if behaviour == "converging":
        peak, final = rng.uniform(0.85, 0.99), rng.uniform(0.42, 0.66)
        t_peak, tau = rng.uniform(0.02, 0.25), rng.uniform(0.05, 0.4)
        up = start + (peak - start) * np.clip(t / t_peak, 0, 1)
        down = final + (peak - final) * np.exp(-np.clip(t - t_peak, 0, None) / tau)
        return np.clip(np.where(t < t_peak, up, down) + _wander(rng, n, 0.03, 5), 0.02, 0.995)
    if behaviour == "collapse":
        t_c = rng.uniform(0.15, 0.8)
        high = rng.uniform(0.8, 0.97)
        end = rng.choice([rng.uniform(0.0, 0.06), rng.uniform(0.985, 1.0)])
        w = _sigmoid((t - t_c) / rng.uniform(0.005, 0.05))
        base = start * (1 - rise) + high * rise
        return np.clip(base * (1 - w) + end * w, 0.0, 1.0)
    if behaviour == "declining":
        a, b = rng.uniform(0.9, 0.99), rng.uniform(0.6, 0.82)
        return np.clip(start * (1 - rise) + (a + (b - a) * t) * rise
                       + _wander(rng, n, 0.02, 4), 0.02, 0.995)
    if behaviour == "rising":
        a, b = rng.uniform(0.55, 0.75), rng.uniform(0.88, 0.99)
        return np.clip(a + (b - a) * t + _wander(rng, n, 0.02, 4), 0.02, 0.995)
    raise ValueError(f"unknown behaviour {behaviour!r}; expected one of {BEHAVIOURS}")


def _step_noise(rng: np.random.Generator, n: int) -> np.ndarray:
    """AR(1) jitter of the per-step logit plus rare deep dips (a bad batch, a G update)."""
    sd, phi = rng.uniform(0.15, 0.6), rng.uniform(0.3, 0.9)
    e = rng.normal(0, sd * np.sqrt(1 - phi ** 2), n)
    z = np.empty(n)
    z[0] = rng.normal(0, sd)
    for i in range(1, n):
        z[i] = phi * z[i - 1] + e[i]
    n_dips = rng.poisson(rng.uniform(0.0, 0.012) * n)
    for s in rng.integers(0, n, n_dips):
        z[s:s + rng.integers(1, 8)] -= rng.uniform(1.0, 4.5)
    return z


def batch_accuracy(rng: np.random.Generator, p: np.ndarray, batch: int) -> np.ndarray:
    """Per-step accuracy on one batch: Binomial(batch, p_step) / batch."""
    return rng.binomial(batch, np.clip(p, 0.0, 1.0)) / batch


def simulate_history(rng: np.random.Generator, behaviour: str | None = None,
                     n_steps: int | None = None, batch: int | None = None) -> SimulatedHistory:
    """Draw one training history.

    Args:
        rng: random source.
        behaviour: latent fake-accuracy shape; drawn from :data:`BEHAVIOURS` when None.
        n_steps: steps in the run; drawn from realistic epochs x steps-per-epoch when None.
        batch: batch size (128 or 256 when None).

    Returns:
        The history and its parameters.
    """
    if behaviour is None:
        behaviour = str(rng.choice(BEHAVIOURS, p=np.array(BEHAVIOUR_WEIGHTS)))
    batch = int(batch or rng.choice([128, 256]))
    spe = -(-N_IMAGES // batch)
    if n_steps is None:
        if rng.random() < 0.15:  # a short run (few epochs or a subset of the data)
            n_steps = int(rng.integers(300, 1200))
        else:
            n_steps = int(rng.integers(3, 51)) * spe
    epochs = max(1, round(n_steps / spe))
    latent = latent_fake_curve(rng, n_steps, behaviour)
    fake = batch_accuracy(rng, _sigmoid(_logit(latent) + _step_noise(rng, n_steps)), batch)
    mix = rng.uniform(0.0, 0.7)  # a strong discriminator is right on both kinds of batch
    real_level = _logit(np.full(n_steps, rng.uniform(0.8, 0.985))) + _wander(rng, n_steps, 0.3, 3)
    real_z = (1 - mix) * real_level + mix * _logit(latent) + _step_noise(rng, n_steps)
    real = batch_accuracy(rng, _sigmoid(real_z), batch)
    gen_loss = -np.log(np.clip(1.02 - fake, 0.02, 1)) * rng.uniform(0.6, 1.2)
    gen_loss = np.clip(gen_loss + rng.gamma(2.0, 0.15, n_steps), 0, 15)
    disc_loss = -np.log(np.clip(real, 0.02, 1)) - np.log(np.clip(fake, 0.02, 1))
    disc_loss = np.clip(0.3 * disc_loss + rng.gamma(2.0, 0.08, n_steps), 0, 15)
    hist = {"gen_loss": gen_loss, "disc_loss": disc_loss, "real_accuracy": real,
            "fake_accuracy": fake}
    return SimulatedHistory(hist, behaviour, batch, spe, epochs, latent)


def reference_history() -> SimulatedHistory:
    """The grader's own 4,680-step baseline run (``reference/baselines/long/history.json``)."""
    data = json.loads(REFERENCE_HISTORY.read_text())
    hist = {k: np.asarray(data["history"][k], dtype=float) for k in KEYS}
    meta = data.get("meta", {})
    batch = int(meta.get("batch_size", 128))
    spe = int(meta.get("steps_per_epoch", -(-N_IMAGES // batch)))
    n = len(hist["fake_accuracy"])
    return SimulatedHistory(hist, "reference", batch, spe, max(1, round(n / spe)),
                            np.asarray(hist["fake_accuracy"]))


def epoch_means(values: np.ndarray, steps_per_epoch: int) -> np.ndarray:
    """Mean of each (possibly partial, last) epoch of a per-step series."""
    v = np.asarray(values, dtype=float)
    return np.array([v[i:i + steps_per_epoch].mean() for i in range(0, len(v), steps_per_epoch)])
