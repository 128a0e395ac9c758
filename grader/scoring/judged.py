"""Judged evidence: the trusted judge results (and GIF facts) the pipeline hands to scoring."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import asdict, dataclass, field
from typing import Any

# Keys of a judge result dict (grader.judge.metrics.JudgeResult.to_dict()).
KEY_N = "n"
KEY_FRACTION = "recognizable_fraction"
KEY_CI_LOW = "ci_low"
KEY_CI_HIGH = "ci_high"
KEY_HISTOGRAM = "class_histogram"
KEY_COVERAGE = "class_coverage"
KEY_CLASSIFIER_SCORE = "classifier_score"
KEY_FCD = "fcd"
KEY_NEAR_COPY = "near_copy_fraction"
KEY_PER_IMAGE = "per_image"
KEY_WARNINGS = "warnings"
#: CIFAR-10 class names (same order as grader.data.CLASS_NAMES; kept here to avoid data imports)
CLASS_NAMES = ("airplane", "automobile", "bird", "cat", "deer",
               "dog", "frog", "horse", "ship", "truck")


@dataclass
class GifInfo:
    """What the pipeline found out about the student's GIF."""

    origin: str
    """Where it came from (relative path or notebook output)."""
    readable: bool = True
    n_frames: int = 0
    error: str | None = None
    """Why it could not be read (student-facing words)."""
    colormapped: bool = False
    """Frames show a single channel through a colormap (a display problem)."""
    damaged: bool = False
    """The file broke off part-way; ``n_frames`` counts the intact frames before the damage."""
    tiles_per_frame: int = 0
    file: str | None = None
    """Copy in the work folder, for the report."""


@dataclass
class JudgedEvidence:
    """Trusted judge results the pipeline computed for one submission.

    Every judge result is a ``grader.judge.metrics.JudgeResult.to_dict()`` dict (``n``,
    ``recognizable_fraction``, ``ci_low``, ``ci_high``, ``class_histogram``, ``class_coverage``,
    ``classifier_score``, ``fcd``, ``per_image``, ``warnings``). Any field may be missing.
    """

    final_samples: dict[str, Any] | None = None
    """Images sampled by the grader from the final variant it trained."""
    baseline_samples: dict[str, Any] | None = None
    """Images sampled by the grader from the baseline variant (only when one exists)."""
    checkpoint_samples: dict[str, Any] | None = None
    """Images the grader sampled from the student's own checkpoint."""
    student_images: dict[str, Any] | None = None
    """Tiles cut from the student's sample images (PNG files or notebook outputs)."""
    student_before_images: dict[str, Any] | None = None
    """Tiles the student shows as results before the improvement, if told apart."""
    student_after_images: dict[str, Any] | None = None
    """Tiles the student shows as results after the improvement, if told apart."""
    grader_frames: list[dict[str, Any]] = field(default_factory=list)
    """One judge result per fixed-noise frame of the grader's final run, in training order."""
    gif_frames: list[dict[str, Any]] = field(default_factory=list)
    """One judge result per frame of the student's GIF, in order."""
    gif_info: GifInfo | None = None

    def to_json(self) -> str:
        """Serialise to JSON text."""
        return json.dumps(asdict(self), ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> JudgedEvidence:
        """Parse JSON written by :meth:`to_json` (unknown keys are ignored)."""
        raw = json.loads(text)
        gif = raw.pop("gif_info", None)
        names = {f.name for f in dataclasses.fields(cls)}
        gif_names = {f.name for f in dataclasses.fields(GifInfo)}
        info = GifInfo(**{k: v for k, v in gif.items() if k in gif_names}) if gif else None
        return cls(gif_info=info, **{k: v for k, v in raw.items() if k in names})
