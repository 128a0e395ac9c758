"""Scoring of synthetic submissions: good, Fashion-MNIST leftover, lesson bugs, hostile, quick."""

from __future__ import annotations

import dataclasses
import json

import pytest
import scoring_synth as synth

from grader.evidence import Artifact, Evidence
from grader.judge.results import JudgedEvidence, JudgeResult
from grader.scoring import load_rubric, score_submission
from grader.text import Msg, plain


@pytest.fixture(scope="module")
def rubric():
    return load_rubric()


def _items(grade):
    return {i.id: i for i in grade.items}


def _hangul(text: str) -> bool:
    return any("\uac00" <= ch <= "\ud7a3" for ch in text)


def _part(item, part_id):
    return next(p for p in item.parts if p["id"] == part_id)


def test_good_student_passes_everything(rubric):
    ev, judged = synth.good_student()
    g = score_submission(ev, judged, rubric)
    items = _items(g)
    assert {i.status for i in g.items} == {"pass"}, [(i.id, i.reasons_en) for i in g.items]
    assert g.score == g.max_score == 30
    assert items["recognizable"].evidence == "student_images"
    assert items["training_progress"].evidence == "student_gif+student_history_plot"
    assert items["improvement"].evidence == "student_before_after"
    assert items["improvement"].numbers["difference"]["ci_low"] > 0
    for i in g.items:
        assert i.reasons_en and i.reasons_ko and all(_hangul(r) for r in i.reasons_ko)
        assert not i.fix_en and i.pending == 0
    assert not g.review_needed and g.pending_points == 0


def test_fashion_mnist_leftover_fails_gates(rubric):
    ev, judged = synth.fashion_leftover()
    g = score_submission(ev, judged, rubric)
    assert g.score == 0
    for item in g.items:
        assert item.status == "fail" and item.evidence == "none"
        assert "generator_output_shape" in item.reasons_en[0]
        assert "검사를 통과하지 못했습니다" in item.reasons_ko[0]
        assert item.fix_en
    assert any(n.code == "check:fashion_mnist_leftover" for n in g.warnings)


def test_accuracy_bug_smoothing_one_frame_gif_is_partial(rubric):
    ev, judged = synth.accuracy_bug_smoothing_one_frame()
    g = score_submission(ev, judged, rubric)
    items = _items(g)
    prog = items["training_progress"]
    assert prog.status == "partial"
    parts = {p["id"]: p["status"] for p in prog.parts}
    assert parts == {"gif": "fail", "fake_accuracy_trend": "pass"}  # one frame shows no change
    assert prog.score == pytest.approx(10 * (0.5 * 0.0 + 0.5 * 1.0))
    assert any("only 1 frame" in r for r in prog.reasons_en)
    assert any("accuracy_function" in r for r in prog.reasons_en)  # the bug is explained
    assert "frame" in prog.fix_en
    assert items["improvement"].status == "pass"
    assert any(n.code == "check:accuracy_function" for n in g.warnings)
    assert 0 < g.score < g.max_score


def test_grader_timeout_is_not_held_against_the_student(rubric):
    ev, judged = synth.hostile_final_timeout()
    judged.history = synth.shown_history(synth.fake_accuracy_curve(200, seed=8))
    g = score_submission(ev, judged, rubric)
    items = _items(g)
    assert items["recognizable"].status == "pass"
    assert items["recognizable"].numbers["verification"] == "limit"
    assert items["training_progress"].status == "pass"
    assert items["improvement"].status == "pass"  # the student's own before/after decides
    assert any(n.code == "variant" and "time limit" in n.en for n in g.warnings)
    assert not g.review_needed


def test_code_that_does_not_train_cannot_earn_credit_for_its_figures(rubric):
    ev, judged = synth.good_student()
    for v in ev.variants:
        v.error, v.error_kind = "a training step failed: ValueError: shapes", "error"
        v.history.gen_loss = v.history.disc_loss = []
    g = score_submission(ev, judged, rubric)
    items = _items(g)
    rec = items["recognizable"]
    assert rec.status == "needs_review" and rec.score == 0 and rec.pending == rec.max_score
    assert "cannot have made" in rec.review_reason_en and rec.review_reason_ko
    prog = items["training_progress"]
    assert prog.status == "needs_review" and prog.pending == 10
    assert items["improvement"].status == "needs_review"  # nothing trains: a person decides
    assert g.review_needed and g.pending_points == 30
    assert any(n.code == "review" and "pending" in n.en for n in g.warnings)


