"""Ship new judge weights: calibrate them aside, check them, then replace the shipped judge.

Usage (after ``reference.train_classifier --export-to runs/classifier/best.keras``)::

    nice -n 10 .venv/bin/python -m reference.ship_judge --weights runs/classifier/best.keras

Steps: fold the candidate's batch norms into its convs (``train_classifier.fold_batchnorm``:
the same function, ~1.26x faster to run), build horizontal-flip averaging into it
(``grader.judge.network.with_flip_average``: each image and its mirror, features averaged)
and save it into ``runs/classifier/stage/``;
calibrate it there
(``reference.calibrate_judge``: temperature, tau, out-of-distribution gate, test stats);
refuse it when uniform noise or the untrained reference generator's images count as
recognizable for more than ``--max-noise`` (3%) of 1,000 images (session 1's epoch-13
weights called 27.9% of noise "frog" even through the out-of-distribution gate; the shipped
epoch-30 weights call 2.0% of it "frog", and ``reference.calibrate_rubric`` puts the rubric's
fail threshold above what noise reaches), or when its test accuracy is below the shipped
judge's (``--allow-worse`` overrides); otherwise move the weights and the three calibration
files into ``grader/assets/judge/`` and the report into ``reference/classifier/``.
Then re-run ``reference.judge_validity`` and ``reference.calibrate_rubric``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
from pathlib import Path

import numpy as np

from grader.judge.calibration import judge_files
from reference.calibrate_judge import REPORT_PATH, calibrate
from reference.train_classifier import DEFAULT_DATA, ROOT

STAGE = ROOT / "runs" / "classifier" / "stage"


def untrained_generator_images(n: int = 1000, seed: int = 0) -> np.ndarray:
    """Images of the untrained reference generator (the floor every judge must score ~0)."""
    import keras

    from reference.judge_validity import generate
    from reference.solution import make_generator_model

    keras.utils.set_random_seed(seed)
    return generate(make_generator_model(), n, seed)


def stage_weights(candidate: Path, to: Path) -> None:
    """Save ``candidate`` at ``to`` in its shipped form: batch norms folded, flip averaging built in.

    Either step is skipped when the candidate has it already (re-shipping the shipped file).
    """
    import keras

    from grader.judge.network import with_flip_average
    from reference.train_classifier import fold_batchnorm

    model = keras.saving.load_model(candidate, compile=False, safe_mode=True)
    if any(isinstance(layer, keras.layers.BatchNormalization) for layer in model.layers):
        model = fold_batchnorm(model)
    with_flip_average(model).save(to)


def check_candidate(stage: Path, cal: dict, max_noise: float) -> list[str]:
    """Reasons to refuse the staged judge (empty when it may ship)."""
    from grader.judge.classifier import load_judge
    from grader.judge.metrics import score_images

    problems = []
    noise = cal["noise_recognized_with_gate"]
    if noise > max_noise:
        problems.append(f"uniform noise: {noise:.1%} recognizable (> {max_noise:.1%})")
    files = judge_files()
    judge = load_judge(stage / files.weights.name, stage / files.calibration.name,
                       stage / files.test_stats.name)
    untrained = score_images(untrained_generator_images(), judge, n_boot=100)
    cal["untrained_generator_recognized"] = untrained.recognizable_fraction
    if untrained.recognizable_fraction > max_noise:
        problems.append(f"untrained generator: {untrained.recognizable_fraction:.1%} "
                        f"recognizable (> {max_noise:.1%})")
    return problems


def main(argv: list[str] | None = None) -> int:
    """Command line; returns 0 when the judge was replaced, 1 when the candidate was refused."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--weights", type=Path, default=ROOT / "runs" / "classifier" / "best.keras")
    p.add_argument("--data", default=DEFAULT_DATA)
    p.add_argument("--max-noise", type=float, default=0.03)
    p.add_argument("--allow-worse", action="store_true")
    p.add_argument("--dry-run", action="store_true", help="calibrate and check, do not ship")
    a = p.parse_args(argv)
    shutil.rmtree(STAGE, ignore_errors=True)
    STAGE.mkdir(parents=True)
    stage_weights(a.weights, STAGE / judge_files().weights.name)
    cal = calibrate(a.data, STAGE / judge_files().weights.name, asset_dir=STAGE,
                    report_path=STAGE / REPORT_PATH.name)
    problems = check_candidate(STAGE, cal, a.max_noise)
    try:
        shipped = json.loads(judge_files().calibration.read_text())["test_accuracy"]
    except (OSError, ValueError, KeyError):
        shipped = 0.0
    if cal["test_accuracy"] < shipped and not a.allow_worse:
        problems.append(f"test accuracy {cal['test_accuracy']:.2%} < shipped {shipped:.2%}")
    summary = {k: cal[k] for k in ("test_accuracy", "heldout_accuracy", "temperature", "tau",
                                   "ece_test_before", "ece_test_after", "test_precision_at_tau",
                                   "test_recognized_with_gate", "noise_confident_without_gate",
                                   "noise_recognized_with_gate",
                                   "untrained_generator_recognized")}
    print(json.dumps(summary, indent=1))
    if problems:
        print("REFUSED: " + "; ".join(problems))
        return 1
    if a.dry_run:
        print(f"would ship (dry run); staged in {STAGE}")
        return 0
    files = judge_files()
    for name in (files.test_stats.name, files.class_stats.name, files.calibration.name,
                 files.weights.name):
        os.replace(STAGE / name, files.weights.parent / name)
    os.replace(STAGE / REPORT_PATH.name, REPORT_PATH)
    print(f"shipped: {files.weights.parent} (test accuracy {cal['test_accuracy']:.2%}, "
          f"was {shipped:.2%})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
