"""Trusted metrics over the evidence: judge every image set the grade may rest on.

Reads only files in the work folder (``.npz`` with ``allow_pickle=False``, PNG/GIF through
Pillow) and never imports student code. Produces :class:`grader.judge.results.JudgedEvidence`.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from grader.errors import GraderError
from grader.evidence import Artifact, Evidence, load_images_npz
from grader.files import inside, savez_atomic
from grader.intake.figures.display import diagnose
from grader.intake.figures.plots import plot_hints_from_code, read_history_plot
from grader.intake.figures.plots.records import LEVEL_BASE, LEVEL_SCALE
from grader.intake.figures.tiles import (
    TileResult,
    channel_of,
    extract_frame_tiles,
    extract_tiles,
    read_frames,
    split_pair,
)
from grader.intake.runs import RunMap
from grader.judge.classifier import Judge, images_to_pixels, load_judge
from grader.judge.metrics import near_copy_mask, score_images, score_predictions
from grader.judge.results import (
    FigureJudgement,
    GifInfo,
    HistoryJudgement,
    JudgedEvidence,
    JudgeResult,
    StudentImages,
)
from grader.text import Msg
from grader.tf_setup import limit_threads

#: at most this many GIF frames are judged (evenly spaced, first and last included)
MAX_GIF_FRAMES = 40
#: the student's most recent sample figures judged for rubric item 1
MAX_STUDENT_FIGURES = 4


def judge_evidence(evidence: Evidence, work: Path, seed: int = 0,
                   assignment: str | Path | None = None) -> tuple[JudgedEvidence, StudentImages]:
    """Judge the student's shown evidence and the grader's own outputs (see the two parts).

    Args:
        evidence: The evidence record; file names are relative to ``work``.
        work: The submission's work folder.
        seed: Seed of the bootstrap intervals.
        assignment: Whose judge (an assignment id or folder; default the current one).

    Raises:
        GraderError: The judge's classifier is missing from this install.
    """
    judged, student, notes = judge_shown(evidence, work, seed, assignment)
    evidence.warnings.extend(notes)
    judge_runs(evidence, work, judged, seed, assignment)
    return judged, student


def judge_shown(evidence: Evidence, work: Path, seed: int = 0,
                assignment: str | Path | None = None
                ) -> tuple[JudgedEvidence, StudentImages, list[Msg]]:
    """Judge what the student shows: final and before grids, history plot, GIF.

    Reads only the intake's part of ``evidence`` (artifacts, run map, missing files), so it
    can run while the student's code runs in the sandbox. Returns the judged evidence, the
    student's tiles and notes for the evidence's warnings.
    """
    judge = load_judge(assignment=assignment)
    shape = judge.image_shape
    judged, student, notes = JudgedEvidence(), StudentImages(), []
    story = RunMap.from_dict(evidence.run_map) if evidence.run_map else None
    final_fig, before_fig = choose_figures(story, evidence.artifacts)
    for role, figure in (("final", final_fig), ("before", before_fig)):
        if figure is None:
            continue
        judgement, tiles = judge_figure(figure, role, work, judge, seed)
        judged.figures.append(judgement)
        if role == "final":
            judged.student_images = judgement.result
            student.tiles = tiles
            if tiles is not None:
                student.origins = [figure.origin]
        else:
            judged.student_before_images = judgement.result
            student.before_tiles = tiles
    # The student's before/after figure fills in a grid that a run did not show itself (the
    # runs' own grids come first: full size, and cut once rather than twice).
    pair = judge_comparison(story, work, judge, seed) if before_fig is None or \
        final_fig is None else None
    if pair is not None:
        before_j, after_j, before_tiles, after_tiles = pair
        if before_fig is None:
            judged.figures.append(before_j)
            judged.student_before_images, student.before_tiles = before_j.result, before_tiles
        if final_fig is None:
            judged.figures[:0] = [replace(after_j, role="final"), after_j]
            judged.student_images, student.tiles = after_j.result, after_tiles
            student.origins = [after_j.origin]
    if judged.student_before_images is not None:
        judged.student_after_images = judged.student_images
    if final_fig is None and judged.student_images is None:  # no story: the latest files
        files = student_sample_tiles(evidence.artifacts, work, shape)
        if files.tiles is not None and len(files.tiles):
            judged.student_images = score_images(files.tiles, judge, seed=seed,
                                                 groups=files.figure_of)
        student.tiles, student.origins = files.tiles, files.origins
        notes.extend(files.notes)
    judged.history = read_history(story, evidence.artifacts, work)
    if story is not None and story.baseline is not None and story.baseline != story.final:
        before = read_history(story, evidence.artifacts, work, run="baseline")
        if before is not None and (judged.history is None or before.file != judged.history.file):
            judged.baseline_history = before
    judged.gif_info, gif_tiles = read_gif(evidence, work, shape, story)
    judged.gif_frames = score_sets(gif_tiles, judge, seed)
    return judged, student, notes


def judge_runs(evidence: Evidence, work: Path, judged: JudgedEvidence, seed: int = 0,
               assignment: str | Path | None = None, done: JudgedEvidence | None = None,
               done_prefix: str = "trusted/", threads: int | None = None) -> None:
    """Judge the grader's own outputs into ``judged``: each variant's samples, the final
    variant's fixed-noise frames and the samples of the student's checkpoint.

    ``done``: what the trusted process already judged of its own files (those whose names
    start with ``done_prefix``); it is taken as it is, and the judge is loaded only for the
    rest (a variant trained elsewhere, or a judgement that did not come back), with
    TensorFlow's intra-op threads capped at ``threads``.
    """
    loaded: list[Judge] = []

    def judge() -> Judge:
        if not loaded:
            limit_threads(threads)
            loaded.append(load_judge(assignment=assignment))
        return loaded[0]

    def taken(attr: str, file: str | None) -> Any:
        """The trusted process's judgement ``attr`` of ``file``, when it made one."""
        value = getattr(done, attr, None)
        return value if file and str(file).startswith(done_prefix) else None

    def score(file: str, key: str) -> JudgeResult | None:
        images = _npz(work, file, key, evidence, judge().image_shape)
        if images is None or len(images) == 0:
            return None
        return score_images(images, judge(), seed=seed)

    variants = {v.name: v for v in evidence.variants}
    for name, attr in (("final", "final_samples"), ("baseline", "baseline_samples")):
        run = variants.get(name)
        if run is not None and run.samples_file:
            mine = taken(attr, run.samples_file)
            setattr(judged, attr, mine if mine is not None
                    else score(run.samples_file, "images"))
    final = variants.get("final")
    if final is not None and final.frames_file:
        change = taken("grader_frame_change", final.frames_file)
        if change is not None:
            judged.grader_frames = list(taken("grader_frames", final.frames_file))
            judged.grader_frame_change = change
        else:
            frames = _npz(work, final.frames_file, "frames", evidence, judge().image_shape)
            if frames is not None and frames.ndim == 5:
                judged.grader_frames = score_sets(list(frames), judge(), seed)
                judged.grader_frame_change = float(np.abs(frames[-1].astype(np.float64)
                                                          - frames[0]).mean() / 255.0)
    if evidence.checkpoint_samples_file:
        mine = taken("checkpoint_samples", evidence.checkpoint_samples_file)
        judged.checkpoint_samples = mine if mine is not None \
            else score(evidence.checkpoint_samples_file, "images")


