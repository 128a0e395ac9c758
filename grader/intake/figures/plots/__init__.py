"""History-plot reader: the curves of a student's training-history plot, recovered as numbers.

``read_history_plot(image, hints)`` finds the axes, reads the tick labels, separates the lines
by colour, names them (legend text, else the plotting order from ``plot_hints_from_code``) and
returns a value per pixel column with error bars and a confidence. Pure pixels in, plain data
out: nothing from the student is executed.
"""

from grader.intake.figures.plots.hints import plot_hints_from_code
from grader.intake.figures.plots.reader import read_history_plot
from grader.intake.figures.plots.records import (
    FAKE_ACCURACY,
    AxesHint,
    AxisMap,
    PanelReading,
    PlotHints,
    PlotReading,
    SeriesHint,
    SeriesReading,
)

__all__ = [
    "FAKE_ACCURACY", "AxesHint", "AxisMap", "PanelReading", "PlotHints", "PlotReading",
    "SeriesHint", "SeriesReading", "plot_hints_from_code", "read_history_plot",
]
