"""Malformed notebooks: empty, not JSON, v3, missing outputs; folders of several files."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from intake_builders import notebook
from PIL import Image

from grader.intake import SubmissionError, load_submission


def test_empty_notebook_is_a_warning(tmp_path: Path) -> None:
    sub = load_submission(notebook([], tmp_path / "empty.ipynb"), tmp_path / "work")
    assert sub.code_units == [] and sub.cell_failures == []
    assert any("no code cells" in w for w in sub.warnings)


@pytest.mark.parametrize("content", [b"this is not json {", b"", b'{"cells": 3}', b"[1, 2]"])
def test_not_a_notebook_is_a_failure_record(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "broken.ipynb"
    path.write_bytes(content)
    sub = load_submission(path, tmp_path / "work")
    (failure,) = sub.cell_failures
    assert failure.origin == "broken.ipynb"
    assert "could not be read as a Jupyter notebook" in failure.message.en
    assert "주피터" in failure.message.ko and failure.detail


def test_v3_notebook_and_missing_outputs(tmp_path: Path) -> None:
    v3 = {"nbformat": 3, "nbformat_minor": 0, "metadata": {}, "worksheets": [{"cells": [
        {"cell_type": "code", "input": ["import os\n", "N = 1"], "language": "python",
         "prompt_number": 4, "outputs": []},
        {"cell_type": "markdown", "source": "# hi"},
        {"cell_type": "code", "input": "def f():\n    return N", "language": "python"},
    ]}]}
    path = tmp_path / "old.ipynb"
    path.write_text(json.dumps(v3))
    sub = load_submission(path, tmp_path / "work")
    assert [u.names for u in sub.code_units] == [["os"], ["N"], ["f"]]
    assert sub.code_units[0].execution_count == 4 and sub.code_units[2].cell == 3


def test_v4_cell_without_outputs_key(tmp_path: Path) -> None:
    raw = {"nbformat": 4, "nbformat_minor": 5, "metadata": {},
           "cells": [{"cell_type": "code", "source": ["x = 1\n", "y = x"], "metadata": {}}]}
    path = tmp_path / "nb.ipynb"
    path.write_text(json.dumps(raw))
    sub = load_submission(path, tmp_path / "work")
    assert [u.source for u in sub.code_units] == ["x = 1", "y = x"]
    assert any("notebook format" in w for w in sub.warnings)


def test_folder_reads_notebooks_first_then_py_sorted(tmp_path: Path) -> None:
    root = tmp_path / "alice"
    notebook(["A = 1"], root / "z_main.ipynb")
    notebook(["B = 2"], root / "extra" / "a_improve.ipynb")
    (root / "models.py").write_text("C = 3\nif __name__ == '__main__':\n    D = 4\n")
    notebook(["E = 5"], root / ".ipynb_checkpoints" / "z_main-checkpoint.ipynb")
    sub = load_submission(root, tmp_path / "work")
    assert sub.sources == ["extra/a_improve.ipynb", "z_main.ipynb", "models.py"]
    assert [u.names[0] for u in sub.code_units] == ["B", "A", "C"]
    assert sub.code_units[2].origin == "models.py line 1"
    assert sub.dropped[-1].reason == "main block"


def test_py_export_with_a_syntax_error_loses_only_that_cell(tmp_path: Path) -> None:
    text = ("#!/usr/bin/env python\n# In[1]:\n\n\nimport os\n\n\n# In[2]:\n\n\n"
            "def broken(:\n    pass\n\n\n# In[3]:\n\n\nEPOCHS = 50\n")
    path = tmp_path / "export.py"
    path.write_text(text)
    sub = load_submission(path, tmp_path / "work")
    assert [u.names for u in sub.code_units] == [["os"], ["EPOCHS"]]
    assert sub.code_units[1].origin == "export.py line 18" and sub.code_units[1].execution_count == 3
    (failure,) = sub.cell_failures
    assert failure.line == 11 and "export.py" in failure.message.en


def test_no_code_at_all_raises_a_student_message(tmp_path: Path) -> None:
    (tmp_path / "only").mkdir()
    (tmp_path / "only" / "result.png").write_bytes(b"x")
    with pytest.raises(SubmissionError) as err:
        load_submission(tmp_path / "only", tmp_path / "work")
    assert "No notebook" in err.value.student
    from grader.intake.load import load_artifacts_only

    Image.new("RGB", (64, 64)).save(tmp_path / "only" / "image_at_epoch_0050.png")
    only = load_artifacts_only(tmp_path / "only", tmp_path / "work2")  # still judged
    assert "image_at_epoch_0050.png" in [a.origin for a in only.artifacts if a.kind == "samples"]
    with pytest.raises(SubmissionError, match="was not found"):
        load_submission(tmp_path / "nope.ipynb", tmp_path / "work")
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(SubmissionError, match="not a notebook"):
        load_submission(tmp_path / "notes.txt", tmp_path / "work")
    _ = nbformat  # nbformat is what builds the other fixtures
