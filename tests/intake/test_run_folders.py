"""Saved figures are matched to the run whose code writes them (issue 15: which output came
from which run), and a colour-mapped GIF is read back to the channel it shows."""

from __future__ import annotations

import ast

import numpy as np

from grader.evidence import Artifact
from grader.intake.chunks import Chunk
from grader.intake.figures.tiles import _luts, channel_of
from grader.intake.runs import RunMap, build_run_map, image_dirs
from grader.intake.submission import EmbeddedImage
from grader.judge.evaluate import written_by

BASE_DRAW = """\
def draw_train_history(history, epoch):
    plt.savefig('{}/aiffel/dcgan_newimage/cifar10/training_history/train_history_{:04d}.png'
                .format(os.getenv('HOME'), epoch))
"""
V2_DRAW = BASE_DRAW.replace("cifar10/", "cifar10_v2/").replace(".format", "\n .format")
V2_FSTRING = 'def save(epoch):\n    plt.savefig(f"{HOME}/cifar10_v2/samples/sample_{epoch:04d}.png")\n'


def _chunk(cell: int, text: str) -> Chunk:
    return Chunk(file="nb.ipynb", raw=text, cell=cell, text=text, tree=ast.parse(text))


def test_image_dirs_reads_format_strings_and_f_strings():
    assert image_dirs(_chunk(1, BASE_DRAW)) == ["{}/aiffel/dcgan_newimage/cifar10/training_history"]
    assert image_dirs(_chunk(2, V2_FSTRING)) == ["{}/cifar10_v2/samples"]
    assert image_dirs(_chunk(3, "x = 'not a path'\ny = 'a/b.txt'\n")) == []


def test_each_run_keeps_the_folders_named_since_the_previous_run():
    chunks = [_chunk(1, BASE_DRAW), _chunk(2, "train(ds, EPOCHS)\n"), _chunk(3, V2_DRAW),
              _chunk(4, "train(ds, EPOCHS)\n")]
    story = build_run_map(chunks, [])
    assert [r.save_dirs for r in story.runs] == [
        ["{}/aiffel/dcgan_newimage/cifar10/training_history"],
        ["{}/aiffel/dcgan_newimage/cifar10_v2/training_history"]]


def _files(*origins: str) -> list[Artifact]:
    return [Artifact("history_plot", o, f"intake/files/{o}", "") for o in origins]


def test_written_by_takes_the_folder_with_the_longest_matching_tail():
    files = _files("cifar10_v2/training_history/train_history_0049.png",
                   "training_history/train_history_0011.png")
    v2 = written_by(files, ["{}/aiffel/dcgan_newimage/cifar10_v2/training_history"])
    base = written_by(files, ["{}/aiffel/dcgan_newimage/cifar10/training_history"])
    assert [f.origin for f in v2] == ["cifar10_v2/training_history/train_history_0049.png"]
    assert [f.origin for f in base] == ["training_history/train_history_0011.png"]
    assert written_by(files, ["{}/elsewhere/samples"]) == []


def test_channel_of_inverts_a_colormap():
    rng = np.random.default_rng(0)
    channel = rng.integers(0, 256, (4, 32, 32), dtype=np.uint8)
    lut = _luts()["viridis"].astype(np.uint8)
    drawn = lut[channel]  # what plt.imshow(x[..., 0]) shows, as RGB
    back = channel_of(drawn, "viridis")
    assert back.shape == (4, 32, 32, 3) and back.dtype == np.uint8
    assert np.abs(back[..., 0].astype(int) - channel).max() <= 1
    assert np.array_equal(back[..., 0], back[..., 2])


def test_the_shipped_colormap_tables_are_matplotlibs():
    """The grader reads colour-mapped figures without loading matplotlib: its tables match."""
    import json

    import numpy as np

    from grader.intake.figures.tiles import COLORMAP_TABLE, COLORMAPS, colormap_luts

    drawn = colormap_luts()
    table = json.loads(COLORMAP_TABLE.read_text(encoding="utf-8"))
    assert sorted(table) == sorted(COLORMAPS)  # JSON, not .npz: no data file for a student
    for name in COLORMAPS:
        assert np.array_equal(np.asarray(table[name], dtype=np.float64), drawn[name]), name


def _shown(cell: int, kind: str = "samples") -> EmbeddedImage:
    return EmbeddedImage(file=f"embedded/cell{cell}_out0.png", notebook="nb.ipynb", cell=cell,
                         output=0, execution_count=None, mime="image/png", kind=kind)


def test_a_redefined_generators_one_sample_plot_is_a_sanity_plot_not_the_before_grid():
    # the improvement section redefines the generator and shows one untrained sample, as the
    # lesson does; it was taken as the baseline's last grid ("before")
    sanity = "g = make_generator_model()\nplt.imshow(g(noise)[0, :, :, 0])\nplt.colorbar()\n"
    chunks = [_chunk(1, "def make_generator_model():\n    return None\n"), _chunk(2, sanity),
              _chunk(3, "train(ds, EPOCHS)\n"), _chunk(4, "generate_and_save_images(g, 1)\n"),
              _chunk(5, "def make_generator_model():\n    return 1\n"), _chunk(6, sanity),
              _chunk(7, "train(ds, EPOCHS)\n"), _chunk(8, sanity)]
    story = build_run_map(chunks, [_shown(c) for c in (2, 4, 6, 8)])
    kinds = {img.cell: img.kind for img in story.images}
    assert kinds[2] == kinds[6] == "sanity_plot"
    assert kinds[4] == "sample_grid"
    assert kinds[8] == "sample_grid"  # after training: a (poorly drawn) result
    assert story.runs[0].final_grid is not None
    assert story.images[story.runs[0].final_grid].cell == 4


def test_a_titled_before_after_figure_after_the_final_run_is_the_comparison():
    compare = ("plt.subplot(1, 2, 1)\nplt.imshow(before)\nplt.title('개선 전')\n"
               "plt.subplot(1, 2, 2)\nplt.imshow(after)\nplt.title('개선 후')\n")
    chunks = [_chunk(1, "def make_generator_model():\n    return None\n"),
              _chunk(2, "train(ds, EPOCHS)  # after each epoch a grid\n"),
              _chunk(3, "generate_and_save_images(g, 1)\n"),
              _chunk(4, "def make_generator_model():\n    return 1\n"),
              _chunk(5, "train(ds, EPOCHS)\n"), _chunk(6, "generate_and_save_images(g, 2)\n"),
              _chunk(7, compare)]
    story = build_run_map(chunks, [_shown(c) for c in (2, 3, 6, 7)])
    assert story.comparison is not None
    assert story.images[story.comparison].cell == 7
    assert story.images[story.runs[1].final_grid].cell == 6  # not the comparison
    assert not story.images[0].compare  # a comment in a training cell is no title
    assert RunMap.from_dict(story.to_dict()).comparison == story.comparison
