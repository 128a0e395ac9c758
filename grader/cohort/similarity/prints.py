"""Fingerprint one submission: read it with intake (parsing only) and keep its added code.

Every student starts from the same lesson, so code is compared on what a submission *adds* to
it: tokens that the lesson covers (its shingles and its logical lines, see
:func:`~grader.cohort.similarity.tokens.lesson_shingles`) are lesson code; a shingle is
*added* when it holds a token that is not. The print also keeps the digests of
:mod:`~grader.cohort.similarity.identical` and the markdown shingles of
:mod:`~grader.cohort.similarity.text`. Images and checkpoints are hashed by
:mod:`~grader.cohort.similarity.images` and :mod:`~grader.cohort.similarity.checkpoints`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from grader.cohort.similarity.checkpoints import checkpoint_prints
from grader.cohort.similarity.identical import code_digest, file_digests
from grader.cohort.similarity.images import image_prints
from grader.cohort.similarity.records import CodeSegment, SubmissionPrint
from grader.cohort.similarity.text import notebook_text, text_print
from grader.cohort.similarity.tokens import (
    K,
    Token,
    lesson_shingles,
    normalise_sources,
    shingles,
    statements,
)
from grader.intake.encoding import decode_source
from grader.intake.magics import strip_ipython


def fingerprint_submission(path: Path, work_dir: Path) -> SubmissionPrint:
    """Read a submission with intake (parsing only) and fingerprint its code, images and checkpoints.

    Args:
        path: A folder, ``.ipynb``, ``.py`` or ``.zip`` submission.
        work_dir: Scratch folder for intake (unpacked zip, embedded images).

    Returns:
        The :class:`SubmissionPrint`; a broken or unreadable submission gives an empty print
        with a note. Never raises.
    """
    path = Path(path)
    name = path.stem if path.is_file() else path.name
    try:
        from grader.intake import load_submission

        sub = load_submission(path, Path(work_dir))
    except Exception as exc:  # noqa: BLE001 - one broken submission never stops the cohort
        return SubmissionPrint(name=name, notes=[f"not read: {type(exc).__name__}: {exc}"[:300]])
    sp = SubmissionPrint(name=sub.name)
    for label, task in (("code", _code_print), ("text", _text_print), ("images", image_prints),
                        ("checkpoints", checkpoint_prints)):
        try:
            task(sub, Path(work_dir), sp)
        except Exception as exc:  # noqa: BLE001
            sp.notes.append(f"{label} not fingerprinted: {type(exc).__name__}: {exc}"[:300])
    return sp


def _code_print(sub: Any, work_dir: Path, sp: SubmissionPrint) -> None:
    sources = code_sources(sub)
    code = fingerprint_sources(sp.name, sources)
    sp.segments, sp.shingles_total = code.segments, code.shingles_total
    sp.files = file_digests(sub, {rel for rel in sub.sources
                                  if any(w == rel or w.startswith(f"{rel} cell ") for w, _, _ in sources)})
    sp.code_sha256, sp.code_tokens = code_digest(sources)
    if not sources:
        sp.notes.append("no code was read")


def _text_print(sub: Any, work_dir: Path, sp: SubmissionPrint) -> None:
    cells: list[str] = []
    for rel in sub.sources:
        if rel.lower().endswith(".ipynb"):
            cells += notebook_text((Path(sub.root) / rel).read_bytes(), rel)
    sp.text = text_print(cells)


def fingerprint_sources(name: str, sources: list[tuple[str, str, bool]],
                        lesson: frozenset[int] | None = None, k: int = K) -> SubmissionPrint:
    """The code part of a print from ``(where, python text, is a cell)`` segments.

    Args:
        name: Student name.
        sources: Segments in file order (see :func:`code_sources`).
        lesson: Lesson shingles to remove (default: the packaged fingerprint).
        k: Shingle length (other values only for calibration, with a matching ``lesson``).
    """
    lesson = lesson_shingles() if lesson is None else lesson
    sp = SubmissionPrint(name=name)
    for (where, text, cell), tokens in zip(sources, normalise_sources(sources)):
        seg = CodeSegment(where=where, cell=cell, lines=text.split("\n"))
        found = shingles(tokens, k)
        sp.shingles_total += len(found)
        for keep, (h, first, last, i) in zip(added_mask(tokens, found, lesson, k), found):
            if keep:
                seg.hashes.append(h)
                seg.spans.append((first, last, tokens[i][4]))
        if not seg.hashes:
            seg.lines = []  # nothing of it can be shown as a match: keep the print small
        sp.segments.append(seg)
    return sp


def added_mask(tokens: list[Token], found: list[tuple[int, int, int, int]], lesson: frozenset[int],
               k: int = K) -> list[bool]:
    """Which shingles (``found``, from :func:`shingles`) of one segment are added code.

    A token is lesson code when a lesson shingle covers it or its whole logical line is a
    lesson line; a shingle is added when at least one of its tokens is not lesson code. So
    lesson lines in a new order or in one cell (the joins between them) are not added, and
    neither is the context of a line the student deleted from the lesson.
    """
    n = len(tokens)
    diff = np.zeros(n + 1, dtype=np.int32)
    for h, _, _, i in found:
        if h in lesson:
            diff[i] += 1
            diff[i + k] -= 1
    covered = np.cumsum(diff)[:n] > 0
    for h, start, end in statements(tokens):
        if h in lesson:
            covered[start:end] = True
    uncovered = np.concatenate([[0], np.cumsum(~covered)])
    return [bool(uncovered[i + k] - uncovered[i]) for _, _, _, i in found]


def code_sources(sub: Any) -> list[tuple[str, str, bool]]:
    """Every code cell and ``.py`` file of an intake ``Submission`` as ``(where, text, is a cell)``.

    Whole cells and files, not only the statements intake keeps for the sandbox: training
    loops are copied too. IPython syntax is stripped (line numbers are kept).
    """
    from grader.intake.notebook import read_notebook

    sources: list[tuple[str, str, bool]] = []
    for rel in sub.sources:
        data = (Path(sub.root) / rel).read_bytes()
        if rel.lower().endswith(".ipynb"):
            for chunk in read_notebook(data, rel).chunks:
                stripped = strip_ipython(chunk.raw)
                if stripped.dropped_cell is None and not looks_binary(chunk.raw):
                    sources.append((f"{rel} cell {chunk.cell}", stripped.text, True))
        else:
            text = decode_source(data, rel, honour_cookie=True).text
            if not looks_binary(text):
                sources.append((rel, strip_ipython(text).text, False))
    return sources


def looks_binary(text: str) -> bool:
    """True for text that is not source code at all (a NUL, or many control characters)."""
    if "\x00" in text:
        return True
    controls = sum(1 for ch in text[:20_000] if ord(ch) < 32 and ch not in "\t\n\r\f"
                   or 127 <= ord(ch) < 160)
    return controls > 0.01 * min(len(text), 20_000)