def test_a_generator_the_graders_run_never_updates_needs_review(rubric):
    ev, judged = synth.good_student()
    ev.variants[1].history.generator_change = 0.0  # e.g. an optimizer with learning rate 0
    rec = _items(score_submission(ev, judged, rubric))["recognizable"]
    assert rec.status == "needs_review" and "not updated" in rec.review_reason_en
    ev.variants[1].history.generator_change = 0.02
    judged.grader_frame_change = 0.002  # batch-norm drift only: not a reason for review
    assert _items(score_submission(ev, judged, rubric))["recognizable"].status == "pass"


def test_quick_mode_samples_do_not_decide(rubric):
    ev, judged = synth.good_student(steps=150)
    judged.final_samples = synth.judge_dict(512, 0.0, seed=1)  # 150 steps: blobs
    judged.baseline_samples = synth.judge_dict(512, 0.0, seed=2)
    g = score_submission(ev, judged, rubric)
    assert {i.status for i in g.items} == {"pass"}


@pytest.mark.parametrize("clear,named,status", [
    (0, 0, "fail"), (1, 3, "fail"),  # "blobs with at most one clear tile"
    (1, 16, "partial"), (0, 4, "partial"),  # objects suggested, too few clear
    (2, 3, "partial"),  # two clear objects, too few other plausible ones
    (2, 4, "pass"), (8, 12, "pass")])
def test_grid_counts_decide_item_1(rubric, clear, named, status):
    ev, judged = synth.good_student()
    judged.student_images = synth.grid(clear, named)
    rec = _items(score_submission(ev, judged, rubric))["recognizable"]
    assert rec.status == status, rec.reasons_en
    assert rec.numbers["clear"] == clear and rec.numbers["named"] == named
    assert bool(rec.fix_en) == (status != "pass")


def test_collapsed_generator_fails(rubric):
    ev, judged = synth.good_student()
    judged.student_images = synth.grid(12, 16, classes=1)
    rec = _items(score_submission(ev, judged, rubric))["recognizable"]
    assert rec.status == "fail" and "collapsed" in rec.reasons_en[1]
    assert "mode collapse" in rec.fix_en


def test_copies_of_real_images_fail(rubric):
    ev, judged = synth.good_student()
    r = synth.grid(14, 16)
    r.copy_fraction = 0.5
    for v in r.per_image[:8]:
        v.copy_of = "train #123"
    judged.student_images = r
    rec = _items(score_submission(ev, judged, rubric))["recognizable"]
    assert rec.status == "fail" and "copies of CIFAR-10" in rec.reasons_en[1]
    assert "train #123" in rec.reasons_en[1]


def test_near_copies_fail_as_collapse_unless_the_images_fail_anyway(rubric):
    ev = Evidence(submission="images_only", isolation="bwrap", checks=synth.checks())
    limit = next(i for i in rubric.items if i.id == "recognizable").threshold("max_near_copy_share")

    def rec(clear: int, named: int, copies: float, n: int = 16):
        judged = JudgedEvidence(student_images=dataclasses.replace(
            synth.grid(clear, named, n=n), near_copy_fraction=copies))
        return _items(score_submission(ev, judged, rubric))["recognizable"]

    twins = rec(6, 8, limit)  # half plausible, but the grid repeats a few images
    assert twins.status == "fail" and "twin" in twins.reasons_en[1]
    assert twins.numbers["near_copy_fraction"] == limit
    assert rec(200, 300, limit / 2, n=400).status == "pass"  # a few look-alikes are fine
    blobs = rec(0, 0, 1.0)  # untrained look-alike blobs: "not recognizable" is the news
    assert blobs.status == "fail" and "twin" not in " ".join(blobs.reasons_en)


