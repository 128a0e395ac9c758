"""The shipped classifier orders real > noise, and its calibration belongs to its weights."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from grader.judge.calibration import judge_files

pytestmark = pytest.mark.skipif(
    not all(getattr(judge_files(), f).is_file()
            for f in ("weights", "calibration", "test_stats", "class_stats")),
    reason="shipped judge assets are missing: run reference/train_classifier.py and "
           "reference/calibrate_judge.py",
)


LOCAL_TRAINING = Path(__file__).resolve().parents[2] / "runs" / "classifier" / "ckpt"


@pytest.fixture(scope="module")
def judge():
    from grader.judge.classifier import load_judge

    judge = load_judge()
    if judge.warnings and LOCAL_TRAINING.exists():
        pytest.skip("a local classifier training run (runs/classifier) exported newer weights; "
                    "run: python -m reference.calibrate_judge")
    return judge


def test_calibration_matches_weights(judge):
    assert not judge.warnings, judge.warnings
    assert 0.0 < judge.tau < 1.0 and judge.temperature > 0


def test_small_n_ordering(judge, real_images):
    from grader.judge.metrics import score_images

    n = 200
    rng = np.random.default_rng(0)
    mixed = real_images[rng.permutation(len(real_images))[:n]]  # the subset is sorted by class
    real = score_images(mixed, judge, n_boot=200)
    noise = score_images(rng.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8), judge, n_boot=200)
    collapsed = score_images(np.repeat(mixed[:1], n, axis=0), judge, n_boot=200)
    expected_real = judge.calibration.extra["test_recognized_with_gate"]
    assert real.recognizable_fraction > 0.6 * expected_real
    assert noise.recognizable_fraction < 0.1
    assert real.recognizable_fraction > 2 * noise.recognizable_fraction + 0.05
    assert real.class_coverage >= 5
    assert real.class_coverage > noise.class_coverage
    assert collapsed.class_coverage <= 1
    assert real.classifier_score > max(noise.classifier_score, collapsed.classifier_score)
    assert real.fcd < noise.fcd and real.fcd < collapsed.fcd


def test_real_grid_through_tiles_stays_recognizable(judge, real_images):
    from grader.intake.figures.tiles import extract_tiles
    from grader.judge.metrics import score_images

    from .conftest import lesson_grid

    mixed = real_images[np.random.default_rng(1).permutation(len(real_images))[:64]]
    tiles = np.concatenate([extract_tiles(lesson_grid(mixed[i:])).tiles for i in range(0, 64, 16)])
    direct = score_images(mixed, judge, n_boot=200).recognizable_fraction
    via = score_images(tiles, judge, n_boot=200).recognizable_fraction
    assert via > direct - 0.2
