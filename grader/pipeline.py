"""One grading run, end to end: intake -> isolated run -> evidence -> judge -> score -> report.

Each stage is a module with one job; this file only wires them and turns every failure of a
stage into words in the report rather than an exception. Student code runs only inside
:mod:`grader.sandbox` (a child process); everything here is trusted.
"""

from __future__ import annotations

import json
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from grader.assignment import Assignment, get_assignment
from grader.config import GradeOptions
from grader.data import load_dataset
from grader.errors import UsageError
from grader.evidence import Artifact, CheckResult, Evidence
from grader.files import compact_work, savez_atomic, write_text_atomic
from grader.intake import Submission, SubmissionError, load_submission
from grader.intake.load import load_artifacts_only
from grader.judge.classifier import check_judge_files
from grader.judge.results import STUDENT_TILES_FILE, JudgedEvidence, StudentImages
from grader.rubric import Rubric
from grader.sandbox.isolation import choose as choose_isolation
from grader.sandbox.launch import PROGRESS_FILE
from grader.sandbox.orchestrate import (
    IsolatedRun,
    RunRequest,
    judge_shown_isolated,
    run_isolated,
)
from grader.scoring import load_rubric, score_submission
from grader.scoring.grades import Note
from grader.scoring.overrides import (
    KEPT_FILE,
    applied_overrides,
    apply_overrides,
    kept_json,
    load_overrides,
    read_kept,
)
from grader.text import Msg, msg, plain

ProgressFn = Callable[[str, float | None, str], None]
"""``progress(stage, fraction_or_None, detail)`` for the terminal."""

EVIDENCE_FILE = "evidence.json"
JUDGED_FILE = "judged.json"


@dataclass
class GradeOutcome:
    """Where the outputs went, and the result object written to ``result.json``."""

    out_dir: Path
    report: Path
    result_json: Path
    result: dict[str, Any]
    gradescope: Path | None = None


def default_out_dir(submission: Path) -> Path:
    """``reports/<submission name>/`` under the current folder."""
    name = submission.name.removesuffix(".zip").removesuffix(".ipynb").removesuffix(".py")
    return Path("reports") / (name or "submission")


