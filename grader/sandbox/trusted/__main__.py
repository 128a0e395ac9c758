"""Entry point of the trusted process: ``python -m grader.sandbox.trusted PLAN``."""

import sys

from grader.cli import exit_fast
from grader.sandbox.trusted.process import main

exit_fast(main(sys.argv))  # the result is written: skip TensorFlow's teardown
