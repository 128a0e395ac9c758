"""Build the sample submissions' generated files (notebooks with outputs, GIFs, checkpoints).

- ``alice``: a complete notebook with outputs, a GIF, a history plot and a real trained
  checkpoint, all taken from a reference-trainer run (the committed long baseline);
- ``bob``: a notebook with the lesson's Fashion-MNIST models left in (28x28x1), no GIF;
- ``carol``: ``dcgan_cifar10.py`` is hand-written; this adds its one-frame GIF;
- ``dave``: hand-written hostile ``.py``, nothing to build.

Usage::

    python -m reference.build_samples --run runs/baseline_long
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import shutil
from pathlib import Path

import matplotlib
import nbformat
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
HERE = ROOT / "submissions"

ALICE_BASELINE = '''\
def make_generator_model():
    # 노드의 Fashion-MNIST 생성자를 32x32x3에 맞게 바꾼 첫 번째 버전
    model = tf.keras.Sequential()
    model.add(layers.Dense(8 * 8 * 256, use_bias=False, input_shape=(100,)))
    model.add(layers.BatchNormalization())
    model.add(layers.LeakyReLU())
    model.add(layers.Reshape((8, 8, 256)))
    model.add(layers.Conv2DTranspose(128, (5, 5), strides=(1, 1), padding="same", use_bias=False))
    model.add(layers.BatchNormalization())
    model.add(layers.LeakyReLU())
    model.add(layers.Conv2DTranspose(64, (5, 5), strides=(2, 2), padding="same", use_bias=False))
    model.add(layers.BatchNormalization())
    model.add(layers.LeakyReLU())
    model.add(layers.Conv2DTranspose(3, (5, 5), strides=(2, 2), padding="same", use_bias=False,
                                     activation="tanh"))
    return model


def make_discriminator_model():
    model = tf.keras.Sequential()
    model.add(layers.Conv2D(64, (5, 5), strides=(2, 2), padding="same", input_shape=[32, 32, 3]))
    model.add(layers.LeakyReLU())
    model.add(layers.Dropout(0.3))
    model.add(layers.Conv2D(128, (5, 5), strides=(2, 2), padding="same"))
    model.add(layers.LeakyReLU())
    model.add(layers.Dropout(0.3))
    model.add(layers.Flatten())
    model.add(layers.Dense(1))
    return model


generator_optimizer = tf.keras.optimizers.Adam(1e-4)
discriminator_optimizer = tf.keras.optimizers.Adam(1e-4)'''


def _png_output(fig) -> nbformat.NotebookNode:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=72)
    plt.close(fig)
    data = base64.b64encode(buf.getvalue()).decode()
    return nbformat.v4.new_output("display_data", data={"image/png": data,
                                                        "text/plain": "<Figure>"})


def _grid_figure(images: np.ndarray, rows: int = 4, cols: int = 4):
    fig = plt.figure(figsize=(4, 4))
    for i, img in enumerate(images[: rows * cols]):
        plt.subplot(rows, cols, i + 1)
        plt.imshow(img)
        plt.axis("off")
    return fig


def _history_figure(history: dict[str, list[float]]):
    fig = plt.figure(figsize=(15, 6))
    plt.subplot(211)
    plt.plot(history["gen_loss"])
    plt.plot(history["disc_loss"])
    plt.title("model loss")
    plt.legend(["gen_loss", "disc_loss"], loc="upper left")
    plt.subplot(212)
    plt.plot(history["fake_accuracy"])
    plt.plot(history["real_accuracy"])
    plt.title("discriminator accuracy")
    plt.legend(["fake_accuracy", "real_accuracy"], loc="upper left")
    return fig


def _cells_of(path: Path) -> list[nbformat.NotebookNode]:
    return nbformat.read(path, as_version=4).cells


def build_alice(run: Path, out: Path) -> None:
    """Alice: the reference notebook with a lesson-style baseline, outputs and artifacts."""
    import tensorflow as tf

    from grader.data import load_dataset
    from grader.training.trainer import sample_images
    from reference import solution

    shutil.rmtree(out, ignore_errors=True)
    (out / "generated_samples").mkdir(parents=True)
    (out / "training_history").mkdir()
    (out / "training_checkpoints").mkdir()
    meta = json.loads((run / "history.json").read_text())
    history, epochs = meta["history"], meta["meta"]["epochs"]
    per_epoch = meta["meta"]["steps_per_epoch"]

    ref = _cells_of(ROOT / "reference" / "solution.ipynb")
    cells = [nbformat.v4.new_markdown_cell(
        "# CIFAR-10 이미지 생성하기 (alice)\n먼저 노드의 모델을 32x32x3으로 바꿔 학습해 보고, "
        "Step 7에서 DCGAN 논문의 구조와 하이퍼파라미터로 개선했습니다.")]
    code = [c for c in ref if c.cell_type == "code"]
    models, losses, data_cell, preview, step5, train_cell, gif_cell = code[:7]
    cells.append(nbformat.v4.new_code_cell("import tensorflow as tf\nfrom tensorflow.keras "
                                           "import layers"))
    cells.append(data_cell)
    real = load_dataset().x_train[:10]
    fig = plt.figure(figsize=(10, 5))
    for i in range(10):
        plt.subplot(2, 5, i + 1)
        plt.imshow(real[i])
        plt.axis("off")
    preview.outputs = [_png_output(fig)]
    cells.append(preview)
    cells.append(nbformat.v4.new_markdown_cell("## Step 2-4. 첫 번째 모델 (노드 구조)"))
    cells.append(nbformat.v4.new_code_cell(ALICE_BASELINE))
    cells.append(losses)
    cells.append(nbformat.v4.new_markdown_cell(
        "## Step 7. 개선: DCGAN 논문 구조 (4x4 커널, LeakyReLU 0.2, Adam lr=2e-4, beta_1=0.5)\n"
        "학습을 안정시키려고 DCGAN 논문의 구조와 optimizer 설정을 적용했습니다."))
    cells.append(models)
    cells.append(nbformat.v4.new_code_cell(
        "generator_optimizer = tf.keras.optimizers.Adam(2e-4, beta_1=0.5)\n"
        "discriminator_optimizer = tf.keras.optimizers.Adam(2e-4, beta_1=0.5)"))
    cells.append(step5)
    train_cell.source = train_cell.source.replace(
        "history = train(train_dataset, EPOCHS, save_every=5)",
        f"EPOCHS = {int(round(epochs))}  # CPU로 학습해서 {int(round(epochs))} epoch만 진행\n"
        "history = train(train_dataset, EPOCHS, save_every=5)")
    outputs = []
    gens = sorted(run.glob("generator_step_*.keras"))
    for gpath in gens:
        gen = tf.keras.models.load_model(gpath, compile=False)
        step = int(gpath.stem.split("_")[-1])
        ep = step // per_epoch
        grid = sample_images(gen, 16, seed=2024)
        outputs.append(nbformat.v4.new_output("stream", name="stdout", text=f"epoch {ep}\n"))
        outputs.append(_png_output(_grid_figure(grid)))
        _grid_figure(grid).savefig(
            out / "generated_samples" / f"sample_epoch_{ep:04d}_iter_{per_epoch:03d}.png")
        plt.close("all")
    outputs.append(_png_output(_history_figure(history)))
    _history_figure(history).savefig(
        out / "training_history" / f"train_history_{int(round(epochs)):04d}.png")
    plt.close("all")
    train_cell.outputs = outputs
    cells.append(train_cell)
    cells.append(gif_cell)
    for i, cell in enumerate(c for c in cells if c.cell_type == "code"):
        cell.execution_count = i + 1
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nbformat.write(nb, out / "alice_dcgan.ipynb")

    frames = sorted((run / "samples").glob("step_*.png"))
    shutil.copy(run / "training.gif", out / "cifar10_dcgan.gif") if frames else None
    g, d = solution.make_generator_model(), solution.make_discriminator_model()
    full = tf.train.Checkpoint(generator=g, discriminator=d)
    full.restore(tf.train.latest_checkpoint(str(run / "checkpoints"))).expect_partial()
    tf.train.Checkpoint(generator=g, discriminator=d).save(
        str(out / "training_checkpoints" / "ckpt"))


def build_bob(out: Path) -> None:
    """Bob: the lesson's Fashion-MNIST models left unchanged (28x28x1), no GIF."""
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    lesson = (ROOT / "reference" / "solution.ipynb")
    losses = next(c for c in _cells_of(lesson) if "cross_entropy" in c.source)
    models = '''\
def make_generator_model():
    model = tf.keras.Sequential()
    model.add(layers.Dense(7*7*256, use_bias=False, input_shape=(100,)))
    model.add(layers.BatchNormalization())
    model.add(layers.LeakyReLU())
    model.add(layers.Reshape((7, 7, 256)))
    model.add(layers.Conv2DTranspose(128, kernel_size=(5, 5), strides=(1, 1), padding='same', use_bias=False))
    model.add(layers.BatchNormalization())
    model.add(layers.LeakyReLU())
    model.add(layers.Conv2DTranspose(64, kernel_size=(5, 5), strides=(2, 2), padding='same', use_bias=False))
    model.add(layers.BatchNormalization())
    model.add(layers.LeakyReLU())
    model.add(layers.Conv2DTranspose(1, kernel_size=(5, 5), strides=(2, 2), padding='same', use_bias=False,
                                     activation='tanh'))
    return model


def make_discriminator_model():
    model = tf.keras.Sequential()
    model.add(layers.Conv2D(64, (5, 5), strides=(2, 2), padding='same', input_shape=[28, 28, 1]))
    model.add(layers.LeakyReLU())
    model.add(layers.Dropout(0.3))
    model.add(layers.Conv2D(128, (5, 5), strides=(2, 2), padding='same'))
    model.add(layers.LeakyReLU())
    model.add(layers.Dropout(0.3))
    model.add(layers.Flatten())
    model.add(layers.Dense(1))
    return model'''
    cells = [
        nbformat.v4.new_markdown_cell("# CIFAR-10 DCGAN (bob)"),
        nbformat.v4.new_code_cell("import tensorflow as tf\nfrom tensorflow.keras import layers\n"
                                  "cifar10 = tf.keras.datasets.cifar10\n"
                                  "(train_x, _), (test_x, _) = cifar10.load_data()",
                                  execution_count=1),
        nbformat.v4.new_code_cell(models, execution_count=2),
        losses,
        nbformat.v4.new_code_cell("generator = make_generator_model()\n"
                                  "noise = tf.random.normal([1, 100])\n"
                                  "generated_image = generator(noise, training=False)\n"
                                  "generated_image.shape", execution_count=4,
                                  outputs=[nbformat.v4.new_output(
                                      "execute_result", data={"text/plain":
                                                              "TensorShape([1, 28, 28, 1])"},
                                      execution_count=4)]),
    ]
    nb = nbformat.v4.new_notebook(cells=cells)
    nbformat.write(nb, out / "bob_dcgan.ipynb")


def build_carol_gif(out: Path) -> None:
    """Carol's GIF has a single frame: a 4x4 grid from an untrained lesson-style generator."""
    import imageio.v2 as imageio

    rng = np.random.default_rng(3)
    blobs = np.clip(rng.normal(0.5, 0.15, (16, 32, 32, 3)), 0, 1)
    fig = _grid_figure(blobs)
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    frame = imageio.imread(buf.getvalue())
    imageio.mimsave(out / "cifar10_dcgan.gif", [frame[..., :3]])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", type=Path, default=ROOT / "runs" / "baseline_long",
                        help="reference-trainer output folder for alice")
    parser.add_argument("--only", default="alice,bob,carol")
    args = parser.parse_args()
    only = set(args.only.split(","))
    if "bob" in only:
        build_bob(HERE / "bob")
    if "carol" in only:
        build_carol_gif(HERE / "carol")
    if "alice" in only:
        build_alice(args.run, HERE / "alice")
    print("built:", ", ".join(sorted(only)))


if __name__ == "__main__":
    main()
