"""Machine-readable result: ``result.json`` following ``grader/schemas/result.schema.json``."""

from __future__ import annotations

import json
import math
import os
import platform
import tempfile
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from grader import __version__
from grader.evidence import Evidence
from grader.judge.precision import compute_policy
from grader.scoring import Grade

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "schemas" / "result.schema.json"
SCHEMA_VERSION = 1


@dataclass
class RunMeta:
    """How the grade was produced: mode, seed, versions and timings."""

    mode: str = "full"
    """``quick`` (short training), ``full`` (the assignment's budget) or ``check`` (no training)."""
    seed: int = 0
    versions: dict[str, str] = field(default_factory=dict)
    """Package versions: at least ``grader``, ``tensorflow``, ``python``."""
    timing: dict[str, float] = field(default_factory=dict)
    """Seconds per stage of the trusted side (intake, judge, report, ...)."""

    @classmethod
    def collect(cls, mode: str = "full", seed: int = 0,
                timing: dict[str, float] | None = None) -> RunMeta:
        """Fill versions from installed package metadata (TensorFlow is not imported)."""
        return cls(mode=mode, seed=seed, versions=installed_versions(), timing=dict(timing or {}))


def installed_versions() -> dict[str, str]:
    """Versions of the grader, Python and the libraries that shape a grade, and the judge's arithmetic."""
    out = {"grader": __version__, "python": platform.python_version()}
    for key, dists in (("tensorflow", ("tensorflow", "tensorflow-cpu", "tf-nightly")),
                       ("keras", ("keras",)), ("numpy", ("numpy",)), ("scipy", ("scipy",))):
        out[key] = "not installed"
        for dist in dists:
            try:
                out[key] = metadata.version(dist)
                break
            except metadata.PackageNotFoundError:
                continue
    out["judge_precision"] = compute_policy()
    return out


def result_dict(grade: Grade, evidence: Evidence, meta: RunMeta) -> dict[str, Any]:
    """The ``result.json`` object (plain JSON, non-finite numbers as null)."""
    g = grade.to_dict()
    timing = {k: float(v) for k, v in {**evidence.timings, **meta.timing}.items()
              if isinstance(v, (int, float)) and math.isfinite(v) and v >= 0}
    versions = {"grader": __version__, "tensorflow": "unknown", "python": platform.python_version()}
    versions.update({k: str(v) for k, v in meta.versions.items()})
    return _finite({
        "schema_version": SCHEMA_VERSION, "submission": evidence.submission,
        "score": g["score"], "max_score": g["max_score"], "review_needed": g["review_needed"],
        "items": g["items"], "checks": g["checks"], "warnings": g["warnings"],
        "timing": timing, "versions": versions, "mode": meta.mode, "seed": int(meta.seed),
        "isolation": evidence.isolation, "trusted_models": evidence.trusted_models,
        "rubric": {"id": grade.rubric_id, "version": grade.rubric_version,
                   "calibrated": grade.rubric_calibrated},
        "variants": [{"name": v.name, "generator_fn": v.generator_fn,
                      "discriminator_fn": v.discriminator_fn,
                      "steps": max(int(v.history.steps or 0), len(v.history.fake_accuracy)),
                      "error": v.error, "error_detail": v.error_detail,
                      "loop_note": v.history.loop_note,
                      "loop_note_detail": v.history.loop_note_detail}
                     for v in evidence.variants],
    })


def _finite(x: Any) -> Any:
    if isinstance(x, float):
        return x if math.isfinite(x) else None
    if isinstance(x, dict):
        return {str(k): _finite(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_finite(v) for v in x]
    return x


def load_schema() -> dict[str, Any]:
    """The result JSON Schema (draft 2020-12)."""
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


def validate_result(obj: dict[str, Any]) -> None:
    """Validate a result object against the schema.

    Raises:
        jsonschema.ValidationError: the object does not follow the schema.
    """
    import jsonschema

    jsonschema.Draft202012Validator(load_schema()).validate(obj)


def write_result_json(grade: Grade, evidence: Evidence, meta: RunMeta | dict[str, Any],
                      path: str | Path) -> dict[str, Any]:
    """Validate and write ``result.json`` atomically.

    Args:
        grade: the scored grade.
        evidence: the evidence it was scored from.
        meta: a :class:`RunMeta` or its dict form.
        path: output file.

    Returns:
        The object written.
    """
    if isinstance(meta, dict):
        meta = RunMeta(**{k: v for k, v in meta.items() if k in RunMeta.__dataclass_fields__})
    obj = result_dict(grade, evidence, meta)
    validate_result(obj)
    write_text_atomic(Path(path), json.dumps(obj, ensure_ascii=False, indent=1))
    return obj


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` via a temporary file in the same folder and ``os.replace``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def meta_dict(meta: RunMeta) -> dict[str, Any]:
    """Plain dict of a :class:`RunMeta`."""
    return asdict(meta)
