"""Student errors reach students as one plain line (with their line); tracebacks go to a detail."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import sandbox_fixtures as fixtures

from grader.assignment import get_assignment
from grader.sandbox.launch import ChildOutcome
from grader.sandbox.plan import checks_from_outcome
from grader.sandbox.student.discover import Built
from grader.sandbox.student.explain import StudentError, explain_error, location, register_source
from grader.sandbox.student.namespace import StudentCode, StudentTimeout, time_limit

TRACEBACK_MARKS = ('File "', "Traceback", "site-packages", "in user code", "\n",
                   "Arguments received", "\x1b")


def _assert_one_plain_line(text: str) -> None:
    for mark in TRACEBACK_MARKS:
        assert mark not in text, (mark, text)
    assert len(text) < 600


def _load(*units: dict) -> StudentCode:
    code = StudentCode()
    code.run_units(list(units), 30)
    return code


def test_a_loss_raising_inside_a_tf_function_step_names_the_students_line():
    tf = pytest.importorskip("tensorflow")
    code = _load({"origin": "errors_a.ipynb cell 1", "line": 1, "source": fixtures.IMPORTS},
                 {"origin": "errors_a.ipynb cell 9", "line": 3, "source": (
                     "def generator_loss(fake_output):\n"
                     "    labels = tf.ones([3, 1])\n"
                     "    return tf.reduce_mean(labels - fake_output)\n")})
    loss = code.ns["generator_loss"]

    @tf.function
    def train_step(fake):  # as the grader's reference loop calls a student's loss
        return loss(fake)

    with pytest.raises(ValueError) as info:
        train_step(tf.zeros([16, 1]))
    assert "in user code" in str(info.value)  # what used to reach the report
    err = explain_error(info.value)
    _assert_one_plain_line(err.text)
    assert err.text.startswith("ValueError: ")
    assert "errors_a.ipynb cell 9, line 5: `return tf.reduce_mean(labels - fake_output)`" \
        in err.text
    assert "Traceback (most recent call last)" in err.detail
    assert "return tf.reduce_mean(labels - fake_output)" in err.detail


def test_keras_errors_lose_colour_codes_and_the_argument_dump():
    pytest.importorskip("tensorflow")
    code = _load({"origin": "errors_b.py line 1", "source": fixtures.IMPORTS},
                 {"origin": "errors_b.py line 20", "source": (
                     "def make_generator_model():\n"
                     "    return tf.keras.Sequential([layers.Input(shape=(100,)),\n"
                     "                                layers.Dense(128),\n"
                     "                                layers.Reshape((4, 4, 9))])\n")})
    with pytest.raises(ValueError) as info:
        code.ns["make_generator_model"]()
    err = explain_error(info.value)
    _assert_one_plain_line(err.text)
    assert "The total size of the tensor must be unchanged" in err.text
    assert "Exception encountered" not in err.text
    assert "(errors_b.py line 21: `return tf.keras.Sequential(" in err.text
    assert "Arguments received" in err.detail


def test_a_timeout_says_where_the_code_was_stopped():
    code = _load({"origin": "errors_c.py line 90", "source": (
        "def make_generator_model():\n"
        "    while True:\n"
        "        pass\n")})
    with pytest.raises(StudentTimeout) as info, time_limit(0.2):
        code.ns["make_generator_model"]()
    err = explain_error(info.value)
    assert err.kind == "Timeout" and "longer than" in err.message
    assert err.where.startswith(("errors_c.py line 91", "errors_c.py line 92"))


def test_failing_cells_give_the_cell_line_and_keep_the_traceback():
    code = _load({"origin": "errors_d.ipynb cell 4", "line": 3, "source": "y = 1\nz = y + nope\n"},
                 {"origin": "errors_d.ipynb cell 5", "line": 1, "source": "def f(:\n    pass\n"})
    name_error, syntax_error = code.failures()
    assert name_error.error_type == "NameError"
    assert name_error.message == ("name 'nope' is not defined "
                                  "(errors_d.ipynb cell 4, line 4: `z = y + nope`)")
    assert "Traceback" in name_error.detail
    assert syntax_error.error_type == "SyntaxError"
    assert "(errors_d.ipynb cell 5, line 1: `def f(:`)" in syntax_error.message


def test_a_hostile_message_is_cut_to_one_clean_line_and_korean_is_kept():
    code = _load({"origin": "errors_e.py line 1", "source": (
        "def boom():\n"
        "    raise RuntimeError('생성자 오류\\x1b[31m\\x00\\r\\n' + 'x' * 3_000_000)\n")})
    with pytest.raises(RuntimeError) as info:
        code.ns["boom"]()
    err = explain_error(info.value)
    _assert_one_plain_line(err.text)
    assert err.message.startswith("생성자 오류 xxx") and "\x00" not in err.message
    assert len(err.detail) <= 20_100


def test_only_the_submissions_own_files_count_as_its_code(tmp_path):
    import grader
    from grader.sandbox.student import explain

    repo = Path(grader.__file__).resolve().parents[1]
    try:
        explain.set_student_roots([str(repo)])  # a .py graded from the project's own folder
        assert explain.is_student_file(str(repo / "helper.py"))
        assert not explain.is_student_file(str(repo / "grader" / "sandbox" / "student" / "process.py"))
        assert not explain.is_student_file(np.__file__)
    finally:
        explain.set_student_roots([])


def test_the_parent_cleans_and_caps_what_the_child_wrote():
    evil = "\u202eline1\n" + "\x1b[2J" + "트레이스백 " * 200_000
    result = {"checks": [{"id": "trainable_step", "status": "fail",
                          "message": {"en": evil, "ko": evil}, "details": {"error_detail": evil * 2,
                                                          "nested": [[[{"x": evil}]]]}}],
              "phase_errors": {"check": evil}, "phase_error_details": {"check": evil}}
    outcome = ChildOutcome(status="ok", exit_code=0, result=result, log_tail="",
                           isolation="subprocess", wall_s=1.0)
    sandbox, step = checks_from_outcome(outcome)
    for check in (sandbox, step):
        for text in (check.message.en, check.message.ko):
            assert len(text) <= 1_000 and "\n" not in text and "\u202e" not in text
            assert "\x1b" not in text and "트레이스백" in text
        assert len(check.details["error_detail"]) <= 20_000
    assert sandbox.message.en.startswith("The grader could not finish checking your models: ")
    assert "\n" in step.details["error_detail"]  # a traceback keeps its lines


def test_the_parent_keeps_a_variants_traceback_apart_from_its_error():
    from grader.sandbox.plan import parse_variant as _variant

    run = _variant({"name": "final", "error": "a training step failed:\nValueError: x\x00",
                    "error_detail": "Traceback (most recent call last):\n  File ...\n" * 5000,
                    "history": {"loop_note": "note\n" * 10_000, "loop_note_detail": "tb"}})
    assert run.error == "a training step failed: ValueError: x"
    assert run.error_detail.startswith("Traceback") and len(run.error_detail) <= 20_000
    assert "\n" not in run.history.loop_note and run.history.loop_note_detail == "tb"


def test_a_later_version_that_raises_is_reported_not_silently_dropped():
    from grader.sandbox.checks import CheckContext
    from grader.sandbox.checks.models import generator_builds

    def builds_check(role: str, chosen: Built, candidates: list[Built]) -> dict:
        ctx = CheckContext(ns={}, facts=get_assignment().facts(), seconds=10, seed=0,
                           generator=chosen, generator_candidates=candidates)
        out = generator_builds(ctx)
        out["message_en"] = out["message"]["en"]
        return out

    register_source("errors_f.py line 91", 91, "def make_generator_model():\n    while True:\n")
    err = StudentError("Timeout", "took longer than 60 s", location("errors_f.py line 91", 92),
                       "Traceback (most recent call last): ...")
    first = Built("generator", "make_generator_model", 3, "errors_f.py line 42", "standard name",
                  model=object())
    broken = Built("generator", "make_generator_model", 9, "errors_f.py line 91",
                   "standard name", error=err.text, error_detail=err.detail)
    check = builds_check("generator", first, [first, broken])
    assert check["status"] == "warn"
    assert check["message_en"] == (
        "Your later version make_generator_model (errors_f.py line 91) did not build a model: "
        "Timeout: took longer than 60 s (errors_f.py line 92: `while True:`). The grader used "
        "the earlier make_generator_model (errors_f.py line 42) instead.")
    assert check["details"]["error_detail"] == err.detail
    assert builds_check("generator", first, [first])["status"] == "pass"


BROKEN_STEP = """\
@tf.function
def train_step(images):
    flat = tf.reshape(images, [-1, 7])
    return flat
