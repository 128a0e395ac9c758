"""Command line: ``grade SUBMISSION`` plus verbs (``check``, ``judge``, ``cohort``, ...).

Each verb is a module exposing ``add_arguments(parser)`` and ``run(args) -> int``. Built-in
verbs live in :mod:`grader.verbs` and are registered in :data:`VERBS`; other packages add
verbs through the ``dcgan_grader.verbs`` entry-point group (the project's ``reference``
tools register ``reference`` and ``calibrate`` that way, so the engine never imports them).
Modules are imported only when their verb is used, so ``grade --help`` stays fast and never
imports TensorFlow.
"""

from __future__ import annotations

import argparse
import importlib
import os
import signal
import sys
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import metadata

from grader import __version__
from grader.config import DATA_HELP
from grader.course_config import apply_config, find_config, load_config
from grader.errors import EXIT_MEANINGS, ExitCode, GraderError
from grader.registry import Registry

ENTRY_POINT_GROUP = "dcgan_grader.verbs"



@dataclass(frozen=True)
class Verb:
    """A sub-command: the module that implements it and one line of help."""

    module: str
    help: str


VERBS: Registry[Verb] = Registry("verb", Verb)
VERBS.register("check", Verb("grader.verbs.check_submission",
                             "run intake and checks only (shapes, ranges, losses)"))
VERBS.register("judge", Verb("grader.verbs.judge_images",
                             "score images with the assignment's image judge"))
VERBS.register("cohort", Verb("grader.verbs.grade_cohort",
                              "grade a folder of submissions (parallel, resumable, Dask)"))
VERBS.register("rescore", Verb("grader.verbs.rescore",
                               "score and render again from kept evidence (no training)"))
VERBS.register("gradescope", Verb("grader.verbs.gradescope",
                                  "build the Gradescope autograder zip (gradescope build)"))
#: the default verb: ``grade SUBMISSION [...]``
DEFAULT_VERB = Verb("grader.verbs.grade_submission",
                    "grade one submission and write report.html + result.json")


def plugin_verbs() -> dict[str, Verb]:
    """Verbs other installed packages add (entry points); broken ones are left out."""
    found: dict[str, Verb] = {}
    try:
        points = metadata.entry_points(group=ENTRY_POINT_GROUP)
    except Exception:  # a damaged installation must not stop the grader
        return found
    for point in points:
        if point.name not in VERBS:
            found[point.name] = Verb(point.value, "")
    return found


def _verb_help(verb: Verb) -> str:
    if verb.help:
        return verb.help
    try:
        doc = importlib.import_module(verb.module).__doc__ or ""
    except Exception:  # a plugin that does not import is listed without help
        return "(not available in this install)"
    return doc.strip().splitlines()[0].rstrip(".") if doc.strip() else ""


def _overview(plugins: dict[str, Verb]) -> str:
    lines = ["commands:", f"  {'SUBMISSION':<12}{DEFAULT_VERB.help}"]
    lines += [f"  {name:<12}{verb.help}" for name, verb in VERBS.items()]
    lines += [f"  {name:<12}{_verb_help(verb)}" for name, verb in sorted(plugins.items())]
    lines += ["", "Run 'grade COMMAND --help' for a command's options.", "", "data sources:"]
    lines += textwrap.wrap(DATA_HELP, 88, initial_indent="  ", subsequent_indent="  ")
    return "\n".join(lines)


def _grading_options() -> str:
    """The options of ``grade SUBMISSION``, as its own ``--help`` lists them."""
    parser = argparse.ArgumentParser(prog="grade", add_help=False)
    _load_verb(DEFAULT_VERB.module).add_arguments(parser)
    text = parser.format_help()
    body = text.split("\n\n", 1)[1] if "\n\n" in text else text
    body = body.replace("positional arguments:", "grading (grade SUBMISSION ...):", 1)
    return body.replace("\noptions:\n", "\n", 1).rstrip()


def _exit_codes() -> str:
    lines = ["exit codes (every command):"]
    for code, meaning in EXIT_MEANINGS.items():
        lines += textwrap.wrap(meaning.replace("`", ""), 88, initial_indent=f"  {int(code):<5}",
                               subsequent_indent=" " * 7)
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


def _config_arg(rest: list[str]) -> str | None:
    """The value of ``--config`` in the arguments, read before the verb parses them."""
    for k, arg in enumerate(rest):
        if arg == "--config" and k + 1 < len(rest):
            return rest[k + 1]
        if arg.startswith("--config="):
            return arg.split("=", 1)[1]
    return None


def _sigterm_as_interrupt() -> None:
    """SIGTERM (``kill``, a scheduler's stop) unwinds like Ctrl-C: children are killed."""
    def raise_interrupt(signum, frame):  # noqa: ARG001 - signal handler signature
        raise KeyboardInterrupt

    try:
        signal.signal(signal.SIGTERM, raise_interrupt)
    except ValueError:  # not the main thread (main() called from a library)
        pass


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``grade`` command; returns the process exit code."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # before any TensorFlow import
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv:
        print("usage: grade SUBMISSION [options] | grade COMMAND ... (try 'grade --help')",
              file=sys.stderr)
        return ExitCode.USAGE
    plugins = plugin_verbs()
    if argv[0] in ("-h", "--help"):
        print("usage: grade SUBMISSION [options]\n       grade COMMAND [options]\n\n"
              "Automated grader for GAN image-generation assignments (CIFAR-10 DCGAN by "
              "default).\n\n" + _overview(plugins) + "\n\n" + _grading_options()
              + "\n\n" + _exit_codes())
        return 0
    if argv[0] == "--version":
        print(f"dcgan-grader {__version__}")
        return 0
    name = argv[0] if argv[0] in VERBS or argv[0] in plugins else None
    verb = (VERBS.get(name) or plugins.get(name)) if name else DEFAULT_VERB
    rest = argv[1:] if name else argv
    parser = argparse.ArgumentParser(prog=f"grade {name}" if name else "grade",
                                     description=verb.help or None,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    _sigterm_as_interrupt()
    args = None
    try:
        module = _load_verb(verb.module)
        module.add_arguments(parser)
        parser.add_argument("--config", metavar="FILE", default=None,
                            help="course config with defaults (default: $DCGAN_GRADER_CONFIG, "
                                 "else ./grade.toml when present)")
        config = find_config(_config_arg(rest))
        if config is not None:
            apply_config(parser, load_config(config, name))
        args = parser.parse_args(rest)
        return int(module.run(args) or 0)
    except GraderError as exc:
        korean = getattr(args, "lang", None) == "ko"
        print(f"{'오류' if korean else 'error'}: {exc.message.ko if korean else exc.student}",
              file=sys.stderr)
        if exc.detail:
            print(exc.detail, file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return ExitCode.INTERRUPTED


def exit_fast(code: int) -> None:
    """End the process with ``code``; once TensorFlow is loaded, skip its teardown.

    Everything is written by then; TensorFlow's interpreter teardown only costs about a
    second per process (measured), which a cohort pays once per student.
    """
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    if "tensorflow" in sys.modules:
        os._exit(code)
    sys.exit(code)


def run() -> None:
    """The ``grade`` console script: :func:`main`, then :func:`exit_fast`."""
    exit_fast(main())


if __name__ == "__main__":
    run()
