"""The judge's results: the one typed contract between judging and scoring.

:class:`JudgeResult` is the judge's verdict on one set of images (the grader's samples, the
checkpoint's samples, the tiles of a student's figure, one GIF frame), with one
:class:`ImageVerdict` per image; :class:`JudgedEvidence` holds every result of one
submission and is what the scorers read. All of it is plain data: ``to_dict`` /
``from_dict`` round-trip through ``judged.json``, and ``from_dict`` validates what it reads.
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from grader.stats.trend import level_half_width
from grader.text import Msg


def _finite_or_none(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


def _float(raw: dict[str, Any], key: str, default: float = math.nan) -> float:
    value = raw.get(key, default)
    if value is None:
        return math.nan
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"judge result field {key!r} must be a number, got {value!r}")
    return float(value)


def _int(raw: dict[str, Any], key: str, default: int = 0) -> int:
    value = raw.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"judge result field {key!r} must be an integer, got {value!r}")
    return value


STUDENT_TILES_FILE = "judged/student_tiles.npz"
"""Where the tiles cut from the student's figures are kept in the work folder (uint8), for
the report and for ``grade rescore``."""


FCD_NOTE = "FCD"
"""The first word of every judge warning about the FCD alone (no grade rests on it)."""


@dataclass
class ImageVerdict:
    """The judge on one image of a set."""

    class_index: int
    class_name: str
    prob: float
    """Calibrated probability of the top class."""
    recognizable: bool
    near_copy: bool = False
    """An almost identical image is in the same set (a sign of mode collapse)."""
    probs: list[float] = field(default_factory=list)
    """Calibrated probabilities of all classes (rounded to 5 decimals)."""
    p_clear: float | None = None
    """Probability that a reader names this image's class without doubt (the per-tile
    recognizability score fitted on eye labels; None where the assignment has none)."""
    p_named: float | None = None
    """Probability that a reader names at least a plausible class."""
    clear: bool = False
    """``p_clear`` at or above its calibrated threshold."""
    named: bool = False
    """``p_named`` at or above its calibrated threshold (clear or plausible)."""
    copy_of: str | None = None
    """The real image this one is a near-copy of (``train 1234, cat``), if any."""

    @classmethod
    def from_dict(cls, raw: Any) -> ImageVerdict:
        """Validate one ``per_image`` entry."""
        if not isinstance(raw, dict):
            raise ValueError(f"a per-image verdict must be an object, got {type(raw).__name__}")
        probs = raw.get("probs") or []
        if not isinstance(probs, list) or not all(isinstance(p, (int, float)) for p in probs):
            raise ValueError("per-image 'probs' must be a list of numbers")
        def opt(key: str) -> float | None:
            return None if raw.get(key) is None else _float(raw, key)

        copy_of = raw.get("copy_of")
        return cls(class_index=_int(raw, "class_index"), class_name=str(raw.get("class_name", "")),
                   prob=_float(raw, "prob"), recognizable=bool(raw.get("recognizable", False)),
                   near_copy=bool(raw.get("near_copy", False)),
                   probs=[float(p) for p in probs], p_clear=opt("p_clear"),
                   p_named=opt("p_named"), clear=bool(raw.get("clear", False)),
                   named=bool(raw.get("named", False)),
                   copy_of=str(copy_of) if copy_of else None)


@dataclass
class JudgeResult:
    """The judge's verdict on a set of images."""

    n: int
    recognizable_fraction: float
    """Fraction of images whose calibrated top-1 probability is >= tau (and in distribution)."""
    ci_low: float
    """Lower end of the bootstrap 95% interval of ``recognizable_fraction``."""
    ci_high: float
    tau: float
    out_of_distribution_fraction: float
    """Fraction of images whose features lie outside the real-image range (never recognizable)."""
    class_histogram: list[int]
    """Recognized images per class (one count per class of the assignment)."""
    class_coverage: int
    """Number of classes with at least ``coverage_k`` recognized images."""
    coverage_k: int
    classifier_score: float
    """exp(E_x KL(p(y|x) || p(y))): 1 (no information) .. number of classes (best)."""
    fcd: float
    """Fréchet distance between feature Gaussians of these images and real test images."""
    fcd_reference: float
    """Real-vs-real FCD expected at this N (compare ``fcd`` with it, not with 0)."""
    near_copy_fraction: float = 0.0
    """Fraction of images with a near-copy in the same set: a generator that makes only a
    few distinct images repeats itself."""
    per_image: list[ImageVerdict] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    class_names: list[str] = field(default_factory=list)
    """The classes the histogram counts, in order."""
    clear_count: int | None = None
    """Images a reader would name without doubt (the per-tile score; None: no score here)."""
    named_count: int | None = None
    """Images a reader would name at least plausibly (clear ones included)."""
    hinted_count: int | None = None
    """Images that at least hint at an object (the score's ``threshold_hint``, at most its named
    threshold; named ones included): item 1's partial count. None: not counted
    (``named_count`` stands in)."""
    expected_clear: float | None = None
    """Sum of ``p_clear``: the expected number of clear images."""
    copy_fraction: float | None = None
    """Share of images that are near-copies of real training or test images (None: the
    assignment has no copy index)."""
    origin: str = ""
    """Where the images came from (a figure, the grader's samples, a checkpoint)."""

    def top_class(self) -> str:
        """The class with the most recognized images ("?" when none)."""
        if not self.class_histogram or max(self.class_histogram) == 0:
            return "?"
        i = max(range(len(self.class_histogram)), key=self.class_histogram.__getitem__)
        return self.class_names[i] if i < len(self.class_names) else "?"

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-serialisable dict (non-finite FCD values as None)."""
        out = dataclasses.asdict(self)
        out["fcd"], out["fcd_reference"] = (_finite_or_none(self.fcd),
                                            _finite_or_none(self.fcd_reference))
        return out

    @classmethod
    def from_dict(cls, raw: Any) -> JudgeResult:
        """Validate a dict written by :meth:`to_dict`.

        Raises:
            ValueError: A field is missing or has the wrong type.
        """
        if not isinstance(raw, dict):
            raise ValueError(f"a judge result must be an object, got {type(raw).__name__}")
        hist = raw.get("class_histogram") or []
        if not isinstance(hist, list) or not all(isinstance(h, int) for h in hist):
            raise ValueError("'class_histogram' must be a list of integers")
        per = raw.get("per_image") or []
        if not isinstance(per, list):
            raise ValueError("'per_image' must be a list")
        return cls(
            n=_int(raw, "n"), recognizable_fraction=_float(raw, "recognizable_fraction", 0.0),
            ci_low=_float(raw, "ci_low", 0.0), ci_high=_float(raw, "ci_high", 1.0),
            tau=_float(raw, "tau"),
            out_of_distribution_fraction=_float(raw, "out_of_distribution_fraction", 0.0),
            class_histogram=list(hist), class_coverage=_int(raw, "class_coverage"),
            coverage_k=_int(raw, "coverage_k", 1),
            classifier_score=_float(raw, "classifier_score", 0.0), fcd=_float(raw, "fcd"),
            fcd_reference=_float(raw, "fcd_reference"),
            near_copy_fraction=_float(raw, "near_copy_fraction", 0.0),
            per_image=[ImageVerdict.from_dict(p) for p in per],
            warnings=[str(w) for w in raw.get("warnings") or []],
            class_names=[str(c) for c in raw.get("class_names") or []],
            clear_count=None if raw.get("clear_count") is None else _int(raw, "clear_count"),
            named_count=None if raw.get("named_count") is None else _int(raw, "named_count"),
            hinted_count=None if raw.get("hinted_count") is None
            else _int(raw, "hinted_count"),
            expected_clear=None if raw.get("expected_clear") is None
            else _float(raw, "expected_clear"),
            copy_fraction=None if raw.get("copy_fraction") is None
            else _float(raw, "copy_fraction"),
            origin=str(raw.get("origin", "")))


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
    shown: bool = False
    """The notebook displays it (an output), not only a file in the submission."""


@dataclass
class FigureJudgement:
    """One of the student's sample figures as the judge read it."""

    role: str
    """``final`` (the last run's grid), ``before`` (the baseline run's grid, or the first half of
    the student's before/after comparison) or ``after`` (its second half)."""
    origin: str
    """Where it is (``nb.ipynb cell 58 output 2`` or ``generated_samples/x.png``)."""
    shown: bool = True
    """It is an output of the notebook (False: only a file in the submission)."""
    run: int | None = None
    """The run of the notebook's story it belongs to."""
    tiles_file: str | None = None
    """``.npz`` in the work folder with its ``tiles`` (for the report and re-scoring)."""
    display_bug: str | None = None
    """``channel0``, ``colormap``, ``clipped`` or ``wrapped`` (see
    :mod:`grader.intake.figures.display`)."""
    display_evidence: str = ""
    problem: str | None = None
    """Why it holds no images that could be judged (unreadable, a chart, ...)."""
    result: JudgeResult | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON dict."""
        out = dataclasses.asdict(self)
        out["result"] = self.result.to_dict() if self.result is not None else None
        return out

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> FigureJudgement:
        """Validate :meth:`to_dict` output."""
        known = {f.name for f in dataclasses.fields(cls)} - {"result"}
        out = cls(**{k: v for k, v in raw.items() if k in known})
        if raw.get("result") is not None:
            out.result = JudgeResult.from_dict(raw["result"])
        return out


@dataclass
class HistoryJudgement:
    """The student's history plot, read back into numbers."""

    origin: str
    shown: bool = True
    ok: bool = False
    """The fake-accuracy curve was recovered."""
    reason: str = ""
    """Why it could not be read, when it could not."""
    fake_accuracy: list[float] = field(default_factory=list)
    """The recovered curve as a trend test should see it: one value per step or epoch when
    the x ticks were read, else one per pixel column (the reader's ``trend_values``)."""
    level_uncertainty: list[float] = field(default_factory=list)
    """Per pixel column, the reader's calibrated share of the final level's interval: the
    half-width of the final level's interval is the mean of its last columns (the rubric's
    ``tail_fraction``) plus ``level_base`` (see :meth:`final_level_half_width`)."""
    level_base: float = 0.0
    """The constant part of that half-width (accuracy units)."""

    def final_level_half_width(self, tail_fraction: float) -> float | None:
        """Half-width of an interval that holds the true final level in about 90% of the
        reader's benchmark plots (``reference/plots/README.md``); None without the data."""
        unc = [v for v in self.level_uncertainty if isinstance(v, (int, float))]
        return level_half_width(unc, tail_fraction, self.level_base)
    uncertainty: float | None = None
    """Typical error of the recovered values, in accuracy units."""
    confidence: float | None = None
    """How sure the reader is that the curve and its identity are right (0..1)."""
    hidden_fraction: float = 0.0
    """Share of the curve hidden under another line (interpolated)."""
    file: str | None = None
    """The image in the work folder, for the report."""
    overlay_file: str | None = None
    """The image with the recovered fake-accuracy curve and the 0.5 line drawn over it."""
    reading: dict[str, Any] = field(default_factory=dict)
    """The reader's whole result (every series), for instructors."""