def test_display_bug_is_named_and_the_checkpoint_can_soften_it(rubric):
    ev, judged = synth.good_student()
    judged.student_images = synth.grid(0, 1)
    judged.figures[0].display_bug = "channel0"
    rec = _items(score_submission(ev, judged, rubric))["recognizable"]
    assert rec.status == "fail" and "channel 0" in rec.fix_en
    ev.checkpoint = {"fits_code": True, "how": "tf.train.Checkpoint", "why": ""}
    judged.checkpoint_samples = synth.grid(60, 100, n=256)
    rec = _items(score_submission(ev, judged, rubric))["recognizable"]
    assert rec.status == "partial" and any("checkpoint" in r for r in rec.reasons_en)


def test_checkpoint_stands_in_only_when_no_grid_is_shown(rubric):
    ev, judged = synth.good_student()
    judged.student_images, judged.figures = None, []
    ev.checkpoint = {"fits_code": True, "how": "tf.train.Checkpoint", "why": ""}
    judged.checkpoint_samples = synth.grid(60, 100, n=256)
    rec = _items(score_submission(ev, judged, rubric))["recognizable"]
    assert rec.status == "pass" and rec.evidence == "checkpoint"
    assert "show" in rec.fix_en.lower()
    ev.checkpoint["fits_code"] = False  # an unrelated checkpoint is not the student's model
    rec = _items(score_submission(ev, judged, rubric))["recognizable"]
    assert rec.status == "fail" and "No generated images" in rec.reasons_en[0]


def test_small_sets_without_eye_scores_are_conservative(rubric):
    item = next(i for i in rubric.items if i.id == "recognizable")
    pass_t = item.threshold("pass_fraction")
    ev = Evidence(submission="images_only", isolation="bwrap", checks=synth.checks())

    def status(n: int, fraction: float) -> str:
        judged = JudgedEvidence(student_images=synth.judge_dict(n, fraction))
        return _items(score_submission(ev, judged, rubric))["recognizable"].status

    above = next(k for k in range(1, 17) if k / 16 > pass_t)  # one 4x4 grid, just above
    assert status(16, above / 16) == "needs_review"
    assert status(400, min(1.0, 3 * pass_t + 0.1)) == "pass"
    assert status(400, 0.0) == "fail"


def test_no_improvement_attempted(rubric):
    ev, judged = synth.good_student()
    ev.variants = ev.variants[1:]
    ev.run_map = synth.story()
    judged.baseline_samples = judged.student_before_images = None
    imp = _items(score_submission(ev, judged, rubric))["improvement"]
    assert imp.status == "fail" and "No improvement was attempted" in imp.reasons_en[0]
    assert "Step 7" in imp.fix_en


def test_improved_version_that_cannot_run_earns_nothing(rubric):
    ev, judged = synth.good_student()
    ev.variants = ev.variants[:1]
    builds = next(c for c in ev.checks if c.id == "generator_builds")
    builds.status = "warn"
    builds.details["later_failed"] = {"name": "make_generator_model", "origin": "gan.py line 91",
                                      "error": "NameError: name 'layers' is not defined"}
    imp = _items(score_submission(ev, judged, rubric))["improvement"]
    assert imp.status == "fail" and imp.score == 0
    assert "improved version make_generator_model (gan.py line 91) does not run" in \
        imp.reasons_en[0]


def test_improvement_applied_but_not_shown(rubric):
    ev, judged = synth.good_student()
    judged.student_before_images = None
    judged.figures = judged.figures[:1]
    imp = _items(score_submission(ev, judged, rubric))["improvement"]
    assert imp.status == "partial" and "does not show the images before and after" in \
        " ".join(imp.reasons_en)
    assert "redefined in cell 45" in imp.reasons_en[0]


def test_improvement_not_better_or_worse_is_partial(rubric):
    ev, judged = synth.good_student()
    judged.student_before_images = synth.grid(9, 13, seed=7)
    imp = _items(score_submission(ev, judged, rubric))["improvement"]
    assert imp.status == "partial" and "not visibly better" in imp.reasons_en[-1]
    judged.student_before_images = synth.grid(16, 16, seed=7)
    imp = _items(score_submission(ev, judged, rubric))["improvement"]
    assert imp.status == "partial" and "worse" in imp.reasons_en[-1]


