"""The isolated run of one submission, in two sandboxed processes, checked by the parent.

1. The **student's process** (:mod:`grader.sandbox.student`) runs the student's code: it
   finds and builds the models, runs the checks that need the student's functions, and
   exports each variant as data (model files, loss coefficients, optimizer configs). It never
   sees real training data.
2. The parent validates the export and copies the model files (and nothing else) into the
   **trusted process**'s folder (:mod:`grader.sandbox.trusted`), which imports no student
   code: it verifies the models, restores the student's checkpoint into the architecture
   the code builds, trains each variant with the grader's trainer, and samples it.
3. A variant that cannot cross as data (custom layers, another loss) is trained by a second
   student process, given the training images only then; its results are *unverified*.
4. The parent checks every number that comes back against what it asked for
   (:func:`verify_trusted`); a mismatch is an error that names the tampering.
"""

from __future__ import annotations

import re
import shutil
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from grader.assignment import Assignment
from grader.errors import detail_text, student_text
from grader.evidence import CheckResult, VariantRun, load_images_npz
from grader.files import write_json_atomic
from grader.judge.results import JudgedEvidence
from grader.sandbox.launch import STUDENT_MODULE, TRUSTED_MODULE, ChildOutcome, run_child
from grader.sandbox.limits import Limits
from grader.sandbox.plan import checks_from_outcome, make_plan, parse_variant, write_real_images
from grader.sandbox.trusted.judging import SHOWN_OUTPUTS, Shown, read_shown, shown_error
from grader.text import Msg, msg

VARIANT_NAMES = ("baseline", "final")
_PLAIN_FILE = re.compile(r"^(baseline|final)_(generator|discriminator)\.keras$")
MAX_MODEL_BYTES = 256 << 20
#: the trusted process's plan, handed over once the student's process has ended
GO_FILE = "go.json"
#: seconds the trusted process may take to judge (its own samples, or what the student shows)
JUDGE_TIMEOUT_S = 300.0
#: the largest file the trusted process's judging may hand back (overlays, tiles, the GIF)
MAX_JUDGED_BYTES = 64 << 20
#: images per second above which a reported training run is not believable on any machine
MAX_PLAUSIBLE_IMAGES_PER_S = 2_000_000


@dataclass
class RunRequest:
    """What the parent asks for: budgets, limits and the checkpoint to sample."""

    steps: int
    batch_size: int
    sample_every: int
    n_samples: int
    check_timeout_s: float
    train_timeout_s: float
    checkpoint_timeout_s: float
    checkpoint: str | None = None
    """Absolute path of the student's checkpoint (a prefix, folder or model file)."""
    seed: int = 0
    threads: int = 2
    memory_mb: int = 4096
    isolation: str = "auto"
    judge: dict[str, Any] | None = None
    """Judge in the trusted process: ``{"folder": the assignment folder, "shown": {"evidence":
    the intake's evidence as a dict, "seed": ...}}`` (None: the parent judges)."""


@dataclass
class IsolatedRun:
    """What came back, validated: checks, variants, checkpoint samples and messages."""

    checks: list[CheckResult] = field(default_factory=list)
    variants: list[VariantRun] = field(default_factory=list)
    checkpoint: dict[str, Any] | None = None
    checkpoint_samples_file: str | None = None
    isolation: str = ""
    logs: str = ""
    timings: dict[str, float] = field(default_factory=dict)
    warnings: list[Msg] = field(default_factory=list)
    trusted_models: bool = False
    shown: Shown | None = None
    """The trusted process's judgement of what the student shows (judging.read_shown)."""
    shown_error: str = ""
    """Why that judgement did not come back (empty: it did, or none was asked for)."""
    judged_runs: JudgedEvidence | None = None
    """The trusted process's judgement of its own samples (before the parent's checks)."""


def _export_entries(result: dict[str, Any] | None) -> list[dict[str, Any]]:
    raw = ((result or {}).get("export") or {}).get("variants")
    return [v for v in raw if isinstance(v, dict) and v.get("name") in VARIANT_NAMES][:2] \
        if isinstance(raw, list) else []


