"""Synthetic evidence and judge results for scoring and report tests."""

from __future__ import annotations

import numpy as np

from grader.assignment import get_assignment
from grader.evidence import Artifact, CheckResult, Evidence, History, VariantRun
from grader.intake.runs import Run, RunMap
from grader.judge.results import (
    FigureJudgement,
    GifInfo,
    HistoryJudgement,
    JudgedEvidence,
    JudgeResult,
)
from grader.text import Msg

CLASS_NAMES = get_assignment().class_names

CHECK_IDS = ("generator_builds", "generator_output_shape", "generator_output_range",
             "generator_uses_noise", "discriminator_builds", "discriminator_output_shape",
             "discriminator_final_activation", "loss_functions", "accuracy_function",
             "trainable_step")


def _probs(top: int, p: float) -> list[float]:
    """Class probabilities with ``p`` on class ``top`` and the rest spread evenly."""
    out = [(1.0 - p) / 9] * 10
    out[top] = p
    return out


def judge_dict(n: int, fraction: float, *, seed: int = 0, classes: int = 10) -> JudgeResult:
    """A JudgeResult with ``round(fraction*n)`` recognized images spread over classes."""
    rng = np.random.default_rng(seed)
    n_rec = int(round(fraction * n))
    rec = np.zeros(n, dtype=bool)
    rec[rng.choice(n, n_rec, replace=False)] = True
    cls = rng.integers(0, classes, size=n)
    per = [{"class_index": int(c), "class_name": CLASS_NAMES[int(c)],
            "prob": float(0.9 if r else 0.3), "recognizable": bool(r),
            "probs": _probs(int(c), 0.9 if r else 0.3)}
           for c, r in zip(cls, rec, strict=True)]
    hist = np.bincount(cls[rec], minlength=10).tolist()
    k = max(1, round(0.02 * n))
    p = n_rec / n
    half = 1.96 * np.sqrt(max(p * (1 - p), 0.25 / n) / n)  # wide enough for tiny n
    return JudgeResult.from_dict(
        {"n": n, "recognizable_fraction": p, "ci_low": max(0.0, p - half),
         "ci_high": min(1.0, p + half), "tau": 0.7, "class_histogram": hist,
         "class_coverage": int(sum(h >= k for h in hist)),
         "classifier_score": 1.0 + 6.0 * p, "fcd": 100.0 * (1 - p), "per_image": per,
         "warnings": [], "class_names": list(CLASS_NAMES)})


def grid(clear: int, named: int, *, n: int = 16, seed: int = 0, classes: int = 10,
         origin: str = "nb.ipynb cell 40 output 1") -> JudgeResult:
    """A judged sample grid: ``clear`` tiles named without doubt, ``named`` at least plausible
    (``named >= clear``), as the eye-label score (``grader.judge.realism``) marks them."""
    rng = np.random.default_rng(seed)
    r = judge_dict(n, named / n, seed=seed, classes=classes)
    order = rng.permutation(n)
    for rank, i in enumerate(order):
        v = r.per_image[i]
        v.clear, v.named = rank < clear, rank < named
        v.p_clear = 0.9 if v.clear else (0.3 if v.named else 0.02)
        v.p_named = 0.97 if v.named else 0.1
        v.recognizable = v.named
    r.clear_count, r.named_count = clear, named
    r.expected_clear = float(sum(v.p_clear for v in r.per_image))
    r.copy_fraction = 0.0
    r.origin = origin
    r.class_histogram = np.bincount([v.class_index for v in r.per_image if v.named],
                                    minlength=10).tolist()
    return r


def shown_history(curve: list[float], origin: str = "nb.ipynb cell 41 output 1",
                  ok: bool = True, reason: str = "") -> HistoryJudgement:
    """The student's history plot as the plot reader gives it back."""
    return HistoryJudgement(origin=origin, shown=True, ok=ok, reason=reason,
                            fake_accuracy=list(curve) if ok else [], uncertainty=0.01,
                            confidence=0.9 if ok else 0.0)


def story(changes: list[str] | None = None) -> dict:
    """A notebook story: a baseline run, and a final run after ``changes`` (none: one run)."""
    runs = [Run(0, 30, "nb.ipynb cell 30", 12, "train(train_dataset, EPOCHS)")]
    if changes:
        runs.append(Run(1, 50, "nb.ipynb cell 50", 20, "train(train_dataset, EPOCHS)"))
    return RunMap(runs=runs, baseline=0 if changes else None,
                  final=len(runs) - 1, change_kind="code" if changes else "none",
                  changes=list(changes or [])).to_dict()


