"""Cohort statistics from per-student results: scores, item pass rates, common check problems."""

from __future__ import annotations

import math
import statistics
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

ITEM_STATUSES = ("pass", "partial", "fail", "needs_review")
#: check statuses counted as problems, worst first
PROBLEM_STATUSES = ("fail", "warn")
HIST_BINS = 10
#: warnings with this code prefix restate a check's result; they are counted under the check
CHECK_WARNING_PREFIX = "check:"


def number(x: Any) -> float | None:
    """``x`` as a finite float, else None (missing, NaN, text)."""
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        return None
    return float(x) if math.isfinite(x) else None


def is_graded(record: dict[str, Any]) -> bool:
    """True for a record whose grading finished (``status == "graded"``)."""
    return record.get("status") == "graded"


def record_score(record: dict[str, Any], results: dict[str, dict]) -> float | None:
    """The student's total: the record's score, else the result's; None when there is none."""
    score = number(record.get("score"))
    if score is None:
        score = number((results.get(str(record.get("student"))) or {}).get("score"))
    return score


def record_max(record: dict[str, Any], results: dict[str, dict]) -> float | None:
    """The student's maximum: the record's ``max_score``, else the result's."""
    top = number(record.get("max_score"))
    if top is None:
        top = number((results.get(str(record.get("student"))) or {}).get("max_score"))
    return top


def graded_results(records: list[dict], results: dict[str, dict]) -> list[tuple[str, dict]]:
    """(student, result) for the graded students that have a result, in roster order."""
    out = []
    for rec in records:
        name = str(rec.get("student"))
        res = results.get(name)
        if is_graded(rec) and isinstance(res, dict):
            out.append((name, res))
    return out


def item_order(results: list[dict]) -> list[str]:
    """Item ids in rubric order: the union over results, by first appearance."""
    seen: dict[str, None] = {}
    for res in results:
        for item in res.get("items") or []:
            if isinstance(item, dict) and item.get("id"):
                seen.setdefault(str(item["id"]), None)
    return list(seen)


def item_titles(results: list[dict]) -> dict[str, dict[str, str]]:
    """item id -> {"en": title, "ko": title} from the first result that has them."""
    out: dict[str, dict[str, str]] = {}
    for res in results:
        for item in res.get("items") or []:
            if isinstance(item, dict) and item.get("id") and str(item["id"]) not in out:
                iid = str(item["id"])
                out[iid] = {"en": str(item.get("title_en") or iid),
                            "ko": str(item.get("title_ko") or item.get("title_en") or iid)}
    return out


def cohort_max(records: list[dict], results: dict[str, dict]) -> float | None:
    """The cohort's maximum score: the most common ``max_score`` of the graded students."""
    tops = Counter(m for rec in records if is_graded(rec)
                   and (m := record_max(rec, results)) is not None and m > 0)
    if not tops:
        tops = Counter(m for rec in records if (m := record_max(rec, results)) is not None
                       and m > 0)
    return tops.most_common(1)[0][0] if tops else None


@dataclass
class CheckProblem:
    """One check that failed or warned for some students."""

    id: str
    status: str
    """``fail`` or ``warn``."""
    students: list[str] = field(default_factory=list)
    messages: Counter = field(default_factory=Counter)
    """(message_en, message_ko) -> how many students got it."""

    def example(self, lang: str) -> str:
        """The most common message, in ``lang``."""
        if not self.messages:
            return ""
        en, ko = self.messages.most_common(1)[0][0]
        return (ko or en) if lang == "ko" else (en or ko)


@dataclass
class WarningTally:
    """One warning text and the students who got it."""

    code: str
    en: str
    ko: str
    students: list[str] = field(default_factory=list)


def tally_checks(graded: list[tuple[str, dict]]) -> list[CheckProblem]:
    """Checks that failed or warned, most students first (each student counted once)."""
    found: dict[tuple[str, str], CheckProblem] = {}
    for name, res in graded:
        for check in res.get("checks") or []:
            if not isinstance(check, dict) or check.get("status") not in PROBLEM_STATUSES:
                continue
            key = (str(check.get("id")), str(check["status"]))
            prob = found.setdefault(key, CheckProblem(*key))
            if name not in prob.students:
                prob.students.append(name)
                prob.messages[(str(check.get("message_en") or ""),
                               str(check.get("message_ko") or ""))] += 1
    return sorted(found.values(), key=lambda p: (-len(p.students),
                                                 PROBLEM_STATUSES.index(p.status), p.id))


