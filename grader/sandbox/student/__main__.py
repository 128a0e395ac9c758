"""Entry point of the student's sandboxed process: ``python -m grader.sandbox.student PLAN``."""

import sys

from grader.cli import exit_fast
from grader.sandbox.student.process import main

exit_fast(main(sys.argv))  # the result is written: skip TensorFlow's teardown
