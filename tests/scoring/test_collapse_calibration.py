"""The mode-collapse rule (one place, shared by the scorer and its calibration) and the
pure parts of ``reference.calibrate_collapse``: no judge, no TensorFlow."""

from __future__ import annotations

import numpy as np
import pytest

from grader.scoring import load_rubric
from grader.scoring.recognizable import (
    CollapseRule,
    class_spread,
    is_collapsed,
    share_lower_bound,
)
from reference import calibrate_collapse as cc

RULE = CollapseRule(min_class_coverage=3, max_top_class_share=0.8, min_recognized=6)


def _flag(hist: list[int], rule: CollapseRule = RULE) -> bool:
    return bool(is_collapsed(*class_spread(hist), rule))


def test_class_spread_of_one_and_of_stacked_histograms():
    n_rec, seen, top = class_spread([0, 6, 0, 2, 0, 0, 0, 0, 0, 0])
    assert (int(n_rec), int(seen), float(top)) == (8, 2, 0.75)
    assert float(class_spread([0] * 10)[2]) == 0.0
    stack = np.array([[0, 6, 0, 2, 0, 0, 0, 0, 0, 0], [1] * 10, [0] * 10])
    n_rec, seen, top = class_spread(stack)
    assert n_rec.tolist() == [8, 10, 0] and seen.tolist() == [2, 10, 0]
    assert top.tolist() == pytest.approx([0.75, 0.1, 0.0])


def test_flag_rule_thresholds_and_their_edges():
    assert _flag([6, 0, 0, 0, 0, 0, 0, 0, 0, 0])          # one class
    assert not _flag([5, 0, 0, 0, 0, 0, 0, 0, 0, 0])      # too few recognized to judge
    assert _flag([3, 3, 0, 0, 0, 0, 0, 0, 0, 0])          # two classes < 3
    assert not _flag([2, 2, 2, 0, 0, 0, 0, 0, 0, 0])      # three classes, top 1/3
    assert _flag([9, 1, 1, 0, 0, 0, 0, 0, 0, 0])          # top share 9/11 > 0.8
    assert not _flag([8, 1, 1, 0, 0, 0, 0, 0, 0, 0])      # top share exactly 0.8
    assert not _flag([1] * 10)
    arrays = is_collapsed(np.array([5, 6, 20]), np.array([1, 1, 10]), np.array([1.0, 1.0, 0.1]),
                          RULE)
    assert arrays.tolist() == [False, True, False]


def test_share_bound_is_clopper_pearson_and_elementwise():
    from scipy.stats import binomtest

    for k, n in ((6, 6), (9, 11), (175, 242), (1, 20)):
        expected = binomtest(k, n).proportion_ci(0.90, method="exact").low  # one-sided 95%
        assert share_lower_bound(n, k / n, 0.95) == pytest.approx(expected, abs=1e-9)
    bounds = share_lower_bound(np.array([0, 10, 10]), np.array([0.0, 0.0, 1.0]), 0.95)
    assert bounds[0] == 0.0 and bounds[1] == 0.0 and bounds[2] == pytest.approx(0.05 ** 0.1)


def test_bound_rule_weighs_the_share_by_how_many_images_show_it():
    rule = CollapseRule(min_class_coverage=3, max_top_class_share=0.5, min_recognized=10,
                        share_confidence=0.95)
    assert not _flag([8, 1, 1, 0, 0, 0, 0, 0, 0, 0], rule)   # 80% of 10: bound 0.49
    assert _flag([9, 1, 1, 0, 0, 0, 0, 0, 0, 0], rule)       # 82% of 11: bound 0.52
    assert not _flag([70, 10, 10, 10, 0, 0, 0, 0, 0, 0], rule.__class__(3, 0.7, 10, 0.95))
    assert _flag([175, 10, 16, 41, 0, 0, 0, 0, 0, 0], rule)  # the one-epoch blobs (72%)
    assert not _flag([100, 80, 60, 20, 0, 0, 0, 0, 0, 0], rule)  # a healthy 38%
    assert _flag([5, 5, 0, 0, 0, 0, 0, 0, 0, 0], rule)       # two classes: coverage still counts


def test_rule_from_the_rubric_item():
    item = load_rubric().item("recognizable")
    rule = CollapseRule.from_item(item)
    assert rule.min_class_coverage == item.threshold("min_class_coverage")
    assert rule.max_top_class_share == item.threshold("max_top_class_share")
    assert rule.min_recognized == item.threshold("collapse_min_recognized")
    assert rule.share_confidence == item.threshold("top_share_confidence") == 0.95


def test_rule_without_a_confidence_compares_the_raw_share():
    import dataclasses

    item = load_rubric().item("recognizable")
    custom = dataclasses.replace(item, thresholds=tuple(
        t for t in item.thresholds if t.name != "top_share_confidence"))
    assert CollapseRule.from_item(custom).share_confidence == 0.0