def _copy_models(entry: dict[str, Any], student_box: Path, trusted_box: Path) -> dict[str, str]:
    """Copy the variant's model files (plain names, regular files, bounded size)."""
    out = {}
    for role in ("generator", "discriminator"):
        name = entry.get(f"{role}_file")
        if not isinstance(name, str) or not _PLAIN_FILE.match(name) or \
                not name.startswith(f"{entry['name']}_{role}"):
            raise ValueError(f"the {role} file name {name!r} is not one the grader asked for")
        src = student_box / name
        if src.is_symlink() or not src.is_file() or src.stat().st_size > MAX_MODEL_BYTES:
            raise ValueError(f"the {role} file is missing or not a plain file")
        shutil.copyfile(src, trusted_box / name)
        out[role] = name
    return out


def trusted_plan(entries: list[dict[str, Any]], copied: dict[str, dict[str, str]],
                 req: RunRequest, assignment: Assignment, read_only: list[str]
                 ) -> dict[str, Any]:
    """The trusted process's plan: variants as data, then verify, checkpoint, train."""
    variants = []
    for e in entries:
        if e["name"] not in copied:
            continue
        variants.append({
            "name": e["name"], "generator": copied[e["name"]]["generator"],
            "discriminator": copied[e["name"]]["discriminator"],
            "generator_fn": student_text(e.get("generator_fn"), 200),
            "discriminator_fn": student_text(e.get("discriminator_fn"), 200),
            "noise_dim": int(e.get("noise_dim") or assignment.noise_dim),
            "losses": e.get("losses"), "optimizers": e.get("optimizers"),
            "output_kind": "probabilities" if e.get("output_kind") == "probabilities"
            else "logits"})
    phases: list[dict[str, Any]] = [{"name": "verify", "timeout_s": req.check_timeout_s}]
    if req.checkpoint and any(v["name"] == "final" for v in variants):
        phases.append({"name": "sample_checkpoint", "path": req.checkpoint, "into": "final",
                       "n": req.n_samples, "timeout_s": req.checkpoint_timeout_s})
    phases.append({"name": "train", "timeout_s": req.train_timeout_s,
                   "budget": {"steps": req.steps, "batch_size": req.batch_size,
                              "sample_every": req.sample_every, "n_samples": req.n_samples,
                              "n_fixed": 16}})
    if req.judge:
        phases.append({"name": "judge", "timeout_s": JUDGE_TIMEOUT_S, "seed": req.seed,
                       "folder": req.judge.get("folder")})
    return {"version": 1, "assignment": assignment.facts(), "seed": req.seed,
            "threads": req.threads, "real_images": "real_images.npy", "variants": variants,
            "phases": phases, "read_only": read_only}


