"""Trusted scoring: rubric x evidence x judge results -> a grade with reasons in English and Korean.

Modules: ``judged`` (judge results in), ``grade`` (grade out), ``score`` (entry: gates, scorer
per item, warnings), ``common`` (shared helpers), one module per rubric item
(``recognizable``, ``training_progress``, ``improvement``) and ``notes`` (warnings).
"""

from grader.scoring.grade import Grade, ItemGrade, ItemStatus, Note
from grader.scoring.judged import (
    CLASS_NAMES,
    KEY_CI_HIGH,
    KEY_CI_LOW,
    KEY_CLASSIFIER_SCORE,
    KEY_COVERAGE,
    KEY_FCD,
    KEY_FRACTION,
    KEY_HISTOGRAM,
    KEY_N,
    KEY_PER_IMAGE,
    KEY_WARNINGS,
    GifInfo,
    JudgedEvidence,
)
from grader.scoring.recognizable import SOURCE_WORDS
from grader.scoring.score import score_submission

__all__ = [
    "CLASS_NAMES", "KEY_CI_HIGH", "KEY_CI_LOW", "KEY_CLASSIFIER_SCORE", "KEY_COVERAGE", "KEY_FCD",
    "KEY_FRACTION", "KEY_HISTOGRAM", "KEY_N", "KEY_PER_IMAGE", "KEY_WARNINGS", "SOURCE_WORDS",
    "GifInfo", "Grade", "ItemGrade", "ItemStatus", "JudgedEvidence", "Note", "score_submission",
]
