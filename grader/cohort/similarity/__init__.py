"""Similarity flags across a cohort: added code, sample images and checkpoints (trusted, never runs code).

Code. Every student starts from the same lesson, so code is compared on what a submission
*adds* to it. Source is normalised to tokens that survive renaming, comments and layout, and
cut into :data:`K`-token shingles within each top-level statement (:mod:`.tokens`); tokens
that the lesson covers (``grader/assets/lesson_fingerprint.json``, made by
``reference/make_lesson_fingerprint.py``) are lesson code, and a shingle is *added* when it
holds a token that is not (:mod:`.prints`). The score of a pair is the containment of the
smaller added set in the larger, with cohort-wide idioms ignored; the threshold is calibrated
in ``reference/similarity_calibration.md`` (:mod:`.compare`).

Images. Sample grids, GIF frames and sample images embedded in notebooks get a 256-bit
difference hash; a pair is flagged when some image of one student is within
:data:`IMAGE_THRESHOLD` of one of the other's (:mod:`.images`).
Checkpoints: sha256 of the weight data files; equal digests are flagged (:mod:`.checkpoints`).

Modules: ``records`` (plain data: prints and flags); ``tokens``, ``images`` and ``checkpoints``
(one kind of evidence each); ``prints`` (:func:`fingerprint_submission`, one submission) and
``compare`` (:func:`find_similar`, the cohort).
"""

from grader.cohort.similarity.checkpoints import MIN_CHECKPOINT_BYTES
from grader.cohort.similarity.compare import (
    CODE_THRESHOLD,
    COMMON_FRACTION,
    COMMON_MIN,
    MAX_MATCH_LINES,
    MAX_MATCHES,
    MIN_ADDED_SHINGLES,
    code_scores,
    common_cut,
    find_similar,
    matches,
)
from grader.cohort.similarity.images import (
    CONTENT_DELTA,
    HASH_BITS,
    HASH_SIDE,
    IMAGE_THRESHOLD,
    MAX_GIF_FRAMES,
    MAX_IMAGES,
    MIN_CONTENT_BITS,
    image_hash,
)
from grader.cohort.similarity.prints import (
    added_mask,
    code_sources,
    fingerprint_sources,
    fingerprint_submission,
    looks_binary,
)
from grader.cohort.similarity.records import (
    CheckpointPrint,
    CodeSegment,
    ImagePrint,
    Match,
    SimilarityFlag,
    SubmissionPrint,
)
from grader.cohort.similarity.tokens import (
    NORMALISER_VERSION,
    K,
    Token,
    imported_names,
    lesson_fingerprint_path,
    lesson_hashes_of,
    lesson_shingles,
    normalise,
    shingle_hash,
    shingles,
    statements,
)

__all__ = [
    "CODE_THRESHOLD", "COMMON_FRACTION", "COMMON_MIN", "CONTENT_DELTA", "HASH_BITS", "HASH_SIDE",
    "IMAGE_THRESHOLD", "lesson_fingerprint_path", "MAX_GIF_FRAMES", "MAX_IMAGES", "MAX_MATCHES",
    "MAX_MATCH_LINES", "MIN_ADDED_SHINGLES", "MIN_CHECKPOINT_BYTES", "MIN_CONTENT_BITS",
    "NORMALISER_VERSION", "CheckpointPrint", "CodeSegment", "ImagePrint", "K", "Match",
    "SimilarityFlag", "SubmissionPrint", "Token", "added_mask", "code_scores", "code_sources",
    "common_cut", "find_similar", "fingerprint_sources", "fingerprint_submission", "image_hash",
    "imported_names", "lesson_hashes_of", "lesson_shingles", "looks_binary", "matches",
    "normalise", "shingle_hash", "shingles", "statements",
]
