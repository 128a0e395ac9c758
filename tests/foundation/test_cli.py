"""The ``grade`` command line: help, usage errors, clear data errors."""

from __future__ import annotations

import subprocess
import sys

from grader.cli import main


def test_help_lists_commands(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for verb in ("check", "judge", "reference", "SUBMISSION", "DCGAN_GRADER_DATA"):
        assert verb in out


def test_empty_call_is_a_usage_error(capsys):
    assert main([]) == 2
    assert "grade --help" in capsys.readouterr().err


def test_bad_data_path_is_clear_not_a_traceback(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "grader.cli", "reference", "train", "--out", str(tmp_path / "o"),
         "--steps", "1", "--data", str(tmp_path / "missing.npz")],
        capture_output=True, text=True, timeout=120)
    assert proc.returncode == 3
    assert "No usable CIFAR-10 data" in proc.stderr
    assert "Traceback" not in proc.stderr
