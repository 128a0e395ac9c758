"""Wall time and peak memory of ``grade submissions/alice --quick`` (the README demo).

Peak memory is the largest sum of resident memory (RSS) over the whole process tree (the
grader and the sandboxed child), sampled every 0.1 s from /proc.

Usage: python bench/grade_latency.py [SUBMISSION] [--runs 1] [--json out.json] [-- extra args]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def tree_rss_mb(pid: int) -> float:
    """Resident memory of ``pid`` and all its descendants, in MB (the sandbox's own watchdog)."""
    from grader.sandbox.limits import process_tree
    from grader.sandbox.limits import tree_rss_mb as rss_of

    return rss_of(process_tree(pid))


def measure(submission: str, extra: list[str]) -> dict:
    """Run the command once; return wall seconds, peak tree RSS and the exit code."""
    with tempfile.TemporaryDirectory() as out:
        cmd = [sys.executable, "-m", "grader.cli", submission, "--quick", "--out", out, *extra]
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True)
        peak = 0.0
        while proc.poll() is None:
            peak = max(peak, tree_rss_mb(proc.pid))
            time.sleep(0.1)
        wall = time.perf_counter() - t0
        err = proc.stderr.read() if proc.stderr else ""
        score = None
        if (Path(out) / "result.json").is_file():
            res = json.loads((Path(out) / "result.json").read_text())
            score = f"{res['score']:g}/{res['max_score']:g}"
            timing = res.get("timing", {})
        else:
            timing = {}
    return {"wall_s": round(wall, 1), "peak_rss_mb": round(peak), "rc": proc.returncode,
            "score": score, "timing": timing, "stderr_tail": err[-500:] if proc.returncode else ""}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("submission", nargs="?", default="submissions/alice")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--json", default=None)
    args, extra = parser.parse_known_args()
    extra = [e for e in extra if e != "--"]
    runs = [measure(args.submission, extra) for _ in range(args.runs)]
    for r in runs:
        print(f"{args.submission}: {r['wall_s']} s wall, peak {r['peak_rss_mb']} MB RSS, "
              f"exit {r['rc']}, score {r['score']}")
    print(f"machine: {os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f}")
    if args.json:
        Path(args.json).write_text(json.dumps(runs, indent=1))


if __name__ == "__main__":
    main()