def test_improvement_without_eye_scores_compares_classifier_score(rubric):
    """More "recognizable" images that are all one class are not an improvement."""
    ev, judged = synth.good_student()
    judged.student_before_images = synth.judge_dict(400, 0.30, seed=3)
    judged.student_after_images = synth.judge_dict(400, 0.45, seed=4, classes=1)
    imp = _items(score_submission(ev, judged, rubric))["improvement"]
    assert imp.numbers["difference"]["metric"] == "classifier_score"
    assert imp.status == "partial" and "Classifier score" in imp.reasons_en[1]
    assert "분류기 점수" in imp.reasons_ko[1]
    judged.student_after_images = synth.judge_dict(400, 0.45, seed=4)
    assert _items(score_submission(ev, judged, rubric))["improvement"].status == "pass"


def test_gif_missing_but_referenced(rubric):
    ev, judged = synth.good_student()
    judged.gif_info, judged.gif_frames = None, []
    ev.artifacts = [a for a in ev.artifacts if a.kind != "gif"]
    ev.missing_artifacts = ["cifar10/cifar10_dcgan.gif"]
    prog = _items(score_submission(ev, judged, rubric))["training_progress"]
    assert _part(prog, "gif")["status"] == "partial"
    assert any("cifar10_dcgan.gif" in r and "not in the submission" in r for r in prog.reasons_en)
    ev.missing_artifacts = []
    prog = _items(score_submission(ev, judged, rubric))["training_progress"]
    assert _part(prog, "gif")["status"] == "fail" and "GIF" in prog.fix_en


def test_gif_flat_or_unreadable(rubric):
    ev, judged = synth.good_student()
    judged.gif_frames = synth.rising_frames(12, top=0.0)
    prog = _items(score_submission(ev, judged, rubric))["training_progress"]
    assert _part(prog, "gif")["status"] == "partial"
    judged.gif_info.readable, judged.gif_info.error = False, "The file x.gif is damaged."
    prog = _items(score_submission(ev, judged, rubric))["training_progress"]
    assert _part(prog, "gif")["status"] == "fail"
    assert any("x.gif is damaged" in r for r in prog.reasons_en)
    assert "Re-create" in prog.fix_en


def test_colour_mapped_gif_passes_only_on_a_clear_rise_of_its_channel(rubric):
    ev, judged = synth.good_student()
    judged.gif_info.colormapped = True  # frames judged as the grey channel they show
    prog = _items(score_submission(ev, judged, rubric))["training_progress"]
    assert _part(prog, "gif")["status"] == "pass"
    assert any("grey images" in r for r in prog.reasons_en)
    judged.gif_frames = synth.rising_frames(12, top=0.0)  # the channel does not improve
    prog = _items(score_submission(ev, judged, rubric))["training_progress"]
    assert _part(prog, "gif")["status"] == "partial"
    assert any("colour map" in r for r in prog.reasons_en)


def test_the_better_of_the_two_runs_plots_shows_that_training_went_right(rubric):
    ev, judged = synth.good_student()
    away = [0.9 + 0.09 * i / 199 for i in range(200)]  # the final run: away from 0.5
    judged.history = synth.shown_history(away, origin="v2/train_history_0049.png")
    prog = _items(score_submission(ev, judged, rubric))["training_progress"]
    assert _part(prog, "fake_accuracy_trend")["status"] == "fail"
    judged.baseline_history = synth.shown_history(synth.fake_accuracy_curve(200, seed=3),
                                                  origin="train_history_0049.png")
    prog = _items(score_submission(ev, judged, rubric))["training_progress"]
    assert _part(prog, "fake_accuracy_trend")["status"] == "pass"
    assert any("first run's plot (train_history_0049.png)" in r for r in prog.reasons_en)
    back = JudgedEvidence.from_json(judged.to_json())  # kept for re-scoring
    assert back.baseline_history.origin == "train_history_0049.png"


def test_damaged_gif_is_judged_on_its_intact_frames_and_says_so(rubric):
    ev, judged = synth.good_student()
    judged.gif_info.damaged, judged.gif_info.n_frames = True, 12
    prog = _items(score_submission(ev, judged, rubric))["training_progress"]
    assert _part(prog, "gif")["status"] == "pass"
    assert any("damaged after frame 12" in r for r in prog.reasons_en)
    assert any("손상" in r for r in prog.reasons_ko)


