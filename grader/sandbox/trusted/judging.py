"""The judge, run inside the trusted process, where TensorFlow is already loaded.

Two parts, as in :mod:`grader.judge.evaluate`:

* :func:`judge_shown_here` judges what the student shows (their grids, history plot and GIF,
  copied from the intake into this process's folder) while the student's code still runs
  in its own process; it writes :data:`SHOWN_FILE` and :data:`SHOWN_TILES_FILE`.
* :func:`judge_runs_here` judges this process's own samples after training and returns the
  judged record for ``result.json``.

The parent then never imports TensorFlow (one TensorFlow process fewer per student). It
reads both back with :func:`read_shown` and the validating ``from_dict`` readers; a shown
judgement that did not come back is a warning (:func:`shown_error`), never a judgement made
in the parent's process.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from grader.evidence import Evidence, VariantRun
from grader.files import savez_atomic, write_json_atomic
from grader.judge.results import JudgedEvidence, StudentImages
from grader.text import Msg


@dataclass
class Shown:
    """The trusted process's judgement of what the student shows, as :func:`judge_shown`
    returns it, and the seconds it took."""

    judged: JudgedEvidence
    student: StudentImages
    notes: list[Msg]
    seconds: float


SHOWN_FILE = "shown.json"
SHOWN_TILES_FILE = "shown_tiles.npz"
#: what the shown judging may write into the folder (copied back to the work folder)
SHOWN_OUTPUTS = ("judged", "report_gif.gif")
_TILE_KEYS = ("tiles", "before_tiles", "figure_of")


def judge_shown_here(request: dict[str, Any], work: Path) -> None:
    """Judge the intake's evidence (``request["evidence"]``) into :data:`SHOWN_FILE`."""
    from grader.judge.evaluate import judge_shown

    t0 = time.perf_counter()
    try:
        evidence = Evidence.from_json(json.dumps(request["evidence"]))
        judged, student, notes = judge_shown(evidence, work, int(request.get("seed", 0)),
                                             request.get("folder"))
        arrays = {k: getattr(student, k) for k in _TILE_KEYS if getattr(student, k) is not None}
        if arrays:
            savez_atomic(work / SHOWN_TILES_FILE, **arrays)
        out = {"judged": json.loads(judged.to_json()), "origins": list(student.origins),
               "notes": [n.to_json() for n in notes],
               "seconds": round(time.perf_counter() - t0, 3)}
    except Exception as exc:  # noqa: BLE001 - the parent warns (shown_error)
        out = {"error": f"{type(exc).__name__}: {str(exc)[:500]}"}
    write_json_atomic(work / SHOWN_FILE, out, indent=None)


def judge_runs_here(phase: dict[str, Any], variants: list[dict[str, Any]],
                    checkpoint_samples: str | None, work: Path) -> dict[str, Any]:
    """The judged record of this process's samples, frames and checkpoint samples."""
    from grader.judge.evaluate import judge_runs
    from grader.sandbox.plan import parse_variant

    runs: list[VariantRun] = [parse_variant(v, prefix="") for v in variants
                              if isinstance(v, dict) and not v.get("error")]
    evidence = Evidence(submission="", isolation="", variants=runs,
                        checkpoint_samples_file=checkpoint_samples)
    judged = JudgedEvidence()
    judge_runs(evidence, work, judged, seed=int(phase.get("seed", 0)),
               assignment=phase.get("folder"))
    return json.loads(judged.to_json())


def read_shown(box: Path, shape: tuple[int, ...]) -> Shown | None:
    """What :func:`judge_shown_here` wrote, validated (None: the parent warns, see :func:`shown_error`)."""
    try:
        raw = json.loads((box / SHOWN_FILE).read_text(encoding="utf-8")[: 32 << 20])
        if not isinstance(raw, dict) or "judged" not in raw:
            return None
        judged = JudgedEvidence.from_dict(raw["judged"])
        student = StudentImages(origins=[str(o)[:300] for o in raw.get("origins", [])][:50])
        tiles_file = box / SHOWN_TILES_FILE
        if tiles_file.is_file() and not tiles_file.is_symlink():
            with np.load(tiles_file, allow_pickle=False) as z:
                for key in _TILE_KEYS:
                    if key in z.files:
                        setattr(student, key, _checked(z[key], key, shape))
        notes = [Msg.from_json(n) for n in raw.get("notes", [])][:50]
        return Shown(judged, student, notes, float(raw.get("seconds", 0.0)))
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return None


def shown_error(box: Path, outcome: str = "") -> str:
    """Why :func:`read_shown` found nothing in ``box``, in a few words a student understands."""
    try:
        raw = json.loads((box / SHOWN_FILE).read_text(encoding="utf-8")[: 1 << 20])
        if isinstance(raw, dict) and raw.get("error"):
            return f"the judging failed: {str(raw['error'])[:200]}"
        return "the judging gave back a result the grader could not read"
    except (OSError, ValueError):
        return f"the judging process ended without a result{f' ({outcome})' if outcome else ''}"


def _checked(array: np.ndarray, key: str, shape: tuple[int, ...]) -> np.ndarray:
    if key == "figure_of":
        if array.ndim != 1 or not np.issubdtype(array.dtype, np.integer):
            raise ValueError("figure_of is not a list of figure numbers")
        return array
    if array.dtype != np.uint8 or array.ndim != 4 or tuple(array.shape[1:]) != tuple(shape):
        raise ValueError(f"{key} are not uint8 images of shape {shape}")
    return array
