"""Hostile or broken inputs give records and warnings, never exceptions."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from grader.intake import load_submission

WEIRD_NOTEBOOKS = [
    {"nbformat": 4, "nbformat_minor": 2, "metadata": {}, "cells": [
        {"cell_type": "code", "source": 12, "metadata": {}, "outputs": [], "execution_count": "x"}]},
    {"nbformat": 4, "nbformat_minor": 2, "metadata": {}, "cells": [
        {"cell_type": "code", "source": "x = 1", "metadata": {}, "execution_count": 1,
         "outputs": [{"output_type": "display_data", "metadata": {}, "data": {"image/png": 5}}]}]},
    {"nbformat": 9, "nbformat_minor": 0, "cells": []},
    {"nbformat": 4, "nbformat_minor": 2, "metadata": {}, "cells": ["not a cell", None]},
    {"nbformat": "4", "cells": [{"cell_type": "code", "source": "y = 2"}]},
]


@pytest.mark.parametrize("raw", WEIRD_NOTEBOOKS)
def test_weird_notebooks_do_not_raise(tmp_path: Path, raw: dict) -> None:
    path = tmp_path / "nb.ipynb"
    path.write_text(json.dumps(raw))
    sub = load_submission(path, tmp_path / "work")
    assert sub.cell_failures or sub.warnings or sub.code_units


def test_hostile_python_sources_do_not_raise(tmp_path: Path) -> None:
    root = tmp_path / "sub"
    root.mkdir()
    (root / "a_null.py").write_bytes(b"x = 1\x00\n")
    (root / "b_deep.py").write_text("x = " + "(" * 5000 + ")" * 5000 + "\n")
    (root / "c_long.py").write_text("y = " + " + ".join(["1"] * 20000) + "\n")
    deep = " + ".join(["x"] * 950)  # parses, but deeper than Python's recursion limit allows to walk
    (root / "c_deep_ok.py").write_text(f"x = 1\nz = {deep}\ndef g():\n    p = {deep}\n    return p\n")
    rng = random.Random(0)
    (root / "d_noise.py").write_bytes(bytes(rng.randrange(256) for _ in range(3000)))
    (root / "e_noise.ipynb").write_bytes(bytes(rng.randrange(256) for _ in range(3000)))
    (root / "f_ok.py").write_text("def make_generator_model():\n    return 1\n")
    sub = load_submission(root, tmp_path / "work")
    assert [u.name for u in sub.code_units if u.kind == "function"] == ["g", "make_generator_model"]
    assert [d.reason for d in sub.dropped if d.origin == "c_deep_ok.py line 2"] == ["too deeply nested"]
    origins = {f.origin.split(" ")[0] for f in sub.cell_failures}
    assert {"a_null.py", "b_deep.py", "e_noise.ipynb"} <= origins
    assert all("Traceback" not in f.message.en for f in sub.cell_failures)


def test_uniformly_indented_cell_is_dedented_like_ipython(tmp_path: Path) -> None:
    from intake_builders import notebook

    sub = load_submission(notebook(["    import os\n    N = 1", "  bad\n x = 1"], tmp_path / "nb.ipynb"),
                          tmp_path / "work")
    assert [u.source for u in sub.code_units] == ["import os", "N = 1"]
    assert [f.origin for f in sub.cell_failures] == ["nb.ipynb cell 2"]


def test_file_size_and_depth_limits(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from grader.intake import sources

    monkeypatch.setattr(sources, "MAX_FILE_BYTES", 100)
    monkeypatch.setattr(sources, "MAX_DEPTH", 2)
    root = tmp_path / "sub"
    (root / "a" / "b" / "c").mkdir(parents=True)
    (root / "main.py").write_text("N = 1\n")
    (root / "big.bin").write_bytes(bytes(200))
    (root / "a" / "b" / "ok.png").write_bytes(b"x")
    (root / "a" / "b" / "c" / "deep.py").write_text("M = 2\n")
    sub = load_submission(root, tmp_path / "work")
    assert sub.sources == ["main.py"]
    assert [a.origin for a in sub.artifacts] == ["a/b/ok.png"]
    assert any("big.bin" in w and "limit" in w for w in sub.warnings)
    assert any("deeper than 2" in w for w in sub.warnings)


def test_work_folder_inside_the_submission_is_not_read_back(tmp_path: Path) -> None:
    from intake_builders import image_output, notebook, png_bytes

    root = tmp_path / "sub"
    notebook([("x = 1", 1, [image_output(png_bytes())])], root / "nb.ipynb")
    for _ in range(2):  # a second run must not list the first run's embedded images
        sub = load_submission(root, root / "grader_work")
    assert [a.origin for a in sub.artifacts] == ["nb.ipynb cell 1 output 0"]