def grade_submission(submission: Path, options: GradeOptions,
                     progress: ProgressFn | None = None,
                     images: np.ndarray | None = None) -> GradeOutcome:
    """Grade one submission and write ``report.html`` and ``result.json``.

    Args:
        submission: A folder, ``.ipynb``, ``.py`` or ``.zip``.
        options: Mode, budget, seed, data source, output folder, ...
        progress: Optional callback for the terminal.
        images: Real training images (uint8); default: from ``options.data``.

    Raises:
        UsageError: The submission path does not exist, or the output folder is inside it.
        GraderError: Grading could not run at all (no data, no judge).
    """
    progress = progress or (lambda *_: None)
    submission = Path(submission)
    if not submission.exists():
        raise UsageError(f"The submission {submission} does not exist.")
    out_dir = Path(options.out_dir or default_out_dir(submission))
    if out_dir.resolve().is_relative_to(submission.resolve()):
        raise UsageError("The output folder must not be inside the submission.",
                         f"--out {out_dir} lies in {submission}")
    timing: dict[str, float] = {}
    t_all = time.perf_counter()
    assignment = get_assignment(options.assignment)
    if images is None:
        images = load_training_images(options, assignment)
    rubric = load_rubric(options.rubric or assignment.rubric)
    check_judge_files(assignment.folder)  # fail early (exit 3) when the judge is missing
    isolation = choose_isolation(options.isolation)  # ... or when student code cannot be isolated
    if isolation == "none":
        progress("isolation", None, "WARNING: student code runs WITHOUT isolation "
                 "(--isolation none)")
    work = out_dir / "work"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)

    progress("intake", None, "reading the submission")
    t0 = time.perf_counter()
    evidence, submission_rec = run_intake(submission, work)
    timing["intake_s"] = time.perf_counter() - t0

    # What the student shows is judged while the student's code runs, by the trusted process
    # (TensorFlow is loaded there anyway; the parent then never loads it): it needs only the
    # intake and the judge, not the student's results.
    run: IsolatedRun | None = None
    if submission_rec is not None:
        t0 = time.perf_counter()
        run = run_sandbox(submission_rec, evidence, work, images, options, assignment,
                          progress, judge_shown_request(evidence, options, assignment))
        if isolation == "none":
            evidence.warnings.append(msg("sandbox.no_isolation"))
        timing["sandbox_s"] = time.perf_counter() - t0

    progress("judge", None, "judging the images")
    t0 = time.perf_counter()
    shown, why = (run.shown, run.shown_error) if run is not None else (None, "")
    if run is None and evidence.artifacts:  # no code ran: a trusted process judges alone
        shown, why = judge_shown_isolated(
            sandbox_request(options, judge=judge_shown_request(evidence, options, assignment)),
            work, assignment)
        if why:
            evidence.warnings.append(msg("sandbox.shown_not_judged", why=why))
    if shown is not None:
        judged, student, notes = shown.judged, shown.student, shown.notes
        timing["judge_shown_s"] = shown.seconds
    else:  # nothing shown, or its judging did not come back (a warning says so)
        judged, student, notes = JudgedEvidence(shown_error=why), StudentImages(), []
    evidence.warnings.extend(notes)
    from grader.judge.evaluate import judge_runs  # the plot reader and image tools: late

    judge_runs(evidence, work, judged, seed=options.seed, assignment=assignment.folder,
               done=run.judged_runs if run is not None else None,
               threads=options.trusted_threads)
    timing["judge_s"] = time.perf_counter() - t0

    progress("report", None, "scoring and writing the report")
    return write_outputs(evidence, judged, student, rubric, work, out_dir, options, timing,
                         t_all, assignment)


def load_training_images(options: GradeOptions, assignment: Assignment) -> np.ndarray:
    """Real training images for the mode: quick uses the bundled subset unless --data is given."""
    source = options.data if options.data is not None else (
        "bundled" if options.mode == "quick" else None)
    return load_dataset(source, assignment=assignment).x_train


def run_intake(submission: Path, work: Path) -> tuple[Evidence, Submission | None]:
    """Read the submission; a submission with no usable code still yields evidence."""
    evidence = Evidence(submission=submission.name, isolation="none")
    try:
        rec = load_submission(submission, work / "intake")
    except SubmissionError as exc:
        evidence.checks.append(CheckResult("code_cells", "fail", exc.message,
                                           {"error_detail": exc.detail}))
        try:  # no code, but its images can still be judged
            only = load_artifacts_only(submission, work / "intake")
        except SubmissionError:
            return evidence, None
        _add_artifacts(evidence, only)
        evidence.warnings.extend(only.warnings)
        return evidence, None
    _add_artifacts(evidence, rec)
    evidence.run_map = rec.run_map
    evidence.missing_artifacts = list(rec.missing_artifacts)
    evidence.warnings.extend(rec.warnings)
    return evidence, rec


def _add_artifacts(evidence: Evidence, rec: Submission) -> None:
    """Copy the intake's artifacts (files relative to the work folder) into the evidence."""
    for art in rec.artifacts:
        file = f"intake/{art.file}" if art.file else None
        evidence.artifacts.append(Artifact(art.kind, art.origin, file, art.note))


def _latest_checkpoint(evidence: Evidence, submission: Submission) -> str | None:
    """Absolute path of the student's latest checkpoint (a prefix or a model file)."""
    ckpts = [a for a in evidence.artifacts if a.kind == "checkpoint"]
    if not ckpts:
        return None
    latest = [a for a in ckpts if "latest" in a.note] or ckpts
    root = Path(submission.root)
    return str((root / latest[-1].origin).resolve())


