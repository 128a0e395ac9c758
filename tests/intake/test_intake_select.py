"""Statement selection: what the sandbox gets from a notebook, and what is dropped and why."""

from __future__ import annotations

from pathlib import Path

from intake_builders import notebook

from grader.intake import load_submission
from grader.intake.candidates import find_candidates

GEN_V1 = "def make_generator_model():\n    return 'v1'\n"
GEN_V2 = "def make_generator_model():\n    # improved\n    return 'v2'\n"


def _load(tmp_path: Path, cells: list):
    return load_submission(notebook(cells, tmp_path / "sub" / "nb.ipynb"), tmp_path / "work")


def test_out_of_order_notebook_keeps_file_order_and_records_counts(tmp_path: Path) -> None:
    sub = _load(tmp_path, [("import numpy as np", 5, []), ("#md text"),
                           ("def f():\n    return np.zeros(1)", 2, []), ("N = 3", None, [])])
    assert [u.names for u in sub.code_units] == [["np"], ["f"], ["N"]]
    assert [u.execution_count for u in sub.code_units] == [5, 2, None]
    assert [u.cell for u in sub.code_units] == [1, 3, 4]  # markdown cells count too
    assert sub.code_units[1].origin == "nb.ipynb cell 3"
    assert [u.order for u in sub.code_units] == [0, 1, 2]


def test_every_version_of_a_redefined_function_is_kept_in_order(tmp_path: Path) -> None:
    sub = _load(tmp_path, [GEN_V1, "generator = make_generator_model()", "#md ## Step 7",
                           GEN_V2, "generator = make_generator_model()"])
    versions = sub.versions("make_generator_model")
    assert [v.source for v in versions] == [GEN_V1.rstrip("\n"), GEN_V2.rstrip("\n")]
    assert [v.cell for v in versions] == [1, 4]
    builds = sub.versions("generator")
    assert [b.kind for b in builds] == ["model_build", "model_build"]
    assert builds[0].calls == "make_generator_model"
    gens = find_candidates(sub.code_units, "generator")
    assert [(c.name, c.confidence) for c in gens] == [("make_generator_model", 1.0)] * 2
    assert gens[0].order < gens[1].order


def test_syntax_error_cell_is_recorded_and_other_cells_continue(tmp_path: Path) -> None:
    sub = _load(tmp_path, ["import os", "def broken(:\n    pass", "X = 1\nY = X * 2"])
    assert [u.names for u in sub.code_units] == [["os"], ["X"], ["Y"]]
    (failure,) = sub.cell_failures
    assert failure.origin == "nb.ipynb cell 2" and failure.line == 1
    assert "Cell 2 of nb.ipynb" in failure.message.en and "line 1" in failure.message.en
    assert "2번째 셀" in failure.message.ko
    assert "Traceback" not in failure.message.en and "def broken(:" in failure.detail


def test_magics_are_stripped_and_shell_cells_dropped(tmp_path: Path) -> None:
    sub = _load(tmp_path, ["%matplotlib inline\nimport os\n!nvidia-smi\nfiles = !ls",
                           "%%bash\nmkdir -p ~/aiffel/x", "%%time\nEPOCHS = 50",
                           "def f():\n    %time g()\n    return 1"])
    assert [u.names for u in sub.code_units] == [["os"], ["EPOCHS"], ["f"]]
    assert sub.code_units[2].source == "def f():\n    pass\n    return 1"
    counts = sub.dropped_counts()
    assert counts["IPython magic or shell"] == 5 and counts["non-Python cell magic"] == 1
    assert not sub.cell_failures


def test_cheap_assignments_kept_and_expensive_ones_dropped(tmp_path: Path) -> None:
    cells = [
        "import tensorflow as tf\nfrom tensorflow.keras.optimizers import Adam\nimport os",
        "BATCH_SIZE = 256\nnoise_dim = 100\nSHAPE = (32, 32, 3)\nSTEPS = BATCH_SIZE // 2 + noise_dim",
        "lr: float = 2e-4\nEPOCHS = 10\nEPOCHS += 40\nAUTOTUNE = tf.data.AUTOTUNE",
        "opt = Adam(learning_rate=lr, beta_1=0.5)\nce = tf.keras.losses.BinaryCrossentropy(from_logits=True)",
        "init = tf.keras.initializers.RandomNormal(0.0, 0.02)\nseed = tf.random.normal([16, noise_dim])",
        "(train_x, _), (test_x, _) = tf.keras.datasets.cifar10.load_data()",
        "BUFFER = len(train_x)\nsteps = BUFFER // BATCH_SIZE",
        "ds = tf.data.Dataset.from_tensor_slices(train_x).batch(BATCH_SIZE)",
        "history = train(ds, EPOCHS)\nmodel.fit(ds)",
        "for i in range(3):\n    print(i)",
        "plt.imshow(train_x[0])\ncheckpoint.restore(tf.train.latest_checkpoint('ck'))",
        "os.makedirs('out', exist_ok=True)\nwith open('log.txt', 'w') as f:\n    f.write('x')",
        "if __name__ == '__main__':\n    main()",
    ]
    sub = _load(tmp_path, cells)
    kept = [n for u in sub.code_units for n in u.names]
    assert kept == ["tf", "Adam", "os", "BATCH_SIZE", "noise_dim", "SHAPE", "STEPS", "lr", "EPOCHS",
                    "EPOCHS", "AUTOTUNE", "opt", "ce", "init", "seed"]
    reasons = {d.preview: d.reason for d in sub.dropped}
    assert reasons["(train_x, _), (test_x, _) = tf.keras.datasets.cifar10.load_data()"] == "data loading"
    assert reasons["BUFFER = len(train_x)"] == "other assignment"
    assert reasons["steps = BUFFER // BATCH_SIZE"] == "other assignment"  # BUFFER was not kept
    assert reasons["ds = tf.data.Dataset.from_tensor_slices(train_x).batch(BATCH_SIZE)"] == "data loading"
    assert reasons["history = train(ds, EPOCHS)"] == "training"
    assert reasons["model.fit(ds)"] == "training"
    assert reasons["for i in range(3):"] == "loop"
    assert reasons["plt.imshow(train_x[0])"] == "plotting or display"
    assert reasons["checkpoint.restore(tf.train.latest_checkpoint('ck'))"] == "checkpoint"
    assert reasons["os.makedirs('out', exist_ok=True)"] == "file I/O"
    assert reasons["with open('log.txt', 'w') as f:"] == "file I/O"
    assert reasons["if __name__ == '__main__':"] == "main block"


