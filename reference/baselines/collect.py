"""Copy the committed parts of baseline runs into ``reference/baselines/<name>/``.

Kept: ``summary.json``, ``history.json``, ``history.png``, ``training.gif``, the last sample
grid, and the generators saved at intermediate points (with ``--steps``, only those of the
given steps; a weight average ``generator_ema_step_*`` beside each).

Usage: python -m reference.baselines.collect RUN_DIR [RUN_DIR ...] [--steps 5850,11700]
"""

from __future__ import annotations

import shutil
from pathlib import Path

HERE = Path(__file__).parent


def collect(run: Path, steps: set[int] | None = None) -> Path:
    """Copy one run (``runs/baseline_quick`` -> ``reference/baselines/quick``)."""
    name = run.name.removeprefix("baseline_")
    dest = HERE / name
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    for f in ("summary.json", "history.json", "history.png", "training.gif"):
        shutil.copy(run / f, dest / f)
    grids = sorted((run / "samples").glob("step_*.png"))
    if grids:
        shutil.copy(grids[-1], dest / f"samples_{grids[-1].name}")
    for gen in sorted(run.glob("generator*_step_*.keras")):
        if steps is None or int(gen.stem.rsplit("_", 1)[1]) in steps:
            shutil.copy(gen, dest / gen.name)
    return dest


def main() -> None:
    import argparse

    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("runs", nargs="+", type=Path)
    p.add_argument("--steps", help="comma-separated training steps of the generators to keep")
    a = p.parse_args()
    steps = {int(s) for s in a.steps.split(",")} if a.steps else None
    for run in a.runs:
        print("collected", collect(run, steps))


if __name__ == "__main__":
    main()