def test_fake_accuracy_read_from_the_plot_decides_the_trend(rubric):
    ev, judged = synth.good_student()
    judged.history = synth.shown_history([min(1.0, 0.6 + 0.4 * i / 200) for i in range(200)])
    prog = _items(score_submission(ev, judged, rubric))["training_progress"]
    assert _part(prog, "fake_accuracy_trend") == {**_part(prog, "fake_accuracy_trend"),
                                                  "status": "fail",
                                                  "evidence": "student_history_plot"}
    assert any("away from 0.5" in r for r in prog.reasons_en)


@pytest.mark.parametrize("final,half,borderline", [
    (0.62, 0.03, True),    # the 0.6 edge of "settled" lies inside [0.59, 0.65]
    (0.62, 0.01, False),   # [0.61, 0.63]: "hovers" everywhere
    (0.90, 0.02, False),   # [0.88, 0.92]: "stays far" everywhere
    (0.86, 0.03, True),    # the 0.85 edge of "too far" lies inside [0.83, 0.89]
])
def test_a_reading_within_its_precision_of_a_threshold_is_called_borderline(
        rubric, final, half, borderline):
    """The plot reader's interval on the final level: the point reading still decides, and
    the report says when the verdict could change inside the interval."""
    ev, judged = synth.good_student()
    curve = [final + 0.01 * ((i * 7) % 5 - 2) for i in range(200)]  # flat, no trend
    judged.history = synth.shown_history(curve)
    judged.history.level_uncertainty = [half - 0.01] * 200
    judged.history.level_base = 0.01
    prog = _items(score_submission(ev, judged, rubric))["training_progress"]
    nums = prog.numbers["fake_accuracy_trend"]
    low, high = nums["final_level_interval"]
    assert low == pytest.approx(final - half, abs=2e-3) and high == pytest.approx(final + half, abs=2e-3)
    assert nums["borderline"] is borderline
    assert any("This is close" in r for r in prog.reasons_en) is borderline
    assert any("경계에 가깝습니다" in r for r in prog.reasons_ko) is borderline
    without = synth.shown_history(curve)  # an older reading without the interval
    judged.history = without
    again = _items(score_submission(ev, judged, rubric))["training_progress"]
    assert again.status == prog.status and "borderline" not in again.numbers["fake_accuracy_trend"]


@pytest.mark.parametrize("reason,status", [
    ("no axes found", "fail"), ("no fake-accuracy series identified", "partial"),
    ("tick labels unreadable", "needs_review")])
def test_unreadable_history_plots(rubric, reason, status):
    ev, judged = synth.good_student()
    judged.history = synth.shown_history([], ok=False, reason=reason)
    prog = _items(score_submission(ev, judged, rubric))["training_progress"]
    assert _part(prog, "fake_accuracy_trend")["status"] == status
    if status == "needs_review":
        assert prog.status == "needs_review" and prog.pending == 5 and prog.score == 5
        assert reason in prog.review_reason_en


def test_no_history_plot_fails_the_trend_part(rubric):
    ev, judged = synth.good_student(steps=150)
    judged.history = None
    prog = _items(score_submission(ev, judged, rubric))["training_progress"]
    assert _part(prog, "fake_accuracy_trend")["status"] == "fail"
    assert "draw_train_history" in prog.fix_en
    ev, judged = synth.good_student(steps=4000)  # --full measured the trend: shown, it passes
    judged.history = None
    prog = _items(score_submission(ev, judged, rubric))["training_progress"]
    part = _part(prog, "fake_accuracy_trend")
    assert part["status"] == "partial" and part["evidence"] == "grader_history"


def test_judged_evidence_json_round_trip_and_dict_input(rubric):
    ev, judged = synth.good_student()
    back = JudgedEvidence.from_json(judged.to_json())
    assert back == judged
    g1 = score_submission(ev, judged, rubric)
    g2 = score_submission(ev, json.loads(judged.to_json()), rubric)
    assert g1 == g2
    json.dumps(g1.to_dict())  # plain JSON all the way down


def test_missing_gate_check_does_not_block(rubric):
    ev, judged = synth.good_student()
    ev.checks = []
    ev.artifacts.append(Artifact("other", "notes.txt"))
    g = score_submission(ev, judged, rubric)
    assert g.score == g.max_score


def test_non_finite_history_is_not_a_crash(rubric):
    ev, judged = synth.good_student()
    judged.history = synth.shown_history([float("nan")] * 200)
    prog = _items(score_submission(ev, judged, rubric))["training_progress"]
    assert _part(prog, "fake_accuracy_trend")["status"] == "needs_review"


