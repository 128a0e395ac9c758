"""Name the series of each panel: from the legend text, else from the code's plotting order.

matplotlib gives the n-th line of an axes (without an explicit colour) the n-th colour of the
style's cycle, so the code's order of ``plot`` calls plus the cycle predicts each colour. The
cycle is whichever known palette (tab10, ggplot, bmh, seaborn, ...) best explains the colours
seen. Without code hints the lesson's layout is assumed: fake accuracy first (C0) in the
accuracy panel.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from grader.intake.figures.plots.colours import blend_distance, colour_rgb, palettes
from grader.intake.figures.plots.names import role_of
from grader.intake.figures.plots.records import (
    DISC_LOSS,
    FAKE_ACCURACY,
    GEN_LOSS,
    REAL_ACCURACY,
    SOURCE_DEFAULT,
    SOURCE_HINTS,
    SOURCE_LEGEND,
    AxesHint,
    PlotHints,
    SeriesHint,
)

#: a predicted colour matches a seen one within this distance (0..255 units)
MAX_COLOUR_DISTANCE = 60.0
#: a legend reading that contradicts the code's order must match at least this well
LEGEND_OVER_HINTS = 0.7
#: an accuracy stays within [0, 1]; this much slack for the line width
ACCURACY_SLACK = 0.06


@dataclass
class PanelSeries:
    """What identification needs to know about one panel."""

    colours: list[np.ndarray]
    face: np.ndarray
    legend: dict[int, str] = field(default_factory=dict)
    """Colour index -> legend text read for it."""
    legend_scores: dict[int, float] = field(default_factory=dict)
    """Colour index -> how well that text matched (see ``legend.rank_text``)."""
    ranges: list[tuple[float, float]] = field(default_factory=list)
    """Per colour: 5th and 95th percentile of its values."""


@dataclass
class Naming:
    """Names decided for one panel's colours."""

    names: dict[int, str] = field(default_factory=dict)
    sources: dict[int, str] = field(default_factory=dict)
    predicted: dict[int, str] = field(default_factory=dict)
    """Names from the plotting order alone (hints or default), legend ignored."""
    order: dict[int, int] = field(default_factory=dict)
    """Colour -> position of its ``plot`` call in the axes (drawing order), where known."""
    palette: str = ""
    distance: float = float("inf")
    """Worst distance between a predicted and a matched colour (hints or default order)."""


def _default_hints(panels: list[PanelSeries]) -> PlotHints:
    """The lesson's layout, as if its code had been given."""
    pair = [SeriesHint(FAKE_ACCURACY), SeriesHint(REAL_ACCURACY)]
    losses = [SeriesHint(GEN_LOSS), SeriesHint(DISC_LOSS)]
    if len(panels) == 1:
        if len(panels[0].colours) >= 4:
            return PlotHints(axes=[AxesHint(series=losses + pair)])
        return PlotHints(axes=[AxesHint(series=pair)])
    if len(panels) == 2:
        return PlotHints(axes=[AxesHint(series=losses), AxesHint(series=pair, figure=0)])
    return PlotHints()


def _fit(ax: AxesHint, panel: PanelSeries) -> float:
    """How well a hinted axes explains a panel: legend texts it shares, its number of lines,
    and whether its series are accuracies where the values stay within [0, 1]."""
    labels = {s.label for s in ax.series if s.label} | {s.name for s in ax.series if s.name}
    roles = {role_of(s.name) or role_of(s.label) for s in ax.series}
    score = 3.0 * sum(text in labels or role_of(text) in roles - {""}
                      for text in panel.legend.values())
    score += 1.0 if len(ax.series) == len(panel.colours) else 0.0
    ranges = [r for r in panel.ranges if np.isfinite(r[0])]
    if ranges and roles:
        acc_only = roles <= {FAKE_ACCURACY, REAL_ACCURACY}
        fits = all(looks_like_accuracy(lo, hi) for lo, hi in ranges)
        score += 1.0 if acc_only == fits else 0.0
    return score


def _axes_for_panels(hints: PlotHints, panels: list[PanelSeries]) -> list[AxesHint | None]:
    """Which hinted axes each panel (reading order) shows.

    A figure with as many axes as there are panels maps in order; otherwise each panel takes
    the hinted axes that fits it best (``_fit``), so a loss-only image of a student who drew
    loss and accuracy in two figures is matched to the loss axes.
    """
    n = len(panels)
    by_fig: dict[int, list[AxesHint]] = {}
    for ax in hints.axes:
        by_fig.setdefault(ax.figure, []).append(ax)
    same = [axes for axes in by_fig.values() if len(axes) == n]
    if same:
        return list(max(same, key=lambda axes: sum(_fit(a, p) for a, p in zip(axes, panels))))
    if not hints.axes:
        return [None] * n
    return [max(hints.axes, key=lambda a: _fit(a, p)) for p in panels]