def tally_warnings(graded: list[tuple[str, dict]]) -> list[WarningTally]:
    """Warnings by their English text, most students first.

    Warnings are ``{"code", "en", "ko"}`` objects (the schema) or plain strings. Those whose code
    starts with ``check:`` restate a check's result and are left to :func:`tally_checks`.
    """
    found: dict[str, WarningTally] = {}
    for name, res in graded:
        for w in res.get("warnings") or []:
            if isinstance(w, dict):
                code, en = str(w.get("code") or ""), str(w.get("en") or w.get("ko") or "")
                ko = str(w.get("ko") or en)
            else:
                code, en, ko = "", str(w), str(w)
            if not en or code.startswith(CHECK_WARNING_PREFIX):
                continue
            tally = found.setdefault(en, WarningTally(code, en, ko))
            if name not in tally.students:
                tally.students.append(name)
    return sorted(found.values(), key=lambda w: (-len(w.students), w.en))


def item_pass_rates(graded: list[tuple[str, dict]]) -> dict[str, dict[str, Any]]:
    """item id -> counts per status, ``n`` and the mean points, in rubric order."""
    results = [res for _, res in graded]
    out: dict[str, dict[str, Any]] = {
        iid: {**dict.fromkeys(ITEM_STATUSES, 0), "n": 0, "mean_score": None, "max_score": None}
        for iid in item_order(results)}
    points: dict[str, list[float]] = {iid: [] for iid in out}
    for res in results:
        for item in res.get("items") or []:
            if not isinstance(item, dict) or not item.get("id"):
                continue
            row = out[str(item["id"])]
            row["n"] += 1
            if item.get("status") in ITEM_STATUSES:
                row[item["status"]] += 1
            if (score := number(item.get("score"))) is not None:
                points[str(item["id"])].append(score)
            if row["max_score"] is None:
                row["max_score"] = number(item.get("max_score"))
    for iid, row in out.items():
        if points[iid]:
            row["mean_score"] = round(statistics.fmean(points[iid]), 4)
    return out


def score_histogram(scores: list[float], max_total: float | None,
                    bins: int = HIST_BINS) -> list[dict[str, float]]:
    """Counts of scores in ``bins`` equal ranges of ``[0, max_total]``.

    Each bin is ``{"lo", "hi", "count"}``, holding ``lo <= score < hi``; the last bin also holds
    ``max_total``, and scores outside the range are put in the nearest end bin.
    """
    if not scores or not max_total or max_total <= 0:
        return []
    width = max_total / bins
    counts = [0] * bins
    for s in scores:
        counts[min(bins - 1, max(0, int(s // width)))] += 1
    return [{"lo": round(i * width, 4), "hi": round((i + 1) * width, 4), "count": c}
            for i, c in enumerate(counts)]


def summarise(records: list[dict], results: dict[str, dict]) -> dict[str, Any]:
    """The ``summary`` object of ``cohort.json``.

    Scores statistics cover graded students only (a failed grading is not a score of 0 here,
    though ``grades.csv`` writes 0 for the gradebook); they are None when nobody was graded.
    """
    graded = graded_results(records, results)
    scores = [s for rec in records if is_graded(rec)
              and (s := record_score(rec, results)) is not None]
    max_total = cohort_max(records, results)
    n_graded = sum(1 for rec in records if is_graded(rec))
    checks = tally_checks(graded)

    def stat(fn: Any) -> float | None:
        return round(float(fn(scores)), 4) if scores else None

    return {
        "n": len(records), "graded": n_graded, "failed": len(records) - n_graded,
        "cached": sum(1 for rec in records if rec.get("cached") is True),
        "mean": stat(statistics.fmean), "median": stat(statistics.median),
        "min": stat(min), "max": stat(max), "max_total": max_total,
        "histogram": score_histogram(scores, max_total),
        "item_pass_rates": item_pass_rates(graded),
        "failed_checks": {p.id: len(p.students) for p in checks if p.status == "fail"},
        "warn_checks": {p.id: len(p.students) for p in checks if p.status == "warn"},
        "warnings": [[w.en, len(w.students)] for w in tally_warnings(graded)],
    }
