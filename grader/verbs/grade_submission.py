"""``grade SUBMISSION``: grade one submission, write report.html and result.json."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

from grader.assignment import get_assignment
from grader.config import DATA_HELP, QUICK, SANDBOX, GradeOptions, full_budget
from grader.errors import UsageError
from grader.verbs.gradescope import add_gradescope_arguments
from grader.verbs.progress import progress_lines


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``grade SUBMISSION``."""
    parser.add_argument("submission", type=Path, help="folder, .ipynb, .py or .zip")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", dest="mode", action="store_const", const="quick",
                      help="verify the code with 10 training steps on the bundled subset and "
                           "grade what the notebook shows (~40 s on 2 CPU cores; default)")
    mode.add_argument("--full", dest="mode", action="store_const", const="full",
                      help="the assignment's epochs (50) on its full data set (meant for a GPU)")
    budget = parser.add_mutually_exclusive_group()
    budget.add_argument("--steps", type=int, help="training steps per variant (overrides the mode)")
    budget.add_argument("--epochs", type=float, help="training epochs per variant (overrides)")
    parser.add_argument("--out", type=Path, default=None,
                        help="output folder (default reports/<submission name>/)")
    parser.add_argument("--rubric", type=Path, default=None, help="rubric TOML file")
    parser.add_argument("--overrides", type=Path, default=None,
                        help="an instructor's overrides (CSV student,item,points,comment, or "
                             "TOML [[override]] tables)")
    parser.add_argument("--data", default=None, help=DATA_HELP)
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--lang", choices=("en", "ko"), default="en", help="report language")
    parser.add_argument("--gradescope", action="store_true",
                        help="also write Gradescope's results.json into the output folder")
    add_gradescope_arguments(parser)
    parser.add_argument("--isolation", choices=("auto", "bwrap", "none"), default="auto",
                        help="sandbox for student code: bubblewrap (default; the grader "
                             "refuses when it cannot run), or 'none' to run student code "
                             "without isolation on a machine you do not mind it changing")
    parser.add_argument("--memory-mb", type=int, default=SANDBOX.memory_mb,
                        help=f"memory limit of student code (default {SANDBOX.memory_mb})")
    parser.add_argument("--assignment", default=None,
                        help="assignment id or folder (default: $DCGAN_GRADER_ASSIGNMENT, else "
                             "cifar10_dcgan)")
    parser.add_argument("--threads", type=int, default=None,
                        help="CPU threads for TensorFlow, in the student's run and the grader's "
                             "(default: 2 for the student's run, all cores for the judge)")
    parser.set_defaults(mode="quick")


def options_from_args(args: argparse.Namespace) -> GradeOptions:
    """Map parsed flags to :class:`GradeOptions`."""
    assignment = get_assignment(getattr(args, "assignment", None))
    budget = QUICK if args.mode == "quick" else full_budget(assignment.epochs,
                                                            assignment.data.train_size)
    opts = GradeOptions(mode=args.mode, budget=budget, seed=args.seed, data=args.data,
                        rubric=args.rubric, assignment=getattr(args, "assignment", None),
                        lang=args.lang, out_dir=args.out, gradescope=args.gradescope,
                        gradescope_lang=getattr(args, "gradescope_lang", None),
                        gradescope_visibility=getattr(args, "gradescope_visibility", None)
                        or "visible", isolation=args.isolation, memory_mb=args.memory_mb,
                        overrides=getattr(args, "overrides", None))
    if opts.overrides:
        from grader.scoring.overrides import load_overrides

        load_overrides(opts.overrides)  # a bad file stops before any grading (exit 2)
    if args.threads is not None:
        if args.threads <= 0:
            raise UsageError("--threads must be positive")
        opts = dataclasses.replace(opts, threads=args.threads, trusted_threads=args.threads)
    if (args.steps is not None and args.steps <= 0) or (args.epochs is not None
                                                        and args.epochs <= 0):
        raise UsageError("--steps and --epochs must be positive")
    return opts.with_budget(steps=args.steps, epochs=args.epochs,
                            n_train=assignment.data.train_size)


def run(args: argparse.Namespace) -> int:
    """Grade, show progress and a summary table; exit 0 when a report was written."""
    from rich.console import Console

    from grader.pipeline import grade_submission

    options = options_from_args(args)
    console = Console(stderr=True)
    with progress_lines(console) as progress:
        outcome = grade_submission(args.submission, options, progress)
    _summary(Console(), outcome, args.lang)
    return 0


def _summary(console, outcome, lang: str) -> None:
    from rich.markup import escape
    from rich.table import Table

    res = outcome.result
    table = Table(title=f"{escape(str(res.get('submission')))}: "
                        f"{res['score']:g} / {res['max_score']:g}")
    for col in ("item", "status", "points", "evidence"):
        table.add_column(col)
    style = {"pass": "green", "partial": "yellow", "fail": "bold red", "needs_review": "cyan"}
    for item in res["items"]:
        st = item["status"]
        table.add_row(item["id"], f"[{style.get(st, '')}]{st}[/]",
                      f"{item['score']:g}/{item['max_score']:g}", escape(str(item.get("evidence"))))
    console.print(table)
    failed = [c for c in res.get("checks", []) if c.get("status") == "fail"]
    if failed:
        console.print(f"[bold red]{len(failed)} failed check(s):[/] "
                      + ", ".join(escape(c["id"]) for c in failed))
    console.print(f"report: {outcome.report}\nresult: {outcome.result_json}")
    if outcome.gradescope:
        console.print(f"gradescope: {outcome.gradescope}")
