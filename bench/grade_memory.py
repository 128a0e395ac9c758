"""Where a quick grade's memory goes: resident memory of each process of the tree over time.

Runs ``grade SUBMISSION --quick`` and samples every process under it every 0.2 s, named by
role (the grader itself, the student's process, the trusted process, bubblewrap). Prints the
peak of the whole tree, what each role held at that moment, and each role's own peak.

Two measures: the sum of RSS (what ``/usr/bin/time``-style tree sums report; it counts the
TensorFlow libraries' shared pages once per process) and the sum of PSS (proportional set
size: a page shared by two processes counts half in each, so the sum is the physical
memory the tree holds).

Usage: python bench/grade_memory.py SUBMISSION [--out DIR] [--json FILE] [-- extra grade args]
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

import psutil


def role(proc: psutil.Process) -> str:
    """What a process of the grade's tree is, from its command line."""
    try:
        cmd = " ".join(proc.cmdline())
    except (psutil.Error, OSError):
        return "gone"
    if "grader.sandbox.student" in cmd:
        return "student"
    if "grader.sandbox.trusted" in cmd:
        return "trusted"
    if "bwrap" in cmd:
        return "bubblewrap"
    if "grade" in cmd or "grader" in cmd:
        return "grader"
    return "other"


def sample(root: psutil.Process) -> dict[str, float]:
    """MB resident per role, now (``role`` RSS and ``role:pss``)."""
    out: dict[str, float] = {}
    try:
        procs = [root, *root.children(recursive=True)]
    except psutil.Error:
        return out
    for p in procs:
        try:
            info = p.memory_full_info()
        except psutil.Error:
            continue
        r = role(p)
        out[r] = out.get(r, 0.0) + info.rss / 2**20
        out[f"{r}:pss"] = out.get(f"{r}:pss", 0.0) + getattr(info, "pss", info.rss) / 2**20
    return out


def main(argv: list[str] | None = None) -> int:
    """Grade once while sampling; print the peak and its make-up."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("submission")
    p.add_argument("--out", default=None)
    p.add_argument("--json", default=None)
    p.add_argument("extra", nargs="*")
    a = p.parse_args(argv)
    out = a.out or tempfile.mkdtemp(prefix="grade_memory_")
    cmd = [str(Path(sys.executable).parent / "grade"), a.submission, "--quick", "--out", out, *a.extra]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env=dict(os.environ))
    root = psutil.Process(proc.pid)
    timeline: list[tuple[float, dict[str, float]]] = []
    while proc.poll() is None:
        timeline.append((time.perf_counter() - t0, sample(root)))
        time.sleep(0.2)
    wall = time.perf_counter() - t0
    def total(s: dict[str, float], pss: bool) -> float:
        return sum(v for k, v in s.items() if k.endswith(":pss") == pss)

    peak_t, peak = max(timeline, key=lambda x: total(x[1], False), default=(0.0, {}))
    pss_t, pss_peak = max(timeline, key=lambda x: total(x[1], True), default=(0.0, {}))
    own = {r: max(s.get(r, 0.0) for _, s in timeline) for r in
           sorted({r for _, s in timeline for r in s})}
    result = {"submission": a.submission, "wall_s": round(wall, 1), "rc": proc.returncode,
              "peak_rss_mb": round(total(peak, False)), "peak_at_s": round(peak_t, 1),
              "at_peak_mb": {k: round(v) for k, v in peak.items()},
              "peak_pss_mb": round(total(pss_peak, True)), "pss_peak_at_s": round(pss_t, 1),
              "own_peak_mb": {k: round(v) for k, v in own.items()}}
    print(json.dumps(result, indent=1))
    if a.json:
        Path(a.json).write_text(json.dumps(result, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
