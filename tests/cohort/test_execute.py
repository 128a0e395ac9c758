"""The per-student process boundary: limits and failures come back as words, not exceptions."""

from __future__ import annotations

from pathlib import Path

from grader.cohort.execute import GradeJob, _failure_reason, collect_files, run_job

ROOT = Path(__file__).resolve().parents[2]
BOB = str(ROOT / "submissions" / "bob")


def test_time_limit_stops_the_grading(tmp_path):
    out = run_job(GradeJob("bob", BOB, ["--steps", "2"], timeout_s=1.5), tmp_path / "o",
                  poll_s=0.2)
    assert out.status == "failed"
    assert "longer than" in out.reason
    assert out.seconds < 30


def test_memory_limit_stops_the_grading(tmp_path):
    out = run_job(GradeJob("bob", BOB, ["--steps", "2"], memory_mb=40), tmp_path / "o",
                  poll_s=0.1)
    assert out.status == "failed"
    assert "memory" in out.reason
    assert out.peak_mb > 40


def test_grader_error_is_reported_in_words(tmp_path):
    out = run_job(GradeJob("zoe", str(tmp_path / "missing"), []), tmp_path / "o")
    assert out.status == "failed"
    assert "does not exist" in out.reason
    assert out.exit_code == 2


def test_failure_reason_for_a_crash():
    assert "SIGSEGV" in _failure_reason(-11, "")
    assert "exit code 1" in _failure_reason(1, "Traceback ...")


def test_collect_files_keeps_only_the_outputs(tmp_path):
    (tmp_path / "work" / "trusted").mkdir(parents=True)
    (tmp_path / "report.html").write_text("r")
    (tmp_path / "work" / "trusted" / "real_images.npy").write_bytes(b"0" * 100)
    assert set(collect_files(tmp_path)) == {"report.html"}
