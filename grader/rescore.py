"""Score and render again from kept evidence: no student code runs, nothing trains.

A graded folder keeps ``work/evidence.json``, ``work/judged.json`` and the small files they
name (the grader's samples, the student's judged tiles and figures). :func:`rescore_folder`
reads them, applies the rubric given now (thresholds may have changed), and rewrites
``report.html``, ``result.json`` and, where one existed or is asked for, Gradescope's
``results.json``. :func:`rescore_cohort` does it for every graded student of a cohort folder,
updates each student's record and the ledger (so the integrity check trusts the new files),
and rewrites ``grades.csv``, ``cohort.json`` and the dashboard. Students whose files changed
after they were committed are left as they are and reported.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.assignment import get_assignment
from grader.cohort.keys import ENTRY_FILE, read_entry
from grader.config import GradeOptions
from grader.errors import UsageError
from grader.evidence import Evidence
from grader.files import write_text_atomic
from grader.judge.results import JudgedEvidence
from grader.pipeline import EVIDENCE_FILE, JUDGED_FILE, GradeOutcome, render_outputs
from grader.scoring import load_rubric

_LANG = re.compile(rb'<html[^>]*\blang="(en|ko)"')


@dataclass
class CohortRescore:
    """What :func:`rescore_cohort` did."""

    rescored: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    """``student: why`` for students left as they were."""
    seconds: float = 0.0


def is_graded_folder(folder: Path) -> bool:
    """True when ``folder`` holds a grading output with its kept evidence."""
    return (folder / "work" / EVIDENCE_FILE).is_file() and \
        (folder / "work" / JUDGED_FILE).is_file()


def _previous(folder: Path) -> dict[str, Any]:
    try:
        raw = json.loads((folder / "result.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return raw if isinstance(raw, dict) else {}


def _html_lang(page: Path) -> str:
    try:
        head = page.read_bytes()[:2000]
    except OSError:
        return "en"
    m = _LANG.search(head)
    return m.group(1).decode() if m else "en"


def rescore_folder(folder: str | Path, *, rubric: str | Path | None = None,
                   lang: str | None = None, gradescope: bool | None = None,
                   assignment: str | Path | None = None, overrides: str | Path | None = None,
                   student: str | None = None) -> GradeOutcome:
    """Re-score one grading output folder from its kept evidence.

    Args:
        folder: The folder ``grade`` wrote (``report.html``, ``result.json``, ``work/``).
        rubric: Rubric file (default: the assignment's).
        lang: Report language (default: the language of the existing report).
        gradescope: Write Gradescope's ``results.json`` (default: when one exists).
        assignment: Assignment id or folder (default: the current assignment).
        overrides: An instructor's overrides file (:mod:`grader.scoring.overrides`).
        student: The name the overrides use (default: the submission's own name; a cohort
            passes the student's folder name).

    Raises:
        UsageError: The folder holds no kept evidence, or it cannot be read.
    """
    folder = Path(folder)
    if not is_graded_folder(folder):
        raise UsageError(f"{folder} holds no kept evidence (work/{EVIDENCE_FILE} and "
                         f"work/{JUDGED_FILE}).",
                         "Give the output folder of `grade` or of one `grade cohort` student.")
    work = folder / "work"
    try:
        evidence = Evidence.from_json((work / EVIDENCE_FILE).read_text(encoding="utf-8"))
        judged = JudgedEvidence.from_json((work / JUDGED_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise UsageError(f"The kept evidence in {work} cannot be read: {exc}") from exc
    old = _previous(folder)
    the_assignment = get_assignment(assignment)
    options = GradeOptions(mode=str(old.get("mode") or "quick"), seed=int(old.get("seed") or 0),
                           lang=lang or _html_lang(folder / "report.html"), out_dir=folder,
                           gradescope=(folder / "results.json").is_file()
                           if gradescope is None else gradescope,
                           overrides=Path(overrides) if overrides else None)
    timing = {k: float(v) for k, v in (old.get("timing") or {}).items()
              if isinstance(v, (int, float))}
    the_rubric = load_rubric(rubric or the_assignment.rubric)
    return render_outputs(evidence, judged, the_rubric, work, folder, options, timing,
                          the_assignment, student=student)


def rescore_cohort(out: str | Path, *, rubric: str | Path | None = None,
                   lang: str | None = None, gradescope: bool | None = None,
                   assignment: str | Path | None = None,
                   overrides: str | Path | None = None) -> CohortRescore:
    """Re-score every graded student of a ``grade cohort`` output folder (see the module)."""
    from grader.cohort.commit import (
        cohort_lock,
        integrity_problems,
        read_ledger,
        record_in_ledger,
    )
    from grader.cohort.outputs import COHORT_JSON, write_cohort_outputs

    out = Path(out)
    t0 = time.perf_counter()
    try:
        cohort = json.loads((out / COHORT_JSON).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UsageError(f"{out} is not a `grade cohort` output folder ({COHORT_JSON}: {exc})."
                         ) from exc
    done = CohortRescore()
    with cohort_lock(out):
        ledger = read_ledger(out)
        records: list[dict[str, Any]] = []
        results: dict[str, dict] = {}
        for old in cohort.get("students", []):
            name = str(old.get("student", ""))
            entry = read_entry(out / name) if name else None
            if entry is None:
                records.append(old)
                continue
            problems = integrity_problems(out, name, ledger)
            if problems or entry.get("status") != "graded" or \
                    not is_graded_folder(out / name):
                why = "; ".join(problems) or ("not graded" if entry.get("status") != "graded"
                                              else "no kept evidence")
                done.skipped.append(f"{name}: {why}")
                if problems:
                    known = ledger.get(name) or {}
                    entry.update(status="tampered", reason=why, score=known.get("score"),
                                 max_score=known.get("max_score"))
                elif entry.get("status") == "graded":
                    try:
                        results[name] = json.loads((out / name / "result.json")
                                                   .read_text(encoding="utf-8"))
                    except (OSError, ValueError):
                        entry.update(status="failed", reason="result.json is missing")
                records.append(entry)
                continue
            outcome = rescore_folder(out / name, rubric=rubric, lang=lang,
                                     gradescope=gradescope, assignment=assignment,
                                     overrides=overrides, student=name)
            entry.update(score=outcome.result["score"], max_score=outcome.result["max_score"],
                         rescored_at=time.strftime("%Y-%m-%dT%H:%M:%S"))
            write_text_atomic(out / name / ENTRY_FILE,
                              json.dumps(entry, ensure_ascii=False, indent=1))
            record_in_ledger(out, name, entry)
            records.append(entry)
            results[name] = outcome.result
            done.rescored.append(name)
        meta = {**(cohort.get("meta") or {}), "rescored": time.strftime("%Y-%m-%dT%H:%M:%S")}
        if rubric:
            meta["rubric_file"] = str(rubric)
        write_cohort_outputs(out, records, results, cohort.get("similarity") or [], meta,
                             lang=lang or _html_lang(out / "index.html"))
    done.seconds = time.perf_counter() - t0
    return done
