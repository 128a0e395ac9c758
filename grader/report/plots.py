"""History plots for the report: losses and accuracies with the trend test and the 0.5 line."""

from __future__ import annotations

import io
from typing import Any

from grader.evidence import History
from grader.stats.trend import moving_average


def history_png(history: History, trend: dict[str, Any] | None = None, title: str = "") -> bytes:
    """Render a grader-recorded history as a PNG (matplotlib Agg, no pyplot state).

    Args:
        history: per-step losses and trusted accuracies.
        trend: ``TrendStats.to_dict()`` of the fake accuracy, to mark the peak and the bin means.
        title: plot title (ASCII: the default font has no Hangul glyphs).

    Returns:
        PNG bytes.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(8, 5.2), dpi=80)
    FigureCanvasAgg(fig)
    ax_loss, ax_acc = fig.subplots(2, 1, sharex=True)
    steps = range(len(history.fake_accuracy))
    if history.gen_loss:
        ax_loss.plot(history.gen_loss, lw=0.8, label="gen_loss")
    if history.disc_loss:
        ax_loss.plot(history.disc_loss, lw=0.8, label="disc_loss")
    ax_loss.set_ylabel("loss")
    ax_loss.legend(loc="upper right", fontsize=8)
    ax_loss.set_title(title, fontsize=10)
    if history.fake_accuracy:
        ax_acc.plot(steps, history.fake_accuracy, lw=0.6, alpha=0.45, color="tab:red",
                    label="fake_accuracy (grader)")
        window = max(1, len(history.fake_accuracy) // 20)
        ax_acc.plot(steps, moving_average(history.fake_accuracy, window), lw=1.6,
                    color="tab:red", label="fake_accuracy, smoothed")
    if history.real_accuracy:
        ax_acc.plot(history.real_accuracy, lw=0.6, alpha=0.45, color="tab:blue",
                    label="real_accuracy (grader)")
    if history.student_fake_accuracy:
        ax_acc.plot(history.student_fake_accuracy, lw=0.8, ls=":", color="tab:purple",
                    label="fake_accuracy (your function)")
    if trend:
        ax_acc.scatter(trend.get("bin_steps", []), trend.get("bin_means", []), s=14, zorder=3,
                       color="black", label="bin means (trend test)")
        ax_acc.axvline(trend.get("peak_step", 0), color="gray", lw=0.8, ls="-.",
                       label="early peak")
    ax_acc.axhline(0.5, color="black", lw=1.0, ls="--", label="0.5")
    ax_acc.set_ylim(-0.02, 1.02)
    ax_acc.set_ylabel("accuracy")
    ax_acc.set_xlabel("training step")
    ax_acc.legend(loc="lower left", fontsize=7, ncol=3)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def frame_quality_png(values: list[float], metric: str, rho: float | None = None) -> bytes:
    """A small plot of per-frame quality over the GIF's frames."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(5, 2.2), dpi=80)
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    ax.plot(range(1, len(values) + 1), values, marker="o", ms=3, lw=1.2, color="tab:green")
    ax.set_xlabel("GIF frame")
    ax.set_ylabel(metric.replace("_", " "), fontsize=8)
    if rho is not None:
        ax.set_title(f"Spearman rho {rho:.2f}", fontsize=9)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()
