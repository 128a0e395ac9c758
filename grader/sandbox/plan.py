"""Parent side: build the child's plan from a submission and turn an outcome into checks.

Imports neither TensorFlow nor student code.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from grader.errors import detail_text, student_text
from grader.evidence import CheckResult
from grader.sandbox.launch import ChildOutcome, run_child
from grader.sandbox.limits import Limits

REAL_IMAGES = "real_images.npy"
#: default time limits (seconds) of the check phase
CHECK_TIMEOUT_S = 180.0
LOAD_TIMEOUT_S = 180.0
#: a check's details from the child: nesting, list and string limits
MAX_DETAILS_DEPTH = 8
MAX_DETAILS_ITEMS = 500
MAX_DETAILS_STRING = 4_000
#: the phases in words (students do not know the grader's phase names)
PHASE_WORDS = {"load": ("running your code", "코드 실행"),
               "check": ("checking your models", "모델 검사"),
               "train": ("training your models", "모델 학습"),
               "sample_checkpoint": ("sampling images from your checkpoint",
                                     "체크포인트에서 이미지 생성")}


def units_of(submission: Any) -> list[dict[str, Any]]:
    """Code units as plain dicts, from an intake ``Submission`` or a list of dicts."""
    units = getattr(submission, "code_units", submission)
    out = []
    for u in units:
        get = u.get if isinstance(u, dict) else (lambda k, d=None, u=u: getattr(u, k, d))
        line = get("line", 0)
        out.append({"origin": str(get("origin", "")), "source": str(get("source", "")),
                    "kind": str(get("kind", "")), "name": get("name") or "",
                    "names": list(get("names", []) or []),
                    "line": line if isinstance(line, int) and line > 0 else 0})
    return out


def failures_of(submission: Any) -> list[dict[str, str]]:
    """Intake cell failures as ``{"origin", "message"}`` dicts."""
    out = []
    for f in getattr(submission, "cell_failures", []) or []:
        get = f.get if isinstance(f, dict) else (lambda k, d="", f=f: getattr(f, k, d))
        out.append({"origin": str(get("origin", "")),
                    "message": str(get("message_en", "") or get("message", ""))})
    return out


def make_plan(submission: Any, phases: list[dict[str, Any]], *, seed: int = 0,
              threads: int = 2, unit_timeout_s: float = 60.0, call_timeout_s: float = 60.0,
              load_timeout_s: float = LOAD_TIMEOUT_S) -> dict[str, Any]:
    """The JSON plan the child runs.

    Args:
        submission: An intake ``Submission`` (or a list of code-unit dicts, for tests).
        phases: ``[{"name": "check", "timeout_s": 180}, {"name": "train", ...}]``.
        seed: Seeds TF and the probes.
        threads: TF intra-op threads.
        unit_timeout_s: Limit of one code unit at load time (a student loop is cut here).
        call_timeout_s: Limit of one call into student code during a check.
        load_timeout_s: Limit of the whole load phase (enforced by the parent).
    """
    root = getattr(submission, "root", None)
    return {"version": 1, "units": units_of(submission), "intake_failures": failures_of(submission),
            "phases": phases, "seed": seed, "threads": threads, "unit_timeout_s": unit_timeout_s,
            "call_timeout_s": call_timeout_s, "load_timeout_s": load_timeout_s,
            "real_images": REAL_IMAGES, "read_only": [str(root)] if root else []}


def write_real_images(work_dir: Path, images: np.ndarray) -> str:
    """Write uint8 (N, 32, 32, 3) real images for the child (it has no data access)."""
    images = np.ascontiguousarray(images, dtype=np.uint8)
    if images.ndim != 4 or images.shape[1:] != (32, 32, 3):
        raise ValueError(f"real images have shape {images.shape}, expected (N, 32, 32, 3)")
    Path(work_dir).mkdir(parents=True, exist_ok=True)
    np.save(Path(work_dir) / REAL_IMAGES, images, allow_pickle=False)
    return REAL_IMAGES


def checks_from_outcome(outcome: ChildOutcome) -> list[CheckResult]:
    """Validated checks from the child's result, plus a ``sandbox`` check when it was stopped.

    The child's strings are not trusted: messages become one clean line of bounded length
    and details are cleaned recursively (tracebacks stay in ``details["error_detail"]``).
    """
    checks: list[CheckResult] = []
    raw = (outcome.result or {}).get("checks", [])
    for item in raw if isinstance(raw, list) else []:
        try:
            c = CheckResult(id=student_text(item["id"], 100), status=item["status"],
                            message_en=student_text(item["message_en"]),
                            message_ko=student_text(item["message_ko"]),
                            details=clean_details(item.get("details", {}))
                            if isinstance(item.get("details"), dict) else {})
        except (KeyError, TypeError):
            continue
        if c.status in ("pass", "warn", "fail", "skip"):
            checks.append(c)
    errors, details = phase_errors(outcome.result)
    if outcome.status != "ok":
        checks.insert(0, CheckResult("sandbox", "fail", outcome.message_en, outcome.message_ko,
                                     {"status": outcome.status, "phase": outcome.phase,
                                      "exit_code": outcome.exit_code}))
    elif errors:
        phase, err = next(iter(errors.items()))
        en, ko = PHASE_WORDS.get(phase, (phase, phase))
        checks.insert(0, CheckResult("sandbox", "fail",
                                     f"The grader could not finish {en}: {err}",
                                     f"{ko} 단계를 끝내지 못했습니다: {err}",
                                     {"phase_errors": errors,
                                      "error_detail": details.get(phase, "")}))
    return checks


def phase_errors(result: dict[str, Any] | None) -> tuple[dict[str, str], dict[str, str]]:
    """The child's per-phase errors (one clean line each) and their tracebacks."""
    raw = (result or {}).get("phase_errors")
    raw_details = (result or {}).get("phase_error_details")
    errors = {student_text(k, 64): student_text(v, 600) for k, v in list(raw.items())[:20]} \
        if isinstance(raw, dict) else {}
    details = {student_text(k, 64): detail_text(v) for k, v in list(raw_details.items())[:20]} \
        if isinstance(raw_details, dict) else {}
    return errors, details


