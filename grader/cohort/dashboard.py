"""The cohort dashboard (``index.html``) and the failure report: jinja2, autoescape, no network."""

from __future__ import annotations

import sys
from functools import cache
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from grader import __version__
from grader.cohort import summary as cstats

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

TEMPLATES = Path(__file__).resolve().parent / "templates"
LANGS = ("en", "ko")
#: each side of a matching part shows at most this much code (the page stays small)
MAX_MATCH_CHARS = 4_000
MAX_MATCHES = 8
#: inline SVG histogram geometry (px)
HIST_W, HIST_H, HIST_PAD = 600, 220, 28


@cache
def load_strings() -> dict[str, dict[str, str]]:
    """All dashboard strings, by language (``templates/strings.toml``)."""
    return tomllib.loads((TEMPLATES / "strings.toml").read_text(encoding="utf-8"))


def strings(lang: str) -> dict[str, str]:
    """The strings of ``lang``.

    Raises:
        ValueError: ``lang`` is not supported.
    """
    if lang not in LANGS:
        raise ValueError(f"unsupported language {lang!r}; choose one of {LANGS}")
    return load_strings()[lang]


@cache
def _environment() -> Environment:
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=True,
                      undefined=StrictUndefined)
    env.globals.update(fmt=fmt)
    return env


def fmt(x: Any) -> str:
    """A number as short text (``7.5``, ``10``); ``-`` when missing."""
    x = cstats.number(x)
    return "-" if x is None else f"{x:.4f}".rstrip("0").rstrip(".")


def report_href(path: Any) -> str | None:
    """A safe relative URL for a report path (``alice/report.html``), or None.

    Absolute paths and ``..`` are refused; every character outside ``/`` is percent-encoded, so
    a name holding ``#``, ``?`` or ``javascript:`` still points at the file.
    """
    if not path or not isinstance(path, str):
        return None
    p = PurePosixPath(path.replace("\\", "/"))
    if p.is_absolute() or ".." in p.parts:
        return None
    return quote(p.as_posix(), safe="/")


def flag_phrase(flag: dict[str, Any], student: str, t: dict[str, str]) -> str:
    """A flag as seen from ``student``: "similar code to bob (0.91)"."""
    other = str(flag.get("b") if str(flag.get("a")) == student else flag.get("a"))
    kind = str(flag.get("kind") or "")
    score = cstats.number(flag.get("score"))
    words = t.get(f"flag_{kind}", t["flag_other"])
    return words.format(other=other, kind=kind, score="-" if score is None else f"{score:.2f}")


def student_flags(flags: list[dict], student: str) -> list[tuple[int, dict]]:
    """(index, flag) of the flags naming ``student``, highest score first."""
    mine = [(i, f) for i, f in enumerate(flags) if student in (str(f.get("a")), str(f.get("b")))]
    return sorted(mine, key=lambda x: -(cstats.number(x[1].get("score")) or 0.0))


def render_dashboard(records: list[dict], results: dict[str, dict], flags: list[dict],
                     meta: dict[str, Any], summary: dict[str, Any], lang: str = "en") -> str:
    """Render ``index.html``: one self-contained page (inline CSS, JS and SVG).

    Args:
        records: one per student, in roster order (see ``write_cohort_outputs``).
        results: student -> parsed ``result.json`` of the graded students.
        flags: similarity flags as dicts.
        meta: run metadata; unknown or missing keys are tolerated.
        summary: the ``summary`` object of ``cohort.json``.
        lang: ``en`` or ``ko``.

    Returns:
        HTML text; every student-supplied string is escaped by jinja2 autoescape.

    Raises:
        ValueError: ``lang`` is not supported.
    """
    t = strings(lang)
    graded = cstats.graded_results(records, results)
    items = cstats.item_order([res for _, res in graded])
    titles = cstats.item_titles([res for _, res in graded])
    hrefs = {str(r.get("student")): report_href(r.get("report")) for r in records}
    ctx = {
        "lang": lang, "t": t, "summary": summary, "meta_rows": _meta_rows(meta, t),
        "interrupted": isinstance(meta, dict) and meta.get("interrupted") is True,
        "items": [{"id": i, "title": titles.get(i, {}).get(lang, i)} for i in items],
        "rows": [_row(n, rec, results, items, flags, hrefs, t) for n, rec in enumerate(records)],
        "histogram": _histogram_svg(summary.get("histogram") or []),
        "max_total": summary.get("max_total"),
        "rates": _rates(summary.get("item_pass_rates") or {}, titles, lang, t),
        "problems": [{"id": p.id, "status": p.status, "label": t.get(f"status_{p.status}",
                      p.status), "count": len(p.students), "example": p.example(lang),
                      "students": [(s, hrefs.get(s)) for s in p.students]}
                     for p in cstats.tally_checks(graded)],
        "warnings": [{"code": w.code, "text": w.ko if lang == "ko" else w.en,
                      "count": len(w.students), "students": [(s, hrefs.get(s))
                                                             for s in w.students]}
                     for w in cstats.tally_warnings(graded)],
        "flags": [_flag(i, f, hrefs, t) for i, f in enumerate(flags)],
        "grader_version": __version__,
    }
    return _environment().get_template("index.html.j2").render(**ctx)


