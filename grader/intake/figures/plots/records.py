"""Plain-data records of the history-plot reader: code hints in, a reading of the plot out."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from grader.stats.trend import level_half_width

#: the series the grader needs, as the lesson's ``history`` names it
FAKE_ACCURACY = "fake_accuracy"
REAL_ACCURACY = "real_accuracy"
GEN_LOSS = "gen_loss"
DISC_LOSS = "disc_loss"
#: the final level's interval: this share of the columns' mean ``level_uncertainty`` ...
LEVEL_SCALE = 0.5
#: ... plus this (data units); tuned on the benchmark's seed-7 set so that the interval holds
#: the true final level in about 90% of plots (``reference/plots/README.md``)
LEVEL_BASE = 0.01
#: how a series' identity was decided
SOURCE_LEGEND = "legend"
SOURCE_HINTS = "code_hints"
SOURCE_DEFAULT = "default_order"


@dataclass
class SeriesHint:
    """One ``plot`` call of the student's code, in calling order."""

    name: str = ""
    """History key or variable plotted (``fake_accuracy``), '' when unknown."""
    label: str = ""
    """Legend label given by ``label=`` or ``legend([...])``, '' when none."""
    color: str = ""
    """Explicit colour as written (``'r'``, ``'tab:red'``, ``'#ff0000'``), '' = colour cycle."""


@dataclass
class AxesHint:
    """The plot calls that went into one axes (subplot), in order."""

    series: list[SeriesHint] = field(default_factory=list)
    figure: int = 0
    """Index of the figure (``plt.figure()`` call) the axes belongs to."""
    title: str = ""


@dataclass
class PlotHints:
    """What the student's plotting code says about its figure(s); empty when unknown."""

    axes: list[AxesHint] = field(default_factory=list)
    style: str = ""
    """Style sheet passed to ``plt.style.use`` ('' = not seen)."""

    @property
    def series_names(self) -> list[list[str]]:
        """Series names in plotting order per axes, e.g. the lesson's
        ``[["gen_loss", "disc_loss"], ["fake_accuracy", "real_accuracy"]]``."""
        return [[s.name for s in ax.series] for ax in self.axes]

    @property
    def empty(self) -> bool:
        """True when the code gave nothing usable."""
        return not any(ax.series for ax in self.axes)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON dict."""
        return {**asdict(self), "series_names": self.series_names}


@dataclass
class AxisMap:
    """Linear map from image pixel to data value along one axis, fitted to its tick labels."""

    slope: float
    """Data units per pixel (negative for a y axis: rows grow downwards)."""
    intercept: float
    """Data value at pixel 0."""
    n_ticks: int
    """Tick labels consistent with the fit."""
    residual_px: float
    """Largest distance of a used tick from the fit, in pixels."""
    labels: list[str] = field(default_factory=list)
    """The tick label strings read, in pixel order."""

    def value(self, pixel: float) -> float:
        """Data value at an image pixel coordinate."""
        return self.slope * pixel + self.intercept


@dataclass
class SeriesReading:
    """One curve recovered from a panel: one value per pixel column it covers."""

    name: str
    """``fake_accuracy``, ``real_accuracy``, ``gen_loss``, ``disc_loss`` or '' (unknown)."""
    color: str
    """Colour in the image, ``#rrggbb``."""
    source: str
    """How the name was decided: ``legend``, ``code_hints``, ``default_order`` or ''."""
    legend_text: str = ""
    """Legend label matched to this colour ('' when none was read)."""
    pixel_x: list[int] = field(default_factory=list)
    """Image column of each value (original image pixels)."""
    x: list[float] | None = None
    """Data x of each value when the x tick labels were read, else None."""
    x_fraction: list[float] = field(default_factory=list)
    """Position in the run, 0 at the first drawn column of the panel's curves, 1 at the last."""
    y: list[float] = field(default_factory=list)
    """Value per column in data units (hidden columns filled, see ``hidden``)."""
    uncertainty: list[float] = field(default_factory=list)
    """Per-value error estimate in data units (half the span painted or hidden in the column)."""
    level_uncertainty: list[float] = field(default_factory=list)
    """Per-value error estimate of the curve's *level* in data units: the rows the reading had
    to guess in the column (reached into a later line that covers it, or a hidden column's
    covering run), half of them, plus the axis fit's residual (at least half a pixel).
    Unlike ``uncertainty`` (the painted span: wide for any dense curve) this does not shrink
    when values are averaged: it is the reader's systematic doubt where the curve is hidden.
    See ``level_interval``."""
    y_mean: list[float] = field(default_factory=list)
    """Estimated mean of the values drawn in each column: ``y`` (a median: one dip does not
    move it) pulled towards the middle of the column's painted span by 2 / (points per
    column), which is what one dip among k values does to their mean. Equal to ``y`` when the
    points per column are unknown (x ticks unread) or a column holds one point or less."""
    points: list[float] | None = None
    """``y_mean`` resampled at the plotted points, when the x tick labels were read: one value
    per integer x (step or epoch) from the first drawn x to the last. A trend test on these
    sees as many points as one on the student's own numbers, and their means. None when x
    is unknown or the points are denser than integer x."""
    points_per_column: float | None = None
    """Plotted points per pixel column (from the x tick labels), None when unknown."""
    hidden: list[bool] = field(default_factory=list)
    """True where the column showed none of this series (under a later line or the legend)."""
    hidden_fraction: float = 0.0
    """Share of columns fully hidden."""
    partly_hidden_fraction: float = 0.0
    """Share of columns where a later line or the legend covered part of this series."""
    hidden_handling: str = "none"
    """``interpolated`` (hidden columns filled between visible neighbours, kept within the
    covering line's span) or ``none``."""
    pixel_count: int = 0

    def trend_values(self) -> list[float]:
        """The values a trend test should run on: ``points`` when the x ticks were read (as
        many points as the student's own numbers), else ``y_mean``, else ``y``."""
        return list(self.points or self.y_mean or self.y)

    def level_interval(self, tail_fraction: float) -> tuple[float, float, float]:
        """The mean of the last ``tail_fraction`` of ``trend_values()`` (as
        ``grader.stats.trend.fake_accuracy_trend`` computes ``final_level``) and an interval
        around it from the reading's ``level_uncertainty`` over those columns.

        Returns:
            (level, low, high); the true final level lies in [low, high] in about 90% of the
            benchmark's plots (91% on the seed-7 set the constants were tuned on, 88% on the
            held-out seed 0). NaNs when the series has no values.
        """
        values = np.asarray(self.trend_values(), float)
        values = values[np.isfinite(values)]
        if not len(values):
            return float("nan"), float("nan"), float("nan")
        level = float(values[-max(1, round(tail_fraction * len(values))):].mean())
        half = level_half_width(LEVEL_SCALE * np.asarray(self.level_uncertainty, float),
                                tail_fraction, LEVEL_BASE)
        half = LEVEL_BASE if half is None else half
        return level, level - half, level + half


