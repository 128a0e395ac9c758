"""GAN losses rebuilt from data: the binary cross-entropy family the student's losses fit.

The student's process fits each loss function to the BCE family (see
:mod:`grader.sandbox.checks.losses`): with ``sp = softplus`` and discriminator outputs as
logits, a generator loss is ``c0 * mean sp(-f) + c1 * mean sp(f)`` and a discriminator loss
``c0 * mean sp(-r) + c1 * mean sp(r) + c2 * mean sp(-f) + c3 * mean sp(f)``; on probabilities
``-log p`` and ``-log(1 - p)`` take the place of ``sp(-x)`` and ``sp(x)``. The coefficients
carry label smoothing, weights and the target convention; ``sum`` instead of ``mean`` scales
by the batch. A :class:`LossSpec` is plain data, so the trusted process trains with the
student's losses without running the student's code.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

EPSILON = 1e-7
"""Probabilities are clipped to [EPSILON, 1 - EPSILON], as Keras's cross-entropy does."""


class LossSpecError(ValueError):
    """A loss description that is not a usable member of the BCE family."""


@dataclass(frozen=True)
class LossSpec:
    """One loss as data: the space it reads, its coefficients and its batch reduction."""

    space: str
    """``logits`` or ``probs``."""
    coef: tuple[float, ...]
    """2 coefficients (generator) or 4 (discriminator), see the module docstring."""
    reduction: str = "mean"
    """``mean`` or ``sum`` over the batch."""

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON dict."""
        return {**asdict(self), "coef": list(self.coef)}

    @classmethod
    def from_dict(cls, raw: Any, n_coef: int) -> LossSpec:
        """Validate a loss description read from the student's process.

        Raises:
            LossSpecError: Wrong space, reduction, number of coefficients or a non-finite one.
        """
        if not isinstance(raw, dict):
            raise LossSpecError("a loss description must be an object")
        space, reduction, coef = raw.get("space"), raw.get("reduction", "mean"), raw.get("coef")
        if space not in ("logits", "probs") or reduction not in ("mean", "sum"):
            raise LossSpecError(f"unknown loss space or reduction: {space!r}, {reduction!r}")
        if (not isinstance(coef, list) or len(coef) != n_coef
                or not all(isinstance(c, (int, float)) and math.isfinite(c) for c in coef)
                or max(abs(c) for c in coef) > 100):
            raise LossSpecError(f"a loss needs {n_coef} finite coefficients, got {coef!r}")
        return cls(space, tuple(float(c) for c in coef), reduction)


def spec_from_fit(fit: dict[str, Any], space: str) -> LossSpec:
    """The :class:`LossSpec` of a fit made by ``grader.sandbox.checks.losses.fit_loss``."""
    ratio = fit.get("batch_ratio", 1.0)
    summed = isinstance(ratio, (int, float)) and math.isfinite(ratio) and abs(ratio - 2.0) < 0.05
    return LossSpec(space, tuple(float(c) for c in fit["coef"]), "sum" if summed else "mean")


def _terms(x, space: str):
    """(loss for target 1, loss for target 0) per element of ``x``."""
    import tensorflow as tf

    x = tf.cast(tf.reshape(x, [tf.shape(x)[0], -1]), tf.float32)
    if space == "logits":
        return tf.nn.softplus(-x), tf.nn.softplus(x)
    p = tf.clip_by_value(x, EPSILON, 1.0 - EPSILON)
    return -tf.math.log(p), -tf.math.log(1.0 - p)


def _reduce(value, spec: LossSpec, batch):
    import tensorflow as tf

    mean = tf.reduce_mean(value)
    return mean * tf.cast(batch, tf.float32) if spec.reduction == "sum" else mean


def generator_loss_from(spec: LossSpec):
    """``f(fake_output) -> loss`` for a generator loss described by ``spec``."""
    c0, c1 = spec.coef

    def generator_loss(fake_output):
        import tensorflow as tf

        pos, neg = _terms(fake_output, spec.space)
        return _reduce(c0 * pos + c1 * neg, spec, tf.shape(fake_output)[0])

    return generator_loss


def discriminator_loss_from(spec: LossSpec):
    """``f(real_output, fake_output) -> loss`` for a discriminator loss described by ``spec``."""
    c0, c1, c2, c3 = spec.coef

    def discriminator_loss(real_output, fake_output):
        import tensorflow as tf

        r_pos, r_neg = _terms(real_output, spec.space)
        f_pos, f_neg = _terms(fake_output, spec.space)
        real = _reduce(c0 * r_pos + c1 * r_neg, spec, tf.shape(real_output)[0])
        fake = _reduce(c2 * f_pos + c3 * f_neg, spec, tf.shape(fake_output)[0])
        return real + fake

    return discriminator_loss