def render_failure_report(student: str, reason: str, lang: str = "en") -> str:
    """Render the small report of a student whose grading died (crash, timeout, memory).

    Raises:
        ValueError: ``lang`` is not supported.
    """
    t = strings(lang)
    return _environment().get_template("failure.html.j2").render(
        lang=lang, t=t, student=student, reason=reason,
        lead=t["failure_lead"].format(student=student), grader_version=__version__)


def _meta_rows(meta: dict[str, Any], t: dict[str, str]) -> list[tuple[str, str]]:
    meta = meta if isinstance(meta, dict) else {}
    rubric = meta.get("rubric")
    rubric_text = (" ".join(str(rubric.get(k)) for k in ("id", "version") if rubric.get(k))
                   if isinstance(rubric, dict) else (str(rubric) if rubric else ""))
    wall = cstats.number(meta.get("wall_s"))
    rows = [("mode", meta.get("mode")), ("rubric", rubric_text),
            ("grader_version", meta.get("grader_version")), ("created", meta.get("created")),
            ("workers", meta.get("workers")), ("scheduler", meta.get("scheduler")),
            ("wall", None if wall is None else f"{wall:.1f}"), ("cached", meta.get("n_cached"))]
    return [(t[k], str(v)) for k, v in rows if v not in (None, "")]


def _row(order: int, rec: dict[str, Any], results: dict[str, dict], items: list[str],
         flags: list[dict], hrefs: dict[str, str | None], t: dict[str, str]) -> dict[str, Any]:
    name = str(rec.get("student"))
    graded = cstats.is_graded(rec)
    res = results.get(name) if graded else None
    by_id = {str(i.get("id")): i for i in (res or {}).get("items") or [] if isinstance(i, dict)}
    score, top = cstats.record_score(rec, results), cstats.record_max(rec, results)
    cells = []
    for iid in items:
        it = by_id.get(iid)
        st = str(it.get("status")) if it else ""
        cells.append({"status": st, "label": t.get(f"status_{st}", st),
                      "score": cstats.number(it.get("score")) if it else None,
                      "max": cstats.number(it.get("max_score")) if it else None})
    status = "graded" if graded else "failed"
    return {
        "order": order, "student": name, "href": hrefs.get(name), "status": status,
        "status_label": t[f"status_{status}"], "score": score if graded else None, "max": top,
        "pct": (100 * score / top) if graded and score is not None and top else None,
        "cells": cells, "cached": rec.get("cached") is True,
        "seconds": cstats.number(rec.get("seconds")),
        "reason": str(rec.get("reason") or "") if not graded else "",
        "flags": [{"index": i, "text": flag_phrase(f, name, t)}
                  for i, f in student_flags(flags, name)],
    }


def _histogram_svg(bins: list[dict[str, float]]) -> dict[str, Any]:
    """Bar geometry of the score histogram, drawn as inline SVG by the template."""
    if not bins:
        return {"bars": [], "width": HIST_W, "height": HIST_H}
    top = max(b["count"] for b in bins) or 1
    slot = (HIST_W - 2 * HIST_PAD) / len(bins)
    plot_h = HIST_H - 2 * HIST_PAD
    bars = []
    for i, b in enumerate(bins):
        h = plot_h * b["count"] / top
        x = HIST_PAD + i * slot
        bars.append({"x": round(x + 2, 1), "w": round(slot - 4, 1),
                     "y": round(HIST_PAD + plot_h - h, 1), "h": round(h, 1),
                     "cx": round(x + slot / 2, 1), "count": b["count"],
                     "label": f"{fmt(b['lo'])}-{fmt(b['hi'])}"})
    return {"bars": bars, "width": HIST_W, "height": HIST_H,
            "base": HIST_PAD + plot_h, "label_y": HIST_H - 8}


def _rates(rates: dict[str, dict[str, Any]], titles: dict[str, dict[str, str]], lang: str,
           t: dict[str, str]) -> list[dict[str, Any]]:
    out = []
    for iid, row in rates.items():
        n = row.get("n") or 0
        parts = [{"status": st, "label": t[f"status_{st}"], "count": row.get(st, 0),
                  "pct": round(100 * row.get(st, 0) / n, 2) if n else 0.0}
                 for st in cstats.ITEM_STATUSES]
        out.append({"id": iid, "title": titles.get(iid, {}).get(lang, iid), "n": n,
                    "parts": parts, "mean": row.get("mean_score"), "max": row.get("max_score")})
    return out


def _clip(text: Any) -> str:
    text = str(text or "")
    return text if len(text) <= MAX_MATCH_CHARS else text[:MAX_MATCH_CHARS] + "\n..."


def _flag(index: int, flag: dict[str, Any], hrefs: dict[str, str | None],
          t: dict[str, str]) -> dict[str, Any]:
    a, b, kind = str(flag.get("a")), str(flag.get("b")), str(flag.get("kind") or "")
    matches = [m for m in flag.get("matches") or [] if isinstance(m, dict)][:MAX_MATCHES]
    return {
        "index": index, "a": a, "b": b, "a_href": hrefs.get(a), "b_href": hrefs.get(b),
        "kind": kind, "kind_label": t.get(f"kind_{kind}", kind),
        "score": cstats.number(flag.get("score")),
        "threshold": cstats.number(flag.get("threshold")),
        "detail": str(flag.get("detail") or ""),
        "matches": [{"a_text": _clip(m.get("a_text")), "b_text": _clip(m.get("b_text")),
                     "a_where": str(m.get("a_where") or ""), "b_where": str(m.get("b_where") or "")}
                    for m in matches],
    }
