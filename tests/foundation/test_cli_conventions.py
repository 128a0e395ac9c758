"""CLI conventions shared by every verb: help, exit codes, grade.toml, plain progress, env."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest

from grader.cli import main
from grader.errors import EXIT_MEANINGS, ExitCode
from grader.verbs.progress import PlainProgress

ROOT = Path(__file__).resolve().parents[2]


def grade(*args: str, cwd: Path = ROOT, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "grader.cli", *args], capture_output=True,
                          text=True, timeout=300, cwd=cwd, env=env)


def test_help_lists_the_grading_options_and_exit_codes_without_tensorflow():
    code = ("import sys; from grader.cli import main; main(['--help']); "
            "print('TF-LOADED' if 'tensorflow' in sys.modules else 'TF-ABSENT')")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, cwd=ROOT)
    out = proc.stdout
    for option in ("--quick", "--full", "--overrides", "--lang", "--gradescope", "--isolation"):
        assert option in out
    for code_ in EXIT_MEANINGS:
        assert f"  {int(code_):<5}" in out
    assert "TF-ABSENT" in out


@pytest.mark.parametrize("verb", [[], ["check"], ["judge"], ["rescore"]])
def test_a_missing_path_is_a_usage_error_for_every_verb(verb, tmp_path):
    proc = grade(*verb, str(tmp_path / "nothing-here"))
    assert proc.returncode == ExitCode.USAGE, (verb, proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr
    assert "nothing-here" in proc.stderr


def test_cohort_missing_folder_is_a_usage_error(tmp_path):
    proc = grade("cohort", str(tmp_path / "none"), "--out", str(tmp_path / "out"))
    assert proc.returncode == ExitCode.USAGE


def test_grade_check_of_an_unreadable_submission_is_a_problem_not_a_crash(tmp_path):
    bad = tmp_path / "notes.zip"
    bad.write_bytes(b"this is not a zip archive")
    proc = grade("check", str(bad))
    assert proc.returncode == ExitCode.PROBLEM, proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout


def test_course_config_sets_defaults_and_the_command_line_wins(tmp_path):
    (tmp_path / "grade.toml").write_text('lang = "ko"\n[check]\ntimeout = 1\n', encoding="utf-8")
    proc = grade("check", str(tmp_path / "nothing"), cwd=tmp_path)
    assert proc.returncode == ExitCode.USAGE and "제출물" in proc.stderr  # lang from the file
    proc = grade("check", str(tmp_path / "nothing"), "--lang", "en", cwd=tmp_path)
    assert "was not found" in proc.stderr


def test_course_config_with_an_unknown_key_is_a_usage_error(tmp_path):
    cfg = tmp_path / "course.toml"
    cfg.write_text('lnag = "ko"\n', encoding="utf-8")
    proc = grade("check", str(ROOT / "submissions" / "alice"), "--config", str(cfg))
    assert proc.returncode == ExitCode.USAGE
    assert "lnag" in proc.stderr and "Traceback" not in proc.stderr


def test_course_config_paths_are_read_from_the_file_folder(tmp_path):
    from grader.course_config import load_config

    (tmp_path / "grade.toml").write_text('rubric = "r.toml"\ndata = "bundled"\n'
                                         '[cohort]\nroster = "class.csv"\n', encoding="utf-8")
    cohort = load_config(tmp_path / "grade.toml", "cohort")
    assert cohort["rubric"] == str((tmp_path / "r.toml").resolve())
    assert cohort["roster"] == str((tmp_path / "class.csv").resolve())
    assert cohort["data"] == "bundled"
    assert "roster" not in load_config(tmp_path / "grade.toml", None)


def test_plain_progress_prints_stage_changes_and_throttles_within_a_stage():
    stream = io.StringIO()
    progress = PlainProgress(stream, every_s=60)
    progress("intake", None, "reading")
    progress("train", 0.1, "training")
    progress("train", 0.2, "training")  # same stage within 60 s: not printed
    progress("judge", None, "judging")
    lines = stream.getvalue().splitlines()
    assert len(lines) == 3
    assert "intake" in lines[0] and "train" in lines[1] and "10%" in lines[1]


def test_every_environment_variable_has_the_one_prefix():
    import re

    read = re.compile(r'(?:environ\.get\(|environ\[|getenv\()\s*"([A-Z0-9_]+)"')
    names = set()
    for path in (ROOT / "grader").rglob("*.py"):
        text = path.read_text("utf-8")
        names |= set(read.findall(text))
        names |= {f"DCGAN_GRADER_{n}" for n in re.findall(r'f"\{ENV_PREFIX\}([A-Z_]+)"', text)}
    ours = {n for n in names if "GRADER" in n or n.startswith("DCGAN")}
    assert len(ours) >= 4 and all(n.startswith("DCGAN_GRADER_") for n in ours), ours
    assert not any(n.startswith("GRADER_") for n in names), names


def test_usage_error_exit_code_in_process(capsys, tmp_path):
    assert main(["check", str(tmp_path / "x")]) == ExitCode.USAGE
