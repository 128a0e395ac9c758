"""The self-contained HTML report: jinja2 (autoescape) with every image inlined as a data URI."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from grader import __version__
from grader.evidence import Evidence, load_images_npz
from grader.files import write_text_atomic
from grader.judge.results import STUDENT_TILES_FILE, JudgedEvidence, JudgeResult
from grader.report.images import (
    data_uri,
    frames_to_gif,
    gallery_tiles,
    gif_strip,
    shrink_gif,
)
from grader.report.plots import frame_quality_png, history_png
from grader.report.result_json import RunMeta
from grader.scoring import Grade
from grader.scoring.sources import label as source_label

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

TEMPLATES = Path(__file__).resolve().parent / "templates"
LANGS = ("en", "ko")
#: the log shown in the report keeps only its end
MAX_LOG_CHARS = 20_000
MAX_NUMBERS_CHARS = 6_000
#: a traceback shown folded under a check or a variant keeps only its end
MAX_DETAIL_CHARS = 20_000


@dataclass
class ReportImages:
    """Images the report shows; all optional. Arrays are uint8 (..., H, W, C)."""

    final_samples: np.ndarray | None = None
    baseline_samples: np.ndarray | None = None
    checkpoint_samples: np.ndarray | None = None
    student_tiles: np.ndarray | None = None
    """Tiles cut from the student's own sample images."""
    grader_frames: np.ndarray | None = None
    """(F, K, H, W, C) fixed-noise frames of the grader's final run."""
    gif_bytes: bytes | None = None
    """The student's GIF file as it is."""
    shown_final: np.ndarray | None = None
    """Tiles of the final grid the student shows (as judged)."""
    shown_before: np.ndarray | None = None
    """Tiles of the grid the student shows before the improvement."""
    shown_after: np.ndarray | None = None
    """Tiles of the "after" half of the student's before/after figure (None: the final grid)."""
    history_image: bytes | None = None
    """The student's history plot, with the recovered curve drawn over it when read."""
    baseline_history_image: bytes | None = None
    """The same for the baseline run's own plot, when there is one."""

    @classmethod
    def from_work_dir(cls, evidence: Evidence, judged: JudgedEvidence,
                      work_dir: str | Path, shape: tuple[int, ...]) -> ReportImages:
        """Load what the evidence names from the work folder (``allow_pickle=False``).

        Files that are missing or malformed are skipped: the report shows what exists.
        """
        work = Path(work_dir)
        out = cls()
        by_name = {v.name: v for v in evidence.variants}
        final, base = by_name.get("final"), by_name.get("baseline")
        out.final_samples = _npz(work, final.samples_file if final else None, "images", shape)
        out.baseline_samples = _npz(work, base.samples_file if base else None, "images", shape)
        out.checkpoint_samples = _npz(work, evidence.checkpoint_samples_file, "images", shape)
        out.grader_frames = _npz(work, final.frames_file if final else None, "frames", shape)
        gif = judged.gif_info.file if judged.gif_info else None
        out.gif_bytes = _bytes(work, gif)
        for fig in judged.figures:
            tiles = _npz(work, fig.tiles_file, "tiles", shape)
            if fig.role == "final":
                out.shown_final = tiles
            elif fig.role == "before":
                out.shown_before = tiles
            elif fig.role == "after":
                out.shown_after = tiles
        out.student_tiles = _npz(work, STUDENT_TILES_FILE, "tiles", shape)
        if out.shown_final is None:
            out.shown_final = out.student_tiles
        h = judged.history
        if h is not None:
            out.history_image = _bytes(work, h.overlay_file) or _bytes(work, h.file)
        b = judged.baseline_history
        if b is not None:
            out.baseline_history_image = _bytes(work, b.overlay_file) or _bytes(work, b.file)
        return out


def _bytes(work: Path, name: str | None) -> bytes | None:
    """A file of the work folder (None when missing or outside it)."""
    if not name:
        return None
    path = work / name
    if path.is_file() and path.resolve().is_relative_to(work.resolve()):
        return path.read_bytes()
    return None


