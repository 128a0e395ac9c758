"""The validity study's ordering checks on synthetic judge results (no model involved)."""

from __future__ import annotations

from types import SimpleNamespace

from reference.judge_validity import Row, ordering_checks, significant_reversals


def _result(fraction: float, n: int = 400, coverage: int = 5, score: float = 2.0,
            fcd: float = 10.0, copies: float = 0.0) -> SimpleNamespace:
    k = round(fraction * n)
    return SimpleNamespace(recognizable_fraction=k / n, class_coverage=coverage,
                           classifier_score=score, fcd=fcd, near_copy_fraction=copies, n=n,
                           named_count=k, clear_count=k // 4, copy_fraction=0.0,
                           per_image=[SimpleNamespace(recognizable=i < k) for i in range(n)])


def _rows(gen_fractions: list[float]) -> list[Row]:
    rows = [Row("real", "real", 0, _result(0.8, coverage=10, score=7.0, fcd=0.2)),
            Row("tiles", "tiles", 0, _result(0.78, coverage=10, score=6.5, fcd=0.6))]
    for i, f in enumerate(gen_fractions):
        rows.append(Row(f"step {i}", "generator", 100 * (i + 1),
                        _result(f, coverage=3 + i, score=1.5 + i, fcd=30.0 - 5 * i)))
    rows += [Row("untrained", "untrained", 0, _result(0.0, coverage=0, score=1.0, fcd=50.0)),
             Row("noise", "noise", 0, _result(0.01, coverage=0, score=1.0, fcd=45.0)),
             Row("collapsed", "collapsed", 0, _result(0.0, coverage=0, score=1.0, fcd=40.0,
                                                      copies=1.0))]
    rows[-2].result.named_count = rows[-2].result.clear_count = 0  # noise: no tile by eye
    rows[0].result.copy_fraction = rows[1].result.copy_fraction = 1.0  # real: in the index
    return rows


def test_rising_generators_pass_every_check():
    checks = ordering_checks(_rows([0.2, 0.3, 0.35, 0.34]))  # last dip is within noise
    assert all(ok for _, ok in checks), [t for t, ok in checks if not ok]


def test_significant_fall_and_first_beats_last_are_caught():
    rows = _rows([0.4, 0.3, 0.2])  # FCD improves while recognizability falls: the judge is off
    gens = [r for r in rows if r.kind == "generator"]
    assert (100, 300) in significant_reversals(gens)
    failed = [t for t, ok in ordering_checks(rows) if not ok]
    assert any("longest-trained" in t and t.startswith("recognizable_fraction") for t in failed)
    assert any("significant" in t for t in failed)


def test_fall_that_fcd_confirms_is_the_generator_not_the_judge():
    rows = _rows([0.2, 0.4, 0.3, 0.45])
    gens = [r for r in rows if r.kind == "generator"]
    gens[2].result.fcd = gens[1].result.fcd + 3  # step 300 really is worse than step 200
    assert (200, 300) in significant_reversals(gens)
    failed = [t for t, ok in ordering_checks(rows) if not ok]
    assert not any("significant" in t for t in failed), failed


def test_near_copies_must_mark_the_collapse_and_nothing_distinct():
    rows = _rows([0.2, 0.3])
    rows[2].result.near_copy_fraction = 0.01  # a generator with a near-identical pair
    failed = [t for t, ok in ordering_checks(rows) if not ok]
    assert failed == [t for t, _ in ordering_checks(rows) if t.startswith("near-copies")]


def test_eye_score_must_see_nothing_in_noise_and_no_copies_in_generated_sets():
    rows = _rows([0.2, 0.3])
    rows[-2].result.named_count = 3  # "noise" with tiles read as plausible
    rows[2].result.copy_fraction = 0.5  # a generator whose samples are CIFAR-10 images
    failed = [t for t, ok in ordering_checks(rows) if not ok]
    assert any(t.startswith("untrained and noise: no tile") for t in failed), failed
    assert any(t.startswith("copies of real images") for t in failed), failed
