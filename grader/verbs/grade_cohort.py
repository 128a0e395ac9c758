"""``grade cohort DIR --out OUT``: grade a whole cohort (parallel, resumable, or on Dask)."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from grader.cohort.class_list import load_class_list
from grader.config import DATA_HELP, SANDBOX
from grader.errors import GraderError, UsageError
from grader.verbs.gradescope import add_gradescope_arguments

EPILOG = """\
Each subfolder of DIR, and each .ipynb/.py/.zip directly in DIR, is one student.
Finished students are kept in OUT/<student>/ with a cache key; running the same command
again grades only new or changed submissions (--force grades everything again).

Dask: start a scheduler (`dask scheduler`) and workers (`dask worker tcp://HOST:8786
--nthreads 1`, GPU machines with `--resources GPU=1`) where the project is installed, then
pass --scheduler tcp://HOST:8786. --full tasks run only on GPU workers.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``grade cohort``."""
    parser.epilog = EPILOG
    parser.add_argument("root", type=Path, metavar="DIR", help="folder with one entry per student")
    parser.add_argument("--out", type=Path, required=True, help="output folder of the cohort")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", dest="mode", action="store_const", const="quick",
                      help="short training per student on the bundled subset (default)")
    mode.add_argument("--full", dest="mode", action="store_const", const="full",
                      help="the assignment's 50 epochs (meant for GPU workers)")
    parser.add_argument("--workers", type=int, default=1,
                        help="students graded at once on this machine (default 1); the CPU "
                             "cores are split between them")
    parser.add_argument("--scheduler", default=None, metavar="ADDRESS",
                        help="grade on an existing Dask cluster, e.g. tcp://10.0.0.5:8786")
    parser.add_argument("--only", default=None, metavar="NAMES",
                        help="grade only these students (comma-separated names)")
    parser.add_argument("--force", action="store_true",
                        help="grade again even when a cached result matches")
    budget = parser.add_mutually_exclusive_group()
    budget.add_argument("--steps", type=int, help="training steps per variant (overrides the mode)")
    budget.add_argument("--epochs", type=float, help="training epochs per variant (overrides)")
    parser.add_argument("--rubric", type=Path, default=None, help="rubric TOML file")
    parser.add_argument("--roster", type=Path, default=None, metavar="CSV",
                        help="class list joined to grades.csv (columns student, id, name, "
                             "email; listed students without a submission get a 'missing' "
                             "row)")
    parser.add_argument("--data", default=None, help=DATA_HELP)
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--lang", choices=("en", "ko"), default="en", help="report language")
    parser.add_argument("--gradescope", action="store_true",
                        help="also write Gradescope's results.json into each student's folder")
    add_gradescope_arguments(parser)
    parser.add_argument("--isolation", choices=("auto", "bwrap", "none"), default="auto",
                        help="sandbox for student code: bubblewrap (default; the grader "
                             "refuses when it cannot run), or 'none' to run student code "
                             "without isolation on a machine you do not mind it changing")
    parser.add_argument("--memory-mb", type=int, default=SANDBOX.memory_mb,
                        help="memory limit of each student's code (default "
                             f"{SANDBOX.memory_mb}; the grader may use "
                             f"{SANDBOX.grader_memory_mb} MB more)")
    parser.add_argument("--timeout", type=float, default=None, metavar="SECONDS",
                        help="limit per student for the whole grading (default 30 min quick, "
                             "8 h full)")
    parser.set_defaults(mode="quick")


def options_from_args(args: argparse.Namespace):
    """Map flags to :class:`grader.cohort.runner.CohortOptions`."""
    from grader.cohort.runner import CohortOptions

    if args.workers < 1:
        raise UsageError("--workers must be at least 1")
    for name in ("steps", "epochs", "timeout"):
        value = getattr(args, name)
        if value is not None and value <= 0:
            raise UsageError(f"--{name} must be positive")
    flags = [f"--{args.mode}", "--seed", str(args.seed), "--lang", args.lang,
             "--isolation", args.isolation, "--memory-mb", str(args.memory_mb)]
    if args.steps is not None:
        flags += ["--steps", str(args.steps)]
    if args.epochs is not None:
        flags += ["--epochs", str(args.epochs)]
    rubric = str(args.rubric.resolve()) if args.rubric else None
    if rubric:
        flags += ["--rubric", rubric]
    if args.data:
        data = args.data if args.data in ("keras", "bundled") or not Path(args.data).exists() \
            else str(Path(args.data).resolve())
        flags += ["--data", data]
    if getattr(args, "gradescope", False):  # in no cache key: made from kept evidence
        flags += ["--gradescope", "--gradescope-lang", _gradescope_lang(args),
                  "--gradescope-visibility", _gradescope_visibility(args)]
    only = [n.strip() for n in args.only.split(",") if n.strip()] if args.only else None
    if args.roster:
        load_class_list(args.roster)  # a bad roster stops before any grading (exit 2)
    settings = {"mode": args.mode, "steps": args.steps, "epochs": args.epochs, "seed": args.seed,
                "data": args.data}
    return CohortOptions(root=args.root, out=args.out, mode=args.mode, workers=args.workers,
                         scheduler=args.scheduler, only=only, force=args.force, lang=args.lang,
                         grade_flags=flags, key_settings=settings, rubric=rubric,
                         roster=args.roster.resolve() if args.roster else None,
                         timeout_s=args.timeout,
                         memory_mb=args.memory_mb)


