"""The IPython stripper: magics, shell escapes and help queries become ``pass``; strings stay."""

from __future__ import annotations

import ast

import pytest

from grader.intake.magics import strip_ipython

CASES = [
    # (cell, expected text, removed kinds)
    ("%matplotlib inline\nimport os", "pass\nimport os", ["magic"]),
    ("!pip install imageio\nx = 1", "pass\nx = 1", ["shell"]),
    ("files = !ls -l\nx = 1", "pass\nx = 1", ["shell"]),
    ("out = %timeit -o f()\n", "pass\n", ["shell"]),
    ("tf.keras.layers.Dense?\nx = 1", "pass\nx = 1", ["help"]),
    ("??make_generator_model", "pass", ["help"]),
    ("pip install tensorflow", "pass", ["shell"]),
    ("for i in range(3):\n    !echo hi\n", "for i in range(3):\n    pass\n", ["shell"]),
    ("%%time\ntrain(ds, 50)", "\ntrain(ds, 50)", ["cell magic"]),
    ("\n%%capture\nx = 1", "\n\nx = 1", ["cell magic"]),
    ("x = 1\n%%time\ny = 2", "x = 1\npass\ny = 2", ["magic"]),
    ("display(img)\nx = a % b", "display(img)\nx = a % b", []),
    ("x = 3 != 4", "x = 3 != 4", []),
]


@pytest.mark.parametrize(("cell", "expected", "kinds"), CASES)
def test_strip_table(cell: str, expected: str, kinds: list[str]) -> None:
    out = strip_ipython(cell)
    assert out.text == expected
    assert [k for _, k in out.removed] == kinds
    assert len(out.text.split("\n")) == len(cell.split("\n"))  # line numbers are kept
    ast.parse(out.text)


@pytest.mark.parametrize("magic", ["bash", "sh", "writefile", "html", "script"])
def test_non_python_cell_magics_drop_the_cell(magic: str) -> None:
    out = strip_ipython(f"%%{magic} out.txt\nls -l\nrm -rf /")
    assert out.dropped_cell == magic
    assert out.text == ""


def test_lines_inside_strings_and_brackets_are_untouched() -> None:
    cell = ('doc = """\n!not a shell line\n%not a magic\nwhy?\n"""\n'
            "value = f(1,\n!2)\n"
            "s = 'it''s'  # comment with \"\"\" quotes\n!ls")
    out = strip_ipython(cell)
    lines = out.text.split("\n")
    assert lines[1:4] == ["!not a shell line", "%not a magic", "why?"]
    assert lines[6] == "!2)"  # a continuation line, left for the parser to judge
    assert lines[-1] == "pass"
    assert [n for n, _ in out.removed] == [9]


def test_backslash_continuation_is_not_a_fresh_line() -> None:
    out = strip_ipython("x = 1 + \\\n%2\n%who")
    assert out.text.split("\n") == ["x = 1 + \\", "%2", "pass"]
