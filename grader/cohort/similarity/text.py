"""Markdown text for similarity: word shingles of a notebook's markdown, the course notes' removed.

A student's own words (the notes on results, the retrospective) are what a copier of a notebook
most often keeps, while the step headings and instructions come from the assignment, which every
student may paste. Text is lower-cased (NFKC) and cut into words (``\\w+``, Hangul included,
markdown syntax and URLs dropped); each line of a cell gives overlapping :data:`TEXT_K`-word
shingles (a shorter line of at least :data:`MIN_LINE_WORDS` words gives one: a heading such as
"Step 1. 데이터셋 구성하기" is one shingle, and the notes' own). Shingles of the course notes'
prose (the assignment folder's ``lesson_text.json``, next to its lesson fingerprint, made by
``python -m reference.calibrate_similarity --lesson-text``) are removed.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import re
import unicodedata
from pathlib import Path

import numpy as np

from grader.assignment import get_assignment
from grader.intake.encoding import decode_source

#: words per markdown shingle (a short clause: "fake accuracy가 끝까지 0.9 근처에서")
TEXT_K = 5
#: a line with fewer words (a bare heading such as "## 회고") gives no shingle
MIN_LINE_WORDS = 3
#: the course notes' prose as shingle hashes (never the text), in the assignment folder
LESSON_TEXT_FILE = "lesson_text.json"
_URL = re.compile(r"https?://\S+|www\.\S+")
_WORD = re.compile(r"\w+")
_FENCE = re.compile(r"^```.*?^```[ \t]*$", re.MULTILINE | re.DOTALL)


def words(text: str) -> list[str]:
    """The words of some markdown, lower-cased (links and images dropped)."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = re.sub(r"!\[[^\]]*\]\([^)]*\)", " ", text)  # embedded images
    text = re.sub(r"\]\([^)]*\)", " ", text)  # link targets
    text = _URL.sub(" ", text)
    text = re.sub(r"<[^>]{0,200}>", " ", text)  # HTML tags
    return _WORD.findall(text)


def _hash(ws: list[str]) -> int:
    digest = hashlib.blake2b(("\x1etext\x1f" + "\x1f".join(ws)).encode("utf-8"),
                             digest_size=8).digest()
    return int.from_bytes(digest, "little")


def text_shingles(text: str, k: int = TEXT_K) -> set[int]:
    """Word-shingle hashes of one line or paragraph (their own hash namespace, apart from code)."""
    ws = words(text)
    if len(ws) < MIN_LINE_WORDS:
        return set()
    if len(ws) < k:
        return {_hash(ws)}
    return {_hash(ws[i:i + k]) for i in range(len(ws) - k + 1)}


def prose(note: str) -> list[str]:
    """The text of a course note with its code blocks taken out, in paragraphs."""
    return [p for p in re.split(r"\n\s*\n", _FENCE.sub("\n\n", note)) if p.strip()]


def lesson_text_hashes(notes: list[str], k: int = TEXT_K) -> set[int]:
    """Shingles of the notes' prose, by paragraph and by line (a student pastes either)."""
    out: set[int] = set()
    for note in notes:
        for para in prose(note):
            out |= text_shingles(para, k)
            for line in para.split("\n"):
                out |= text_shingles(line, k)
    return out


def lesson_text_path() -> Path:
    """The current assignment's ``lesson_text.json``."""
    return get_assignment().folder / LESSON_TEXT_FILE


def write_lesson_text(notes: list[str], path: Path | None = None) -> int:
    """Write the notes' prose shingles (sorted 64-bit hashes, base64) to ``path`` (default
    :func:`lesson_text_path`); their count."""
    path = lesson_text_path() if path is None else path
    hashes = np.array(sorted(lesson_text_hashes(notes)), dtype="<u8")
    raw = {"k": TEXT_K, "count": int(hashes.size),
           "shingles": base64.b64encode(hashes.tobytes()).decode("ascii")}
    path.write_text(json.dumps(raw, indent=1) + "\n", encoding="utf-8")
    return int(hashes.size)


@functools.lru_cache(maxsize=4)
def lesson_text(path: Path | None = None) -> frozenset[int]:
    """The course notes' prose shingles (empty when the assignment has none)."""
    path = lesson_text_path() if path is None else path
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        if raw.get("k") != TEXT_K:
            return frozenset()
        data = np.frombuffer(base64.b64decode(raw["shingles"]), dtype="<u8")
    except (OSError, ValueError, KeyError, TypeError):
        return frozenset()
    return frozenset(int(x) for x in data)


def notebook_text(data: bytes, rel: str) -> list[str]:
    """The markdown cells of a notebook's bytes (v3 or v4), in file order; none when not a notebook."""
    try:
        raw = json.loads(decode_source(data, rel).text)
    except (ValueError, RecursionError):
        return []
    if not isinstance(raw, dict):
        return []
    sheets = raw.get("worksheets") if isinstance(raw.get("worksheets"), list) else [raw]
    out = []
    for sheet in sheets:
        cells = sheet.get("cells") if isinstance(sheet, dict) else None
        for cell in cells if isinstance(cells, list) else []:
            if not isinstance(cell, dict) or cell.get("cell_type") not in ("markdown", "heading"):
                continue
            source = cell.get("source", "")
            out.append("".join(str(s) for s in source) if isinstance(source, list) else str(source))
    return out


def text_print(cells: list[str], lesson: frozenset[int] | None = None) -> list[int]:
    """The student's markdown shingles: every cell's, less the course notes' (sorted)."""
    lesson = lesson_text() if lesson is None else lesson
    found: set[int] = set()
    for cell in cells:
        for line in cell.split("\n"):
            found |= text_shingles(line)
    return sorted(found - lesson)
