"""Issue 17, attacks 3 and 4: borrowed evidence earns nothing.

Real CIFAR-10 photos shown as "generated samples", a photo grid saved as the history plot
and a checkpoint of another network are graded the way ``grade`` grades a notebook: intake,
the trusted judge, the rubric. The grader's own run is taken as honest here (the code
trains and its images change), so only the evidence decides. Each forged notebook may
score no more than the same notebook with what that code really shows (blobs, its plot).
"""

from __future__ import annotations

import pytest

from grader.data import load_dataset
from grader.evidence import History, VariantRun
from grader.judge.evaluate import judge_evidence
from grader.pipeline import run_intake
from grader.scoring import load_rubric, score_submission

from .notebooks import blobs, grid_png, history_png, notebook


def _grade(nb, tmp):
    pytest.importorskip("tensorflow")
    evidence, _ = run_intake(nb, tmp / "work")
    evidence.variants = [VariantRun("final", "make_generator_model", "make_discriminator_model",
                                    History(gen_loss=[1.0] * 50, disc_loss=[1.2] * 50,
                                            fake_accuracy=[0.9] * 50, steps=50),
                                    verified=True)]
    judged, _ = judge_evidence(evidence, tmp / "work")
    judged.grader_frame_change = 0.1  # an honest run of the code: it trains
    grade = score_submission(evidence, judged, load_rubric())
    return grade, {i.id: i for i in grade.items}


@pytest.fixture(scope="module")
def photos():
    return load_dataset("bundled").x_train[:16]


def test_real_photos_shown_as_samples_earn_nothing(tmp_path, photos):
    honest, honest_items = _grade(notebook(tmp_path / "honest.ipynb", grid_png(blobs()),
                                           history_png()), tmp_path / "h")
    forged, items = _grade(notebook(tmp_path / "forged.ipynb", grid_png(photos),
                                    history_png()), tmp_path / "f")
    rec = items["recognizable"]
    assert rec.status == "fail", rec.reasons_en
    assert any("copies of CIFAR-10" in r for r in rec.reasons_en)
    assert rec.numbers["copy_fraction"] >= 0.9
    assert forged.score <= honest.score
    assert honest_items["recognizable"].status == "fail"  # blobs: not recognizable either


def test_a_photo_grid_saved_as_the_history_plot_earns_no_trend_credit(tmp_path, photos):
    honest, honest_items = _grade(notebook(tmp_path / "honest.ipynb", grid_png(blobs()),
                                           history_png()), tmp_path / "h")
    forged, items = _grade(notebook(tmp_path / "forged.ipynb", grid_png(blobs()),
                                    grid_png(photos)), tmp_path / "f")
    trend = next(p for p in items["training_progress"].parts if p["id"] == "fake_accuracy_trend")
    honest_trend = next(p for p in honest_items["training_progress"].parts
                        if p["id"] == "fake_accuracy_trend")
    assert honest_trend["status"] == "pass", honest_items["training_progress"].reasons_en
    assert trend["status"] != "pass"
    assert forged.score <= honest.score


def test_a_checkpoint_of_another_network_does_not_fit_the_code(tmp_path):
    keras = pytest.importorskip("keras")
    from grader.sandbox.trusted.restore import restore_checkpoint

    def lesson():
        return keras.Sequential([keras.Input((100,)), keras.layers.Dense(8 * 8 * 16),
                                 keras.layers.Reshape((8, 8, 16)),
                                 keras.layers.Conv2DTranspose(3, 5, strides=4, padding="same",
                                                              activation="tanh")])

    def disc():
        return keras.Sequential([keras.Input((32, 32, 3)), keras.layers.Flatten(),
                                 keras.layers.Dense(1)])

    other = keras.Sequential([keras.Input((100,)), keras.layers.Dense(32 * 32 * 3,
                                                                      activation="tanh"),
                              keras.layers.Reshape((32, 32, 3))])
    other.save(tmp_path / "generator.keras")
    restored = restore_checkpoint(lesson(), disc(), tmp_path / "generator.keras")
    assert not restored.fits_code and restored.why
    mine = lesson()  # a trained checkpoint of the same network: every weight differs from init
    mine.set_weights([w + 0.1 for w in mine.get_weights()])
    mine.save(tmp_path / "mine.keras")
    assert restore_checkpoint(lesson(), disc(), tmp_path / "mine.keras").fits_code
