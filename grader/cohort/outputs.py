"""Cohort outputs: grades.csv for a gradebook, cohort.json and the index.html dashboard."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader.cohort import summary as cstats
from grader.cohort.class_list import CSV_COLUMNS, ClassMember, from_meta, match
from grader.cohort.dashboard import (
    flag_phrase,
    render_dashboard,
    render_failure_report,
    strings,
    student_flags,
)
from grader.report.result_json import write_text_atomic

COHORT_SCHEMA = "dcgan-grader/cohort"
COHORT_VERSION = 1
GRADES_CSV = "grades.csv"
COHORT_JSON = "cohort.json"
INDEX_HTML = "index.html"
REPORT_HTML = "report.html"
#: Excel reads a CSV without a byte-order mark in the system's ANSI code page (CP949 on Korean
#: Windows), which garbles UTF-8 Korean names; with the BOM it reads UTF-8. Python's csv module
#: (open with encoding="utf-8-sig"), pandas, Google Sheets, LibreOffice, Moodle and Canvas
#: imports all accept the BOM, so it costs the other readers nothing.
CSV_BOM = "\ufeff"
#: a cell starting with one of these is a formula to Excel/Sheets ("CSV injection"); student
#: names, flags and reasons are untrusted, so such cells get a leading apostrophe
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class CohortPaths:
    """Where the cohort outputs were written."""

    csv: Path
    """``grades.csv``: one row per student for a gradebook or LMS import."""
    json: Path
    """``cohort.json``: meta, summary statistics, the student records and similarity flags."""
    html: Path
    """``index.html``: the self-contained dashboard."""


def write_cohort_outputs(out_dir: Path, records: list[dict], results: dict[str, dict],
                         flags: list[dict], meta: dict, lang: str = "en") -> CohortPaths:
    """Write ``grades.csv``, ``cohort.json`` and ``index.html`` into ``out_dir``, each atomically.

    Args:
        out_dir: the cohort's output folder (per-student reports lie in its subfolders).
        records: one dict per student, in roster order: ``student``, ``status``
            (``graded``/``failed``), ``reason``, ``score``, ``max_score``, ``report`` and
            ``result`` (paths relative to ``out_dir``), ``seconds``, ``cached``, ``key``.
        results: student -> parsed ``result.json`` of each graded student.
        flags: similarity flags as dicts (``a``, ``b``, ``kind``, ``score``, ``threshold``,
            ``detail``, ``matches``).
        meta: run metadata (``mode``, ``grader_version``, ``rubric``, ``created``, ``workers``,
            ``scheduler``, ``wall_s``, ``n_cached``); unknown or missing keys are fine.
        lang: ``en`` or ``ko``: the dashboard's language and the CSV's flag phrases.

    Returns:
        The three paths.

    Raises:
        ValueError: ``lang`` is not supported (nothing is written).
    """
    t = strings(lang)
    out_dir = Path(out_dir)
    flags = [_plain_dict(f) for f in flags]
    summary = cstats.summarise(records, results)
    paths = CohortPaths(out_dir / GRADES_CSV, out_dir / COHORT_JSON, out_dir / INDEX_HTML)
    write_text_atomic(paths.csv, CSV_BOM + grades_csv_text(records, results, flags, t,
                                                           from_meta(meta)))
    write_text_atomic(paths.json, json.dumps(cohort_dict(records, flags, meta, summary),
                                             ensure_ascii=False, indent=1, allow_nan=False))
    write_text_atomic(paths.html, render_dashboard(records, results, flags, meta, summary, lang))
    return paths


def write_failure_report(student_dir: Path, student: str, reason: str, lang: str = "en") -> Path:
    """Write ``report.html`` for a student whose grading died, so the dashboard link works.

    Args:
        student_dir: the student's output folder (created if missing).
        student: the student's name.
        reason: what went wrong, in words a student understands.
        lang: ``en`` or ``ko``.

    Returns:
        The path of the report.
    """
    path = Path(student_dir) / REPORT_HTML
    write_text_atomic(path, render_failure_report(student, reason, lang))
    return path


def csv_header(items: list[str], with_roster: bool = False) -> list[str]:
    """``student,[student_id,name,email,]status,total,max_total,<item>_score,<item>_status,...,
    review_needed,pending,overrides,flags,reason``."""
    cols = ["student", *(CSV_COLUMNS if with_roster else ()), "status", "total", "max_total"]
    for iid in items:
        cols += [f"{iid}_score", f"{iid}_status"]
    return cols + ["review_needed", "pending", "overrides", "flags", "reason"]


def grades_csv_text(records: list[dict], results: dict[str, dict], flags: list[dict],
                    t: dict[str, str], members: list[ClassMember] | None = None) -> str:
    """The text of ``grades.csv`` (without the BOM); ``t`` gives the flag phrases' language.

    A student whose grading failed gets total 0 and empty item cells; ``status`` says
    ``failed`` and ``reason`` why. With a class list (``members``), each row gains the
    student's id, name and e-mail, and each listed student without a submission gets a row
    with status ``missing`` and total 0.
    """
    items = cstats.item_order([res for _, res in cstats.graded_results(records, results)])
    top = cstats.cohort_max(records, results)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(csv_header(items, bool(members)))
    paired, absent = match(members or [], [str(r.get("student")) for r in records])
    for rec in records:
        name = str(rec.get("student"))
        who = paired.get(name)
        listed = [_cell(who.id), _cell(who.name), _cell(who.email)] if who else ["", "", ""]
        graded = cstats.is_graded(rec)
        res = results.get(name) if graded else None
        by_id = {str(i.get("id")): i for i in (res or {}).get("items") or []
                 if isinstance(i, dict)}
        status = "graded" if graded else str(rec.get("status") or "failed")
        if graded:
            score = cstats.record_score(rec, results)
        else:  # a tampered student keeps the score the runner committed (its ledger)
            score = float(rec.get("score") or 0.0) if status == "tampered" else 0.0
        row = [_cell(name), *(listed if members else []), _cell(status), _num(score),
               _num(cstats.record_max(rec, results) or top)]
        for iid in items:
            it = by_id.get(iid) or {}
            row += [_num(it.get("score")), str(it.get("status") or "")]
        overrides = [f"{iid}: {o.get('points', 0):g}" + (f" ({o['comment']})"
                                                         if o.get("comment") else "")
                     for iid, it in by_id.items() if isinstance(o := it.get("override"), dict)]
        row += ["yes" if (res or {}).get("review_needed") else ("no" if res else ""),
                _num((res or {}).get("pending_points", 0.0) if res else None),
                _cell("; ".join(overrides))]
        phrases = [flag_phrase(f, name, t) for _, f in student_flags(flags, name)]
        row += [_cell("; ".join(phrases)), _cell("" if graded else str(rec.get("reason") or ""))]
        writer.writerow(row)
    for m in absent:
        writer.writerow([_cell(m.student), _cell(m.id), _cell(m.name), _cell(m.email), "missing",
                         "0", _num(top), *([""] * (2 * len(items))), "", "", "", "",
                         "no submission found"])
    return buf.getvalue()


def cohort_dict(records: list[dict], flags: list[dict], meta: dict[str, Any],
                summary: dict[str, Any]) -> dict[str, Any]:
    """The ``cohort.json`` object (plain JSON; non-finite numbers become null)."""
    return _finite({
        "schema": COHORT_SCHEMA, "version": COHORT_VERSION,
        "meta": _plain_dict(meta), "summary": summary,
        "students": [_plain_dict(r) for r in records], "similarity": flags,
    })


def _num(x: Any) -> str:
    x = cstats.number(x)
    return "" if x is None else f"{x:.4f}".rstrip("0").rstrip(".")


def _cell(text: str) -> str:
    return "'" + text if text.startswith(_FORMULA_START) else text


def _plain_dict(obj: Any) -> dict[str, Any]:
    """A dict from a dict, a dataclass or an object with ``to_dict()`` (e.g. SimilarityFlag)."""
    if isinstance(obj, dict):
        return obj
    if hasattr(obj, "to_dict"):
        return dict(obj.to_dict())
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return dataclasses.asdict(obj)
    return {}


def _finite(x: Any) -> Any:
    if isinstance(x, float):
        return x if math.isfinite(x) else None
    if isinstance(x, dict):
        return {str(k): _finite(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_finite(v) for v in x]
    if isinstance(x, Path):
        return str(x)
    if x is None or isinstance(x, (str, int, bool)):
        return x
    return str(x)
