"""Checks of the loss and accuracy functions on fixed logits (run inside the child).

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

from grader.sandbox.checks_models import result
from grader.sandbox.explain import explain_error
from grader.sandbox.student import time_limit

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


def describe_fit(fit: dict[str, Any], role: str) -> tuple[str, list[str], list[str]]:
    """Status and notes (en, ko) for a fitted BCE loss of ``role`` (generator/discriminator)."""
    c = fit["coef"]
    notes_en, notes_ko, status = [], [], "pass"
    parts = [("generated", "생성", c[0], c[1], 1.0)] if role == "generator" else \
        [("real", "진짜", c[0], c[1], 1.0), ("fake", "가짜", c[2], c[3], 0.0)]
    for name, name_ko, pos, neg, want in parts:
        t, w = _target_weight(pos, neg)
        if role == "generator" and pos < 0.05 and neg < -0.05:
            status = "warn"
            notes_en.append("uses the saturating minimax form -log(1 - D(G(z))), which gives weak "
                            "gradients early in training")
            notes_ko.append("포화되는 minimax 형태 -log(1 - D(G(z))) 를 사용해 학습 초기에 기울기가 약합니다")
            continue
        if not np.isfinite(t) or w <= 0 or abs(t - want) > 0.5:
            return "fail", [f"the {name} images get the wrong target (fitted target {t:.2f})"], \
                [f"{name_ko} 이미지의 목표값이 잘못되었습니다 (추정 목표값 {t:.2f})"]
        if abs(t - want) > 0.01:
            notes_en.append(f"label smoothing: {name} target {t:.2f}")
            notes_ko.append(f"라벨 스무딩: {name_ko} 목표값 {t:.2f}")
        if abs(w - 1.0) > 0.01:
            notes_en.append(f"{name} term weighted by {w:.2f}")
            notes_ko.append(f"{name_ko} 항 가중치 {w:.2f}")
    ratio = fit.get("batch_ratio", 1.0)
    if np.isfinite(ratio) and abs(ratio - 2.0) < 0.05:
        status = "warn"
        notes_en.append("sums over the batch instead of averaging, so its scale grows with the "
                        "batch size")
        notes_ko.append("배치 평균 대신 합을 사용해 배치 크기에 따라 값이 커집니다")
    return status, notes_en, notes_ko


def _direction_ok(fn, role: str) -> bool | None:
    """For non-BCE losses: is the loss lower when the player is winning?"""
    hi, lo = np.full((BATCH, 1), 3.0), np.full((BATCH, 1), -3.0)
    try:
        if role == "generator":
            return _call(fn, hi) < _call(fn, lo)
        return _call(fn, hi, lo) < _call(fn, lo, hi)
    except Exception:  # student code
        return None


def loss_check(ns: dict[str, Any], d_kind: str, seconds: float, seed: int) -> dict[str, Any]:
    """``loss_functions``: present, BCE from logits, variants recognised, mismatches explained."""
    g_fn, d_fn = ns.get("generator_loss"), ns.get("discriminator_loss")
    missing = [n for n, f in (("generator_loss", g_fn), ("discriminator_loss", d_fn))
               if not callable(f)]
    if missing:
        names = ", ".join(missing)
        return result("loss_functions", "fail", f"Missing loss function(s): {names}.",
                      f"손실 함수가 없습니다: {names}.", missing=missing)
    details: dict[str, Any] = {"discriminator_output": d_kind}
    verdicts = []
    for role, fn, n_args in (("generator", g_fn, 1), ("discriminator", d_fn, 2)):
        try:
            with time_limit(seconds):
                fits = {space: fit_loss(fn, n_args, space, seed) for space in ("logits", "probs")}
        except BaseException as exc:
            err = explain_error(exc)
            return result("loss_functions", "fail",
                          f"{role}_loss failed on a batch of logits: {err.text}",
                          f"{role}_loss 에 로짓 배치를 넣었을 때 오류가 났습니다: {err.text}",
                          **details, error_detail=err.detail)
        details[role] = fits
        verdicts.append(_verdict(role, fn, fits, d_kind))
    status = "fail" if any(v[0] == "fail" for v in verdicts) else \
        "warn" if any(v[0] == "warn" for v in verdicts) else "pass"
    en = " ".join(v[1] for v in verdicts)
    ko = " ".join(v[2] for v in verdicts)
    return result("loss_functions", status, en, ko, **details)


def _verdict(role: str, fn, fits: dict[str, Any], d_kind: str) -> tuple[str, str, str]:
    name = f"{role}_loss"
    logit_fit, prob_fit = fits["logits"], fits["probs"]
    if not logit_fit.get("finite", True) and not prob_fit.get("finite", True):
        return "fail", f"{name} returns NaN or infinity.", f"{name} 가 NaN 또는 무한대를 돌려줍니다."
    if logit_fit.get("fits"):
        status, notes, notes_ko = describe_fit(logit_fit, role)
        if d_kind == "probabilities":
            return "warn", (f"{name} applies a sigmoid (from_logits=True) to a discriminator that "
                            "already ends with a sigmoid: the double sigmoid squeezes the scores "
                            "into [0.5, 0.73] and weakens training."), \
                (f"{name} 가 이미 sigmoid 로 끝나는 판별자 출력에 다시 sigmoid(from_logits=True)를 "
                 "적용합니다. 이중 sigmoid 로 점수가 [0.5, 0.73] 에 갇혀 학습이 약해집니다.")
        return _say(name, status, "binary cross-entropy on logits", "로짓에 대한 이진 교차 엔트로피",
                    notes, notes_ko)
    if prob_fit.get("fits"):
        status, notes, notes_ko = describe_fit(prob_fit, role)
        if d_kind == "logits":
            return "fail", (f"{name} treats the discriminator's logits as probabilities "
                            "(from_logits=False): logits outside [0, 1] are clipped and give no "
                            "gradient. Use BinaryCrossentropy(from_logits=True)."), \
                (f"{name} 가 판별자의 로짓을 확률로 취급합니다(from_logits=False). [0, 1] 밖의 로짓은 "
                 "잘려서 기울기가 사라집니다. BinaryCrossentropy(from_logits=True) 를 쓰세요.")
        return _say(name, status, "binary cross-entropy on probabilities (matches the sigmoid "
                    "output)", "확률에 대한 이진 교차 엔트로피 (sigmoid 출력과 일치)", notes, notes_ko)
    direction = _direction_ok(fn, role)
    if direction is False:
        return "fail", (f"{name} is not binary cross-entropy and it decreases in the wrong "
                        "direction (it rewards the opponent)."), \
            f"{name} 가 이진 교차 엔트로피가 아니며, 값이 반대 방향으로 줄어듭니다."
    return "warn", (f"{name} is not the lesson's binary cross-entropy (another GAN loss?); the "
                    "grader uses it as written."), \
        f"{name} 가 수업의 이진 교차 엔트로피와 다릅니다 (다른 GAN 손실?). 작성된 그대로 사용합니다."


def _say(name: str, status: str, what: str, what_ko: str, notes: list[str],
         notes_ko: list[str]) -> tuple[str, str, str]:
    if not notes:
        return status, f"{name}: {what}, as expected.", f"{name}: {what_ko}, 올바릅니다."
    return status, f"{name}: {what}, variant: {'; '.join(notes)}.", \
        f"{name}: {what_ko}, 변형: {'; '.join(notes_ko)}."


def _pair(value) -> tuple[float, float] | None:
    if isinstance(value, dict):
        keys = {k.lower(): k for k in value}
        real = next((keys[k] for k in keys if "real" in k), None)
        fake = next((keys[k] for k in keys if "fake" in k), None)
        return (_scalar(value[real]), _scalar(value[fake])) if real and fake else None
    if isinstance(value, (list, tuple)) and len(value) >= 2:
        return _scalar(value[0]), _scalar(value[1])
    return None


def accuracy_check(ns: dict[str, Any], d_kind: str, seconds: float) -> dict[str, Any]:
    """``accuracy_function``: does it threshold logits at 0 (right) or at 0.5 (the lesson's bug)?"""
    import tensorflow as tf

    fn = ns.get("discriminator_accuracy")
    if not callable(fn):
        return result("accuracy_function", "fail",
                      "discriminator_accuracy is missing: the assignment asks for real and fake "
                      "accuracy.", "discriminator_accuracy 함수가 없습니다. 과제는 진짜/가짜 정확도를 요구합니다.")
    real, fake = np.asarray([ACC_REAL]).T, np.asarray([ACC_FAKE]).T
    if d_kind == "probabilities":
        real, fake = 1.0 / (1.0 + np.exp(-real)), 1.0 / (1.0 + np.exp(-fake))
    right_t = 0.5 if d_kind == "probabilities" else 0.0
    right = (float((real >= right_t).mean()), float((fake < right_t).mean()))
    half = (float((real >= 0.5).mean()), float((fake < 0.5).mean()))
    zero = (float((real >= 0.0).mean()), float((fake < 0.0).mean()))
    try:
        with time_limit(seconds):
            out = fn(tf.constant(real, tf.float32), tf.constant(fake, tf.float32))
        got = _pair(out)
    except BaseException as exc:
        err = explain_error(exc)
        return result("accuracy_function", "fail", f"discriminator_accuracy failed: {err.text}",
                      f"discriminator_accuracy 실행 중 오류: {err.text}", error_detail=err.detail)
    details = {"returned": got, "expected": right, "threshold_0.5": half, "threshold_0": zero,
               "discriminator_output": d_kind}
    if got is None:
        return result("accuracy_function", "warn",
                      "discriminator_accuracy returns one value; report real and fake accuracy "
                      "separately.", "discriminator_accuracy 가 값 하나만 돌려줍니다. 진짜/가짜 정확도를 따로 "
                      "돌려주세요.", returned=_scalar(out))
    close = lambda a, b: np.allclose(a, b, atol=1e-4)  # noqa: E731
    if close(got, right):
        rule = "sigmoid >= 0.5 (logit >= 0)" if d_kind == "logits" else "probability >= 0.5"
        return result("accuracy_function", "pass", f"discriminator_accuracy uses {rule}: correct.",
                      f"discriminator_accuracy 가 {rule} 기준을 사용합니다. 올바릅니다.", **details)
    if d_kind == "logits" and close(got, half):
        return result("accuracy_function", "warn",
                      "discriminator_accuracy compares raw logits with 0.5, but the discriminator "
                      "outputs logits whose decision point is 0, so logits between 0 and 0.5 are "
                      "counted wrong: real accuracy is under-reported and fake accuracy "
                      "over-reported (compare with 0, or apply tf.sigmoid first).",
                      "discriminator_accuracy 가 로짓을 0.5 와 비교하지만 판별자의 로짓 기준점은 0 입니다. "
                      "0~0.5 사이의 로짓이 잘못 분류되어 진짜 정확도는 낮게, 가짜 정확도는 높게 "
                      "나타납니다 (0 과 비교하거나 먼저 tf.sigmoid 를 적용하세요).", **details)
    if d_kind == "probabilities" and close(got, zero):
        return result("accuracy_function", "fail",
                      "discriminator_accuracy thresholds at 0, but this discriminator outputs "
                      "probabilities (sigmoid), so every image counts as real.",
                      "판별자가 확률(sigmoid)을 출력하는데 정확도를 0 기준으로 계산해서 모든 이미지가 "
                      "진짜로 분류됩니다.", **details)
    if close((got[0], 1.0 - got[1]), right):
        return result("accuracy_function", "warn",
                      "discriminator_accuracy's second value is the share of fakes judged real, "
                      "not the share judged fake.",
                      "discriminator_accuracy 의 두 번째 값이 가짜를 가짜로 맞힌 비율이 아니라 진짜로 "
                      "판단한 비율입니다.", **details)
    return result("accuracy_function", "warn",
                  f"discriminator_accuracy returned {got[0]:.3f}/{got[1]:.3f} on fixed logits where "
                  f"{right[0]:.3f}/{right[1]:.3f} was expected; its rule is unusual.",
                  f"고정된 로짓에서 discriminator_accuracy 가 {got[0]:.3f}/{got[1]:.3f} 를 돌려주었습니다 "
                  f"(기대값 {right[0]:.3f}/{right[1]:.3f}). 계산 방식이 일반적이지 않습니다.", **details)