def test_decorated_function_source_includes_decorator_and_signature(tmp_path: Path) -> None:
    src = "@tf.function\n@other(1)\ndef train_step(images, k=2, *, w):\n    return images"
    sub = _load(tmp_path, ["import tensorflow as tf", "x = 1; y = 2", src])
    unit = sub.versions("train_step")[0]
    assert unit.source == src and unit.line == 1
    assert unit.decorators == ["tf.function", "other(1)"]
    assert unit.params == ["images", "k", "w"] and unit.required_params == 2
    assert [u.source for u in sub.code_units[1:3]] == ["x = 1", "y = 2"]


def test_model_build_needs_a_submission_builder(tmp_path: Path) -> None:
    cells = ["import tensorflow as tf",
             "def build_G(dim=100):\n    return 1\nclass Critic:\n    pass",
             "G = build_G(100)\ncritic = Critic()\nnet = tf.keras.Sequential()\n"
             "history = train_model()\nd, g, gan = build_G()"]
    sub = _load(tmp_path, cells)
    builds = [(u.names, u.calls) for u in sub.code_units if u.kind == "model_build"]
    assert builds == [(["G"], "build_G"), (["critic"], "Critic"), (["d", "g", "gan"], "build_G")]
    gens = find_candidates(sub.code_units, "generator")
    assert [(c.name, c.confidence) for c in gens] == [("build_G", 0.7)]


STACKED = """from tensorflow.keras.models import Sequential
from tensorflow.keras.layers import Dense, Reshape, Conv2D, LeakyReLU, Activation
from tensorflow import keras
from mylib import Downloader
import mylib
NOISE = 100
generator = Sequential()
generator.add(Dense(8 * 8 * 16, input_shape=(NOISE,)))
generator.add(Activation(LeakyReLU(0.2)))
generator.add(Reshape((8, 8, 16)))
generator.summary()
discriminator = keras.Sequential([keras.layers.Flatten(), keras.layers.Dense(1)])
discriminator.compile(loss='binary_crossentropy', optimizer='adam')
gan_history = generator.fit(x, y)
other.add(Dense(3))
generator.add(Downloader("http://example.com/weights"))
generator.add(mylib.Trainer(epochs=50))
net = mylib.Sequential([Dense(2)])
"""


def test_a_model_stacked_at_the_top_level_is_kept_and_its_training_dropped(tmp_path: Path
                                                                           ) -> None:
    """The course notes' train_on_batch style: ``generator = Sequential()`` + ``.add``."""
    sub = _load(tmp_path, [STACKED])
    kept = [u.source for u in sub.code_units if u.kind != "import"]
    assert kept == ["NOISE = 100", "generator = Sequential()",
                    "generator.add(Dense(8 * 8 * 16, input_shape=(NOISE,)))",
                    "generator.add(Activation(LeakyReLU(0.2)))",
                    "generator.add(Reshape((8, 8, 16)))",
                    "discriminator = keras.Sequential([keras.layers.Flatten(), "
                    "keras.layers.Dense(1)])"]
    dropped = {d.preview: d.reason for d in sub.dropped}
    assert dropped["gan_history = generator.fit(x, y)"] == "training"
    assert "other.add(Dense(3))" in dropped  # not a stacked model
    assert "generator.summary()" in dropped
    # a capitalised callable from another library is not a layer constructor
    assert 'generator.add(Downloader("http://example.com/weights"))' in dropped
    assert "generator.add(mylib.Trainer(epochs=50))" in dropped
    assert "net = mylib.Sequential([Dense(2)])" in dropped


def test_a_compiled_bce_discriminator_without_loss_functions_trains_with_the_standard_losses():
    from grader.sandbox.student.export_phase import compiled_with_bce, standard_loss
    from grader.training.losses import LossSpec

    class Compiled:
        def __init__(self, loss):
            self.loss = loss

    assert compiled_with_bce(Compiled("binary_crossentropy")) and compiled_with_bce(object())
    assert not compiled_with_bce(Compiled("mse"))
    spec = LossSpec.from_dict(standard_loss("discriminator", "probabilities"), 4)
    assert spec.space == "probs" and spec.coef == (1.0, 0.0, 0.0, 1.0)
    assert LossSpec.from_dict(standard_loss("generator", "logits"), 2).coef == (1.0, 0.0)
