"""Copy the committed parts of baseline runs into ``reference/baselines/<name>/``.

Kept: ``summary.json``, ``history.json``, ``history.png``, ``training.gif``, the last sample
grid, and (long run) the generator weights saved at intermediate points.

Usage: python -m reference.baselines.collect RUN_DIR [RUN_DIR ...]
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

HERE = Path(__file__).parent


def collect(run: Path) -> Path:
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
    for gen in sorted(run.glob("generator_step_*.keras")):
        shutil.copy(gen, dest / gen.name)
    return dest


def main() -> None:
    for arg in sys.argv[1:]:
        print("collected", collect(Path(arg)))


if __name__ == "__main__":
    main()
