"""The output step of a run: every committed student -> similarity -> gradebook and dashboard.

Reads only what is committed in the output folder (this run's students and cached ones
alike), so the outputs describe the folder, not just the students graded now.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from grader import __version__
from grader.cohort.class_list import load_class_list, to_meta
from grader.cohort.commit import STATE_DIR, integrity_problems, read_ledger
from grader.cohort.keys import read_entry
from grader.cohort.roster import Student
from grader.cohort.similarity import (
    NORMALISER_VERSION,
    SubmissionPrint,
    find_similar,
    fingerprint_submission,
)
from grader.report.result_json import write_text_atomic
from grader.rubric import load_rubric

if TYPE_CHECKING:
    from grader.cohort.runner import CohortOptions, CohortRun


def write_outputs(opts: CohortOptions, students: list[Student], cached: set[str],
                  run: CohortRun, hashes: dict[str, str]) -> tuple[list[dict[str, Any]], Any]:
    """Gradebook, ``cohort.json``, similarity and dashboard over every committed student."""
    from grader.cohort.outputs import write_cohort_outputs

    records, results = [], {}
    ledger = read_ledger(opts.out)
    for s in students:
        entry = read_entry(opts.out / s.name)
        if entry is None:
            continue
        entry["cached"] = s.name in cached
        problems = integrity_problems(opts.out, s.name, ledger)
        entry["hashes"] = (ledger.get(s.name) or {}).get("hashes", {})
        if problems:
            known = ledger.get(s.name) or {}
            entry.update(status="tampered", reason="; ".join(problems),
                         score=known.get("score"), max_score=known.get("max_score"))
            run.tampered.append(f"{s.name}: {'; '.join(problems)}")
            records.append(entry)
            continue
        records.append(entry)
        if entry.get("status") == "graded":
            try:
                results[s.name] = json.loads((opts.out / s.name / "result.json")
                                             .read_text(encoding="utf-8"))
            except (OSError, ValueError):
                entry.update(status="failed", reason="result.json is missing or unreadable")
    committed = {r["student"] for r in records}
    flags = similarity_flags([s for s in students if s.name in committed], opts.out, hashes)
    meta = {"mode": opts.mode, "grader_version": __version__,
            "rubric": _rubric_meta(opts.rubric),
            "created": time.strftime("%Y-%m-%dT%H:%M:%S"), "workers": opts.workers,
            "scheduler": opts.scheduler, "wall_s": round(run.wall_s, 1),
            "n_cached": len(cached), "interrupted": run.interrupted}
    roster = _roster_meta(opts)
    if roster:
        meta["roster"] = roster
    paths = write_cohort_outputs(opts.out, records, results, flags, meta, lang=opts.lang)
    return records, paths


def _roster_meta(opts: CohortOptions) -> dict[str, Any] | None:
    """The class list given now, else the one an earlier run of this folder kept."""
    from grader.cohort.outputs import COHORT_JSON

    if opts.roster:
        return to_meta(load_class_list(opts.roster), opts.roster)
    try:
        old = json.loads((opts.out / COHORT_JSON).read_text(encoding="utf-8"))
        roster = (old.get("meta") or {}).get("roster")
    except (OSError, ValueError, AttributeError):
        return None
    return roster if isinstance(roster, dict) else None


def similarity_flags(students: list[Student], out: Path,
                     hashes: dict[str, str]) -> list[dict[str, Any]]:
    """Similarity flags between students (trusted: reads files, never runs them).

    Each student's fingerprint is cached in ``OUT/.cohort/prints/`` under the SHA-256 of the
    submission and the normaliser's version, so a re-run only reads changed submissions.
    """
    cache = out / STATE_DIR / "prints"
    cache.mkdir(parents=True, exist_ok=True)
    scratch = out / STATE_DIR / "similarity"
    prints = {}
    for s in students:
        tag = f"{hashes[s.name]}-v{NORMALISER_VERSION}"
        cached = cache / f"{s.name}.json"
        try:
            raw = json.loads(cached.read_text(encoding="utf-8"))
            if raw.get("tag") == tag:
                prints[s.name] = SubmissionPrint.from_dict(raw["print"])
                continue
        except (OSError, ValueError, KeyError, TypeError):
            pass
        work = scratch / s.name
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        prints[s.name] = fingerprint_submission(s.path, work)
        write_text_atomic(cached, json.dumps({"tag": tag, "print": prints[s.name].to_dict()}))
    shutil.rmtree(scratch, ignore_errors=True)
    return [f.to_dict() for f in find_similar(prints)]


def _rubric_meta(rubric: str | None) -> dict[str, Any]:
    """The rubric's id and version for the dashboard (``unknown`` when it cannot be loaded)."""
    try:
        r = load_rubric(rubric)
    except Exception:  # noqa: BLE001 - the dashboard only shows it
        return {"id": "unknown", "version": "unknown"}
    return {"id": getattr(r, "id", "unknown"), "version": getattr(r, "version", "unknown")}
