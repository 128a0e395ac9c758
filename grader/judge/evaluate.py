"""Trusted metrics over the evidence: judge every image set the grade may rest on.

Reads only files in the work folder (``.npz`` with ``allow_pickle=False``, PNG/GIF through
Pillow) and never imports student code. Produces :class:`grader.judge.results.JudgedEvidence`.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from grader.errors import GraderError
from grader.evidence import Artifact, Evidence, load_images_npz
from grader.files import inside
from grader.intake.figures.tiles import extract_tiles, read_frames
from grader.judge.classifier import Judge, images_to_pixels, load_judge
from grader.judge.metrics import near_copy_mask, score_images, score_predictions
from grader.judge.results import GifInfo, JudgedEvidence, JudgeResult
from grader.text import Msg

#: at most this many GIF frames are judged (evenly spaced, first and last included)
MAX_GIF_FRAMES = 40
#: the student's most recent sample figures judged for rubric item 1
MAX_STUDENT_FIGURES = 4


@dataclass
class StudentImages:
    """Tiles cut from the student's own figures, and what was noticed on the way."""

    tiles: np.ndarray | None = None
    origins: list[str] = field(default_factory=list)
    notes: list[Msg] = field(default_factory=list)
    figure_of: np.ndarray | None = None
    """Per tile, the index of the figure it was cut from (near-copies count within one figure:
    the same samples saved twice, or two late epochs of a fixed seed, are not collapse)."""


def judge_evidence(evidence: Evidence, work: Path, seed: int = 0) -> tuple[JudgedEvidence,
                                                                           StudentImages]:
    """Judge the grader's samples and frames, the checkpoint samples and the student's images.

    Args:
        evidence: The evidence record; file names are relative to ``work``.
        work: The submission's work folder.
        seed: Seed of the bootstrap intervals.

    Raises:
        GraderError: The judge's classifier is missing from this install.
    """
    judge = load_judge()
    shape = judge.image_shape
    judged = JudgedEvidence()

    def score(images: np.ndarray | None, groups: np.ndarray | None = None
              ) -> JudgeResult | None:
        if images is None or len(images) == 0:
            return None
        return score_images(images, judge, seed=seed, groups=groups)

    variants = {v.name: v for v in evidence.variants}
    for name, attr in (("final", "final_samples"), ("baseline", "baseline_samples")):
        run = variants.get(name)
        if run is not None and run.samples_file:
            setattr(judged, attr, score(_npz(work, run.samples_file, "images", evidence,
                                             shape)))
    final = variants.get("final")
    if final is not None and final.frames_file:
        frames = _npz(work, final.frames_file, "frames", evidence, shape)
        if frames is not None and frames.ndim == 5:
            judged.grader_frames = score_sets(list(frames), judge, seed)
    if evidence.checkpoint_samples_file:
        judged.checkpoint_samples = score(
            _npz(work, evidence.checkpoint_samples_file, "images", evidence, shape))
    student = student_sample_tiles(evidence.artifacts, work, shape)
    judged.student_images = score(student.tiles, student.figure_of)
    evidence.warnings.extend(student.notes)
    judged.gif_info, gif_tiles = read_gif(evidence, work, shape)
    judged.gif_frames = score_sets(gif_tiles, judge, seed)
    return judged, student


def score_sets(sets: list[np.ndarray], judge: Judge, seed: int) -> list[JudgeResult]:
    """Judge many small image sets (frames) with one classifier pass; no FCD per frame."""
    sets = [s for s in sets if len(s)]
    if not sets:
        return []
    probs, feats = judge.predict(np.concatenate(sets))
    gate = judge.in_distribution(feats)
    out, start = [], 0
    for s in sets:
        sl = slice(start, start + len(s))
        start += len(s)
        out.append(score_predictions(
            probs[sl], feats[sl], tau=judge.tau, class_names=judge.class_names,
            reference_stats=judge.reference_stats, fcd_table=judge.fcd_table,
            in_distribution=None if gate is None else gate[sl], seed=seed, with_fcd=False,
            near_copy=near_copy_mask(images_to_pixels(s, judge.image_shape), seed=seed)))
    return out


