"""Entry point of the trusted process: ``python -m grader.sandbox.trusted PLAN``."""

import sys

from grader.sandbox.trusted.process import main

sys.exit(main(sys.argv))
