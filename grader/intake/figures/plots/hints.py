"""Read the student's plotting code (parsed with ``ast``, never run) for what each line shows.

The order of ``plot`` calls gives each line its colour from the axes' colour cycle (C0 first),
so "fake accuracy was plotted first in the second subplot" tells the reader to look for the
first cycle colour in the second panel. Handles ``plt.plot``/``ax.plot``, ``plt.subplot(212)``,
``plt.subplots``, ``fig.add_subplot``, ``plt.figure()``, labels from ``label=`` or
``legend([...])``, explicit colours and format strings, ``history.history[...]``, variables
assigned from a history key, and loops over literal lists, ``zip``/``enumerate`` or the keys of
a history dict. Anything else is skipped: hints are best effort.
"""

from __future__ import annotations

import ast
import re
import textwrap
from typing import Any

from grader.intake.figures.plots.code_state import (
    AxesGrid,
    AxesState,
    CodeState,
    axes_at,
    const_str,
    new_figure,
    resolve_axes,
    series_name,
    str_list,
    subplot_position,
    subplots_grid,
)
from grader.intake.figures.plots.records import PlotHints, SeriesHint

#: calls that draw one line each and take the next colour of the cycle
LINE_CALLS = {"plot", "semilogy", "semilogx", "loglog"}
#: the lesson's ``train()`` builds its history dict with the keys in this order
LESSON_KEYS = ("gen_loss", "disc_loss", "real_accuracy", "fake_accuracy")
_FMT_COLOUR = re.compile(r"(C\d|[bgrcmykw])")
MAX_LOOP = 50


def _plot(call: ast.Call, ax: AxesState, env: dict[str, Any], st: CodeState) -> None:
    """Add the lines of one ``plot`` call: groups of (x, y, fmt) as matplotlib splits them."""
    kw = {k.arg: k.value for k in call.keywords if k.arg}
    label = const_str(kw.get("label"), env) or ""
    colour = const_str(kw.get("color", kw.get("c")), env) or ""
    groups: list[list[ast.expr]] = [[]]
    for a in call.args:
        if const_str(a, env) is not None and not isinstance(a, ast.Name):
            groups[-1].append(a)
            groups.append([])
        else:
            if len([g for g in groups[-1] if const_str(g, env) is None]) == 2:
                groups.append([])
            groups[-1].append(a)
    for g in groups:
        data = [a for a in g if not (const_str(a, env) is not None
                                     and not isinstance(a, ast.Name))]
        if not data:
            continue
        fmt = next((const_str(a, env) for a in g if a not in data), "") or ""
        m = _FMT_COLOUR.search(fmt)
        line_colour = colour or (m.group(1) if m else "")
        name = series_name(data[-1], env, st)
        ax.hint.series.append(SeriesHint(name=name, label=label, color=line_colour))


def _call(call: ast.Call, st: CodeState, env: dict[str, Any]) -> Any:
    """Interpret one call; returns what an assignment would bind (axes, grids)."""
    func = call.func
    if not isinstance(func, ast.Attribute):
        return None
    owner, attr = func.value, func.attr
    is_plt = isinstance(owner, ast.Name) and owner.id in ("plt", "pylab", "pyplot")
    if isinstance(owner, ast.Attribute) and owner.attr == "style" and attr in ("use", "context"):
        st.style = const_str(call.args[0], env) or st.style if call.args else st.style
        return None
    if is_plt and attr == "figure":
        new_figure(st)
        return None
    if is_plt and attr == "subplots":
        return subplots_grid(call, st)
    if attr in ("subplot", "add_subplot"):
        if attr == "add_subplot" and st.figure < 0:
            new_figure(st)
        st.current = axes_at(st, subplot_position(call.args))
        return st.current
    if is_plt and attr in ("gca", "axes"):
        st.current = st.current or axes_at(st, 0)
        return st.current
    ax = st.current if is_plt else resolve_axes(owner, st, env)
    if attr in LINE_CALLS:
        if ax is None:
            ax = axes_at(st, 0) if is_plt or st.current is None else st.current
            st.current = ax
        _plot(call, ax, env, st)
    elif attr == "legend" and ax is not None:
        labels = str_list(call.args[0], env) if call.args else None
        kw = {k.arg: k.value for k in call.keywords}
        labels = labels or str_list(kw.get("labels"), env)
        for s, lab in zip(ax.hint.series, labels or []):
            s.label = lab
    elif attr in ("title", "set_title") and ax is not None and call.args:
        ax.hint.title = const_str(call.args[0], env) or ax.hint.title
    return None


def _loop_values(node: ast.For, st: CodeState, env: dict[str, Any]) -> list[dict[str, Any]]:
    """Bindings of a for loop's target for each iteration we can know."""
    it, target = node.iter, node.target
    items: list[Any] | None = str_list(it, env)
    if isinstance(it, ast.Call) and isinstance(it.func, ast.Name) and it.func.id in (
            "zip", "enumerate"):
        cols = [str_list(a, env) or _keys_of(a, st) for a in it.args]
        if it.func.id == "enumerate" and cols and cols[0] is not None:
            items = list(enumerate(cols[0]))
        elif all(c is not None for c in cols):
            items = list(zip(*cols))
    if items is None:
        items = _keys_of(it, st)
        if items is not None and isinstance(it, ast.Call) and isinstance(it.func, ast.Attribute) \
                and it.func.attr == "items":
            items = [(k, k) for k in items]
    if items is None:
        return []
    out = []
    for item in items[:MAX_LOOP]:
        b: dict[str, Any] = {}
        if isinstance(target, ast.Name):
            b[target.id] = item
        elif isinstance(target, ast.Tuple) and isinstance(item, tuple):
            for t, v in zip(target.elts, item):
                if isinstance(t, ast.Name):
                    b[t.id] = v
        out.append(b)
    return out


