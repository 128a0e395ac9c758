"""``grade check``: table and JSON output, exit codes, broken notebooks."""

from __future__ import annotations

import json

import nbformat
import pytest
import sandbox_fixtures as fixtures

from grader.cli import main

pytest.importorskip("tensorflow")


def _notebook(path, units) -> None:
    cells = [nbformat.v4.new_code_cell(u["source"]) for u in units]
    nbformat.write(nbformat.v4.new_notebook(cells=cells), path)


def test_good_notebook_json_exit_0(tmp_path, capsys):
    nb = tmp_path / "good.ipynb"
    _notebook(nb, fixtures.good())
    code = main(["check", str(nb), "--json", "--work", str(tmp_path / "work")])
    out = json.loads(capsys.readouterr().out)
    assert code == 0
    assert out["isolation"] in ("bwrap", "unshare", "subprocess")
    assert {c["status"] for c in out["checks"]} == {"pass"}
    assert out["timings"]["sandbox_s"] > 0


def test_non_json_notebook_fails_with_a_plain_message_and_korean_table(tmp_path, capsys,
                                                                       monkeypatch):
    monkeypatch.setenv("COLUMNS", "400")
    nb = tmp_path / "broken.ipynb"
    nb.write_text("this is not json")
    code = main(["check", str(nb), "--lang", "ko"])
    text = capsys.readouterr().out
    assert code == 1
    assert "code_cells" in text and "fail" in text
    assert "실행할 수 있는 코드를 찾지 못했습니다" in text
    assert "Traceback" not in text


def test_usage_errors_exit_2(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["check"])
    assert exc.value.code == 2
    assert main(["check", str(tmp_path / "nowhere.ipynb")]) == 2  # a missing path is a usage error in every verb