def _npz(work: Path, name: str, key: str, evidence: Evidence,
         shape: tuple[int, ...]) -> np.ndarray | None:
    try:
        return load_images_npz(inside(work, name), key, shape)
    except (OSError, ValueError) as exc:
        evidence.warnings.append(Msg(f"The grader could not read its own output {name}: {exc}",
                                     f"채점기가 자신의 출력 {name}을(를) 읽지 못했습니다: {exc}"))
        return None


def _figure_tiles(path: Path, shape: tuple[int, int, int]) -> tuple[np.ndarray | None,
                                                                     Msg | None]:
    """Tiles of the last frame of a figure; (None, why) when it holds no usable samples."""
    try:
        frames = read_frames(path).frames
    except GraderError as exc:
        return None, exc.message
    res = extract_tiles(frames[-1], shape)
    if res.colormapped:
        return None, Msg(f"{path.name}: the samples are drawn as one channel through the "
                          f"'{res.colormap}' colormap, which hides the colours. Plot all three "
                          "channels: plt.imshow((img + 1) / 2).",
                          f"{path.name}: 샘플을 한 채널만 '{res.colormap}' 컬러맵으로 그려 색을 "
                          "알 수 없습니다. 세 채널을 모두 그려 주세요: plt.imshow((img + 1) / 2).")
    if res.kind not in ("grid", "single") or len(res.tiles) == 0:
        return None, None
    return res.tiles, None


def _natural_key(text: str) -> list[Any]:
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", text)]


def student_sample_tiles(artifacts: list[Artifact], work: Path,
                         shape: tuple[int, int, int]) -> StudentImages:
    """Tiles from the student's latest sample figures (files first, then notebook outputs)."""
    out = StudentImages()
    samples = [a for a in artifacts if a.kind == "samples" and a.file]
    files = sorted((a for a in samples if "output" not in a.origin),
                   key=lambda a: _natural_key(a.origin))
    embedded = [a for a in samples if "output" in a.origin]
    chosen = (files or embedded)[-MAX_STUDENT_FIGURES:]
    tiles = []
    for art in chosen:
        t, why = _figure_tiles(inside(work, art.file), shape)
        if why:
            out.notes.append(why)
        if t is not None:
            tiles.append(t)
            out.origins.append(art.origin)
    if tiles:
        out.tiles = np.concatenate(tiles)
        out.figure_of = np.repeat(np.arange(len(tiles)), [len(t) for t in tiles])
    return out


def read_gif(evidence: Evidence, work: Path,
             shape: tuple[int, int, int]) -> tuple[GifInfo | None, list[np.ndarray]]:
    """Find the student's GIF, read its frames and cut tiles from each (evenly subsampled)."""
    gifs = [a for a in evidence.artifacts if a.kind == "gif"]
    gifs.sort(key=lambda a: ("output" in a.origin, a.file is None))
    if not gifs:
        return None, []
    art = gifs[0]
    info = GifInfo(origin=art.origin)
    if not art.file:
        info.readable, info.error = False, "The GIF could not be copied for reading."
        return info, []
    path = inside(work, art.file)
    try:
        read = read_frames(path)
    except GraderError as exc:
        info.readable, info.error = False, exc.student
        return info, []
    frames, info.damaged = read.frames, read.damaged
    info.n_frames = len(frames)
    report_copy = work / "report_gif.gif"
    shutil.copyfile(path, report_copy)
    info.file = report_copy.name
    idx = np.unique(np.linspace(0, len(frames) - 1, min(len(frames), MAX_GIF_FRAMES)).astype(int))
    tiles: list[np.ndarray] = []
    for i in idx:
        res = extract_tiles(frames[i], shape)
        if res.colormapped:
            info.colormapped = True
        if res.kind in ("grid", "single") and not res.colormapped and len(res.tiles):
            tiles.append(res.tiles)
    info.tiles_per_frame = int(np.median([len(t) for t in tiles])) if tiles else 0
    return info, tiles
