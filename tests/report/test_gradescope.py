"""Gradescope results.json follows the autograder specification's fields."""

from __future__ import annotations

import json
from html import unescape

import pytest
import scoring_synth as synth
from markdown_it import MarkdownIt

from grader.report.gradescope import OUTPUT_FORMATS, VISIBILITIES, write_gradescope
from grader.scoring import load_rubric, score_submission
from grader.text import plain

# Fields and types of https://gradescope-autograders.readthedocs.io/en/latest/specs/
TOP = {"score": (int, float), "execution_time": (int, float), "output": str,
       "output_format": str, "test_output_format": str, "visibility": str,
       "stdout_visibility": str, "extra_data": dict, "tests": list, "leaderboard": list}
TEST = {"score": (int, float), "max_score": (int, float), "name": str, "number": str,
        "output": str, "output_format": str, "tags": list, "visibility": str,
        "status": str, "extra_data": dict}


@pytest.mark.parametrize("lang", ["en", "ko", "both"])
def test_results_follow_the_spec(tmp_path, lang):
    ev, judged = synth.accuracy_bug_smoothing_one_frame()
    grade = score_submission(ev, judged, load_rubric())
    path = tmp_path / "results" / "results.json"
    write_gradescope(grade, path, lang=lang, execution_time=123.4)
    obj = json.loads(path.read_text(encoding="utf-8"))
    assert set(obj) <= set(TOP)
    for key, typ in TOP.items():
        if key in obj:
            assert isinstance(obj[key], typ), key
    assert obj["visibility"] in VISIBILITIES and obj["stdout_visibility"] in VISIBILITIES
    assert obj["output_format"] in OUTPUT_FORMATS and obj["execution_time"] == 123
    assert obj["score"] == pytest.approx(sum(t["score"] for t in obj["tests"]))
    assert len(obj["tests"]) == len(grade.items)
    for t, item in zip(obj["tests"], grade.items, strict=True):
        assert set(t) <= set(TEST)
        for key, typ in TEST.items():
            if key in t:
                assert isinstance(t[key], typ), key
        assert 0 <= t["score"] <= t["max_score"] == item.max_score
        assert t["status"] in ("passed", "failed") and t["visibility"] in VISIBILITIES
        assert t["output_format"] in OUTPUT_FORMATS and t["name"].startswith(f"{item.number}.")
    prog = obj["tests"][1]
    assert prog["status"] == "failed"  # partial credit is not a pass
    if lang in ("ko", "both"):
        assert "부분 통과" in prog["output"]
    if lang in ("en", "both"):
        assert "only 1 frame" in prog["output"]


def test_needs_review_flags_review_and_bad_options():
    ev, judged = synth.hostile_final_timeout()
    grade = score_submission(ev, judged, load_rubric())
    from grader.report.gradescope import gradescope_dict

    ev.warnings.append(plain("A file named <img src=x onerror=alert(1)>.gif was skipped."))
    grade = score_submission(ev, judged, load_rubric())
    obj = gradescope_dict(grade, lang="en", visibility="after_published")
    assert "\\<img src=x" in obj["output"] and "&lt;" not in obj["output"]
    html = MarkdownIt("commonmark").render(obj["output"])
    assert "<img" not in html and "&lt;img src=x onerror=alert(1)&gt;.gif" in html
    imp = obj["tests"][1]
    assert "instructor's review" in imp["output"] and obj["extra_data"]["review_needed"]
    assert imp["visibility"] == "after_published"
    with pytest.raises(ValueError):
        gradescope_dict(grade, visibility="public")
    with pytest.raises(ValueError):
        gradescope_dict(grade, lang="fr")


def test_markdown_shows_quoted_text_as_written():
    """Quoted text renders as typed: no tag, no entity, no Markdown (issue 19)."""
    from grader.report.gradescope import _md_safe

    md = MarkdownIt("commonmark")
    for text in ["x < 1 and <script>alert(1)</script>", "a_b *c* [l](http://e) `code`",
                 "1. not a list", "AT&T &lt; $$x$$", "back\\slash", "line\n# heading"]:
        html = md.render(f"- {_md_safe(text)}")
        assert "<script" not in html and "<a " not in html and "<em>" not in html
        assert "<code>" not in html and "<h1>" not in html and "<ol>" not in html
        shown = html.replace("<ul>", "").replace("</ul>", "").replace("<li>", "")
        shown = shown.replace("</li>", "").strip()
        assert unescape(shown) == " ".join(text.split())


@pytest.mark.parametrize("lang", ["en", "ko", "both"])
def test_language_and_visibility_are_recorded(lang):
    ev, judged = synth.accuracy_bug_smoothing_one_frame()
    grade = score_submission(ev, judged, load_rubric())
    from grader.report.gradescope import gradescope_dict

    obj = gradescope_dict(grade, lang=lang, visibility="after_due_date")
    assert obj["extra_data"]["lang"] == lang and obj["visibility"] == "after_due_date"
    hangul = any("\uac00" <= ch <= "\ud7a3" for ch in obj["output"])
    assert hangul == (lang != "en")
    assert ("Score:" in obj["output"]) == (lang != "ko")


def test_failure_results_score_zero_with_the_reason():
    from grader.report.gradescope import failure_dict

    obj = failure_dict("timed out after 1800 s", lang="ko", visibility="hidden")
    assert obj["score"] == 0 and obj["tests"] == [] and obj["visibility"] == "hidden"
    assert "채점하지 못해" in obj["output"] and "timed out after 1800 s" in obj["output"]
    assert set(obj) <= set(TOP)
    with pytest.raises(ValueError):
        failure_dict("x", lang="fr")
