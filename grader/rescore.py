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
from grader.cohort.class_list import load_class_list, to_meta
from grader.cohort.keys import ENTRY_FILE, read_entry, scoring_key
from grader.config import GradeOptions
from grader.errors import UsageError
from grader.evidence import Evidence
from grader.files import write_text_atomic
from grader.judge.results import JudgedEvidence
from grader.pipeline import EVIDENCE_FILE, JUDGED_FILE, GradeOutcome, render_outputs
from grader.report.gradescope import write_gradescope
from grader.scoring import load_rubric, score_submission
from grader.scoring.overrides import Override, apply_overrides

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


def _previous_gradescope(folder: Path) -> dict[str, str] | None:
    """Language and visibility of the folder's ``results.json`` (None: there is none)."""
    try:
        raw = json.loads((folder / "results.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(raw, dict):
        return None
    extra = raw.get("extra_data") if isinstance(raw.get("extra_data"), dict) else {}
    # written before the language was recorded: always both languages then
    return {"lang": str(extra.get("lang") or "both"),
            "visibility": str(raw.get("visibility") or "visible")}


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
                   student: str | None = None, gradescope_lang: str | None = None,
                   gradescope_visibility: str | None = None) -> GradeOutcome:
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
        gradescope_lang: Language of ``results.json`` (default: ``lang`` when given, else
            the one the existing ``results.json`` was written with, else the report's).
        gradescope_visibility: Its visibility (default: the existing one, else visible).

    Raises:
        UsageError: The folder holds no kept evidence, or it cannot be read.
    """
    folder = Path(folder)
    evidence, judged = _kept_evidence(folder)
    work = folder / "work"
    old = _previous(folder)
    the_assignment = get_assignment(assignment)
    report_lang = lang or _html_lang(folder / "report.html")
    old_gs = _previous_gradescope(folder) or {}
    options = GradeOptions(mode=str(old.get("mode") or "quick"), seed=int(old.get("seed") or 0),
                           lang=report_lang, out_dir=folder,
                           gradescope=(folder / "results.json").is_file()
                           if gradescope is None else gradescope,
                           gradescope_lang=gradescope_lang or lang or old_gs.get("lang")
                           or report_lang,
                           gradescope_visibility=gradescope_visibility
                           or old_gs.get("visibility") or "visible",
                           overrides=Path(overrides) if overrides else None)
    timing = {k: float(v) for k, v in (old.get("timing") or {}).items()
              if isinstance(v, (int, float))}
    the_rubric = load_rubric(rubric or the_assignment.rubric)
    return render_outputs(evidence, judged, the_rubric, work, folder, options, timing,
                          the_assignment, student=student)


def _kept_evidence(folder: Path) -> tuple[Evidence, JudgedEvidence]:
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
    return evidence, judged


def write_gradescope_only(folder: str | Path, *, rubric: str | Path | None = None,
                          lang: str = "en", visibility: str = "visible",
                          assignment: str | Path | None = None) -> Path:
    """Write Gradescope's ``results.json`` alone from the kept evidence (seconds).

    ``report.html`` and ``result.json`` stay as they are (a cohort's ledger keeps trusting
    them); the overrides ``result.json`` records are applied again, so all three agree.

    Raises:
        UsageError: The folder holds no kept evidence, or it cannot be read.
    """
    folder = Path(folder)
    evidence, judged = _kept_evidence(folder)
    grade_ = score_submission(evidence, judged,
                              load_rubric(rubric or get_assignment(assignment).rubric))
    old = _previous(folder)
    kept = [Override(evidence.submission, str(item.get("id")), float(item["override"]["points"]),
                     str(item["override"].get("comment") or ""))
            for item in old.get("items") or []
            if isinstance(item, dict) and isinstance(item.get("override"), dict)
            and isinstance(item["override"].get("points"), (int, float))]
    if kept:
        apply_overrides(grade_, kept, evidence.submission)
    total = (old.get("timing") or {}).get("total_s")
    path = folder / "results.json"
    write_gradescope(grade_, path, lang=lang, visibility=visibility,
                     execution_time=float(total) if isinstance(total, (int, float)) else None)
    return path


def rescore_cohort(out: str | Path, *, rubric: str | Path | None = None,
                   lang: str | None = None, gradescope: bool | None = None,
                   assignment: str | Path | None = None,
                   overrides: str | Path | None = None, gradescope_lang: str | None = None,
                   gradescope_visibility: str | None = None,
                   roster: str | Path | None = None) -> CohortRescore:
    """Re-score every graded student of a ``grade cohort`` output folder (see the module).

    ``roster``: a class list to join to ``grades.csv`` now (default: the one kept).
    """
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
                                     overrides=overrides, student=name,
                                     gradescope_lang=gradescope_lang,
                                     gradescope_visibility=gradescope_visibility)
            entry.update(score=outcome.result["score"], max_score=outcome.result["max_score"],
                         rescored_at=time.strftime("%Y-%m-%dT%H:%M:%S"),
                         scoring_key=scoring_key(_html_lang(out / name / "report.html"), rubric))
            write_text_atomic(out / name / ENTRY_FILE,
                              json.dumps(entry, ensure_ascii=False, indent=1))
            record_in_ledger(out, name, entry)
            records.append(entry)
            results[name] = outcome.result
            done.rescored.append(name)
        meta = {**(cohort.get("meta") or {}), "rescored": time.strftime("%Y-%m-%dT%H:%M:%S")}
        if rubric:
            meta["rubric_file"] = str(rubric)
        if roster:
            meta["roster"] = to_meta(load_class_list(roster), Path(roster).resolve())
        write_cohort_outputs(out, records, results, cohort.get("similarity") or [], meta,
                             lang=lang or _html_lang(out / "index.html"))
    done.seconds = time.perf_counter() - t0
    return done
