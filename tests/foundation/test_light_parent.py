"""Issue 20 (memory): while the two sandboxed TensorFlow processes run, the grader's own
process holds only what intake and supervision need (matplotlib, scipy, jinja2 and
TensorFlow load after they end, for the report and scoring)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("matplotlib", "scipy", "jinja2", "tensorflow", "keras")


def test_intake_and_sandbox_setup_load_no_heavy_library(tmp_path):
    code = f"""
import json, sys
from pathlib import Path
import grader.cli, grader.pipeline
from grader.pipeline import run_intake, sandbox_request
from grader.config import GradeOptions
evidence, sub = run_intake(Path({str(ROOT / "submissions" / "alice")!r}), Path({str(tmp_path)!r}))
sandbox_request(GradeOptions())
print(json.dumps(sorted({{m.split(".")[0] for m in sys.modules}} & set({HEAVY!r}))))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, cwd=ROOT)
    assert out.returncode == 0, out.stderr[-2000:]
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []
