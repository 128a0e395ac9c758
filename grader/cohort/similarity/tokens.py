"""Code normalisation for similarity: tokens, shingles, logical lines and the lesson fingerprint.

Source is tokenised (``tokenize``, a regex tokenizer when that fails) and normalised: comments,
docstrings and layout are dropped; numbers become ``N`` and strings ``S`` (hyper-parameters and
paths are the first thing a copier changes, and the lesson's 28x28x1 -> 32x32x3 edits vanish
with them); names the student chose become ``V``. Kept verbatim: keywords, builtins, imported
names (``tf``, ``layers``), attribute names (``.Conv2DTranspose``, ``.add``; but ``self.x`` ->
``V``) and keyword-argument names (``use_bias=``): they are the Keras API a copier cannot rename
without changing the program, and they carry its structure. Each top-level statement (a whole
function, loop or assignment) gives overlapping :data:`K`-token shingles hashed to 64 bits, so
code inserted between statements or functions put in another order leave every shingle intact.
The lesson's shingles and logical lines come from the assignment's ``lesson_fingerprint.json``,
made by ``reference/make_lesson_fingerprint.py`` with :func:`lesson_hashes_of`.
"""

from __future__ import annotations

import ast
import base64
import builtins
import functools
import hashlib
import io
import json
import keyword
import re
import textwrap
import tokenize
from pathlib import Path

import numpy as np

from grader.assignment import get_assignment

#: shingle length in normalised tokens (a typical Keras ``model.add(...)`` line is 15-35 tokens)
K = 12
#: bump when the normalisation changes; the lesson fingerprint records it
NORMALISER_VERSION = 1



def lesson_fingerprint_path() -> Path | None:
    """The current assignment's lesson fingerprint file (None when it has none)."""
    return get_assignment().fingerprint

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


def plain_tokens(text: str) -> list[str]:
    """Tokens of Python source with only comments, docstrings and layout dropped.

    Names and values are kept (a string by its value, so the quote style does not count):
    two cells give the same tokens exactly when they are the same code. Never raises.
    """
    text = textwrap.dedent(text)
    try:
        raw = [(t.type, t.string, t.start[0], t.end[0], t.start[1])
               for t in tokenize.generate_tokens(io.StringIO(text).readline)]
    except (tokenize.TokenError, SyntaxError, ValueError):
        raw = _regex_tokens(text)
    sig = _significant(raw)
    out: list[str] = []
    for i, (typ, s, *_rest) in enumerate(sig):
        if typ == tokenize.STRING:
            if sig[i][5] and _bare_string(sig, i):
                continue
            try:
                s = repr(ast.literal_eval(s))
            except (ValueError, SyntaxError, MemoryError, RecursionError):
                pass
        if s.strip():
            out.append(s)
    return out


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


def normalise_sources(sources: list[tuple[str, str, bool]]) -> list[list[Token]]:
    """Normalised tokens of each ``(where, python text, is a cell)`` segment, in order.

    Names imported in any segment are kept verbatim in all of them (a notebook imports once).
    """
    library = imported_names([text for _, text, _ in sources])
    return [normalise(text, library) for _, text, _ in sources]


def lesson_hashes_of(sources: list[tuple[str, str, bool]], k: int = K) -> set[int]:
    """All shingle and statement hashes of lesson code segments (for the lesson fingerprint)."""
    out: set[int] = set()
    for tokens in normalise_sources(sources):
        out.update(h for h, *_ in shingles(tokens, k))
        out.update(h for h, _, _ in statements(tokens))
    return out


@functools.lru_cache(maxsize=4)
def lesson_shingles(path: Path | None = None) -> frozenset[int]:
    """The lesson's shingle and logical-line hashes from the packaged fingerprint.

    Raises:
        RuntimeError: The fingerprint is missing, unreadable or made with other settings
            (without it every lesson-following pair would look alike, so nothing is compared).
    """
    path = path or lesson_fingerprint_path()
    if path is None:  # an assignment without a lesson fingerprint: nothing is discounted
        return frozenset()
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

