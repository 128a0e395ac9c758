"""Calibrate the copy check: real pictures passed off as samples vs what generators really make.

The copy check (``grader.judge.copies``) flags an image when it is a near-copy of one of the
60,000 CIFAR-10 images in the shipped index. This script measures, on that index:

* **held-out distance** (the authenticity idea of Alaa et al. 2022, "How Faithful is your
  Synthetic Data?", https://arxiv.org/abs/2102.08921): every real test image searched
  against the train images only. A generated image closer to a training image than real
  held-out images usually are is a copy. CIFAR-10 itself holds test images whose train
  neighbour is the same photo (Barz & Denzler 2020, "Do we train on test data?", count
  3.3% of the test set); the check flags those too, which is right (both are real);
* **catches**: ``--n-real`` real images (half train, half test), each transformed the ways
  a real picture reaches the grader: as it is; through a matplotlib 4x4 grid
  (``plt.imshow(img)``, ``axis('off')``, figsize 4x4 as in the lesson) saved at 72, 100 and
  150 dpi as PNG (and at 100 dpi as JPEG), cut back by ``grader.intake.figures.tiles.extract_tiles``
  (``--n-grid`` images per setting); JPEG re-encoded; resized down and up; mirrored;
  brightness, contrast, colour gains and slight blur; and re-encoded once more as JPEG at
  the archive's quality (the JPEG copy vs the pickled original differ by one such pass).
  Stress tests, reported but not required: smaller figures (2.5 and 2 inches: panels of
  24-36 px, below the image's own 32), a 16x16 detour (a quarter of the pixels), grayscale,
  shifts of 2 and 4 px (random-crop augmentation) and a 28 px centre crop zoomed to 32;
* **false alarms**: ``--n-gen`` samples of every committed reference generator
  (``reference/baselines/*/generator*_step_*.keras``: the long run's saved points, the
  30-epoch run and its weight average), Gaussian noise, blurred noise and flat colours;
* **speed**: one core, 1,000 images.

Proposed thresholds: ``threshold_score`` halfway between the highest score of a required
catch matched to its own image and the lowest score of any false-alarm image (0.01 grid;
without a gap, 0.02 below that lowest false-alarm score); ``threshold_strict``
``STRICT_MARGIN`` times the smallest coarse distance of any false-alarm image (rounded
down). The shipped index records its own; the report says whether they agree.

Writes ``reference/copy_calibration.md``. Usage::

    nice -n 10 python -m reference.calibrate_copies --data ../shared/data/cifar10-jpeg.tar.gz
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # one core: the speed figure is per core

import argparse  # noqa: E402
import io  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from grader.judge import copies as C  # noqa: E402

HERE = Path(__file__).parent
BASELINES = HERE / "baselines" / "long"
OUT = HERE / "copy_calibration.md"
STRICT_MARGIN = 0.75
TRAIN_SIZE = 50_000
QUANTILES = (0.0, 0.001, 0.01, 0.05, 0.5)


@dataclass
class Outcome:
    """How one set of images fared."""

    name: str
    group: str
    m: C.CopyMatches
    expected: np.ndarray | None = None
    """Global index (train then test) of each image's source, for catches."""
    n_lost: int = 0
    """Images that never reached the check (the figure could not be cut back)."""

    @property
    def global_match(self) -> np.ndarray:
        """Global index (train then test) of each image's match."""
        return self.m.index + np.where(self.m.split == "train", 0, TRAIN_SIZE)


# ---------------------------------------------------------------- transformations
def _pil_roundtrip(images: np.ndarray, fn: Callable) -> np.ndarray:
    from PIL import Image

    return np.stack([np.asarray(fn(Image.fromarray(x)).convert("RGB")) for x in images])


def jpeg(quality: int) -> Callable[[np.ndarray], np.ndarray]:
    """Re-encode as JPEG at ``quality``."""
    def run(images: np.ndarray) -> np.ndarray:
        from PIL import Image

        def enc(img):
            buf = io.BytesIO()
            img.save(buf, format="JPEG", quality=quality)
            return Image.open(io.BytesIO(buf.getvalue()))
        return _pil_roundtrip(images, enc)
    return run