def judge_shown_request(evidence: Evidence, options: GradeOptions,
                        assignment: Assignment) -> dict[str, Any]:
    """``RunRequest.judge``: the trusted process judges what the intake found."""
    return {"folder": str(assignment.folder),
            "shown": {"evidence": evidence.to_dict(), "seed": options.seed}}


def sandbox_request(options: GradeOptions, checkpoint: str | None = None,
                    judge: dict[str, Any] | None = None) -> RunRequest:
    """The budgets and limits of the isolated run, from the options."""
    b = options.budget
    return RunRequest(steps=b.steps, batch_size=b.batch_size, sample_every=b.sample_every,
                      n_samples=b.n_samples, check_timeout_s=options.check_timeout_s,
                      train_timeout_s=b.train_timeout_s,
                      checkpoint_timeout_s=options.checkpoint_timeout_s,
                      checkpoint=checkpoint, seed=options.seed, threads=options.threads,
                      memory_mb=options.memory_mb, isolation=options.isolation, judge=judge)


def run_sandbox(submission: Submission, evidence: Evidence, work: Path, images: np.ndarray,
                options: GradeOptions, assignment: Assignment, progress: ProgressFn,
                judge: dict[str, Any] | None = None) -> IsolatedRun | None:
    """Run the student's and the trusted process (:mod:`grader.sandbox.orchestrate`).

    ``judge``: what the trusted process should judge (``RunRequest.judge``). Returns the
    validated run (None when no code could be taken from the submission).
    """
    if not submission.code_units:
        cell_failures = submission.cell_failures[:3]
        failures = [f.message.en for f in cell_failures]
        why = f" ({'; '.join(failures)})" if failures else ""
        why_ko = (f" ({'; '.join(f.message.ko or f.message.en for f in cell_failures)})"
                  if failures else "")
        evidence.checks.append(CheckResult(
            "code_cells", "fail", Msg(f"No Python code could be taken from the submission{why}.",
                                      f"제출물에서 실행할 파이썬 코드를 찾지 못했습니다{why_ko}."),
            {"failures": failures}))
        evidence.isolation = "none (no code to run)"
        return None
    req = sandbox_request(options, checkpoint=_latest_checkpoint(evidence, submission),
                          judge=judge)
    boxes: list[Path] = []
    done = threading.Event()
    watcher = threading.Thread(target=_watch_progress, daemon=True,
                               args=(boxes, done, progress, req.steps))
    watcher.start()
    try:
        run = run_isolated(submission, req, work, images, assignment, progress_dirs=boxes)
    finally:
        done.set()
        watcher.join(timeout=2)
    evidence.isolation = run.isolation
    evidence.checks.extend(run.checks)
    evidence.logs = run.logs
    evidence.timings.update(run.timings)
    evidence.trusted_models = run.trusted_models
    evidence.variants = run.variants
    evidence.checkpoint = run.checkpoint
    evidence.checkpoint_samples_file = run.checkpoint_samples_file
    evidence.warnings.extend(run.warnings)
    return run


#: what each phase of the two child processes does, for the progress line
PHASE_TEXT = {
    "load": "running your code, cell by cell",
    "check": "checking your models (shapes, ranges, losses)",
    "export": "saving your models for the grader",
    "verify": "rebuilding your models outside your code",
    "sample_checkpoint": "sampling your checkpoint",
    "train": "training your models with the grader's loop",
    "judge_shown": "judging the images your notebook shows",
    "judge": "judging the grader's samples",
}


