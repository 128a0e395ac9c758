"""``grade judge PATH... [--json]``: score sample grids, GIFs and arrays with the image judge."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from grader.errors import UsageError
from grader.judge.files import InputReport, judge_files

STATUS_STYLE = {"scored": "green", "display_problem": "yellow", "no_images": "dim",
                "error": "bold red"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``grade judge``."""
    parser.add_argument("paths", nargs="+", type=Path,
                        help="PNG/JPEG grids, GIFs (every frame), .npy/.npz arrays, or folders")
    parser.add_argument("--json", action="store_true", help="print machine-readable JSON")
    parser.add_argument("--per-image", action="store_true",
                        help="keep the per-image predictions in the JSON output")
    parser.add_argument("--n-boot", type=int, default=1000,
                        help="bootstrap resamples for the interval (default 1000)")


def run(args: argparse.Namespace) -> int:
    """Score every input; exit 0, 1 when some input could not be read, 2 when one is missing."""
    missing = [str(p) for p in args.paths if not Path(p).exists()]
    if missing:
        raise UsageError(f"No such file or folder: {', '.join(missing)}.")
    reports = judge_files(args.paths, n_boot=args.n_boot)
    if args.json:
        out = [r.to_dict() for r in reports]
        if not args.per_image:
            for r in out:
                if r["result"]:
                    r["result"].pop("per_image", None)
        print(json.dumps(out, ensure_ascii=False, indent=1))
    else:
        _print_table(reports)
    return 1 if any(r.status == "error" for r in reports) else 0


def _fmt(x: float | None, spec: str) -> str:
    return "-" if x is None else format(x, spec)


def _rows(r: InputReport) -> list[tuple[str, str]]:
    res = r.result or {}
    shape = f" ({r.rows}x{r.cols})" if r.rows else ""
    rows = [("status", f"[{STATUS_STYLE[r.status]}]{r.status}[/]"),
            ("found", f"{r.tiles_found} image(s), {r.kind}{shape}")]
    if res:
        rows += [
            ("recognizable", f"{res['recognizable_fraction']:.0%} "
                             f"(95% CI {res['ci_low']:.0%}-{res['ci_high']:.0%}; tau {res['tau']:.2f})"),
            ("classes covered", f"{res['class_coverage']}/10 (>= {res['coverage_k']} recognized each)"),
            ("classifier score", f"{res['classifier_score']:.2f} (1 = no information, 10 = best)"),
            ("FCD", f"{_fmt(res.get('fcd'), '.2f')} (real images at this N: "
                    f"{_fmt(res.get('fcd_reference'), '.2f')}; lower is better)"),
            ("out of distribution", f"{res['out_of_distribution_fraction']:.0%}"),
            ("near-copies", f"{res.get('near_copy_fraction', 0.0):.0%} (images with an almost "
                            "identical image in the same set)"),
        ]
        if res.get("clear_count") is not None:
            rows.insert(2, ("by eye (fitted score)",
                            f"{res['clear_count']} clear, {res['named_count']} at least "
                            f"plausible of {res['n']} (expected clear "
                            f"{_fmt(res.get('expected_clear'), '.1f')}; the score fitted to "
                            "eye-read labels)"))
        if res.get("copy_fraction") is not None:
            copies = [f"#{k} = {v['copy_of']}" for k, v in enumerate(res.get("per_image", []))
                      if v.get("copy_of")]
            rows.append(("copies of CIFAR-10", f"{res['copy_fraction']:.0%}"
                         + (f": {', '.join(copies[:8])}" + (" ..." if len(copies) > 8 else "")
                            if copies else " (no image is a real CIFAR-10 image)")))
    notes = [r.message] + r.notes + list(res.get("warnings", []))
    rows += [("note", n) for n in notes if n]
    return rows


def _print_table(reports: list[InputReport]) -> None:
    console = Console()
    if not reports:
        console.print("No PNG, JPEG, GIF, .npy or .npz files were found.")
    for r in reports:
        table = Table(title=escape(r.source), show_header=False, title_justify="left")
        table.add_column("what", no_wrap=True, style="bold")
        table.add_column("value")
        for key, value in _rows(r):
            table.add_row(key, value if key == "status" else escape(value))
        console.print(table)
