"""Evidence that the judge ranks image sets the way a person would; writes judge_validity.md.

Run (a few minutes on 2 CPU cores)::

    nice -n 10 .venv/bin/python -m reference.judge_validity [--n 1000]

On equal-size sets (N images each) it measures the judge's metrics for: real test images;
the same real images drawn as the lesson's 4x4 matplotlib grids and cut back out by the
tile pipeline; the reference DCGAN generator at each saved training point of the long run
(``reference/baselines/long/generator_step_*.keras``: the training order); the generators of
the other committed runs (``reference/baselines/*/generator*_step_*.keras``, e.g. the 30-epoch
run and its weight average); the untrained reference generator; Gaussian noise; and a
mode-collapsed generator (one image repeated). Expected: real > longer-trained >
shorter-trained > untrained ~ noise on every metric, and the collapsed set low on coverage.
The ordering is checked and the result written into the report.
"""

from __future__ import annotations

import argparse
import re
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from reference.train_classifier import DEFAULT_DATA, ROOT

REPORT = ROOT / "reference" / "judge_validity.md"
MONTAGE = ROOT / "reference" / "classifier" / "validity_generators.png"
METRICS = (("clear_share", 1), ("named_share", 1), ("hinted_share", 1),
           ("recognizable_fraction", 1), ("class_coverage", 1), ("classifier_score", 1),
           ("fcd", -1))
"""(metric, sign): ``clear_share``, ``named_share`` and ``hinted_share`` are the eye-label
score's shares of tiles read "named without doubt", "at least plausible" and "at least
hinting at an object" (item 1's partial count; grader.judge.realism)."""
TRAINING_RUN = "reference/baselines/long"
"""The run whose saved points make the training order (one generator per step)."""
OTHER_GLOB = "reference/baselines/*/generator*_step_*.keras"
"""Generators of the other committed runs: checked against real and untrained, not ordered."""


@dataclass
class Row:
    """One image set and its judge result."""

    name: str
    kind: str
    """``real``, ``tiles``, ``generator``, ``untrained``, ``noise`` or ``collapsed``."""
    step: int
    result: object


def metric(result, name: str) -> float:
    """A metric of a judge result; the eye-label shares are counts over the set size."""
    if name == "clear_share":
        return (result.clear_count or 0) / max(1, result.n)
    if name == "named_share":
        return (result.named_count or 0) / max(1, result.n)
    if name == "hinted_share":
        hinted = getattr(result, "hinted_count", None)
        hinted = result.named_count if hinted is None else hinted
        return (hinted or 0) / max(1, result.n)
    return float(getattr(result, name) or 0.0)


def grid_verdict(result, rubric_item) -> str:
    """Rubric item 1's verdict on the whole set by the eye-label rule, the copy check left out
    (the real sets are CIFAR-10 images, so with it they fail as copies: the *copies* column)."""
    import copy

    from grader.scoring.recognizable import set_verdict

    plain = copy.copy(result)
    plain.copy_fraction = None
    return set_verdict(plain, "student_images", rubric_item).status


def find_generators(root: Path = ROOT) -> list[tuple[int, Path]]:
    """The training run's saved generators as (training step, path), sorted by step."""
    found = []
    for path in sorted((root / TRAINING_RUN).glob("generator_step_*.keras")):
        m = re.search(r"step_(\d+)", path.name)
        if m:  # a generator without its training step cannot be placed in the ordering
            found.append((int(m.group(1)), path))
    return sorted(found)


def other_generators(root: Path = ROOT) -> list[tuple[str, Path]]:
    """(row name, path) of the other committed runs' generators, by run, kind and step."""
    out = []
    for path in sorted(root.glob(OTHER_GLOB)):
        m = re.search(r"step_(\d+)", path.name)
        if path.parent == root / TRAINING_RUN or not m:
            continue
        average = ", weight average" if "_ema_" in path.name else ""
        out.append((f"reference DCGAN {path.parent.name}{average}, step {int(m.group(1))}", path))
    return out


