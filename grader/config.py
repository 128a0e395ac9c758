"""Grading modes and their budgets: one source of defaults for the CLI and the API."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path


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


#: ``--quick``: about 90 s of training of a lesson-sized DCGAN on 2 CPU cores, bundled data.
QUICK = Budget(steps=150, batch_size=64, sample_every=15, n_samples=512, train_timeout_s=600.0)
#: ``--full``: the assignment's 50 epochs of CIFAR-10 at batch 256 (meant for a GPU).
FULL = Budget(steps=50 * (50_000 // 256), batch_size=256, sample_every=390, n_samples=1000,
              train_timeout_s=6 * 3600.0)
MODES = {"quick": QUICK, "full": FULL}


@dataclass(frozen=True)
class GradeOptions:
    """Everything one grading run needs to know, besides the submission."""

    mode: str = "quick"
    budget: Budget = QUICK
    seed: int = 0
    data: str | None = None
    """CIFAR-10 source (``grader.data.load_cifar10``); quick mode defaults to the bundled subset."""
    rubric: Path | None = None
    lang: str = "en"
    out_dir: Path | None = None
    gradescope: bool = False
    isolation: str = "auto"
    memory_mb: int = 4096
    check_timeout_s: float = 240.0
    checkpoint_timeout_s: float = 180.0
    threads: int = 2
    """TensorFlow threads in the child."""
    trusted_threads: int | None = None
    """TensorFlow intra-op threads of the grader's own process (None: TensorFlow's default)."""

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
