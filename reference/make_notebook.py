"""Generate ``reference/solution.ipynb`` from ``solution.py`` + ``solution_training.py``.

Cells are split on ``# %%`` markers; ``# %% [markdown]`` cells become markdown. The module
docstring of ``solution.py`` becomes the first markdown cell.

Usage: python -m reference.make_notebook
"""

from __future__ import annotations

import ast
from pathlib import Path

import nbformat

HERE = Path(__file__).parent
SOURCES = (HERE / "solution.py", HERE / "solution_training.py")


def _cells(text: str) -> list:
    cells = []
    for chunk in text.split("# %%"):
        if not chunk.strip():
            continue
        if chunk.startswith(" [markdown]"):
            lines = chunk.split("\n")[1:]
            md = "\n".join(line[2:] if line.startswith("# ") else line.lstrip("#")
                           for line in lines).strip()
            cells.append(nbformat.v4.new_markdown_cell(md))
        else:
            cells.append(nbformat.v4.new_code_cell(chunk.strip("\n")))
    return cells


def build() -> nbformat.NotebookNode:
    """Build the notebook object."""
    nb = nbformat.v4.new_notebook()
    first = SOURCES[0].read_text(encoding="utf-8")
    doc = ast.get_docstring(ast.parse(first)) or ""
    body = first.split('"""', 2)[2] if doc else first
    nb.cells.append(nbformat.v4.new_markdown_cell("# " + doc))
    nb.cells += _cells(body)
    for src in SOURCES[1:]:
        nb.cells += _cells(src.read_text(encoding="utf-8"))
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


def main() -> None:
    out = HERE / "solution.ipynb"
    nbformat.write(build(), out)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
