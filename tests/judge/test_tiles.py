"""Tile extraction from matplotlib figures of real CIFAR-10 images, and image file reading."""

from __future__ import annotations

import io

import numpy as np
import pytest

from grader.intake.figures.tiles import (
    ImageFileError,
    extract_frame_tiles,
    extract_tiles,
    read_frames,
)

from .conftest import lesson_grid, render_png

MAX_MAE = 10.0  # mean abs error (0..255) of an extracted tile vs the original image


def _mae(tiles: np.ndarray, originals: np.ndarray) -> float:
    return float(np.abs(tiles.astype(float) - originals[: len(tiles)].astype(float)).mean())


@pytest.mark.parametrize("kwargs, rows, cols", [
    ({}, 4, 4),                                               # the lesson: figsize (4, 4), axis off
    ({"title": True}, 4, 4),
    ({"colorbar": True}, 4, 4),
    ({"axis_off": False}, 4, 4),                              # spines, ticks and tick labels
    ({"rows": 5, "cols": 5, "figsize": (5, 5)}, 5, 5),
    ({"rows": 2, "cols": 8, "figsize": (8, 2)}, 2, 8),
    ({"rows": 2, "cols": 5, "figsize": (10, 5)}, 2, 5),
])
def test_lesson_style_grids(real_images, kwargs, rows, cols):
    r = extract_tiles(lesson_grid(real_images, **kwargs))
    assert r.kind == "grid"
    assert (r.rows, r.cols) == (rows, cols)
    assert r.tiles.shape == (rows * cols, 32, 32, 3)
    assert not r.colormapped
    assert _mae(r.tiles, real_images) < MAX_MAE


def test_subplots_with_tight_layout(real_images):
    import matplotlib.pyplot as plt

    fig, axs = plt.subplots(4, 4)
    for k, ax in enumerate(axs.flat):
        ax.imshow(real_images[k])
        ax.axis("off")
    fig.tight_layout()
    r = extract_tiles(render_png(fig))
    assert (r.kind, r.rows, r.cols) == ("grid", 4, 4)
    assert _mae(r.tiles, real_images) < MAX_MAE


def _subplot_grid(images, rows: int, cols: int, figsize, hspace: float,
                  axis_off: bool = True) -> np.ndarray:
    """``plt.subplots`` grid with no gap between columns (``wspace=0``), rendered as PNG;
    ``axis_off=False`` keeps the spines (ticks off)."""
    import matplotlib.pyplot as plt

    fig, axs = plt.subplots(rows, cols, figsize=figsize)
    for k, ax in enumerate(axs.flat):
        ax.imshow(images[k])
        if axis_off:
            ax.axis("off")
        else:
            ax.set_xticks([])
            ax.set_yticks([])
    fig.subplots_adjust(wspace=0, hspace=hspace)
    return render_png(fig)


def test_gapless_columns_are_split(real_images):
    r = extract_tiles(_subplot_grid(real_images, 2, 8, (8, 2.4), hspace=0.2))
    assert (r.kind, r.rows, r.cols) == ("grid", 2, 8)
    assert _mae(r.tiles, real_images) < MAX_MAE


@pytest.mark.parametrize("cmap", ["viridis", "gray"])
def test_channel_zero_through_a_colormap_is_flagged(real_images, cmap):
    r = extract_tiles(lesson_grid(real_images, cmap=cmap))
    assert r.kind == "grid" and len(r.tiles) == 16
    assert r.colormapped and r.colormap == cmap


def test_rgb_grid_is_not_colormapped(real_images):
    assert not extract_tiles(lesson_grid(real_images)).colormapped


