"""Submission intake: turn a submission path into a plain record, never running student code.

Parsing only (``nbformat``, ``ast``): notebooks and ``.py`` files become ordered
:class:`CodeUnit` records that the sandbox may execute; result files and images embedded
in notebook outputs become :class:`grader.evidence.Artifact` records.
"""

from grader.intake.candidates import ROLES, Candidate, find_candidates
from grader.intake.load import load_submission
from grader.intake.submission import (
    CellFailure,
    CodeUnit,
    Dropped,
    EmbeddedImage,
    Submission,
    SubmissionError,
)

__all__ = [
    "ROLES", "Candidate", "CellFailure", "CodeUnit", "Dropped", "EmbeddedImage", "Submission",
    "SubmissionError", "find_candidates", "load_submission",
]
