"""Which statistic should rubric item 3 (improvement) compare? Measure it on known pairs.

Item 3 compares two versions of a student's GAN on images the grader samples from each. A
good comparison statistic says "better" when one version really is better, and rarely says
"better" when the two versions are equally good. We know both cases from the committed
long reference run (``reference/baselines/long/generator_step_*.keras``):

* **equal pairs**: two independent noise draws from the *same* generator (every saved step);
  any verdict other than "no difference" is a false alarm;
* **better pairs**: a later saved step against an earlier one (the later generator is the
  better one: its classifier score and FCD improve monotonically, ``judge_validity.md``);
  "better" is a detection, "worse" is an inversion.

For each statistic (recognizable fraction; classifier score, the Inception-Score analogue)
and set size N (512 quick, 1000 full), every pair is compared with the same percentile
bootstrap the grader uses (``grader.stats.bootstrap.bootstrap_set_difference``, 2,000 resamples,
95%), over several noise seeds. Writes ``reference/improvement_calibration.md``.

Usage: nice -n 10 python -m reference.calibrate_improvement [--reps 5]
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from grader.stats.bootstrap import bootstrap_set_difference
from grader.stats.inception import classifier_scores

HERE = Path(__file__).parent
BASELINES = HERE / "baselines" / "long"
OUT = HERE / "improvement_calibration.md"
SIZES = (512, 1000)
STATISTICS = ("recognizable_fraction", "classifier_score")
MARGINS = (0.0, 0.02, 0.05, 0.1)


@dataclass
class Tally:
    """Verdict counts of one (statistic, N, kind of pair)."""

    better: int = 0
    same: int = 0
    worse: int = 0
    diffs: list[float] = field(default_factory=list)
    intervals: list[tuple[float, float]] = field(default_factory=list)

    @property
    def n(self) -> int:
        return self.better + self.same + self.worse

    def add(self, lo: float, hi: float, diff: float) -> None:
        if lo > 0:
            self.better += 1
        elif hi < 0:
            self.worse += 1
        else:
            self.same += 1
        self.diffs.append(diff)
        self.intervals.append((lo, hi))

    def share(self, margin: float, side: str) -> float:
        """Share of comparisons called better (``lo > margin``) or worse (``hi < -margin``)."""
        hits = [lo > margin if side == "better" else hi < -margin for lo, hi in self.intervals]
        return float(np.mean(hits)) if hits else float("nan")


def _sample_sets(reps: int, n: int) -> tuple[list[int], dict[tuple[int, int], dict]]:
    """Judge 2 x reps sets of n images per saved generator: {(step, draw): probs/mask}."""
    import tensorflow as tf

    from grader.judge.classifier import load_judge
    from grader.judge.metrics import recognizable_mask
    from grader.training.trainer import sample_images, saved_generators

    judge = load_judge()
    steps, sets = [], {}
    for step, path in saved_generators(BASELINES):
        steps.append(step)
        gen = tf.keras.models.load_model(path, compile=False)
        for draw in range(2 * reps):
            images = sample_images(gen, n, seed=1000 + draw)
            probs, feats = judge.predict(images)
            mask = recognizable_mask(probs, judge.tau)
            gate = judge.in_distribution(feats)
            if gate is not None:  # the same gates as grader.judge.metrics.score_predictions
                mask &= gate
            sets[(step, draw)] = {"probs": probs, "mask": mask.astype(float)}
    return steps, sets


def _compare(a: dict, b: dict, metric: str, n: int, seed: int):
    if metric == "recognizable_fraction":
        return bootstrap_set_difference(a["mask"][:n], b["mask"][:n], lambda s: s.mean(axis=1),
                                        n_boot=2000, seed=seed, metric=metric)
    return bootstrap_set_difference(a["probs"][:n], b["probs"][:n], classifier_scores,
                                    n_boot=2000, seed=seed, metric=metric)


def measure(reps: int) -> tuple[list[int], dict[tuple[str, int, str], Tally]]:
    """All tallies: keys (statistic, N, "equal" | "better" | "better, 1 step apart")."""
    steps, sets = _sample_sets(reps, max(SIZES))
    tallies: dict[tuple[str, int, str], Tally] = {}
    for metric in STATISTICS:
        for n in SIZES:
            for r in range(reps):
                for i, s in enumerate(steps):
                    d = _compare(sets[(s, 2 * r)], sets[(s, 2 * r + 1)], metric, n, r)
                    tallies.setdefault((metric, n, "equal"), Tally()).add(d.ci_low, d.ci_high,
                                                                          d.diff)
                    for j, later in enumerate(steps[i + 1:], start=i + 1):
                        d = _compare(sets[(s, 2 * r)], sets[(later, 2 * r + 1)], metric, n, r)
                        kind = "better, adjacent steps" if j == i + 1 else "better, far apart"
                        tallies.setdefault((metric, n, kind), Tally()).add(d.ci_low, d.ci_high,
                                                                           d.diff)
    return steps, tallies


def render(steps: list[int], tallies: dict, reps: int, seconds: float) -> str:
    """The Markdown report."""
    lines = [
        "# Which statistic rubric item 3 compares",
        "",
        "Written by `python -m reference.calibrate_improvement` "
        f"({reps} noise seeds, {seconds:.0f} s). Generators: the long reference run's saved "
        f"steps {', '.join(map(str, steps))} (`reference/baselines/long`). Each comparison "
        "is a 95% percentile bootstrap (2,000 resamples) of after - before; the verdict is "
        "*better* when the interval lies above 0, *worse* below 0, *same* otherwise.",
        "",
        "| statistic | N | pairs | kind | better | same | worse | mean difference |",
        "|---|---:|---:|---|---:|---:|---:|---:|",
    ]
    for (metric, n, kind), t in sorted(tallies.items()):
        lines.append(f"| {metric} | {n} | {t.n} | {kind} | {t.better / t.n:.0%} | "
                     f"{t.same / t.n:.0%} | {t.worse / t.n:.0%} | {np.mean(t.diffs):+.3f} |")
    lines += ["", "Reading: for *equal* pairs, *better* is a false alarm (ideal ~2.5%); for "
              "*better* pairs, *better* is a detection and *worse* an inversion (ideal 0%).", "",
              "## A margin on the classifier score (rubric `min_difference`)", "",
              "*better* = the interval lies above +margin, *worse* = below -margin.", "",
              "| N | margin | equal: better | equal: worse | far apart: better | "
              "adjacent: better | adjacent: worse |", "|---:|---:|---:|---:|---:|---:|---:|"]
    for n in SIZES:
        eq = tallies[("classifier_score", n, "equal")]
        far = tallies[("classifier_score", n, "better, far apart")]
        adj = tallies[("classifier_score", n, "better, adjacent steps")]
        for m in MARGINS:
            lines.append(f"| {n} | {m:.2f} | {eq.share(m, 'better'):.0%} | "
                         f"{eq.share(m, 'worse'):.0%} | {far.share(m, 'better'):.0%} | "
                         f"{adj.share(m, 'better'):.0%} | {adj.share(m, 'worse'):.0%} |")
    lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Measure and write the report."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--reps", type=int, default=5, help="noise seeds (pairs per generator)")
    p.add_argument("--out", type=Path, default=OUT)
    a = p.parse_args(argv)
    t0 = time.time()
    steps, tallies = measure(a.reps)
    text = render(steps, tallies, a.reps, time.time() - t0)
    a.out.write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
