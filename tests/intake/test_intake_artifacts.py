"""Result files: checkpoints grouped per prefix, images classified, small images copied."""

from __future__ import annotations

from pathlib import Path

import pytest
from intake_builders import notebook, png_bytes

from grader.intake import load_submission
from grader.intake.artifacts import classify_image_path

CKPT_CODE = '''\
import os
import tensorflow as tf
checkpoint_dir = os.getenv('HOME') + '/aiffel/dcgan_newimage/cifar10/training_checkpoints'
checkpoint_prefix = os.path.join(checkpoint_dir, "ckpt")
def train():
    checkpoint.save(file_prefix=checkpoint_prefix)
    generator.save_weights('weights/gen.weights.h5')
'''


def _write(root: Path, files: dict[str, bytes]) -> None:
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)


def test_checkpoints_grouped_per_prefix(tmp_path: Path) -> None:
    root = tmp_path / "sub"
    notebook([CKPT_CODE], root / "main.ipynb")
    _write(root, {
        "training_checkpoints/checkpoint": b'model_checkpoint_path: "/home/aiffel/x/ckpt-2"\n'
                                           b'all_model_checkpoint_paths: "ckpt-1"\n',
        "training_checkpoints/ckpt-1.index": b"i" * 10,
        "training_checkpoints/ckpt-1.data-00000-of-00001": b"d" * 100,
        "training_checkpoints/ckpt-2.index": b"i" * 10,
        "training_checkpoints/ckpt-2.data-00000-of-00001": b"d" * 100,
        "orphan/ckpt-9.data-00000-of-00001": b"d",
        "gen.h5": b"h5", "models/disc.weights.h5": b"w",
        "export/saved_model.pb": b"pb", "export/variables/variables.index": b"i",
        "export/variables/variables.data-00000-of-00001": b"d",
        "README.md": b"hello",
    })
    sub = load_submission(root, tmp_path / "work")
    ckpts = {a.origin: a.note for a in sub.artifacts if a.kind == "checkpoint"}
    assert set(ckpts) == {"training_checkpoints/ckpt-1", "training_checkpoints/ckpt-2",
                          "orphan/ckpt-9", "gen.h5", "models/disc.weights.h5", "export"}
    assert ckpts["training_checkpoints/ckpt-2"].startswith("tf.train.Checkpoint, 2 files")
    assert ckpts["training_checkpoints/ckpt-2"].endswith("latest")
    assert "latest" not in ckpts["training_checkpoints/ckpt-1"]
    assert "incomplete" in ckpts["orphan/ckpt-9"]
    assert ckpts["export"].startswith("SavedModel folder, 3 files")
    assert "Keras weights" in ckpts["models/disc.weights.h5"]
    assert sub.artifact_sizes["training_checkpoints/ckpt-1"] == 110
    assert [a.kind for a in sub.artifacts if a.origin == "README.md"] == ["other"]
    assert not any(a.origin.endswith(".ipynb") for a in sub.artifacts)
    # the code writes checkpoints and gen.weights.h5: only the weights file is missing
    assert sub.missing_artifacts == ["weights/gen.weights.h5"]


def test_images_classified_and_copied(tmp_path: Path) -> None:
    root = tmp_path / "sub"
    notebook(["x = 1"], root / "main.ipynb")
    img = png_bytes()
    _write(root, {"generated_samples/sample_epoch_0001_iter_001.png": img,
                  "training_history/train_history_0001.png": img,
                  "cifar10_dcgan.gif": png_bytes(fmt="GIF"), "misc/photo.jpg": img})
    sub = load_submission(root, tmp_path / "work")
    kinds = {a.origin: (a.kind, a.file) for a in sub.artifacts}
    assert kinds["generated_samples/sample_epoch_0001_iter_001.png"] == (
        "samples", "files/generated_samples/sample_epoch_0001_iter_001.png")
    assert kinds["training_history/train_history_0001.png"][0] == "history_plot"
    assert kinds["cifar10_dcgan.gif"][0] == "gif" and kinds["misc/photo.jpg"][0] == "other"
    assert (tmp_path / "work" / "files" / "misc" / "photo.jpg").read_bytes() == img


@pytest.mark.parametrize(("rel", "kind"), [
    ("generated_samples/sample_epoch_0001_iter_001.png", "samples"),
    ("image_at_epoch_0050.png", "samples"),
    ("training_history/train_history_0049.png", "history_plot"),
    ("loss_graph.png", "history_plot"),
    ("training_history/epoch_10.png", "history_plot"),  # the folder beats a weak name word
    ("results/epoch_10.png", "samples"),
    ("real_images.png", "real_preview"),
    ("real_vs_fake.png", "other"),  # real next to generated: neither a preview nor samples
    ("anim.GIF", "gif"),
    ("photo.jpg", "other"),
])
def test_classify_image_path(rel: str, kind: str) -> None:
    assert classify_image_path(rel) == kind