class WarmTrusted:
    """The trusted process, started early: it imports TensorFlow, then waits for its plan.

    The plan arrives as :data:`GO_FILE` in the trusted folder, written by the parent once the
    student's process has ended and its export was validated and copied; :meth:`cancel`
    writes ``{"cancel": true}`` instead. The process sees only its own folder, so the
    student's code cannot hand it anything.
    """

    def __init__(self, box: Path, req: RunRequest, assignment: Assignment, read_only: list[str],
                 wait_s: float) -> None:
        self.box = box
        box.mkdir(parents=True, exist_ok=True)
        stub = trusted_plan([], {}, req, assignment, read_only)
        stub["phases"] = _every_phase(req)  # the launcher takes each phase's limit from here
        stub.update({"await": GO_FILE, "await_timeout_s": wait_s + JUDGE_TIMEOUT_S})
        if req.judge:
            stub["judge"] = {"shown": req.judge.get("shown"),
                             "expose": [str(req.judge["folder"])] if req.judge.get("folder")
                             else []}
        limits = Limits(timeout_s=wait_s + req.check_timeout_s + req.checkpoint_timeout_s
                        + req.train_timeout_s + 2 * JUDGE_TIMEOUT_S + 300, memory_mb=req.memory_mb,
                        isolation=req.isolation, threads=req.threads)
        self._outcome: ChildOutcome | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(stub, limits), daemon=True,
                                        name="trusted-process")
        self._thread.start()

    def _run(self, stub: dict[str, Any], limits: Limits) -> None:
        try:
            self._outcome = run_child(stub, self.box, limits, module=TRUSTED_MODULE)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
            self._error = exc

    def go(self, plan: dict[str, Any]) -> ChildOutcome:
        """Hand over the plan and wait for the trusted process's outcome."""
        write_json_atomic(self.box / GO_FILE, plan, indent=None)
        self._thread.join()
        if self._error is not None:
            raise self._error
        assert self._outcome is not None
        return self._outcome

    @property
    def status(self) -> str:
        """The process's outcome status once it ended (``ok``, ``timeout``, ...), else ""."""
        return self._outcome.status if self._outcome is not None else ""

    def cancel(self, wait_s: float = 30.0) -> None:
        """Tell the waiting process there is nothing to do, and let it end (it finishes
        judging what the student shows first: ``wait_s``)."""
        try:
            write_json_atomic(self.box / GO_FILE, {"cancel": True}, indent=None)
        except OSError:
            pass
        self._thread.join(timeout=wait_s)


def _every_phase(req: RunRequest) -> list[dict[str, Any]]:
    return [{"name": "verify", "timeout_s": req.check_timeout_s},
            {"name": "sample_checkpoint", "timeout_s": req.checkpoint_timeout_s},
            {"name": "train", "timeout_s": req.train_timeout_s},
            {"name": "judge", "timeout_s": JUDGE_TIMEOUT_S},
            {"name": "judge_shown", "timeout_s": JUDGE_TIMEOUT_S}]


def expected_frames(steps: int, every: int) -> int:
    """Frames the trainer records: step 0, every ``every`` steps, and the last step."""
    marks = {0, steps} | set(range(every, steps + 1, every))
    return len(marks)


def verify_trusted(run: VariantRun, req: RunRequest, work: Path,
                   shape: tuple[int, ...]) -> str | None:
    """Why the trusted run of a variant does not match what was asked (None: it matches)."""
    h = run.history
    lengths = {len(h.gen_loss), len(h.disc_loss), len(h.real_accuracy), len(h.fake_accuracy)}
    if lengths != {req.steps} or h.steps != req.steps:
        return f"the history has {sorted(lengths)} steps, but {req.steps} were asked for"
    if h.batch_size != req.batch_size:
        return f"the batch size is {h.batch_size}, but {req.batch_size} was asked for"
    if not all(0.0 <= a <= 1.0 for a in h.fake_accuracy + h.real_accuracy if a == a):
        return "the history holds accuracies outside [0, 1]"
    if h.wall_s <= 0 or req.steps * req.batch_size / h.wall_s > MAX_PLAUSIBLE_IMAGES_PER_S:
        return f"{req.steps} steps in {h.wall_s:.3g} s is not a believable training time"
    try:
        samples = load_images_npz(work / (run.samples_file or ""), "images", shape)
        frames = load_images_npz(work / (run.frames_file or ""), "frames", shape)
    except (OSError, ValueError) as exc:
        return f"its images are unreadable: {exc}"
    if samples.ndim != 4 or len(samples) != req.n_samples:
        return f"{len(samples)} samples came back, {req.n_samples} were asked for"
    want = expected_frames(req.steps, req.sample_every)
    if frames.ndim != 5 or len(frames) != want or len(run.frame_steps) != want:
        return f"{len(frames)} frames came back, {want} were expected"
    return None


def _merge_checks(student: list[CheckResult], trusted: list[CheckResult]) -> list[CheckResult]:
    """The student-side checks, with the model checks replaced by the trusted process's."""
    verified = {c.id: c for c in trusted}
    out = [verified.pop(c.id, c) for c in student]
    return out + list(verified.values())


