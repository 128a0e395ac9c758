"""Wall time and peak memory of ``grade SUBMISSION --quick`` (default: alice, the README demo).

Peak memory is the largest sum of resident memory (RSS) over the whole process tree (the
grader and its sandboxed children), sampled every 0.1 s from /proc.

``--before TREE`` also runs another checkout of the grader (e.g. a ``git worktree`` of the
previous commit, run through ``PYTHONPATH``; its children run its own code), interleaved
with this one, run by run, so that both see the same machine load.

Usage: python bench/grade_latency.py [SUBMISSION...] [--runs 1] [--before TREE]
       [--json out.json] [-- extra args]
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


def measure(submission: str, extra: list[str], tree: Path | None = None) -> dict:
    """Run the command once (with the grader of ``tree``, default this checkout); return
    wall seconds, peak tree RSS and the exit code."""
    env = dict(os.environ)
    if tree is not None:
        env["PYTHONPATH"] = str(Path(tree).resolve())
    with tempfile.TemporaryDirectory() as out:
        cmd = [sys.executable, "-m", "grader.cli", str(Path(submission).resolve()), "--quick",
               "--out", out, *extra]
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=tree or ROOT, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True, env=env)
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
    parser.add_argument("submissions", nargs="*", default=["submissions/alice"])
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--before", type=Path, default=None,
                        help="another checkout of the grader to compare with (run first)")
    parser.add_argument("--json", default=None)
    args, extra = parser.parse_known_args()
    extra = [e for e in extra if e != "--"]
    trees = [("before", args.before), ("now", None)] if args.before else [("now", None)]
    runs = []
    for submission in args.submissions:
        for _ in range(args.runs):
            for label, tree in trees:
                r = measure(submission, extra, tree)
                r.update(submission=submission, tree=label)
                runs.append(r)
                print(f"{label:<6} {Path(submission).name}: {r['wall_s']} s wall, peak "
                      f"{r['peak_rss_mb']} MB RSS, exit {r['rc']}, score {r['score']}",
                      flush=True)
    print(f"machine: {os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f}")
    if args.json:
        Path(args.json).write_text(json.dumps(runs, indent=1))


if __name__ == "__main__":
    main()
