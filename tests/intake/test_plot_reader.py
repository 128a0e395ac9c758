"""History-plot reader: plots drawn here with matplotlib (Agg) are read back as numbers."""

from __future__ import annotations

import inspect
import io
import json
import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from grader.intake.figures.plots import (  # noqa: E402
    FAKE_ACCURACY,
    plot_hints_from_code,
    read_history_plot,
)
from reference.plots import styles  # noqa: E402

# the lesson's plotting function, as the course prints it (one copy: the plot generator's)
LESSON_SOURCE = "\n" + inspect.getsource(styles.draw_train_history)
LESSON_RC = styles.LESSON_RC


@pytest.fixture(scope="module")
def history() -> dict[str, np.ndarray]:
    """3,000 steps at batch 128: fake accuracy peaks early and falls towards 0.55."""
    rng = np.random.default_rng(0)
    n = 3000
    t = np.linspace(0, 1, n)
    p_fake = 0.55 + 0.4 * np.exp(-t / 0.3)
    return {"gen_loss": 1.5 + rng.gamma(2, 0.3, n), "disc_loss": 0.4 + rng.gamma(2, 0.05, n),
            "real_accuracy": rng.binomial(128, np.full(n, 0.9)) / 128,
            "fake_accuracy": rng.binomial(128, p_fake) / 128}


def _runner(source: str, **names):
    """A draw(history) that runs our own fixture code (never student code)."""
    def draw(history):
        namespace = {"plt": plt, "np": np, "history": history, **names}
        exec(source, namespace)
        if "draw_train_history" in namespace:
            namespace["draw_train_history"](history, 0)
    return draw


def _png(draw, history: dict, rc: dict | None = None, style: str = "default",
         dpi: int = 72) -> bytes:
    """The figure as a notebook shows it inline: PNG, cropped tight."""
    plt.close("all")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # missing Hangul glyphs
        with plt.style.context(style), matplotlib.rc_context({**(rc or {}), "figure.dpi": dpi}):
            draw(history)
            buf = io.BytesIO()
            plt.gcf().savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    plt.close("all")
    return buf.getvalue()


def _bin_means(v: np.ndarray, n: int = 10) -> np.ndarray:
    return np.array([c.mean() for c in np.array_split(np.asarray(v, float), n)])


def _check_fake(reading, truth: np.ndarray, colour: str, tol: float = 0.04,
                first_x: float = 0.0) -> None:
    """The fake-accuracy line was found, has the right colour, and where it showed its values
    follow the truth: means of ten stretches of columns within ``tol`` of the truth there."""
    assert reading.ok, reading.reason
    fake = reading.fake
    assert fake is not None and fake.name == FAKE_ACCURACY
    assert fake.color == colour
    assert fake.x is not None
    x, y = np.array(fake.x), np.array(fake.y_mean)
    shown = ~np.array(fake.hidden)
    per_column = max(1, round(len(truth) / len(x)))
    smooth = np.convolve(truth, np.ones(per_column) / per_column, mode="same")
    expected = np.interp(x, first_x + np.arange(len(truth)), smooth)
    assert np.max(np.abs(_bin_means(y[shown]) - _bin_means(expected[shown]))) < tol
    assert 0.0 < reading.confidence <= 1.0
    json.dumps(reading.to_dict())  # plain data


def test_lesson_function_is_read(history):
    png = _png(_runner(LESSON_SOURCE), history, rc=LESSON_RC)
    reading = read_history_plot(png, plot_hints_from_code(LESSON_SOURCE))
    _check_fake(reading, history["fake_accuracy"], "#1f77b4")
    assert reading.fake_panel == 1 and len(reading.panels) == 2
    fake = reading.fake
    assert fake.legend_text == "fake_accuracy"  # read off the legend
    # the legend (upper left) and real accuracy drawn later hide parts of it: reported
    assert 0.02 < fake.hidden_fraction < 0.5 and fake.hidden_handling == "interpolated"
    assert reading.panels[1].legend_bbox is not None
    assert fake.x is not None and abs(fake.x[0]) < 30 and abs(fake.x[-1] - 2999) < 30
    assert len(fake.points) == pytest.approx(3000, abs=40)
    assert "1.0" in reading.panels[1].y_axis.labels
    assert reading.seconds < 5


def test_lesson_without_hints_or_legend_uses_the_lesson_order(history):
    source = "\n".join(ln for ln in LESSON_SOURCE.splitlines() if "legend" not in ln)
    reading = read_history_plot(_png(_runner(source), history, rc=LESSON_RC))
    _check_fake(reading, history["fake_accuracy"], "#1f77b4")
    assert reading.fake.source == "default_order"


