"""Similarity flags across a cohort: added code, sample images and checkpoints (trusted, never runs code).

Code. Every student starts from the same lesson, so code is compared on what a submission
*adds* to it. Source is tokenised (``tokenize``, a regex tokenizer when that fails) and
normalised: comments, docstrings and layout are dropped; numbers become ``N`` and strings ``S``
(hyper-parameters and paths are the first thing a copier changes, and the lesson's 28x28x1 ->
32x32x3 edits vanish with them); names the student chose become ``V``. Kept verbatim: keywords,
builtins, imported names (``tf``, ``layers``), attribute names (``.Conv2DTranspose``, ``.add``;
but ``self.x`` -> ``V``) and keyword-argument names (``use_bias=``): they are the Keras API a
copier cannot rename without changing the program, and they carry its structure. Each top-level
statement (a whole function, loop or assignment) gives overlapping :data:`K`-token shingles
hashed to 64 bits, so code inserted between statements or functions put in another order leave
every shingle intact. Tokens that the lesson covers (its shingles and its logical lines, from
``grader/assets/lesson_fingerprint.json``, made by ``reference/make_lesson_fingerprint.py``) are
lesson code; a shingle is *added* when it holds a token that is not. The score of a pair is the
containment of the smaller added set in the larger, ``|A & B| / min(|A|, |B|)``: a copy plus
padding, or half of a copy, still scores near 1, where Jaccard falls with every padded line.
Like MOSS, shingles that a large part of the cohort shares are ignored (idioms such as the
RGB ``imshow`` fix). The threshold is calibrated in ``reference/similarity_calibration.md``.

Images. Sample grids, GIF frames and sample images embedded in notebooks get a 256-bit
difference hash (16x16 dHash of the grayscale image with uniform borders cropped); a pair is
flagged when some image of one student is within :data:`IMAGE_THRESHOLD` of one of the other's.
Checkpoints: sha256 of the weight data files; equal digests are flagged.
"""

from __future__ import annotations

import ast
import base64
import builtins
import dataclasses
import functools
import hashlib
import io
import json
import keyword
import math
import re
import textwrap
import tokenize
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

#: shingle length in normalised tokens (a typical Keras ``model.add(...)`` line is 15-35 tokens)
K = 12
#: bump when the normalisation changes; the lesson fingerprint records it
NORMALISER_VERSION = 1
#: calibrated code threshold: midway between the highest independent pair (0.41) and the lowest
#: copied pair (0.94); see reference/similarity_calibration.md (reference/calibrate_similarity.py)
CODE_THRESHOLD = 0.68
#: a pair is code-flagged only when both added at least this many shingles (about ten new lines)
MIN_ADDED_SHINGLES = 100
#: a shingle held by more than max(COMMON_MIN, COMMON_FRACTION * cohort) students is an idiom
COMMON_MIN = 10
COMMON_FRACTION = 0.1
#: images: 1 - (differing bits / HASH_BITS) at or above this is "near-identical"; calibrated in
#: reference/similarity_calibration.md (different grids <= 0.71, re-encoded copies >= 0.89)
IMAGE_THRESHOLD = 0.8
#: an image with fewer than MIN_CONTENT_BITS thumbnail gradients that differ by more than
#: CONTENT_DELTA grey levels from its layout's shows nothing but a grid (blank, or
#: untrained-generator noise: 0-1 such gradients; real or generated samples: 67-200)
CONTENT_DELTA = 12.0
MIN_CONTENT_BITS = 32
MAX_IMAGES = 48
MAX_GIF_FRAMES = 12
#: weight files smaller than this are not compared (empty or placeholder files)
MIN_CHECKPOINT_BYTES = 1024
MAX_MATCHES = 5
MAX_MATCH_LINES = 80
HASH_SIDE = 16
HASH_BITS = HASH_SIDE * HASH_SIDE
LESSON_FINGERPRINT = Path(__file__).resolve().parent.parent / "assets" / "lesson_fingerprint.json"