def _expected(ax: AxesHint, cycle: np.ndarray) -> list[tuple[str, np.ndarray | None]]:
    """(name, predicted colour) of each hinted series; explicit colours skip the cycle."""
    out, k = [], 0
    for s in ax.series:
        name = role_of(s.name) or role_of(s.label) or s.name
        if s.color:
            out.append((name, colour_rgb(s.color, cycle)))
        else:
            out.append((name, cycle[k % len(cycle)]))
            k += 1
    return out


def _match(expected: list[tuple[str, np.ndarray | None]], panel: PanelSeries,
           taken: set[int]) -> tuple[dict[int, str], float, dict[int, int]]:
    """Greedy nearest pairing of predicted and seen colours; returns names, the worst
    distance, and each matched colour's position in the plotting order."""
    pairs = []
    for e_i, (_, rgb) in enumerate(expected):
        if rgb is None:
            continue
        for c_i, seen in enumerate(panel.colours):
            if c_i not in taken:
                pairs.append((blend_distance(seen, rgb, panel.face), e_i, c_i))
    pairs.sort()
    names: dict[int, str] = {}
    order: dict[int, int] = {}
    used_e: set[int] = set()
    worst = 0.0
    for dist, e_i, c_i in pairs:
        if dist > MAX_COLOUR_DISTANCE or e_i in used_e or c_i in names:
            continue
        names[c_i], order[c_i] = expected[e_i][0], e_i
        used_e.add(e_i)
        worst = max(worst, dist)
    return names, worst, order


def _best_palette(pairs: list[tuple[PanelSeries, AxesHint]], preferred: str) -> str:
    """The palette under which the predicted colours sit closest to the seen ones."""
    best, best_cost = "default", np.inf
    for name, cycle in palettes().items():
        cost = 0.0
        for panel, ax in pairs:
            for _, rgb in _expected(ax, cycle):
                if rgb is None or not panel.colours:
                    continue
                cost += min(min(blend_distance(c, rgb, panel.face) for c in panel.colours), 100)
        if name == preferred:
            cost -= 1e-6  # the style the code asks for wins a tie
        if cost < best_cost:
            best, best_cost = name, cost
    return best


def name_series(panels: list[PanelSeries], hints: PlotHints | None) -> tuple[list[Naming], str]:
    """Name every panel's colours.

    Args:
        panels: the readable panels in reading order.
        hints: from ``plot_hints_from_code``; None or empty for the lesson's default layout.

    Returns:
        (naming per panel, source of the hint-based names: ``code_hints`` or
        ``default_order``).
    """
    source = SOURCE_HINTS if hints is not None and not hints.empty else SOURCE_DEFAULT
    use = hints if source == SOURCE_HINTS else _default_hints(panels)
    out = [Naming() for _ in panels]
    axes = _axes_for_panels(use, panels)
    pairs = [(panels[i], ax) for i, ax in enumerate(axes) if ax is not None]
    palette = _best_palette(pairs, hints.style if hints is not None else "")
    cycle = palettes()[palette]
    for i, ax in enumerate(axes):
        out[i].palette = palette
        if ax is not None:
            out[i].predicted, out[i].distance, out[i].order = _match(_expected(ax, cycle),
                                                                     panels[i], set())
    for p, panel in enumerate(panels):
        named = out[p]
        for c, text in panel.legend.items():
            role = role_of(text)
            if hints is not None and not role:  # the student's own label names its series
                role = next((role_of(s.name) for a in hints.axes for s in a.series
                             if s.label == text), "")
            predicted = named.predicted.get(c)
            if source == SOURCE_HINTS and predicted and predicted != role \
                    and panel.legend_scores.get(c, 1.0) < LEGEND_OVER_HINTS:
                continue  # a weak reading of the legend does not overrule the code
            if role:
                named.names[c], named.sources[c] = role, SOURCE_LEGEND
        for c, n in named.predicted.items():
            if c not in named.names and n not in named.names.values():
                named.names[c], named.sources[c] = n, source
    return out, source


def looks_like_accuracy(lo: float, hi: float) -> bool:
    """True when a series' value range fits an accuracy (within [0, 1])."""
    return -ACCURACY_SLACK <= lo and hi <= 1 + ACCURACY_SLACK


def pick_fake(panels: list[PanelSeries], namings: list[Naming]) -> tuple[int, int] | None:
    """(panel, colour) of the fake-accuracy series: legend-named first, then one whose values
    fit an accuracy; None when no series is named so."""
    cands = [(p, c) for p, n in enumerate(namings) for c, name in n.names.items()
             if name == FAKE_ACCURACY]
    if not cands:
        return None

    def rank(pc: tuple[int, int]) -> tuple[int, int]:
        p, c = pc
        lo, hi = panels[p].ranges[c] if c < len(panels[p].ranges) else (0.0, 1.0)
        return (int(namings[p].sources.get(c) == SOURCE_LEGEND), int(looks_like_accuracy(lo, hi)))

    return max(cands, key=rank)