def test_history_chart_is_a_chart():
    import matplotlib.pyplot as plt

    rng = np.random.default_rng(0)
    fig = plt.figure(figsize=(15, 6))  # the lesson's rcParams['figure.figsize']
    plt.subplot(211)
    plt.plot(rng.normal(1.0, 0.3, 3000))
    plt.plot(rng.normal(0.7, 0.2, 3000))
    plt.title("model loss")
    plt.legend(["gen_loss", "disc_loss"], loc="upper left")
    plt.subplot(212)
    plt.plot(rng.uniform(0, 1, 3000))
    plt.plot(rng.uniform(0, 1, 3000))
    plt.title("discriminator accuracy")
    r = extract_tiles(render_png(fig))
    assert r.kind == "chart"
    assert len(r.tiles) == 0


def test_single_image_with_colorbar_and_axes(real_images):
    import matplotlib.pyplot as plt

    fig = plt.figure()
    plt.imshow(real_images[3])
    plt.colorbar()
    r = extract_tiles(render_png(fig))
    assert r.kind == "single" and len(r.tiles) == 1
    assert _mae(r.tiles, real_images[3:4]) < MAX_MAE


def test_bare_image_and_gapless_mosaic(real_images):
    single = extract_tiles(real_images[0])
    assert single.kind == "single"
    np.testing.assert_array_equal(single.tiles[0], real_images[0])
    mosaic = np.concatenate([np.concatenate(list(real_images[r * 4:(r + 1) * 4]), axis=1)
                             for r in range(4)])
    r = extract_tiles(mosaic)
    assert (r.kind, r.rows, r.cols) == ("grid", 4, 4)
    np.testing.assert_array_equal(r.tiles, real_images[:16])


def test_transparent_background(real_images):
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(4, 4))
    for i in range(16):
        plt.subplot(4, 4, i + 1)
        plt.imshow(real_images[i])
        plt.axis("off")
    buf = io.BytesIO()
    fig.savefig(buf, format="png", transparent=True)
    plt.close(fig)
    from PIL import Image

    rgba = np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGBA"))
    r = extract_tiles(rgba)
    assert (r.kind, len(r.tiles)) == ("grid", 16)


def test_gif_frames_and_png_file(tmp_path, real_images):
    import imageio.v2 as imageio

    frames = [lesson_grid(real_images[i * 16:]) [..., :3] for i in range(3)]
    gif = tmp_path / "progress.gif"
    imageio.mimsave(gif, frames)
    read = read_frames(gif)
    loaded = read.frames
    assert len(loaded) == 3 and not read.damaged
    r = extract_tiles(loaded[1])
    assert (r.kind, len(r.tiles)) == ("grid", 16)
    assert _mae(r.tiles, real_images[16:]) < 2 * MAX_MAE  # GIF palette costs some colour


def test_animation_frames_share_one_layout(real_images):
    """Frames of one GIF are cut with one layout: the same tiles as reading each frame alone,
    and a frame of another size (a figure that grew) is still read on its own."""
    frames = [lesson_grid(real_images[i * 4:], title=i % 2 == 0)[..., :3] for i in range(6)]
    odd = lesson_grid(real_images[40:], rows=2, cols=8, figsize=(8, 2))[..., :3]
    frames.insert(2, odd)
    shared = extract_frame_tiles(frames, (32, 32, 3))
    alone = [extract_tiles(f, (32, 32, 3)) for f in frames]
    assert len(shared) == len(frames)
    assert (shared[2].rows, shared[2].cols) == (2, 8)  # not forced into the 4x4 layout
    for i, (a, b) in enumerate(zip(alone, shared)):
        assert (a.kind, a.rows, a.cols, len(a.tiles)) == (b.kind, b.rows, b.cols, len(b.tiles))
        start = 40 if i == 2 else (i if i < 2 else i - 1) * 4
        assert _mae(b.tiles, real_images[start:]) < MAX_MAE
    assert extract_frame_tiles([], (32, 32, 3)) == []


