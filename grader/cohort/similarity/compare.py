"""Compare prints across a cohort: every kind of flag, and the scores and regions of added code.

The code score of a pair is the containment of the smaller added set in the larger,
``|A & B| / min(|A|, |B|)``: a copy plus padding, or half of a copy, still scores near 1, where
Jaccard falls with every padded line. Like MOSS, shingles that a large part of the cohort
shares are ignored (idioms such as the RGB ``imshow`` fix). A pair is compared only when both
added at least :data:`MIN_ADDED_SHINGLES`: in less, one function that many students take from
the same blog post is most of it.

Most students add little to the lesson, so a copy of such a notebook is caught by the *notebook*
score: the same containment over all of a student's own content, the added code and the
markdown words that are not the course notes' (:mod:`.text`), from
:data:`MIN_NOTEBOOK_FEATURES` on. What a copier changes (names, comments, numbers, the order of
cells, outputs) changes neither. Identical submissions are flagged whatever their size
(:mod:`.identical`). Thresholds are calibrated in ``reference/similarity_calibration.md``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from grader.cohort.similarity.checkpoints import checkpoint_flags
from grader.cohort.similarity.identical import identical_flags
from grader.cohort.similarity.images import image_flags
from grader.cohort.similarity.records import Match, SimilarityFlag, SubmissionPrint
from grader.cohort.similarity.tokens import K

#: calibrated code threshold: midway between the highest independent pair (0.41) and the lowest
#: copied pair (0.94); see reference/similarity_calibration.md (reference/calibrate_similarity.py)
CODE_THRESHOLD = 0.68
#: a pair is code-flagged only when both added at least this many shingles (about ten new lines)
MIN_ADDED_SHINGLES = 100
#: calibrated notebook threshold (added code and markdown); see reference/similarity_calibration.md
NOTEBOOK_THRESHOLD = 0.71
#: a pair gets a notebook score only when both hold this much of their own (code shingles and
#: markdown phrases: about three added lines, or a sentence and a half)
MIN_NOTEBOOK_FEATURES = 30
#: for the notebook score, what more than max(NOTEBOOK_COMMON_MIN, NOTEBOOK_COMMON_FRACTION *
#: cohort) students hold is not one student's own (a snippet or phrase a group passed around):
#: small sets are compared, so a shared snippet must not be most of one
NOTEBOOK_COMMON_MIN = 5
NOTEBOOK_COMMON_FRACTION = 0.05
#: a shingle held by more than max(COMMON_MIN, COMMON_FRACTION * cohort) students is an idiom
COMMON_MIN = 10
COMMON_FRACTION = 0.1
MAX_MATCHES = 5
MAX_MATCH_LINES = 80


def find_similar(prints: dict[str, SubmissionPrint], code_threshold: float | None = None,
                 notebook_threshold: float | None = None) -> list[SimilarityFlag]:
    """Flag every pair of students with identical submissions, similar added code or notebooks,
    near-identical sample images or identical checkpoints.

    Args:
        prints: Student name -> print (from :func:`fingerprint_submission`).
        code_threshold: Code score at or above which a pair is flagged (default
            :data:`CODE_THRESHOLD`, the calibrated value).
        notebook_threshold: The same for the notebook score (default
            :data:`NOTEBOOK_THRESHOLD`).

    Returns:
        Flags sorted by score, highest first (ties: kind, then names). A pair flagged as
        identical gets no code or notebook flag, and a code-flagged pair no notebook flag.
    """
    threshold = CODE_THRESHOLD if code_threshold is None else code_threshold
    nb_threshold = NOTEBOOK_THRESHOLD if notebook_threshold is None else notebook_threshold
    common = common_cut(len(prints))
    same = identical_flags(prints, common)
    done = {(f.a, f.b) for f in same}
    code = [f for f in _code_flags(prints, threshold) if (f.a, f.b) not in done]
    done |= {(f.a, f.b) for f in code}
    notebook = [f for f in _notebook_flags(prints, nb_threshold) if (f.a, f.b) not in done]
    flags = same + code + notebook + image_flags(prints, common) + checkpoint_flags(prints)
    return sorted(flags, key=lambda f: (-f.score, f.kind, f.a, f.b))


def common_cut(n: int) -> int:
    """A shingle held by more than this many of ``n`` students is ignored as an idiom."""
    return max(COMMON_MIN, math.ceil(COMMON_FRACTION * n))


def notebook_cut(n: int) -> int:
    """For the notebook score: a feature held by more than this many of ``n`` is not compared."""
    return max(NOTEBOOK_COMMON_MIN, math.ceil(NOTEBOOK_COMMON_FRACTION * n))


def code_scores(prints: dict[str, SubmissionPrint], ignore_common: bool = True
                ) -> tuple[dict[tuple[str, str], tuple[float, int]], dict[str, set[int]]]:
    """Containment score and shared count of every pair whose both sides added enough code.

    Args:
        prints: Student name -> print.
        ignore_common: Drop shingles that more than :func:`common_cut` students hold.

    Returns:
        ``{(a, b): (score, shared)}`` for ``a < b``, and each student's compared shingle set.
    """
    return containment({n: p.added() for n, p in prints.items()}, MIN_ADDED_SHINGLES,
                       ignore_common)


def notebook_scores(prints: dict[str, SubmissionPrint], ignore_common: bool = True
                    ) -> tuple[dict[tuple[str, str], tuple[float, int]], dict[str, set[int]]]:
    """:func:`code_scores` over the whole notebook: added code and the student's markdown.

    Features that more than :func:`notebook_cut` students hold are dropped (``ignore_common``).
    """
    return containment({n: p.notebook() for n, p in prints.items()}, MIN_NOTEBOOK_FEATURES,
                       ignore_common, notebook_cut(len(prints)))


def containment(sets: dict[str, set[int]], min_size: int, ignore_common: bool = True,
                cut: int | None = None
                ) -> tuple[dict[tuple[str, str], tuple[float, int]], dict[str, set[int]]]:
    """``|A & B| / min(|A|, |B|)`` of every pair whose both sets hold at least ``min_size``.

    Args:
        sets: Student name -> hashes.
        min_size: Pairs with a smaller side (after the common filter) are not scored.
        ignore_common: Drop hashes that more than ``cut`` students hold.
        cut: Default :func:`common_cut` of the cohort.

    Returns:
        ``{(a, b): (score, shared)}`` for ``a < b`` sharing something, and each student's
        compared set.
    """
    from scipy import sparse

    names = sorted(sets)
    arrays = {n: np.fromiter(sets[n], dtype=np.uint64) for n in names}
    if not names:
        return {}, {}
    allh = np.concatenate([arrays[n] for n in names])
    uniq, inverse = np.unique(allh, return_inverse=True)
    rows = np.repeat(np.arange(len(names)), [len(arrays[n]) for n in names])
    matrix = sparse.csr_matrix((np.ones(len(allh), np.int32), (rows, inverse)),
                               shape=(len(names), len(uniq)))
    if ignore_common:
        df = np.asarray(matrix.sum(axis=0)).ravel()
        keep = df <= (common_cut(len(names)) if cut is None else cut)
        matrix = matrix[:, np.flatnonzero(keep)]
        uniq = uniq[keep]
    sizes = np.asarray(matrix.sum(axis=1)).ravel()
    inter = (matrix @ matrix.T).tocoo()
    scores: dict[tuple[str, str], tuple[float, int]] = {}
    for i, j, shared in zip(inter.row, inter.col, inter.data):
        if i >= j or min(sizes[i], sizes[j]) < min_size:
            continue
        scores[(names[i], names[j])] = (float(shared) / float(min(sizes[i], sizes[j])), int(shared))
    kept = {n: {int(h) for h in uniq[matrix[i].indices]} for i, n in enumerate(names)}
    return scores, kept


def _code_flags(prints: dict[str, SubmissionPrint], threshold: float) -> list[SimilarityFlag]:
    scores, kept = code_scores(prints)
    flags = []
    for (a, b), (score, shared) in scores.items():
        if score < threshold:
            continue
        na, nb = len(kept[a]), len(kept[b])
        detail = (f"{score:.0%} of the smaller added code is shared: {shared} normalised "
                  f"{K}-token shingles in common ({a} added {na}, {b} added {nb}; lesson code "
                  f"and cohort-wide idioms not counted).")
        common = kept[a] & kept[b]
        flags.append(SimilarityFlag(a, b, "code", round(score, 4), threshold, detail,
                                    matches(prints[a], prints[b], common)))
    return flags


def _notebook_flags(prints: dict[str, SubmissionPrint], threshold: float) -> list[SimilarityFlag]:
    scores, kept = notebook_scores(prints)
    flags = []
    for (a, b), (score, shared) in scores.items():
        if score < threshold:
            continue
        common = kept[a] & kept[b]
        code = common & prints[a].added()
        small = a if len(kept[a]) <= len(kept[b]) else b
        detail = (f"{score:.0%} of what {small}'s notebook adds to the lesson is also in the "
                  f"other's: {len(code)} shingles of added code and {shared - len(code)} "
                  f"phrases of markdown in common ({a} holds {len(kept[a])}, {b} "
                  f"{len(kept[b])}; lesson code, the course notes' text and what more than "
                  f"{notebook_cut(len(prints))} students share not counted). Names, comments, "
                  "numbers and the order of cells do not change this score.")
        flags.append(SimilarityFlag(a, b, "notebook", round(score, 4), threshold, detail,
                                    matches(prints[a], prints[b], code)))
    return flags


def _regions(sp: SubmissionPrint, common: set[int]) -> list[tuple[int, int, int, set[int]]]:
    """Runs of shared shingles as ``(segment, first line, last line, hashes)``.

    A run never spans two top-level statements, so a function is shown next to its copy
    wherever the copier moved it.
    """
    runs: list[list[Any]] = []  # [segment, first line, last line, hashes, statement]
    for si, seg in enumerate(sp.segments):
        cur: list[Any] | None = None
        for h, (first, last, unit) in zip(seg.hashes, seg.spans):
            if h not in common:
                continue
            if cur is not None and unit == cur[4] and first <= cur[2] + 2:  # a line or two apart
                cur[2] = max(cur[2], last)
                cur[3].add(h)
            else:
                cur = [si, first, last, {h}, unit]
                runs.append(cur)
    return [(si, first, last, hashes) for si, first, last, hashes, _ in runs]


def matches(a: SubmissionPrint, b: SubmissionPrint, common: set[int]) -> list[Match]:
    """Side-by-side regions of shared added code, longest first (at most :data:`MAX_MATCHES`)."""
    ra, rb = _regions(a, common), _regions(b, common)
    pairs = sorted(((len(x[3] & y[3]), i, j) for i, x in enumerate(ra) for j, y in enumerate(rb)
                    if x[3] & y[3]), reverse=True)
    used_a: set[int] = set()
    used_b: set[int] = set()
    out = []
    for _, i, j in pairs:
        if i in used_a or j in used_b:
            continue
        used_a.add(i)
        used_b.add(j)
        out.append(Match(_text(a, ra[i]), _text(b, rb[j]), _where(a, ra[i]), _where(b, rb[j])))
        if len(out) == MAX_MATCHES:
            break
    return out


def _text(sp: SubmissionPrint, region: tuple[int, int, int, set[int]]) -> str:
    lines = sp.segments[region[0]].lines[region[1] - 1:region[2]]
    if len(lines) > MAX_MATCH_LINES:
        rest = len(lines) - MAX_MATCH_LINES
        lines = lines[:MAX_MATCH_LINES] + [f"... ({rest} more lines)"]
    return "\n".join(lines)


def _where(sp: SubmissionPrint, region: tuple[int, int, int, set[int]]) -> str:
    return sp.segments[region[0]].place(region[1], region[2])