def _keys_of(node: ast.AST, st: CodeState) -> list[str] | None:
    """Keys of ``history``, ``history.keys()``, ``history.items()``, ``history.history``."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
            and node.func.attr in ("keys", "items"):
        node = node.func.value
    if isinstance(node, ast.Attribute) and node.attr == "history":
        node = node.value
    if isinstance(node, ast.Name):
        return st.dicts.get(node.id, list(LESSON_KEYS) if "hist" in node.id.lower() else None)
    return None


def _assign(node: ast.Assign, st: CodeState, env: dict[str, Any]) -> None:
    value = _call(node.value, st, env) if isinstance(node.value, ast.Call) else None
    if isinstance(node.value, ast.Dict):
        keys = [const_str(k, env) for k in node.value.keys]
        if keys and all(k is not None for k in keys):
            for t in node.targets:
                if isinstance(t, ast.Name):
                    st.dicts[t.id] = keys  # type: ignore[assignment]
    for t in node.targets:
        if isinstance(t, ast.Name):
            if value is not None:
                st.names[t.id] = value
            elif isinstance(node.value, ast.Subscript | ast.Call | ast.Attribute):
                name = series_name(node.value, env, st)
                if name and name != t.id and any(isinstance(s, ast.Subscript)
                                                 for s in ast.walk(node.value)):
                    st.names[t.id] = name
            elif isinstance(node.value, ast.Subscript):
                st.names[t.id] = resolve_axes(node.value, st, env)
        elif isinstance(t, ast.Tuple) and isinstance(value, AxesGrid) and len(t.elts) == 2:
            # fig, axes = plt.subplots(...)  /  fig, (ax1, ax2) = plt.subplots(...)
            second = t.elts[1]
            if isinstance(second, ast.Name):
                st.names[second.id] = value[0] if len(value) == 1 else value
            elif isinstance(second, ast.Tuple):
                flat = [x for e in second.elts
                        for x in (e.elts if isinstance(e, ast.Tuple) else [e])]
                for e, ax in zip(flat, value):
                    if isinstance(e, ast.Name):
                        st.names[e.id] = ax
    if isinstance(node.value, ast.Subscript):
        ax = resolve_axes(node.value, st, env)
        for t in node.targets:
            if isinstance(t, ast.Name) and ax is not None:
                st.names[t.id] = ax


def _walk(stmts: list[ast.stmt], st: CodeState, env: dict[str, Any], depth: int = 0) -> None:
    if depth > 8:
        return
    for node in stmts:
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
            _call(node.value, st, env)
        elif isinstance(node, ast.Assign):
            _assign(node, st, env)
        elif isinstance(node, ast.For):
            for binding in _loop_values(node, st, env):
                _walk(node.body, st, {**env, **binding}, depth + 1)
        elif isinstance(node, ast.With):
            for item in node.items:
                if isinstance(item.context_expr, ast.Call):
                    _call(item.context_expr, st, env)
            _walk(node.body, st, env, depth + 1)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            _walk(node.body, st, env, depth + 1)
        elif isinstance(node, ast.If | ast.While):
            _walk(node.body, st, env, depth + 1)
        elif isinstance(node, ast.Try):
            _walk(node.body, st, env, depth + 1)


def _parse(source: str) -> ast.Module | None:
    """Parse a cell: IPython magics and shell lines are dropped first."""
    lines = [ln for ln in source.splitlines() if not ln.lstrip().startswith(("%", "!"))]
    text = textwrap.dedent("\n".join(lines))
    try:
        return ast.parse(text)
    except (SyntaxError, ValueError):
        return None


def plot_hints_from_code(source: str) -> PlotHints:
    """What the student's plotting code says about the lines of its figure(s).

    Args:
        source: the plotting function or notebook cell, as text. Never executed.

    Returns:
        Axes in figure order (within a figure in subplot order), each with its series in
        plotting order; empty hints when the code cannot be parsed or draws no line.
    """
    tree = _parse(source or "")
    if tree is None:
        return PlotHints()
    st = CodeState()
    for node in ast.walk(tree):  # dict literals anywhere give the keys a loop may run over
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Dict):
            keys = [const_str(k, {}) for k in node.value.keys]
            if keys and all(k is not None for k in keys):
                for t in node.targets:
                    if isinstance(t, ast.Name):
                        st.dicts[t.id] = keys  # type: ignore[assignment]
    try:
        _walk(tree.body, st, {})
    except (RecursionError, AttributeError, TypeError, ValueError, IndexError):
        return PlotHints(style=st.style)
    axes = sorted((a for a in st.axes if a.hint.series), key=lambda a: (a.figure, a.position,
                                                                         a.created))
    return PlotHints(axes=[a.hint for a in axes], style=st.style)