def _watch_progress(boxes: list[Path], done: threading.Event, progress: ProgressFn,
                    steps: int) -> None:
    """Forward the children's ``progress.json`` (phase, training step) to the terminal."""
    last = None
    while not done.wait(0.5):
        info = None
        for box in reversed(boxes):  # the later process is the one running
            try:
                info = json.loads((box / PROGRESS_FILE).read_text()[:4096])
                if isinstance(info, dict) and info.get("phase") == "waiting":
                    continue  # the trusted process, started early, waits for its plan
                break
            except (OSError, ValueError):
                continue
        if not isinstance(info, dict):
            continue
        key = (info.get("phase"), info.get("variant"), info.get("step"))
        if key == last:
            continue
        last = key
        phase = str(info.get("phase", ""))
        if phase == "train" and isinstance(info.get("step"), int):
            detail = f"training {info.get('variant', '')} variant"
            progress("train", min(1.0, info["step"] / max(1, steps)), detail)
        elif phase in PHASE_TEXT:
            progress(phase, None, PHASE_TEXT[phase])


def write_outputs(evidence: Evidence, judged: JudgedEvidence, student: StudentImages,
                  rubric: Rubric, work: Path, out_dir: Path, options: GradeOptions,
                  timing: dict[str, float], t_all: float | None,
                  assignment: Assignment) -> GradeOutcome:
    """Score, then write report.html, result.json (and Gradescope's results.json).

    The evidence, the judged record and the student's tiles stay in ``work/`` (models and
    real images are removed): ``grade rescore`` scores and renders again from them.
    ``t_all`` is when grading began (None when re-scoring: ``timing`` is kept as it was).
    """
    if student.tiles is not None:
        savez_atomic(work / STUDENT_TILES_FILE, tiles=student.tiles)
    write_text_atomic(work / EVIDENCE_FILE, evidence.to_json())
    write_text_atomic(work / JUDGED_FILE, judged.to_json())
    if t_all is not None:
        timing["total_s"] = time.perf_counter() - t_all
    outcome = render_outputs(evidence, judged, rubric, work, out_dir, options, timing,
                             assignment)
    compact_work(work)
    return outcome


def render_outputs(evidence: Evidence, judged: JudgedEvidence, rubric: Rubric, work: Path,
                   out_dir: Path, options: GradeOptions, timing: dict[str, float],
                   assignment: Assignment, student: str | None = None) -> GradeOutcome:
    """Score the kept evidence and write the report, result.json and Gradescope's file.

    ``student``: the name the overrides file uses (default: the submission's name).
    """
    grade_ = score_submission(evidence, judged, rubric)
    name = student or evidence.submission
    earlier = read_kept(work)  # an instructor's earlier decisions stick (re-scores keep them)
    new = load_overrides(options.overrides) if options.overrides else []
    if earlier or new:
        apply_overrides(grade_, earlier, name)  # their problems were reported the first time
        for problem in apply_overrides(grade_, new, name):
            grade_.warnings.append(Note.of("override", plain(problem)))
        write_text_atomic(work / KEPT_FILE, kept_json(applied_overrides(grade_, name)))
    # imported here, not at the top: while the two sandboxed processes run, the grader's own
    # process stays small (matplotlib, jinja2 and the image tools load after they end)
    from grader.report.gradescope import write_gradescope
    from grader.report.html import ReportImages, write_report
    from grader.report.result_json import RunMeta, write_result_json

    images = ReportImages.from_work_dir(evidence, judged, work, assignment.image_shape)
    meta = RunMeta.collect(mode=options.mode, seed=options.seed,
                           timing={k: round(float(v), 2) for k, v in timing.items()})
    report = write_report(grade_, evidence, judged, images, out_dir / "report.html",
                          lang=options.lang, meta=meta)
    result_path = out_dir / "result.json"
    result = write_result_json(grade_, evidence, meta, result_path)
    gs_path = None
    if options.gradescope:
        gs_path = out_dir / "results.json"
        write_gradescope(grade_, gs_path, lang=options.gradescope_lang or options.lang,
                         visibility=options.gradescope_visibility,
                         execution_time=float(timing.get("total_s", 0.0)))
    return GradeOutcome(out_dir, report, result_path, result, gs_path)


__all__ = ["GradeOutcome", "default_out_dir", "grade_submission", "render_outputs"]
