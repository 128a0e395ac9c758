"""result.json follows its JSON Schema for every kind of submission."""

from __future__ import annotations

import json
import math

import jsonschema
import pytest
import scoring_synth as synth

from grader.report.result_json import RunMeta, load_schema, validate_result, write_result_json
from grader.scoring import load_rubric, score_submission

SCENARIOS = [synth.good_student, synth.fashion_leftover, synth.accuracy_bug_smoothing_one_frame,
             synth.hostile_final_timeout]


def test_schema_is_valid_draft_2020_12():
    schema = load_schema()
    assert schema["$schema"].endswith("2020-12/schema")
    jsonschema.Draft202012Validator.check_schema(schema)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda f: f.__name__)
def test_written_result_validates(tmp_path, scenario):
    ev, judged = scenario()
    ev.timings["nan_stage"] = math.nan  # dropped, not written as NaN
    judged_final = judged.final_samples
    if judged_final:
        judged_final.fcd = math.inf
    grade = score_submission(ev, judged, load_rubric())
    meta = RunMeta.collect(mode="quick", seed=3, timing={"judge": 2.5})
    obj = write_result_json(grade, ev, meta, tmp_path / "result.json")
    text = (tmp_path / "result.json").read_text(encoding="utf-8")
    back = json.loads(text)  # strict JSON: no NaN/Infinity tokens
    assert "NaN" not in text and "Infinity" not in text
    validate_result(back)
    assert back == obj
    assert back["score"] == grade.score and back["mode"] == "quick" and back["seed"] == 3
    assert {"grader", "tensorflow", "python"} <= set(back["versions"])
    assert back["timing"]["judge"] == 2.5 and "nan_stage" not in back["timing"]
    assert [i["id"] for i in back["items"]] == ["recognizable", "training_progress", "improvement"]


def test_schema_rejects_bad_status(tmp_path):
    ev, judged = synth.good_student()
    obj = write_result_json(score_submission(ev, judged, load_rubric()), ev,
                            {"mode": "full", "seed": 0}, tmp_path / "r.json")
    obj["items"][0]["status"] = "excellent"
    with pytest.raises(jsonschema.ValidationError):
        validate_result(obj)
    del obj["items"][0]
    obj.pop("versions")
    with pytest.raises(jsonschema.ValidationError):
        validate_result(obj)
