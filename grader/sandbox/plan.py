"""Parent side: build the child's plan from a submission and turn an outcome into checks.

Imports neither TensorFlow nor student code.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from grader.assignment import Assignment
from grader.config import SANDBOX
from grader.errors import detail_text, student_text
from grader.evidence import CheckResult, History, VariantRun
from grader.sandbox.launch import ChildOutcome, run_child
from grader.sandbox.limits import Limits
from grader.text import Msg, msg

REAL_IMAGES = "real_images.npy"
#: the phases a plan may hold (each has its words in catalogs/sandbox.toml)
PHASES = ("load", "check", "export", "train", "sample_checkpoint")
#: a check's details from the child: nesting, list and string limits
MAX_DETAILS_DEPTH = 8
MAX_DETAILS_ITEMS = 500
MAX_DETAILS_STRING = 4_000
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
                    "message": str(getattr(get("message", ""), "en", get("message", "")))})
    return out


def make_plan(submission: Any, phases: list[dict[str, Any]], *, assignment: Assignment,
              seed: int = 0,
              threads: int = SANDBOX.threads, unit_timeout_s: float = SANDBOX.unit_timeout_s,
              call_timeout_s: float = SANDBOX.call_timeout_s,
              load_timeout_s: float = SANDBOX.load_timeout_s) -> dict[str, Any]:
    """The JSON plan the child runs.

    Args:
        submission: An intake ``Submission`` (or a list of code-unit dicts, for tests).
        assignment: The assignment (its plain facts travel in the plan).
        phases: ``[{"name": "check", "timeout_s": 180}, {"name": "train", ...}]``.
        seed: Seeds TF and the probes.
        threads: TF intra-op threads.
        unit_timeout_s: Limit of one code unit at load time (a student loop is cut here).
        call_timeout_s: Limit of one call into student code during a check.
        load_timeout_s: Limit of the whole load phase (enforced by the parent).
    """
    root = getattr(submission, "root", None)
    return {"version": 1, "assignment": assignment.facts(), "units": units_of(submission),
            "intake_failures": failures_of(submission),
            "phases": phases, "seed": seed, "threads": threads, "unit_timeout_s": unit_timeout_s,
            "call_timeout_s": call_timeout_s, "load_timeout_s": load_timeout_s,
            "real_images": REAL_IMAGES, "read_only": [str(root)] if root else []}


def write_real_images(work_dir: Path, images: np.ndarray, shape: tuple[int, ...]) -> str:
    """Write uint8 (N, H, W, C) real images for the child (it has no data access)."""
    images = np.ascontiguousarray(images, dtype=np.uint8)
    if images.ndim != 4 or images.shape[1:] != tuple(shape):
        raise ValueError(f"real images have shape {images.shape}, expected (N, "
                         f"{', '.join(str(d) for d in shape)})")
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
            text = item["message"]
            c = CheckResult(id=student_text(item["id"], 100), status=item["status"],
                            message=Msg(student_text(text["en"]), student_text(text["ko"])),
                            details=clean_details(item.get("details", {}))
                            if isinstance(item.get("details"), dict) else {})
        except (KeyError, TypeError, AttributeError):
            continue
        if c.status in ("pass", "warn", "fail", "skip"):
            checks.append(c)
    errors, details = phase_errors(outcome.result)
    if outcome.status != "ok":
        checks.insert(0, CheckResult("sandbox", "fail", outcome.message,
                                     {"status": outcome.status, "phase": outcome.phase,
                                      "exit_code": outcome.exit_code}))
    elif errors:
        phase, err = next(iter(errors.items()))
        words = msg(f"sandbox.phase_{phase}") if phase in PHASES else Msg(phase, phase)
        text = msg("sandbox.not_finished", phase=words, error=err)
        checks.insert(0, CheckResult("sandbox", "fail", text,
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


def run_checks(submission: Any, work_dir: Path, images: np.ndarray, assignment: Assignment,
               limits: Limits | None = None, *, timeout_s: float = SANDBOX.check_timeout_s,
               seed: int = 0) -> CheckRun:
    """Run the ``check`` phase on a submission in its own child.

    Args:
        submission: An intake ``Submission`` (or code-unit dicts).
        work_dir: The submission's private work folder.
        images: A few real uint8 images (16 are used).
        assignment: The assignment.
        limits: Sandbox limits.
        timeout_s: Time limit of the check phase.
        seed: Seed of the probes.
    """
    limits = limits or Limits()
    write_real_images(work_dir, images[:64], assignment.image_shape)
    plan = make_plan(submission, [{"name": "check", "timeout_s": timeout_s}],
                     assignment=assignment, seed=seed, threads=limits.threads)
    outcome = run_child(plan, work_dir, limits)
    return CheckRun(outcome, checks_from_outcome(outcome))


def parse_variant(raw: dict[str, Any], prefix: str = "sandbox/") -> VariantRun:
    """A validated :class:`VariantRun` from a child, file names made relative to the work folder.

    Its words come from the child: they are cleaned and capped, and a traceback stays in
    ``error_detail`` / ``loop_note_detail``, apart from the one-line ``error`` students read.
    Numbers that are not numbers are dropped.
    """
    names = {f.name for f in dataclasses.fields(History)}
    hist = History(**{k: v for k, v in (raw.get("history") or {}).items() if k in names})
    for key in ("gen_loss", "disc_loss", "real_accuracy", "fake_accuracy"):
        values = getattr(hist, key)
        setattr(hist, key, [float(x) for x in values if isinstance(x, (int, float))]
                if isinstance(values, list) else [])
    change = hist.generator_change
    hist.generator_change = float(change) if isinstance(change, (int, float)) and \
        not isinstance(change, bool) and np.isfinite(change) and change >= 0 else None
    hist.loop = student_text(hist.loop, 40)
    hist.loop_note = student_text(hist.loop_note)
    hist.loop_note_detail = detail_text(hist.loop_note_detail)
    error = raw.get("error")
    run = VariantRun(name=student_text(raw.get("name", "final"), 40),
                     generator_fn=student_text(raw.get("generator_fn", ""), 200),
                     discriminator_fn=student_text(raw.get("discriminator_fn", ""), 200),
                     history=hist, frame_steps=[int(s) for s in raw.get("frame_steps", [])
                                                if isinstance(s, (int, float))],
                     error=student_text(error) if error else None,
                     error_detail=detail_text(raw.get("error_detail")) or None)
    if run.error:
        kind = raw.get("error_kind")
        run.error_kind = kind if kind in ("timeout", "memory", "error") else "error"
    for attr in ("samples_file", "frames_file"):
        value = raw.get(attr)
        if isinstance(value, str) and "/" not in value and ".." not in value:
            setattr(run, attr, prefix + value)
    return run
