"""Output paths: evaluated from literals, f-strings, format, %, + and os.path.join; then normalised."""

from __future__ import annotations

import ast

import pytest

from grader.intake.chunks import Chunk, parse_chunk
from grader.intake.references import collect_references, evaluate_path, normalise_output_path

ENV = {"base": "~/aiffel/dcgan_newimage/cifar10"}


@pytest.mark.parametrize(("expr", "value"), [
    ("'out/a.png'", "out/a.png"),
    ("f\"{os.getenv('HOME')}/x/{epoch:04d}.png\"", "~/x/*.png"),
    ("'{}/s/sample_{:04d}_{:03d}.png'.format(os.getenv('HOME'), epoch, it)", "~/s/sample_*_*.png"),
    ("'{0}/h/{name}.png'.format(base, name=n)", "~/aiffel/dcgan_newimage/cifar10/h/*.png"),
    ("'%s/img_%04d.png' % (base, i)", "~/aiffel/dcgan_newimage/cifar10/img_*.png"),
    ("os.path.join(base, 'training_checkpoints', 'ckpt')",
     "~/aiffel/dcgan_newimage/cifar10/training_checkpoints/ckpt"),
    ("os.environ['HOME'] + '/g.gif'", "~/g.gif"),
    ("str(Path(base) / 'a.gif')", "~/aiffel/dcgan_newimage/cifar10/a.gif"),
    ("unknown + '/a.png'", "*/a.png"),
    ("some_call()", None),
    ("42", None),
])
def test_evaluate_path(expr: str, value: str | None) -> None:
    assert evaluate_path(ast.parse(expr, mode="eval").body, ENV) == value


@pytest.mark.parametrize(("path", "tail"), [
    ("~/aiffel/dcgan_newimage/cifar10/generated_samples/s_*.png", "generated_samples/s_*.png"),
    ("/home/aiffel-dj/aiffel/dcgan_newimage/fashion/x.gif", "x.gif"),
    ("/content/drive/MyDrive/gan/out.gif", "gan/out.gif"),
    ("~/work/result.png", "work/result.png"),
    ("/tmp/a/b/c/d.png", "c/d.png"),
    ("./samples/x.png", "samples/x.png"),
    ("*/training_history", "training_history"),
    ("C:\\Users\\me\\gan.gif", "C:/Users/me/gan.gif"),
])
def test_normalise_output_path(path: str, tail: str) -> None:
    assert normalise_output_path(path) == tail


def test_reads_are_not_references_and_writes_in_functions_are() -> None:
    code = ("import imageio, glob\n"
            "files = glob.glob('generated_samples/*.png')\nimg = imageio.imread('x/read.png')\n"
            "with open('notes.txt') as f:\n    pass\n"
            "def save(fig, epoch):\n    path = f'history/plot_{epoch}.png'\n    fig.savefig(path)\n"
            "    np.save('arrays/h.npy', h)\n    open('log.txt', 'w')\n"
            "manager = tf.train.CheckpointManager(ckpt, './tf_ckpts', max_to_keep=3)\n"
            "model.save('gen_final.keras')\n")
    chunk = parse_chunk(Chunk(file="nb.ipynb", raw=code, cell=1))
    refs = [(r.path, r.kind) for r in collect_references([chunk])]
    assert refs == [("history/plot_*.png", "file"), ("arrays/h.npy", "file"), ("log.txt", "file"),
                    ("tf_ckpts", "dir"), ("gen_final.keras", "file")]
