"""``grade gradescope build``: the autograder zip Gradescope runs (setup.sh, run_autograder).

Also home of the Gradescope options that ``grade``, ``grade rescore`` and ``grade cohort``
share (:func:`add_gradescope_arguments`). Nothing heavy is imported until a verb runs.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from grader.config import GRADESCOPE_LANGS, GRADESCOPE_VISIBILITIES, MODES
from grader.errors import UsageError


def add_gradescope_arguments(parser: argparse.ArgumentParser, *, rescore: bool = False) -> None:
    """``--gradescope-lang`` and ``--gradescope-visibility`` (defaults: see the help)."""
    kept = "the one results.json was written with, else " if rescore else ""
    parser.add_argument("--gradescope-lang", choices=GRADESCOPE_LANGS, default=None,
                        help="language of results.json (default: --lang"
                             + (" when given, else the one results.json was written with"
                                if rescore else "") + "; 'both': Korean, then English)")
    parser.add_argument("--gradescope-visibility", choices=GRADESCOPE_VISIBILITIES,
                        default=None,
                        help=f"when students see the results on Gradescope (default: {kept}"
                             "visible)")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``grade gradescope build``."""
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    build = actions.add_parser(
        "build", help="write the autograder zip to upload to Gradescope",
        description="Write the zip Gradescope's programming assignments take: setup.sh "
                    "installs Python, this grader (carried in the zip) and its bundled "
                    "bubblewrap; run_autograder grades /autograder/submission and writes "
                    "/autograder/results/results.json, with a score of 0 and a plain "
                    "message when grading fails.")
    build.add_argument("--out", type=Path, default=Path("autograder.zip"),
                       help="the zip to write (default autograder.zip)")
    build.add_argument("--lang", choices=GRADESCOPE_LANGS, default="en",
                       help="language students read (default en; 'both': Korean, then English)")
    build.add_argument("--mode", choices=MODES, default="quick",
                       help="grading mode (default quick; full trains 50 epochs and needs a "
                            "long Gradescope timeout)")
    build.add_argument("--visibility", choices=GRADESCOPE_VISIBILITIES, default="visible",
                       help="when students see the results (default visible)")
    build.add_argument("--assignment", default=None,
                       help="assignment id or folder (a folder is carried in the zip; "
                            "default cifar10_dcgan)")
    build.add_argument("--isolation", choices=("auto", "bwrap", "none"), default="auto",
                       help="sandbox for student code on Gradescope (default auto: bubblewrap, "
                            "or a score of 0 saying why when the container does not allow it; "
                            "'none' trusts Gradescope's per-submission container alone)")
    build.add_argument("--timeout", type=int, default=None, metavar="SECONDS",
                       help="stop grading after this long and report it (default: none, "
                            "Gradescope's own limit applies)")


def run(args: argparse.Namespace) -> int:
    """Build the zip and say what it holds."""
    from grader.report.autograder import AutograderConfig, build_autograder

    if args.timeout is not None and args.timeout <= 0:
        raise UsageError("--timeout must be positive")
    config = AutograderConfig(lang=args.lang, mode=args.mode, visibility=args.visibility,
                              assignment=args.assignment, isolation=args.isolation,
                              timeout_s=args.timeout)
    built = build_autograder(args.out, config)
    print(f"autograder: {built.path} ({built.size_mb:.1f} MB, {built.files} files; "
          f"lang {config.lang}, mode {config.mode}, visibility {config.visibility})")
    print("Upload it under Configure Autograder -> Zip file upload (base image: Ubuntu 22.04 "
          "or later).")
    return 0
