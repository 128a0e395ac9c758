"""Images in notebook outputs: written to the work folder and tagged by the cell that made them."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from intake_builders import image_output, notebook, png_bytes

from grader.intake import load_submission
from grader.intake.embedded import Signals, decide_kind

SQUARE, WIDE = png_bytes(40, 40), png_bytes(150, 60)

HELPERS = '''\
def generate_and_save_images(model, epoch, it, sample_seeds):
    predictions = model(sample_seeds, training=False)
    plt.imshow(predictions[0])
    plt.savefig('{}/aiffel/dcgan_newimage/cifar10/generated_samples/sample_epoch_{:04d}.png'
                .format(os.getenv('HOME'), epoch))

def draw_train_history(history, epoch):
    plt.plot(history['gen_loss'])
    plt.savefig(f"{os.getenv('HOME')}/aiffel/dcgan_newimage/cifar10/training_history/train_history_{epoch:04d}.png")

def train(dataset, epochs):
    for epoch in range(epochs):
        generate_and_save_images(generator, epoch, 0, seed)
        draw_train_history(history, epoch)
'''


def _cells() -> list:
    return [
        "import os\nimport matplotlib.pyplot as plt\nfrom IPython import display",
        ("(train_x, _), (test_x, _) = tf.keras.datasets.cifar10.load_data()", 1, []),
        ("for i in range(10):\n    plt.subplot(2, 5, i + 1)\n    plt.imshow(train_x[i])\nplt.show()",
         2, [image_output(SQUARE)]),
        ("noise = tf.random.normal([1, 100])\ngenerated_image = generator(noise, training=False)\n"
         "plt.imshow(generated_image[0])", 3, [image_output(SQUARE)]),
        (HELPERS, 4, []),
        ("train(train_dataset, EPOCHS)", 5, [image_output(SQUARE), image_output(WIDE)]),
        ("generate_and_save_images(generator, 50, 0, seed)", 6, [image_output(png_bytes(30, 30, "JPEG"), "image/jpeg")]),
        ("draw_train_history(history, 50)", 7, [image_output(WIDE)]),
        ("display.Image(filename=anim_file)", 8, [image_output(png_bytes(20, 20, "GIF"), "image/gif")]),
        ("from IPython.display import Image\nImage(open('cifar10_dcgan.gif', 'rb').read())", 9,
         [image_output(SQUARE)]),
        ("plt.imshow(train_x[0])\nplt.imshow(generator(seed)[0])", 10, [image_output(SQUARE)]),
        ("print('no image')", 11, [nbformat.v4.new_output("stream", text="hi"),
                                   nbformat.v4.new_output("display_data", data={"image/png": "!!notbase64"})]),
        ("anim_file = os.getenv('HOME') + '/aiffel/dcgan_newimage/cifar10/cifar10_dcgan.gif'", 12, []),
    ]


def test_embedded_images_are_written_and_tagged(tmp_path: Path) -> None:
    work = tmp_path / "work"
    sub = load_submission(notebook(_cells(), tmp_path / "nb.ipynb"), work)
    tags = [(e.cell, e.output, e.kind, e.before_training) for e in sub.embedded]
    assert tags == [
        (3, 0, "real_preview", True),   # a preview of CIFAR images is never "samples"
        (4, 0, "samples", True),        # the untrained generator, before training
        (6, 0, "samples", False),       # train(): via the functions it calls; square
        (6, 1, "history_plot", False),  # train(): wide figure
        (7, 0, "samples", False),
        (8, 0, "history_plot", False),
        (9, 0, "gif", False),           # image/gif
        (10, 0, "gif", False),          # the cell opens a .gif
        (11, 0, "other", False),        # real and generated in one figure
    ]
    first = sub.embedded[0]
    assert first.file == "embedded/cell3_out0.png" and (work / first.file).read_bytes() == SQUARE
    assert (first.width, first.height, first.execution_count) == (40, 40, 2)
    assert sub.embedded[4].file.endswith(".jpg") and sub.embedded[6].file.endswith(".gif")
    art = [a for a in sub.artifacts if a.origin == "nb.ipynb cell 6 output 1"][0]
    assert art.kind == "history_plot" and art.file == "embedded/cell6_out1.png" and "In [5]" in art.note
    assert any("not valid base64" in w for w in sub.warnings)


def test_missing_referenced_outputs_are_reported(tmp_path: Path) -> None:
    sub = load_submission(notebook(_cells(), tmp_path / "nb.ipynb"), tmp_path / "work")
    assert sub.missing_artifacts == ["generated_samples/sample_epoch_*.png",
                                     "training_history/train_history_*.png", "cifar10_dcgan.gif"]


def _sig(**kw) -> Signals:
    return Signals(**{k: [v] if isinstance(v, str) else v for k, v in kw.items()})


NONE = Signals()


@pytest.mark.parametrize(("direct", "indirect", "is_gif", "size", "kind"), [
    (NONE, NONE, True, (10, 10), "gif"),
    (_sig(gif="displays a GIF", samples="s"), NONE, False, (10, 10), "gif"),
    (_sig(real="r"), _sig(samples="s"), False, (10, 10), "real_preview"),
    (_sig(real="r", samples="s"), NONE, False, (10, 10), "other"),
    (_sig(samples="s", history="h"), NONE, False, (300, 100), "history_plot"),
    (_sig(samples="s", history="h"), NONE, False, (100, 100), "samples"),
    (_sig(real="r", history="h"), NONE, False, (100, 100), "real_preview"),
    (NONE, _sig(history="h"), False, (100, 100), "history_plot"),
    (NONE, _sig(samples="s", history="h"), False, (0, 0), "samples"),  # unknown size
    (_sig(history="h"), _sig(samples="s"), False, (100, 100), "history_plot"),  # the cell wins
    (NONE, NONE, False, (100, 100), "other"),
])
def test_decision_precedence(direct, indirect, is_gif, size, kind) -> None:
    got, reason = decide_kind(direct, indirect, is_gif=is_gif, width=size[0], height=size[1])
    assert got == kind and reason


def test_gifs_in_html_outputs_and_markdown_attachments_are_shown_images(tmp_path: Path) -> None:
    # tensorflow_docs' embed_file shows a GIF as <img src="data:image/gif;base64,...">, and a
    # GIF dragged into a markdown cell is an attachment: both are shown in the notebook
    import base64
    import io

    from PIL import Image

    frames = [Image.new("RGB", (32, 32), (k * 60, 0, 0)) for k in range(3)]
    buf = io.BytesIO()
    frames[0].save(buf, format="GIF", save_all=True, append_images=frames[1:])
    b64 = base64.b64encode(buf.getvalue()).decode()
    html = nbformat.v4.new_output("display_data", data={
        "text/html": f'<img src="data:image/gif;base64,{b64}" />', "text/plain": "<IPython>"})
    path = notebook([("embed.embed_file(anim_file)", 3, [html])], tmp_path / "nb.ipynb")
    nb = nbformat.read(path, as_version=4)
    md = nbformat.v4.new_markdown_cell("![dcgan.gif](attachment:dcgan.gif)")
    md["attachments"] = {"dcgan.gif": {"image/gif": b64}}
    nb.cells.append(md)
    nbformat.write(nb, path)
    sub = load_submission(path, tmp_path / "work")
    gifs = [(e.cell, e.kind) for e in sub.embedded]
    assert gifs == [(1, "gif"), (2, "gif")]
    assert all((tmp_path / "work" / e.file).read_bytes().startswith(b"GIF8") for e in sub.embedded)
