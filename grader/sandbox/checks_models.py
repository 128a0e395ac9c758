"""Checks of the generator and discriminator models (run inside the child)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import numpy as np

from grader.evidence import CheckResult
from grader.sandbox.discover import Built
from grader.sandbox.explain import explain_error
from grader.sandbox.student import time_limit

BATCHES = (1, 7, 16)
FASHION = (28, 28, 1)


def result(id: str, status: str, en: str, ko: str, **details: Any) -> dict[str, Any]:
    """A :class:`grader.evidence.CheckResult` as a plain dict."""
    return asdict(CheckResult(id=id, status=status, message_en=en, message_ko=ko,
                              details=details))


def skip(id: str, why_en: str, why_ko: str) -> dict[str, Any]:
    """A skipped check (an earlier check failed)."""
    return result(id, "skip", why_en, why_ko)


def builds_check(role: str, chosen: Built | None, candidates: list[Built]) -> dict[str, Any]:
    """``generator_builds`` / ``discriminator_builds``: which function, and did it build."""
    ko_role = "생성자" if role == "generator" else "판별자"
    std = "make_generator_model" if role == "generator" else "make_discriminator_model"
    details = {"candidates": [b.summary() for b in candidates]}
    if chosen is None and not candidates:
        return result(f"{role}_builds", "fail",
                      f"No {role} function was found (expected {std}()).",
                      f"{ko_role} 함수를 찾지 못했습니다 ({std}() 가 필요합니다).", **details)
    if chosen is None:
        last = candidates[-1]
        return result(f"{role}_builds", "fail",
                      f"{last.label()} did not build a model: {last.error}",
                      f"{last.label()} 로 모델을 만들지 못했습니다: {last.error}", **details,
                      error_detail=last.error_detail)
    details.update(used=chosen.name, origin=chosen.origin, how=chosen.how)
    broken = later_failure(chosen, candidates)
    if broken is not None:
        return result(f"{role}_builds", "warn",
                      f"Your later version {broken.label()} did not build a model: "
                      f"{broken.error}. The grader used the earlier {chosen.label()} instead.",
                      f"나중 버전 {broken.label()} 로 모델을 만들지 못했습니다: {broken.error}. "
                      f"채점기는 그 대신 이전 버전 {chosen.label()} 을(를) 사용했습니다.",
                      **details, error_detail=broken.error_detail,
                      later_failed={"name": broken.name, "origin": broken.origin,
                                    "error": broken.error})
    if chosen.how in ("shape guess", "model object"):
        return result(f"{role}_builds", "warn",
                      f"No function named like a {role} was found; used {chosen.label()} "
                      f"because its shapes fit a {role}.",
                      f"{ko_role} 이름의 함수가 없어 모양이 맞는 {chosen.label()} 을(를) "
                      f"{ko_role}로 사용했습니다.", **details)
    note_en = "" if chosen.how == "standard name" else f" (found by its name, not {std})"
    note_ko = "" if chosen.how == "standard name" else f" ({std} 대신 이름으로 찾음)"
    return result(f"{role}_builds", "pass", f"{chosen.label()} builds a model{note_en}.",
                  f"{chosen.label()} 이(가) 모델을 만듭니다{note_ko}.", **details)


def later_failure(chosen: Built, candidates: list[Built]) -> Built | None:
    """The last version of the chosen function, defined after it, that raised when called.

    Such a version is the student's latest (often their improvement); the grader falls back
    to the earlier working one, and the student must be told why.
    """
    broken = [b for b in candidates if b.name == chosen.name and b.unit > chosen.unit
              and not b.ok and b.error_detail]
    return broken[-1] if broken else None


def _np(x) -> np.ndarray:
    if isinstance(x, (list, tuple)):
        x = x[0]
    return np.asarray(x, dtype=np.float64)


def noise_dim_of(b: Built) -> int:
    """Noise size from the generator's declared input (None, k); 100 when not declared."""
    shape = b.input_shape or (None, 100)
    return int(shape[-1]) if len(shape) == 2 and shape[-1] else 100


