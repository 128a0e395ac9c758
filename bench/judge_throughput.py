"""Measure the judge: load time (target <= 3 s) and inference throughput (target >= 1,000 img/s).

Usage: nice -n 10 .venv/bin/python bench/judge_throughput.py [--n 5000] [--repeat 3] [--compare]
Prints one JSON line. Uses the shipped weights in grader/assets/judge/, in the arithmetic
``grader.judge.precision`` picks here (``DCGAN_GRADER_JUDGE_PRECISION=float32`` to force float32).
``--compare`` also times the shipped judge's ``predict`` in float32 and in bfloat16 in this same
process (batches of 500) and reports the ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import time


def main() -> None:
    """Time import + load, predict at a few batch sizes, then the whole ``score_images``."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--n", type=int, default=5000, help="images per timed run")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--compare", action="store_true",
                   help="also time float32 against bfloat16 in this process")
    a = p.parse_args()
    t0 = time.perf_counter()
    import numpy as np

    from grader.judge.classifier import load_judge

    t_import = time.perf_counter()
    import keras  # noqa: F401  (counted apart: every TF user pays it once per process)

    t_tf = time.perf_counter()
    judge = load_judge()
    t_load = time.perf_counter()
    x = np.random.default_rng(0).integers(0, 256, (a.n, 32, 32, 3), dtype=np.uint8)
    judge.predict(x[:600])  # warm-up: traces the predict function
    out = {"import_s": round(t_import - t0, 2), "tensorflow_import_s": round(t_tf - t_import, 2),
           "load_s": round(t_load - t_tf, 2), "precision": judge.precision, "n": a.n,
           "cpus": os.cpu_count(),
           "loadavg": os.getloadavg()[0]}
    for batch in (250, 500, 1000):
        best = min(_timed(judge, x, batch) for _ in range(a.repeat))
        out[f"img_per_s_batch{batch}"] = round(a.n / best)
    from grader.judge.metrics import score_images

    best = float("inf")
    for _ in range(a.repeat):  # everything a grade pays: predict, gates, bootstrap, per image
        t = time.perf_counter()
        score_images(x, judge)
        best = min(best, time.perf_counter() - t)
    out["img_per_s_score_images"] = round(a.n / best)
    if a.compare:
        out.update(_compare_precisions(judge, x, a.repeat))
    print(json.dumps(out))


def _compare_precisions(judge, x, repeat: int) -> dict[str, float]:
    """Images/s of the shipped judge's ``predict`` in each arithmetic, and their ratio."""
    import dataclasses

    from grader.judge.classifier import load_keras_with_features

    out = {}
    for policy in ("float32", "bfloat16"):
        other = dataclasses.replace(judge, model=load_keras_with_features(judge.weights_path, policy),
                                    precision=policy, _compiled=None)
        other.predict(x[:500])  # warm-up: traces the predict function
        best = min(_timed(other, x, 500) for _ in range(repeat))
        out[f"img_per_s_network_{policy}"] = round(len(x) / best)
    out["ratio_bfloat16_over_float32"] = round(
        out["img_per_s_network_bfloat16"] / out["img_per_s_network_float32"], 2)
    return out


def _timed(judge, x, batch: int) -> float:
    t = time.perf_counter()
    judge.predict(x, batch_size=batch)
    return time.perf_counter() - t


if __name__ == "__main__":
    main()
