"""The evidence record: the contract between the isolated run and trusted scoring.

Everything here is plain data (str, int, float, bool, lists, dicts and file names of
``.npz``/``.png``/``.gif`` files inside the work folder) so that it crosses the process
boundary as JSON. The trusted side loads arrays with ``allow_pickle=False`` and validates
shapes and dtypes before use (see :func:`load_images_npz`).
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from grader.text import Msg

CheckStatus = Literal["pass", "warn", "fail", "skip"]
ArtifactKind = Literal["samples", "real_preview", "history_plot", "gif", "checkpoint", "other"]

#: keys of a training history (per step lists of floats)
HISTORY_KEYS = ("gen_loss", "disc_loss", "real_accuracy", "fake_accuracy")


@dataclass
class CheckResult:
    """One check of the submission (shapes, ranges, losses, ...)."""

    id: str
    """Stable identifier, e.g. ``generator_output_shape`` (see ``grader.sandbox.checks``)."""
    status: CheckStatus
    message: Msg
    details: dict[str, Any] = field(default_factory=dict)
    """Plain JSON details (measured values, the function used, ...)."""

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON dict (``message`` as ``{"en": ..., "ko": ...}``)."""
        return {"id": self.id, "status": self.status, "message": self.message.to_json(),
                "details": self.details}

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> CheckResult:
        """Read :meth:`to_dict` output (or the older ``message_en``/``message_ko`` form)."""
        text = raw.get("message")
        message = Msg.from_json(text) if text is not None else \
            Msg(str(raw.get("message_en", "")), str(raw.get("message_ko", "")))
        return cls(id=str(raw["id"]), status=raw["status"], message=message,
                   details=dict(raw.get("details") or {}))


@dataclass
class History:
    """Per-step training history recorded by the grader's own loop."""

    gen_loss: list[float] = field(default_factory=list)
    disc_loss: list[float] = field(default_factory=list)
    real_accuracy: list[float] = field(default_factory=list)
    """Trusted: fraction of real logits >= 0 (sigmoid >= 0.5)."""
    fake_accuracy: list[float] = field(default_factory=list)
    """Trusted: fraction of fake logits < 0."""
    student_real_accuracy: list[float] | None = None
    """What the student's own ``discriminator_accuracy`` returned, when it ran."""
    student_fake_accuracy: list[float] | None = None
    batch_size: int = 0
    steps: int = 0
    wall_s: float = 0.0
    images_per_s: float = 0.0
    loop: str = "reference"
    """``student_train_step`` or ``reference`` (the grader's loop with the student's losses)."""
    loop_note: str = ""
    """Why that loop was used (e.g. the student's train_step failed with the lesson signature)."""
    loop_note_detail: str = ""
    """The full traceback when the student's train_step failed (for instructors)."""
    generator_change: float | None = None
    """Relative change of the generator's trainable weights over the run (L2 norm of the
    change over the norm before): 0 when its optimizer never updates it."""


@dataclass
class VariantRun:
    """One trained variant of the student's GAN (``baseline`` or ``final``)."""

    name: str
    """``baseline`` (first working pair) or ``final`` (last working pair)."""
    generator_fn: str
    discriminator_fn: str
    history: History
    samples_file: str | None = None
    """``.npz`` in the work folder with ``images``: uint8 (N, H, W, C) after training."""
    frames_file: str | None = None
    """``.npz`` with ``frames``: uint8 (F, K, H, W, C), fixed-noise samples over training."""
    frame_steps: list[int] = field(default_factory=list)
    error: str | None = None
    """Why this variant could not be trained (student-facing words, one line), if it failed."""
    error_detail: str | None = None
    """The full traceback behind ``error`` (for instructors; never shown as the reason)."""
    error_kind: str | None = None
    """``timeout`` or ``memory`` when the grader's limits stopped it (the code may be fine,
    only slow or large); ``error`` when the code itself failed; None without an error."""
    verified: bool = True
    """False when the variant was trained in the student's own process (its models or losses
    could not cross to the trusted process as data): its numbers are not verified."""