def test_corrupt_and_missing_files_give_plain_errors(tmp_path):
    bad = tmp_path / "sample.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + b"not really a png" * 4)
    with pytest.raises(ImageFileError) as exc:
        read_frames(bad)
    assert "sample.png" in exc.value.student and "Traceback" not in exc.value.student
    assert "sample.png" in exc.value.message.ko and "읽을 수" in exc.value.message.ko
    with pytest.raises(ImageFileError) as exc:
        read_frames(tmp_path / "missing.png")
    assert "missing.png" in exc.value.message.ko


def test_truncated_gif_keeps_the_frames_before_the_damage(tmp_path, real_images):
    import imageio.v2 as imageio

    gif = tmp_path / "progress.gif"
    imageio.mimsave(gif, [lesson_grid(real_images[i * 16:])[..., :3] for i in range(4)])
    data = gif.read_bytes()
    whole = read_frames(gif)
    cut = tmp_path / "cut.gif"
    cut.write_bytes(data[: int(len(data) * 0.6)])
    read = read_frames(cut)
    assert read.damaged and 1 <= len(read.frames) < len(whole.frames)
    assert all((a == b).all() for a, b in zip(read.frames, whole.frames))
    cut.write_bytes(data[:200])  # broken inside the first frame: nothing to keep
    with pytest.raises(ImageFileError):
        read_frames(cut)


def test_bad_array_is_a_value_error():
    with pytest.raises(ValueError):
        extract_tiles(np.zeros((10, 10, 2), np.uint8))
    with pytest.raises(ValueError):
        extract_tiles(np.zeros((10, 10, 3), np.float32))


def test_pale_edges_do_not_lose_panels(real_images):
    pale = real_images[:16].copy()
    pale[:4, :5] = 255  # the first grid row: white sky at the top of every image
    pale[4:8, -6:] = 250  # the second: near-white ground at the bottom
    r = extract_tiles(lesson_grid(pale))
    assert (r.kind, r.rows, r.cols) == ("grid", 4, 4)
    heights = {b - t for t, _, b, _ in r.boxes}
    widths = {rr - left for _, left, _, rr in r.boxes}
    assert max(heights) - min(heights) <= 2 and max(widths) - min(widths) <= 2
    assert _mae(r.tiles, pale) < MAX_MAE


def _lesson_history_png(n: int, dpi: int, style: str | None = None) -> np.ndarray:
    """The lesson's ``draw_train_history`` (15x6 inches, two panels) on the long baseline's
    per-step history, saved as the notebook's inline backend does (tight bounding box)."""
    import json
    from pathlib import Path

    import matplotlib.pyplot as plt
    from PIL import Image

    path = Path(__file__).resolve().parents[2] / "reference/baselines/long/history.json"
    h = json.loads(path.read_text())["history"]
    with plt.style.context(style or "default"):
        fig = plt.figure(figsize=(15, 6))
        plt.subplot(211)
        plt.plot(h["gen_loss"][:n])
        plt.plot(h["disc_loss"][:n])
        plt.title("model loss")
        plt.legend(["gen_loss", "disc_loss"], loc="upper left")
        plt.subplot(212)
        plt.plot(h["fake_accuracy"][:n])
        plt.plot(h["real_accuracy"][:n])
        plt.title("discriminator accuracy")
        plt.legend(["fake_accuracy", "real_accuracy"], loc="upper left")
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
        plt.close(fig)
    return np.asarray(Image.open(buf).convert("RGB"))


@pytest.mark.parametrize("n, dpi", [(1000, 59), (1000, 72), (4680, 72), (4680, 100)])
def test_dense_history_plot_is_not_a_grid(n, dpi):
    # Dense per-step curves fill the plot area; cut into equal parts it passed for 2 x 13
    # or 2 x 32 "panels" (a history plot in a training cell was then read as its samples).
    r = extract_tiles(_lesson_history_png(n, dpi))
    assert r.kind not in ("grid", "single"), r.notes


def test_seaborn_history_plot_is_not_a_grid():
    # seaborn's white grid lines cut the grey plot area into square-looking panels
    r = extract_tiles(_lesson_history_png(4680, 100, "seaborn-v0_8"))
    assert r.kind not in ("grid", "single"), r.notes