def run_isolated(units_source: Any, req: RunRequest, work: Path, images: np.ndarray,
                 assignment: Assignment, progress_dirs: list[Path] | None = None) -> IsolatedRun:
    """Run the student's process, the trusted process and (if needed) the fallback.

    Args:
        units_source: An intake ``Submission`` (or code-unit dicts).
        req: Budgets, limits and the checkpoint.
        work: The submission's work folder (``student/``, ``trusted/`` go inside it).
        images: Real training images (uint8), for the trusted process only.
        assignment: The assignment.
        progress_dirs: Filled with the folders whose ``progress.json`` the terminal follows.
    """
    out = IsolatedRun()
    limits = Limits(timeout_s=req.check_timeout_s * 2 + 300, memory_mb=req.memory_mb,
                    isolation=req.isolation, threads=req.threads)
    student_box, trusted_box = work / "student", work / "trusted"
    for box in (student_box, trusted_box):
        shutil.rmtree(box, ignore_errors=True)
    if progress_dirs is not None:
        progress_dirs[:] = [student_box, trusted_box]
    root = getattr(units_source, "root", None)
    read_only = [str(root)] if root else []
    plan = make_plan(units_source, [{"name": "check", "timeout_s": req.check_timeout_s},
                                    {"name": "export", "timeout_s": req.check_timeout_s}],
                     assignment=assignment, seed=req.seed, threads=req.threads)
    # The trusted process starts now and imports TensorFlow while the student's code runs;
    # it reads nothing until the parent hands it the plan, after the student's process ended.
    if req.judge and req.judge.get("shown"):  # what the student shows, for the judge
        _copy_tree(work / "intake", trusted_box / "intake")
    warm = WarmTrusted(trusted_box, req, assignment, read_only, wait_s=limits.timeout_s)
    try:
        s_out = run_child(plan, student_box, limits, module=STUDENT_MODULE)
    except BaseException:
        warm.cancel()
        raise
    out.isolation, out.logs = s_out.isolation, s_out.log_tail
    out.timings.update({f"student_{k}_s": float(v) for k, v in s_out.timings.items()})
    student_checks = checks_from_outcome(s_out)
    entries = _export_entries(s_out.result)
    copied: dict[str, dict[str, str]] = {}
    trusted_box.mkdir(parents=True, exist_ok=True)
    fallback: list[str] = []
    for e in entries:
        if e.get("error"):
            out.variants.append(VariantRun(
                name=e["name"], generator_fn=student_text(e.get("generator_fn"), 200),
                discriminator_fn=student_text(e.get("discriminator_fn"), 200),
                history=parse_variant({}).history, error=student_text(e["error"]),
                error_detail=detail_text(e.get("error_detail")) or None))
            continue
        if not e.get("exportable"):
            fallback.append(e["name"])
            continue
        try:
            copied[e["name"]] = _copy_models(e, student_box, trusted_box)
        except ValueError as exc:
            out.warnings.append(Msg(f"The {e['name']} models did not cross to the grader: {exc}",
                                    f"{e['name']} 모델을 채점기로 넘기지 못했습니다: {exc}"))
    trusted_checks: list[CheckResult] = []
    if copied:
        write_real_images(trusted_box, images, assignment.image_shape)
        t_out = warm.go(trusted_plan(entries, copied, req, assignment, read_only))
        out.timings.update({f"trusted_{k}_s": float(v) for k, v in t_out.timings.items()})
        trusted_checks = checks_from_outcome(t_out)
        out.trusted_models = True
        out.variants += _trusted_variants(t_out, req, trusted_box, assignment)
        _note_student_step(out.variants, entries)
        _checkpoint(t_out, out)
        out.judged_runs = _judged_runs(t_out)
    else:
        warm.cancel(wait_s=JUDGE_TIMEOUT_S if req.judge else 30.0)
    if req.judge and req.judge.get("shown"):
        out.shown, out.shown_error = _take_shown(trusted_box, work, assignment, warm.status)
        if out.shown_error:
            out.warnings.append(msg("sandbox.shown_not_judged", why=out.shown_error))
    out.checks = _merge_checks(student_checks, trusted_checks)
    if fallback:
        out.variants += _fallback(units_source, fallback, req, work, images, assignment, out)
    order = {name: i for i, name in enumerate(VARIANT_NAMES)}
    out.variants.sort(key=lambda v: order.get(v.name, 9))
    return out


