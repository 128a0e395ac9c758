"""How often the tile finder mistakes a history plot for shown images (a grid or one image).

Intake tells a training cell's sample grid from its history plot by the pixels
(``grader.intake.embedded.decide_kind`` asks ``extract_tiles``): a history plot read as a
grid becomes the run's "last sample grid" and is judged as the student's samples.

Run::

    python -m reference.plots.make_history_plots --out runs/plots/bench --n 512 --seed 0
    python -m reference.plots.figure_kinds runs/plots/bench [--json out.json]

Every PNG in the folder is a history plot (``make_history_plots``: 32 styles); the script
prints how many the tile finder calls ``chart``, ``unknown``, ``grid`` or ``single``, and
lists the images read as shown images (the errors).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

import numpy as np


def figure_kinds(folder: Path) -> dict[str, str]:
    """Image name -> the tile finder's kind, for every PNG in ``folder``."""
    from PIL import Image

    from grader.intake.figures.tiles import extract_tiles

    out = {}
    for path in sorted(folder.glob("*.png")):
        with Image.open(path) as im:
            rgb = np.asarray(im.convert("RGB"))
        out[path.name] = extract_tiles(rgb, (32, 32, 3)).kind
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("folder", type=Path)
    ap.add_argument("--json", type=Path, help="write the per-image kinds here")
    args = ap.parse_args(argv)
    kinds = figure_kinds(args.folder)
    if not kinds:
        print(f"no PNG images in {args.folder}", file=sys.stderr)
        return 2
    counts = Counter(kinds.values())
    wrong = sorted(name for name, kind in kinds.items() if kind in ("grid", "single"))
    print(f"{len(kinds)} history plots: " + ", ".join(f"{k} {v}" for k, v in counts.most_common()))
    print(f"read as shown images: {len(wrong)} ({len(wrong) / len(kinds):.1%})")
    for name in wrong:
        print(f"  {name}: {kinds[name]}")
    if args.json:
        args.json.write_text(json.dumps({"counts": dict(counts), "wrong": wrong,
                                         "kinds": kinds}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
