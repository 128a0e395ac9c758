"""``grade check SUBMISSION``: intake plus the check phase in the sandbox; a table or JSON."""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from grader.assignment import get_assignment
from grader.config import SANDBOX
from grader.data import load_dataset
from grader.errors import ExitCode
from grader.evidence import CheckResult
from grader.intake import load_submission
from grader.intake.submission import SubmissionError, SubmissionNotFound
from grader.sandbox.limits import Limits
from grader.sandbox.plan import run_checks

STATUS_STYLE = {"pass": "green", "warn": "yellow", "fail": "bold red", "skip": "dim"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``grade check``."""
    parser.add_argument("submission", type=Path, help="folder, .ipynb, .py or .zip")
    parser.add_argument("--json", action="store_true", help="print machine-readable JSON")
    parser.add_argument("--lang", choices=("en", "ko"), default="en", help="message language")
    parser.add_argument("--work", type=Path, default=None,
                        help="work folder (default: a temporary folder, removed afterwards)")
    parser.add_argument("--timeout", type=float, default=SANDBOX.check_timeout_s,
                        help="time limit of the check phase in seconds "
                             f"(default {SANDBOX.check_timeout_s:g})")
    parser.add_argument("--memory-mb", type=int, default=SANDBOX.memory_mb,
                        help=f"memory limit (default {SANDBOX.memory_mb})")
    parser.add_argument("--assignment", default=None,
                        help="assignment id or folder (default: cifar10_dcgan)")
    parser.add_argument("--isolation", choices=("auto", "bwrap", "none"), default="auto",
                        help="sandbox for student code: bubblewrap (default; the grader "
                             "refuses when it cannot run), or 'none' to run student code "
                             "without isolation on a machine you do not mind it changing")


def run(args: argparse.Namespace) -> int:
    """Run the checks; exit 0 when none fails, 1 otherwise (2 usage, 3 could not run)."""
    if args.work is not None:
        return _run_in(args, Path(args.work))
    with tempfile.TemporaryDirectory(prefix="grade-check-") as tmp:
        return _run_in(args, Path(tmp))


def _run_in(args: argparse.Namespace, work: Path) -> int:
    assignment = get_assignment(args.assignment)
    t0 = time.perf_counter()
    try:
        submission = load_submission(args.submission, work / "intake")
    except SubmissionNotFound:
        raise
    except SubmissionError as exc:  # read, and found unreadable: a problem, not a usage error
        message = exc.message.ko if args.lang == "ko" else exc.message.en
        if args.json:
            print(json.dumps({"submission": str(args.submission), "status": "unreadable",
                              "error": message, "checks": []}, ensure_ascii=False, indent=1))
        else:
            print(f"{args.submission}: {message}")
        return ExitCode.PROBLEM
    t_intake = time.perf_counter() - t0
    limits = Limits(memory_mb=args.memory_mb, isolation=args.isolation,
                    timeout_s=args.timeout + 240)
    images = load_dataset("bundled", assignment=assignment).x_train[:64]
    run_ = run_checks(submission, work / "sandbox", images, assignment, limits,
                      timeout_s=args.timeout)
    timings = {"intake_s": round(t_intake, 2), "sandbox_s": run_.outcome.wall_s,
               **{f"{k}_s": v for k, v in run_.outcome.timings.items()}}
    failed = any(c.status == "fail" for c in run_.checks)
    if args.json:
        print(json.dumps({"submission": str(args.submission), "isolation": run_.outcome.isolation,
                          "status": run_.outcome.status, "timings": timings,
                          "warnings": [w.to_json() for w in submission.warnings],
                          "checks": [c.to_dict() for c in run_.checks]},
                         ensure_ascii=False, indent=1))
    else:
        _print_table(args, run_.checks, run_.outcome.isolation, timings)
    return ExitCode.PROBLEM if failed else ExitCode.OK


def _print_table(args: argparse.Namespace, checks: list[CheckResult], isolation: str,
                 timings: dict[str, float]) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=f"grade check {args.submission}", show_lines=False)
    table.add_column("check", no_wrap=True)
    table.add_column("status", no_wrap=True)
    table.add_column("message")
    for c in checks:
        table.add_row(c.id, f"[{STATUS_STYLE[c.status]}]{c.status}[/]",
                      escape(c.message.text(args.lang)))
    console = Console()
    console.print(table)
    times = ", ".join(f"{k} {v:.1f}" for k, v in timings.items())
    console.print(f"isolation: {isolation}; seconds: {escape(times)}")