def resize(size: int, filt: str) -> Callable[[np.ndarray], np.ndarray]:
    """Resize 32 -> ``size`` -> 32 with the PIL filter ``filt``."""
    def run(images: np.ndarray) -> np.ndarray:
        from PIL import Image

        f = getattr(Image.Resampling, filt.upper())
        return _pil_roundtrip(images, lambda im: im.resize((size, size), f).resize((32, 32), f))
    return run


def pixels(fn: Callable[[np.ndarray], np.ndarray]) -> Callable[[np.ndarray], np.ndarray]:
    """A pixel-wise change on the float image, rounded and clipped back to uint8."""
    return lambda x: np.clip(np.rint(fn(x.astype(np.float32))), 0, 255).astype(np.uint8)


def blur(sigma: float) -> Callable[[np.ndarray], np.ndarray]:
    """Gaussian blur of ``sigma`` pixels."""
    from scipy.ndimage import gaussian_filter

    return pixels(lambda x: gaussian_filter(x, (0, sigma, sigma, 0), mode="nearest"))


def shifted(images: np.ndarray, px: int) -> np.ndarray:
    """Random-crop augmentation: pad by ``px`` (edge values), crop 32x32 ``px`` right and down."""
    padded = np.pad(images, ((0, 0), (px, px), (px, px), (0, 0)), mode="edge")
    return np.ascontiguousarray(padded[:, 2 * px:2 * px + 32, 2 * px:2 * px + 32])


def zoomed(size: int) -> Callable[[np.ndarray], np.ndarray]:
    """Crop the centre ``size`` x ``size`` pixels and resize back to 32 (bicubic)."""
    def run(images: np.ndarray) -> np.ndarray:
        from PIL import Image

        a = (32 - size) // 2
        return _pil_roundtrip(images, lambda im: im.crop((a, a, a + size, a + size)).resize(
            (32, 32), Image.Resampling.BICUBIC))
    return run


