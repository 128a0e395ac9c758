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


def test_good_student_passes_everything(rubric):
    ev, judged = synth.good_student()
    g = score_submission(ev, judged, rubric)
    items = _items(g)
    assert {i.status for i in g.items} == {"pass"}, [(i.id, i.reasons_en) for i in g.items]
    assert g.score == g.max_score == 30
    assert items["recognizable"].evidence == "grader_run"
    assert items["training_progress"].evidence == "student_gif+grader_history"
    assert items["improvement"].numbers["difference"]["ci_low"] > 0
    for i in g.items:
        assert i.reasons_en and i.reasons_ko and all(_hangul(r) for r in i.reasons_ko)
    assert not g.review_needed


def test_fashion_mnist_leftover_fails_gates(rubric):
    ev, judged = synth.fashion_leftover()
    g = score_submission(ev, judged, rubric)
    assert g.score == 0
    for item in g.items:
        assert item.status == "fail" and item.evidence == "none"
        assert "generator_output_shape" in item.reasons_en[0]
        assert "검사를 통과하지 못했습니다" in item.reasons_ko[0]
    assert any(n.code == "check:fashion_mnist_leftover" for n in g.warnings)


def test_accuracy_bug_smoothing_one_frame_gif_is_partial(rubric):
    ev, judged = synth.accuracy_bug_smoothing_one_frame()
    g = score_submission(ev, judged, rubric)
    items = _items(g)
    prog = items["training_progress"]
    assert prog.status == "partial"
    parts = {p["id"]: p["status"] for p in prog.parts}
    assert parts == {"gif": "partial", "fake_accuracy_trend": "pass"}
    assert prog.score == pytest.approx(10 * (0.5 * 0.5 + 0.5 * 1.0))
    assert any("only 1 frame" in r for r in prog.reasons_en)
    assert any("accuracy_function" in r for r in prog.reasons_en)  # the bug is explained
    assert items["improvement"].status == "pass"  # label smoothing helped, CI > 0
    assert any(n.code == "check:accuracy_function" for n in g.warnings)
    assert 0 < g.score < g.max_score


def test_hostile_final_timeout_scores_the_rest(rubric):
    ev, judged = synth.hostile_final_timeout()
    g = score_submission(ev, judged, rubric)
    items = _items(g)
    assert items["recognizable"].status == "pass"  # the baseline run is still the grader's own
    assert items["recognizable"].numbers["variant"] == "baseline"
    assert items["training_progress"].status == "pass"
    imp = items["improvement"]
    assert imp.status == "inconclusive"
    assert "600 s time limit" in imp.reasons_en[0]
    assert any(n.code == "variant" and "time limit" in n.en for n in g.warnings)
    assert g.review_needed


def test_quick_mode_does_not_fail_a_good_student(rubric):
    ev, judged = synth.good_student(steps=400)  # below authoritative_min_steps
    judged.final_samples = synth.judge_dict(1000, 0.03, seed=1)  # briefly trained: poor images
    judged.baseline_samples = synth.judge_dict(1000, 0.03, seed=2)
    judged.student_images = None
    ev.artifacts = []
    judged.gif_info, judged.gif_frames = None, []
    g = score_submission(ev, judged, rubric)
    items = _items(g)
    assert items["recognizable"].status == "inconclusive"
    assert items["improvement"].status == "inconclusive"
    assert all(i.status != "fail" for i in g.items if i.id != "training_progress")
    trend = next(p for p in items["training_progress"].parts if p["id"] == "fake_accuracy_trend")
    assert trend["status"] in ("pass", "inconclusive")


def test_short_run_with_student_plot_settles_trend(rubric):
    ev, judged = synth.good_student(steps=120)  # below min_trend_steps
    g = score_submission(ev, judged, rubric)
    prog = _items(g)["training_progress"]
    trend = next(p for p in prog.parts if p["id"] == "fake_accuracy_trend")
    assert trend["status"] == "pass" and trend["evidence"] == "student_history_plot"
    ev.artifacts = [a for a in ev.artifacts if a.kind != "history_plot"]
    g = score_submission(ev, judged, rubric)
    trend = next(p for p in _items(g)["training_progress"].parts if p["id"] == "fake_accuracy_trend")
    assert trend["status"] == "inconclusive"


def test_collapsed_generator_fails(rubric):
    ev, judged = synth.good_student()
    judged.final_samples = synth.judge_dict(1000, 0.4, classes=1)
    g = score_submission(ev, judged, rubric)
    rec = _items(g)["recognizable"]
    assert rec.status == "fail" and "mode collapse" in rec.reasons_en[1]


