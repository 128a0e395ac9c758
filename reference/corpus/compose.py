"""Compose one corpus notebook from its :class:`~reference.corpus.specs.Spec`, cell by cell.

:class:`Builder` appends markdown and code cells in the order a student writes them and runs
each code cell in a :class:`~reference.corpus.kernel.Kernel` as it goes, so every output is
what that code produces (training cells are run by a driver, see ``drivers.py``). Sections
follow the assignment's steps 0-7; a ``train_on_batch`` notebook has its own layout
(``compose_tob.py``). What the notebook shows is collected in :attr:`Builder.evidence`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from reference.corpus import prose
from reference.corpus import snippets_loop as sl
from reference.corpus import snippets_models as sm
from reference.corpus.drivers import RunContext, drive_epoch_log, drive_lesson, sample_name
from reference.corpus.kernel import Kernel
from reference.corpus.specs import Run, Spec

GPU = "[PhysicalDevice(name='/physical_device:GPU:0', device_type='GPU')]"


class Shown:
    """A value whose repr is fixed text (a shape of the full data set, a GPU list)."""

    def __init__(self, text: str):
        self.text = text

    def __repr__(self) -> str:
        return self.text


@dataclass
class CellRec:
    """A cell as built: type, source, outputs, and how it was executed."""

    kind: str
    source: str
    outputs: list = field(default_factory=list)
    session: int = 0
    """Kernel session (a restart starts a new one)."""
    executed: bool = True


@dataclass
class Builder:
    """Appends cells for one notebook and runs them; keeps the evidence of what is shown."""

    spec: Spec
    kernel: Kernel
    rng: np.random.Generator
    contexts: list[RunContext]
    cells: list[CellRec] = field(default_factory=list)
    session: int = 0
    evidence: dict = field(default_factory=lambda: {"runs": [], "gifs": [], "compare": None})

    # ---- cells ------------------------------------------------------------------------
    def md(self, text: str) -> None:
        """Append a markdown cell."""
        self.cells.append(CellRec("markdown", text))

    def code(self, source: str, **kw) -> list:
        """Append a code cell and run it (keyword arguments go to ``Kernel.run_cell``)."""
        outputs = self.kernel.run_cell(source, **kw)
        self.cells.append(CellRec("code", source, list(outputs), self.session))
        return outputs

    def restart(self, note: str) -> None:
        """The student restarted the kernel here: counts start again at 1."""
        self.session += 1
        self.md(note)

    # ---- sections ---------------------------------------------------------------------
    def header(self) -> None:
        """Title, Step 0 folders and imports."""
        self.md(prose.title(self.spec.author, self.rng))
        self.md(prose.step(0, self.rng))
        self.code("\n".join(f"!mkdir -p ~/aiffel/dcgan_newimage/cifar10/{d}" for d in
                            ("generated_samples", "training_checkpoints", "training_history")))
        retina = "\n%config InlineBackend.figure_format = 'retina'" if self.spec.retina else ""
        self.code("import os\nimport glob\nimport time\n\nimport PIL\nimport imageio\n"
                  "import numpy as np\nimport tensorflow as tf\nfrom tensorflow.keras import "
                  "layers\nfrom IPython import display\nimport matplotlib.pyplot as plt\n"
                  f"%matplotlib inline{retina}\n\nprint('tensorflow', tf.__version__)")

    def data(self, run: Run) -> None:
        """Step 1: load, normalize, preview, batch."""
        fashion = run.model == "fashion"
        self.md(prose.step(1, self.rng))
        self.code("cifar10 = tf.keras.datasets.cifar10\n\n(train_x, _), (test_x, _) = "
                  "cifar10.load_data()\n\ntrain_x.shape",
                  run="train_x, test_x = _CIFAR.copy(), _CIFAR[:64].copy()\n"
                      "_Shown('(50000, 32, 32, 3)')")
        self.code('print("max pixel:", train_x.max())\nprint("min pixel:", train_x.min())')
        if self.spec.preview == "uint8":
            self.code(_preview("train_x[i]", 10))
        self.code("train_x = (train_x - 127.5) / 127.5  # 이미지를 [-1, 1]로 정규화\n\n"
                  'print("max pixel:", train_x.max())\nprint("min pixel:", train_x.min())')
        if fashion:
            src = ("# 노드의 모델(28x28x1)을 그대로 쓰려고 흑백 + 28x28로 변환\n"
                   "train_x = tf.image.resize(tf.image.rgb_to_grayscale(train_x), [28, 28])"
                   ".numpy().astype('float32')\ntrain_x.shape")
            self.code(src, run=src.rsplit("\n", 1)[0] + "\n_Shown('(50000, 28, 28, 1)')")
            self.code(_preview("train_x[i].reshape(28, 28)", 10, cmap="gray"))
        else:
            src = ("train_x = train_x.reshape(train_x.shape[0], 32, 32, 3).astype('float32')\n"
                   "train_x.shape")
            self.code(src, run=src.rsplit("\n", 1)[0] + "\n_Shown('(50000, 32, 32, 3)')")
            expr = {"clip": "train_x[i]", "random25": "(train_x[idx] + 1) / 2"}.get(
                self.spec.preview, "(train_x[i] + 1) / 2")
            self.code(_preview(expr, 25 if self.spec.preview == "random25" else 10))
        self.code(f"BUFFER_SIZE = 50000\nBATCH_SIZE = {run.batch}")
        self.code("train_dataset = tf.data.Dataset.from_tensor_slices(train_x)"
                  ".shuffle(BUFFER_SIZE).batch(BATCH_SIZE)\ntrain_dataset")

    def models(self, run: Run, headers: bool = True) -> None:
        """Steps 2-3: the two models, their summaries and the untrained sanity checks."""
        mc = sm.MODELS[run.model]
        if headers:
            self.md(prose.step(2, self.rng))
        self.code(mc.generator)
        self.code(f"generator = {mc.gen_fn}()\n\ngenerator.summary()")
        self.code("noise = tf.random.normal([1, 100])\n\ngenerated_image = generator(noise, "
                  "training=False)\ngenerated_image.shape")
        cmap = f", cmap='{self.spec.sanity_cmap}'" if self.spec.sanity_cmap else ""
        self.code(f"plt.imshow(generated_image[0, :, :, 0]{cmap})\nplt.colorbar()\nplt.show()")
        if headers:
            self.md(prose.step(3, self.rng))
        if self.spec.error_cell and headers:
            self.code(sm.D_FASHION + "\n\ndiscriminator = make_discriminator_model()\n"
                      "decision = discriminator(generated_image, training=False)",
                      allow_error=True)
            self.md("노드 코드를 그대로 복사해서 input_shape가 [28, 28, 1]로 남아 있었다. "
                    "[32, 32, 3]으로 수정.")
        self.code(mc.discriminator)
        self.code(f"discriminator = {mc.disc_fn}()\n\ndiscriminator.summary()")
        self.code("decision = discriminator(generated_image, training=False)\ndecision")

    def losses(self, run: Run, headers: bool = True) -> None:
        """Step 4: losses, accuracy, optimizers."""
        if headers:
            self.md(prose.step(4, self.rng))
        self.code(sm.losses_cell(run.from_logits, run.smoothing))
        self.code(sm.ACCURACY[run.accuracy])
        self.code(sm.optimizers_cell(run.lr, run.beta_1))

    def step5(self, run: Run, proj: str, headers: bool = True) -> None:
        """Step 5: seed, train_step, the sample/history functions, the checkpoint."""
        if headers:
            self.md(prose.step(5, self.rng))
        self.code("noise_dim = 100\nnum_examples_to_generate = 16\n\nseed = tf.random.normal("
                  "[num_examples_to_generate, noise_dim])\nseed.shape")
        self.code(sl.TRAIN_STEP)
        self.code(sl.gen_images_cell(self.spec.display, proj,
                                     show_param=self._loop(run) == "epoch_log"))
        if run.plot != "none":
            self.code(sl.history_cell(run.plot, proj))
        self.code(sl.fill(sl.CHECKPOINT, proj))

    def train(self, i: int, headers: bool = True) -> None:
        """Step 6 for run ``i``: the loop, the training cell (driven) and its plots."""
        run, ctx = self.spec.runs[i], self.contexts[i]
        loop = self._loop(run)
        if headers:
            self.md(prose.step(6, self.rng))
        untrained = None if run.restore else self.kernel.ns["generator"]
        minutes = ctx.epochs * ctx.seconds_per_epoch
        time_text = (f"CPU times: user {int(minutes * 1.3 // 60)}min {int(minutes * 1.3 % 60)}s, "
                     f"sys: {int(minutes * 0.1)} s, total: {int(minutes * 1.4 // 60)}min "
                     f"{int(minutes * 1.4 % 60)}s\nWall time: {int(minutes // 60)}min "
                     f"{int(minutes % 60)}s\n")
        if loop == "lesson":
            text = sl.TRAIN_LESSON
            if run.plot == "none":
                text = text.replace("\n\n        draw_train_history(history, epoch)", "")
            self.code(text)
            self.code(f"save_every = 5\nEPOCHS = {run.epochs}\n\n# 사용가능한 GPU 디바이스 확인\n"
                      'tf.config.list_physical_devices("GPU")',
                      run=f"save_every = 5\nEPOCHS = {run.epochs}\n_Shown({GPU!r})")
            self.code("%%time\ntrain(train_dataset, EPOCHS, save_every)",
                      driver=lambda k: drive_lesson(k, ctx, untrained), time_text=time_text)
        else:
            start = ctx.start_epoch
            self.code(sl.TRAIN_EPOCH_LOG)
            if run.restore:
                self.code(f"EPOCHS = {run.epochs}   # {start} epoch 이후로 추가 학습\n"
                          f"START_EPOCH = {start}")
                call = "history = train(train_dataset, EPOCHS, save_every, start_epoch=START_EPOCH)"
            else:
                self.code(f"save_every = 5\nEPOCHS = {run.epochs}")
                call = "history = train(train_dataset, EPOCHS, save_every)"
            self.code("%%time\n" + call, driver=lambda k: drive_epoch_log(k, ctx, untrained),
                      time_text=time_text)
            if run.plot != "none":
                self.code("draw_train_history(history, EPOCHS - 1)")
        if not run.shown:
            self._clear_last_training_outputs()
        shown_series = ctx.history["fake_accuracy"] if run.plot != "none" else None
        if run.interrupt_at:  # its plot was cleared; only a submitted history file remains
            shown_series = (ctx.history["fake_accuracy"][: run.interrupt_at * ctx.per_epoch]
                            if "history" in self.spec.submit else None)
        self.evidence["runs"].append(_run_evidence(i, run, ctx, shown_series, self.spec))
        ev = self.evidence["runs"][-1]
        self.md(prose.after_training(ev["fake_last"], self.rng, ev["fake_first"]))
        if self.spec.gallery and i == 0:
            self.code(sl.fill(sl.SAMPLE_GALLERY, self._proj(i)))

    def gif(self, i: int) -> None:
        """The GIF cell of run ``i`` (and its display, per the spec's GIF mode)."""
        proj = self._proj(i)
        name = ("fashion_mnist_dcgan.gif" if proj == "fashion"
                else "cifar10_dcgan.gif" if proj == "cifar10" else "cifar10_dcgan_v2.gif")
        self.md(prose.gif_note(self.rng))
        self.code(sl.gif_cell(proj, name, self.spec.gif_pattern, self.spec.gif_simple))
        if self.spec.gif == "shown":
            self.code(sl.SHOW_GIF)
        elif self.spec.gif == "markdown":
            self.md(f"![학습 과정](./{name})")
        self.evidence["gifs"].append({"run": i, "file": f"{proj}/{name}", "mode": self.spec.gif})

    def compare(self, before: int, after: int) -> None:
        """The before/after cell: both final grids read back from their saved PNGs."""
        paths = []
        for i in (before, after):
            run, ctx = self.spec.runs[i], self.contexts[i]
            e = ctx.start_epoch + ctx.epochs
            it = ctx.per_epoch - 1 if self._loop(run) == "lesson" else ctx.per_epoch
            paths.append(f"os.getenv('HOME') + '/aiffel/dcgan_newimage/{self._proj(i)}/"
                         f"generated_samples/{sample_name(e, it)}'")
        self.md("### 개선 전/후 비교")
        self.code(sl.compare_cell(paths[0], paths[1], korean=bool(self.rng.integers(2))))
        self.evidence["compare"] = {"before": before, "after": after}

    # ---- helpers ----------------------------------------------------------------------
    def _loop(self, run: Run) -> str:
        return "epoch_log" if run.restore else run.loop

    def _proj(self, i: int) -> str:
        """The project folder of run ``i`` (a continued run keeps its predecessor's)."""
        while i > 0 and self.spec.runs[i].restore:
            i -= 1
        return self.spec.proj if i == 0 else "cifar10_v2"

    def _clear_last_training_outputs(self) -> None:
        for cell in reversed(self.cells):
            if cell.kind == "code" and "%%time" in cell.source:
                cell.outputs = []
                break
        for cell in self.cells[-2:]:
            if cell.kind == "code" and "draw_train_history(history" in cell.source:
                cell.outputs = []


def _run_evidence(i: int, run: Run, ctx: RunContext, series: list[float] | None,
                  spec: Spec) -> dict:
    """What a run leaves visible: its grids, its fake-accuracy curve, its sample files."""
    from reference.corpus.histories import trend

    grids = ctx.record.setdefault("grids", []) if run.shown else []
    plotted = series is not None and (run.shown or "history" in spec.submit)
    in_notebook = series is not None and run.shown and not run.interrupt_at
    first, last = trend(series) if series is not None else (None, None)
    return {"run": i, "grids": grids, "files": ctx.record.setdefault("files", {}),
            "history_kind": ctx.record.get("history_kind"), "plot": run.plot,
            "curve_shown": bool(plotted), "curve_in_notebook": bool(in_notebook),
            "fake_first": first, "fake_last": last, "change": run.change,
            "checkpoint": ctx.record.get("checkpoint"), "final": run.final,
            "used": ctx.used}


def _preview(expr: str, n: int, cmap: str | None = None) -> str:
    """The real-data preview cell: 10 images (2x5) or 25 random ones (5x5)."""
    rows, cols, size = (2, 5, "(10, 5)") if n == 10 else (5, 5, "(10, 10)")
    pick = "    idx = np.random.randint(0, len(train_x))\n" if "idx" in expr else ""
    title = "f'index: {idx}'" if "idx" in expr else "f'index: {i}'"
    cm = f", cmap='{cmap}'" if cmap else ""
    return (f"plt.figure(figsize={size})\n\nfor i in range({n}):\n{pick}"
            f"    plt.subplot({rows}, {cols}, i+1)\n    plt.imshow({expr}{cm})\n"
            f"    plt.title({title})\n    plt.axis('off')\nplt.show()")


DATA_TAR = Path("/work/shared/data/cifar10-jpeg.tar.gz")
SUBSETS = ("grader/assignments/cifar10_dcgan/data_subset.npz", "grader/assets/cifar10_subset.npz")


def cifar_subset(n: int = 512, tar: Path = DATA_TAR) -> np.ndarray:
    """``n`` real CIFAR-10 training images (uint8).

    From the grader's bundled subset wherever it lives now (fast), else from the shared JPEG
    archive (``train/<class>/*.jpg``, classes interleaved).
    """
    import io
    import tarfile

    from PIL import Image

    def decode(raw: bytes) -> np.ndarray:
        return np.asarray(Image.open(io.BytesIO(raw)).convert("RGB"))

    root = Path(__file__).resolve().parents[2]
    found = [root / s for s in SUBSETS if (root / s).is_file()]
    if found:
        with np.load(found[0], allow_pickle=False) as z:
            data, off = z["train_jpeg"], z["train_offsets"]
            return np.stack([decode(data[off[i]:off[i + 1]].tobytes()) for i in range(n)])
    per: dict[str, list[np.ndarray]] = {}
    with tarfile.open(tar) as tf_:
        for m in tf_:
            parts = m.name.split("/")
            if m.isfile() and "train" in parts and len(per.get(parts[-2], [])) < n // 10 + 1:
                per.setdefault(parts[-2], []).append(decode(tf_.extractfile(m).read()))
    classes = sorted(per)
    rows = [per[c][k] for k in range(n // 10 + 1) for c in classes if k < len(per[c])]
    return np.stack(rows[:n])
