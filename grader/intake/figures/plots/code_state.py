"""What the plotting-code reader tracks: figures, axes and the variables naming them.

Helpers of ``hints.py`` for literal values in the code (strings, lists, ints), the history key
a plotted expression shows, and which axes an expression such as ``axes[0, 1]`` is.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Any

from grader.intake.figures.plots.records import AxesHint


@dataclass
class AxesState:
    """One axes the code creates, and the plot calls seen for it."""

    figure: int
    position: int
    """Row-major subplot index (0 when unknown)."""
    created: int
    """Creation order (ties of position)."""
    hint: AxesHint = field(default_factory=AxesHint)


@dataclass
class CodeState:
    """Where the walk through the code stands."""

    figure: int = -1
    """Index of the current figure (-1 before the first)."""
    current: AxesState | None = None
    """The axes ``plt.plot`` draws into now."""
    axes: list[AxesState] = field(default_factory=list)
    names: dict[str, Any] = field(default_factory=dict)
    """Variable -> AxesState, list of AxesState, or a history key it was assigned from."""
    dicts: dict[str, list[str]] = field(default_factory=dict)
    """Dict literals with string keys, by variable name."""
    style: str = ""
    """Style sheet named in ``plt.style.use`` / ``plt.style.context``."""


def const_str(node: ast.AST | None, env: dict[str, Any]) -> str | None:
    """A string literal, a loop variable bound to one, or an f-string's literal parts."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Name) and isinstance(env.get(node.id), str):
        return env[node.id]
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) else "" for v in node.values)
    return None


def str_list(node: ast.AST | None, env: dict[str, Any]) -> list[str] | None:
    """A list or tuple literal of strings, else None."""
    if isinstance(node, ast.List | ast.Tuple):
        vals = [const_str(e, env) for e in node.elts]
        return [v for v in vals if v is not None] if all(v is not None for v in vals) else None
    return None


def series_name(node: ast.AST, env: dict[str, Any], st: CodeState) -> str:
    """The history key a plotted expression shows: its first string subscript, a loop variable
    bound to a key, a variable assigned from a key, else the variable's own name."""
    for sub in ast.walk(node):
        if isinstance(sub, ast.Subscript):
            key = const_str(sub.slice, env)
            if key is not None:
                return key
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name):
            if isinstance(env.get(sub.id), str):
                return env[sub.id]
            if isinstance(st.names.get(sub.id), str):
                return st.names[sub.id]
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name) and sub.id not in ("np", "pd", "plt", "range", "len"):
            return sub.id
    return ""


def new_figure(st: CodeState) -> None:
    st.figure += 1
    st.current = None


def axes_at(st: CodeState, position: int) -> AxesState:
    if st.figure < 0:
        new_figure(st)
    for ax in st.axes:
        if ax.figure == st.figure and ax.position == position:
            return ax
    ax = AxesState(st.figure, position, len(st.axes), AxesHint(figure=st.figure))
    st.axes.append(ax)
    return ax


def subplot_position(args: list[ast.expr]) -> int:
    """Row-major index of ``subplot(211)`` or ``subplot(2, 1, 1)`` (0-based)."""
    vals = [a.value for a in args if isinstance(a, ast.Constant) and isinstance(a.value, int)]
    if len(vals) == 1 and vals[0] >= 111:
        return vals[0] % 10 - 1
    if len(vals) >= 3:
        return vals[2] - 1
    return 0


class AxesGrid(list):
    """The axes ``plt.subplots`` returns, flattened row-major, remembering its shape."""

    nrows = 1
    ncols = 1


def const_int(node: ast.AST, env: dict[str, Any]) -> int | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, int):
        return node.value
    if isinstance(node, ast.Name) and isinstance(env.get(node.id), int):
        return env[node.id]
    return None


def resolve_axes(node: ast.AST, st: CodeState, env: dict[str, Any]) -> AxesState | None:
    """The axes an expression like ``ax``, ``axes[1]``, ``axes[0, 1]``, ``axes[0][1]`` or
    ``axs.flat[2]`` is, or None."""
    if isinstance(node, ast.Name):
        val = env.get(node.id, st.names.get(node.id))
        return val if isinstance(val, AxesState) else None
    if not isinstance(node, ast.Subscript):
        return None
    base, flat = node.value, False
    if isinstance(base, ast.Attribute) and base.attr == "flat":
        base, flat = base.value, True
    if isinstance(base, ast.Call) and isinstance(base.func, ast.Attribute) \
            and base.func.attr in ("ravel", "flatten"):
        base, flat = base.func.value, True
    row = None
    if isinstance(base, ast.Subscript):  # axes[0][1]
        row, base = const_int(base.slice, env), base.value
    grid = st.names.get(base.id) if isinstance(base, ast.Name) else None
    if not isinstance(grid, AxesGrid):
        return None
    if isinstance(node.slice, ast.Tuple) and len(node.slice.elts) == 2:
        r, c = (const_int(e, env) for e in node.slice.elts)
        idx = None if r is None or c is None else r * grid.ncols + c
    else:
        k = const_int(node.slice, env)
        if k is None:
            idx = None
        elif row is not None:
            idx = row * grid.ncols + k
        elif flat or grid.nrows == 1 or grid.ncols == 1:
            idx = k
        else:
            idx = None  # a whole row of a 2-D grid
    return grid[idx] if idx is not None and 0 <= idx < len(grid) else None


def subplots_grid(call: ast.Call, st: CodeState) -> AxesGrid:
    ints = [a.value for a in call.args if isinstance(a, ast.Constant)
            and isinstance(a.value, int)]
    kw = {k.arg: k.value.value for k in call.keywords
          if isinstance(k.value, ast.Constant) and isinstance(k.value.value, int)}
    nrows = kw.get("nrows", ints[0] if ints else 1)
    ncols = kw.get("ncols", ints[1] if len(ints) > 1 else 1)
    new_figure(st)
    grid = AxesGrid(axes_at(st, i) for i in range(max(1, nrows * ncols)))
    grid.nrows, grid.ncols = max(1, nrows), max(1, ncols)
    st.current = grid[0]
    return grid
