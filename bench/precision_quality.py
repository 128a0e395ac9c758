"""Is mixed_bfloat16 training faithful? The judge's metrics after N steps, per precision.

Trains the reference DCGAN (``reference.solution``) for ``--steps`` steps with each seed, once
in float32 and once with the models built under ``mixed_bfloat16``, samples 512 images from
fixed noise and judges them. bfloat16 is faithful when, for every metric, its mean over the
seeds lies inside the range the float32 seeds span (the run-to-run spread, measured here and
not assumed). Also prints each run's training speed, so the speed ratio and the quality check
come from one run.

Usage: python bench/precision_quality.py [--steps 400] [--seeds 0,1,2] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

METRICS = ("classifier_score", "recognizable_fraction", "fcd", "clear_per_16", "named_per_16")


def one_run(images: np.ndarray, steps: int, batch: int, seed: int, precision: str) -> dict:
    """Train, sample and judge once; the metrics and the images/s of the training."""
    import tensorflow as tf

    from grader.judge.classifier import load_judge
    from grader.judge.metrics import score_images
    from grader.training.trainer import TrainConfig, precision_policy, sample_images, train_gan
    from reference import solution

    tf.keras.utils.set_random_seed(seed)
    with precision_policy(precision):
        generator = solution.make_generator_model()
        discriminator = solution.make_discriminator_model()
    g_opt, d_opt = solution.make_optimizers()
    t0 = time.perf_counter()
    train_gan(generator, discriminator, images, generator_loss=solution.generator_loss,
              discriminator_loss=solution.discriminator_loss, generator_optimizer=g_opt,
              discriminator_optimizer=d_opt,
              config=TrainConfig(steps=steps, batch_size=batch, seed=seed, sample_every=10**9),
              progress=None)
    seconds = time.perf_counter() - t0
    samples = sample_images(generator, 512, seed=999)
    r = score_images(samples, load_judge(), seed=0, n_boot=200)
    return {"precision": precision, "seed": seed, "images_per_s": steps * batch / seconds,
            "classifier_score": r.classifier_score,
            "recognizable_fraction": r.recognizable_fraction, "fcd": r.fcd,
            "clear_per_16": 16 * (r.clear_count or 0) / r.n,
            "named_per_16": 16 * (r.named_count or 0) / r.n}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--json", default=None)
    args = parser.parse_args()

    from grader.data import load_dataset
    from grader.judge.precision import native_bfloat16
    from grader.tf_setup import configure_tensorflow

    device = configure_tensorflow(seed=0)
    images = load_dataset().x_train
    seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    runs = []
    for seed in seeds:  # interleaved, so a change in machine load hits both precisions alike
        for precision in ("float32", "mixed_bfloat16"):
            runs.append(one_run(images, args.steps, args.batch, seed, precision))
            print(json.dumps(runs[-1]), flush=True)
    f32 = [r for r in runs if r["precision"] == "float32"]
    bf16 = [r for r in runs if r["precision"] == "mixed_bfloat16"]
    speed = np.mean([r["images_per_s"] for r in bf16]) / np.mean([r["images_per_s"] for r in f32])
    print(f"device {device}, native bfloat16 {native_bfloat16()}, {args.steps} steps of "
          f"{args.batch}, seeds {seeds}")
    print(f"speed: mixed_bfloat16 / float32 = x{speed:.2f}")
    faithful = True
    for m in METRICS:
        lo, hi = min(r[m] for r in f32), max(r[m] for r in f32)
        mean = float(np.mean([r[m] for r in bf16]))
        inside = lo <= mean <= hi
        faithful &= inside
        print(f"  {m:<22} float32 {lo:8.3f} .. {hi:8.3f}   bfloat16 mean {mean:8.3f}  "
              f"{'inside' if inside else 'OUTSIDE'}")
    print("faithful" if faithful else "NOT faithful: keep float32")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"device": device, "steps": args.steps, "batch": args.batch,
                       "runs": runs, "speed_ratio": speed, "faithful": faithful}, fh, indent=1)


if __name__ == "__main__":
    main()