@dataclass(frozen=True)
class Figure:
    """A sample figure to judge: its file (relative to the work folder) and the code that
    drew it (empty for a file whose drawing code is unknown)."""

    file: str
    origin: str
    shown: bool
    run: int | None
    code: str = ""


def choose_figures(story: RunMap | None, artifacts: list[Artifact]
                   ) -> tuple[Figure | None, Figure | None]:
    """(final, before): the final run's last grid, and the baseline run's last grid.

    Without a story (a ``.py``, a folder of images) the final grid is the latest sample file
    (by the numbers in its name) and there is no "before".
    """
    final = before = None
    if story is not None:
        for role, run_index in (("final", story.final), ("before", story.baseline)):
            run = story.runs[run_index] if run_index is not None else None
            shown = story.image(run.final_grid) if run is not None else None
            if shown is None:
                continue
            figure = Figure(f"intake/{shown.file}", shown.origin, True, shown.run, shown.code)
            if role == "final":
                final = figure
            else:
                before = figure
        if final is None:  # grids shown outside any run (after a restart, say): the last one
            grids = [i for i in story.images if i.kind == "sample_grid" and not i.compare]
            if grids:
                g = grids[-1]
                final = Figure(f"intake/{g.file}", g.origin, True, g.run, g.code)
    if final is None:
        files = sorted((a for a in artifacts if a.kind == "samples" and a.file
                        and "output" not in a.origin), key=lambda a: _natural_key(a.origin))
        if files:
            final = Figure(files[-1].file, files[-1].origin, False, None)
    return final, before