def generator_checks(g: Built, seconds: float, seed: int) -> list[dict[str, Any]]:
    """``noise_dim``, ``generator_output_shape``, ``generator_output_range``,
    ``generator_uses_noise``."""
    import tensorflow as tf

    out = []
    declared = g.input_shape is not None and len(g.input_shape) == 2 and g.input_shape[-1]
    k = noise_dim_of(g)
    if declared:
        note = "" if k == 100 else " (the assignment uses 100; any size works)"
        note_ko = "" if k == 100 else " (과제는 100을 사용하지만 다른 크기도 괜찮습니다)"
        out.append(result("noise_dim", "pass", f"The generator takes noise of size {k}{note}.",
                          f"생성자는 크기 {k}의 노이즈를 입력으로 받습니다{note_ko}.", noise_dim=k))
    else:
        out.append(result("noise_dim", "warn",
                          f"The generator's input shape is {list(g.input_shape or [])}, not "
                          f"(None, k); the grader used noise of size {k}.",
                          f"생성자 입력 모양이 (None, k) 가 아니어서 크기 {k}의 노이즈를 사용했습니다.",
                          noise_dim=k))
    shapes, error, detail = {}, "", ""
    try:
        with time_limit(seconds):
            for b in BATCHES:
                y = g.model(tf.random.normal([b, k], seed=seed + b), training=False)
                shapes[b] = list(_np(y).shape)
    except BaseException as exc:
        err = explain_error(exc)
        error, detail = err.text, err.detail
    good = all(shapes.get(b) == [b, 32, 32, 3] for b in BATCHES)
    if error:
        out.append(result("generator_output_shape", "fail",
                          f"The generator failed on a batch of noise: {error}",
                          f"생성자에 노이즈 배치를 넣었을 때 오류가 났습니다: {error}", shapes=shapes,
                          error_detail=detail))
    elif good:
        out.append(result("generator_output_shape", "pass",
                          "The generator makes images of shape (32, 32, 3) for batches of 1, 7 and 16.",
                          "생성자가 배치 1, 7, 16 모두 (32, 32, 3) 이미지를 만듭니다.", shapes=shapes))
    else:
        got = shapes.get(16) or next(iter(shapes.values()), [])
        if tuple(got[1:]) == FASHION:
            en = ("The generator makes 28x28x1 images: this is the Fashion-MNIST model from the "
                  "lesson. Change it to produce 32x32x3 CIFAR-10 images.")
            ko = ("생성자가 28x28x1 이미지를 만듭니다. 수업의 Fashion-MNIST 모델이 그대로 남아 있습니다. "
                  "CIFAR-10에 맞게 32x32x3 이미지를 만들도록 바꾸세요.")
        else:
            en = f"The generator makes images of shape {tuple(got[1:])}, expected (32, 32, 3)."
            ko = f"생성자 출력 모양이 {tuple(got[1:])} 입니다. (32, 32, 3) 이어야 합니다."
        out.append(result("generator_output_shape", "fail", en, ko, shapes=shapes))
    if error or not good:
        out.append(skip("generator_output_range", "Skipped: the output shape is wrong.",
                        "출력 모양이 맞지 않아 건너뜁니다."))
        out.append(skip("generator_uses_noise", "Skipped: the output shape is wrong.",
                        "출력 모양이 맞지 않아 건너뜁니다."))
        return out
    out += _range_and_noise(g, k, seconds, seed)
    return out


