"""Gradescope output: ``results.json`` as the Gradescope autograder specification defines it.

Spec: https://gradescope-autograders.readthedocs.io/en/latest/specs/ (top level ``score``,
``execution_time``, ``output``, ``output_format``, ``visibility``, ``stdout_visibility``,
``extra_data``, ``tests[]``; each test ``name``, ``score``, ``max_score``, ``status``,
``output``, ``output_format``, ``visibility``, ``extra_data``). Written where Gradescope reads
it: ``/autograder/results/results.json``.
"""

from __future__ import annotations

import html
import json
import math
from pathlib import Path
from typing import Any, Literal

from grader.report.html import load_strings
from grader.report.result_json import write_text_atomic
from grader.scoring import Grade

VISIBILITIES = ("hidden", "after_due_date", "after_published", "visible")
OUTPUT_FORMATS = ("text", "html", "simple_format", "md", "ansi")
Lang = Literal["en", "ko", "both"]


def gradescope_dict(grade: Grade, *, lang: Lang = "both", visibility: str = "visible",
                    execution_time: float | None = None) -> dict[str, Any]:
    """Build the Gradescope ``results.json`` object: one test per rubric item.

    Args:
        grade: the scored grade.
        lang: language of the outputs: ``en``, ``ko`` or ``both`` (Korean first).
        visibility: Gradescope visibility of the tests (``hidden``, ``after_due_date``,
            ``after_published``, ``visible``).
        execution_time: seconds the grading took, if known.

    Raises:
        ValueError: unknown ``visibility`` or ``lang``.
    """
    if visibility not in VISIBILITIES:
        raise ValueError(f"visibility must be one of {VISIBILITIES}, got {visibility!r}")
    langs = {"en": ("en",), "ko": ("ko",), "both": ("ko", "en")}.get(lang)
    if langs is None:
        raise ValueError(f"lang must be 'en', 'ko' or 'both', got {lang!r}")
    strings = load_strings()
    tests = [_test(item, langs, strings, visibility) for item in grade.items]
    summary = []
    for code in langs:
        t = strings[code]
        summary.append(f"**{t['score']}: {grade.score:g} / {grade.max_score:g}**")
        if grade.review_needed:
            summary.append(t["review_needed"])
        summary += [f"- {_md_safe(w.ko if code == 'ko' else w.en)}" for w in grade.warnings]
        summary.append("")
    out: dict[str, Any] = {
        "score": float(grade.score), "output": "\n".join(summary).strip(),
        "output_format": "md", "test_output_format": "md", "visibility": visibility,
        "stdout_visibility": "hidden", "tests": tests,
        "extra_data": {"rubric": grade.rubric_id, "rubric_version": grade.rubric_version,
                       "review_needed": grade.review_needed},
    }
    if execution_time is not None and math.isfinite(execution_time):
        out["execution_time"] = max(0, round(execution_time))
    return out


def _test(item: Any, langs: tuple[str, ...], strings: dict[str, dict[str, str]],
          visibility: str) -> dict[str, Any]:
    lines = []
    for code in langs:
        t = strings[code]
        title = item.title_ko if code == "ko" else item.title_en
        reasons = item.reasons_ko if code == "ko" else item.reasons_en
        lines.append(f"**{title}** — {t['status_' + item.status]}")
        lines += [f"- {_md_safe(r)}" for r in reasons]
        if item.status == "needs_review":
            lines.append(f"- {t['gs_needs_review']}")
        if item.override:
            note = item.override.get("comment") or ""
            lines.append(f"- {t['gs_override']}: {item.override['points']:g}"
                         + (f" ({_md_safe(note)})" if note else ""))
        lines.append("")
    name_lang = langs[0]
    return {
        "name": f"{item.number}. {item.title_ko if name_lang == 'ko' else item.title_en}",
        "number": str(item.number), "score": float(item.score),
        "max_score": float(item.max_score),
        "status": "passed" if item.status == "pass" else "failed",
        "output": "\n".join(lines).strip(), "output_format": "md", "visibility": visibility,
        "tags": [item.id, item.status],
        "extra_data": {"id": item.id, "status": item.status, "evidence": item.evidence},
    }


def _md_safe(text: str) -> str:
    """Neutralise HTML in text that may quote the submission (file and function names)."""
    return html.escape(text, quote=False)


def write_gradescope(grade: Grade, path: str | Path = "/autograder/results/results.json", *,
                     lang: Lang = "both", visibility: str = "visible",
                     execution_time: float | None = None) -> dict[str, Any]:
    """Write Gradescope's ``results.json`` atomically and return the object written."""
    obj = gradescope_dict(grade, lang=lang, visibility=visibility, execution_time=execution_time)
    write_text_atomic(Path(path), json.dumps(obj, ensure_ascii=False, indent=1))
    return obj