def _npz(work: Path, name: str | None, key: str, shape: tuple[int, ...]) -> np.ndarray | None:
    if not name:
        return None
    try:
        return load_images_npz(work / name, key, shape)
    except (OSError, ValueError):
        return None


INPUT_CHECKS = ("code_cells",)
"""Checks that fail when the submission itself cannot be read: they lead the report."""


@cache
def load_strings() -> dict[str, dict[str, str]]:
    """All UI strings, by language (``templates/strings.toml``)."""
    return tomllib.loads((TEMPLATES / "strings.toml").read_text(encoding="utf-8"))


@cache
def _environment() -> Environment:
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=True,
                      undefined=StrictUndefined, trim_blocks=False)
    env.globals.update(fmt=lambda x: f"{float(x):g}", pct=lambda x: f"{100 * float(x):.0f}%")
    return env


def render_report(grade: Grade, evidence: Evidence, judged: JudgedEvidence,
                  images: ReportImages, lang: str = "en", meta: RunMeta | None = None) -> str:
    """Render the report as one self-contained HTML page.

    Args:
        grade: the scored grade.
        evidence: the evidence it was scored from (checks, variants, logs, environment).
        judged: judge results (captions and summaries of the galleries).
        images: the images to inline.
        lang: ``en`` or ``ko``.
        meta: mode, seed, versions and timings (defaults: collected now).

    Returns:
        HTML text; every string from the submission is escaped by jinja2 autoescape.

    Raises:
        ValueError: ``lang`` is not supported.
    """
    if lang not in LANGS:
        raise ValueError(f"unsupported language {lang!r}; choose one of {LANGS}")
    t = load_strings()[lang]
    meta = meta or RunMeta.collect()
    ctx = {
        "lang": lang, "t": t, "grade": grade, "meta": meta, "submission": evidence.submission,
        "rubric_title": _rubric_title(grade, lang), "items": _items(grade, t, lang),
        "checks": [{"id": c.id, "status": c.status, "status_label": t.get(f"status_{c.status}",
                    c.status), "message": c.message.text(lang),
                    "detail": _detail(c.details.get("error_detail"))}
                   for c in evidence.checks],
        "variants": [{"name": v.name, "generator_fn": v.generator_fn,
                      "discriminator_fn": v.discriminator_fn, "error": v.error,
                      "error_detail": _detail(v.error_detail),
                      "loop_detail": _detail(v.history.loop_note_detail),
                      "steps": max(int(v.history.steps or 0), len(v.history.fake_accuracy)),
                      "loop": v.history.loop_note or (
                          "your own train_step" if v.history.loop == "student_train_step"
                          else "the grader's loop with your losses")}
                     for v in evidence.variants],
        "galleries": _galleries(images, judged, t), "gif": _gif(images, judged),
        "histories": _histories(evidence, grade), "warnings": [
            {"code": w.code, "text": w.ko if lang == "ko" else w.en} for w in grade.warnings],
        "isolation": evidence.isolation, "trusted_models": evidence.trusted_models,
        "versions": sorted(meta.versions.items()),
        "timings": sorted({**evidence.timings, **meta.timing}.items()),
        "logs": evidence.logs[-MAX_LOG_CHARS:], "grader_version": __version__,
    }
    ctx.update(_improvement(grade, images, judged, t))
    ctx["input_problems"] = [c["message_ko" if lang == "ko" else "message_en"]
                             for c in grade.checks
                             if c.get("id") in INPUT_CHECKS and c.get("status") == "fail"]
    ctx["shown"] = _shown(grade, images, judged, t, lang)
    return _environment().get_template("report.html.j2").render(**ctx)


def write_report(grade: Grade, evidence: Evidence, judged: JudgedEvidence, images: ReportImages,
                 path: str | Path, lang: str = "en", meta: RunMeta | None = None) -> Path:
    """Render the report and write it atomically to ``path``; returns the path."""
    path = Path(path)
    write_text_atomic(path, render_report(grade, evidence, judged, images, lang, meta))
    return path


def _detail(text: Any) -> str:
    """An instructor-facing traceback, shown folded; empty when there is none."""
    return text[-MAX_DETAIL_CHARS:] if isinstance(text, str) else ""


