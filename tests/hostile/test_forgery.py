"""Issue 17, attacks 1 and 2: a forged trainer and a lookup generator change nothing that counts.

Both submissions go through :func:`grader.sandbox.orchestrate.run_isolated` with a tiny
budget, under bubblewrap as ``grade`` runs them. What the grade rests on (histories,
samples) comes from the trusted process, which never imports student code.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.assignment import get_assignment
from grader.data import load_dataset
from grader.intake import load_submission
from grader.sandbox.orchestrate import RunRequest, run_isolated

FIXTURES = Path(__file__).resolve().parent / "fixtures"
STEPS = 6


def _run(name: str, tmp: Path):
    pytest.importorskip("tensorflow")
    assignment = get_assignment()
    sub = load_submission(FIXTURES / name, tmp / "intake")
    images = load_dataset("bundled", assignment=assignment).x_train[:256]
    req = RunRequest(steps=STEPS, batch_size=8, sample_every=3, n_samples=16,
                     check_timeout_s=120, train_timeout_s=300, checkpoint_timeout_s=60,
                     threads=2, memory_mb=3072)
    return run_isolated(sub, req, tmp / "work", images, assignment)


@pytest.fixture(scope="module")
def forged(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("forged")
    return _run("forged_trainer.py", tmp), tmp


@pytest.fixture(scope="module")
def lookup(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("lookup")
    return _run("lookup_generator.py", tmp), tmp


def test_a_forged_trainer_does_not_reach_the_trusted_run(forged):
    run, _ = forged
    assert run.isolation == "bwrap"
    assert run.trusted_models
    final = next(v for v in run.variants if v.name == "final")
    assert final.error is None, final.error
    assert final.verified and final.history.loop == "reference"
    assert final.history.steps == STEPS and len(final.history.fake_accuracy) == STEPS
    assert "HOSTILE patched" in run.logs  # it did try, in its own process


def test_the_student_process_finds_no_training_data(forged):
    run, tmp = forged
    line = next(ln for ln in run.logs.splitlines() if "HOSTILE found:" in ln)
    assert line.rstrip().endswith("nothing"), line
    assert "cannot import reference.trainer" in run.logs
    assert not list((tmp / "work" / "student").glob("*.npy"))  # no data file in its folder


def test_a_lookup_generator_is_refused_by_the_trusted_process(lookup):
    run, _ = lookup
    final = next(v for v in run.variants if v.name == "final")
    assert final.error is not None and "long list of numbers" in final.error
    assert final.samples_file is None  # nothing of its output is judged
