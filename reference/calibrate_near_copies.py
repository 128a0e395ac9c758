"""Calibrate the judge's near-copy check: how close distinct images come, how far copies drift.

A generator that makes only a few distinct images, whatever the noise, repeats itself. The
judge marks an image as a *near-copy* when another image of the same set lies within
``NEAR_COPY_RMS`` root-mean-square pixel difference (on the [-1, 1] scale;
``grader.judge.metrics.near_copy_mask``), and rubric item 1 fails a set as mode collapse when
at least ``max_near_copy_share`` of its images are near-copies. This script measures

* **distinct images**: each image's distance to its nearest other image, in samples of
  n = 16, 64 and all images, from the 500 real test images bundled with the grader and from
  every saved generator of the long reference run (``reference/baselines/long``; one
  blurry early step included), ``--n-pool`` images for each of ``--pool-seeds`` noise seeds;
* **copies through the tile pipeline**: m = 2 or 3 distinct real images repeated over a
  matplotlib grid (``plt.subplot`` with ``axis('off')``, with and without titles; 4x4, 5x5,
  2x8 and 8x8 panels; figure sizes 2.5 to 10 inches), saved as PNG, read back and cut into
  tiles by ``grader.intake.figures.tiles.extract_tiles``: the drift that resampling puts between
  copies;
* **noisy copies**: m images plus Gaussian pixel noise (sd 0.03), as in
  ``reference.calibrate_collapse``.

It proposes the largest RMS threshold (on a 0.01 grid) that stays below ``MARGIN`` times the
smallest nearest-neighbour distance any distinct image reached, and the smallest share (on a
grid starting at 1/4: two near-identical pairs in a 16-image grid) above every share a sample
of distinct images reached. Writes
``reference/near_copy_calibration.md``; the constant and the rubric are edited by hand.

Usage: nice -n 15 python -m reference.calibrate_near_copies [--n-pool 1000 --draws 200]
"""

from __future__ import annotations

import argparse
import io
import itertools
import time
from pathlib import Path

import numpy as np

from grader.judge.metrics import FLAT_STD, NEAR_COPY_RMS, nearest_rms

HERE = Path(__file__).parent
BASELINES = HERE / "baselines" / "long"
OUT = HERE / "near_copy_calibration.md"
SIZES = (16, 64)
MARGIN = 0.7
#: candidate shares; 1/8 (one near-identical pair in a 16-image grid) is left off on purpose:
#: a student's generator may be less diverse than the reference without having collapsed
SHARE_GRID = (0.25, 0.375, 0.5)
LAYOUTS = list(itertools.product(((2.5, 2.5), (3, 3), (4, 4), (6, 6), (8, 4), (10, 10)),
                                 ((4, 4), (5, 5), (2, 8), (8, 8)), (False, True)))
NOISE_SD = 0.03


def unit(images: np.ndarray) -> np.ndarray:
    """uint8 images as flat float32 rows on the [-1, 1] scale."""
    return images.reshape(len(images), -1).astype(np.float32) / 127.5 - 1.0


def sample_nn(x: np.ndarray, n: int, draws: int, rng: np.random.Generator) -> np.ndarray:
    """Nearest-neighbour RMS of every image in ``draws`` samples of n distinct images,
    shape (draws, n); flat images (never counted by the judge) are left out (inf)."""
    out = np.full((draws, n), np.inf)
    for d in range(draws):
        pick = x[rng.choice(len(x), n, replace=False)]
        flat = pick.std(axis=1) < FLAT_STD
        out[d, ~flat] = nearest_rms(pick[~flat])
    return out


