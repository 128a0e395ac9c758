"""Build ``grader/assets/lesson_fingerprint.json``: the lesson's code as hashed, normalised shingles.

Similarity (``grader/cohort/similarity/``) discounts the code every student starts from. The
course notes (``shared/assignment/``) are Markdown-like text files; this script takes their
fenced code blocks: the Fashion-MNIST DCGAN lesson (``000_*``, ``002_*``), the MNIST GAN/DCGAN
notes students also meet (``003_*``, ``004_*``) and the assignment's CIFAR-10 skeleton
(``001_*``). Blocks marked ``python`` are always used; unmarked blocks only when they look like
code (shell commands and printed output are left out). All blocks are normalised together,
as one notebook, with the module's own normaliser; each block gives its ``k``-token shingles
and its logical lines.

Only 64-bit hashes are stored (sorted, base64), never the lesson text.

Usage::

    python -m reference.make_lesson_fingerprint [--notes ../shared/assignment] [--out PATH]
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import re
import textwrap
from pathlib import Path

import numpy as np

from grader.cohort import similarity as sim
from grader.intake.magics import strip_ipython

REPO = Path(__file__).resolve().parent.parent
DEFAULT_NOTES = REPO.parent / "shared" / "assignment"
#: note files by name prefix: the lesson, the assignment's skeleton, the other GAN notes
NOTE_PREFIXES = ("000_", "001_", "002_", "003_", "004_")
_FENCE = re.compile(r"^```[ \t]*(\w*)[ \t]*\n(.*?)^```", re.MULTILINE | re.DOTALL)
_CODE_LINE = re.compile(r"[\w\])]\s*[-+*/]?=[^=]|^\s*(def|class|import|from|for|if|return|with)\b"
                        r"|\w\.\w+\(", re.MULTILINE)


def note_files(notes: Path) -> list[Path]:
    """The course-note files used, in name order."""
    return sorted(p for p in notes.glob("*.txt") if p.name.startswith(NOTE_PREFIXES))


def code_blocks(text: str) -> list[str]:
    """Python code blocks of one note: ``python`` fences, and unmarked fences that look like code."""
    out = []
    for m in _FENCE.finditer(text):
        lang, body = m.group(1).lower(), textwrap.dedent(m.group(2))
        if lang in ("python", "py", "python3", "ipython"):
            out.append(body)
        elif not lang and _looks_like_code(body):
            out.append(body)
    return out


def _looks_like_code(body: str) -> bool:
    lines = [ln for ln in body.split("\n") if ln.strip() and not ln.lstrip().startswith(("#", "$"))]
    return bool(lines) and sum(bool(_CODE_LINE.search(ln)) for ln in lines) >= len(lines) / 2


def lesson_sources(notes: Path) -> tuple[list[tuple[str, str, bool]], list[dict]]:
    """The lesson's code blocks as similarity segments, and a record of the note files used."""
    blocks: list[str] = []
    sources = []
    for path in note_files(notes):
        data = path.read_bytes()
        found = code_blocks(data.decode("utf-8", errors="replace"))
        blocks += [strip_ipython(b).text for b in found]
        sources.append({"file": path.name, "sha256": hashlib.sha256(data).hexdigest(),
                        "blocks": len(found)})
    return [(f"block {i}", text, True) for i, text in enumerate(blocks)], sources


def lesson_hashes(notes: Path, k: int = sim.K) -> tuple[np.ndarray, list[dict]]:
    """Sorted unique shingle and logical-line hashes of all lesson blocks, and the note files used."""
    segments, sources = lesson_sources(notes)
    hashes = sim.lesson_hashes_of(segments, k)
    return np.unique(np.fromiter(hashes, dtype=np.uint64, count=len(hashes))), sources


def build(notes: Path) -> dict:
    """The fingerprint as a JSON-ready dict."""
    hashes, sources = lesson_hashes(notes)
    return {
        "about": "Hashed normalised token shingles of the course's lesson code (not the code "
                 "itself); made by python -m reference.make_lesson_fingerprint.",
        "k": sim.K,
        "normaliser": sim.NORMALISER_VERSION,
        "hash": "blake2b-64 of normalised tokens joined by U+001F (k-token shingles, and logical "
                "lines prefixed by U+001E 'statement'), little-endian uint64, sorted, base64",
        "sources": sources,
        "count": int(hashes.size),
        "shingles": base64.b64encode(hashes.astype("<u8").tobytes()).decode("ascii"),
    }


def main(argv: list[str] | None = None) -> int:
    """Write the fingerprint; print how many shingles it holds."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--notes", type=Path, default=DEFAULT_NOTES,
                        help="folder with the course notes (default: ../shared/assignment)")
    parser.add_argument("--out", type=Path, default=sim.lesson_fingerprint_path())
    args = parser.parse_args(argv)
    if not note_files(args.notes):
        parser.error(f"no course notes ({', '.join(NOTE_PREFIXES)}*.txt) in {args.notes}")
    data = build(args.notes)
    args.out.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    per_file = ", ".join(f"{s['file'][:3]}: {s['blocks']}" for s in data["sources"])
    print(f"{args.out}: {data['count']} hashes from code blocks ({per_file})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