def judge_figure(figure: Figure, role: str, work: Path, judge: Judge,
                 seed: int) -> tuple[FigureJudgement, np.ndarray | None]:
    """Cut a figure into tiles, diagnose its display, judge the tiles as they are shown."""
    out = FigureJudgement(role=role, origin=figure.origin, shown=figure.shown, run=figure.run)
    try:
        frames = read_frames(inside(work, figure.file)).frames
    except (GraderError, ValueError) as exc:
        out.problem = exc.message.en if isinstance(exc, GraderError) else str(exc)
        return out, None
    cut = extract_tiles(frames[-1], judge.image_shape)
    return _judge_cut(out, cut, figure.code, work, judge, seed)


def judge_comparison(story: RunMap | None, work: Path, judge: Judge, seed: int
                     ) -> tuple[FigureJudgement, FigureJudgement, np.ndarray, np.ndarray] | None:
    """The student's side-by-side before/after figure, cut in two and judged half by half.

    For a notebook with a baseline run that shows a comparison after the final run started
    (``RunMap.comparison``): left (or top) is "before", right (or bottom) "after". None when
    there is none, or it does not fall into two grids.
    """
    shown = story.image(story.comparison) if story is not None and \
        story.baseline is not None else None
    if shown is None:
        return None
    try:
        frames = read_frames(inside(work, f"intake/{shown.file}")).frames
    except (GraderError, ValueError):
        return None
    pair = split_pair(frames[-1], judge.image_shape)
    if pair is None:
        return None
    out = []
    for role, side, cut in (("before", "left or top half", pair[0]),
                            ("after", "right or bottom half", pair[1])):
        judgement = FigureJudgement(role=role, origin=f"{shown.origin}, {side}", shown=True,
                                    run=shown.run)
        judgement, tiles = _judge_cut(judgement, cut, shown.code, work, judge, seed)
        if tiles is None or judgement.result is None:
            return None
        out.append((judgement, tiles))
    return out[0][0], out[1][0], out[0][1], out[1][1]


def _judge_cut(out: FigureJudgement, cut: TileResult, code: str, work: Path, judge: Judge,
               seed: int) -> tuple[FigureJudgement, np.ndarray | None]:
    """Diagnose the display of the tiles cut from a figure and judge them as shown."""
    role = out.role
    bug = diagnose(cut.tiles if len(cut.tiles) else None, colormap=cut.colormap,
                   source=code)
    if bug is not None:
        out.display_bug, out.display_evidence = bug.kind, bug.evidence
    if cut.kind not in ("grid", "single") or not len(cut.tiles):
        out.problem = f"no sample images found in it ({cut.kind})"
        return out, None
    out.tiles_file = f"judged/{role}_grid.npz"
    savez_atomic(work / out.tiles_file, tiles=cut.tiles)
    out.result = score_images(cut.tiles, judge, seed=seed)
    out.result.origin = out.origin
    return out, cut.tiles


