"""README and CI stay in sync: .ci/run runs the README's test command verbatim."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return re.findall(r"```bash\n\s*(python3 -m venv .venv && .+?)\n", text)


def test_ci_runs_the_readme_test_command():
    commands = _readme_commands()
    test_cmd = next(c for c in commands if "pytest" in c)
    ci_lines = (ROOT / ".ci" / "run").read_text().splitlines()
    assert test_cmd in ci_lines


def test_readme_demo_command_grades_alice():
    assert any("grade submissions/alice --quick" in c for c in _readme_commands())


def test_readme_exit_code_table_matches_the_code():
    from grader.errors import EXIT_MEANINGS

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    rows = dict(re.findall(r"^\| (\d+) \| (.+) \|$", text, flags=re.M))
    assert {int(code): meaning for code, meaning in rows.items()} == \
        {int(code): meaning for code, meaning in EXIT_MEANINGS.items()}