def render_grid(images: np.ndarray, rows: int, cols: int, figsize, title: bool) -> np.ndarray:
    """The lesson's sample figure (``plt.subplot`` grid, axes off), as PNG pixels (RGB)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from PIL import Image

    fig = plt.figure(figsize=figsize)
    for i in range(rows * cols):
        plt.subplot(rows, cols, i + 1)
        plt.imshow(images[i])
        if title:
            plt.title(f"sample {i}")
        plt.axis("off")
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))


def tile_copies(real: np.ndarray, rng: np.random.Generator) -> list[dict]:
    """Per layout and m: the nearest-neighbour RMS of each tile cut from a grid of m images."""
    from grader.intake.figures.tiles import extract_tiles

    rows_out = []
    for (figsize, (rows, cols), title), m in itertools.product(LAYOUTS, (2, 3)):
        n = rows * cols
        images = real[rng.choice(len(real), m, replace=False)][np.arange(n) % m]
        found = extract_tiles(render_grid(images, rows, cols, figsize, title))
        nn = nearest_rms(unit(found.tiles)) if len(found.tiles) == n else None
        rows_out.append({"figsize": figsize, "grid": f"{rows}x{cols}", "title": title, "m": m,
                         "tiles": len(found.tiles), "nn": nn})
    return rows_out


def distinct_pools(n_pool: int, seeds: list[int]) -> dict[str, np.ndarray]:
    """Distinct-image pools: bundled real test images and every saved reference generator."""
    import tensorflow as tf

    from grader.data import load_dataset
    from grader.training.trainer import sample_images, saved_generators

    pools = {"real_test_bundled": unit(load_dataset("bundled").x_test)}
    for _step, path in saved_generators(BASELINES):
        gen = tf.keras.models.load_model(path, compile=False)
        for s in seeds:
            pools[f"{path.stem} seed {s}"] = unit(sample_images(gen, n_pool, s))
    return pools


def propose_rms(min_distinct: float) -> float:
    """The largest threshold on a 0.01 grid at most ``MARGIN`` x the closest distinct pair."""
    return float(np.floor(MARGIN * min_distinct * 100) / 100)


def propose_share(max_distinct_share: float) -> float:
    """The smallest share on the grid above every share a sample of distinct images reached."""
    above = [s for s in SHARE_GRID if s > max_distinct_share]
    return above[0] if above else 1.0


def main(argv: list[str] | None = None) -> int:
    """Command line: measure, propose, write the report."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--n-pool", type=int, default=1000)
    p.add_argument("--pool-seeds", type=int, default=3)
    p.add_argument("--draws", type=int, default=200)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args(argv)
    t0 = time.time()
    rng = np.random.default_rng(a.seed)
    pools = distinct_pools(a.n_pool, list(range(a.seed, a.seed + a.pool_seeds)))
    distinct = []  # (pool, n, per-image nn array (draws, n))
    for name, x in pools.items():
        for n in (*SIZES, len(x)):
            distinct.append((name, n, sample_nn(x, n, a.draws if n < len(x) else 1, rng)))
    min_distinct = min(float(d.min()) for _, _, d in distinct)
    rms = propose_rms(min_distinct)
    max_share = max(float((d < rms).mean(axis=1).max()) for _, _, d in distinct)
    share = propose_share(max_share)

    from grader.data import load_dataset

    real_u8 = load_dataset("bundled").x_test
    copies = tile_copies(real_u8, rng)
    noisy = []
    for m in (1, 2, 3, 5):
        base = unit(real_u8[rng.choice(len(real_u8), m, replace=False)])[np.arange(16) % m]
        x = np.clip(base + rng.normal(0, NOISE_SD, base.shape), -1, 1).astype(np.float32)
        noisy.append((m, nearest_rms(x)))

    lines = [
        "# The judge's near-copy check: calibration", "",
        f"Generated by `python -m reference.calibrate_near_copies --n-pool {a.n_pool} "
        f"--pool-seeds {a.pool_seeds} --draws {a.draws} --seed {a.seed}` "
        f"({time.time() - t0:.0f} s); do not edit by hand.", "",
        "Distance: root-mean-square pixel difference on the [-1, 1] scale between two 32x32 "
        "images (`grader.judge.metrics.nearest_rms`). Flat images (pixel sd < "
        f"{FLAT_STD}) are never counted.", "",
        "## Distinct images: nearest-neighbour distance", "",
        f"Per pool and sample size n: the smallest, 0.1% and 1% quantile of each image's "
        f"distance to its nearest other image ({a.draws} samples for n = 16 and 64; the whole "
        f"pool once), and the largest share of a sample's images closer than the proposed "
        f"{rms:.2f}.", "",
        "| pool | n | min | 0.1% | 1% | max share < proposed |", "|---|---:|---:|---:|---:|---:|"]
    for name, n, d in distinct:
        fin = d[np.isfinite(d)]
        lines.append(f"| {name} | {n} | {fin.min():.3f} | {np.quantile(fin, 0.001):.3f} | "
                     f"{np.quantile(fin, 0.01):.3f} | {(d < rms).mean(axis=1).max():.1%} |")
    caught = [c for c in copies if c["nn"] is not None]
    share_of = [float((c["nn"] < rms).mean()) for c in caught]
    flagged = sum(s >= share for s in share_of)
    lines += [
        "", "## Copies through the tile pipeline", "",
        f"m distinct real images repeated over the grid; per layout the share of tiles whose "
        f"nearest other tile is closer than the proposed {rms:.2f}, and the largest "
        "nearest-neighbour distance (how far copies drift). Layouts where the tile pipeline "
        "did not find every panel are listed with their tile count.", "",
        "| figure | grid | titles | m | tiles | largest copy distance | near-copy share |",
        "|---|---|---|---:|---:|---:|---:|"]
    for c in copies:
        fs = "x".join(f"{v:g}" for v in c["figsize"])
        if c["nn"] is None:
            lines.append(f"| {fs} | {c['grid']} | {c['title']} | {c['m']} | {c['tiles']} | - | - |")
            continue
        lines.append(f"| {fs} | {c['grid']} | {c['title']} | {c['m']} | {c['tiles']} | "
                     f"{c['nn'].max():.3f} | {(c['nn'] < rms).mean():.0%} |")
    lines += [
        "", f"Noisy copies (sd {NOISE_SD} on [-1, 1], 16 images of m real ones): largest "
        "distance " + ", ".join(f"m={m}: {d.max():.3f}" for m, d in noisy) + ".", "",
        "## Proposal", "",
        f"- Closest two distinct images in any sample: **{min_distinct:.3f}**. "
        f"`NEAR_COPY_RMS` = floor({MARGIN} x that, 0.01) = **{rms:.2f}** "
        f"(in grader/judge/metrics.py now: {NEAR_COPY_RMS:.2f}).",
        f"- Largest near-copy share any sample of distinct images reached under it: "
        f"{max_share:.1%}. `max_near_copy_share` = the next value on the grid "
        f"{list(SHARE_GRID)}: **{share:g}**.",
        f"- Collapsed grids flagged (near-copy share >= {share:g}): **{flagged} of "
        f"{len(caught)}** layouts whose tiles were all found. The others are grids where "
        "titles or tiny panels make the pipeline crop copies differently; they stay with the "
        "class-spread rule (`reference/collapse_calibration.md`).",
    ]
    OUT.write_text("\n".join(lines) + "\n")
    print(f"proposed NEAR_COPY_RMS {rms:.2f}, max_near_copy_share {share:g}; "
          f"{flagged}/{len(caught)} collapsed layouts flagged; wrote {OUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
