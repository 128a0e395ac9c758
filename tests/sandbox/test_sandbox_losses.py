"""Loss and accuracy checks on fixed logits, run in-process on plain TF functions."""

from __future__ import annotations

import pytest

from grader.sandbox.limits import Limits

tf = pytest.importorskip("tensorflow")
from grader.assignment import get_assignment  # noqa: E402
from grader.sandbox.checks import CheckContext  # noqa: E402
from grader.sandbox.checks.losses import accuracy_function, loss_functions  # noqa: E402

LIMITS = Limits(timeout_s=240, memory_mb=3072)
BCE = tf.keras.losses.BinaryCrossentropy(from_logits=True)
BCE_P = tf.keras.losses.BinaryCrossentropy(from_logits=False)


def _ns(gen, disc, acc=None) -> dict:
    return {"generator_loss": gen, "discriminator_loss": disc, "discriminator_accuracy": acc}


def _ctx(ns: dict, kind: str) -> CheckContext:
    ctx = CheckContext(ns=ns, facts=get_assignment().facts(), seconds=10, seed=0)
    ctx.cache["discriminator_kind"] = kind
    return ctx


def _loss(ns: dict, kind: str) -> dict:
    out = loss_functions(_ctx(ns, kind))
    out["message_en"] = out["message"]["en"]
    return out


def _acc(ns: dict, kind: str) -> dict:
    out = accuracy_function(_ctx(ns, kind))
    out["message_en"] = out["message"]["en"]
    return out


def std_gen(f):
    return BCE(tf.ones_like(f), f)


def std_disc(r, f):
    return BCE(tf.ones_like(r), r) + BCE(tf.zeros_like(f), f)


def test_standard_losses_pass():
    c = _loss(_ns(std_gen, std_disc), "logits")
    assert c["status"] == "pass", c["message_en"]


def test_label_smoothing_and_half_factor_are_variants_not_failures():
    def smooth(r, f):
        return 0.5 * (BCE(tf.ones_like(r) * 0.9, r) + BCE(tf.zeros_like(f), f))

    c = _loss(_ns(std_gen, smooth), "logits")
    assert c["status"] == "pass"
    assert "label smoothing: real target 0.90" in c["message_en"]
    assert "weighted by 0.50" in c["message_en"]


def test_sum_instead_of_mean_warns():
    def summed(f):
        return tf.reduce_sum(tf.nn.sigmoid_cross_entropy_with_logits(tf.ones_like(f), f))

    c = _loss(_ns(summed, std_disc), "logits")
    assert c["status"] == "warn" and "instead of averaging" in c["message_en"]


def test_from_logits_false_on_logits_fails_and_double_sigmoid_warns():
    def prob_gen(f):
        return BCE_P(tf.ones_like(f), f)

    def prob_disc(r, f):
        return BCE_P(tf.ones_like(r), r) + BCE_P(tf.zeros_like(f), f)

    c = _loss(_ns(prob_gen, prob_disc), "logits")
    assert c["status"] == "fail" and "from_logits=False" in c["message_en"]
    ok = _loss(_ns(prob_gen, prob_disc), "probabilities")
    assert ok["status"] == "pass"
    double = _loss(_ns(std_gen, std_disc), "probabilities")
    assert double["status"] == "warn" and "double sigmoid" in double["message_en"]


def test_swapped_labels_fail():
    def swapped(r, f):
        return BCE(tf.zeros_like(r), r) + BCE(tf.ones_like(f), f)

    c = _loss(_ns(std_gen, swapped), "logits")
    assert c["status"] == "fail"


def test_accuracy_rules():
    def at_half(r, f):
        return tf.reduce_mean(tf.cast(r >= 0.5, tf.float32)), tf.reduce_mean(tf.cast(f < 0.5, tf.float32))

    def at_zero(r, f):
        return tf.reduce_mean(tf.cast(r >= 0, tf.float32)), tf.reduce_mean(tf.cast(f < 0, tf.float32))

    bug = _acc({"discriminator_accuracy": at_half}, "logits")
    assert bug["status"] == "warn" and "under-reported" in bug["message_en"]
    assert _acc({"discriminator_accuracy": at_zero}, "logits")[
        "status"] == "pass"
    # with a sigmoid discriminator, 0.5 is the right threshold and 0 is wrong
    assert _acc({"discriminator_accuracy": at_half}, "probabilities")[
        "status"] == "pass"
    assert _acc({"discriminator_accuracy": at_zero}, "probabilities")[
        "status"] == "fail"
    assert _acc({}, "logits")["status"] == "fail"


def test_loss_and_train_step_notes_are_both_kept():
    """Standard losses stood in for missing ones AND the student's train_step ran: the run
    says both (the second note used to replace the first)."""
    from grader.evidence import History, VariantRun
    from grader.sandbox.orchestrate import _note_student_step

    def run() -> VariantRun:
        return VariantRun(name="baseline", generator_fn="g", discriminator_fn="d",
                          history=History())

    both, only_step, neither = run(), run(), run()
    _note_student_step([both], [{"name": "baseline", "standard_losses": ["generator_loss"],
                                 "train_step": {"present": True, "ok": True}}])
    assert "defines no generator_loss" in both.history.loop_note
    assert "your train_step ran" in both.history.loop_note
    _note_student_step([only_step], [{"name": "baseline", "train_step": {
        "present": True, "ok": False, "error": "boom", "error_detail": "Traceback"}}])
    assert only_step.history.loop_note == "your train_step failed in your own process: boom"
    assert only_step.history.loop_note_detail == "Traceback"
    _note_student_step([neither], [{"name": "baseline"}])
    assert neither.history.loop_note == ""
