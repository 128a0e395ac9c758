"""An instructor's overrides: read from CSV or TOML, applied to a grade, shown everywhere."""

from __future__ import annotations

import pytest

import tests.scoring.scoring_synth as synth
from grader.errors import UsageError
from grader.report.gradescope import gradescope_dict
from grader.scoring import load_rubric, score_submission
from grader.scoring.overrides import Override, apply_overrides, load_overrides


@pytest.fixture(scope="module")
def rubric():
    from grader.assignment import get_assignment

    return load_rubric(get_assignment().rubric)


def test_csv_and_toml_read_the_same(tmp_path):
    (tmp_path / "o.csv").write_text("student,item,points,comment\n김민수,1,7.5,\"좋음, 배 두 척\"\n",
                                    encoding="utf-8-sig")
    (tmp_path / "o.toml").write_text('[[override]]\nstudent = "김민수"\nitem = "1"\n'
                                     'points = 7.5\ncomment = "좋음, 배 두 척"\n', encoding="utf-8")
    want = [Override("김민수", "1", 7.5, "좋음, 배 두 척")]
    assert load_overrides(tmp_path / "o.csv") == want == load_overrides(tmp_path / "o.toml")


@pytest.mark.parametrize("text", ["student,points\nalice,3\n", "student,item,points\nalice,1,x\n",
                                  "student,item,points\n,1,3\n", "student,item,points\na,1,-1\n"])
def test_bad_files_say_what_is_wrong(tmp_path, text):
    (tmp_path / "o.csv").write_text(text, encoding="utf-8")
    with pytest.raises(UsageError):
        load_overrides(tmp_path / "o.csv")
    with pytest.raises(UsageError, match="cannot be read"):
        load_overrides(tmp_path / "missing.csv")


def test_an_override_sets_points_status_and_clears_review(rubric):
    ev, judged = synth.good_student()
    for v in ev.variants:  # nothing trains: every item waits for review
        v.error, v.error_kind = "a training step failed", "error"
        v.history.gen_loss = v.history.disc_loss = []
    grade = score_submission(ev, judged, rubric)
    assert grade.pending_points == 30 and grade.score == 0
    problems = apply_overrides(grade, [Override("someone_else", "1", 10),
                                       Override(ev.submission, "recognizable", 4, "ok"),
                                       Override(ev.submission, "3", 99),
                                       Override(ev.submission, "nope", 1)], ev.submission)
    items = {i.id: i for i in grade.items}
    rec, imp = items["recognizable"], items["improvement"]
    assert rec.score == 4 and rec.status == "partial" and rec.pending == 0
    assert rec.override == {"points": 4, "comment": "ok", "grader_status": "needs_review",
                            "grader_score": 0.0, "by": "instructor"}
    assert imp.score == imp.max_score and imp.status == "pass"  # capped, and said so
    assert any("capped" in p for p in problems) and any("'nope'" in p for p in problems)
    assert grade.score == 4 + imp.max_score
    assert grade.pending_points == items["training_progress"].pending == 10
    gs = gradescope_dict(grade, lang="en")
    test = next(t for t in gs["tests"] if t["extra_data"]["id"] == "recognizable")
    assert "Set by the instructor: 4 (ok)" in test["output"]


def test_a_notebook_is_named_with_or_without_its_suffix(rubric):
    ev, judged = synth.good_student()
    grade = score_submission(ev, judged, rubric)
    apply_overrides(grade, [Override("alice", "2", 3)], "alice.ipynb")
    assert grade.items[1].override and grade.items[1].score == 3