#: JudgedEvidence fields holding one judge result each
SET_FIELDS = ("final_samples", "baseline_samples", "checkpoint_samples", "student_images",
              "student_before_images", "student_after_images")
#: JudgedEvidence fields holding a list of judge results (one per frame)
FRAME_FIELDS = ("grader_frames", "gif_frames")


@dataclass
class JudgedEvidence:
    """Every judge result of one submission (what the scorers read)."""

    final_samples: JudgeResult | None = None
    """Images sampled by the grader from the final variant it trained."""
    baseline_samples: JudgeResult | None = None
    """Images sampled by the grader from the baseline variant (only when one exists)."""
    checkpoint_samples: JudgeResult | None = None
    """Images the grader sampled from the student's own checkpoint."""
    student_images: JudgeResult | None = None
    """Tiles cut from the student's sample images (PNG files or notebook outputs)."""
    student_before_images: JudgeResult | None = None
    """Tiles the student shows as results before the improvement, if told apart."""
    student_after_images: JudgeResult | None = None
    """Tiles the student shows as results after the improvement, if told apart."""
    grader_frames: list[JudgeResult] = field(default_factory=list)
    """One judge result per fixed-noise frame of the grader's final run, in training order."""
    gif_frames: list[JudgeResult] = field(default_factory=list)
    """One judge result per frame of the student's GIF, in order."""
    gif_info: GifInfo | None = None
    figures: list[FigureJudgement] = field(default_factory=list)
    """The student's final and before grids as judged (display bugs, origins, tiles)."""
    history: HistoryJudgement | None = None
    """The student's history plot of the final run, read back into numbers."""
    baseline_history: HistoryJudgement | None = None
    """The baseline run's own history plot, when the notebook shows or saves a distinct one
    (item 2 credits the better of the two: training went right in either run)."""
    grader_frame_change: float | None = None
    """Mean absolute change (0..1) between the first and the last fixed-noise frame of the
    grader's run of the final version: whether training changed the images at all."""
    shown_error: str = ""
    """Why what the student shows could not be judged (empty: it was, or nothing is shown);
    the items that rest on it then wait for an instructor."""

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON dict."""
        out: dict[str, Any] = {"shown_error": self.shown_error}
        for name in SET_FIELDS:
            value = getattr(self, name)
            out[name] = value.to_dict() if value is not None else None
        for name in FRAME_FIELDS:
            out[name] = [r.to_dict() for r in getattr(self, name)]
        out["gif_info"] = dataclasses.asdict(self.gif_info) if self.gif_info else None
        out["figures"] = [f.to_dict() for f in self.figures]
        out["history"] = dataclasses.asdict(self.history) if self.history else None
        out["baseline_history"] = dataclasses.asdict(self.baseline_history) \
            if self.baseline_history else None
        out["grader_frame_change"] = self.grader_frame_change
        return out

    def to_json(self) -> str:
        """Serialise to JSON text."""
        return json.dumps(self.to_dict(), ensure_ascii=False)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> JudgedEvidence:
        """Validate a dict written by :meth:`to_dict` (unknown keys are ignored).

        Raises:
            ValueError: A judge result is malformed.
        """
        out = cls()
        for name in SET_FIELDS:
            if raw.get(name) is not None:
                setattr(out, name, JudgeResult.from_dict(raw[name]))
        for name in FRAME_FIELDS:
            setattr(out, name, [JudgeResult.from_dict(r) for r in raw.get(name) or []])
        gif = raw.get("gif_info")
        if isinstance(gif, dict):
            known = {f.name for f in dataclasses.fields(GifInfo)}
            out.gif_info = GifInfo(**{k: v for k, v in gif.items() if k in known})
        out.figures = [FigureJudgement.from_dict(f) for f in raw.get("figures") or []
                       if isinstance(f, dict)]
        out.shown_error = str(raw.get("shown_error") or "")[:500]
        change = raw.get("grader_frame_change")
        out.grader_frame_change = float(change) if isinstance(change, (int, float)) else None
        known = {f.name for f in dataclasses.fields(HistoryJudgement)}
        for name in ("history", "baseline_history"):
            hist = raw.get(name)
            if isinstance(hist, dict):
                setattr(out, name, HistoryJudgement(**{k: v for k, v in hist.items()
                                                        if k in known}))
        return out

    def figure(self, role: str) -> FigureJudgement | None:
        """The student's ``final`` or ``before`` grid."""
        return next((f for f in self.figures if f.role == role), None)

    @classmethod
    def from_json(cls, text: str) -> JudgedEvidence:
        """Parse JSON written by :meth:`to_json`."""
        return cls.from_dict(json.loads(text))


@dataclass
class StudentImages:
    """Tiles cut from the student's own figures, and what was noticed on the way."""

    tiles: np.ndarray | None = None
    origins: list[str] = field(default_factory=list)
    notes: list[Msg] = field(default_factory=list)
    before_tiles: np.ndarray | None = None
    """Tiles of the baseline run's grid, when the notebook shows one."""
    figure_of: np.ndarray | None = None
    """Per tile, the index of the figure it was cut from (near-copies count within one figure:
    the same samples saved twice, or two late epochs of a fixed seed, are not collapse)."""