def generate(generator, n: int, seed: int) -> np.ndarray:
    """n images from a generator with fixed noise, as uint8."""
    z = np.random.default_rng(seed).normal(size=(n, 100)).astype(np.float32)
    out = np.concatenate([np.asarray(generator(z[i:i + 250], training=False)) for i in range(0, n, 250)])
    return np.clip(np.rint((out + 1.0) * 127.5), 0, 255).astype(np.uint8)


def through_tiles(images: np.ndarray) -> np.ndarray:
    """Draw images as the lesson's 4x4 PNG grids, then cut them back out with the tile pipeline."""
    from grader.intake.figures.tiles import extract_tiles
    from reference.calibrate_near_copies import render_grid

    tiles = []
    for start in range(0, len(images) - len(images) % 16, 16):
        found = extract_tiles(render_grid(images[start:start + 16], 4, 4, (4, 4), title=False))
        if len(found.tiles) != 16:
            raise SystemExit(f"tile pipeline found {len(found.tiles)} tiles, expected 16")
        tiles.append(found.tiles)
    return np.concatenate(tiles)


def build_sets(n: int, data: str, seed: int) -> list[tuple[str, str, int, np.ndarray]]:
    """(name, kind, step, uint8 images) for every set in the study."""
    import keras

    from grader.data import load_dataset
    from reference.solution import make_generator_model

    real = load_dataset(data).x_test
    real = real[np.random.default_rng(seed).permutation(len(real))[:n]]
    sets = [("real test images", "real", 0, real),
            ("real, via 4x4 matplotlib grid + tiles", "tiles", 0, through_tiles(real))]
    last = None
    for step, path in find_generators():
        gen = keras.saving.load_model(path, compile=False, safe_mode=True)
        sets.append((f"reference DCGAN, step {step} ({path.parent.name})", "generator", step,
                     generate(gen, n, seed)))
        last = gen
    for name, path in other_generators():
        gen = keras.saving.load_model(path, compile=False, safe_mode=True)
        sets.append((name, "other", 0, generate(gen, n, seed)))
    keras.utils.set_random_seed(seed)
    untrained = make_generator_model()
    sets.append(("untrained reference generator", "untrained", 0, generate(untrained, n, seed)))
    noise = np.clip(np.random.default_rng(seed).normal(0, 0.5, (n, 32, 32, 3)), -1, 1)
    sets.append(("Gaussian noise (sd 0.5 in [-1, 1])", "noise", 0,
                 np.rint((noise + 1) * 127.5).astype(np.uint8)))
    one = generate(last if last is not None else untrained, 1, seed + 1)
    sets.append(("mode collapse (one generated image repeated)", "collapsed", 0,
                 np.repeat(one, n, axis=0)))
    return sets