"""

BROKEN_LOSS = """\
def generator_loss(fake_output):
    return cross_entropy(tf.ones([3, 1]), fake_output)
"""


def test_training_errors_reach_the_variant_as_one_line_with_a_detail(tmp_path):
    pytest.importorskip("tensorflow")
    from grader.data import load_dataset
    from grader.sandbox.launch import run_child
    from grader.sandbox.limits import Limits
    from grader.sandbox.plan import make_plan, write_real_images
    from grader.sandbox.plan import parse_variant as _variant

    units = fixtures.good() + fixtures.units(BROKEN_STEP, BROKEN_LOSS)
    for i, unit in enumerate(units[-2:]):
        unit["origin"] = f"errors_g.ipynb cell {8 + i}"
    work = tmp_path / "work"
    write_real_images(work, load_dataset().x_train[:96], (32, 32, 3))
    plan = make_plan(units, [{"name": "train", "timeout_s": 200, "steps": 2, "batch_size": 16,
                              "sample_every": 2, "n_samples": 4}], assignment=get_assignment(), threads=2)
    out = run_child(plan, work, Limits(timeout_s=240, memory_mb=3072))
    assert out.status == "ok", out.log_tail[-2000:]
    baseline, final = (_variant(v) for v in out.result["variants"])
    assert baseline.error is None
    note = baseline.history.loop_note
    _assert_one_plain_line(note)
    assert "train_step(images) failed" in note
    assert "(errors_g.ipynb cell 8, line 3: `flat = tf.reshape(images, [-1, 7])`)" in note
    assert "Traceback" in baseline.history.loop_note_detail
    _assert_one_plain_line(final.error)
    assert final.error.startswith("a training step with your losses and optimizers failed: "
                                  "ValueError: ")
    assert final.error.endswith(
        "(errors_g.ipynb cell 9, line 2: `return cross_entropy(tf.ones([3, 1]), fake_output)`)")
    assert "Traceback (most recent call last)" in final.error_detail
    assert np.isfinite(baseline.history.gen_loss).all()


def test_running_out_of_memory_or_file_size_is_said_in_words():
    import errno

    err = explain_error(MemoryError())
    assert err.text == "MemoryError: the code asked for more memory than the grader allows"
    err = explain_error(OSError(errno.EFBIG, "File too large"))
    assert "grew beyond the size the grader allows" in err.text
    _assert_one_plain_line(err.text)


def test_a_builder_that_ran_out_of_time_is_not_waited_for_twice():
    from grader.sandbox.student.discover import build
    from grader.sandbox.student.namespace import Version

    calls = []

    def make_generator_model():
        calls.append(1)
        while True:
            pass

    version = Version("make_generator_model", make_generator_model, 0, "spin.py line 1")
    first = build("generator", version, "standard name", {}, 0.3, {})
    second = build("generator", version, "standard name", {}, 0.3, {})
    assert first.model is None and "took longer than 0.3 s" in first.error
    assert second.error == first.error and len(calls) == 1
