"""``grade rescore OUT``: score and render again from kept evidence (no training, seconds)."""

from __future__ import annotations

import argparse
from pathlib import Path

from grader.cohort.class_list import load_class_list
from grader.errors import UsageError
from grader.verbs.gradescope import add_gradescope_arguments


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``grade rescore``."""
    parser.add_argument("out", type=Path,
                        help="an output folder of `grade` (one student) or of `grade cohort`")
    parser.add_argument("--rubric", type=Path, default=None,
                        help="rubric TOML file (default: the assignment's)")
    parser.add_argument("--lang", choices=("en", "ko"), default=None,
                        help="report language (default: the language it was written in)")
    parser.add_argument("--gradescope", action="store_true", default=None,
                        help="also write Gradescope's results.json (default: where one exists)")
    add_gradescope_arguments(parser, rescore=True)
    parser.add_argument("--overrides", type=Path, default=None,
                        help="an instructor's overrides (CSV student,item,points,comment, or "
                             "TOML [[override]] tables); in a cohort, student = folder name")
    parser.add_argument("--roster", type=Path, default=None, metavar="CSV",
                        help="a cohort's class list to join to grades.csv (default: the one "
                             "the cohort kept)")
    parser.add_argument("--assignment", default=None,
                        help="assignment id or folder (default: cifar10_dcgan)")


def run(args: argparse.Namespace) -> int:
    """Re-score one folder, or every graded student of a cohort folder."""
    from rich.console import Console

    from grader.cohort.outputs import COHORT_JSON
    from grader.rescore import is_graded_folder, rescore_cohort, rescore_folder

    console = Console()
    out = Path(args.out)
    if not out.is_dir():
        raise UsageError(f"{out} is not a folder.")
    opts = {"rubric": args.rubric, "lang": args.lang, "gradescope": args.gradescope,
            "assignment": args.assignment, "overrides": args.overrides,
            "gradescope_lang": args.gradescope_lang,
            "gradescope_visibility": args.gradescope_visibility}
    if (out / COHORT_JSON).is_file():
        if args.roster:
            load_class_list(args.roster)  # a bad roster stops before anything is rewritten
        done = rescore_cohort(out, **opts, roster=args.roster)
        console.print(f"re-scored {len(done.rescored)} student(s) in {done.seconds:.1f} s; "
                      f"gradebook: {out / 'grades.csv'}")
        for line in done.skipped:
            console.print(f"  left as it was: {line}", markup=False)
        return 0
    if not is_graded_folder(out):
        raise UsageError(f"{out} holds neither a cohort ({COHORT_JSON}) nor a graded "
                         "submission (work/evidence.json).")
    outcome = rescore_folder(out, **opts)
    r = outcome.result
    console.print(f"{r['submission']}: {r['score']:g} / {r['max_score']:g}  "
                  f"report: {outcome.report}", markup=False)
    return 0