_IMAGE_KINDS = ("samples", "gif")
#: a normalised token: (text, first line, last line, logical line, top-level statement)
Token = tuple[str, int, int, int, int]
#: a raw token (type, text, first line, last line, column) and one with (starts, ends) statement
_Raw = tuple[int, str, int, int, int]
_Sig = tuple[int, str, int, int, int, bool, bool]
_SKIP_TYPES = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT,
               tokenize.ENCODING, tokenize.ENDMARKER}
_FSTRING_START = getattr(tokenize, "FSTRING_START", -1)
_FSTRING_END = getattr(tokenize, "FSTRING_END", -2)
_BUILTINS = frozenset(dir(builtins)) | frozenset(keyword.kwlist)
#: ``import a, b as c`` and ``from x import (a, b as c)`` on one line (for code that does not parse)
_IMPORT = re.compile(r"^[ \t]*(?:from[ \t]+[\w.]+[ \t]+)?import[ \t]+([^\n]+)", re.MULTILINE)
_REGEX_TOKEN = re.compile(
    r"(?P<comment>#[^\n]*)|(?P<string>[rRbBuUfF]{0,2}(\"\"\"[\s\S]*?\"\"\"|'''[\s\S]*?'''"
    r"|\"[^\"\n]*\"|'[^'\n]*'))|(?P<number>\d[\w.]*|\.\d[\w]*)|(?P<name>[^\W\d]\w*)"
    r"|(?P<op>\*\*=?|//=?|>>=?|<<=?|->|:=|[-+*/%@&|^=!<>]=|[^\s\w])")


@dataclass
class Match:
    """One matching region of a flagged code pair."""

    a_text: str
    """Original (un-normalised) source lines from student a."""
    b_text: str
    a_where: str
    """E.g. ``nb.ipynb cell 12, lines 3-20`` or ``train.py:40-58``."""
    b_where: str