def test_near_copies_fail_as_collapse_unless_the_images_fail_anyway(rubric):
    ev = Evidence(submission="images_only", isolation="subprocess", checks=synth.checks())
    limit = next(i for i in rubric.items if i.id == "recognizable").threshold("max_near_copy_share")

    def rec(n: int, fraction: float, copies: float):
        judged = JudgedEvidence(student_images=dataclasses.replace(
            synth.judge_dict(n, fraction), near_copy_fraction=copies))
        return _items(score_submission(ev, judged, rubric))["recognizable"]

    twins = rec(16, 0.5, limit)  # half recognized, but the grid repeats a few images
    assert twins.status == "fail" and "twin" in twins.reasons_en[1]
    assert twins.numbers["near_copy_fraction"] == limit
    assert rec(400, 0.8, limit / 2).status == "pass"  # a few look-alikes are not collapse
    blobs = rec(400, 0.0, 1.0)  # untrained look-alike blobs: "not recognizable" is the news
    assert blobs.status == "fail" and "twin" not in " ".join(blobs.reasons_en)


def test_small_evidence_is_conservative(rubric):
    item = next(i for i in rubric.items if i.id == "recognizable")
    pass_t, fail_t = item.threshold("pass_fraction"), item.threshold("fail_fraction")
    ev = Evidence(submission="images_only", isolation="subprocess", checks=synth.checks())

    def status(n: int, fraction: float) -> str:
        judged = JudgedEvidence(student_images=synth.judge_dict(n, fraction))
        return _items(score_submission(ev, judged, rubric))["recognizable"].status

    above = next(k for k in range(1, 17) if k / 16 > pass_t)  # one 4x4 grid, just above
    judged = JudgedEvidence(student_images=synth.judge_dict(16, above / 16))
    rec = _items(score_submission(ev, judged, rubric))["recognizable"]
    assert rec.status == "inconclusive" and rec.evidence == "student_images"
    assert status(16, 0.0) == "inconclusive"  # 16 tiles cannot prove failure either
    assert status(400, min(1.0, 3 * pass_t + 0.1)) == "pass"
    assert status(400, 0.0) == "fail"
    assert status(1000, (pass_t + fail_t) / 2) == "partial"


def test_trusted_fail_beats_student_pass(rubric):
    ev, judged = synth.good_student()
    judged.final_samples = synth.judge_dict(1000, 0.0)
    judged.checkpoint_samples = synth.judge_dict(1000, 0.0)
    judged.student_images = synth.judge_dict(400, 0.6)  # pasted real photos?
    rec = _items(score_submission(ev, judged, rubric))["recognizable"]
    assert rec.status == "fail" and rec.evidence == "grader_run"
    assert rec.numbers["sources"]["student_images"]["status"] == "pass"


def test_no_improvement_attempted(rubric):
    ev, judged = synth.good_student()
    ev.variants = ev.variants[1:]
    judged.baseline_samples = None
    imp = _items(score_submission(ev, judged, rubric))["improvement"]
    assert imp.status == "fail" and "No improvement was attempted" in imp.reasons_en[0]


def test_improved_version_that_cannot_run_is_inconclusive_not_absent(rubric):
    ev, judged = synth.good_student()
    ev.variants = ev.variants[:1]
    judged.final_samples, judged.baseline_samples = judged.baseline_samples, None
    builds = next(c for c in ev.checks if c.id == "generator_builds")
    builds.status = "warn"
    builds.details["later_failed"] = {"name": "make_generator_model", "origin": "gan.py line 91",
                                      "error": "Timeout: took longer than 60 s"}
    imp = _items(score_submission(ev, judged, rubric))["improvement"]
    assert imp.status == "inconclusive"
    assert "improved version make_generator_model (gan.py line 91) could not be run" in \
        imp.reasons_en[0]
    assert "No improvement was attempted" not in imp.reasons_en[0]


def test_improvement_not_shown_better(rubric):
    ev, judged = synth.good_student()
    judged.baseline_samples = synth.judge_dict(1000, 0.40, seed=9)
    imp = _items(score_submission(ev, judged, rubric))["improvement"]
    assert imp.status == "partial" and "not shown to be better" in imp.reasons_en[0]
    judged.baseline_samples = synth.judge_dict(1000, 0.60, seed=9)
    assert _items(score_submission(ev, judged, rubric))["improvement"].status == "fail"


def test_improvement_compares_classifier_score_not_confident_collapse(rubric):
    """More "recognizable" images that are all one class are not an improvement."""
    ev, judged = synth.good_student()
    judged.baseline_samples = synth.judge_dict(1000, 0.30, seed=3)  # varied: all 10 classes
    judged.final_samples = synth.judge_dict(1000, 0.45, seed=4, classes=1)  # one class only
    imp = _items(score_submission(ev, judged, rubric))["improvement"]
    assert imp.numbers["compared_by"] == "classifier_score"
    assert imp.numbers["recognizable_after"] > imp.numbers["recognizable_before"]
    assert imp.status == "fail" and "Classifier score" in imp.reasons_en[0]
    assert "분류기 점수" in imp.reasons_ko[0]
    judged.final_samples = synth.judge_dict(1000, 0.45, seed=4)  # varied and more confident
    assert _items(score_submission(ev, judged, rubric))["improvement"].status == "pass"


