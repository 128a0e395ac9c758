"""Record the eye-read labels of one contact sheet into ``labels.csv``.

Usage (64 tokens in sheet order: ``n``, ``p:CLASS`` or ``c:CLASS``; classes may be
abbreviated: plane, car, bird, cat, deer, dog, frog, horse, ship, truck)::

    python -m reference.labels.record sheet_00 "n n p:cat c:horse ..."
    python -m reference.labels.record retest_00 "..."          # second pass

It looks up tile ids in ``sheets.csv`` / ``retest_sheets.csv`` only (never the source
table), refuses a sheet that is already recorded, and appends
``tile_id, label, class, sheet, pass``.
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

from grader.assignment import get_assignment

CLASS_NAMES = get_assignment().class_names
HERE = Path(__file__).resolve().parent
LABELS_CSV = HERE / "labels.csv"
HEADER = ["tile_id", "label", "class", "sheet", "pass"]
KINDS = {"n": "none", "p": "plausible", "c": "clear"}
ALIASES = {"plane": "airplane", "air": "airplane", "car": "automobile", "auto": "automobile",
           **{c: c for c in CLASS_NAMES}}


def parse_token(token: str) -> tuple[str, str]:
    """``n`` -> (none, ""), ``p:cat`` -> (plausible, cat), ``c:car`` -> (clear, automobile).

    Raises:
        ValueError: An unknown label or class, or a class missing/extra.
    """
    kind, _, cls = token.partition(":")
    if kind not in KINDS:
        raise ValueError(f"unknown label {token!r}: use n, p:CLASS or c:CLASS")
    if (kind == "n") != (cls == ""):
        raise ValueError(f"{token!r}: 'n' takes no class, 'p'/'c' need one")
    if cls and cls not in ALIASES:
        raise ValueError(f"{token!r}: unknown class {cls!r}")
    return KINDS[kind], ALIASES.get(cls, "")


def sheet_tiles(sheet: str) -> list[int]:
    """Tile ids of a sheet's positions 0..63, from the sheet tables."""
    table = HERE / ("retest_sheets.csv" if sheet.startswith("retest") else "sheets.csv")
    with open(table, newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["sheet"] == sheet]
    return [int(r["tile_id"]) for r in sorted(rows, key=lambda r: int(r["position"]))]


def record(sheet: str, tokens: list[str]) -> int:
    """Append a sheet's labels; returns the number of rows written.

    Raises:
        ValueError: Wrong number of tokens, a bad token, or the sheet already recorded.
    """
    ids = sheet_tiles(sheet)
    if not ids or len(tokens) != len(ids):
        raise ValueError(f"{sheet}: {len(tokens)} labels for {len(ids)} tiles")
    rows = [[i, *parse_token(t), sheet, 2 if sheet.startswith("retest") else 1]
            for i, t in zip(ids, tokens)]
    new = not LABELS_CSV.is_file()
    if not new:
        with open(LABELS_CSV, newline="") as fh:
            if any(r["sheet"] == sheet for r in csv.DictReader(fh)):
                raise ValueError(f"{sheet} is already in {LABELS_CSV.name}")
    with open(LABELS_CSV, "a", newline="") as fh:
        out = csv.writer(fh)
        if new:
            out.writerow(HEADER)
        out.writerows(rows)
    return len(rows)


def main(argv: list[str] | None = None) -> int:
    """Command line: a sheet name and its 64 labels."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sheet")
    parser.add_argument("labels", help="64 whitespace-separated tokens")
    args = parser.parse_args(argv)
    n = record(args.sheet, args.labels.split())
    print(f"{args.sheet}: {n} labels recorded")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