@dataclass
class PanelReading:
    """One axes found in the image."""

    index: int
    """Reading order: top to bottom, then left to right."""
    bbox: list[int]
    """``[x0, y0, x1, y1]`` of the plotting area, original image pixels."""
    y_axis: AxisMap | None = None
    x_axis: AxisMap | None = None
    series: list[SeriesReading] = field(default_factory=list)
    legend_bbox: list[int] | None = None
    """Where a legend was found (original image pixels), masked out of the curves."""
    palette: str = ""
    """Colour cycle the series colours matched best (``default``, ``ggplot``, ...)."""
    notes: list[str] = field(default_factory=list)


@dataclass
class PlotReading:
    """What ``read_history_plot`` recovered from one image."""

    ok: bool
    """True when a fake-accuracy curve was read with calibrated values."""
    reason: str = ""
    """Why not, in plain English (empty when ok)."""
    width: int = 0
    height: int = 0
    panels: list[PanelReading] = field(default_factory=list)
    fake_panel: int = -1
    """Index of the panel holding the fake-accuracy series, -1 when none."""
    error: float = float("nan")
    """Overall error estimate of the fake-accuracy values, data units (median uncertainty)."""
    confidence: float = 0.0
    """0..1: how likely the fake-accuracy series is the right line and read right."""
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def fake(self) -> SeriesReading | None:
        """The fake-accuracy series, when one was identified."""
        if self.fake_panel < 0:
            return None
        return next((s for s in self.panels[self.fake_panel].series
                     if s.name == FAKE_ACCURACY), None)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON dict (NaN becomes None)."""
        return _json_safe(asdict(self))


def _json_safe(obj: Any) -> Any:
    if isinstance(obj, float):
        return obj if obj == obj and abs(obj) != float("inf") else None
    if isinstance(obj, dict):
        return {k: _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_json_safe(v) for v in obj]
    return obj
