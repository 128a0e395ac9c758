"""The class list (roster CSV) joined to grades.csv."""

from __future__ import annotations

import csv
import io

import pytest

from grader.cohort.class_list import from_meta, load_class_list, match, to_meta
from grader.cohort.outputs import grades_csv_text
from grader.errors import UsageError


def test_korean_headers_in_cp949_and_id_matching(tmp_path):
    path = tmp_path / "명단.csv"
    path.write_bytes("학번,이름,이메일\n2026001,김철수,kim@example.edu\n2026002,이영희,\n"
                     .encode("cp949"))
    members = load_class_list(path)
    assert [m.id for m in members] == ["2026001", "2026002"]
    paired, absent = match(members, ["2026001.ipynb", "someone"])
    assert paired["2026001.ipynb"].name == "김철수"
    assert [m.id for m in absent] == ["2026002"]
    assert from_meta({"roster": to_meta(members, path)}) == members


def test_a_roster_without_a_student_or_id_column_is_a_usage_error(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("name,email\nBob,bob@x\n", encoding="utf-8")
    with pytest.raises(UsageError, match="no student or id column"):
        load_class_list(path)
    with pytest.raises(UsageError):
        load_class_list(tmp_path / "missing.csv")


def test_grades_csv_gains_roster_columns_and_missing_rows(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("student,id,name,email\nbob,1,Bob,bob@x\n=evil,2,\"=HYPERLINK()\",\n",
                    encoding="utf-8")
    records = [{"student": "bob", "status": "failed", "reason": "timeout"}]
    text = grades_csv_text(records, {}, [], {}, load_class_list(path))
    rows = {r["student"]: r for r in csv.DictReader(io.StringIO(text))}
    assert rows["bob"]["student_id"] == "1" and rows["bob"]["email"] == "bob@x"
    evil = rows["'=evil"]  # formula cells are defused in roster rows too
    assert evil["status"] == "missing" and evil["name"].startswith("'=")
    assert list(rows["bob"])[:5] == ["student", "student_id", "name", "email", "status"]