@pytest.mark.parametrize("name", ["darkgrid_history.png", "styled_history_three_panels.png"])
def test_face_coloured_history_plot_is_not_a_grid(name):
    # two history plots of the plot benchmark (make_history_plots --seed 0: plot_0039 and
    # plot_0347) that were read as 2 x 6 and 1 x 3 grids: a flat face colour crossed by grid
    # lines, cut into square-looking cells
    from pathlib import Path

    from PIL import Image

    rgb = np.asarray(Image.open(Path(__file__).parent / "assets" / name).convert("RGB"))
    r = extract_tiles(rgb)
    assert r.kind not in ("grid", "single"), r.notes


@pytest.mark.parametrize("style", ["seaborn-v0_8-darkgrid", "Solarize_Light2", "ggplot"])
def test_grid_shown_under_a_face_coloured_style_is_still_a_grid(style, real_images):
    import matplotlib.pyplot as plt  # the style a student set for the history plot stays on

    with plt.style.context(style):
        r = extract_tiles(lesson_grid(real_images[:16]))
    assert (r.kind, r.rows, r.cols) == ("grid", 4, 4), r.notes


def test_gapless_grid_of_noise_images_is_still_split():
    # untrained generators show noise: no visible seams between gap-less panels, but no
    # background inside them either
    noise = np.random.default_rng(0).integers(0, 256, (16, 32, 32, 3), dtype=np.uint8)
    r = extract_tiles(_subplot_grid(noise, 2, 8, (8, 2.4), hspace=0.2))
    assert (r.kind, r.rows, r.cols) == ("grid", 2, 8)


def test_before_after_figure_is_cut_into_its_two_grids(real_images):
    # the improvement section's comparison: two saved grid figures shown side by side
    import matplotlib.pyplot as plt

    from grader.intake.figures.tiles import split_pair

    before, after = lesson_grid(real_images[:16]), lesson_grid(real_images[16:32])
    fig = plt.figure(figsize=(10, 5))
    for k, (title, grid) in enumerate((("before", before), ("after", after))):
        plt.subplot(1, 2, k + 1)
        plt.imshow(grid)
        plt.title(title)
        plt.axis("off")
    pair = split_pair(render_png(fig))
    assert pair is not None
    (a, b) = pair
    assert (a.rows, a.cols, b.rows, b.cols) == (4, 4, 4, 4)
    assert _mae(a.tiles, real_images[:16]) < 2 * MAX_MAE  # shown smaller: resampled twice
    assert _mae(b.tiles, real_images[16:32]) < 2 * MAX_MAE
    assert split_pair(lesson_grid(real_images)) is None  # one grid is not a comparison


@pytest.mark.parametrize("n", [4, 8, 10])
@pytest.mark.parametrize("axis_off", [True, False])
def test_grids_without_any_gaps_are_cut_into_their_images(real_images, n, axis_off):
    # subplots_adjust(wspace=0, hspace=0): with the axes off, gap-less runs of two panels
    # outnumbered the lone panels (a 2x2 block read as one tile); with ticks off but spines on,
    # the whole grid was one square panel, read as a single image
    r = extract_tiles(_subplot_grid(real_images, n, n, (n, n), hspace=0, axis_off=axis_off))
    assert (r.kind, r.rows, r.cols) == ("grid", n, n), r.notes
    assert _mae(r.tiles, real_images) < 2 * MAX_MAE


def test_one_large_sample_with_a_colorbar_stays_one_image(real_images):
    # the lesson's sanity plot: one image drawn large, whose pixel blocks have seams too
    import matplotlib.pyplot as plt

    fig = plt.figure()
    plt.imshow(real_images[5][:, :, 0])
    plt.colorbar()
    r = extract_tiles(render_png(fig))
    assert r.kind == "single" and len(r.tiles) == 1