def fake_accuracy_curve(steps: int, *, end: float = 0.55, seed: int = 0) -> list[float]:
    """Fake accuracy that jumps to ~1 early, then decays towards ``end`` with batch noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(steps)
    peak = max(1, steps // 20)
    rise = np.clip(0.5 + 0.5 * t / peak, 0, 1.0)
    decay = end + (1.0 - end) * np.exp(-(t - peak).clip(0) / (steps / 4))
    curve = np.where(t < peak, rise, decay) + rng.normal(0, 0.05, steps)
    return np.clip(curve, 0, 1).tolist()


def history(steps: int, *, end: float = 0.55, seed: int = 0, student_bug: bool = False) -> History:
    """A grader-recorded History of ``steps`` steps."""
    fa = fake_accuracy_curve(steps, end=end, seed=seed)
    h = History(gen_loss=[1.0] * steps, disc_loss=[1.2] * steps, real_accuracy=fa[::-1],
                fake_accuracy=fa, batch_size=64, steps=steps, wall_s=steps * 0.05,
                images_per_s=1200.0)
    if student_bug:  # logits compared with 0.5: fake accuracy over-reported
        h.student_fake_accuracy = [min(1.0, x + 0.1) for x in fa]
        h.student_real_accuracy = [max(0.0, x - 0.1) for x in fa[::-1]]
    return h


def checks(**status: str) -> list[CheckResult]:
    """Every known check passing, except the ones given as ``id=status``."""
    out = []
    for cid in CHECK_IDS + tuple(k for k in status if k not in CHECK_IDS):
        st = status.get(cid, "pass")
        out.append(CheckResult(cid, st, Msg(f"{cid}: {st}", f"{cid}: {st} (한국어)")))
    return out


def rising_frames(n_frames: int, n_tiles: int = 16, top: float = 0.6) -> list[dict]:
    """Judge results per GIF frame whose recognizable fraction rises over the frames."""
    return [judge_dict(n_tiles, top * i / max(1, n_frames - 1), seed=i) for i in range(n_frames)]


def good_student(steps: int = 4000) -> tuple[Evidence, JudgedEvidence]:
    """Everything right: long trusted run, improvement, rising GIF, history plot."""
    ev = Evidence(
        submission="good_student", isolation="bwrap", checks=checks(),
        variants=[VariantRun("baseline", "make_generator_model", "make_discriminator_model",
                             history(steps, seed=1), samples_file="baseline.npz"),
                  VariantRun("final", "make_generator_model_v2", "make_discriminator_model_v2",
                             history(steps, seed=2), samples_file="final.npz",
                             frames_file="frames.npz", frame_steps=list(range(0, steps, 200)))],
        artifacts=[Artifact("gif", "cifar10_dcgan.gif", "cifar10_dcgan.gif"),
                   Artifact("history_plot", "training_history/train_history_0049.png"),
                   Artifact("samples", "generated_samples/sample_epoch_0050.png")],
        logs="epoch 1 ...\nepoch 50 done\n", timings={"check": 8.2, "train": 410.0},
        trusted_models=True)
    ev.run_map = story(["make_generator_model redefined in cell 45"])
    after, before = grid(9, 13, seed=5), grid(3, 7, seed=6, origin="nb.ipynb cell 31 output 1")
    judged = JudgedEvidence(
        final_samples=judge_dict(1000, 0.40, seed=3),
        baseline_samples=judge_dict(1000, 0.28, seed=4),
        student_images=after, student_after_images=after, student_before_images=before,
        figures=[FigureJudgement("final", after.origin, result=after),
                 FigureJudgement("before", before.origin, result=before)],
        history=shown_history(fake_accuracy_curve(200, seed=8)),
        grader_frames=rising_frames(20, 64), grader_frame_change=0.2,
        gif_frames=rising_frames(12),
        gif_info=GifInfo("cifar10_dcgan.gif", True, 12, tiles_per_frame=16,
                         file="cifar10_dcgan.gif"))
    return ev, judged


def fashion_leftover() -> tuple[Evidence, JudgedEvidence]:
    """A 28x28x1 generator left over from the Fashion-MNIST lesson: gates fail."""
    ev = Evidence(submission="fashion_leftover", isolation="bwrap",
                  checks=checks(generator_output_shape="fail", discriminator_output_shape="fail",
                                fashion_mnist_leftover="fail", trainable_step="skip"),
                  artifacts=[Artifact("gif", "fashion_mnist_dcgan.gif")])
    judged = JudgedEvidence(student_images=judge_dict(16, 0.0),
                            gif_info=GifInfo("fashion_mnist_dcgan.gif", True, 10),
                            gif_frames=rising_frames(10, top=0.0))
    return ev, judged


def accuracy_bug_smoothing_one_frame() -> tuple[Evidence, JudgedEvidence]:
    """The lesson's accuracy bug, a label-smoothing improvement, and a one-frame GIF."""
    ev, judged = good_student()
    ev.submission = "accuracy_bug"
    ev.checks = checks(accuracy_function="warn", loss_functions="warn")
    for v in ev.variants:
        v.history.student_fake_accuracy = [min(1.0, x + 0.1) for x in v.history.fake_accuracy]
    judged.gif_info = GifInfo("dcgan.gif", True, 1, tiles_per_frame=16)
    judged.gif_frames = rising_frames(1)
    return ev, judged


def hostile_final_timeout() -> tuple[Evidence, JudgedEvidence]:
    """The final variant timed out; student-written names carry HTML."""
    ev, judged = good_student()
    ev.submission = "hostile<script>"
    final = ev.variants[1]
    final.generator_fn = "<script>alert('g')</script>"
    final.error = "Training stopped: it ran past the 600 s time limit."
    final.error_kind = "timeout"
    judged.history = shown_history([], ok=False, reason="tick labels unreadable")
    final.history = History()
    final.samples_file = None
    ev.logs = "<script>alert('log')</script>\n" + "x" * 5000
    ev.warnings = [Msg("A cell printed 12 MB of output; it was truncated.",
                       "셀 하나가 12 MB를 출력해 잘랐습니다.")]
    judged.final_samples = None
    judged.grader_frames = []
    return ev, judged
