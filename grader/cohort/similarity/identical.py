"""Identical submissions: byte-identical code files, and code that is the same but for comments.

However little a submission adds to the lesson, two students who hand in the same notebook are
flagged. Each code file (notebook or ``.py``) of at least :data:`MIN_IDENTICAL_BYTES` is
digested as it is (sha256 of its bytes, whatever its name); all code cells and files together
are digested again with comments, docstrings and layout dropped (names and values kept,
:func:`~grader.cohort.similarity.tokens.plain_tokens`), so a re-run notebook, or one whose
comments were rewritten, is still the same code. A digest that more than
:func:`~grader.cohort.similarity.compare.common_cut` students hold is a file the course hands
out, not a copy, and is not flagged.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from grader.cohort.similarity.records import SimilarityFlag, SubmissionPrint
from grader.cohort.similarity.tokens import plain_tokens

#: code files smaller than this are not compared byte for byte (placeholders, empty helpers)
MIN_IDENTICAL_BYTES = 2048
#: code with fewer tokens (comments and layout aside) is not compared (about 20 lines)
MIN_IDENTICAL_TOKENS = 200


def file_digests(sub: Any, read: set[str] | None = None) -> dict[str, str]:
    """Code file (relative path) -> sha256 of its bytes, for an intake ``Submission``.

    Args:
        sub: The submission.
        read: Only these files (those code was read from; not a binary file named ``.py``).
    """
    out = {}
    for rel in sub.sources:
        if read is not None and rel not in read:
            continue
        path = Path(sub.root) / rel
        try:
            if path.is_symlink() or path.stat().st_size < MIN_IDENTICAL_BYTES:
                continue
            out[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError:
            continue
    return out


def code_digest(sources: list[tuple[str, str, bool]]) -> tuple[str, int]:
    """sha256 of the code of ``(where, text, is a cell)`` segments, comments and layout aside.

    Returns:
        The hex digest (empty when under :data:`MIN_IDENTICAL_TOKENS` tokens) and the count.
    """
    h = hashlib.sha256()
    count = 0
    for _, text, _ in sources:
        tokens = plain_tokens(text)
        if not tokens:
            continue  # an empty cell, or one holding only comments
        count += len(tokens)
        h.update("\x1f".join(tokens).encode("utf-8", "surrogatepass") + b"\x1e")
    return (h.hexdigest() if count >= MIN_IDENTICAL_TOKENS else ""), count


def identical_flags(prints: dict[str, SubmissionPrint], common: int) -> list[SimilarityFlag]:
    """One flag per pair of students holding a byte-identical code file or the same code.

    Args:
        prints: Student name -> print.
        common: A digest held by more than this many students is not flagged (course files).
    """
    by_file: dict[str, list[tuple[str, str]]] = {}
    by_code: dict[str, list[str]] = {}
    for name in sorted(prints):
        sp = prints[name]
        for rel, digest in sorted(sp.files.items()):
            by_file.setdefault(digest, []).append((name, rel))
        if sp.code_sha256:
            by_code.setdefault(sp.code_sha256, []).append(name)
    flags: dict[tuple[str, str], SimilarityFlag] = {}
    for digest, owners in by_file.items():
        if len({n for n, _ in owners}) > common:
            continue
        for x, (a, fa) in enumerate(owners):
            for b, fb in owners[x + 1:]:
                if a != b and (a, b) not in flags:
                    detail = (f"{a}'s {fa} and {b}'s {fb} are byte-identical files "
                              f"(sha256 {digest[:12]}).")
                    flags[(a, b)] = SimilarityFlag(a, b, "identical", 1.0, 1.0, detail)
    for digest, names in by_code.items():
        if len(names) > common:
            continue
        for x, a in enumerate(names):
            for b in names[x + 1:]:
                if (a, b) not in flags:
                    detail = (f"{a} and {b} hand in the same code: every code cell is identical "
                              f"once comments and layout are set aside ({prints[a].code_tokens} "
                              f"tokens, sha256 {digest[:12]}).")
                    flags[(a, b)] = SimilarityFlag(a, b, "identical", 1.0, 1.0, detail)
    return list(flags.values())