def test_one_axes_four_lines(history):
    source = '''
plt.figure(figsize=(12, 5))
for key in ['gen_loss', 'disc_loss', 'real_accuracy', 'fake_accuracy']:
    plt.plot(history[key], label=key)
plt.legend()
'''
    png = _png(_runner(source), history, dpi=100)
    reading = read_history_plot(png, plot_hints_from_code(source))
    _check_fake(reading, history["fake_accuracy"], "#d62728")  # C3: plotted fourth
    assert len(reading.panels) == 1 and len(reading.panels[0].series) >= 4


def test_per_epoch_means_with_markers(history):
    fake = history["fake_accuracy"].reshape(-1, 150).mean(axis=1)
    real = history["real_accuracy"].reshape(-1, 150).mean(axis=1)
    source = '''
plt.figure(figsize=(10, 5))
plt.plot(epochs, fake, 'o-', label='fake_accuracy')
plt.plot(epochs, real, 's-', label='real_accuracy')
plt.xlabel('epoch')
plt.legend()
'''
    draw = _runner(source, epochs=np.arange(1, len(fake) + 1), fake=fake, real=real)
    reading = read_history_plot(_png(draw, history, dpi=100), plot_hints_from_code(source))
    _check_fake(reading, fake, "#1f77b4", tol=0.02, first_x=1.0)
    points = np.array(reading.fake.points)
    assert len(points) == len(fake)  # one value per epoch: x read off the ticks
    assert np.max(np.abs(points - fake)) < 0.03


def test_seaborn_style(history):
    png = _png(_runner(LESSON_SOURCE), history, rc=LESSON_RC, style="seaborn-v0_8")
    reading = read_history_plot(png, plot_hints_from_code(LESSON_SOURCE))
    _check_fake(reading, history["fake_accuracy"], "#4c72b0")  # seaborn deep palette, C0
    assert reading.panels[reading.fake_panel].palette.startswith("seaborn")


def test_korean_title_and_legend(history):
    source = LESSON_SOURCE.replace("'discriminator accuracy'", "'판별자 정확도'").replace(
        "['fake_accuracy', 'real_accuracy']", "['가짜 정확도', '진짜 정확도']")
    reading = read_history_plot(_png(_runner(source), history, rc=LESSON_RC),
                                plot_hints_from_code(source))
    _check_fake(reading, history["fake_accuracy"], "#1f77b4")
    assert reading.fake.source == "code_hints"  # boxes drawn for missing glyphs are not read
    assert reading.fake.legend_text == ""


def test_photo_like_image_is_not_a_plot():
    rng = np.random.default_rng(1)
    photo = np.cumsum(rng.integers(0, 40, (300, 400, 3)), axis=1) % 256
    reading = read_history_plot(photo.astype(np.uint8))
    assert not reading.ok
    assert reading.reason in ("no axes found", "tick labels unreadable")


@pytest.mark.parametrize("data", [b"", b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, b"not an image"])
def test_garbage_bytes_give_a_reason(data):
    reading = read_history_plot(data)
    assert not reading.ok and reading.reason
    json.dumps(reading.to_dict())


