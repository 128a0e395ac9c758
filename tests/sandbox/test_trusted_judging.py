"""The judge runs in the trusted process: same readings as in the parent, checked on the way back.

Issue 20 (memory): the parent no longer loads TensorFlow; the trusted process, which never
imports student code, judges what the student shows while the student's code runs, and
its own samples after training.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from grader.sandbox.trusted.judging import SHOWN_FILE, SHOWN_TILES_FILE, read_shown

ROOT = Path(__file__).resolve().parents[2]
SHAPE = (32, 32, 3)


def _write(box: Path, tiles: np.ndarray) -> None:
    box.mkdir(parents=True, exist_ok=True)
    (box / SHOWN_FILE).write_text(json.dumps({"judged": {}, "origins": ["cell 3"],
                                              "notes": [{"en": "a note", "ko": "메모"}]}))
    np.savez(box / SHOWN_TILES_FILE, tiles=tiles)


def test_read_shown_takes_valid_tiles(tmp_path):
    _write(tmp_path, np.zeros((16, *SHAPE), np.uint8))
    shown = read_shown(tmp_path, SHAPE)
    judged, student, notes = shown.judged, shown.student, shown.notes
    assert student.tiles.shape == (16, *SHAPE) and student.origins == ["cell 3"]
    assert notes[0].text("ko") == "메모" and judged.student_images is None


@pytest.mark.parametrize("bad", [np.zeros((16, *SHAPE), np.float32),
                                 np.zeros((16, 28, 28, 1), np.uint8),
                                 np.zeros((16, 32), np.uint8)])
def test_read_shown_refuses_what_the_parent_did_not_ask_for(tmp_path, bad):
    _write(tmp_path, bad)
    assert read_shown(tmp_path, SHAPE) is None  # the grader then warns (_take_shown)


def test_read_shown_without_a_file_or_with_an_error(tmp_path):
    assert read_shown(tmp_path, SHAPE) is None
    (tmp_path / SHOWN_FILE).write_text(json.dumps({"error": "ValueError: no judge"}))
    assert read_shown(tmp_path, SHAPE) is None


def test_the_trusted_judge_reads_alice_as_the_parent_would(tmp_path):
    pytest.importorskip("tensorflow")
    from grader.assignment import get_assignment
    from grader.data import load_dataset
    from grader.judge.evaluate import judge_runs, judge_shown
    from grader.judge.results import JudgedEvidence
    from grader.pipeline import run_intake
    from grader.sandbox.orchestrate import RunRequest, run_isolated

    assignment = get_assignment()
    work = tmp_path / "work"
    evidence, sub = run_intake(ROOT / "submissions" / "alice", work)
    assert sub is not None
    images = load_dataset("bundled", assignment=assignment).x_train[:256]
    req = RunRequest(steps=4, batch_size=8, sample_every=2, n_samples=16,
                     check_timeout_s=120, train_timeout_s=300, checkpoint_timeout_s=60,
                     threads=2, memory_mb=3072, checkpoint=None,
                     judge={"folder": str(assignment.folder),
                            "shown": {"evidence": evidence.to_dict(), "seed": 0}})
    run = run_isolated(sub, req, work, images, assignment)
    assert run.shown is not None, run.logs[-2000:]
    assert run.judged_runs is not None and run.judged_runs.final_samples is not None
    judged, extra = run.shown.judged, run.shown.student
    assert (work / "judged" / "final_grid.npz").is_file()  # copied back for the report
    assert not (work / "trusted" / "intake").exists()  # the intake's copy is gone again

    here, student, _ = judge_shown(evidence, work, 0, assignment.folder)
    assert judged.student_images is not None and here.student_images is not None
    assert judged.student_images.clear_count == here.student_images.clear_count
    assert judged.student_images.named_count == here.student_images.named_count
    assert np.array_equal(extra.tiles, student.tiles)
    assert (judged.history is None) == (here.history is None)

    evidence.variants = run.variants
    mine, theirs = JudgedEvidence(), JudgedEvidence()
    judge_runs(evidence, work, mine, assignment=assignment.folder)
    judge_runs(evidence, work, theirs, assignment=assignment.folder, done=run.judged_runs)
    assert theirs.final_samples is run.judged_runs.final_samples  # taken, not re-judged
    assert mine.final_samples.named_count == theirs.final_samples.named_count
    assert mine.final_samples.classifier_score == pytest.approx(
        theirs.final_samples.classifier_score, rel=1e-4)


def test_a_judgement_that_did_not_come_back_is_a_warning_not_a_guess(tmp_path):
    from grader.assignment import get_assignment
    from grader.sandbox.orchestrate import _take_shown
    from grader.text import msg

    box, work = tmp_path / "box", tmp_path / "work"
    (box / "intake").mkdir(parents=True)
    (box / SHOWN_FILE).write_text(json.dumps({"error": "DecompressionBombError: too big"}))
    shown, why = _take_shown(box, work, get_assignment(), "ok")
    assert shown is None and "DecompressionBombError" in why
    warning = msg("sandbox.shown_not_judged", why=why)  # what the grader then says
    assert "DecompressionBombError" in warning.en and "사람이 확인" in warning.ko
    assert not (box / "intake").exists()  # the intake's copy is removed either way
    (box / SHOWN_FILE).unlink()
    assert "ended without a result (memory)" in _take_shown(box, work, get_assignment(),
                                                            "memory")[1]


def test_a_notebook_without_code_is_judged_in_a_trusted_process(tmp_path, monkeypatch):
    """No student code runs, but its grid is still hostile data: it is judged in a sandbox."""
    pytest.importorskip("tensorflow")
    import nbformat

    import grader.judge.evaluate as evaluate
    from grader.config import GradeOptions
    from grader.pipeline import grade_submission
    from tests.hostile.notebooks import blobs, grid_png

    nb = nbformat.v4.new_notebook()
    # a syntax error: no usable code, but the call names what the output shows
    cell = nbformat.v4.new_code_cell("generate_and_save_images(generator, 50, 0, seed",
                                     execution_count=1)
    cell.outputs = [nbformat.v4.new_output("display_data", data={
        "image/png": grid_png(blobs(16)), "text/plain": "<Figure>"})]
    nb.cells = [cell]
    path = tmp_path / "nocode.ipynb"
    nbformat.write(nb, str(path))

    def refuse(*_a, **_k):
        raise AssertionError("the grader's own process judged the student's images")

    monkeypatch.setattr(evaluate, "load_judge", refuse)  # the parent never loads the judge
    options = GradeOptions(mode="quick", out_dir=tmp_path / "out", data="bundled")
    grade_submission(path, options)
    judged = json.loads((tmp_path / "out" / "work" / "judged.json").read_text())
    assert judged["student_images"] is not None  # judged, by the trusted process
    assert not (tmp_path / "out" / "work" / "trusted_judge").exists()


def test_a_checkpoint_cut_short_is_refused_in_words(tmp_path):
    """alice's checkpoint with its .data file truncated: no exception, a reason a student reads."""
    pytest.importorskip("tensorflow")
    import shutil

    from grader.sandbox.trusted.restore import restore_checkpoint
    from reference.solution import make_discriminator_model, make_generator_model

    ckpt = tmp_path / "training_checkpoints"
    shutil.copytree(ROOT / "submissions" / "alice" / "training_checkpoints", ckpt)
    data = next(ckpt.glob("*.data-*"))
    data.write_bytes(data.read_bytes()[:100_000])
    got = restore_checkpoint(make_generator_model(), make_discriminator_model(), ckpt)
    assert not got.fits_code
    assert "cut short or damaged" in got.why
