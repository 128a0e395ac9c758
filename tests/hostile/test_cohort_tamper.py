"""Issue 17, attack 7: in a cohort no student can change another student's results."""

from __future__ import annotations

import csv
import json
import subprocess
import sys

from cohort.helpers import ROOT, make_cohort, mallory

from grader.cohort.commit import file_hashes, read_ledger


def _cohort(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "grader.cli", "cohort", *args],
                          capture_output=True, text=True, timeout=900, cwd=ROOT)


def test_a_student_cannot_rewrite_another_students_results(tmp_path):
    root = make_cohort(tmp_path / "in", ("empty",))
    out = tmp_path / "out"
    first = _cohort(str(root), "--out", str(out), "--steps", "2")
    assert first.returncode == 0, first.stderr[-3000:]
    victim_before = (out / "empty" / "result.json").read_bytes()
    mallory(root, out)  # knows where the instructor keeps the results
    second = _cohort(str(root), "--out", str(out), "--steps", "2")
    assert second.returncode == 0, second.stderr[-3000:]
    assert (out / "empty" / "result.json").read_bytes() == victim_before
    log = (out / "mallory" / "work" / "student" / "child.log")
    logs = log.read_text(errors="replace") if log.is_file() else ""
    logs += (out / "mallory" / "grade.log").read_text(errors="replace") \
        if (out / "mallory" / "grade.log").is_file() else ""
    assert "MALLORY wrote: nothing" in logs or "MALLORY" not in logs
    ledger = read_ledger(out)
    assert ledger["empty"]["hashes"] == file_hashes(out / "empty")
    summary = json.loads((out / "cohort.json").read_text(encoding="utf-8"))
    hashes = {s["student"]: s.get("hashes") for s in summary["students"]}
    assert hashes["empty"]["result.json"] == ledger["empty"]["hashes"]["result.json"]


def test_results_changed_after_commit_are_reported_and_regraded(tmp_path):
    root = make_cohort(tmp_path / "in", ("empty",))
    out = tmp_path / "out"
    assert _cohort(str(root), "--out", str(out), "--steps", "2").returncode == 0
    forged = json.loads((out / "empty" / "result.json").read_text(encoding="utf-8"))
    forged["score"] = 30
    (out / "empty" / "result.json").write_text(json.dumps(forged), encoding="utf-8")
    again = _cohort(str(root), "--out", str(out), "--steps", "2")
    assert again.returncode == 0, again.stderr[-3000:]
    assert "changed after grading" in again.stdout and "result.json" in again.stdout
    assert "1 graded now, 0 cached" in again.stdout  # the forged result was not kept
    with open(out / "grades.csv", encoding="utf-8-sig", newline="") as fh:
        row = next(csv.DictReader(fh))
    assert float(row["total"]) != 30
