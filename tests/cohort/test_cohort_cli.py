"""``grade cohort`` end to end with the real CLI: outputs, cache, kill and resume, failures."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .helpers import ROOT, make_cohort

STEPS = "3"


def cohort(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "grader.cli", "cohort", *args],
                          capture_output=True, text=True, timeout=timeout, cwd=ROOT)


def entries(out: Path) -> dict[str, dict]:
    found = {}
    for p in out.glob("*/cohort-entry.json"):
        found[p.parent.name] = json.loads(p.read_text(encoding="utf-8"))
    return found


@pytest.fixture(scope="module")
def local_run(tmp_path_factory):
    """One local cohort run of four students (two workers), shared by the tests below."""
    base = tmp_path_factory.mktemp("cohort")
    root = make_cohort(base / "in", ("bob", "sol", "empty", "garbage"))
    out = base / "out"
    proc = cohort(str(root), "--out", str(out), "--steps", STEPS, "--workers", "2")
    return {"root": root, "out": out, "proc": proc}


def test_every_student_gets_a_report_and_the_cohort_files(local_run):
    proc, out = local_run["proc"], local_run["out"]
    assert proc.returncode == 0, proc.stderr[-3000:]
    found = entries(out)
    assert set(found) == {"bob", "sol", "empty", "garbage"}
    for name, entry in found.items():
        assert (out / name / "report.html").is_file()
        assert entry["status"] == "graded", entry  # broken notebooks are graded, with failures
        assert (out / name / "result.json").is_file()
    assert not (out / "sol" / "work" / "trusted" / "real_images.npy").exists()
    with open(out / "grades.csv", encoding="utf-8-sig", newline="") as fh:
        rows = {r["student"]: r for r in csv.DictReader(fh)}
    assert set(rows) == set(found)
    assert float(rows["bob"]["total"]) == found["bob"]["score"]
    summary = json.loads((out / "cohort.json").read_text(encoding="utf-8"))
    assert {s["student"] for s in summary["students"]} == set(found)
    html = (out / "index.html").read_text(encoding="utf-8")
    for name in found:
        assert f"{name}/report.html" in html
    assert "graded" in proc.stderr and "ETA" in proc.stderr


def test_a_second_run_grades_nothing_and_changes_nothing(local_run):
    out = local_run["out"]
    before = {n: e["graded_at"] for n, e in entries(out).items()}
    proc = cohort(str(local_run["root"]), "--out", str(out), "--steps", STEPS)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "0 graded now, 4 cached" in proc.stdout
    assert {n: e["graded_at"] for n, e in entries(out).items()} == before


def test_rescore_rewrites_the_cohort_from_kept_evidence_and_keeps_the_ledger(local_run):
    root, out = local_run["root"], local_run["out"]
    before = {n: e["score"] for n, e in entries(out).items()}
    overrides = local_run["root"].parent / "overrides.csv"
    overrides.write_text("student,item,points,comment\nbob,2,2.5,\"curve read by hand\"\n",
                         encoding="utf-8")
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "grader.cli", "rescore", str(out), "--lang",
                           "ko", "--overrides", str(overrides)],
                          capture_output=True, text=True, timeout=300, cwd=ROOT)
    seconds = time.perf_counter() - t0
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "re-scored 4 student(s)" in proc.stdout, proc.stdout
    assert seconds < 60, seconds  # bench: ~10 s here; no student code runs, nothing trains
    after = {n: e["score"] for n, e in entries(out).items()}
    assert {n: s for n, s in after.items() if n != "bob"} == \
        {n: s for n, s in before.items() if n != "bob"}
    bob = json.loads((out / "bob" / "result.json").read_text(encoding="utf-8"))
    item2 = next(i for i in bob["items"] if i["number"] == 2)
    assert item2["score"] == 2.5 and item2["override"]["comment"] == "curve read by hand"
    assert "강사가 정한 점수" in (out / "bob" / "report.html").read_text(encoding="utf-8")
    with open(out / "grades.csv", encoding="utf-8-sig", newline="") as fh:
        rows = {r["student"]: r for r in csv.DictReader(fh)}
    assert rows["bob"]["overrides"] == "training_progress: 2.5 (curve read by hand)"
    assert float(rows["bob"]["total"]) == after["bob"]
    assert all("rescored_at" in e for e in entries(out).values())
    assert '<html lang="ko">' in (out / "index.html").read_text(encoding="utf-8")[:300]
    assert '<html lang="ko">' in (out / "sol" / "report.html").read_text(encoding="utf-8")[:300]
    graded_at = {n: e["graded_at"] for n, e in entries(out).items()}
    roster = local_run["root"].parent / "class.csv"
    roster.write_text("student,id,name,email\nbob,2026001,Bob Kim,bob@example.edu\n"
                      "zed,2026099,Zed Lee,zed@example.edu\n", encoding="utf-8")
    # English again: the evidence is current, so the language change re-scores (no training),
    # the ledger still trusts the re-scored files, and the instructor's override sticks
    again = cohort(str(root), "--out", str(out), "--steps", STEPS, "--roster", str(roster))
    assert again.returncode == 0 and "0 graded now, 4 cached (4 re-scored" in again.stdout, \
        again.stdout
    assert "tamper" not in (again.stdout + again.stderr).lower()
    assert {n: e["graded_at"] for n, e in entries(out).items()} == graded_at
    assert '<html lang="en">' in (out / "bob" / "report.html").read_text(encoding="utf-8")[:300]
    bob = json.loads((out / "bob" / "result.json").read_text(encoding="utf-8"))
    assert next(i for i in bob["items"] if i["number"] == 2)["override"]["points"] == 2.5
    with open(out / "grades.csv", encoding="utf-8-sig", newline="") as fh:
        rows = {r["student"]: r for r in csv.DictReader(fh)}
    assert rows["bob"]["student_id"] == "2026001" and rows["bob"]["email"] == "bob@example.edu"
    assert rows["zed"]["status"] == "missing" and rows["zed"]["total"] == "0"
    assert rows["sol"]["student_id"] == ""
    third = cohort(str(root), "--out", str(out), "--steps", STEPS)  # nothing left to do
    assert "0 graded now, 4 cached, " in third.stdout, third.stdout
    with open(out / "grades.csv", encoding="utf-8-sig", newline="") as fh:
        assert "zed" in {r["student"] for r in csv.DictReader(fh)}  # the roster is kept


def test_changed_only_and_force(local_run):
    root, out = local_run["root"], local_run["out"]
    before = {n: e["graded_at"] for n, e in entries(out).items()}
    time.sleep(1.1)
    (root / "empty.ipynb").write_text('{"cells": [{"cell_type": "markdown", "metadata": {}, '
                                      '"source": "# 과제"}], "metadata": {}, "nbformat": 4, '
                                      '"nbformat_minor": 5}', encoding="utf-8")
    proc = cohort(str(root), "--out", str(out), "--steps", STEPS, "--only", "empty,bob")
    assert proc.returncode == 0, proc.stderr[-3000:]
    after = {n: e["graded_at"] for n, e in entries(out).items()}
    assert after["empty"] != before["empty"]
    assert after["bob"] == before["bob"] and after["sol"] == before["sol"]
    proc = cohort(str(root), "--out", str(out), "--steps", STEPS, "--only", "bob", "--force")
    assert proc.returncode == 0
    assert entries(out)["bob"]["graded_at"] != before["bob"]
    bad = cohort(str(root), "--out", str(out), "--only", "zoe")
    assert bad.returncode == 2 and "zoe" in bad.stderr


def _grading_children(marker: str) -> list[int]:
    pids = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                cmd = (d / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if "grader.cohort.worker" in cmd and marker in cmd:
                pids.append(int(d.name))
    return pids


def test_killed_halfway_resumes_with_only_the_unfinished(tmp_path):
    root = make_cohort(tmp_path / "in", ("bob", "empty", "sol"))
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "grader.cli", "cohort", str(root), "--out",
                             str(out), "--steps", STEPS, "--workers", "1"], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    while time.time() < deadline and not (out / "bob" / "cohort-entry.json").exists():
        time.sleep(0.2)
    assert (out / "bob" / "cohort-entry.json").exists()
    first = entries(out)["bob"]["graded_at"]
    os.kill(proc.pid, signal.SIGKILL)  # the hard way: no clean-up code runs
    proc.wait()
    time.sleep(1.0)
    assert _grading_children(str(root)) == []  # its grading processes died with it
    done_before = set(entries(out))
    assert "sol" not in done_before
    again = cohort(str(root), "--out", str(out), "--steps", STEPS)
    assert again.returncode == 0, again.stderr[-3000:]
    found = entries(out)
    assert set(found) == {"bob", "empty", "sol"}
    assert found["bob"]["graded_at"] == first
    n_cached = len(done_before)
    assert f"{3 - n_cached} graded now, {n_cached} cached" in again.stdout


def test_a_failing_grade_does_not_stop_the_cohort(tmp_path):
    root = make_cohort(tmp_path / "in", ("empty", "sol"))
    out = tmp_path / "out"
    # 500 steps take minutes here; a notebook without code is graded in about 10 s
    proc = cohort(str(root), "--out", str(out), "--steps", "500", "--timeout", "30")
    assert proc.returncode == 0, proc.stderr[-3000:]
    found = entries(out)
    assert found["empty"]["status"] == "graded"
    assert found["sol"]["status"] == "failed"
    assert "longer than" in found["sol"]["reason"]
    assert "longer than" in (out / "sol" / "report.html").read_text(encoding="utf-8")
    with open(out / "grades.csv", encoding="utf-8-sig", newline="") as fh:
        rows = {r["student"]: r for r in csv.DictReader(fh)}
    assert rows["sol"]["status"] == "failed"


def test_two_runs_cannot_write_one_folder(tmp_path):
    import fcntl

    root = make_cohort(tmp_path / "in", ("empty",))
    out = tmp_path / "out"
    (out / ".cohort").mkdir(parents=True)
    with open(out / ".cohort" / "lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        proc = cohort(str(root), "--out", str(out))
    assert proc.returncode == 2
    assert "Another" in proc.stderr


def test_gradescope_files_are_written_while_the_cohort_is_locked(tmp_path):
    """Gradescope's results.json goes into the students' folders before the lock is let go:
    no second ``grade cohort`` can write there in between."""
    import argparse

    from grader.cohort.commit import cohort_lock
    from grader.cohort.runner import run_cohort
    from grader.errors import UsageError
    from grader.verbs.grade_cohort import add_arguments, gradescope_for_cohort, options_from_args

    root = make_cohort(tmp_path / "in", ("empty",))
    out = tmp_path / "out"
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args = parser.parse_args([str(root), "--out", str(out), "--gradescope"])
    seen: list[bool] = []

    def then(run) -> None:
        try:
            with cohort_lock(out):
                seen.append(False)
        except UsageError:
            seen.append(True)  # still held by this run
        gradescope_for_cohort(args, run.records)

    run_cohort(options_from_args(args), None, then=then)
    assert seen == [True]
    assert (out / "empty" / "results.json").is_file()
