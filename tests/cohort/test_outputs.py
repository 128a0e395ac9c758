"""grades.csv, cohort.json and index.html of a cohort: values, languages, escaping, edge cases."""

from __future__ import annotations

import copy
import csv
import io
import json
from dataclasses import asdict, dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import pytest

from grader.cohort.dashboard import load_strings, render_dashboard, report_href
from grader.cohort.outputs import (
    COHORT_SCHEMA,
    CohortPaths,
    write_cohort_outputs,
    write_failure_report,
)
from grader.cohort.summary import score_histogram, summarise
from grader.report.result_json import validate_result

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "outputs" / "cohort_input.json"
OBRIEN = "o'brien & co #1"
ITEMS = ("recognizable", "training_progress", "improvement")


@pytest.fixture()
def cohort() -> dict:
    """Six students: all pass (cached), Fashion-MNIST leftover, accuracy bug, a failed
    grading, a Korean name, a name with ``' & #``; one code flag and one samples flag."""
    return copy.deepcopy(json.loads(FIXTURE.read_text(encoding="utf-8")))


def write(out: Path, c: dict, lang: str = "en") -> CohortPaths:
    return write_cohort_outputs(out, c["records"], c["results"], c["flags"], c["meta"], lang)


def read_csv(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"), newline="")))


class _Tags(HTMLParser):
    """Collects start tags with their attributes and the text."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def parse_html(text: str) -> _Tags:
    p = _Tags()
    p.feed(text)
    return p


def test_fixture_results_follow_the_schema(cohort):
    for res in cohort["results"].values():
        validate_result(res)


def test_csv_parses_back_with_the_right_values(tmp_path, cohort):
    paths = write(tmp_path, cohort)
    assert paths == CohortPaths(tmp_path / "grades.csv", tmp_path / "cohort.json",
                                tmp_path / "index.html")
    raw = paths.csv.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM: Excel then reads the Korean names right
    header = next(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert header == ["student", "status", "total", "max_total",
                      *[f"{i}_{k}" for i in ITEMS for k in ("score", "status")],
                      "review_needed", "pending", "overrides", "flags", "reason"]
    rows = {r["student"]: r for r in read_csv(paths.csv)}
    assert list(rows) == [r["student"] for r in cohort["records"]]  # roster order
    assert rows["alice"]["total"] == "30" and rows["alice"]["max_total"] == "30"
    assert rows["alice"]["recognizable_status"] == "pass"
    assert rows["alice"]["flags"] == "same samples as 김민수 (0.98)"
    assert rows["carol"]["total"] == "10" and rows["carol"]["recognizable_score"] == "5"
    assert rows["carol"]["training_progress_status"] == "needs_review"
    assert rows["carol"]["flags"] == f"similar code to {OBRIEN} (0.87)"
    assert rows["김민수"]["total"] == "20" and rows["김민수"]["improvement_status"] == "partial"
    assert rows["김민수"]["flags"] == "same samples as alice (0.98)"
    assert rows[OBRIEN]["total"] == "25"
    assert rows[OBRIEN]["flags"] == "similar code to carol (0.87)"
    assert rows["bob"]["flags"] == "" and rows["bob"]["reason"] == ""


def test_csv_failed_student_gets_zero_and_the_reason(tmp_path, cohort):
    dave = read_csv(write(tmp_path, cohort).csv)[3]
    assert dave["student"] == "dave" and dave["status"] == "failed"
    assert dave["total"] == "0" and dave["max_total"] == "30"
    assert all(dave[f"{i}_{k}"] == "" for i in ITEMS for k in ("score", "status"))
    assert "20-minute limit" in dave["reason"]


def test_csv_neutralises_formulas_in_untrusted_text(tmp_path, cohort):
    rec = copy.deepcopy(cohort["records"][3])
    rec.update(student="=HYPERLINK(\"http://x\")", reason="@SUM(A1)")
    paths = write_cohort_outputs(tmp_path, [rec], {}, [], {})
    row = read_csv(paths.csv)[0]
    assert row["student"] == "'=HYPERLINK(\"http://x\")" and row["reason"] == "'@SUM(A1)"


def test_json_summary_counts(tmp_path, cohort):
    obj = json.loads(write(tmp_path, cohort).json.read_text(encoding="utf-8"))
    assert obj["schema"] == COHORT_SCHEMA and obj["version"] == 1
    assert obj["meta"] == cohort["meta"]
    assert obj["students"] == cohort["records"] and obj["similarity"] == cohort["flags"]
    s = obj["summary"]
    # graded totals 30, 0, 10, 20, 25; dave failed and is left out of the statistics
    assert (s["n"], s["graded"], s["failed"], s["cached"]) == (6, 5, 1, 1)
    assert (s["mean"], s["median"], s["min"], s["max"]) == (17.0, 20.0, 0.0, 30.0)
    assert s["max_total"] == 30.0
    assert [b["count"] for b in s["histogram"]] == [1, 0, 0, 1, 0, 0, 1, 0, 1, 1]
    assert s["item_pass_rates"]["recognizable"] == {
        "pass": 3, "partial": 0, "fail": 1, "needs_review": 1, "n": 5, "mean_score": 7.0,
        "max_score": 10.0}
    assert list(s["item_pass_rates"]) == list(ITEMS)
    assert s["failed_checks"] == {"fashion_mnist_leftover": 1, "generator_output_shape": 1}
    assert s["warn_checks"] == {"accuracy_function": 2}
    # "check:" warnings restate checks and are counted there
    assert s["warnings"] == [
        ["Some rubric thresholds are provisional (not yet calibrated on baselines).", 5]]


def test_summary_matches_an_independent_count(cohort):
    recs, results = cohort["records"], cohort["results"]
    s = summarise(recs, results)
    graded = [r for r in recs if r["status"] == "graded"]
    for iid in ITEMS:
        statuses = [next(i["status"] for i in results[r["student"]]["items"] if i["id"] == iid)
                    for r in graded]
        for st in ("pass", "partial", "fail", "needs_review"):
            assert s["item_pass_rates"][iid][st] == statuses.count(st)
    assert sum(b["count"] for b in s["histogram"]) == len(graded)


def test_histogram_edges():
    bins = score_histogram([0.0, 2.99, 3.0, 30.0, 31.0, -1.0], 30.0)
    assert [b["count"] for b in bins] == [3, 1, 0, 0, 0, 0, 0, 0, 0, 2]
    assert bins[0]["lo"] == 0.0 and bins[-1]["hi"] == 30.0
    assert score_histogram([], 30.0) == [] and score_histogram([1.0], None) == []


def test_zero_students_still_writes_valid_files(tmp_path):
    paths = write_cohort_outputs(tmp_path / "out", [], {}, [], {})
    assert read_csv(paths.csv) == []
    header = paths.csv.read_text(encoding="utf-8-sig").strip()
    assert header == "student,status,total,max_total,review_needed,pending,overrides,flags,reason"
    obj = json.loads(paths.json.read_text(encoding="utf-8"))
    assert obj["summary"]["n"] == 0 and obj["summary"]["mean"] is None
    assert obj["summary"]["histogram"] == [] and obj["students"] == []
    html = paths.html.read_text(encoding="utf-8")
    assert load_strings()["en"]["no_students"] in html
    assert ("script", {}) in parse_html(html).tags


def test_only_failed_students(tmp_path, cohort):
    dave = cohort["records"][3]
    paths = write_cohort_outputs(tmp_path, [dave], {}, [], {"unknown": "key"})
    row = read_csv(paths.csv)[0]
    assert row["total"] == "0" and row["max_total"] == "" and row["status"] == "failed"
    s = json.loads(paths.json.read_text(encoding="utf-8"))["summary"]
    assert (s["graded"], s["failed"], s["mean"], s["item_pass_rates"]) == (0, 1, None, {})
    assert dave["reason"] in paths.html.read_text(encoding="utf-8")


def test_non_finite_numbers_become_null(tmp_path, cohort):
    cohort["records"][0]["seconds"] = float("nan")
    cohort["meta"]["wall_s"] = float("inf")
    obj = json.loads(write(tmp_path, cohort).json.read_text(encoding="utf-8"))
    assert obj["students"][0]["seconds"] is None and obj["meta"]["wall_s"] is None


def test_writes_are_atomic_and_leave_no_temp_files(tmp_path, cohort):
    (tmp_path / "index.html").write_text("old", encoding="utf-8")
    write(tmp_path, cohort)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cohort.json", "grades.csv",
                                                           "index.html"]
    assert (tmp_path / "index.html").read_text(encoding="utf-8") != "old"


def test_unsupported_language_writes_nothing(tmp_path, cohort):
    with pytest.raises(ValueError, match="unsupported language"):
        write(tmp_path / "out", cohort, lang="fr")
    assert not (tmp_path / "out").exists()


def test_dashboard_content(tmp_path, cohort):
    html = write(tmp_path, cohort).html.read_text(encoding="utf-8")
    doc = parse_html(html)
    rows = [a for tag, a in doc.tags if tag == "tr" and "student" in (a.get("class") or "")]
    assert len(rows) == 6 and "failed" in rows[3]["class"]
    links = [a["href"] for tag, a in doc.tags if tag == "a" and a.get("class") == "report-link"]
    assert links == ["alice/report.html", "bob/report.html", "carol/report.html",
                     "dave/report.html", "%EA%B9%80%EB%AF%BC%EC%88%98/report.html",
                     "o%27brien%20%26%20co%20%231/report.html"]
    text = " ".join(doc.text)
    assert "Grading took longer than the 20-minute limit" in text  # dave's reason
    assert "cached" in text and "2 of 5 students" in text and "accuracy_function" in text
    assert "discriminator_accuracy compares raw logits with 0.5" in text  # example message
    assert sum(1 for tag, _ in doc.tags if tag == "rect") == 10  # the histogram's bars
    assert sum(1 for tag, a in doc.tags if tag == "pre" and a.get("class") == "code-a") == 2
    assert "cell 7, lines 1-3" in text and "carol.py:40-42" in text
    for tag, a in doc.tags:  # self-contained: nothing is fetched
        assert tag not in ("link", "iframe") and not (tag in ("script", "img") and a.get("src"))


def test_dashboard_says_when_the_run_was_interrupted(tmp_path, cohort):
    banner = load_strings()["en"]["interrupted"]
    assert banner not in write(tmp_path, cohort).html.read_text(encoding="utf-8")
    cohort["meta"]["interrupted"] = True
    assert banner in write(tmp_path, cohort).html.read_text(encoding="utf-8")


def test_dashboard_escapes_untrusted_text(cohort):
    evil = "<script>alert(1)</script>"
    rec = dict(cohort["records"][0], student=evil, report=None)
    results = {evil: cohort["results"]["alice"]}
    flags = [dict(cohort["flags"][0], a=evil)]
    summary = summarise([rec], results)
    html = render_dashboard([rec], results, flags, {"mode": evil}, summary)
    assert evil not in html and 'alert("x")</script>' not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    assert sum(1 for tag, _ in parse_html(html).tags if tag == "script") == 1  # the sorter


def test_report_href_is_relative_and_encoded():
    assert report_href("alice/report.html") == "alice/report.html"
    assert report_href("javascript:alert(1)/report.html") == "javascript%3Aalert%281%29/report.html"
    assert report_href("a#1?x/report.html") == "a%231%3Fx/report.html"
    assert report_href("../etc/report.html") is None and report_href("/abs/report.html") is None
    assert report_href(None) is None and report_href("") is None


def test_korean_dashboard_and_csv(tmp_path, cohort):
    paths = write(tmp_path, cohort, lang="ko")
    html = paths.html.read_text(encoding="utf-8")
    ko = load_strings()["ko"]
    assert '<html lang="ko">' in html
    for key in ("dashboard_title", "students_heading", "distribution", "similarity"):
        assert ko[key] in html
    assert "5명 중 2명" in html  # accuracy_function warned for 2 of 5 students
    rows = {r["student"]: r for r in read_csv(paths.csv)}
    assert rows["carol"]["flags"] == f"{OBRIEN}와(과) 코드 유사 (0.87)"


def test_string_tables_have_the_same_keys():
    s = load_strings()
    assert set(s["en"]) == set(s["ko"])
    assert all(v.strip() for lang in ("en", "ko") for v in s[lang].values())


def test_failure_report(tmp_path):
    reason = "The grader ran out of memory (<4 GB>) while training your models."
    path = write_failure_report(tmp_path / "dave", "dave <b>", reason)
    assert path == tmp_path / "dave" / "report.html"
    html = path.read_text(encoding="utf-8")
    assert "ran out of memory (&lt;4 GB&gt;)" in html and "dave &lt;b&gt;" in html
    assert "<b>" not in html and "re-run" in html and "not a grade" in html
    ko = write_failure_report(tmp_path / "김민수", "김민수", "시간 초과", lang="ko")
    text = ko.read_text(encoding="utf-8")
    assert "김민수 학생" in text and "시간 초과" in text and '<html lang="ko">' in text


@dataclass
class _Flag:
    a: str
    b: str
    kind: str
    score: float
    threshold: float
    detail: str
    matches: list = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


def test_flag_objects_are_accepted(tmp_path, cohort):
    flags = [_Flag("alice", "bob", "checkpoint", 1.0, 0.99, "same checkpoint files")]
    paths = write_cohort_outputs(tmp_path, cohort["records"], cohort["results"], flags, {})
    obj = json.loads(paths.json.read_text(encoding="utf-8"))
    assert obj["similarity"][0]["kind"] == "checkpoint"
    assert read_csv(paths.csv)[1]["flags"] == "same checkpoint as alice (1.00)"
