"""Tracebacks are kept for instructors (folded in the HTML, a field in result.json), never as reasons."""

from __future__ import annotations

import re

import pytest
import scoring_synth as synth

from grader.evidence import CheckResult
from grader.report.html import render_report
from grader.report.result_json import RunMeta, validate_result, write_result_json
from grader.scoring import load_rubric, score_submission
from grader.text import Msg

SHORT = ("a training step with your losses and optimizers failed: ValueError: Dimensions must "
         "be equal (dave.ipynb cell 9, line 2: `return cross_entropy(ones, fake)`)")
TRACEBACK = ('Traceback (most recent call last):\n  File "/sandbox/grader/sandbox/phase_train.py",'
             ' line 99, in _train_variant\n    res = train_gan(<script>)\nValueError: Dimensions')


@pytest.fixture()
def failed_final():
    ev, judged = synth.hostile_final_timeout()
    final = ev.variants[1]
    final.error, final.error_detail = SHORT, TRACEBACK
    ev.checks = [c for c in ev.checks if c.id != "trainable_step"]
    ev.checks.append(CheckResult("trainable_step", "fail",
                                 Msg("One training step failed: " + SHORT,
                                     "학습 한 스텝을 실행하지 못했습니다: " + SHORT),
                                 {"error_detail": TRACEBACK}))
    return ev, judged, score_submission(ev, judged, load_rubric())


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_the_report_folds_the_traceback_under_the_short_text(failed_final, lang):
    ev, judged, grade = failed_final
    html = render_report(grade, ev, judged, synth_images(), lang=lang,
                         meta=RunMeta(mode="quick"))
    folded = re.findall(r'<details class="detail"><summary>[^<]+</summary><pre>(.*?)</pre>',
                        html, re.S)
    assert len(folded) == 2  # under the check and under the variant
    assert all(f.startswith("Traceback (most recent call last):") for f in folded)
    assert "res = train_gan(&lt;script&gt;)" in folded[0]  # escaped
    outside = re.sub(r"<details.*?</details>", "", html, flags=re.S)
    assert "Traceback" not in outside and "phase_train.py" not in outside
    assert "dave.ipynb cell 9, line 2" in outside


def test_result_json_keeps_the_detail_in_its_own_field(failed_final, tmp_path):
    ev, _, grade = failed_final
    obj = write_result_json(grade, ev, RunMeta(mode="quick"), tmp_path / "result.json")
    validate_result(obj)
    final = obj["variants"][1]
    assert final["error"] == SHORT and final["error_detail"] == TRACEBACK
    step = next(c for c in obj["checks"] if c["id"] == "trainable_step")
    assert step["details"]["error_detail"] == TRACEBACK
    short_texts = [w["en"] for w in obj["warnings"]] + [r for i in obj["items"]
                                                        for r in i["reasons_en"]]
    assert any("dave.ipynb cell 9, line 2" in t for t in short_texts)
    assert not any("Traceback" in t for t in short_texts)


def synth_images():
    from grader.report.html import ReportImages

    return ReportImages()
