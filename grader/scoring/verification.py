"""What the grader's own short run of the student's code shows: it verifies, it does not decide.

A quick run trains each version for a few dozen steps: enough to see that the code builds,
that training moves the losses and changes the images, far too little to judge quality. Its
result is a :class:`Verification` the item scorers consult: when the code cannot have made
the evidence the student shows (it does not train, its images do not change, its
checkpoint does not fit it), the item needs an instructor's review instead of credit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from grader.evidence import Evidence, VariantRun
from grader.judge.results import JudgedEvidence
from grader.text import Msg, msg

#: relative change of the generator's trainable weights below which "training does not
#: update the generator" (an optimizer with learning rate 0, a frozen or detached generator).
#: bench/verification_budget.py: exactly 0 for code that cannot learn; honest lesson code
#: changes its weights by more than 1e-3 after 5 steps.
MIN_GENERATOR_CHANGE = 1e-5
#: mean absolute change of the fixed-noise frames (0..1 scale) below which the images are
#: frozen: used only when the weight change is unknown. Frames are a weak signal: with
#: batch normalisation, images drift even when no weight is updated (the moving statistics
#: change), by 0.001-0.003 over 5-20 steps (bench/verification_budget.py).
MIN_FRAME_CHANGE = 1e-4


@dataclass(frozen=True)
class Verification:
    """The verdict of the grader's run on the final version of the student's code."""

    status: str
    """``ok`` (it trains and changes its images), ``not_run`` (no run: no code, no models),
    ``failed`` (it did not train), ``no_change`` (trained, images did not move) or
    ``unverified`` (trained in the student's own process: its numbers are not checked) or
    ``limit`` (the grader's time or memory limit stopped it: slow is not wrong)."""
    variant: VariantRun | None
    frame_change: float | None
    text: Msg

    @property
    def contradicts(self) -> bool:
        """The run shows the code cannot have made the student's results."""
        return self.status in ("failed", "no_change")


def verify(evidence: Evidence, judged: JudgedEvidence) -> Verification:
    """The verification of the final version (the baseline when there is no final)."""
    by_name = {v.name: v for v in evidence.variants}
    run = by_name.get("final") or by_name.get("baseline")
    change = judged.grader_frame_change
    if run is None:
        return Verification("not_run", None, change, msg("scoring.verify_not_run"))
    if run.error and run.error_kind in ("timeout", "memory"):
        return Verification("limit", run, change, msg("scoring.verify_limit", error=run.error))
    if run.error:
        return Verification("failed", run, change, msg("scoring.verify_failed", error=run.error))
    losses = np.asarray(run.history.gen_loss + run.history.disc_loss, dtype=np.float64)
    if not losses.size or not np.isfinite(losses).all():
        return Verification("failed", run, change, msg("scoring.verify_nan"))
    moved = run.history.generator_change
    if (moved is not None and moved < MIN_GENERATOR_CHANGE) or \
            (moved is None and change is not None and change < MIN_FRAME_CHANGE):
        return Verification("no_change", run, change,
                            msg("scoring.verify_no_change", steps=run.history.steps))
    if not run.verified:
        return Verification("unverified", run, change, msg("scoring.verify_unverified"))
    return Verification("ok", run, change, msg("scoring.verify_ok", steps=run.history.steps))