def read_history(story: RunMap | None, artifacts: list[Artifact], work: Path,
                 run: str = "final") -> HistoryJudgement | None:
    """Read a run's history plot into numbers: the ``final`` run's (else the latest shown
    plot, else the latest history file), or the ``baseline`` run's own (None without one)."""
    shown = None
    files = sorted((a for a in artifacts if a.kind == "history_plot" and a.file),
                   key=lambda a: _natural_key(a.origin))
    own: list[Artifact] = []
    index = None if story is None else story.final if run == "final" else story.baseline
    if story is not None and index is not None:
        shown = story.image(story.runs[index].final_history)
        own = written_by(files, story.runs[index].save_dirs)  # saved in its own folder
    if run != "final":
        if shown is None and not own:
            return None
    elif shown is None and story is not None and not own:
        plots = [i for i in story.images if i.kind == "history_plot"]
        shown = plots[-1] if plots else None  # an earlier run's plot, shown
    if shown is not None:
        file, origin, code, on_screen = f"intake/{shown.file}", shown.origin, shown.code, True
    else:
        files = own or files
        if not files:
            return None
        file, origin, code, on_screen = files[-1].file, files[-1].origin, "", False
    out = HistoryJudgement(origin=origin, shown=on_screen, file=file)
    try:
        reading = read_history_plot(inside(work, file), plot_hints_from_code(code))
    except Exception as exc:  # the reader promises not to raise; a bug must not stop a grade
        out.reason = f"the plot reader failed ({type(exc).__name__})"
        return out
    raw = reading.to_dict()
    out.reading = _summary_of(raw)
    out.ok, out.reason = reading.ok, reading.reason
    if reading.ok:
        name = "history_overlay.png" if run == "final" else f"{run}_history_overlay.png"
        out.overlay_file = draw_overlay(inside(work, file), raw, work / "judged" / name, work)
    fake = reading.fake
    if reading.ok and fake is not None:
        # the values the benchmark's verdicts agree best on (points, else y_mean): 92.2% vs
        # 90.6% for the per-column y (reference/plots/README.md)
        out.fake_accuracy = [float(v) for v in fake.trend_values() if v == v]
        out.level_uncertainty = [round(LEVEL_SCALE * float(v), 5)
                                 for v in fake.level_uncertainty if v == v]
        out.level_base = LEVEL_BASE
        out.uncertainty = float(reading.error) if reading.error == reading.error else None
        out.confidence = float(reading.confidence)
        out.hidden_fraction = float(fake.hidden_fraction)
    return out


def draw_overlay(image: Path, reading: dict[str, Any], dest: Path, work: Path) -> str | None:
    """The student's plot with the recovered fake-accuracy curve (red) and 0.5 (dashed) on it.

    Returns the overlay's path relative to ``work`` (None when it cannot be drawn).
    """
    try:
        from PIL import Image, ImageDraw

        panel = reading["panels"][reading["fake_panel"]]
        fake = next(s for s in panel["series"] if s["name"] == "fake_accuracy")
        slope, intercept = panel["y_axis"]["slope"], panel["y_axis"]["intercept"]
        x0, y0, x1, y1 = panel["bbox"]
        with Image.open(image) as im:
            canvas = im.convert("RGB")
        draw = ImageDraw.Draw(canvas)
        half = (0.5 - intercept) / slope
        if y0 <= half <= y1:
            for x in range(int(x0), int(x1), 12):
                draw.line([(x, half), (min(x + 6, x1), half)], fill=(20, 20, 20), width=2)
        pts = [(px, (v - intercept) / slope) for px, v in zip(fake["pixel_x"], fake["y"],
                                                              strict=False) if v == v]
        if len(pts) >= 2:
            draw.line(pts, fill=(220, 0, 0), width=2)
        dest.parent.mkdir(parents=True, exist_ok=True)
        canvas.save(dest)
        return str(dest.relative_to(work))
    except Exception:  # an odd reading: the report shows the plot without the overlay
        return None


