"""Grade a fixed set of submissions and keep every ``result.json``; compare two such runs.

The regression harness for behaviour-preserving changes (a restructuring must leave every
grade identical). The set: the four samples in ``submissions/`` and generated variants
(the crafted student styles under ``tests/cohort/fixtures/similarity`` and a few broken
inputs written by this script). Every case is graded by ``grade`` in its own process with a
small fixed budget, except ``alice``, which gets the default quick budget.

Usage::

    python bench/fixed_set.py run OUT_DIR [--only NAME,...]   # grade the set into OUT_DIR
    python bench/fixed_set.py compare DIR_A DIR_B             # exit 1 on any difference

``compare`` ignores what legitimately differs between runs: timings, package versions,
absolute paths of temporary folders, and the grader's own frames in instructor tracebacks
(``*_detail``), which move when the grader's code moves.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "cohort" / "fixtures" / "similarity"
SMALL_BUDGET = ["--steps", "20"]
#: result.json keys that differ between identical runs
VOLATILE_KEYS = frozenset({"timing", "versions", "timings", "wall_s", "images_per_s", "seconds"})

BROKEN_NOTEBOOK = '{"cells": [{"cell_type": "code", "source": "def make_generator_model(:\\n'
NOT_CODE = "just some notes, not a notebook\n"


def cases(scratch: Path) -> dict[str, tuple[Path, list[str]]]:
    """Case name -> (submission path, extra flags)."""
    out: dict[str, tuple[Path, list[str]]] = {
        "alice": (ROOT / "submissions" / "alice", []),
        "bob": (ROOT / "submissions" / "bob", SMALL_BUDGET),
        "carol": (ROOT / "submissions" / "carol", SMALL_BUDGET),
        "dave": (ROOT / "submissions" / "dave", SMALL_BUDGET),
    }
    for f in sorted(FIXTURES.glob("*/*")):
        if f.suffix in (".py", ".ipynb"):
            out[f"fixture_{f.stem}"] = (f, SMALL_BUDGET)
    broken = scratch / "broken"
    broken.mkdir(parents=True, exist_ok=True)
    (broken / "cut_off.ipynb").write_text(BROKEN_NOTEBOOK, encoding="utf-8")
    (broken / "notes.txt").write_text(NOT_CODE, encoding="utf-8")
    images_only = broken / "images_only"
    images_only.mkdir(exist_ok=True)
    shutil.copy(ROOT / "reference" / "baselines" / "long" / "samples_step_004680.png",
                images_only / "sample_epoch_0012.png")
    out["broken_notebook"] = (broken / "cut_off.ipynb", SMALL_BUDGET)
    out["images_only"] = (images_only, SMALL_BUDGET)
    return out


def run(out_dir: Path, only: set[str] | None) -> int:
    """Grade every case into ``out_dir/<case>/``; write ``out_dir/index.json``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    index: dict[str, Any] = {}
    for name, (path, flags) in cases(out_dir / "_inputs").items():
        if only and name not in only:
            continue
        dest = out_dir / name
        shutil.rmtree(dest, ignore_errors=True)
        cmd = [sys.executable, "-m", "grader.cli", str(path), "--out", str(dest), *flags]
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
        index[name] = {"rc": proc.returncode, "seconds": round(time.perf_counter() - t0, 1),
                       "stderr_tail": proc.stderr[-800:] if proc.returncode else ""}
        res = dest / "result.json"
        score = json.loads(res.read_text())["score"] if res.is_file() else None
        print(f"{name:40s} rc {proc.returncode} score {score} "
              f"({index[name]['seconds']} s)", flush=True)
    (out_dir / "index.json").write_text(json.dumps(index, indent=1))
    return 0


def _without_grader_frames(text: str) -> str:
    """A traceback without the frames inside the grader's own code (they move when it is
    restructured; the student's frames and the error itself stay)."""
    out, skipping = [], False
    for line in text.split("\n"):
        if re.match(r'\s*File "<ROOT>/(grader|reference)/', line):
            skipping = True
            continue
        if skipping and not re.match(r"\s*File ", line) and line.startswith("    "):
            continue  # the frame's code line and its ^^^ markers
        skipping = False
        if re.fullmatch(r"\s*[~^]+\s*", line):
            continue
        out.append(re.sub(r"\bgrader(\.\w+)+\.(\w+(Error|Timeout|Exception))", r"grader.\2", line))
    return "\n".join(out)


def normalise(obj: Any, roots: list[str], key: str = "") -> Any:
    """``obj`` without volatile keys, with temporary and output paths replaced by ``<ROOT>``."""
    if isinstance(obj, dict):
        return {k: normalise(v, roots, k) for k, v in obj.items() if k not in VOLATILE_KEYS}
    if isinstance(obj, list):
        return [normalise(v, roots, key) for v in obj]
    if isinstance(obj, str):
        for r in roots:
            obj = obj.replace(r, "<ROOT>")
        obj = re.sub(r"/tmp/[\w.-]+", "<TMP>", obj)
        return _without_grader_frames(obj) if key.endswith("detail") else obj
    return obj


def _diff(a: Any, b: Any, where: str, out: list[str]) -> None:
    if type(a) is not type(b):
        out.append(f"{where}: {a!r} != {b!r}")
    elif isinstance(a, dict):
        for k in sorted(set(a) | set(b)):
            if k not in a or k not in b:
                out.append(f"{where}.{k}: only in {'B' if k not in a else 'A'}")
            else:
                _diff(a[k], b[k], f"{where}.{k}", out)
    elif isinstance(a, list):
        if len(a) != len(b):
            out.append(f"{where}: length {len(a)} != {len(b)}")
        for i, (x, y) in enumerate(zip(a, b)):
            _diff(x, y, f"{where}[{i}]", out)
    elif a != b:
        out.append(f"{where}: {a!r} != {b!r}")


def compare(a_dir: Path, b_dir: Path) -> int:
    """Compare the ``result.json`` of every case in two runs; print differences."""
    names = sorted({p.parent.name for p in a_dir.glob("*/result.json")}
                   | {p.parent.name for p in b_dir.glob("*/result.json")})
    bad = 0
    for name in names:
        fa, fb = a_dir / name / "result.json", b_dir / name / "result.json"
        if not (fa.is_file() and fb.is_file()):
            print(f"{name}: result.json missing in {'A' if not fa.is_file() else 'B'}")
            bad += 1
            continue
        ra = normalise(json.loads(fa.read_text()), [str(a_dir.resolve()), str(a_dir), str(ROOT)])
        rb = normalise(json.loads(fb.read_text()), [str(b_dir.resolve()), str(b_dir), str(ROOT)])
        diffs: list[str] = []
        _diff(ra, rb, name, diffs)
        if diffs:
            bad += 1
            print(f"{name}: {len(diffs)} difference(s)")
            for d in diffs[:12]:
                print("   ", d[:300])
        else:
            print(f"{name}: identical")
    print(f"{len(names) - bad} of {len(names)} cases identical")
    return 1 if bad else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("out", type=Path)
    r.add_argument("--only", default="")
    c = sub.add_parser("compare")
    c.add_argument("a", type=Path)
    c.add_argument("b", type=Path)
    args = parser.parse_args()
    if args.cmd == "run":
        return run(args.out, {s for s in args.only.split(",") if s} or None)
    return compare(args.a, args.b)


if __name__ == "__main__":
    sys.exit(main())
