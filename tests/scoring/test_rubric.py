"""The rubric loads from the assignment, fits the registries, and bad rubrics fail in words."""

from __future__ import annotations

import copy
import sys
from pathlib import Path

import pytest

from grader.errors import UsageError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib
from grader.assignment import get_assignment
from grader.registry import RegistryError
from grader.rubric import default_rubric_path, parse_rubric
from grader.scoring import load_rubric, rubric_rules
from grader.scoring.items import ITEMS, register_item

ROOT = Path(__file__).resolve().parents[2]
CANONICAL = get_assignment().rubric


def test_one_copy_of_the_rubric_in_the_assignment():
    assert default_rubric_path() == CANONICAL
    copies = [p for p in ROOT.rglob("*.toml") if p.name.startswith("rubric")
              and ".venv" not in p.parts and "runs" not in p.parts]
    assert copies == [CANONICAL]


def test_item_registration_checks_names_and_types():
    with pytest.raises(RegistryError, match="already registered"):
        register_item("recognizable", lambda *a: None, thresholds=())
    with pytest.raises(RegistryError, match="must be callable"):
        register_item("newitem", 3, thresholds=())  # type: ignore[arg-type]
    with pytest.raises(RegistryError, match="not a threshold or part name"):
        register_item("newitem", lambda *a: None, thresholds=("Pass Fraction",))
    assert "newitem" not in ITEMS


def test_default_rubric_loads_three_items():
    r = load_rubric()
    assert [i.id for i in r.items] == ["recognizable", "training_progress", "improvement"]
    assert r.max_score == sum(i.points for i in r.items) > 0
    assert r.warnings == ()
    assert not r.calibrated  # provisional thresholds are marked
    prog = r.item("training_progress")
    assert [p.id for p in prog.parts] == ["gif", "fake_accuracy_trend"]
    assert "0.5" in prog.criterion_ko and "gif" in prog.criterion_ko
    for item in r.items:
        assert item.title_ko and item.criterion_en and item.gates
        assert item.level_fraction("full") == 1.0 and item.level_fraction("none") == 0.0
        for t in item.thresholds:
            assert t.source  # every number says where it comes from


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "r.toml"
    p.write_text(text, encoding="utf-8")
    return p


def _mutated(tmp_path: Path, old: str, new: str) -> Path:
    text = CANONICAL.read_text(encoding="utf-8")
    assert old in text, old
    return _write(tmp_path, text.replace(old, new, 1))


@pytest.mark.parametrize("old,new,words", [
    ("points = 10", "points = 0", "points must be greater than 0"),
    ("points = 10", "points = \"ten\"", "'points' must be a number"),
    ('id = "recognizable"', 'id = "beauty"', "no scorer exists"),
    ("pass_fraction = {", "pass_fractionX = {", "missing threshold(s) pass_fraction"),
    ('evidence = ["student_images", "checkpoint"]',
     'evidence = ["student_images", "rumours"]', "unknown evidence source"),
    ('{ name = "none", fraction = 0.0, en = "The images',
     '{ name = "nothing", fraction = 0.0, en = "The images', "levels must include none"),
    ("fraction = 0.5", "fraction = 1.5", "between 0 and 1"),
    ("weight = 0.5", "weight = 0.7", "weights must add up to 1"),
    ('compare_by = "classifier_score"', 'compare_by = "vibes"', "is not one of classifier_score"),
    ('title_ko = "CIFAR-10 이미지 생성하기"', "title_ko = 3", "'title_ko' must be a non-empty"),
])
def test_malformed_rubric_names_the_problem(tmp_path, old, new, words):
    with pytest.raises(UsageError) as err:
        load_rubric(_mutated(tmp_path, old, new))
    assert words in err.value.student
    assert "r.toml" in err.value.student


def test_retired_inconclusive_level_is_a_warning(tmp_path):
    rubric = load_rubric(_mutated(tmp_path, "seed = 0", 'inconclusive_level = "partial"\nseed = 0'))
    assert any("inconclusive_level" in w for w in rubric.warnings)


def _raw() -> dict:
    return tomllib.loads(CANONICAL.read_text(encoding="utf-8"))


def test_duplicate_item_ids():
    raw = _raw()
    raw["items"].append(copy.deepcopy(raw["items"][0]))
    with pytest.raises(UsageError, match="repeated: recognizable"):
        parse_rubric(raw, rules=rubric_rules())


def test_missing_scoring_table_and_keys():
    raw = _raw()
    del raw["scoring"]
    with pytest.raises(UsageError, match=r"missing table \[scoring\]"):
        parse_rubric(raw, rules=rubric_rules())
    raw = _raw()
    del raw["items"][2]["criterion_ko"]
    with pytest.raises(UsageError, match="item 'improvement': missing key 'criterion_ko'"):
        parse_rubric(raw, rules=rubric_rules())
    raw = _raw()
    raw["items"][1]["parts"] = raw["items"][1]["parts"][:1]
    with pytest.raises(UsageError, match="missing part"):
        parse_rubric(raw, rules=rubric_rules())
    raw = _raw()
    raw["scoring"]["thresholds"]["alpha"] = 0.05
    with pytest.raises(UsageError, match="inline table"):
        parse_rubric(raw, rules=rubric_rules())


def test_unknown_gate_is_a_warning(tmp_path):
    p = _mutated(tmp_path, 'gates = ["generator_builds", "generator_output_shape"]',
                 'gates = ["generator_builds", "generator_is_pretty"]')
    r = load_rubric(p)
    assert any("generator_is_pretty" in w for w in r.warnings)


def test_not_toml_and_missing_file(tmp_path):
    with pytest.raises(UsageError, match="not valid TOML"):
        load_rubric(_write(tmp_path, "points = = 3"))
    with pytest.raises(UsageError, match="does not exist"):
        load_rubric(tmp_path / "nope.toml")


def test_no_items(tmp_path):
    text = CANONICAL.read_text(encoding="utf-8").split("[[items]]")[0]
    with pytest.raises(UsageError, match="at least one"):
        load_rubric(_write(tmp_path, text))