def judge_shown_isolated(req: RunRequest, work: Path, assignment: Assignment
                         ) -> tuple[Shown | None, str]:
    """Judge what the student shows in a trusted process of its own (no code of theirs runs,
    e.g. a notebook without usable code): the student's images are hostile data, so they
    are decoded in a sandbox, never in the grader's process.

    Returns the judgement (None: it did not come back) and why not (else "").
    """
    box = work / "trusted_judge"
    shutil.rmtree(box, ignore_errors=True)
    _copy_tree(work / "intake", box / "intake")
    warm = WarmTrusted(box, req, assignment, [], wait_s=0.0)
    warm.cancel(wait_s=JUDGE_TIMEOUT_S + 120)
    shown, why = _take_shown(box, work, assignment, warm.status)
    shutil.rmtree(box, ignore_errors=True)
    return shown, why


def _take_shown(box: Path, work: Path, assignment: Assignment, status: str
                ) -> tuple[Shown | None, str]:
    """Read the shown judgement back, copy its outputs to ``work`` and remove the intake's
    copies from ``box``; a judgement that did not come back is said, not guessed.

    Returns the judgement and, when it is None, why (else "")."""
    shown, why = read_shown(box, assignment.image_shape), ""
    if shown is not None:
        _copy_judged_back(box, work)
    else:
        why = shown_error(box, "" if status == "ok" else status)
    for name in ("intake", *SHOWN_OUTPUTS):  # copies: the work folder keeps the originals
        target = box / name
        shutil.rmtree(target, ignore_errors=True) if target.is_dir() else \
            target.unlink(missing_ok=True)
    return shown, why


def _copy_tree(src: Path, dest: Path) -> None:
    """Copy the intake (plain files only, no links) into the trusted folder."""
    if src.is_dir():
        shutil.copytree(src, dest, dirs_exist_ok=True, ignore=lambda folder, names: [
            n for n in names if (Path(folder) / n).is_symlink()])


def _copy_judged_back(box: Path, work: Path) -> None:
    """The judge's outputs (tiles, overlays, the report's GIF) into the work folder."""
    for name in SHOWN_OUTPUTS:
        src = box / name
        files = [src] if src.is_file() else sorted(src.rglob("*")) if src.is_dir() else []
        for f in files:
            if f.is_symlink() or not f.is_file() or f.stat().st_size > MAX_JUDGED_BYTES:
                continue
            dest = work / f.relative_to(box)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(f, dest)


def _judged_runs(t_out: ChildOutcome) -> JudgedEvidence | None:
    raw = (t_out.result or {}).get("judged_runs")
    if not isinstance(raw, dict):
        return None
    try:
        return JudgedEvidence.from_dict(raw)
    except (ValueError, TypeError, KeyError, AttributeError):
        return None


def _trusted_variants(t_out: ChildOutcome, req: RunRequest, box: Path,
                      assignment: Assignment) -> list[VariantRun]:
    runs = []
    for raw in (t_out.result or {}).get("variants", [])[:2]:
        if not isinstance(raw, dict):
            continue
        run = parse_variant(raw, prefix="trusted/")
        if run.error is None:
            problem = verify_trusted(run, req, box.parent, assignment.image_shape)
            if problem:
                run.error = f"the grader's training run does not match what it asked for: " \
                            f"{problem}"
                run.samples_file = run.frames_file = None
        runs.append(run)
    if t_out.status != "ok" and not runs:
        runs.append(VariantRun(name="final", generator_fn="", discriminator_fn="",
                               history=parse_variant({}).history, error=t_out.message.en,
                               error_kind=_limit_kind(t_out.status)))
    return runs