@dataclass
class Artifact:
    """A file found in the submission, or an image embedded in a notebook output."""

    kind: ArtifactKind
    origin: str
    """Where it came from: a relative path, or ``notebook.ipynb cell 12 output 0``."""
    file: str | None = None
    """A copy in the work folder (trusted side reads this), if any."""
    note: str = ""


@dataclass
class Evidence:
    """Everything the isolated run and intake found out about one submission."""

    submission: str
    isolation: str
    """Isolation in force: ``bwrap`` or ``none`` (asked for by name)."""
    checks: list[CheckResult] = field(default_factory=list)
    variants: list[VariantRun] = field(default_factory=list)
    checkpoint_samples_file: str | None = None
    """``.npz`` with ``images`` sampled by the grader from the student's checkpoint."""
    checkpoint: dict[str, Any] | None = None
    """How the student's checkpoint was restored: ``fits_code`` (it loads into the generator
    the submitted code builds), ``how`` and ``why`` (when it does not fit)."""
    artifacts: list[Artifact] = field(default_factory=list)
    missing_artifacts: list[str] = field(default_factory=list)
    """Paths the code wrote to that are not in the submission."""
    warnings: list[Msg] = field(default_factory=list)
    logs: str = ""
    """Child output, truncated."""
    timings: dict[str, float] = field(default_factory=dict)
    trusted_models: bool = False
    """True when the models used only built-in Keras layers (loadable with safe_mode)."""
    run_map: dict[str, Any] | None = None
    """The notebook's story: runs, the images each showed, baseline and final
    (:class:`grader.intake.runs.RunMap` as a dict; image files relative to ``intake/``)."""

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON dict."""
        out = dataclasses.asdict(self)
        out["checks"] = [c.to_dict() for c in self.checks]
        out["warnings"] = [Msg.from_json(w).to_json() for w in self.warnings]
        return out

    def to_json(self) -> str:
        """Serialise to JSON text."""
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=1)

    @classmethod
    def from_json(cls, text: str) -> Evidence:
        """Parse JSON written by :meth:`to_json` (unknown keys are ignored)."""
        raw = json.loads(text)
        checks = [CheckResult.from_dict(c) for c in raw.pop("checks", [])]
        raw["warnings"] = [Msg.from_json(w) for w in raw.get("warnings", [])]
        variants = []
        for v in raw.pop("variants", []):
            hist = History(**_known(History, v.pop("history", {})))
            variants.append(VariantRun(history=hist, **_known(VariantRun, v)))
        artifacts = [Artifact(**_known(Artifact, a)) for a in raw.pop("artifacts", [])]
        return cls(checks=checks, variants=variants, artifacts=artifacts, **_known(cls, raw))


def _known(klass: type, raw: dict[str, Any]) -> dict[str, Any]:
    names = {f.name for f in dataclasses.fields(klass)} - {"history", "checks", "variants",
                                                           "artifacts"}
    return {k: v for k, v in raw.items() if k in names}


def load_images_npz(path: Path, key: str, shape: tuple[int, ...], *,
                    max_items: int = 100_000) -> np.ndarray:
    """Load uint8 images (N, H, W, C) — or frames (F, K, H, W, C) — written by a child.

    Args:
        path: The ``.npz`` file.
        key: The array in it.
        shape: (H, W, C) every image must have.
        max_items: Most images (or frames) accepted.

    Raises:
        ValueError: the file is not an npz of the expected shape and dtype.
    """
    with np.load(path, allow_pickle=False) as z:
        if key not in z.files:
            raise ValueError(f"{path.name} has no array {key!r}")
        arr = z[key]
    if arr.dtype != np.uint8 or arr.shape[-3:] != tuple(shape) or arr.ndim not in (4, 5):
        want = ",".join(str(d) for d in shape)
        raise ValueError(f"{path.name}: {key} is {arr.dtype}{arr.shape}, expected uint8 "
                         f"(...,{want})")
    if arr.shape[0] > max_items:
        raise ValueError(f"{path.name}: {arr.shape[0]} items, more than {max_items}")
    return arr