def test_histograms_skip_unrecognized_and_draws_respect_the_pool():
    labels = np.array([[0, 0, -1, 3], [-1, -1, -1, -1]])
    h = cc.histograms(labels)
    assert h.shape == (2, 10) and h[0].tolist() == [2, 0, 0, 1, 0, 0, 0, 0, 0, 0]
    assert h[1].sum() == 0
    rng = np.random.default_rng(0)
    pool = cc.Pool("p", "collapsed", np.arange(10) % 10, modes=2)
    drawn = cc.draw_labels(pool, 50, 30, rng)
    assert drawn.shape == (30, 50)
    assert max(len(set(row.tolist())) for row in drawn) <= 2
    near = cc.Pool("q", "near", np.array([0, 0, 1, 1, 2, 2]), 1,
                   groups=np.array([[0, 1], [2, 3], [4, 5]]))
    rows = cc.draw_labels(near, 20, 10, rng)
    assert all(len(set(r.tolist())) == 1 for r in rows)  # each draw stays in one group


def test_wilson_upper_bound():
    assert cc.wilson_upper(0.0, 4000) == pytest.approx(0.00067, abs=1e-4)
    assert cc.wilson_upper(0.01, 4000) == pytest.approx(0.01294, abs=1e-4)  # by hand
    assert cc.wilson_upper(0.5, 0) == 1.0


def _cell(kind: str, n: int, flagged: float, modes: int = 0, missed: float = 0.0,
          pool: str = "p") -> cc.Cell:
    return cc.Cell(pool, kind, modes, n, 4000, flagged, missed, 0.0)


def test_summary_and_proposal_on_a_synthetic_table():
    strict = CollapseRule(4, 0.7, 4)    # catches everything, false alarms on small grids
    good = CollapseRule(3, 0.8, 10)     # quiet on healthy, always catches m <= 2
    fair = CollapseRule(3, 0.8, 8)      # as good, flags a few fewer early blobs
    loose = CollapseRule(2, 0.9, 10)    # quiet, but lets m = 2 through
    quiet = CollapseRule(3, 0.9, 10)    # as good, but lets the early blobs pass
    table = {
        strict: [_cell("healthy", 16, 0.15), _cell("collapsed", 16, 0.9, 2),
                 _cell("near", 16, 0.9, 3), _cell("early", 512, 1.0)],
        good: [_cell("healthy", 16, 0.005), _cell("collapsed", 16, 0.6, 2),
               _cell("near", 16, 0.6, 3), _cell("early", 512, 0.99)],
        fair: [_cell("healthy", 16, 0.005), _cell("collapsed", 16, 0.6, 2),
               _cell("near", 16, 0.6, 3), _cell("early", 512, 0.96)],
        loose: [_cell("healthy", 16, 0.0), _cell("collapsed", 16, 0.4, 2, missed=0.2),
                _cell("near", 16, 0.5, 3), _cell("early", 512, 0.0)],
        quiet: [_cell("healthy", 16, 0.004), _cell("collapsed", 16, 0.6, 2),
                _cell("near", 16, 0.6, 3), _cell("early", 512, 0.5)],
    }
    sums = {r: cc.summarize(r, cells) for r, cells in table.items()}
    assert not sums[strict].feasible and sums[strict].max_false_alarm == 0.15
    assert not sums[loose].feasible and not sums[loose].must_catch_ok
    assert not sums[quiet].feasible                  # half the blobs would pass item 1
    assert sums[good].feasible and sums[good].catch == pytest.approx(0.6)
    assert sums[good].early_flagged == 0.99
    chosen, feasible = cc.propose(list(sums.values()))
    assert feasible and chosen.rule == good          # ties on catch: more early blobs flagged
    chosen, feasible = cc.propose([sums[strict], sums[loose]])
    assert not feasible and chosen.rule == loose     # none feasible: fewest false alarms


def test_grid_holds_the_current_rule():
    grid = cc.rule_grid(RULE)
    assert RULE in grid and len(grid) == 3 * 6 * 4
    assert {r.share_confidence for r in grid} == {0.0, 0.95}
    off = CollapseRule(5, 0.5, 3)
    assert cc.rule_grid(off)[0] == off


def test_cell_table_and_passing_counts():
    lines = cc.cell_table([_cell("healthy", n, 0.0) for n in cc.SIZES])
    assert lines[0].startswith("| pool | n=16") and lines[2].startswith("| p | 0 |")
    passing = cc.passing_counts(16, 0.18)
    assert passing.shape == (17,) and not passing[0] and passing[16]
    assert (np.diff(passing.astype(int)) >= 0).all()