def test_truncated_png_gives_a_reason(history):
    png = _png(_runner(LESSON_SOURCE), history, rc={"figure.figsize": (8, 4)})
    reading = read_history_plot(png[: len(png) // 2])
    assert not reading.ok and "decoded" in reading.reason


def test_hints_from_lesson_source():
    hints = plot_hints_from_code(LESSON_SOURCE)
    assert hints.series_names == [["gen_loss", "disc_loss"], ["fake_accuracy", "real_accuracy"]]
    assert [s.label for s in hints.axes[1].series] == ["fake_accuracy", "real_accuracy"]
    assert hints.to_dict()["series_names"][1][0] == "fake_accuracy"


def test_hints_from_other_patterns():
    source = '''
import matplotlib.pyplot as plt
%matplotlib inline
fig, axes = plt.subplots(1, 2, figsize=(14, 4))
for name, colour in zip(['gen_loss', 'disc_loss'], ['r', 'b']):
    axes[0].plot(history[name], color=colour, label=name)
fake = np.array(hist.history['fake_accuracy'])
axes[1].plot(fake, 'g--', label='D(G(z)) acc')
axes[1].plot(hist.history['real_accuracy'])
axes[1].legend()
'''
    hints = plot_hints_from_code(source)
    assert hints.series_names == [["gen_loss", "disc_loss"], ["fake_accuracy", "real_accuracy"]]
    assert [s.color for s in hints.axes[0].series] == ["r", "b"]
    first = hints.axes[1].series[0]
    assert first.color == "g" and first.label == "D(G(z)) acc"


def test_hints_of_unparseable_code_are_empty():
    assert plot_hints_from_code("def f(:\n  plt.plot(").empty
    assert plot_hints_from_code("").empty


def _high_history(n: int = 6000, seed: int = 3) -> dict[str, np.ndarray]:
    """A discriminator that stays on top: fake accuracy ~0.97 with downward dips, real
    accuracy lower (~0.85), drawn after it."""
    rng = np.random.default_rng(seed)
    z = np.full(n, np.log(0.97 / 0.03)) + rng.normal(0, 0.4, n)
    for s in rng.integers(0, n, n // 100):
        z[s:s + 3] -= rng.uniform(1, 4)
    fake = rng.binomial(128, 1 / (1 + np.exp(-z))) / 128
    real = rng.binomial(128, np.full(n, 0.85)) / 128
    return {"gen_loss": 3 + rng.gamma(2, 0.3, n), "disc_loss": 0.2 + rng.gamma(2, 0.05, n),
            "real_accuracy": real, "fake_accuracy": fake}


def test_high_curve_over_a_lower_line_keeps_its_level():
    """Fake accuracy near the ceiling with real accuracy drawn over its lower edge: the level
    sits below the top edge as in the clear columns, not halfway into the line beneath
    (this read 0.007 low before; 0.04-0.06 on denser benchmark plots), and the final level's
    interval holds the truth."""
    history = _high_history()
    png = _png(_runner(LESSON_SOURCE), history, rc=LESSON_RC)
    reading = read_history_plot(png, plot_hints_from_code(LESSON_SOURCE))
    _check_fake(reading, history["fake_accuracy"], "#1f77b4")
    fake = reading.fake
    assert fake.partly_hidden_fraction > 0.3  # the real-accuracy line touches it a lot
    truth = history["fake_accuracy"][-600:].mean()
    level, low, high = fake.level_interval(0.1)
    assert abs(level - truth) < 0.004
    assert low <= truth <= high and high - low < 0.1
    assert fake.trend_values() == fake.points
    assert len(fake.level_uncertainty) == len(fake.y)


def test_a_missed_legend_swatch_is_not_data():
    """A legend entry whose text was not read leaves its swatch (a short dash) just outside
    the legend's box; it is dropped, so it cannot stretch the curves' run to the left (it
    did: readings started ~4% of the run before the first step). Curve pieces cut off by the
    legend's box, or reaching out of its surroundings, stay."""
    from grader.intake.figures.plots.analyse import _drop_swatches

    em = 10.0
    mask = np.zeros((60, 120), bool)
    mask[24:26, 5:25] = True  # a dash 2 rows tall, 2 em long, near the box
    mask[20:23, 40:44] = True  # a curve's stub under the legend: too short for a swatch
    mask[22:24, 60:119] = True  # a line leaving the surroundings
    near = np.zeros_like(mask)
    near[:35, :80] = True
    kept = _drop_swatches(mask, near, em)
    assert not kept[24:26, 5:25].any()
    assert kept[20:23, 40:44].all() and kept[22:24, 60:119].all()
    assert (_drop_swatches(mask, np.zeros_like(mask), em) == mask).all()


def test_a_swatch_left_of_the_curve_is_dropped_without_a_legend():
    """Where no legend was found, a dash set apart by empty columns before the curve is its
    swatch; specks alone (the curve's own bits poking out under a legend) stay."""
    from grader.intake.figures.plots.analyse import _drop_edge_dashes

    em = 10.0
    mask = np.zeros((60, 200), bool)
    mask[10:12, 3:23] = True  # the swatch
    mask[30, 28] = True  # a speck of antialiased legend text, next to it
    rows = (30 + 10 * np.sin(np.arange(40, 200) / 9)).astype(int)
    mask[rows, np.arange(40, 200)] = True  # the curve
    kept = _drop_edge_dashes(mask, em)
    assert not kept[:, :40].any() and (kept[:, 40:] == mask[:, 40:]).all()
    specks = mask.copy()
    specks[10:12, 3:23] = False
    specks[45, 5:7] = True
    assert (_drop_edge_dashes(specks, em) == specks).all()


def test_level_interval_without_values_is_nan():
    from grader.intake.figures.plots import SeriesReading

    level, low, high = SeriesReading(name="", color="#000000", source="").level_interval(0.1)
    assert np.isnan(level) and np.isnan(low) and np.isnan(high)