def _note_student_step(runs: list[VariantRun], entries: list[dict[str, Any]]) -> None:
    """Say on each trusted run which losses it trained with (when the student's code defines
    none) and whether the student's own ``train_step`` ran in their process; both notes are
    kept, in that order."""
    by_name = {e.get("name"): e for e in entries}
    for run in runs:
        entry = by_name.get(run.name) or {}
        notes: list[str] = []
        standard = entry.get("standard_losses")
        if isinstance(standard, list) and standard:
            notes.append(f"your code defines no {' or '.join(str(s) for s in standard[:2])} "
                         "function; your discriminator is compiled with binary cross-entropy, "
                         "so the grader trained with the standard GAN cross-entropy losses")
        smoke = entry.get("train_step")
        if isinstance(smoke, dict) and smoke.get("present"):
            if smoke.get("ok"):
                notes.append("your train_step ran on sample batches in your own process with "
                             "finite losses; the grader's numbers come from its own loop with "
                             "your models, losses and optimizers")
            else:
                notes.append(f"your train_step failed in your own process: "
                             f"{smoke.get('error') or 'unknown error'}")
                run.history.loop_note_detail = detail_text(smoke.get("error_detail")) or ""
        if notes:
            run.history.loop_note = student_text("; ".join(notes))


def _limit_kind(status: str) -> str:
    """``timeout``/``memory`` when a limit of the grader stopped a run, else ``error``."""
    return {"timeout": "timeout", "memory": "memory", "oom": "memory"}.get(status, "error")


def _checkpoint(t_out: ChildOutcome, out: IsolatedRun) -> None:
    raw = (t_out.result or {}).get("checkpoint")
    if not isinstance(raw, dict):
        return
    out.checkpoint = {"fits_code": bool(raw.get("fits_code")),
                      "how": student_text(raw.get("how"), 60),
                      "why": student_text(raw.get("why"))}
    name = (t_out.result or {}).get("checkpoint_samples_file")
    if out.checkpoint["fits_code"] and name == "checkpoint_samples.npz":
        out.checkpoint_samples_file = "trusted/checkpoint_samples.npz"
    elif not out.checkpoint["fits_code"]:
        why = out.checkpoint["why"] or "it does not fit"
        out.warnings.append(msg("sandbox.checkpoint_does_not_fit", why=why))


def _fallback(units_source: Any, names: list[str], req: RunRequest, work: Path,
              images: np.ndarray, assignment: Assignment, out: IsolatedRun) -> list[VariantRun]:
    """Train variants that could not cross as data in a second student process (unverified)."""
    box = work / "student_training"
    shutil.rmtree(box, ignore_errors=True)
    write_real_images(box, images, assignment.image_shape)
    plan = make_plan(units_source, [{"name": "train", "timeout_s": req.train_timeout_s,
                                     "steps": req.steps, "batch_size": req.batch_size,
                                     "sample_every": req.sample_every,
                                     "n_samples": req.n_samples, "only": names}],
                     assignment=assignment, seed=req.seed, threads=req.threads)
    limits = Limits(timeout_s=req.train_timeout_s + 300, memory_mb=req.memory_mb,
                    isolation=req.isolation, threads=req.threads)
    f_out = run_child(plan, box, limits, module=STUDENT_MODULE)
    out.timings.update({f"fallback_{k}_s": float(v) for k, v in f_out.timings.items()})
    runs = [parse_variant(v, prefix="student_training/") for v in
            (f_out.result or {}).get("variants", [])[:2] if isinstance(v, dict)]
    for run in runs:
        run.verified = False
    if f_out.status != "ok" and not runs:
        out.warnings.append(f_out.message)
    return runs
