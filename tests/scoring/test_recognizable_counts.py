"""Item 1's count rule: pass on clear + named tiles, partial on tiles that hint at an object."""

from __future__ import annotations

import numpy as np
import pytest
import scoring_synth as synth

from grader.judge.results import JudgeResult
from grader.scoring import load_rubric, score_submission
from grader.scoring.recognizable import count_level


@pytest.fixture(scope="module")
def rubric():
    return load_rubric()


@pytest.mark.parametrize("clear,named,hinted,level", [
    (0, 0, 0, 0), (2, 4, 4, 2), (8, 12, 12, 2),
    (2, 3, 3, 1),  # two clear tiles, nothing else plausible: not "blobs with at most one clear"
    (1, 3, 3, 0),  # one clear tile and too few others: blobs
    (0, 4, 4, 1), (1, 2, 4, 1),  # hints count towards partial only
    (2, 3, 5, 1),  # enough clear, too few named: partial, never pass
    (0, 1, 3, 0),
    (0, 5, 0, 1),  # named tiles always hint (hinted below named is read as named)
])
def test_count_level(clear, named, hinted, level):
    assert count_level(clear, named, hinted, 2, 4) == level


def test_count_level_is_elementwise():
    got = count_level(np.array([0, 2, 1]), np.array([0, 4, 2]), np.array([1, 4, 4]), 2, 4)
    assert got.tolist() == [0, 2, 1]


def _item(rubric, ev, judged):
    return {i.id: i for i in score_submission(ev, judged, rubric).items}["recognizable"]


@pytest.mark.parametrize("clear,named,hinted,status", [
    (1, 2, 5, "partial"), (0, 1, 3, "fail"), (2, 3, 4, "partial"), (2, 4, 4, "pass"),
    (1, 3, None, "fail"),  # an older judge result without the count: named stands in
])
def test_hinted_count_decides_partial(rubric, clear, named, hinted, status):
    ev, judged = synth.good_student()
    r = synth.grid(clear, named)
    r.hinted_count = hinted
    judged.student_images = r
    rec = _item(rubric, ev, judged)
    assert rec.status == status, rec.reasons_en
    assert rec.numbers["hinted"] == (named if hinted is None else hinted)
    if status == "partial" and clear >= 2:  # not "too few clear"
        assert "without doubt" not in rec.reasons_en[-1]


def test_hinted_count_survives_the_json_round_trip():
    r = synth.grid(1, 2)
    r.hinted_count = 5
    assert JudgeResult.from_dict(r.to_dict()).hinted_count == 5
    raw = r.to_dict()
    del raw["hinted_count"]
    assert JudgeResult.from_dict(raw).hinted_count is None