def _range_and_noise(g: Built, k: int, seconds: float, seed: int) -> list[dict[str, Any]]:
    import tensorflow as tf

    try:
        with time_limit(seconds):
            z1 = tf.random.normal([32, k], seed=seed)
            z2 = tf.random.normal([32, k], seed=seed + 1)
            y1 = _np(g.model(z1, training=False))
            y1b = _np(g.model(z1, training=False))
            y2 = _np(g.model(z2, training=False))
            big = _np(g.model(z1 * 4.0, training=False))
    except BaseException as exc:
        err = explain_error(exc)
        return [result("generator_output_range", "fail", f"The generator failed: {err.text}",
                       f"생성자 실행 중 오류: {err.text}", error_detail=err.detail),
                skip("generator_uses_noise", "Skipped.", "건너뜁니다.")]
    act = last_activation(g.model)
    lo = float(min(y1.min(), big.min()))
    hi = float(max(y1.max(), big.max()))
    details = {"min": lo, "max": hi, "last_activation": act}
    if not np.isfinite([lo, hi]).all():
        rng = result("generator_output_range", "fail", "The generator outputs NaN or infinity.",
                     "생성자 출력에 NaN 또는 무한대가 있습니다.", **details)
    elif lo < -1.0001 or hi > 1.0001:
        rng = result("generator_output_range", "fail",
                     f"Generator outputs range from {lo:.2f} to {hi:.2f}, outside [-1, 1]: end the "
                     "generator with a tanh activation to match images scaled to [-1, 1].",
                     f"생성자 출력 범위가 {lo:.2f} ~ {hi:.2f} 로 [-1, 1] 을 벗어납니다. 마지막 층에 "
                     "tanh 활성화를 쓰세요.", **details)
    elif lo >= 0.0:
        rng = result("generator_output_range", "warn",
                     f"Generator outputs lie in [0, 1] ({act}), but the training images are scaled "
                     "to [-1, 1]: use tanh so that fake and real images share a range.",
                     f"생성자 출력이 [0, 1] 범위({act})입니다. 학습 이미지는 [-1, 1] 로 정규화되므로 "
                     "tanh 를 쓰세요.", **details)
    else:
        rng = result("generator_output_range", "pass",
                     f"Generator outputs stay within [-1, 1] ({lo:.2f} to {hi:.2f}).",
                     f"생성자 출력이 [-1, 1] 범위 안에 있습니다 ({lo:.2f} ~ {hi:.2f}).", **details)
    diff = float(np.abs(y1 - y2).mean())
    spread = float(y1.std(axis=0).mean())
    deterministic = float(np.abs(y1 - y1b).max())
    nd = {"mean_abs_diff": diff, "batch_std": spread, "repeat_diff": deterministic}
    if diff < 1e-6 or spread < 1e-6:
        noise = result("generator_uses_noise", "fail",
                       "Different noise vectors give the same image: the generator ignores its input.",
                       "서로 다른 노이즈로 같은 이미지가 나옵니다. 생성자가 입력을 사용하지 않습니다.", **nd)
    else:
        noise = result("generator_uses_noise", "pass",
                       "Different noise vectors give different images.",
                       "서로 다른 노이즈가 서로 다른 이미지를 만듭니다.", **nd)
    return [rng, noise]


def last_activation(model) -> str:
    """Name of the activation applied last (``tanh``, ``sigmoid``, ``linear``, ``unknown``)."""
    layers = list(getattr(model, "layers", []))
    while layers:
        layer = layers.pop()
        if hasattr(layer, "layers") and layer.layers:  # nested model
            layers.extend(layer.layers)
            continue
        name = type(layer).__name__
        if name in ("Reshape", "Flatten", "Dropout", "Lambda"):
            if name == "Lambda":
                return "unknown"
            continue
        act = getattr(layer, "activation", None)
        if act is None:
            return name.lower() if name in ("Sigmoid", "Tanh") else "unknown"
        return str(getattr(act, "__name__", act))
    return "unknown"