def ordering_checks(rows: list[Row]) -> list[tuple[str, bool]]:
    """The expected orderings, each as (statement, holds)."""
    by = {r.kind: r for r in rows if r.kind not in ("generator", "other")}
    gens = sorted((r for r in rows if r.kind == "generator"), key=lambda r: r.step)
    others = [r for r in rows if r.kind == "other"]
    checks = []
    for name, sign in METRICS:
        real = sign * metric(by["real"].result, name)
        untrained = sign * metric(by["untrained"].result, name)
        mid = [sign * metric(g.result, name) for g in gens + others]
        ok = all(real >= v >= untrained for v in mid) and real > untrained
        checks.append((f"{name}: real >= every saved generator >= untrained", ok))
    if len(gens) >= 2:
        first, last = gens[0], gens[-1]
        for name, sign in METRICS:
            if name == "clear_share":  # the eye labels read ~0 clear tiles at every saved point
                continue
            checks.append((f"{name}: longest-trained (step {last.step}) better than "
                           f"shortest-trained (step {first.step})",
                           sign * metric(last.result, name) > sign * metric(first.result, name)))
        fcd = {g.step: g.result.fcd for g in gens}
        falls = significant_reversals(gens)
        unconfirmed = [(a, b) for a, b in falls if not fcd[b] > fcd[a]]
        said = ", ".join(f"{a}->{b}" for a, b in falls) or "none"
        checks.append(("recognizable_fraction: every significant (95% bootstrap) fall between "
                       "saved generators is one the FCD sees too, i.e. the generator itself got "
                       f"worse (falls: {said})", not unconfirmed))
    un, noise, col = by["untrained"].result, by["noise"].result, by["collapsed"].result
    checks.append(("untrained and noise: recognizable fraction below 5%",
                   un.recognizable_fraction < 0.05 and noise.recognizable_fraction < 0.05))
    checks.append(("untrained and noise: no tile read as named or plausible by the eye score",
                   not un.named_count and not noise.named_count))
    checks.append(("copies of real images: the real test images (in the copy index by design) "
                   "are caught, directly and through the tile pipeline (at least 95%); no image "
                   "of the generated, untrained, noise or collapsed sets is",
                   all(not r.result.copy_fraction for r in rows if r.kind not in ("real", "tiles"))
                   and metric(by["real"].result, "copy_fraction") >= 0.95
                   and metric(by["tiles"].result, "copy_fraction") >= 0.95))
    checks.append(("mode collapse: at most 1 class covered", col.class_coverage <= 1))
    distinct = [by["real"], by["tiles"], *gens, *others]
    checks.append(("near-copies: every image of the mode collapse has one; no image of the real, "
                   "tile or saved-generator sets has one",
                   col.near_copy_fraction == 1.0
                   and all(r.result.near_copy_fraction == 0.0 for r in distinct)))
    tiles = by["tiles"].result.recognizable_fraction
    checks.append(("tile pipeline costs real images at most 10 points of recognizable fraction",
                   by["real"].result.recognizable_fraction - tiles <= 0.10))
    return checks


def significant_reversals(gens: list[Row], seed: int = 0) -> list[tuple[int, int]]:
    """(earlier step, later step) pairs whose recognizable fractions fell significantly.

    Recognizable flags per image are resampled with ``grader.stats.bootstrap.bootstrap_difference``
    (2,000 resamples, 95%); a reversal is a pair whose whole interval lies below zero.
    """
    from grader.stats.bootstrap import bootstrap_difference

    flags = {g.step: np.array([p.recognizable for p in g.result.per_image]) for g in gens}
    out = []
    for i, a in enumerate(gens):
        for b in gens[i + 1:]:
            d = bootstrap_difference(flags[a.step], flags[b.step], n_boot=2000, seed=seed)
            if d.ci_high < 0:
                out.append((a.step, b.step))
    return out


def training_order(rows: list[Row]) -> list[str]:
    """Whether each metric improves monotonically with the generator's training step."""
    gens = sorted((r for r in rows if r.kind == "generator"), key=lambda r: r.step)
    out = []
    for name, sign in METRICS:
        vals = [sign * metric(g.result, name) for g in gens]
        mono = all(a <= b for a, b in zip(vals, vals[1:]))
        best = gens[int(np.argmax(vals))].step if gens else None
        out.append(f"- {name}: {'monotone' if mono else 'not monotone'} in training step; "
                   f"best at step {best}")
    return out


def save_montage(sets, path: Path, per_row: int = 12) -> None:
    """The first images of every generated set, one row each, enlarged 2x (nearest)."""
    from PIL import Image

    rows = [np.concatenate(list(images[:per_row]), axis=1)
            for _, kind, _, images in sets if kind in ("generator", "other", "untrained")]
    grid = np.concatenate(rows)
    Image.fromarray(grid).resize((grid.shape[1] * 2, grid.shape[0] * 2), Image.NEAREST).save(path)