def _rubric_title(grade: Grade, lang: str) -> str:
    return (grade.rubric_title_ko if lang == "ko" else grade.rubric_title_en) or grade.rubric_id


def _items(grade: Grade, t: dict[str, str], lang: str) -> list[dict[str, Any]]:
    out = []
    for it in grade.items:
        numbers = json.dumps(it.numbers, ensure_ascii=False, indent=1, default=str)
        if len(numbers) > MAX_NUMBERS_CHARS:
            numbers = numbers[:MAX_NUMBERS_CHARS] + "\n..."
        out.append({
            "id": it.id, "number": it.number, "status": it.status,
            "status_label": t[f"status_{it.status}"],
            "title": it.title_ko if lang == "ko" else it.title_en,
            "criterion": it.criterion_ko if lang == "ko" else it.criterion_en,
            "score": it.score, "max_score": it.max_score,
            "reasons": it.reasons_ko if lang == "ko" else it.reasons_en,
            "fix": it.fix_ko if lang == "ko" else it.fix_en,
            "review": it.review_reason_ko if lang == "ko" else it.review_reason_en,
            "pending": it.pending,
            "override": it.override,
            "grader_status_label": t.get(f"status_{(it.override or {}).get('grader_status')}", ""),
            "evidence_label": source_label(it.evidence).text(lang),
            "numbers_json": numbers,
            "parts": [{"title": p.get(f"title_{lang}", p["id"]), "status": p["status"],
                       "status_label": t[f"status_{p['status']}"]} for p in it.parts],
        })
    return out


def _summary(judge: JudgeResult | None, t: dict[str, str]) -> str:
    if not judge:
        return ""
    f, lo, hi = judge.recognizable_fraction, judge.ci_low, judge.ci_high
    return (f"{100 * f:.0f}% {t['recognized_of']} (n = {judge.n}, "
            f"{t['interval']} {100 * lo:.0f}-{100 * hi:.0f}%)")


def _galleries(images: ReportImages, judged: JudgedEvidence,
               t: dict[str, str]) -> list[dict[str, Any]]:
    spec = [("gallery_final", images.final_samples, judged.final_samples),
            ("gallery_baseline", images.baseline_samples, judged.baseline_samples),
            ("gallery_checkpoint", images.checkpoint_samples, judged.checkpoint_samples),
            ("gallery_student", images.student_tiles, judged.student_images)]
    return [{"title": t[key], "tiles": gallery_tiles(arr, judge), "summary": _summary(judge, t)}
            for key, arr, judge in spec if arr is not None and len(arr)]


def _gif(images: ReportImages, judged: JudgedEvidence) -> dict[str, Any]:
    info = judged.gif_info
    out: dict[str, Any] = {"origin": info.origin if info else "",
                           "n_frames": info.n_frames if info else 0, "student_uri": "",
                           "grader_uri": "", "shrunk": False}
    if images.gif_bytes:
        data, out["shrunk"] = shrink_gif(images.gif_bytes)
        out["student_uri"] = data_uri(data, "image/gif")
    frames = images.grader_frames
    if frames is not None and frames.ndim == 5 and len(frames):
        out["grader_uri"] = data_uri(frames_to_gif(frames[:40]), "image/gif")
    return out


def _histories(evidence: Evidence, grade: Grade) -> list[dict[str, Any]]:
    trend_nums: dict[str, Any] = {}
    for it in grade.items:
        if it.id == "training_progress":
            trend_nums = it.numbers.get("fake_accuracy_trend", {}) or {}
    out = []
    for v in evidence.variants:
        if not v.history.fake_accuracy and not v.history.gen_loss:
            continue
        trend = trend_nums.get("trend") if trend_nums.get("variant") == v.name else None
        png = history_png(v.history, trend, title=f"{v.name}: {v.generator_fn}"[:80])
        out.append({"name": v.name, "uri": data_uri(png, "image/png")})
    return out


def _item_numbers(grade: Grade, item_id: str) -> dict[str, Any]:
    return next((it.numbers for it in grade.items if it.id == item_id), {})


