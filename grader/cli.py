"""Command line: ``grade SUBMISSION`` plus verbs (check, judge, reference, ...).

Each verb lives in its own module under :mod:`grader.commands` (or :mod:`reference`) and
exposes ``add_arguments(parser)`` and ``run(args) -> int``. Modules are imported only when
their verb is used, so ``grade --help`` stays fast and never imports TensorFlow.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from grader import __version__
from grader.errors import GraderError

#: verb -> (module, one-line help)
VERBS: dict[str, tuple[str, str]] = {
    "check": ("grader.commands.check", "run intake and checks only (shapes, ranges, losses)"),
    "judge": ("grader.commands.judge", "score images with the CIFAR-10 judge"),
    "cohort": ("grader.commands.cohort", "grade a folder of submissions (parallel, resumable, Dask)"),
    "reference": ("reference.commands", "reference solution tools (train the reference DCGAN)"),
}
#: the default verb: ``grade SUBMISSION [...]``
DEFAULT_VERB = ("grader.commands.grade", "grade one submission and write report.html + result.json")

DATA_HELP = (
    "CIFAR-10 source. Order: --data PATH > $DCGAN_GRADER_DATA > keras cache "
    "(~/.keras/datasets) > bundled subset. PATH: an .npz (x_train,y_train,x_test,y_test), "
    "a cifar-10-batches-py folder, an image tree train/<class>/*.jpg (or .tar.gz), "
    "'keras' (download) or 'bundled'."
)


def _overview() -> str:
    lines = ["commands:", f"  {'SUBMISSION':<12}{DEFAULT_VERB[1]}"]
    lines += [f"  {verb:<12}{text}" for verb, (_, text) in VERBS.items()]
    lines += ["", "Run 'grade COMMAND --help' for a command's options.", "", "data sources:", f"  {DATA_HELP}"]
    return "\n".join(lines)


def _load_verb(module_name: str):
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.startswith(("tensorflow", "keras")):
            raise GraderError(
                "TensorFlow is not installed.",
                "Install it with: pip install -e '.[cpu]' (or '.[gpu]' on an NVIDIA GPU machine).",
            ) from exc
        raise


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``grade`` command; returns the process exit code."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # before any TensorFlow import
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv:
        print("usage: grade SUBMISSION [options] | grade COMMAND ... (try 'grade --help')",
              file=sys.stderr)
        return 2
    if argv[0] in ("-h", "--help"):
        print("usage: grade SUBMISSION [options]\n       grade COMMAND [options]\n\n"
              "Automated grader for the CIFAR-10 DCGAN assignment.\n\n" + _overview())
        return 0
    if argv[0] == "--version":
        print(f"dcgan-grader {__version__}")
        return 0
    verb = argv[0] if argv[0] in VERBS else None
    module_name, text = VERBS[verb] if verb else DEFAULT_VERB
    rest = argv[1:] if verb else argv
    parser = argparse.ArgumentParser(prog=f"grade {verb}" if verb else "grade", description=text,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    try:
        module = _load_verb(module_name)
        module.add_arguments(parser)
        args = parser.parse_args(rest)
        return int(module.run(args) or 0)
    except GraderError as exc:
        print(f"error: {exc.student}", file=sys.stderr)
        if exc.detail:
            print(exc.detail, file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