def render(rows: list[Row], checks: list[tuple[str, bool]], n: int, seconds: float, cal,
           verdicts: list[str]) -> str:
    """The Markdown report."""
    lines = [
        "# Is the CIFAR-10 judge valid?", "",
        "Generated by `reference/judge_validity.py`; do not edit by hand.", "",
        f"Every set has N = {n} images. Judge: test accuracy {cal.test_accuracy:.2%}, "
        f"temperature {cal.temperature:.3f}, tau {cal.tau:.3f}, weights "
        f"`{cal.weights_sha256[:12]}`. Real-vs-real FCD at this N: "
        f"{rows[0].result.fcd_reference:.3f}. Run time {seconds:.0f} s.", "",
        "Item 1 is scored by the eye-label score (`grader/judge/realism.py`, fitted in "
        "`recognizable_calibration.md`): *clear*, *named* and *hinted* are its shares of tiles "
        "read \"named without doubt\", \"at least plausible\" and \"at least hinting at an "
        "object\" (the partial count); *item 1* is the rubric's verdict "
        "on the whole set by that rule, the copy check left out (with it the real sets fail "
        "as copies). *Recognizable* is the judge's older confident-top-1 rule (top-1 >= "
        "tau inside the out-of-distribution gate), kept for comparison and for assignments "
        "without eye labels. *Copies*: images matching a CIFAR-10 train or test image in the "
        "shipped copy index.", "",
        "| set | clear | named | hinted | item 1 | recognizable (95% CI) | out of distribution | classes covered (k) | classifier score | FCD | near-copies | copies |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r, verdict in zip(rows, verdicts, strict=True):
        x = r.result
        lines.append(f"| {r.name} | {metric(x, 'clear_share'):.1%} | "
                     f"{metric(x, 'named_share'):.1%} | {metric(x, 'hinted_share'):.1%} | "
                     f"{verdict} | "
                     f"{x.recognizable_fraction:.1%} ({x.ci_low:.1%}-{x.ci_high:.1%}) | "
                     f"{x.out_of_distribution_fraction:.1%} | {x.class_coverage}/10 ({x.coverage_k}) | "
                     f"{x.classifier_score:.2f} | {x.fcd:.3f} | {x.near_copy_fraction:.1%} | "
                     f"{(x.copy_fraction or 0.0):.1%} |")
    real, tiles = rows[0].result, rows[1].result
    lines += ["", "## Expected orderings", ""]
    lines += [f"- [{'x' if ok else ' '}] {text}" for text, ok in checks]
    lines += ["", "## Along the reference generator's training", ""] + training_order(rows)
    lines += ["", "Judge it by eye: one row per saved generator in training order, then the "
              "untrained one (`classifier/validity_generators.png`):", "",
              "![generated samples](classifier/validity_generators.png)"]
    lines += ["", "## What the tile pipeline costs", "",
              f"Real images drawn as 4x4 grids and cut back out: recognizable "
              f"{real.recognizable_fraction:.1%} -> {tiles.recognizable_fraction:.1%}, classifier "
              f"score {real.classifier_score:.2f} -> {tiles.classifier_score:.2f}, FCD "
              f"{real.fcd:.3f} -> {tiles.fcd:.3f} (matplotlib resamples each 32x32 image to about "
              "67x67 screen pixels with smoothing; we average it back down).", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Build the sets, score them, check the orderings, write the report; 1 if any check fails."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--n", type=int, default=1000)
    p.add_argument("--data", default=DEFAULT_DATA)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args(argv)
    from grader.assignment import get_assignment
    from grader.judge.classifier import load_judge
    from grader.judge.metrics import score_images
    from grader.scoring import load_rubric

    t0 = time.time()
    judge = load_judge()
    sets = build_sets(a.n, a.data, a.seed)
    save_montage(sets, MONTAGE)
    rows = [Row(name, kind, step, score_images(images, judge, seed=a.seed))
            for name, kind, step, images in sets]
    checks = ordering_checks(rows)
    item = load_rubric(get_assignment().rubric).item("recognizable")
    verdicts = [grid_verdict(r.result, item) for r in rows]
    checks.append(("item 1: real images pass; untrained, noise and collapse fail",
                   verdicts[0] == "pass" and all(
                       v == "fail" for r, v in zip(rows, verdicts, strict=True)
                       if r.kind in ("untrained", "noise", "collapsed"))))
    REPORT.write_text(render(rows, checks, a.n, time.time() - t0, judge.calibration, verdicts))
    print(REPORT.read_text())
    return 0 if all(ok for _, ok in checks) else 1


if __name__ == "__main__":
    raise SystemExit(main())