@dataclass
class SimilarityFlag:
    """A pair of students whose code, sample images or checkpoints are suspiciously alike."""

    a: str
    """Student names, ``a < b``."""
    b: str
    kind: str
    """``code``, ``samples`` or ``checkpoint``."""
    score: float
    """0..1; code: containment of the added code; images: 1 - normalised hash distance."""
    threshold: float
    detail: str
    """One English sentence for the dashboard."""
    matches: list[Match] = field(default_factory=list)
    """Code only: at most :data:`MAX_MATCHES` regions, longest first."""

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data."""
        return dataclasses.asdict(self)


@dataclass
class CodeSegment:
    """One notebook cell or ``.py`` file: its lines and its added shingles in order."""

    where: str
    """``nb.ipynb cell 7`` or ``train.py``."""
    cell: bool
    lines: list[str]
    hashes: list[int] = field(default_factory=list)
    """Added (non-lesson) shingle hashes, in source order."""
    spans: list[tuple[int, int, int]] = field(default_factory=list)
    """First and last line (1-based, within ``lines``) and top-level statement of each hash."""

    def place(self, first: int, last: int) -> str:
        """Where lines ``first..last`` are, for the dashboard."""
        if self.cell:
            return f"{self.where}, lines {first}-{last}"
        return f"{self.where}:{first}-{last}"


@dataclass
class ImagePrint:
    """Perceptual hash of one sample image or GIF frame."""

    origin: str
    hash: str
    """:data:`HASH_BITS` bits as hex."""


@dataclass
class CheckpointPrint:
    """Digest of the weight data of one checkpoint."""

    origin: str
    sha256: str
    size: int


@dataclass
class SubmissionPrint:
    """What similarity needs of one submission (plain data: picklable and JSON-ready)."""

    name: str
    segments: list[CodeSegment] = field(default_factory=list)
    images: list[ImagePrint] = field(default_factory=list)
    checkpoints: list[CheckpointPrint] = field(default_factory=list)
    shingles_total: int = 0
    """All shingles of the code, lesson included."""
    notes: list[str] = field(default_factory=list)

    def added(self) -> set[int]:
        """The added shingle hashes (lesson removed)."""
        return {h for s in self.segments for h in s.hashes}

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> SubmissionPrint:
        """Inverse of :meth:`to_dict`."""
        segments = [CodeSegment(**{**s, "spans": [tuple(p) for p in s.get("spans", [])]})
                    for s in raw.get("segments", [])]
        return cls(name=raw["name"], segments=segments,
                   images=[ImagePrint(**i) for i in raw.get("images", [])],
                   checkpoints=[CheckpointPrint(**c) for c in raw.get("checkpoints", [])],
                   shingles_total=raw.get("shingles_total", 0), notes=list(raw.get("notes", [])))


# ---------------------------------------------------------------- normalisation


def imported_names(texts: list[str]) -> set[str]:
    """Names bound by ``import`` statements anywhere in ``texts`` (aliases included)."""
    names: set[str] = set()
    for text in texts:
        try:
            tree = ast.parse(text)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            for group in _IMPORT.findall(text):
                names |= _bound(group.split("#")[0].strip("() \t"))
            continue
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names |= {(a.asname or a.name).split(".")[0] for a in node.names}
    return names


def _bound(group: str) -> set[str]:
    out = set()
    for part in group.split(","):
        words = part.split()
        if len(words) >= 3 and words[-2] == "as":
            out.add(words[-1])
        elif words:
            out.add(words[0].split(".")[0])
    return out


def normalise(text: str, library: set[str] | frozenset[str] = frozenset()) -> list[Token]:
    """Normalised tokens of Python source as ``(token, first line, last line, statement, unit)``.

    Args:
        text: Python source (IPython syntax already stripped).
        library: Imported names, kept verbatim (see :func:`imported_names`).

    Returns:
        Tokens with comments, docstrings and layout dropped, numbers as ``N``, strings as ``S``
        and the student's own names as ``V``. ``statement`` numbers the logical lines and
        ``unit`` the top-level statements (a whole ``def`` or ``for`` block is one unit).
        Never raises.
    """
    text = textwrap.dedent(text)  # a cell indented as a whole (IPython runs it)
    try:
        raw = [(t.type, t.string, t.start[0], t.end[0], t.start[1])
               for t in tokenize.generate_tokens(io.StringIO(text).readline)]
    except (tokenize.TokenError, SyntaxError, ValueError):
        raw = _regex_tokens(text)
    return _normalised(_significant(raw), library)


def _regex_tokens(text: str) -> list[_Raw]:
    """A forgiving tokenizer for code that ``tokenize`` rejects (same token types).

    A line break outside brackets ends a statement (``NEWLINE``), as in Python.
    """
    out: list[_Raw] = []
    kinds = {"string": tokenize.STRING, "number": tokenize.NUMBER, "name": tokenize.NAME,
             "op": tokenize.OP}
    depth = last = 0
    for m in _REGEX_TOKEN.finditer(text):
        kind = m.lastgroup or "op"
        if kind == "comment":
            continue
        line = text.count("\n", 0, m.start()) + 1
        if out and line > last and depth == 0:
            out.append((tokenize.NEWLINE, "\n", last, last, 0))
        s = m.group()
        depth = max(0, depth + (s in ("(", "[", "{")) - (s in (")", "]", "}")))
        last = line + s.count("\n")
        out.append((kinds[kind], s, line, last, m.start() - text.rfind("\n", 0, m.start()) - 1))
    return out


def _significant(raw: list[_Raw]) -> list[_Sig]:
    """Tokens without layout, each with "starts a statement" and "ends a statement"."""
    sig: list[_Sig] = []
    start = True
    for typ, s, line, end, col in raw:
        if typ in (tokenize.NEWLINE, tokenize.ENDMARKER):
            if sig:
                sig[-1] = (*sig[-1][:6], True)
            start = True
        elif typ in (tokenize.INDENT, tokenize.DEDENT):
            start = True
        elif typ not in _SKIP_TYPES:
            sig.append((typ, s, line, end, col, start, False))
            start = False
    if sig:
        sig[-1] = (*sig[-1][:6], True)
    return sig


def _normalised(sig: list[_Sig], library: set[str] | frozenset[str]) -> list[Token]:
    out: list[Token] = []
    depth = fdepth = 0
    importing = False
    stmt = unit = -1
    for i, (typ, s, line, end, col, starts, _ends) in enumerate(sig):
        if starts:
            importing = typ == tokenize.NAME and s in ("import", "from")
            stmt += 1
            unit += col == 0 or unit < 0
        if fdepth:  # inside an f-string (Python 3.12+ splits it into tokens)
            fdepth += (typ == _FSTRING_START) - (typ == _FSTRING_END)
            if not fdepth:
                out[-1] = ("S", out[-1][1], end, stmt, unit)
            continue
        if typ == _FSTRING_START:
            fdepth = 1
            word = "S"
        elif typ == tokenize.STRING:
            if starts and _bare_string(sig, i):  # a docstring or a string used as a comment
                continue
            word = "S"
        elif typ == tokenize.NUMBER:
            word = "N"
        elif typ == tokenize.NAME:
            word = s if importing else _name(sig, i, s, depth, library)
        elif s.strip():
            if s in ("(", "[", "{"):
                depth += 1
            elif s in (")", "]", "}") and depth:
                depth -= 1
            word = s
        else:
            continue
        out.append((word, line, end, stmt, unit))
    return out


def _bare_string(sig: list[_Sig], i: int) -> bool:
    """True when the string at ``i`` (and any strings right after it) is the whole statement."""
    while i < len(sig) and sig[i][0] == tokenize.STRING:
        if sig[i][6]:
            return True
        i += 1
    return False


def _name(sig: list[_Sig], i: int, s: str, depth: int, library: set[str] | frozenset[str]) -> str:
    prev = sig[i - 1][1] if i > 0 and not sig[i][5] else ""
    if prev == ".":
        owner = sig[i - 2][1] if i > 1 else ""
        return "V" if owner in ("self", "cls") else s
    if s in _BUILTINS or s in library:
        return s
    nxt = sig[i + 1][1] if i + 1 < len(sig) else ""
    if depth > 0 and nxt == "=" and prev in ("(", ","):
        return s  # keyword argument: the called API's parameter name
    return "V"


def shingle_hash(tokens: list[str]) -> int:
    """Stable 64-bit hash of one shingle."""
    digest = hashlib.blake2b("\x1f".join(tokens).encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "little")


def shingles(tokens: list[Token], k: int = K) -> list[tuple[int, int, int, int]]:
    """``(hash, first line, last line, first token index)`` of every ``k``-token window.

    Windows stay inside one top-level statement: code inserted between statements, or
    statements (functions, cells) put in another order, leave every window intact.
    """
    words = [t[0] for t in tokens]
    return [(shingle_hash(words[i:i + k]), tokens[i][1], tokens[i + k - 1][2], i)
            for i in range(len(tokens) - k + 1) if tokens[i][4] == tokens[i + k - 1][4]]


def statements(tokens: list[Token]) -> list[tuple[int, int, int]]:
    """``(hash, first token, end token)`` of every logical line (its own hash namespace)."""
    out: list[tuple[int, int, int]] = []
    start = 0
    for i in range(1, len(tokens) + 1):
        if i == len(tokens) or tokens[i][3] != tokens[start][3]:
            words = ["\x1estatement"] + [t[0] for t in tokens[start:i]]
            out.append((shingle_hash(words), start, i))
            start = i
    return out


def lesson_hashes_of(sources: list[tuple[str, str, bool]], k: int = K) -> set[int]:
    """All shingle and statement hashes of lesson code segments (for the lesson fingerprint)."""
    library = imported_names([text for _, text, _ in sources])
    out: set[int] = set()
    for _, text, _ in sources:
        tokens = normalise(text, library)
        out.update(h for h, *_ in shingles(tokens, k))
        out.update(h for h, _, _ in statements(tokens))
    return out


@functools.lru_cache(maxsize=4)
def lesson_shingles(path: Path = LESSON_FINGERPRINT) -> frozenset[int]:
    """The lesson's shingle and logical-line hashes from the packaged fingerprint.

    Raises:
        RuntimeError: The fingerprint is missing, unreadable or made with other settings
            (without it every lesson-following pair would look alike, so nothing is compared).
    """
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        data = np.frombuffer(base64.b64decode(raw["shingles"]), dtype="<u8")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise RuntimeError(f"the lesson fingerprint {path.name} could not be read ({exc}); "
                           "reinstall the package") from exc
    if raw.get("k") != K or raw.get("normaliser") != NORMALISER_VERSION:
        raise RuntimeError(f"{path.name} was made with other settings; run "
                           "python -m reference.make_lesson_fingerprint")
    return frozenset(int(x) for x in data)


# ---------------------------------------------------------------- fingerprints


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
    library = imported_names([text for _, text, _ in sources])
    sp = SubmissionPrint(name=name)
    for where, text, cell in sources:
        seg = CodeSegment(where=where, cell=cell, lines=text.split("\n"))
        tokens = normalise(text, library)
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
    from grader.intake.encoding import decode_source
    from grader.intake.magics import strip_ipython
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
    for label, task in (("code", _code_print), ("images", _image_prints),
                        ("checkpoints", _checkpoint_prints)):
        try:
            task(sub, Path(work_dir), sp)
        except Exception as exc:  # noqa: BLE001
            sp.notes.append(f"{label} not fingerprinted: {type(exc).__name__}: {exc}"[:300])
    return sp


def _code_print(sub: Any, work_dir: Path, sp: SubmissionPrint) -> None:
    sources = code_sources(sub)
    code = fingerprint_sources(sp.name, sources)
    sp.segments, sp.shingles_total = code.segments, code.shingles_total
    if not sources:
        sp.notes.append("no code was read")


def _image_prints(sub: Any, work_dir: Path, sp: SubmissionPrint) -> None:
    found: list[tuple[str, Path]] = []
    for art in sub.artifacts:
        if art.kind not in _IMAGE_KINDS:
            continue
        file = work_dir / art.file if art.file else Path(sub.root) / art.origin
        found.append((art.origin, file))
    prints: list[ImagePrint] = []
    for origin, file in found:
        try:
            prints += [ImagePrint(label, h) for label, h in _hash_file(origin, file)]
        except Exception as exc:  # noqa: BLE001 - an undecodable image is skipped
            sp.notes.append(f"image {origin} not hashed: {type(exc).__name__}")
    if len(prints) > MAX_IMAGES:  # evenly spaced, first and last kept
        idx = np.unique(np.linspace(0, len(prints) - 1, MAX_IMAGES).round().astype(int))
        prints = [prints[i] for i in idx]
    sp.images = prints


def _hash_file(origin: str, file: Path) -> list[tuple[str, str]]:
    from PIL import Image, ImageSequence

    with Image.open(file) as im:
        frames = getattr(im, "n_frames", 1)
        if frames <= 1:
            h = image_hash(im)
            return [(origin, h)] if h else []
        picks = set(np.linspace(0, frames - 1, min(frames, MAX_GIF_FRAMES)).round().astype(int))
        out = []
        for i, frame in enumerate(ImageSequence.Iterator(im)):
            if i in picks:
                h = image_hash(frame)
                if h:
                    out.append((f"{origin} frame {i}", h))
        return out


def image_hash(image: Any) -> str | None:
    """256-bit difference hash of a PIL image as hex, or None when it shows nothing to compare.

    Uniform borders (a figure's white margin) are cropped first, so the same grid saved with
    another margin or size hashes alike. An image is left out when fewer than
    :data:`MIN_CONTENT_BITS` of its thumbnail's gradients differ from those of its own layout
    (its content painted in one flat grey) by more than :data:`CONTENT_DELTA`: a blank image,
    or a grid of untrained-generator noise, which every student's first samples look like.
    """
    gray = np.asarray(image.convert("L"), dtype=np.float32)
    if gray.size == 0:
        return None
    background = np.median(np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]]))
    content = np.abs(gray - background) > 12
    rows, cols = np.flatnonzero(content.any(axis=1)), np.flatnonzero(content.any(axis=0))
    if rows.size < 2 or cols.size < 2:
        return None
    box = (slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1))
    gray, content = gray[box], content[box]
    layout = np.where(content, gray[content].mean(), background)
    grad, layout_grad = _gradients(gray), _gradients(layout)
    if np.count_nonzero(np.abs(grad - layout_grad) > CONTENT_DELTA) < MIN_CONTENT_BITS:
        return None
    return np.packbits((grad > 0).ravel()).tobytes().hex()


def _gradients(gray: np.ndarray) -> np.ndarray:
    """Horizontal differences of a (HASH_SIDE + 1) x HASH_SIDE thumbnail (the dHash inputs)."""
    from PIL import Image

    small = np.asarray(Image.fromarray(gray.clip(0, 255).astype(np.uint8)).resize(
        (HASH_SIDE + 1, HASH_SIDE), Image.Resampling.LANCZOS), dtype=np.float32)
    return small[:, 1:] - small[:, :-1]


def _checkpoint_prints(sub: Any, work_dir: Path, sp: SubmissionPrint) -> None:
    root = Path(sub.root)
    for art in sub.artifacts:
        if art.kind != "checkpoint":
            continue
        target = root / art.origin
        if target.is_file():  # .h5 / .keras
            files = [target]
        elif target.is_dir():  # SavedModel: its variables
            files = sorted((target / "variables").glob("*.data-*"))
        else:  # tf.train.Checkpoint prefix
            files = sorted(target.parent.glob(target.name + ".data-*"))
        files = [f for f in files if f.is_file() and not f.is_symlink()]
        size = sum(f.stat().st_size for f in files)
        if size < MIN_CHECKPOINT_BYTES:
            continue
        digest = hashlib.sha256()
        for f in files:
            with f.open("rb") as fh:
                for block in iter(lambda fh=fh: fh.read(1 << 20), b""):
                    digest.update(block)
        sp.checkpoints.append(CheckpointPrint(art.origin, digest.hexdigest(), size))


# ---------------------------------------------------------------- comparison


def find_similar(prints: dict[str, SubmissionPrint], code_threshold: float | None = None
                 ) -> list[SimilarityFlag]:
    """Flag every pair of students with similar added code, sample images or checkpoints.

    Args:
        prints: Student name -> print (from :func:`fingerprint_submission`).
        code_threshold: Code score at or above which a pair is flagged (default
            :data:`CODE_THRESHOLD`, the calibrated value).

    Returns:
        Flags sorted by score, highest first (ties: kind, then names).
    """
    threshold = CODE_THRESHOLD if code_threshold is None else code_threshold
    flags = _code_flags(prints, threshold) + _image_flags(prints) + _checkpoint_flags(prints)
    return sorted(flags, key=lambda f: (-f.score, f.kind, f.a, f.b))


def common_cut(n: int) -> int:
    """A shingle held by more than this many of ``n`` students is ignored as an idiom."""
    return max(COMMON_MIN, math.ceil(COMMON_FRACTION * n))


def code_scores(prints: dict[str, SubmissionPrint], ignore_common: bool = True
                ) -> tuple[dict[tuple[str, str], tuple[float, int]], dict[str, set[int]]]:
    """Containment score and shared count of every pair whose both sides added enough code.

    Args:
        prints: Student name -> print.
        ignore_common: Drop shingles that more than :func:`common_cut` students hold.

    Returns:
        ``{(a, b): (score, shared)}`` for ``a < b``, and each student's compared shingle set.
    """
    from scipy import sparse

    names = sorted(prints)
    sets = {n: np.fromiter(prints[n].added(), dtype=np.uint64) for n in names}
    if not names:
        return {}, {}
    allh = np.concatenate([sets[n] for n in names])
    uniq, inverse = np.unique(allh, return_inverse=True)
    rows = np.repeat(np.arange(len(names)), [len(sets[n]) for n in names])
    matrix = sparse.csr_matrix((np.ones(len(allh), np.int32), (rows, inverse)),
                               shape=(len(names), len(uniq)))
    if ignore_common:
        df = np.asarray(matrix.sum(axis=0)).ravel()
        keep = df <= common_cut(len(names))
        matrix = matrix[:, np.flatnonzero(keep)]
        uniq = uniq[keep]
    sizes = np.asarray(matrix.sum(axis=1)).ravel()
    inter = (matrix @ matrix.T).tocoo()
    scores: dict[tuple[str, str], tuple[float, int]] = {}
    for i, j, shared in zip(inter.row, inter.col, inter.data):
        if i >= j or min(sizes[i], sizes[j]) < MIN_ADDED_SHINGLES:
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


def _regions(sp: SubmissionPrint, common: set[int]) -> list[tuple[int, int, int, set[int]]]:
    """Runs of shared shingles as ``(segment, first line, last line, hashes)``.

    A run never spans two top-level statements, so a function is shown next to its copy
    wherever the copier moved it.
    """
    out: list[tuple[int, int, int, set[int]]] = []
    for si, seg in enumerate(sp.segments):
        cur: list[Any] | None = None
        for h, (first, last, unit) in zip(seg.hashes, seg.spans):
            if h not in common:
                continue
            if cur is not None and unit == cur[4] and first <= cur[2] + 2:  # a line or two apart
                cur[2] = max(cur[2], last)
                cur[3].add(h)
            else:
                if cur is not None:
                    out.append((cur[0], cur[1], cur[2], cur[3]))
                cur = [si, first, last, {h}, unit]
        if cur is not None:
            out.append((cur[0], cur[1], cur[2], cur[3]))
    return out


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


def _image_flags(prints: dict[str, SubmissionPrint]) -> list[SimilarityFlag]:
    names = sorted(n for n in prints if prints[n].images)
    if len(names) < 2:
        return []
    owner = np.concatenate([np.full(len(prints[n].images), i) for i, n in enumerate(names)])
    labels = [(n, im.origin) for n in names for im in prints[n].images]
    words = np.array([np.frombuffer(bytes.fromhex(im.hash), dtype=">u8")
                      for n in names for im in prints[n].images], dtype=np.uint64)
    limit = int((1 - IMAGE_THRESHOLD) * HASH_BITS)
    best: dict[tuple[int, int], tuple[int, int, int]] = {}
    hits: dict[tuple[int, int], set[int]] = {}
    for start in range(0, len(words), 256):
        block = words[start:start + 256]
        dist = np.zeros((len(block), len(words)), dtype=np.uint16)
        for w in range(words.shape[1]):  # one 64-bit word at a time keeps memory small
            dist += _popcount(block[:, None, w] ^ words[None, :, w]).astype(np.uint16)
        bi, bj = np.nonzero((dist <= limit) & (owner[start:start + 256, None] < owner[None, :]))
        for i, j in zip(bi + start, bj):
            key = (int(owner[i]), int(owner[j]))
            d = int(dist[i - start, j])
            if key not in best or d < best[key][0]:
                best[key] = (d, int(i), int(j))
            hits.setdefault(key, set()).add(int(i))
    flags = []
    for (oa, ob), (d, i, j) in best.items():
        a, b = names[oa], names[ob]
        score = 1 - d / HASH_BITS
        detail = (f"{len(hits[(oa, ob)])} of {a}'s sample images have a near-identical image in "
                  f"{b}'s submission (closest: {labels[i][1]} and {labels[j][1]}, {d} of "
                  f"{HASH_BITS} hash bits differ).")
        flags.append(SimilarityFlag(a, b, "samples", round(score, 4), IMAGE_THRESHOLD, detail))
    return flags


def _popcount(x: np.ndarray) -> np.ndarray:
    if hasattr(np, "bitwise_count"):
        return np.bitwise_count(x)
    return np.unpackbits(x.view(np.uint8), axis=-1).reshape(*x.shape, 64).sum(axis=-1)


def _checkpoint_flags(prints: dict[str, SubmissionPrint]) -> list[SimilarityFlag]:
    holders: dict[str, list[tuple[str, str]]] = {}
    for name in sorted(prints):
        for ck in prints[name].checkpoints:
            holders.setdefault(ck.sha256, []).append((name, ck.origin))
    flags: dict[tuple[str, str], SimilarityFlag] = {}
    for digest, owners in holders.items():
        for x in range(len(owners)):
            for y in range(x + 1, len(owners)):
                (a, oa), (b, ob) = owners[x], owners[y]
                if a == b or (a, b) in flags:
                    continue
                detail = (f"{a}'s checkpoint {oa} and {b}'s checkpoint {ob} hold byte-identical "
                          f"weight data (sha256 {digest[:12]}).")
                flags[(a, b)] = SimilarityFlag(a, b, "checkpoint", 1.0, 1.0, detail)
    return list(flags.values())
