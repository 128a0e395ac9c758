"""``loss_functions`` and ``accuracy_function``: the student's losses and accuracy on fixed inputs.

The losses are fitted to binary cross-entropy: with ``sp = softplus``,
``BCE(t, x) = t * sp(-x) + (1 - t) * sp(x)`` for logits. The student's
``discriminator_loss(r, f)`` is fitted as ``c1*mean sp(-r) + c2*mean sp(r) + c3*mean sp(f) +
c4*mean sp(-f)`` over random logits by least squares; the coefficients give the real and fake
targets (label smoothing) and weights (0.5 factor), and a second batch size reveals ``sum``
instead of ``mean``. The same fit on probabilities in (0, 1), with ``-log p`` and
``-log(1 - p)``, recognises ``from_logits=False``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from grader.sandbox.checks.models import discriminator_kind
from grader.sandbox.checks.registry import CheckContext, register_check, result
from grader.sandbox.student.explain import explain_error
from grader.sandbox.student.namespace import time_limit
from grader.text import Msg, join, msg

BATCH = 8
PROBES = 10
FIT_TOL = 2e-3
#: fixed logits for the accuracy check, chosen so that each rule gives different numbers
ACC_REAL = [-2.0, -0.3, 0.1, 0.3, 0.7, 2.0, 3.0, 0.2]
ACC_FAKE = [-3.0, -1.0, -0.2, 0.1, 0.4, 0.6, 1.5, 0.05]


def _softplus(x: np.ndarray) -> np.ndarray:
    return np.logaddexp(0.0, x)


def _feat(x: np.ndarray, space: str) -> tuple[float, float]:
    """(mean loss for target 1, mean loss for target 0) of logits or probabilities ``x``."""
    if space == "logits":
        return float(_softplus(-x).mean()), float(_softplus(x).mean())
    return float(-np.log(x).mean()), float(-np.log(1.0 - x).mean())


def _scalar(value) -> float:
    if isinstance(value, (list, tuple)) and value:
        value = value[0]
    arr = np.asarray(value, dtype=np.float64)
    return float(arr.mean()) if arr.size else float("nan")


def _probe_values(rng: np.random.Generator, space: str, n: int) -> np.ndarray:
    if space == "logits":
        return rng.normal(0.0, 2.0, size=(n, 1))
    return rng.uniform(0.05, 0.95, size=(n, 1))


def _call(fn, *arrays: np.ndarray) -> float:
    import tensorflow as tf

    return _scalar(fn(*[tf.constant(a, tf.float32) for a in arrays]))


def fit_loss(fn, n_args: int, space: str, seed: int) -> dict[str, Any]:
    """Fit ``fn`` to the BCE family in ``space``; returns coefficients and the residual."""
    rng = np.random.default_rng(seed)
    rows, ys = [], []
    for _ in range(PROBES):
        arrays = [_probe_values(rng, space, BATCH) for _ in range(n_args)]
        feats: list[float] = []
        for x in arrays:
            pos, neg = _feat(x, space)
            feats += [pos, neg]
        rows.append(feats)
        ys.append(_call(fn, *arrays))
    a, y = np.asarray(rows), np.asarray(ys)
    if not np.isfinite(y).all():
        return {"fits": False, "finite": False}
    coef = np.linalg.lstsq(a, y, rcond=None)[0]
    resid = float(np.abs(a @ coef - y).max() / (np.abs(y).max() + 1e-8))
    arrays = [_probe_values(rng, space, 2 * BATCH) for _ in range(n_args)]
    feats = [v for x in arrays for v in _feat(x, space)]
    big = _call(fn, *arrays)
    predicted = float(np.dot(coef, feats))
    batch_ratio = big / predicted if abs(predicted) > 1e-8 else float("nan")
    return {"fits": resid < FIT_TOL, "finite": True, "coef": [round(float(c), 4) for c in coef],
            "residual": resid, "batch_ratio": round(batch_ratio, 4)}


def _target_weight(pos: float, neg: float) -> tuple[float, float]:
    w = pos + neg
    return (pos / w if abs(w) > 1e-8 else float("nan")), w


def describe_fit(fit: dict[str, Any], role: str) -> tuple[str, list[Msg]]:
    """Status and notes for a fitted BCE loss of ``role`` (``generator``/``discriminator``)."""
    c = fit["coef"]
    notes: list[Msg] = []
    status = "pass"
    parts = [("generated", c[0], c[1], 1.0)] if role == "generator" else \
        [("real", c[0], c[1], 1.0), ("fake", c[2], c[3], 0.0)]
    for side, pos, neg, want in parts:
        name = msg(f"checks.side_{side}")
        t, w = _target_weight(pos, neg)
        if role == "generator" and pos < 0.05 and neg < -0.05:
            status = "warn"
            notes.append(msg("checks.loss_saturating"))
            continue
        if not np.isfinite(t) or w <= 0 or abs(t - want) > 0.5:
            return "fail", [msg("checks.loss_wrong_target", name=name, t=t)]
        if abs(t - want) > 0.01:
            notes.append(msg("checks.loss_smoothing", name=name, t=t))
        if abs(w - 1.0) > 0.01:
            notes.append(msg("checks.loss_weighted", name=name, w=w))
    ratio = fit.get("batch_ratio", 1.0)
    if np.isfinite(ratio) and abs(ratio - 2.0) < 0.05:
        status = "warn"
        notes.append(msg("checks.loss_sum"))
    return status, notes


def _direction_ok(fn, role: str) -> bool | None:
    """For non-BCE losses: is the loss lower when the player is winning?"""
    hi, lo = np.full((BATCH, 1), 3.0), np.full((BATCH, 1), -3.0)
    try:
        if role == "generator":
            return _call(fn, hi) < _call(fn, lo)
        return _call(fn, hi, lo) < _call(fn, lo, hi)
    except Exception:  # student code
        return None


def loss_functions(ctx: CheckContext) -> dict[str, Any]:
    """``loss_functions``: present, BCE from logits, variants recognised, mismatches explained."""
    lesson = ctx.facts["lesson"]
    g_fn, d_fn = ctx.ns.get(lesson["generator_loss"]), ctx.ns.get(lesson["discriminator_loss"])
    d_kind = discriminator_kind(ctx)
    missing = [n for n, f in ((lesson["generator_loss"], g_fn),
                              (lesson["discriminator_loss"], d_fn)) if not callable(f)]
    if missing:
        return result("loss_functions", "fail", msg("checks.loss_missing", names=", ".join(missing)),
                      missing=missing)
    details: dict[str, Any] = {"discriminator_output": d_kind}
    verdicts = []
    for role, fn, n_args in (("generator", g_fn, 1), ("discriminator", d_fn, 2)):
        try:
            with time_limit(ctx.seconds):
                fits = {space: fit_loss(fn, n_args, space, ctx.seed)
                        for space in ("logits", "probs")}
        except BaseException as exc:
            err = explain_error(exc)
            return result("loss_functions", "fail",
                          msg("checks.loss_raised", role=role, error=err.text),
                          **details, error_detail=err.detail)
        details[role] = fits
        verdicts.append(_verdict(role, fn, fits, d_kind))
    status = "fail" if any(v[0] == "fail" for v in verdicts) else \
        "warn" if any(v[0] == "warn" for v in verdicts) else "pass"
    return result("loss_functions", status, join([v[1] for v in verdicts]), **details)


def _verdict(role: str, fn, fits: dict[str, Any], d_kind: str) -> tuple[str, Msg]:
    name = f"{role}_loss"
    logit_fit, prob_fit = fits["logits"], fits["probs"]
    if not logit_fit.get("finite", True) and not prob_fit.get("finite", True):
        return "fail", msg("checks.loss_nan", name=name)
    if logit_fit.get("fits"):
        status, notes = describe_fit(logit_fit, role)
        if d_kind == "probabilities":
            return "warn", msg("checks.loss_double_sigmoid", name=name)
        return _say(name, status, msg("checks.loss_bce_logits"), notes)
    if prob_fit.get("fits"):
        status, notes = describe_fit(prob_fit, role)
        if d_kind == "logits":
            return "fail", msg("checks.loss_logits_as_probs", name=name)
        return _say(name, status, msg("checks.loss_bce_probs"), notes)
    if _direction_ok(fn, role) is False:
        return "fail", msg("checks.loss_wrong_direction", name=name)
    return "warn", msg("checks.loss_other", name=name)


def _say(name: str, status: str, what: Msg, notes: list[Msg]) -> tuple[str, Msg]:
    if not notes:
        return status, msg("checks.loss_as_expected", name=name, what=what)
    return status, msg("checks.loss_variant", name=name, what=what, notes=join(notes, "; "))


def _pair(value) -> tuple[float, float] | None:
    if isinstance(value, dict):
        keys = {k.lower(): k for k in value}
        real = next((keys[k] for k in keys if "real" in k), None)
        fake = next((keys[k] for k in keys if "fake" in k), None)
        return (_scalar(value[real]), _scalar(value[fake])) if real and fake else None
    if isinstance(value, (list, tuple)) and len(value) >= 2:
        return _scalar(value[0]), _scalar(value[1])
    return None


def accuracy_function(ctx: CheckContext) -> dict[str, Any]:
    """``accuracy_function``: does it threshold logits at 0 (right) or at 0.5 (the lesson's bug)?"""
    import tensorflow as tf

    fn = ctx.ns.get(ctx.facts["lesson"]["accuracy"])
    d_kind = discriminator_kind(ctx)
    if not callable(fn):
        return result("accuracy_function", "fail", msg("checks.acc_missing"))
    real, fake = np.asarray([ACC_REAL]).T, np.asarray([ACC_FAKE]).T
    if d_kind == "probabilities":
        real, fake = 1.0 / (1.0 + np.exp(-real)), 1.0 / (1.0 + np.exp(-fake))
    right_t = 0.5 if d_kind == "probabilities" else 0.0
    right = (float((real >= right_t).mean()), float((fake < right_t).mean()))
    half = (float((real >= 0.5).mean()), float((fake < 0.5).mean()))
    zero = (float((real >= 0.0).mean()), float((fake < 0.0).mean()))
    try:
        with time_limit(ctx.seconds):
            out = fn(tf.constant(real, tf.float32), tf.constant(fake, tf.float32))
        got = _pair(out)
    except BaseException as exc:
        err = explain_error(exc)
        return result("accuracy_function", "fail", msg("checks.acc_raised", error=err.text),
                      error_detail=err.detail)
    details = {"returned": got, "expected": right, "threshold_0.5": half, "threshold_0": zero,
               "discriminator_output": d_kind}
    if got is None:
        return result("accuracy_function", "warn", msg("checks.acc_one_value"),
                      returned=_scalar(out))
    close = lambda a, b: np.allclose(a, b, atol=1e-4)  # noqa: E731
    if close(got, right):
        rule = "sigmoid >= 0.5 (logit >= 0)" if d_kind == "logits" else "probability >= 0.5"
        return result("accuracy_function", "pass", msg("checks.acc_ok", rule=rule), **details)
    if d_kind == "logits" and close(got, half):
        return result("accuracy_function", "warn", msg("checks.acc_lesson_bug"), **details)
    if d_kind == "probabilities" and close(got, zero):
        return result("accuracy_function", "fail", msg("checks.acc_zero_on_probs"), **details)
    if close((got[0], 1.0 - got[1]), right):
        return result("accuracy_function", "warn", msg("checks.acc_inverted_fake"), **details)
    return result("accuracy_function", "warn",
                  msg("checks.acc_unusual", got_real=got[0], got_fake=got[1], want_real=right[0],
                      want_fake=right[1]), **details)


register_check("loss_functions", loss_functions)
register_check("accuracy_function", accuracy_function)