def through_grid(dpi: int, fmt: str = "png", inches: float = 4.0):
    """Show 16 images per figure as the lesson does, save, read back, cut with extract_tiles.

    Returns a function giving (tiles, kept): figures that do not give back 16 tiles are lost.
    """
    def run(images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from PIL import Image

        extract_tiles = _extract_tiles()
        tiles, kept = [], []
        for a in range(0, len(images) - 15, 16):
            fig = plt.figure(figsize=(inches, inches))
            for i in range(16):
                plt.subplot(4, 4, i + 1)
                img = images[a + i].astype(np.float32) / 127.5 - 1  # the [-1, 1] scale
                plt.imshow(img * 0.5 + 0.5)
                plt.axis("off")
            buf = io.BytesIO()
            fig.savefig(buf, format=fmt, dpi=dpi)
            plt.close(fig)
            found = extract_tiles(np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB")))
            if len(found.tiles) == 16:
                tiles.append(found.tiles)
                kept.append(np.arange(a, a + 16))
        if not tiles:
            return np.zeros((0, 32, 32, 3), np.uint8), np.zeros(0, int)
        return np.concatenate(tiles), np.concatenate(kept)
    return run


def _extract_tiles() -> Callable:
    """``extract_tiles`` wherever the package keeps it (it moved to ``grader.intake.figures``)."""
    from grader.intake.figures.tiles import extract_tiles
    return extract_tiles


#: name -> (group, transformation); groups (a)-(g) follow the brief, "stress" is not required
TRANSFORMS: dict[str, tuple[str, Callable]] = {
    "as is": ("a", lambda x: x),
    "grid 4in 72 dpi png": ("b", through_grid(72)),
    "grid 4in 100 dpi png": ("b", through_grid(100)),
    "grid 4in 150 dpi png": ("b", through_grid(150)),
    "grid 4in 100 dpi jpeg": ("b", through_grid(100, "jpg")),
    "grid 4in 72 dpi png, mirrored": ("b", lambda x: through_grid(72)(x[:, :, ::-1])),
    **{f"jpeg q{q}": ("c", jpeg(q)) for q in (50, 60, 75, 85, 95)},
    **{f"resize 32-{n}-32 {f}": ("d", resize(n, f)) for n in (24, 64)
       for f in ("nearest", "bilinear", "bicubic", "lanczos")},
    "mirrored": ("e", lambda x: x[:, :, ::-1]),
    "mirrored, jpeg q75": ("e", lambda x: jpeg(75)(x[:, :, ::-1])),
    "brightness +20": ("f", pixels(lambda x: x + 20)),
    "brightness -20": ("f", pixels(lambda x: x - 20)),
    "contrast x0.8": ("f", pixels(lambda x: (x - 128) * 0.8 + 128)),
    "contrast x1.2": ("f", pixels(lambda x: (x - 128) * 1.2 + 128)),
    "colour gains 1.05/1/0.95": ("f", pixels(lambda x: x * np.float32([1.05, 1, 0.95]))),
    "colour gains 0.9/1/1.1": ("f", pixels(lambda x: x * np.float32([0.9, 1, 1.1]))),
    "blur sigma 0.5": ("f", blur(0.5)),
    "blur sigma 1.0": ("f", blur(1.0)),
    "re-encoded once more (jpeg q75)": ("g", jpeg(75)),
    **{f"resize 32-16-32 {f}": ("stress", resize(16, f))
       for f in ("nearest", "bilinear", "bicubic", "lanczos")},
    "grid 2.5in 72 dpi png": ("stress", through_grid(72, inches=2.5)),
    "grid 2.5in 100 dpi png": ("stress", through_grid(100, inches=2.5)),
    "grid 2in 72 dpi png": ("stress", through_grid(72, inches=2.0)),
    "grid 2in 100 dpi png": ("stress", through_grid(100, inches=2.0)),
    "grayscale": ("stress", pixels(lambda x: np.repeat(x.mean(axis=-1, keepdims=True), 3, -1))),
    "shifted 2 px (padded crop)": ("stress", lambda x: shifted(x, 2)),
    "shifted 4 px (padded crop)": ("stress", lambda x: shifted(x, 4)),
    "centre 28 px zoomed to 32": ("stress", zoomed(28)),
}


def real_sample(d, n_real: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``n_real`` real images, half train and half test, interleaved; and their global index."""
    rng = np.random.default_rng(seed)
    tr = rng.choice(len(d.x_train), n_real // 2, replace=False)
    te = rng.choice(len(d.x_test), n_real - n_real // 2, replace=False)
    images = np.empty((n_real, 32, 32, 3), np.uint8)
    where = np.empty(n_real, np.int64)
    images[0::2], where[0::2] = d.x_train[tr], tr
    images[1::2][: len(te)], where[1::2][: len(te)] = d.x_test[te], len(d.x_train) + te
    return images, where


def catches(index: C.CopyIndex, images: np.ndarray, where: np.ndarray,
            n_grid: int) -> list[Outcome]:
    """Run every transformation on the real sample (grids on its first ``n_grid``)."""
    out = []
    for name, (group, fn) in TRANSFORMS.items():
        x, src = (images[:n_grid], where[:n_grid]) if "grid" in name else (images, where)
        y = fn(x)
        lost = 0
        if isinstance(y, tuple):
            y, kept = y
            lost, src = len(x) - len(kept), src[kept]
        out.append(Outcome(name, group, C.find_copies(index, y), src, lost))
        print(f"  {name}: {out[-1].m.n_copies}/{len(y)} flagged", flush=True)
    return out


# ---------------------------------------------------------------- false alarms
def generator_samples(n: int, seed: int) -> dict[str, np.ndarray]:
    """``n`` uint8 samples of every committed reference generator, named ``run/file stem``."""
    import keras
    import tensorflow as tf

    out = {}
    for path in sorted(BASELINES.parent.glob("*/generator*_step_*.keras")):
        gen = keras.saving.load_model(path, compile=False, safe_mode=True)
        tf.random.set_seed(seed)
        parts = [gen(tf.random.normal([min(500, n - a), 100]), training=False).numpy()
                 for a in range(0, n, 500)]
        x = np.concatenate(parts)
        name = path.stem if path.parent == BASELINES else f"{path.parent.name}/{path.stem}"
        out[name] = np.clip(np.rint((x + 1) * 127.5), 0, 255).astype(np.uint8)
    return out


def noise_sets(n: int, seed: int) -> dict[str, np.ndarray]:
    """Gaussian noise, blurred noise (sigma 1, 2, 4) and flat colours: ``n`` of each."""
    from scipy.ndimage import gaussian_filter

    rng = np.random.default_rng(seed)
    sets = {"gaussian noise": rng.normal(128, 60, (n, 32, 32, 3))}
    for sigma in (1, 2, 4):
        z = gaussian_filter(rng.normal(0, 1, (n, 32, 32, 3)), (0, sigma, sigma, 0), mode="wrap")
        z /= z.std(axis=(1, 2, 3), keepdims=True)
        sets[f"blurred noise sigma {sigma}"] = 128 + 60 * z
    sets["flat colours"] = np.broadcast_to(rng.uniform(0, 255, (n, 1, 1, 3)), (n, 32, 32, 3))
    return {k: np.clip(np.rint(v), 0, 255).astype(np.uint8) for k, v in sets.items()}


# ---------------------------------------------------------------- speed
def speed(index: C.CopyIndex, images: np.ndarray, repeats: int = 3) -> dict[str, float]:
    """Best-of CPU and wall seconds for ``find_copies`` on 1,000 images; sgemm GFLOP/s as context."""
    images = np.resize(images, (1000, *images.shape[1:]))
    C.find_copies(index, images[:10])  # decode the codes once
    cpu, wall = [], []
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        C.find_copies(index, images)
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    a = np.random.default_rng(0).normal(size=(1024, 1024)).astype(np.float32)
    c0 = time.process_time()
    for _ in range(5):
        a @ a
    gflops = 5 * 2 * 1024 ** 3 / (time.process_time() - c0) / 1e9
    return {"cpu": min(cpu), "wall": min(wall), "gflops": gflops,
            "load": os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")}


# ---------------------------------------------------------------- proposal
def required(outcomes: list[Outcome]) -> list[Outcome]:
    """The catch sets that must all be flagged (every group but ``stress``)."""
    return [o for o in outcomes if o.group != "stress"]


def propose(catch: list[Outcome], alarms: list[Outcome]) -> tuple[float, float]:
    """(threshold_strict, threshold_score) by the rules of the module docstring."""
    need = np.concatenate([o.m.score[_right(o)] for o in required(catch)])
    worst_catch = float(need.max())
    least_alarm = float(min(o.m.score.min() for o in alarms))
    if worst_catch < least_alarm:
        score = round((worst_catch + least_alarm) / 2, 2)
    else:  # no gap: false alarms weigh more than missed catches
        score = round(least_alarm - 0.02, 2)
    least_d = float(min(o.m.distance.min() for o in alarms))
    strict = round(float(np.floor(STRICT_MARGIN * least_d * 100)) / 100, 2)
    return strict, score


def _right(o: Outcome) -> np.ndarray:
    """Images matched to their own source (not to a near-duplicate of it)."""
    return o.global_match == o.expected


# ---------------------------------------------------------------- report
def _q(values: np.ndarray) -> str:
    return " | ".join(f"{np.quantile(values, q):.3f}" for q in QUANTILES)


def _pct(k: int, n: int) -> str:
    return f"{100 * k / n:.1f}%" if n else "-"


def held_out_section(tt: C.CopyMatches, index: C.CopyIndex) -> list[str]:
    """Test images searched against train only."""
    n = len(tt)
    lines = ["## Real held-out images: distance of each test image to the train set", "",
             f"All {n} test images searched against the {index.split_sizes[0]} train images "
             "(the same search, index restricted to `train`). Quantiles:", "",
             "| measure | min | 0.1% | 1% | 5% | median |", "|---|---:|---:|---:|---:|---:|",
             f"| coarse distance d | {_q(tt.distance)} |", f"| score f + w d | {_q(tt.score)} |",
             "", "Test images whose train neighbour passes the copy rule (CIFAR-10's own "
             "near-duplicates: the same photo, or the same photo series, in both splits):", "",
             "| rule | test images | share |", "|---|---:|---:|"]
    for label, mask in ((f"d <= strict {index.threshold_strict}", tt.distance <= index.threshold_strict),
                        ("score <= 0.10", tt.score <= 0.10), ("score <= 0.20", tt.score <= 0.20),
                        (f"score <= threshold {index.threshold_score}",
                         tt.score <= index.threshold_score),
                        ("flagged (either rule)", tt.is_copy)):
        lines.append(f"| {label} | {int(mask.sum())} | {_pct(int(mask.sum()), n)} |")
    share = _pct(int(tt.is_copy.sum()), n)
    lines += ["", "Treatment: they are real images and stay in the index; a student showing one "
              "is flagged whichever split it is matched in. They are not used to set the "
              "threshold (the false-alarm sets are). Random pairs looked at when this check was "
              "written were the same photo up to a score of 0.20 (the row above); between that "
              "and the threshold they mix re-used photos with merely similar ones. So a flag is strong evidence at a low score and weaker near "
              f"the threshold, and a set of samples as faithful as real held-out images would "
              f"still have about {share} flagged: compare a student's flagged share with that "
              "baseline, and look at the pairs, before calling it copying.", ""]
    return lines


def distance_section(tt: C.CopyMatches, alarms: list[Outcome]) -> list[str]:
    """Quantiles of d and score: test->train vs generated/noise -> all real images."""
    lines = ["## Generated samples vs real held-out images", "",
             "Quantiles of the coarse distance d and of the score to the closest real image "
             "(generated and noise images: all 60,000 real images; test images: the 50,000 "
             "train images).", "",
             "| set | images | d min | d 0.1% | d 1% | d 5% | d median | score min | score 0.1% "
             "| score 1% | score 5% | score median |", "|---|---:|" + "---:|" * 10,
             f"| real test -> train | {len(tt)} | {_q(tt.distance)} | {_q(tt.score)} |"]
    lines += [f"| {o.name} | {len(o.m)} | {_q(o.m.distance)} | {_q(o.m.score)} |" for o in alarms]
    below = [(o.name, float((o.m.score <= np.quantile(tt.score, 0.05)).mean())) for o in alarms]
    lines += ["", "Share of each generated/noise set with a score below the 5% quantile of the "
              "held-out scores: " + ", ".join(f"{n} {100 * v:.2f}%" for n, v in below) + ".", ""]
    return lines


def catch_section(catch: list[Outcome], threshold_score: float) -> list[str]:
    """Catch rates per transformation."""
    lines = ["## Catch rates: real images passed off as samples", "",
             "Flagged: the check says copy. Same image: matched to the very image it came from "
             "(the rest matched one of its near-duplicates). Lost: the figure did not give back "
             "16 tiles, so the images never reached the check.", "",
             "| group | transformation | images | lost | flagged | same image | highest score "
             "flagged | misses (d, f) |", "|---|---|---:|---:|---:|---:|---:|---|"]
    for o in catch:
        n, miss = len(o.m), ~o.m.is_copy
        worst = f"{o.m.score[o.m.is_copy].max():.3f}" if o.m.n_copies else "-"
        misses = ", ".join(f"({d:.2f}, {f:.2f})" for d, f in
                           zip(o.m.distance[miss][:6], o.m.fine[miss][:6]))
        more = f" +{int(miss.sum()) - 6} more" if miss.sum() > 6 else ""
        lines.append(f"| {o.group} | {o.name} | {n} | {o.n_lost} | {o.m.n_copies} "
                     f"({_pct(o.m.n_copies, n)}) | {_pct(int(_right(o).sum()), n)} | {worst} | "
                     f"{misses}{more} |")
    req = required(catch)
    n_req = sum(len(o.m) for o in req)
    k_req = sum(o.m.n_copies for o in req)
    strict_only = sum(int((o.m.is_copy & (o.m.score > threshold_score)).sum()) for o in req)
    lines += ["", f"Required sets (groups a-g): {k_req} of {n_req} flagged "
              f"({100 * k_req / n_req:.2f}%), {strict_only} of them by the strict rule alone; "
              f"{sum(o.n_lost for o in req)} images lost in figures.", ""]
    return lines


def alarm_section(alarms: list[Outcome]) -> list[str]:
    """False alarms per set."""
    lines = ["## False alarms: generated samples and noise", "",
             "| set | images | flagged | lowest d | lowest score | lowest fine mismatch |",
             "|---|---:|---:|---:|---:|---:|"]
    lines += [f"| {o.name} | {len(o.m)} | {o.m.n_copies} | {o.m.distance.min():.3f} | "
              f"{o.m.score.min():.3f} | {o.m.fine.min():.3f} |" for o in alarms]
    return lines + [""]


def threshold_section(index: C.CopyIndex, catch: list[Outcome], alarms: list[Outcome],
                      tt: C.CopyMatches) -> list[str]:
    """The rule, the proposal, and how the shipped thresholds compare."""
    strict, score = propose(catch, alarms)
    need = np.concatenate([o.m.score[_right(o)] for o in required(catch)])
    worst = max(required(catch), key=lambda o: o.m.score[_right(o)].max())
    least = min(alarms, key=lambda o: o.m.score.min())
    d_least = min(alarms, key=lambda o: o.m.distance.min())
    same = (strict, score) == (index.threshold_strict, index.threshold_score)
    return [
        "## Thresholds", "",
        f"Score = fine mismatch f + {index.coarse_weight} x coarse distance d. A copy when "
        f"d <= threshold_strict or score <= threshold_score.", "",
        f"- Highest score of a required catch matched to its own image: {need.max():.3f} "
        f"({worst.name}); 99th percentile {np.quantile(need, 0.99):.3f}.",
        f"- Lowest score of any false-alarm image: {least.m.score.min():.3f} ({least.name}).",
        f"- Proposed threshold_score (midway, 0.01 grid): **{score}**; it lies at the "
        f"{100 * (tt.score <= score).mean():.1f}% quantile of the held-out test->train scores.",
        f"- Lowest coarse distance of any false-alarm image: {d_least.m.distance.min():.3f} "
        f"({d_least.name}); proposed threshold_strict ({STRICT_MARGIN} x that, rounded "
        f"down): **{strict}**; {100 * (tt.distance <= strict).mean():.1f}% of held-out "
        "test images are that close to a train image.",
        f"- Shipped index: threshold_strict {index.threshold_strict}, threshold_score "
        f"{index.threshold_score}: " + ("the same." if same else
                                       "DIFFERENT from the proposal; rebuild the index with "
                                       "the proposed values or explain."), ""]


def speed_section(sp: dict[str, float], size: int) -> list[str]:
    """Query speed and index size."""
    return ["## Size and speed", "",
            f"- Index file: {size / 1e6:.2f} MB.",
            f"- `find_copies` on 1,000 generated images, one thread: {sp['cpu']:.2f} s CPU, "
            f"{sp['wall']:.2f} s wall (best of 3). Context: a 1024x1024 float32 matrix product "
            f"ran at {sp['gflops']:.0f} GFLOP/s on this machine during the run (load average "
            f"{sp['load']:.1f}).", ""]


def limits_section(catch: list[Outcome]) -> list[str]:
    """Known limits, with the stress-test rows they refer to."""
    stress = {o.name: f"{_pct(o.m.n_copies, len(o.m))}" for o in catch if o.group == "stress"}
    return ["## Known limits", "",
            "- Figure panels smaller than the image (figures of 2-2.5 inches at 72-100 dpi) and "
            "a 16x16 detour lose the fine detail; flagged: " + ", ".join(
                f"{k} {v}" for k, v in stress.items() if "grid" in k or "16" in k) + ".",
            "- The alignment search covers shifts up to 1.5 px and scales 0.95-1.05; "
            "random-crop augmentation and zooms go beyond it: " + ", ".join(
                f"{k} {v}" for k, v in stress.items() if "shift" in k or "zoom" in k) + ".",
            f"- Grayscale versions keep the structure but not the colour: flagged "
            f"{stress.get('grayscale', '-')}.",
            "- Lesson-size figures lose an image when `extract_tiles` cuts its panel wrongly (a "
            "pale edge row read as background, or a dark image border trimmed as an axis "
            "spine); those are the misses of group b above, matched to unrelated images.",
            "- Thresholds are measured against the reference DCGAN only; a much better "
            "generator makes samples closer to real images, and its lowest scores should be "
            "checked the same way before trusting a flag without looking at the pair.",
            "- A match names the position in the data the index was built from (this JPEG "
            "tree, sorted by class and file name), not the order of the pickled batches.", ""]


def report(args, index: C.CopyIndex, size: int, tt, catch, alarms, sp, seconds: float) -> str:
    """The whole markdown report."""
    head = ["# Copy check: calibration", "",
            f"Generated by `python -m reference.calibrate_copies --data {args.data_label} "
            f"--n-real {args.n_real} --n-grid {args.n_grid} --n-gen {args.n_gen} --n-noise "
            f"{args.n_noise} --seed {args.seed}` ({seconds / 60:.0f} min); do not edit by hand.",
            "", f"Index: `{args.index_label}`, {len(index)} images "
            f"({', '.join(f'{n} {k}' for k, n in zip(index.split_names, index.split_sizes))}), "
            f"descriptor version {index.version}, built from {index.source} (sha256 "
            f"`{index.source_sha256}`). The real images below come from the same data; the "
            "pickled CIFAR-10 differs from this JPEG copy by about one JPEG pass, which group g "
            "imitates.", ""]
    body = (threshold_section(index, catch, alarms, tt) + held_out_section(tt, index)
            + distance_section(tt, alarms) + catch_section(catch, index.threshold_score)
            + alarm_section(alarms) + speed_section(sp, size) + limits_section(catch))
    return "\n".join(head + body)


def main(argv: list[str] | None = None) -> int:
    """Command line: measure everything and write the report."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", required=True, help="CIFAR-10 source (as for load_dataset)")
    p.add_argument("--index", type=Path, default=C.default_index_path())
    p.add_argument("--n-real", type=int, default=3000, help="real images per transformation")
    p.add_argument("--n-grid", type=int, default=960, help="real images per figure setting")
    p.add_argument("--n-gen", type=int, default=5000, help="samples per reference generator")
    p.add_argument("--n-noise", type=int, default=1000, help="images per noise kind")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, default=OUT)
    args = p.parse_args(argv)
    from grader.data import load_dataset

    t0 = time.perf_counter()
    index = C.load_copy_index(args.index)
    d = load_dataset(args.data)
    print("held-out test -> train ...", flush=True)
    tt = C.find_copies(index.only(("train",)), d.x_test)
    print("catches ...", flush=True)
    images, where = real_sample(d, args.n_real, args.seed)
    catch = catches(index, images, where, args.n_grid)
    print("false alarms ...", flush=True)
    sets = {**generator_samples(args.n_gen, args.seed), **noise_sets(args.n_noise, args.seed)}
    alarms = [Outcome(k, "alarm", C.find_copies(index, v)) for k, v in sets.items()]
    sp = speed(index, next(iter(sets.values())))
    args.data_label = Path(args.data).name if Path(args.data).exists() else args.data
    args.index_label = _label(args.index)
    text = report(args, index, args.index.stat().st_size, tt, catch, alarms, sp,
                  time.perf_counter() - t0)
    args.out.write_text(text + "\n")
    print(f"wrote {args.out}")
    return 0


def _label(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(HERE.parent))
    except ValueError:
        return str(path)


if __name__ == "__main__":
    raise SystemExit(main())
