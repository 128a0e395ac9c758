"""Entry point of the student's sandboxed process: ``python -m grader.sandbox.student PLAN``."""

import sys

from grader.sandbox.student.process import main

sys.exit(main(sys.argv))