def clean_details(value: Any, depth: int = 0, key: str = "") -> Any:
    """A check's details from the child, with every string cleaned and every size bounded."""
    if depth > MAX_DETAILS_DEPTH:
        return None
    if isinstance(value, dict):
        return {student_text(k, 100): clean_details(v, depth + 1, str(k))
                for k, v in list(value.items())[:MAX_DETAILS_ITEMS]}
    if isinstance(value, list):
        return [clean_details(v, depth + 1, key) for v in value[:MAX_DETAILS_ITEMS]]
    if isinstance(value, str):
        return detail_text(value) if key.endswith("detail") else \
            detail_text(value, MAX_DETAILS_STRING)
    if value is None or isinstance(value, (bool, int, float)):
        return value
    return student_text(value, 200)


@dataclass
class CheckRun:
    """Result of :func:`run_checks`."""

    outcome: ChildOutcome
    checks: list[CheckResult]


def run_checks(submission: Any, work_dir: Path, images: np.ndarray,
               limits: Limits | None = None, *, timeout_s: float = CHECK_TIMEOUT_S,
               seed: int = 0) -> CheckRun:
    """Run the ``check`` phase on a submission in its own child.

    Args:
        submission: An intake ``Submission`` (or code-unit dicts).
        work_dir: The submission's private work folder.
        images: A few real uint8 images (16 are used).
        limits: Sandbox limits.
        timeout_s: Time limit of the check phase.
        seed: Seed of the probes.
    """
    limits = limits or Limits()
    write_real_images(work_dir, images[:64])
    plan = make_plan(submission, [{"name": "check", "timeout_s": timeout_s}], seed=seed,
                     threads=limits.threads)
    outcome = run_child(plan, work_dir, limits)
    return CheckRun(outcome, checks_from_outcome(outcome))