def test_contract_with_the_real_judge_record(rubric):
    """Dicts from grader.judge.metrics (pure numpy path, no classifier) score without surprises."""
    metrics = pytest.importorskip("grader.judge.metrics")
    import numpy as np

    rng = np.random.default_rng(0)

    def judged_set(n, sharp):
        logits = rng.normal(0, 1, (n, 10)) + sharp * np.eye(10)[rng.integers(0, 10, n)]
        probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
        res = metrics.score_predictions(probs, rng.normal(size=(n, 8)), tau=0.7,
                                        class_names=synth.CLASS_NAMES, reference_stats=None)
        return JudgeResult.from_dict(json.loads(json.dumps(res.to_dict())))  # via a file

    ev, judged = synth.good_student()
    judged.student_before_images = judged_set(500, 2.0)
    judged.student_images = judged.student_after_images = judged_set(500, 6.0)
    g = score_submission(ev, judged, rubric)
    items = _items(g)
    assert judged.student_images.to_dict()["fcd"] is None  # NaN FCD as null, read back as NaN
    assert items["recognizable"].status == "pass", items["recognizable"].reasons_en
    assert items["improvement"].status == "pass", items["improvement"].reasons_en


def test_evidence_warnings_are_korean_in_the_korean_notes(rubric):
    ev, judged = synth.good_student()
    ev.warnings = [Msg("No function definitions were found in the code.", "함수 정의 없음"),
                   plain("an English-only warning")]
    g = score_submission(ev, judged, rubric)
    notes = [(n.en, n.ko) for n in g.warnings if n.code == "evidence"]
    assert notes == [("No function definitions were found in the code.", "함수 정의 없음"),
                     ("an English-only warning", "an English-only warning")]


def test_unverified_training_earns_at_most_partial_and_asks_for_review(rubric):
    """Models that could not cross to the trusted process trained in the student's process."""
    ev, judged = synth.good_student()
    for v in ev.variants:
        v.verified = False
    g = score_submission(ev, judged, rubric)
    for item in g.items:
        assert item.status == "needs_review", item.id
        assert item.score == item.max_score / 2 and item.pending == item.max_score / 2
        assert "not independently checked" in item.review_reason_en
    assert g.score == 15 and g.pending_points == 15


def test_a_short_gif_passes_when_its_last_frame_is_clearly_better_than_its_first(rubric):
    ev, judged = synth.good_student()
    fractions = [0.0, 0.5, 0.4, 0.9]  # rising, but 4 frames are too few for a rank test
    judged.gif_frames = [synth.judge_dict(16, f, seed=k) for k, f in enumerate(fractions)]
    judged.gif_info.n_frames = 4
    part = _part(_items(score_submission(ev, judged, rubric))["training_progress"], "gif")
    assert part["status"] == "pass"
    judged.gif_frames = [synth.judge_dict(16, f, seed=k)
                         for k, f in enumerate([0.4, 0.5, 0.4, 0.5])]  # barely moves
    part = _part(_items(score_submission(ev, judged, rubric))["training_progress"], "gif")
    assert part["status"] in ("needs_review", "partial")


def test_items_wait_for_an_instructor_when_the_shown_evidence_was_not_judged(rubric):
    """The student's grids exist but their judging did not come back: not a fail."""
    ev, _ = synth.good_student()
    ev.artifacts = [Artifact(kind="samples", origin="nb.ipynb cell 40 output 0",
                             file="intake/embedded/cell40_out0.png")]
    judged = JudgedEvidence(shown_error="the judging process ended without a result (timeout)")
    items = _items(score_submission(ev, judged, rubric))
    for name in ("recognizable", "training_progress"):
        assert items[name].status == "needs_review", name
        assert "timeout" in items[name].review_reason_en
    judged.shown_error = ""  # judged and nothing found: the ordinary verdicts
    assert _items(score_submission(ev, judged, rubric))["recognizable"].status != "needs_review"
    ev.artifacts = []  # nothing shown at all: nothing to wait for
    judged.shown_error = "x"
    assert _items(score_submission(ev, judged, rubric))["recognizable"].status != "needs_review"
