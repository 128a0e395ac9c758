"""Plotting styles of the benchmark: the lesson's ``draw_train_history`` and what students change.

Each style is student-like plotting code (its source is what the grader would parse for hints)
plus the settings around it: a style sheet, rcParams, the dpi choices, and whether the image is
a notebook's inline PNG (cropped tight) or a file saved with ``plt.savefig``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import matplotlib.pyplot as plt
import numpy as np

from reference.plots.histories import epoch_means

#: a style's plotting function: (history dict, steps per epoch) -> draws into pyplot figures
DrawFn = Callable[[dict[str, Any], int], None]


@dataclass(frozen=True)
class Style:
    """One way of drawing the history, with the settings it is drawn under."""

    name: str
    draw: DrawFn
    """Student-like code; its source is parsed by ``plot_hints_from_code``."""
    description: str
    sheet: str = ""
    """Matplotlib style sheet applied around the call ('' = default)."""
    rc: dict[str, Any] = field(default_factory=dict)
    """Extra rcParams (figure size as the lesson sets it, fonts)."""
    dpis: tuple[int, ...] = (72, 100)
    """Resolutions drawn from, one per plot."""
    tight: bool = True
    """True for an inline notebook PNG (``bbox_inches='tight'``), False for a saved file."""
    per_epoch: bool = False
    """The code plots per-epoch means instead of per-step values."""


LESSON_RC = {"figure.figsize": (15, 6)}


# The lesson's function as printed in the course notes, minus its savefig to a course path.
def draw_train_history(history, epoch):
    # summarize history for loss
    plt.subplot(211)
    plt.plot(history['gen_loss'])
    plt.plot(history['disc_loss'])
    plt.title('model loss')
    plt.ylabel('loss')
    plt.xlabel('batch iters')
    plt.legend(['gen_loss', 'disc_loss'], loc='upper left')

    # summarize history for accuracy
    plt.subplot(212)
    plt.plot(history['fake_accuracy'])
    plt.plot(history['real_accuracy'])
    plt.title('discriminator accuracy')
    plt.ylabel('accuracy')
    plt.xlabel('batch iters')
    plt.legend(['fake_accuracy', 'real_accuracy'], loc='upper left')


def lesson_tight(history, epoch):
    plt.subplot(211)
    plt.plot(history['gen_loss'])
    plt.plot(history['disc_loss'])
    plt.title('model loss')
    plt.legend(['gen_loss', 'disc_loss'], loc='upper left')
    plt.subplot(212)
    plt.plot(history['fake_accuracy'])
    plt.plot(history['real_accuracy'])
    plt.title('discriminator accuracy')
    plt.legend(['fake_accuracy', 'real_accuracy'], loc='upper left')
    plt.tight_layout()


def one_axes_four(history, epoch):
    plt.figure(figsize=(12, 5))
    plt.plot(history['gen_loss'], label='gen_loss')
    plt.plot(history['disc_loss'], label='disc_loss')
    plt.plot(history['fake_accuracy'], label='fake_accuracy')
    plt.plot(history['real_accuracy'], label='real_accuracy')
    plt.legend()
    plt.xlabel('iteration')
    plt.title('training history')


def keys_loop(history, epoch):
    plt.figure(figsize=(14, 5))
    for key in history.keys():
        plt.plot(history[key], label=key)
    plt.legend(loc='upper right')
    plt.show()


def separate_figures(history, epoch):
    plt.figure(figsize=(10, 4))
    plt.plot(history['gen_loss'], label='generator loss')
    plt.plot(history['disc_loss'], label='discriminator loss')
    plt.legend()
    plt.title('Loss')
    plt.figure(figsize=(10, 4))
    plt.plot(history['fake_accuracy'], label='fake accuracy')
    plt.plot(history['real_accuracy'], label='real accuracy')
    plt.legend()
    plt.title('Accuracy')


def side_by_side(history, epoch):
    fig, axes = plt.subplots(1, 2, figsize=(16, 5))
    axes[0].plot(history['gen_loss'], label='G loss')
    axes[0].plot(history['disc_loss'], label='D loss')
    axes[0].set_title('loss')
    axes[0].legend()
    axes[1].plot(history['fake_accuracy'], label='fake acc')
    axes[1].plot(history['real_accuracy'], label='real acc')
    axes[1].set_title('accuracy')
    axes[1].legend()


def epoch_markers(history, steps_per_epoch):
    fake = epoch_means(history['fake_accuracy'], steps_per_epoch)
    real = epoch_means(history['real_accuracy'], steps_per_epoch)
    epochs = np.arange(1, len(fake) + 1)
    plt.figure(figsize=(10, 5))
    plt.plot(epochs, fake, 'o-', label='fake_accuracy')
    plt.plot(epochs, real, 's-', label='real_accuracy')
    plt.xlabel('epoch')
    plt.ylabel('accuracy')
    plt.legend()
    plt.grid(True)


def epoch_subplots(history, steps_per_epoch):
    g = epoch_means(history['gen_loss'], steps_per_epoch)
    d = epoch_means(history['disc_loss'], steps_per_epoch)
    fake = epoch_means(history['fake_accuracy'], steps_per_epoch)
    real = epoch_means(history['real_accuracy'], steps_per_epoch)
    plt.subplot(2, 1, 1)
    plt.plot(g, label='gen_loss')
    plt.plot(d, label='disc_loss')
    plt.legend()
    plt.subplot(2, 1, 2)
    plt.plot(fake, label='fake_accuracy')
    plt.plot(real, label='real_accuracy')
    plt.xlabel('epoch')
    plt.legend()


def ylim_unit(history, epoch):
    plt.subplot(211)
    plt.plot(history['gen_loss'])
    plt.plot(history['disc_loss'])
    plt.legend(['gen_loss', 'disc_loss'], loc='upper left')
    plt.subplot(212)
    plt.plot(history['fake_accuracy'])
    plt.plot(history['real_accuracy'])
    plt.ylim(0, 1)
    plt.legend(['fake_accuracy', 'real_accuracy'], loc='lower left')


def legend_outside(history, epoch):
    plt.figure(figsize=(13, 5))
    plt.plot(history['fake_accuracy'], label='fake_accuracy')
    plt.plot(history['real_accuracy'], label='real_accuracy')
    plt.legend(bbox_to_anchor=(1.01, 1), loc='upper left')
    plt.title('discriminator accuracy')


def legend_best(history, epoch):
    plt.subplot(211)
    plt.plot(history['gen_loss'], label='gen_loss')
    plt.plot(history['disc_loss'], label='disc_loss')
    plt.legend(loc='best')
    plt.subplot(212)
    plt.plot(history['fake_accuracy'], label='fake_accuracy')
    plt.plot(history['real_accuracy'], label='real_accuracy')
    plt.legend(loc='lower right')


def no_legend(history, epoch):
    plt.subplot(211)
    plt.plot(history['gen_loss'])
    plt.plot(history['disc_loss'])
    plt.title('model loss')
    plt.subplot(212)
    plt.plot(history['fake_accuracy'])
    plt.plot(history['real_accuracy'])
    plt.title('discriminator accuracy')


def custom_colors(history, epoch):
    plt.subplot(211)
    plt.plot(history['gen_loss'], color='tab:purple', label='gen_loss')
    plt.plot(history['disc_loss'], color='gray', label='disc_loss')
    plt.legend()
    plt.subplot(212)
    plt.plot(history['fake_accuracy'], 'r', label='fake_accuracy')
    plt.plot(history['real_accuracy'], 'g', label='real_accuracy')
    plt.legend()


def with_grid(history, epoch):
    plt.subplot(211)
    plt.plot(history['gen_loss'])
    plt.plot(history['disc_loss'])
    plt.grid(True)
    plt.legend(['gen_loss', 'disc_loss'], loc='upper left')
    plt.subplot(212)
    plt.plot(history['fake_accuracy'])
    plt.plot(history['real_accuracy'])
    plt.grid(True)
    plt.legend(['fake_accuracy', 'real_accuracy'], loc='upper left')


def korean_labels(history, epoch):
    plt.subplot(211)
    plt.plot(history['gen_loss'])
    plt.plot(history['disc_loss'])
    plt.title('손실 그래프')
    plt.xlabel('반복 횟수')
    plt.legend(['생성자 손실', '판별자 손실'], loc='upper left')
    plt.subplot(212)
    plt.plot(history['fake_accuracy'])
    plt.plot(history['real_accuracy'])
    plt.title('판별자 정확도')
    plt.xlabel('반복 횟수')
    plt.legend(['가짜 정확도', '진짜 정확도'], loc='upper left')


def epochs_axis(history, steps_per_epoch):
    x = np.arange(len(history['fake_accuracy'])) / steps_per_epoch
    plt.figure(figsize=(12, 4))
    plt.plot(x, history['fake_accuracy'], label='fake_accuracy')
    plt.plot(x, history['real_accuracy'], label='real_accuracy')
    plt.xlabel('epoch')
    plt.legend(loc='lower left')


def swapped_order(history, epoch):
    plt.subplot(211)
    plt.plot(history['disc_loss'], label='disc_loss')
    plt.plot(history['gen_loss'], label='gen_loss')
    plt.legend()
    plt.subplot(212)
    plt.plot(history['real_accuracy'], label='real_accuracy')
    plt.plot(history['fake_accuracy'], label='fake_accuracy')
    plt.legend()


def thin_alpha(history, epoch):
    plt.figure(figsize=(12, 4))
    plt.plot(history['fake_accuracy'], linewidth=0.6, alpha=0.8, label='fake_accuracy')
    plt.plot(history['real_accuracy'], linewidth=0.6, alpha=0.8, label='real_accuracy')
    plt.legend()


def keras_like(hist, epoch):
    fig = plt.figure(figsize=(12, 8))
    ax1 = fig.add_subplot(2, 1, 1)
    ax1.plot(hist.history['gen_loss'], label='gen_loss')
    ax1.plot(hist.history['disc_loss'], label='disc_loss')
    ax1.legend()
    ax2 = fig.add_subplot(2, 1, 2)
    ax2.plot(hist.history['fake_accuracy'], label='fake_accuracy')
    ax2.plot(hist.history['real_accuracy'], label='real_accuracy')
    ax2.legend()


def keras_like_call(history, epoch):
    """Wrap the dict the way a Keras ``History`` object holds it."""
    keras_like(SimpleNamespace(history=history), epoch)


def accuracy_only_loop(history, epoch):
    plt.figure(figsize=(10, 4))
    for name in ['fake_accuracy', 'real_accuracy']:
        plt.plot(history[name], label=name)
    plt.legend()
    plt.title('accuracy')


def _style(name: str, draw: DrawFn, description: str, **kw: Any) -> Style:
    return Style(name=name, draw=draw, description=description, **kw)


#: every style of the benchmark, by name
STYLES: dict[str, Style] = {s.name: s for s in (
    _style("lesson_inline", draw_train_history, "the lesson's function, notebook inline PNG",
           rc=LESSON_RC),
    _style("lesson_saved", draw_train_history, "the lesson's function, the file its savefig "
           "writes", rc=LESSON_RC, dpis=(100,), tight=False),
    _style("lesson_tight_layout", lesson_tight, "lesson with tight_layout, saved at 100-150 dpi",
           rc=LESSON_RC, dpis=(100, 150), tight=False),
    _style("one_axes_four", one_axes_four, "one axes, four labelled lines"),
    _style("keys_loop", keys_loop, "one axes, a loop over history keys (fake is C3)"),
    _style("separate_figures", separate_figures, "loss and accuracy in two figures"),
    _style("side_by_side", side_by_side, "plt.subplots(1, 2), labels 'fake acc'/'real acc'"),
    _style("seaborn_darkgrid", draw_train_history, "seaborn-v0_8-darkgrid sheet",
           sheet="seaborn-v0_8-darkgrid", rc=LESSON_RC),
    _style("seaborn_whitegrid", draw_train_history, "seaborn-v0_8-whitegrid sheet",
           sheet="seaborn-v0_8-whitegrid", rc=LESSON_RC),
    _style("seaborn_deep", legend_best, "seaborn-v0_8 sheet (deep palette), legend moved",
           sheet="seaborn-v0_8", rc=LESSON_RC),
    _style("seaborn_talk", draw_train_history, "seaborn-v0_8-talk (large fonts)",
           sheet="seaborn-v0_8-talk", rc=LESSON_RC),
    _style("ggplot", draw_train_history, "ggplot sheet", sheet="ggplot", rc=LESSON_RC),
    _style("bmh", draw_train_history, "bmh sheet", sheet="bmh", rc=LESSON_RC),
    _style("fivethirtyeight", accuracy_only_loop, "fivethirtyeight sheet (no spines, thick lines)",
           sheet="fivethirtyeight"),
    _style("dark_background", draw_train_history, "dark_background sheet",
           sheet="dark_background", rc=LESSON_RC),
    _style("solarize", side_by_side, "Solarize_Light2 sheet", sheet="Solarize_Light2"),
    _style("epoch_markers", epoch_markers, "per-epoch means, 'o-' markers, x in epochs",
           per_epoch=True),
    _style("epoch_subplots", epoch_subplots, "per-epoch means in the lesson's two panels",
           rc=LESSON_RC, per_epoch=True),
    _style("ylim_unit", ylim_unit, "accuracy panel with plt.ylim(0, 1)", rc=LESSON_RC),
    _style("legend_outside", legend_outside, "accuracy only, legend outside the axes"),
    _style("legend_best", legend_best, "legend loc='best' / 'lower right'", rc=LESSON_RC),
    _style("no_legend", no_legend, "the lesson without legends", rc=LESSON_RC),
    _style("custom_colors", custom_colors, "explicit colours ('r', 'g', 'tab:purple')",
           rc=LESSON_RC),
    _style("grid", with_grid, "plt.grid(True)", rc=LESSON_RC),
    _style("korean", korean_labels, "Korean titles and legend (no Hangul glyphs: boxes)",
           rc=LESSON_RC),
    _style("epochs_axis", epochs_axis, "per-step values, x axis in epochs", per_epoch=False),
    _style("swapped_order", swapped_order, "real plotted before fake (fake is C1)", rc=LESSON_RC),
    _style("thin_alpha", thin_alpha, "linewidth 0.6, alpha 0.8"),
    _style("keras_like", keras_like_call, "fig.add_subplot, hist.history[...]", dpis=(72, 100)),
    _style("high_dpi", draw_train_history, "saved at 200-300 dpi, 12x8 inches",
           rc={"figure.figsize": (12, 8)}, dpis=(200, 300), tight=False),
    _style("small_figure", draw_train_history, "the lesson at the default 6.4x4.8 inches, 72 dpi",
           dpis=(72,)),
    _style("serif_font", draw_train_history, "DejaVu Serif tick labels",
           rc={**LESSON_RC, "font.family": "serif"}),
)}


def style_source_function(style: Style) -> DrawFn:
    """The function whose source a grader would see (the wrapped one for ``keras_like``)."""
    return keras_like if style.draw is keras_like_call else style.draw