def _gradescope_lang(args: argparse.Namespace) -> str:
    return getattr(args, "gradescope_lang", None) or args.lang


def _gradescope_visibility(args: argparse.Namespace) -> str:
    return getattr(args, "gradescope_visibility", None) or "visible"


def gradescope_for_cohort(args: argparse.Namespace, records: list[dict[str, Any]]) -> int:
    """Give every student folder a ``results.json`` in the asked language and visibility.

    Students graded in this run have one already; cached students get one from their kept
    evidence (nothing is graded again; report.html and result.json stay as committed), and
    students whose grading failed get 0 points with the reason. Returns how many were written.
    """
    from grader.report.gradescope import write_failure
    from grader.rescore import write_gradescope_only

    lang, visibility = _gradescope_lang(args), _gradescope_visibility(args)
    rubric = args.rubric.resolve() if args.rubric else None
    written = 0
    for record in records:
        folder = Path(args.out) / str(record.get("student", ""))
        if not record.get("student") or not folder.is_dir():
            continue
        path = folder / "results.json"
        if record.get("status") == "graded":
            if _gradescope_matches(path, lang, visibility):
                continue
            try:
                write_gradescope_only(folder, rubric=rubric, lang=lang, visibility=visibility)
            except GraderError as exc:
                write_failure(f"the kept evidence cannot be read ({exc.student})", path,
                              lang=lang, visibility=visibility)
        else:
            write_failure(str(record.get("reason") or "grading failed"), path, lang=lang,
                          visibility=visibility)
        written += 1
    return written


def _gradescope_matches(path: Path, lang: str, visibility: str) -> bool:
    try:
        obj = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    extra = obj.get("extra_data") if isinstance(obj, dict) else None
    return isinstance(extra, dict) and extra.get("lang") == lang and \
        obj.get("visibility") == visibility and "autograder_error" not in extra


class TerminalReporter:
    """A progress bar for the cohort (with ETA) and one line per finished student."""

    def __init__(self) -> None:
        from rich.console import Console

        self.console = Console(stderr=True)
        self.bar: Any = None
        self.task: Any = None

    def start(self, total: int, cached: list) -> None:
        """Show the cached students, then start the bar over the ``total`` to grade."""
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        if cached:
            self.console.print(f"[dim]{len(cached)} unchanged (cached): "
                               f"{', '.join(s.name for s in cached[:20])}"
                               f"{' ...' if len(cached) > 20 else ''}[/]")
        self.bar = Progress(TextColumn("[bold]cohort"), BarColumn(), MofNCompleteColumn(),
                            TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
                            console=self.console, transient=False)
        self.bar.start()
        self.task = self.bar.add_task("grading", total=total)

    def finished(self, record: dict) -> None:
        """One status line per finished student."""
        from rich.markup import escape

        name = escape(record["student"])
        if record["status"] == "graded":
            line = (f"[green]graded[/] {name}: {record['score']:g}/{record['max_score']:g} "
                    f"({record['seconds']:.0f} s)")
        else:
            line = f"[bold red]failed[/] {name}: {escape(str(record.get('reason')))}"
        self.bar.console.print(line)
        self.bar.advance(self.task)

    def stop(self) -> None:
        """Remove the live display."""
        if self.bar is not None:
            self.bar.stop()


def run(args: argparse.Namespace) -> int:
    """Grade the cohort; exit 0 when the outputs were written (even if students failed)."""
    from rich.console import Console

    from grader.cohort.runner import run_cohort

    opts = options_from_args(args)
    t0 = time.monotonic()
    written: list[int] = []

    def gradescope(run) -> None:  # inside the cohort's lock
        if getattr(args, "gradescope", False) and not run.interrupted:
            written.append(gradescope_for_cohort(args, run.records))

    result = run_cohort(opts, TerminalReporter(), then=gradescope)
    console = Console(soft_wrap=True)
    rescored = f" ({len(result.rescored)} re-scored: rubric or language changed)" \
        if result.rescored else ""
    console.print(f"{len(result.records)} students in {opts.out}: {len(result.graded_now)} graded "
                  f"now, {len(result.cached)} cached{rescored}, {len(result.failed)} failed "
                  f"({time.monotonic() - t0:.0f} s)")
    if result.paths is not None:
        console.print(f"dashboard: {result.paths.html}\ngrades:    {result.paths.csv}")
    if written:
        console.print("gradescope: results.json in every student's folder"
                      + (f" ({written[0]} made from kept evidence or for failed grading)"
                         if written[0] else ""))
    for line in result.tampered:
        console.print(f"[bold red]changed after grading:[/] {line} (the committed score is "
                      "kept; run again to re-grade)")
    if result.interrupted:
        console.print("interrupted: finished students are kept; run the same command to go on")
        return 130
    return 0
