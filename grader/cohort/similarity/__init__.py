"""Similarity flags across a cohort: identical submissions, added code, whole notebooks, sample
images and checkpoints (trusted, never runs code).

Identical. Byte-identical code files (sha256, whatever their names) and code that is the same
but for comments and layout are flagged ``identical`` however little they add to the lesson
(:mod:`.identical`).

Code. Every student starts from the same lesson, so code is compared on what a submission
*adds* to it. Source is normalised to tokens that survive renaming, comments and layout, and
cut into :data:`K`-token shingles within each top-level statement (:mod:`.tokens`); tokens
that the lesson covers (the assignment's ``lesson_fingerprint.json``, made by
``reference/make_lesson_fingerprint.py``) are lesson code, and a shingle is *added* when it
holds a token that is not (:mod:`.prints`). The score of a pair is the containment of the
smaller added set in the larger, with cohort-wide idioms ignored, for pairs that both added
:data:`MIN_ADDED_SHINGLES` (:mod:`.compare`).

Notebook. Most students add little code, so a copy of such a notebook is caught on all of a
student's own content: the added code and the markdown that is not the course notes'
(:mod:`.text`), with what more than a few students share ignored, from
:data:`MIN_NOTEBOOK_FEATURES` on. Renamed names, rewritten comments, changed numbers,
reordered cells and other outputs do not change it.

Images. Only sample grids and GIF frames that the student's trained generator drew are
compared: the untrained sanity plot, real-data previews, history plots and the earliest third
of every sequence (GIF frames, numbered sample files, one cell's grids), which every student
has by construction, never are; intake's image classes decide (:mod:`.images`). Each gets a
256-bit difference hash; a pair is flagged when some image of one student is within
:data:`IMAGE_THRESHOLD` of one of the other's, unless most of the class holds that image.
Checkpoints: sha256 of the weight data files; equal digests are flagged (:mod:`.checkpoints`).

Thresholds are calibrated, and false flags measured on a realistic cohort, in
``reference/similarity_calibration.md`` (``reference/calibrate_similarity.py``).

Modules: ``records`` (plain data: prints and flags); ``tokens``, ``text``, ``identical``,
``images`` and ``checkpoints`` (one kind of evidence each); ``prints``
(:func:`fingerprint_submission`, one submission) and ``compare`` (:func:`find_similar`, the
cohort).
"""

from grader.cohort.similarity.checkpoints import MIN_CHECKPOINT_BYTES
from grader.cohort.similarity.compare import (
    CODE_THRESHOLD,
    COMMON_FRACTION,
    COMMON_MIN,
    MAX_MATCH_LINES,
    MAX_MATCHES,
    MIN_ADDED_SHINGLES,
    MIN_NOTEBOOK_FEATURES,
    NOTEBOOK_COMMON_FRACTION,
    NOTEBOOK_COMMON_MIN,
    NOTEBOOK_THRESHOLD,
    code_scores,
    common_cut,
    containment,
    find_similar,
    matches,
    notebook_cut,
    notebook_scores,
)
from grader.cohort.similarity.identical import (
    MIN_IDENTICAL_BYTES,
    MIN_IDENTICAL_TOKENS,
    code_digest,
    identical_flags,
)
from grader.cohort.similarity.images import (
    COMPARED_CLASSES,
    CONTENT_DELTA,
    EARLY_FRACTION,
    HASH_BITS,
    HASH_SIDE,
    IMAGE_THRESHOLD,
    MAX_GIF_FRAMES,
    MAX_IMAGES,
    MIN_CONTENT_BITS,
    compared_images,
    early_count,
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
    PRINT_VERSION,
    CheckpointPrint,
    CodeSegment,
    ImagePrint,
    Match,
    SimilarityFlag,
    SubmissionPrint,
)
from grader.cohort.similarity.text import (
    MIN_LINE_WORDS,
    TEXT_K,
    lesson_text,
    lesson_text_path,
    text_print,
    text_shingles,
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
    plain_tokens,
    shingle_hash,
    shingles,
    statements,
)

__all__ = [
    "CODE_THRESHOLD", "COMMON_FRACTION", "COMMON_MIN", "COMPARED_CLASSES", "CONTENT_DELTA",
    "EARLY_FRACTION", "HASH_BITS", "HASH_SIDE", "IMAGE_THRESHOLD", "K", "MAX_GIF_FRAMES",
    "MAX_IMAGES", "MAX_MATCHES", "MAX_MATCH_LINES", "MIN_ADDED_SHINGLES",
    "MIN_CHECKPOINT_BYTES", "MIN_CONTENT_BITS", "MIN_IDENTICAL_BYTES", "MIN_IDENTICAL_TOKENS",
    "MIN_LINE_WORDS", "MIN_NOTEBOOK_FEATURES", "NORMALISER_VERSION", "NOTEBOOK_COMMON_FRACTION",
    "NOTEBOOK_COMMON_MIN", "NOTEBOOK_THRESHOLD", "PRINT_VERSION", "TEXT_K", "CheckpointPrint",
    "CodeSegment", "ImagePrint", "Match", "SimilarityFlag", "SubmissionPrint", "Token",
    "added_mask", "code_digest", "code_scores", "code_sources", "common_cut", "compared_images",
    "containment", "early_count", "find_similar", "fingerprint_sources",
    "fingerprint_submission", "identical_flags", "image_hash", "imported_names",
    "lesson_fingerprint_path", "lesson_hashes_of", "lesson_shingles", "lesson_text",
    "lesson_text_path", "looks_binary", "matches", "normalise", "notebook_cut",
    "notebook_scores", "plain_tokens", "shingle_hash", "shingles", "statements", "text_print",
    "text_shingles",
]