def _shown(grade: Grade, images: ReportImages, judged: JudgedEvidence, t: dict[str, str],
           lang: str) -> dict[str, Any]:
    """The student's own evidence, as the grade read it: grid, plot, before/after, GIF."""
    final_fig = next((f for f in judged.figures if f.role == "final"), None)
    before_fig = next((f for f in judged.figures if f.role == "before"), None)
    after_fig = next((f for f in judged.figures if f.role == "after"), None)
    rec = _item_numbers(grade, "recognizable")
    out: dict[str, Any] = {
        "final": gallery_tiles(images.shown_final, judged.student_images, 64),
        "final_origin": final_fig.origin if final_fig else (
            judged.student_images.origin if judged.student_images else ""),
        "final_counts": {k: rec.get(k) for k in ("clear", "named", "n")},
        "display_bug": t.get(f"display_{final_fig.display_bug}", final_fig.display_bug)
        if final_fig and final_fig.display_bug else "",
        "history_uri": data_uri(images.history_image, "image/png")
        if images.history_image else "", "history_origin": "", "history_note": "",
        "before": gallery_tiles(images.shown_before, judged.student_before_images, 64),
        "before_origin": before_fig.origin if before_fig else "",
        "after": gallery_tiles(images.shown_after, judged.student_after_images, 64)
        if after_fig is not None and images.shown_after is not None else [],
        "after_origin": after_fig.origin if after_fig else "",
        "gif_strip": gif_strip(images.gif_bytes) if images.gif_bytes else [],
        "gif_quality_uri": "",
    }
    h = judged.history
    trend = _item_numbers(grade, "training_progress").get("fake_accuracy_trend", {})
    if trend.get("from_baseline") and judged.baseline_history is not None and \
            images.baseline_history_image:  # the plot the grade used: the first run's
        h = judged.baseline_history
        out["history_uri"] = data_uri(images.baseline_history_image, "image/png")
    if h is not None:
        out["history_origin"] = h.origin
        out["history_note"] = t["history_overlay"] if h.overlay_file else (
            f"{t['history_unread']}: {h.reason}" if not h.ok else "")
    gif = _item_numbers(grade, "training_progress").get("gif", {})
    if gif.get("series"):
        rise = gif.get("rise") or {}
        out["gif_quality_uri"] = data_uri(frame_quality_png(
            gif["series"], str(rise.get("metric", "quality")), rise.get("rho")), "image/png")
    return out


def _diff_text(d: Any, t: dict[str, str]) -> dict[str, str] | None:
    """Before, after and the difference as text: fractions in percent (points for the
    difference), a classifier score as a plain number."""
    if not isinstance(d, dict) or d.get("before") is None:
        return None
    if d.get("metric", "recognizable_fraction") == "recognizable_fraction":
        def value(x: Any) -> str:
            return f"{100 * float(x):.0f}%"

        def signed(x: Any) -> str:
            return f"{100 * float(x):+.0f} {t['percent_points']}"
    else:
        def value(x: Any) -> str:
            return f"{float(x):.2f}"

        signed = "{:+.2f}".format
    return {"metric": t.get(f"metric_{d.get('metric')}", str(d.get("metric"))),
            "before": value(d["before"]), "after": value(d["after"]),
            "diff": signed(d["diff"]), "ci_low": signed(d["ci_low"]),
            "ci_high": signed(d["ci_high"])}


def _improvement(grade: Grade, images: ReportImages, judged: JudgedEvidence,
                 t: dict[str, str]) -> dict[str, Any]:
    diff = None
    for it in grade.items:
        if it.id == "improvement":
            diff = _diff_text(it.numbers.get("difference"), t)
    pairs = []
    if images.baseline_samples is not None and images.final_samples is not None:
        pairs = [{"title": t["before"], "tiles": gallery_tiles(images.baseline_samples,
                                                               judged.baseline_samples, 16),
                  "summary": _summary(judged.baseline_samples, t)},
                 {"title": t["after"], "tiles": gallery_tiles(images.final_samples,
                                                              judged.final_samples, 16),
                  "summary": _summary(judged.final_samples, t)}]
    return {"improvement": diff, "before_after": pairs}
