"""Entry point of the student's sandboxed process: ``python -m grader.sandbox.student PLAN``."""

import os
import sys

from grader.sandbox.student.process import main

code = main(sys.argv)
# The result is written; skip TensorFlow's interpreter teardown (about a second per process).
for stream in (sys.stdout, sys.stderr):
    try:
        stream.flush()
    except (OSError, ValueError):  # a closed or broken stream changes nothing now
        pass
os._exit(code)
