"""Cohort throughput: 8 sample variants graded with ``--workers 1`` and ``--workers 2``.

The cohort is built from the sample submissions and the reference solution (copies with a
changed comment, so each is a distinct submission): alice x2, carol x2, bob, dave, the
reference notebook and the reference ``.py``. Both runs use the same budget (quick mode
unless ``--steps`` is given) and a fresh output folder, so nothing is cached. Scaling
efficiency = (wall with 1 worker) / (2 x wall with 2 workers); 100% = perfect use of a
second worker.

``--corpus DIR`` grades realistic student notebooks instead: the first ``--n`` folders of a
corpus built by ``python -m reference.corpus.make_corpus --out DIR`` (its ``_evidence``
folder is left out).

``--dask N`` grades the same cohort once more on a Dask cluster of N loopback worker
processes (one thread each, started here with ``distributed.LocalCluster``) and reports how
its time divides: the grade processes on the workers, packing and shipping the submissions
and their outputs, and the rest (scheduling, committing), so that a real cluster's time can
be projected from the per-student grade time.

Usage: python bench/cohort_throughput.py [--steps N] [--workers 1,2] [--n 8] [--corpus DIR]
       [--dask N] [--json out.json]
(``--corpus runs/corpus --n 25 --workers 1,2`` checks the goal: 25 in at most 10 minutes.)
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def build_cohort(dest: Path) -> list[str]:
    """Eight distinct submissions made from the samples; returns their names."""
    dest.mkdir(parents=True)
    subs = ROOT / "submissions"
    shutil.copytree(subs / "alice", dest / "alice")
    shutil.copytree(subs / "alice", dest / "alice2")
    nb = next((dest / "alice2").glob("*.ipynb"))
    nb.write_text(nb.read_text(encoding="utf-8").replace("DCGAN", "DCGAN (v2)", 1),
                  encoding="utf-8")
    shutil.copytree(subs / "carol", dest / "carol")
    shutil.copytree(subs / "carol", dest / "carol2")
    for py in (dest / "carol2").glob("*.py"):
        py.write_text("# variant 2\n" + py.read_text(encoding="utf-8"), encoding="utf-8")
    shutil.copytree(subs / "bob", dest / "bob")
    shutil.copytree(subs / "dave", dest / "dave")
    shutil.copy(ROOT / "reference" / "solution.ipynb", dest / "ref_nb.ipynb")
    shutil.copy(ROOT / "reference" / "solution.py", dest / "ref_py.py")
    return sorted(p.stem if p.is_file() else p.name for p in dest.iterdir())


def grow_cohort(dest: Path, n: int) -> list[str]:
    """Add distinct copies of the eight (a marker file changes each hash) until there are n."""
    base = sorted(dest.iterdir())
    i = 0
    while len(list(dest.iterdir())) < n:
        src = base[i % len(base)]
        copy = dest / f"{src.stem if src.is_file() else src.name}_c{i // len(base) + 1}"
        if src.is_file():
            copy = copy.with_suffix(src.suffix)
            copy.write_bytes(src.read_bytes() + f"\n# copy {i}\n".encode()
                             if src.suffix == ".py" else src.read_bytes())
            if src.suffix != ".py":  # a notebook: change its metadata, keep it valid JSON
                nb = json.loads(copy.read_text(encoding="utf-8"))
                nb.setdefault("metadata", {})["copy"] = i
                copy.write_text(json.dumps(nb), encoding="utf-8")
        else:
            shutil.copytree(src, copy)
            (copy / f"copy_{i}.txt").write_text(str(i))
        i += 1
    return sorted(p.stem if p.is_file() else p.name for p in dest.iterdir())


def corpus_cohort(corpus: Path, dest: Path, n: int) -> list[str]:
    """The first ``n`` notebooks of a corpus (folders, sorted by name) copied into ``dest``."""
    dest.mkdir(parents=True)
    picked = sorted(p for p in corpus.iterdir() if p.is_dir() and not p.name.startswith("_"))
    for src in picked[:n]:
        shutil.copytree(src, dest / src.name)
    return [p.name for p in picked[:n]]


def run(cohort: Path, out: Path, workers: int, extra: list[str]) -> dict:
    """One ``grade cohort`` run; wall time and per-student seconds and scores."""
    cmd = [sys.executable, "-m", "grader.cli", "cohort", str(cohort), "--out", str(out),
           "--workers", str(workers), *extra]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    students = json.loads((out / "cohort.json").read_text(encoding="utf-8"))["students"] \
        if (out / "cohort.json").is_file() else []
    return {"workers": workers, "wall_s": round(wall, 1), "rc": proc.returncode,
            "students": {s["student"]: {"status": s["status"], "score": s.get("score"),
                                        "seconds": s.get("seconds")} for s in students},
            "stderr_tail": proc.stderr[-800:] if proc.returncode else ""}


def run_dask(cohort: Path, out: Path, n_workers: int, extra: list[str]) -> dict:
    """One ``grade cohort --scheduler`` run on N loopback Dask workers, with its time split."""
    from distributed import LocalCluster

    from grader.cohort.remote import pack_submission

    subs = sorted(p for p in cohort.iterdir() if not p.name.startswith("."))
    t0 = time.perf_counter()
    sizes = [len(pack_submission(p)[1]) for p in subs]
    pack_s = time.perf_counter() - t0
    with LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster:
        row = run(cohort, out, 1, [*extra, "--scheduler", cluster.scheduler_address])
    grade_s = sum(float(s["seconds"] or 0) for s in row["students"].values())
    returned = sum(f.stat().st_size for f in out.rglob("*") if f.is_file()
                   and not any(part.startswith(".") for part in f.relative_to(out).parts))
    wall = row["wall_s"]
    row.update({
        "dask_workers": n_workers, "workers": f"dask:{n_workers}",
        "grade_seconds_sum": round(grade_s, 1),
        "worker_utilisation": round(grade_s / (n_workers * wall), 3) if wall else None,
        "pack_seconds_all": round(pack_s, 2), "sent_mb": round(sum(sizes) / 1e6, 1),
        "returned_mb": round(returned / 1e6, 1),
        "rest_seconds_per_student": round((n_workers * wall - grade_s) / max(1, len(subs)), 1),
    })
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=None, help="budget (default: quick mode's)")
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--n", type=int, default=8,
                        help="submissions (default 8; more are distinct copies of the eight)")
    parser.add_argument("--corpus", type=Path, default=None,
                        help="a corpus folder (reference.corpus.make_corpus) to grade instead")
    parser.add_argument("--dask", type=int, default=0,
                        help="also grade on this many loopback Dask workers (0: no)")
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    extra = ["--quick"] + (["--steps", str(args.steps)] if args.steps else [])
    rows = []
    with tempfile.TemporaryDirectory(prefix="cohort-bench-") as tmp:
        if args.corpus:
            names = corpus_cohort(args.corpus, Path(tmp) / "in", args.n)
        else:
            names = build_cohort(Path(tmp) / "in")
        if not args.corpus and args.n > len(names):
            names = grow_cohort(Path(tmp) / "in", args.n)
        for w in (int(x) for x in args.workers.split(",")):
            row = run(Path(tmp) / "in", Path(tmp) / f"out{w}", w, extra)
            rows.append(row)
            print(f"workers={w}: {row['wall_s']:.0f} s for {len(names)} submissions "
                  f"({row['wall_s'] / len(names):.0f} s each), rc={row['rc']}", flush=True)
        if args.dask:
            row = run_dask(Path(tmp) / "in", Path(tmp) / "out_dask", args.dask, extra)
            rows.append(row)
            print(f"dask, {args.dask} loopback workers: {row['wall_s']:.0f} s for {len(names)} "
                  f"submissions, rc={row['rc']}; grade processes {row['grade_seconds_sum']:.0f} s "
                  f"in all ({row['worker_utilisation']:.0%} of {args.dask} workers' time), "
                  f"packing {row['pack_seconds_all']:.1f} s for {row['sent_mb']} MB sent, "
                  f"{row['returned_mb']} MB back; the rest "
                  f"{row['rest_seconds_per_student']:.1f} worker-s per student", flush=True)
    summary = {"n": len(names), "runs": rows}
    by = {r["workers"]: r["wall_s"] for r in rows}
    if 1 in by and 2 in by:
        summary["speedup_2_over_1"] = round(by[1] / by[2], 2)
        summary["scaling_efficiency"] = round(by[1] / (2 * by[2]), 2)
        per = by[2] / len(names)
        summary["projected_25_submissions_min_2_workers"] = round(25 * per / 60, 1)
        print(f"speed-up x{summary['speedup_2_over_1']}, scaling efficiency "
              f"{summary['scaling_efficiency']:.0%}; 25 submissions at 2 workers: "
              f"~{summary['projected_25_submissions_min_2_workers']} min")
    if args.json:
        Path(args.json).write_text(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