def test_quick_run_worse_is_inconclusive_and_says_so(rubric):
    ev, judged = synth.good_student(steps=150)
    judged.baseline_samples = synth.judge_dict(512, 0.45, seed=3)
    judged.final_samples = synth.judge_dict(512, 0.30, seed=4)
    imp = _items(score_submission(ev, judged, rubric))["improvement"]
    assert imp.status == "inconclusive"
    assert "scores lower" in imp.reasons_en[0] and "no difference" not in imp.reasons_en[0]
    judged.final_samples = synth.judge_dict(512, 0.45, seed=4)
    imp = _items(score_submission(ev, judged, rubric))["improvement"]
    assert imp.status == "inconclusive" and "no difference" in imp.reasons_en[0]


def test_improvement_falls_back_to_fraction_without_probabilities(rubric):
    ev, judged = synth.good_student()
    for r in (judged.baseline_samples, judged.final_samples):
        for p in r.per_image:
            p.probs = []
    imp = _items(score_submission(ev, judged, rubric))["improvement"]
    assert imp.numbers["compared_by"] == "recognizable_fraction"
    assert "Recognizable images" in imp.reasons_en[0]


def test_gif_missing_but_referenced(rubric):
    ev, judged = synth.good_student()
    judged.gif_info, judged.gif_frames = None, []
    ev.artifacts = [a for a in ev.artifacts if a.kind != "gif"]
    ev.missing_artifacts = ["cifar10/cifar10_dcgan.gif"]
    prog = _items(score_submission(ev, judged, rubric))["training_progress"]
    gif = next(p for p in prog.parts if p["id"] == "gif")
    assert gif["status"] == "partial" and gif["evidence"] == "grader_frames"  # grader saw it rise
    assert any("cifar10_dcgan.gif" in r and "not in the submission" in r for r in prog.reasons_en)
    judged.grader_frames = []
    prog = _items(score_submission(ev, judged, rubric))["training_progress"]
    assert next(p for p in prog.parts if p["id"] == "gif")["status"] == "fail"


def test_gif_flat_or_unreadable(rubric):
    ev, judged = synth.good_student()
    judged.gif_frames = synth.rising_frames(12, top=0.0)
    prog = _items(score_submission(ev, judged, rubric))["training_progress"]
    assert next(p for p in prog.parts if p["id"] == "gif")["status"] == "partial"
    judged.gif_info.readable, judged.gif_info.error = False, "The file x.gif is damaged."
    prog = _items(score_submission(ev, judged, rubric))["training_progress"]
    assert next(p for p in prog.parts if p["id"] == "gif")["status"] == "fail"
    assert any("x.gif is damaged. Re-create" in r for r in prog.reasons_en)
    assert any("손상" in r for r in prog.reasons_ko)


def test_damaged_gif_is_judged_on_its_intact_frames_and_says_so(rubric):
    ev, judged = synth.good_student()
    judged.gif_info.damaged, judged.gif_info.n_frames = True, 12
    prog = _items(score_submission(ev, judged, rubric))["training_progress"]
    assert next(p for p in prog.parts if p["id"] == "gif")["status"] == "pass"
    assert any("damaged after frame 12" in r for r in prog.reasons_en)
    assert any("손상" in r for r in prog.reasons_ko)


def test_fake_accuracy_moving_away_fails(rubric):
    ev, judged = synth.good_student()
    for v in ev.variants:
        v.history.fake_accuracy = [min(1.0, 0.6 + 0.4 * i / 4000) for i in range(4000)]
    trend = next(p for p in _items(score_submission(ev, judged, rubric))["training_progress"].parts
                 if p["id"] == "fake_accuracy_trend")
    assert trend["status"] == "fail"


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


def test_non_finite_history_is_inconclusive_not_a_crash(rubric):
    ev, judged = synth.good_student()
    ev.artifacts = [a for a in ev.artifacts if a.kind != "history_plot"]
    for v in ev.variants:
        v.history.fake_accuracy = [float("nan")] * 4000
    prog = _items(score_submission(ev, judged, rubric))["training_progress"]
    trend = next(p for p in prog.parts if p["id"] == "fake_accuracy_trend")
    assert trend["status"] == "inconclusive"


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
    judged.final_samples, judged.baseline_samples = judged_set(500, 6.0), judged_set(500, 2.0)
    judged.student_images = judged_set(16, 6.0)
    g = score_submission(ev, judged, rubric)
    items = _items(g)
    assert judged.final_samples.to_dict()["fcd"] is None  # NaN FCD as null, read back as NaN
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
