"""Gradescope output: ``results.json`` as the Gradescope autograder specification defines it.

Spec: https://gradescope-autograders.readthedocs.io/en/latest/specs/ (top level ``score``,
``execution_time``, ``output``, ``output_format``, ``visibility``, ``stdout_visibility``,
``extra_data``, ``tests[]``; each test ``name``, ``score``, ``max_score``, ``status``,
``output``, ``output_format``, ``visibility``, ``extra_data``). Written where Gradescope reads
it: ``/autograder/results/results.json``.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any, Literal

from grader.config import GRADESCOPE_VISIBILITIES
from grader.report.html import load_strings
from grader.report.result_json import write_text_atomic
from grader.scoring import Grade

VISIBILITIES = GRADESCOPE_VISIBILITIES
OUTPUT_FORMATS = ("text", "html", "simple_format", "md", "ansi")
Lang = Literal["en", "ko", "both"]


def gradescope_dict(grade: Grade, *, lang: Lang | str = "both", visibility: str = "visible",
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
    langs = _languages(lang, visibility)
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
                       "review_needed": grade.review_needed, "lang": lang,
                       "visibility": visibility},
    }
    if execution_time is not None and math.isfinite(execution_time):
        out["execution_time"] = max(0, round(execution_time))
    return out


def _languages(lang: str, visibility: str) -> tuple[str, ...]:
    """The output languages for ``lang`` (Korean first for ``both``), checking both settings.

    Raises:
        ValueError: unknown ``visibility`` or ``lang``.
    """
    if visibility not in VISIBILITIES:
        raise ValueError(f"visibility must be one of {VISIBILITIES}, got {visibility!r}")
    langs = {"en": ("en",), "ko": ("ko",), "both": ("ko", "en")}.get(lang)
    if langs is None:
        raise ValueError(f"lang must be 'en', 'ko' or 'both', got {lang!r}")
    return langs


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


#: characters that start Markdown, HTML or math in Gradescope's renderer (CommonMark escapes)
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~&$])")


def _md_safe(text: str) -> str:
    """Text that may quote the submission, shown as written: no HTML, links or Markdown.

    Markdown-special characters get a backslash (``<script>`` reads ``\\<script\\>`` and
    renders as typed, never as a tag or an entity), and line breaks become spaces, so a
    quoted line cannot open a heading, list or code block.
    """
    return _MD_SPECIAL.sub(r"\\\1", " ".join(text.split()))


#: what a student reads when no grade could be made (run_autograder says the same)
FAILURE_TEXT = {
    "en": "The autograder could not grade this submission, so it scores 0 for now. Please "
          "tell your instructor. Reason: {reason}",
    "ko": "자동 채점기가 이 제출물을 채점하지 못해 지금은 0점입니다. 강사에게 알려 주세요. "
          "이유: {reason}",
}


def failure_dict(reason: str, *, lang: Lang | str = "both",
                 visibility: str = "visible") -> dict[str, Any]:
    """``results.json`` for a submission that could not be graded: 0 points and why.

    Raises:
        ValueError: unknown ``visibility`` or ``lang``.
    """
    langs = _languages(lang, visibility)
    reason = " ".join(reason.split())
    return {"score": 0.0, "output": "\n\n".join(FAILURE_TEXT[c].format(reason=reason)
                                                 for c in langs),
            "output_format": "text", "visibility": visibility, "stdout_visibility": "hidden",
            "tests": [], "extra_data": {"autograder_error": reason, "lang": lang,
                                        "visibility": visibility}}


def write_failure(reason: str, path: str | Path, *, lang: Lang | str = "both",
                  visibility: str = "visible") -> dict[str, Any]:
    """Write :func:`failure_dict` as ``results.json`` atomically and return it."""
    obj = failure_dict(reason, lang=lang, visibility=visibility)
    write_text_atomic(Path(path), json.dumps(obj, ensure_ascii=False, indent=1))
    return obj


def write_gradescope(grade: Grade, path: str | Path = "/autograder/results/results.json", *,
                     lang: Lang | str = "both", visibility: str = "visible",
                     execution_time: float | None = None) -> dict[str, Any]:
    """Write Gradescope's ``results.json`` atomically and return the object written."""
    obj = gradescope_dict(grade, lang=lang, visibility=visibility, execution_time=execution_time)
    write_text_atomic(Path(path), json.dumps(obj, ensure_ascii=False, indent=1))
    return obj