def discriminator_checks(d: Built, g: Built | None, real: np.ndarray, seconds: float,
                         seed: int) -> list[dict[str, Any]]:
    """``discriminator_output_shape`` and ``discriminator_final_activation``."""
    import tensorflow as tf

    out, shapes, error, detail = [], {}, "", ""
    in_shape = tuple(d.input_shape[1:]) if d.input_shape else ()
    if in_shape == FASHION:
        out.append(result("discriminator_output_shape", "fail",
                          "The discriminator takes 28x28x1 images: this is the Fashion-MNIST model "
                          "from the lesson. Change its input to (32, 32, 3).",
                          "판별자가 28x28x1 이미지를 입력으로 받습니다. 수업의 Fashion-MNIST 모델이 "
                          "남아 있으니 입력을 (32, 32, 3) 으로 바꾸세요.", input_shape=list(in_shape)))
        out.append(skip("discriminator_final_activation", "Skipped: wrong input shape.",
                        "입력 모양이 맞지 않아 건너뜁니다."))
        return out
    try:
        with time_limit(seconds):
            for b in BATCHES:
                x = tf.random.uniform([b, 32, 32, 3], -1.0, 1.0, seed=seed + b)
                shapes[b] = list(_np(d.model(x, training=False)).shape)
    except BaseException as exc:
        err = explain_error(exc)
        error, detail = err.text, err.detail
    good = all(shapes.get(b) in ([b, 1], [b]) for b in BATCHES)
    if error:
        out.append(result("discriminator_output_shape", "fail",
                          f"The discriminator failed on a batch of 32x32x3 images: {error}",
                          f"판별자에 32x32x3 이미지 배치를 넣었을 때 오류가 났습니다: {error}",
                          shapes=shapes, error_detail=detail))
    elif not good:
        got = shapes.get(16, [])
        out.append(result("discriminator_output_shape", "fail",
                          f"The discriminator returns shape {got} for 16 images; expected (16, 1): "
                          "one score per image.",
                          f"판별자가 이미지 16장에 대해 {got} 모양을 돌려줍니다. 이미지마다 점수 하나, "
                          "(16, 1) 이어야 합니다.", shapes=shapes))
    else:
        out.append(result("discriminator_output_shape", "pass",
                          "The discriminator returns one score per image for batches of 1, 7 and 16.",
                          "판별자가 배치 1, 7, 16 모두 이미지마다 점수 하나를 돌려줍니다.",
                          shapes=shapes))
    if error or not good:
        out.append(skip("discriminator_final_activation", "Skipped: the output shape is wrong.",
                        "출력 모양이 맞지 않아 건너뜁니다."))
        return out
    out.append(final_activation_check(d, g, real, seconds, seed))
    return out


def output_kind(d: Built, g: Built | None, real: np.ndarray, seconds: float,
                seed: int) -> tuple[str, dict[str, Any]]:
    """``logits`` or ``probabilities``, from the last activation and the output range."""
    import tensorflow as tf

    act = last_activation(d.model)
    values = []
    with time_limit(seconds):
        inputs = [tf.random.uniform([16, 32, 32, 3], -1.0, 1.0, seed=seed),
                  tf.random.normal([16, 32, 32, 3], seed=seed) * 5.0,
                  tf.constant(real[:16], tf.float32) / 127.5 - 1.0]
        if g is not None and g.ok:
            inputs.append(g.model(tf.random.normal([16, noise_dim_of(g)], seed=seed),
                                  training=False))
        for x in inputs:
            values.append(_np(d.model(x, training=False)).ravel())
    v = np.concatenate(values)
    lo, hi = float(v.min()), float(v.max())
    outside = lo < 0.0 or hi > 1.0
    if act == "sigmoid" and not outside:
        kind = "probabilities"
    elif outside or act in ("linear", "None", "none"):
        kind = "logits"
    else:
        kind = "probabilities" if act in ("softmax", "hard_sigmoid") else "logits"
    return kind, {"last_activation": act, "min": lo, "max": hi, "kind": kind}


def final_activation_check(d: Built, g: Built | None, real: np.ndarray, seconds: float,
                           seed: int) -> dict[str, Any]:
    """``discriminator_final_activation``: logits (expected) or sigmoid probabilities."""
    try:
        kind, det = output_kind(d, g, real, seconds, seed)
    except BaseException as exc:
        err = explain_error(exc)
        return result("discriminator_final_activation", "fail",
                      f"The discriminator failed: {err.text}", f"판별자 실행 중 오류: {err.text}",
                      error_detail=err.detail)
    if kind == "logits":
        return result("discriminator_final_activation", "pass",
                      f"The discriminator outputs logits (last activation: {det['last_activation']}; "
                      f"values from {det['min']:.2f} to {det['max']:.2f}).",
                      f"판별자가 로짓을 출력합니다 (마지막 활성화: {det['last_activation']}).", **det)
    return result("discriminator_final_activation", "warn",
                  "The discriminator ends with a sigmoid, so it outputs probabilities, not logits: "
                  "losses must then use from_logits=False and accuracy must threshold at 0.5 "
                  "(see the loss and accuracy checks).",
                  "판별자가 sigmoid 로 끝나서 로짓이 아니라 확률을 출력합니다. 이 경우 손실 함수는 "
                  "from_logits=False 여야 하고 정확도는 0.5 를 기준으로 해야 합니다 (손실/정확도 검사 참고).",
                  **det)