#: per-pixel lists of a plot reading left out of judged.json (the curve itself is kept)
_BULKY = ("pixel_x", "pixel_y", "points", "hidden", "y", "x", "level_uncertainty")


def _summary_of(reading: dict[str, Any]) -> dict[str, Any]:
    """A plot reading without its per-pixel lists (axes, series names, quality are kept)."""
    def trim(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: trim(v) for k, v in value.items()
                    if not (k in _BULKY and isinstance(v, list) and len(v) > 8)}
        if isinstance(value, list):
            return [trim(v) for v in value]
        return value

    return trim(reading)


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


def _suffix_match(a: list[str], b: list[str]) -> int:
    """Segments two folders share at their ends; 0 when, past those, they differ."""
    n = 0
    while n < min(len(a), len(b)) and a[-1 - n] == b[-1 - n]:
        n += 1
    return n if n == len(a) or n == len(b) else 0


def written_by(files: list[Artifact], dirs: list[str]) -> list[Artifact]:
    """The saved files (in their order) that the code's image folders ``dirs`` point to.

    A submission's files sit under its own root, the code's paths under the student's
    machine: a folder matches the files whose folders share the longest tail of path
    segments with it (``.../cifar10_v2/training_history`` -> ``cifar10_v2/training_history/``,
    not ``training_history/``).
    """
    parts = {id(f): f.origin.replace("\\", "/").split("/")[:-1] for f in files}
    chosen: set[int] = set()
    for d in dirs:
        want = [p for p in d.replace("\\", "/").split("/") if p]
        scores = {k: _suffix_match(v, want) for k, v in parts.items()}
        best = max(scores.values(), default=0)
        if best:
            chosen |= {k for k, v in scores.items() if v == best}
    return [f for f in files if id(f) in chosen]


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


MIN_CHANGE_FRAMES = 3
"""A GIF with fewer frames cannot show images improving (the rubric's ``min_gif_frames``)."""


def read_gif(evidence: Evidence, work: Path, shape: tuple[int, int, int],
             story: RunMap | None = None) -> tuple[GifInfo | None, list[np.ndarray]]:
    """Find the student's GIF, read its frames and cut tiles from each (evenly subsampled).

    A GIF the notebook shows (an output) is preferred, the latest shown one with at least
    :data:`MIN_CHANGE_FRAMES` frames first; else a file.
    """
    gifs = [a for a in evidence.artifacts if a.kind == "gif"]
    shown_files = {f"intake/{i.file}" for i in story.images if i.kind == "gif"} if story else set()
    shown_order = {f"intake/{i.file}": k for k, i in enumerate(story.images)} if story else {}

    def frames_of(a: Artifact) -> int:
        """The frame count from the header (PIL seeks; nothing is decoded)."""
        from PIL import Image

        try:
            with Image.open(inside(work, a.file)) as im:
                return int(getattr(im, "n_frames", 1))
        except (OSError, ValueError, TypeError, GraderError):
            return 0

    # the latest shown GIF with enough frames to show a change; else any shown; else a file
    counts = {id(a): frames_of(a) for a in gifs} if len(gifs) > 1 else {}
    gifs.sort(key=lambda a: (a.file not in shown_files, a.file is None,
                             counts.get(id(a), MIN_CHANGE_FRAMES) < MIN_CHANGE_FRAMES,
                             -shown_order.get(a.file, -1), "output" in a.origin))
    if not gifs:
        return None, []
    art = gifs[0]
    info = GifInfo(origin=art.origin, shown=art.file in shown_files)
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
    for res in extract_frame_tiles([frames[i] for i in idx], shape):
        if res.colormapped:
            info.colormapped = True
        if res.kind in ("grid", "single") and len(res.tiles):
            # a colour-mapped GIF is judged on the one channel it shows, as grey images
            tiles.append(channel_of(res.tiles, res.colormap or "") if res.colormapped
                         else res.tiles)
    info.tiles_per_frame = int(np.median([len(t) for t in tiles])) if tiles else 0
    return info, tiles
