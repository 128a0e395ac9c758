"""numpy BLAS threads in the grader's child processes: 1 vs 2, with and without a busy core.

The trusted process's numpy work is on small matrices (the judge's 128-d features: Fréchet
distance, k-NN realism against 5,000 real features). OpenBLAS threads spin-wait for each
other; when the student's process and the trusted process share two cores (every quick
grade, every cohort worker), a thread that lost its core stalls the whole call. This bench
runs the same work in a fresh process per setting, alone and next to busy processes, in one
run::

    .venv/bin/python bench/blas_threads.py --json bench/results/blas_threads_DATE.json

Each cell is the median of ``--repeats`` timings (seconds).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

WORK = r'''
import json, sys, time
import numpy as np
rng = np.random.default_rng(0)
a = rng.normal(size=(128, 128)); cov = a @ a.T / 128
b = rng.normal(size=(128, 128)); cov2 = b @ b.T / 128
feats = rng.normal(size=(800, 128)).astype(np.float32)
real = rng.normal(size=(5000, 128)).astype(np.float32)
def eig():
    np.linalg.eigvals(cov @ cov2)
def knn():
    d2 = (feats * feats).sum(1)[:, None] + (real * real).sum(1)[None, :] - 2 * feats @ real.T
    np.sqrt(np.maximum(d2, 0)).max(axis=1)
out = {}
for name, fn in (("eigvals_128", eig), ("knn_800x5000", knn)):
    fn()
    ts = []
    for _ in range(int(sys.argv[1])):
        t = time.perf_counter(); fn(); ts.append(time.perf_counter() - t)
    out[name] = sorted(ts)[len(ts) // 2]
print(json.dumps(out))
'''

BUSY = "import time\nend = time.time() + 600\nwhile time.time() < end:\n    pass\n"


def measure(threads: int, busy: int, repeats: int) -> dict[str, float]:
    """Median seconds of each kernel in a fresh process with ``threads`` BLAS threads."""
    hogs = [subprocess.Popen([sys.executable, "-c", BUSY]) for _ in range(busy)]
    try:
        time.sleep(0.5 if busy else 0.0)
        env = dict(os.environ, OPENBLAS_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads),
                   OMP_NUM_THREADS=str(threads))
        res = subprocess.run([sys.executable, "-c", WORK, str(repeats)], env=env, check=True,
                             capture_output=True, text=True, timeout=900)
        return json.loads(res.stdout)
    finally:
        for h in hogs:
            h.kill()
            h.wait()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=15)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)
    rows = []
    for busy in (0, 1):
        for threads in (1, 2):
            cell = measure(threads, busy, args.repeats)
            rows.append({"busy_processes": busy, "blas_threads": threads, **cell})
            print(f"busy={busy} threads={threads}: " +
                  "  ".join(f"{k} {v * 1000:.1f} ms" for k, v in cell.items()), flush=True)
    record = {"command": "python bench/blas_threads.py" + (f" --repeats {args.repeats}"),
              "cpus": os.cpu_count(), "rows": rows}
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(record, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
