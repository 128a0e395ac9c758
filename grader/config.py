"""Defaults, in one place: grading modes and their budgets, sandbox limits, environment names.

The command line, the API and the sandbox all read their defaults from here
(:data:`SANDBOX`, :data:`QUICK`, :data:`FULL`), so a default is declared once.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

#: every environment variable the grader reads starts with this
ENV_PREFIX = "DCGAN_GRADER_"
#: the help of every ``--data`` option
DATA_HELP = (
    "training data source. Order: --data PATH > $DCGAN_GRADER_DATA > keras cache "
    "(~/.keras/datasets) > the assignment's bundled subset. PATH: an .npz "
    "(x_train,y_train,x_test,y_test), a cifar-10-batches-py folder, an image tree "
    "train/<class>/*.jpg (or .tar.gz), 'keras' (download) or 'bundled'."
)


@dataclass(frozen=True)
class SandboxDefaults:
    """Limits of the student's isolated process (overridable per run)."""

    memory_mb: int = 4096
    """Memory limit of the student's code (the sandbox allows a little slack above it)."""
    check_timeout_s: float = 240.0
    """Time limit of the check phase (models built and probed, losses fitted)."""
    checkpoint_timeout_s: float = 180.0
    """Time limit of restoring and sampling the student's checkpoint."""
    load_timeout_s: float = 180.0
    """Time limit of running all the student's code units."""
    unit_timeout_s: float = 60.0
    """Time limit of one code unit at load time (a student's training loop is cut here)."""
    call_timeout_s: float = 60.0
    """Time limit of one call into student code during a check."""
    threads: int = 2
    """TensorFlow threads of the student's process."""
    grader_memory_mb: int = 4096
    """Memory the grader itself may use above the student's limit (cohort watchdog)."""


SANDBOX = SandboxDefaults()


@dataclass(frozen=True)
class Budget:
    """How long the grader trains a student's models, and how much it samples."""

    steps: int
    """Training steps per variant (baseline and final get the same)."""
    batch_size: int
    sample_every: int
    """Steps between fixed-noise frames (the grader's own 'GIF')."""
    n_samples: int = 512
    """Images sampled from each trained generator (and from a checkpoint) for the judge."""
    train_timeout_s: float = 900.0
    """Hang protection of the whole train phase (all variants)."""


#: ``--quick``: a verification run. It shows that the code builds, trains and updates the
#: generator (``grader.scoring.verification``); it cannot show quality, and the grade does not
#: rest on it. bench/verification_budget.py: after 5 steps honest lesson code has changed its
#: generator weights by 0.3% while code that cannot learn changes them by exactly 0; 10 steps
#: of batch 32 (a few seconds on 2 cores, even for large student models) leave margin.
#: 64 samples per set: what a verification run and a checkpoint need (4 grids of 16 for item
#: 1's per-16 counts); each judged image costs 7 forward passes of the judge (the eye-label
#: score's shifted views), so 256 took ~3x longer to judge (bench/results/README.md).
QUICK = Budget(steps=10, batch_size=32, sample_every=5, n_samples=64, train_timeout_s=300.0)
#: ``--full``: the assignment's 50 epochs of its full training set at batch 256 (for a GPU).
FULL_BATCH = 256


def full_budget(epochs: int, train_size: int) -> Budget:
    """``--full``: ``epochs`` over ``train_size`` images at batch 256 (meant for a GPU)."""
    per_epoch = max(1, train_size // FULL_BATCH)
    return Budget(steps=epochs * per_epoch, batch_size=FULL_BATCH, sample_every=per_epoch,
                  n_samples=1000, train_timeout_s=6 * 3600.0)


MODES = ("quick", "full")
#: Gradescope's visibility values (``results.json`` ``visibility``), most hidden first
GRADESCOPE_VISIBILITIES = ("hidden", "after_due_date", "after_published", "visible")
#: languages of Gradescope's ``results.json`` (``both``: Korean first, then English)
GRADESCOPE_LANGS = ("en", "ko", "both")


@dataclass(frozen=True)
class GradeOptions:
    """Everything one grading run needs to know, besides the submission."""

    mode: str = "quick"
    budget: Budget = QUICK
    seed: int = 0
    data: str | None = None
    """Training data source (``grader.data.load_dataset``); quick mode: the bundled subset."""
    rubric: Path | None = None
    assignment: str | None = None
    """Assignment id or folder (default: ``$DCGAN_GRADER_ASSIGNMENT``, then cifar10_dcgan)."""
    lang: str = "en"
    out_dir: Path | None = None
    gradescope: bool = False
    gradescope_lang: str | None = None
    """Language of Gradescope's ``results.json`` (``en``, ``ko``, ``both``; None: ``lang``)."""
    gradescope_visibility: str = "visible"
    """Visibility of Gradescope's results (one of :data:`GRADESCOPE_VISIBILITIES`)."""
    isolation: str = "auto"
    memory_mb: int = SANDBOX.memory_mb
    check_timeout_s: float = SANDBOX.check_timeout_s
    checkpoint_timeout_s: float = SANDBOX.checkpoint_timeout_s
    threads: int = SANDBOX.threads
    """TensorFlow threads in the student's process."""
    trusted_threads: int | None = None
    """TensorFlow intra-op threads where the grader itself loads the judge (only for what no
    trusted process judged; None: TensorFlow's default)."""
    overrides: Path | None = None
    """An instructor's overrides file (:mod:`grader.scoring.overrides`)."""

    def with_budget(self, steps: int | None = None, epochs: float | None = None,
                    n_train: int = 50_000) -> GradeOptions:
        """Override the mode's step budget by steps or epochs (of ``n_train`` images)."""
        b = self.budget
        if epochs is not None:
            steps = max(1, int(round(epochs * max(1, n_train // b.batch_size))))
        if steps is None:
            return self
        every = max(1, steps // 10)
        return replace(self, budget=replace(b, steps=steps, sample_every=every))
