"""Calibrate the similarity thresholds and write ``reference/similarity_calibration.md``.

Code. The corpus of independent solutions that all follow the lesson is the hand-written
fixtures (``tests/cohort/fixtures/similarity/independent/``: eleven students, notebooks and
scripts, lesson loops kept verbatim or rewritten, Korean names and comments), the sample
submissions and ``reference/solution.py``. Copies are made from every corpus member by
transformations a copier uses: renamed identifiers, new comments and layout, reordered
functions, inserted padding code, changed hyper-parameters, only half of the code, and all of
these at once. Every independent pair and every (original, copy) pair is scored as
``grader.cohort.similarity`` scores a pair (without the cohort-wide idiom filter, which needs a
real cohort and only lowers scores). The threshold is the midpoint between the highest
independent score and the lowest copied score, rounded to 0.01.

Images. Sample grids made of real CIFAR-10 images (the bundled subset) and of smooth random
blobs (what an early generator draws) are compared with each other (different) and with
re-saved, JPEG-compressed, resized and re-margined copies of themselves (copied).

Notebook. The same corpus and copies, scored as the notebook score scores a pair: added code
and the markdown that is not the course notes' (the copies are scripts: the copy's own text is
none, so the score is the share of the copy's code found in the original). The threshold is
chosen as for code.

A realistic cohort (``--corpus``): the TA-evidence corpus plus planted copies, fingerprinted and
compared as ``grade cohort`` does, without grading (``reference/similarity_corpus.py``); with
``--before REV`` the same cohorts are compared by the similarity code of an older commit too.

Usage::

    python -m reference.calibrate_similarity            # writes reference/similarity_calibration.md
    python -m reference.calibrate_similarity --check    # exit 1 when the module's constants differ
    python -m reference.calibrate_similarity --corpus runs/corpus [--before REV]
    python -m reference.calibrate_similarity --lesson-text   # rebuild the course notes' text hashes
"""

from __future__ import annotations

import argparse
import ast
import io
import json
import os
import random
import re
import subprocess
import sys
import tarfile
import tempfile
import tokenize
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from grader.assignment import get_assignment
from grader.cohort import similarity as sim

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "tests" / "cohort" / "fixtures" / "similarity" / "independent"
OUT_MD = REPO / "reference" / "similarity_calibration.md"
SAMPLES = ("alice", "bob", "carol", "dave")
#: pairs that share code by construction: shown, but not counted as independent
DERIVED = {
    ("alice", "solution"): "alice's Step 7 cells are reference/solution.ipynb (build_samples.py)",
    ("bob", "solution"): "bob's loss cell is reference/solution.ipynb's (build_samples.py)",
    ("alice", "bob"): "both hold reference/solution.ipynb's loss cell (build_samples.py)",
    ("dave", "solution"): "dave's models and accuracy are the reference solution's, scaled down "
                          "(both written for this project)",
    ("alice", "dave"): "through reference/solution (see above)",
    ("bob", "dave"): "through reference/solution (see above)",
}
TRANSFORMS = ("rename", "comments", "reorder", "padding", "hyperparams", "half", "all")
K_SWEEP = (8, 10, 12, 15)
_WORDS = ("net", "model", "data", "img", "val", "tmp", "out", "res", "buf", "obj", "arr", "vec",
          "모델", "결과", "값", "이미지")


@dataclass
class CodeCalibration:
    """Scores of independent and copied pairs, and the threshold chosen from them."""

    k: int
    independent: list[tuple[str, str, float]] = field(default_factory=list)
    copied: list[tuple[str, str, float]] = field(default_factory=list)
    """(original, transform, score)."""
    mixed: list[tuple[str, str, float]] = field(default_factory=list)
    """(source, other, score): half of source's code put into another solution (not used)."""
    not_comparable: list[tuple[str, str]] = field(default_factory=list)
    """Copies left with too little added code to be compared (e.g. half of a lesson-like file)."""
    derived: list[tuple[str, str, float, str]] = field(default_factory=list)
    too_small: list[str] = field(default_factory=list)
    """Corpus members that added fewer than MIN_ADDED_SHINGLES (never code-flagged)."""
    added: dict[str, int] = field(default_factory=dict)

    @property
    def max_independent(self) -> float:
        return max((s for *_, s in self.independent), default=0.0)

    @property
    def min_copied(self) -> float:
        return min((s for *_, s in self.copied), default=1.0)

    @property
    def threshold(self) -> float:
        return round((self.max_independent + self.min_copied) / 2, 2)


# ---------------------------------------------------------------- corpus


def corpus_paths(fixtures: Path = FIXTURES, repo: Path = REPO) -> dict[str, Path]:
    """Name -> path of every independent solution."""
    paths = {p.name.split(".")[0]: p for p in sorted(fixtures.iterdir())
             if p.suffix in (".py", ".ipynb")}
    for name in SAMPLES:
        if (repo / "submissions" / name).is_dir():
            paths[name] = repo / "submissions" / name
    paths["solution"] = repo / "reference" / "solution.py"
    return paths


def corpus_sources(paths: dict[str, Path]) -> dict[str, list[tuple[str, str, bool]]]:
    """Name -> code segments, read with intake as ``fingerprint_submission`` reads them."""
    from grader.intake import load_submission

    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, path in paths.items():
            out[name] = sim.code_sources(load_submission(path, Path(tmp) / name))
    return out


def as_script(segments: list[tuple[str, str, bool]]) -> str:
    """All segments as one ``.py`` text (a copier who turns a notebook into a script)."""
    return "\n\n".join(text.rstrip() for _, text, _ in segments) + "\n"


# ---------------------------------------------------------------- copy transformations


def _tokens(text: str) -> list[tokenize.TokenInfo]:
    try:
        return list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError):
        return []


def _replace(text: str, edits: list[tuple[tuple[int, int], tuple[int, int], str]]) -> str:
    """Apply (start, end, new) token edits (1-based rows, 0-based columns)."""
    lines = text.split("\n")
    for (r0, c0), (r1, c1), new in sorted(edits, reverse=True):
        if r0 != r1:
            head, tail = lines[r0 - 1][:c0], lines[r1 - 1][c1:]
            lines[r0 - 1:r1] = [head + new + tail]
        else:
            line = lines[r0 - 1]
            lines[r0 - 1] = line[:c0] + new + line[c1:]
    return "\n".join(lines)


def user_names(text: str) -> set[str]:
    """Names the code defines: functions, classes, parameters, assigned variables."""
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return set(re.findall(r"^\s*(?:def|class)\s+(\w+)", text, re.MULTILINE)) | set(
            re.findall(r"^\s*(\w+)\s*=[^=]", text, re.MULTILINE))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
    return names - {"self", "cls", "_"}


def new_names(names: set[str], rng: random.Random) -> dict[str, str]:
    """A new name for each of ``names`` (deterministic for one ``rng``)."""
    return {n: f"{rng.choice(_WORDS)}_{i}" for i, n in enumerate(sorted(names))}


def rename(text: str, rng: random.Random, new: dict[str, str] | None = None) -> str:
    """Give every user-defined name a new one (a search-and-replace copier).

    Args:
        text: Python source.
        rng: Chooses the new names.
        new: Old name -> new name (default: every name ``text`` defines).
    """
    new = new_names(user_names(text), rng) if new is None else new
    toks = _tokens(text)
    edits = []
    for i, t in enumerate(toks):
        if t.type != tokenize.NAME or t.string not in new:
            continue
        if i and toks[i - 1].string == ".":
            continue
        nxt = toks[i + 1].string if i + 1 < len(toks) else ""
        if nxt == "=" and i and toks[i - 1].string in ("(", ","):
            continue  # keyword argument: left alone
        edits.append((t.start, t.end, new[t.string]))
    return _replace(text, edits)


def recomment(text: str, rng: random.Random) -> str:
    """Drop comments, write new ones, change blank lines and quotes."""
    toks = _tokens(text)
    edits = [(t.start, t.end, "") for t in toks if t.type == tokenize.COMMENT]
    edits += [(t.start, t.end, '"' + t.string[1:-1] + '"') for t in toks
              if t.type == tokenize.STRING and re.fullmatch(r"'[^'\"\\\n]*'", t.string)]
    out = []
    for line in _replace(text, edits).split("\n"):
        if not line.strip():
            continue  # blank lines removed
        if re.match(r"\s*(def|class) ", line):
            indent = line[:len(line) - len(line.lstrip())]
            out.append(f"{indent}# {rng.choice(['내가 만든 함수', 'helper', '여기 중요', 'TODO 정리'])}")
        out.append(line.rstrip() + ("  # ok" if rng.random() < 0.1 and not line.rstrip().endswith(("\\", ",", "(")) else ""))
    return "\n".join(out) + "\n"


def _top_blocks(text: str) -> list[tuple[int, int, bool]]:
    """(first line, last line, is a def/class) of each top-level statement."""
    tree = ast.parse(text)
    out = []
    for node in tree.body:
        first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
        out.append((first, node.end_lineno or node.lineno,
                    isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))))
    return out


def reorder(text: str, rng: random.Random) -> str:
    """Shuffle the order of the top-level functions and classes."""
    try:
        blocks = _top_blocks(text)
    except SyntaxError:
        return text
    lines = text.split("\n")
    defs = [b for b in blocks if b[2]]
    shuffled = defs[:]
    rng.shuffle(shuffled)
    if len(defs) > 1 and shuffled == defs:
        shuffled = defs[1:] + defs[:1]
    swap = dict(zip(defs, shuffled))
    out = []
    for b in blocks:
        src = swap.get(b, b)
        out += lines[src[0] - 1:src[1]] + [""]
    return "\n".join(out) + "\n"


_PADDING = (
    "def _helper_{i}(value):\n    result = value * 2\n    for step in range(3):\n"
    "        result = result + step\n    return result\n\n\nprint('check', _helper_{i}({i}))\n",
    "import random\nrandom.seed({i})\nnumbers_{i} = [random.random() for _ in range(10)]\n"
    "print(sum(numbers_{i}) / len(numbers_{i}))\n",
    "tmp_{i} = {{'step': {i}, 'note': 'padding'}}\nif tmp_{i}['step'] > 100:\n"
    "    print(tmp_{i})\nelse:\n    tmp_{i}['step'] += 1\n",
)


def pad(text: str, rng: random.Random) -> str:
    """Insert unrelated code between the top-level statements (every second one)."""
    try:
        blocks = _top_blocks(text)
    except SyntaxError:
        return text + "\n" + _PADDING[0].format(i=0)
    lines = text.split("\n")
    out = []
    for n, (first, last, _) in enumerate(blocks):
        out += lines[first - 1:last] + [""]
        if n % 2 == 1:
            out += [_PADDING[rng.randrange(len(_PADDING))].format(i=n)]
    return "\n".join(out) + "\n"


def hyperparams(text: str, rng: random.Random) -> str:
    """Change every numeric literal (layer sizes, rates, epochs)."""
    edits = []
    for t in _tokens(text):
        if t.type == tokenize.NUMBER and re.fullmatch(r"\d+", t.string):
            edits.append((t.start, t.end, str(int(t.string) * 2 if rng.random() < 0.5 else int(t.string) + 1)))
        elif t.type == tokenize.NUMBER and re.fullmatch(r"\d*\.\d+|\d+e-?\d+", t.string):
            edits.append((t.start, t.end, repr(round(float(t.string) * rng.choice([0.5, 2.0, 1.5]), 8))))
    return _replace(text, edits)


def half(text: str, rng: random.Random) -> str:
    """Only the first half of the top-level statements (a partial copy)."""
    try:
        blocks = _top_blocks(text)
    except SyntaxError:
        lines = text.split("\n")
        return "\n".join(lines[:len(lines) // 2]) + "\n"
    lines = text.split("\n")
    keep = blocks[:max(1, len(blocks) // 2)]
    return "\n".join(lines[:keep[-1][1]]) + "\n"


def transform(text: str, how: str, seed: int) -> str:
    """One copy of ``text`` made by transformation ``how`` (see :data:`TRANSFORMS`)."""
    rng = random.Random(seed)
    steps = {"rename": [rename], "comments": [recomment], "reorder": [reorder], "padding": [pad],
             "hyperparams": [hyperparams], "half": [half],
             "all": [reorder, rename, hyperparams, pad, recomment]}[how]
    for step in steps:
        text = step(text, rng)
    return text


# ---------------------------------------------------------------- scoring


def pair_score(a: sim.SubmissionPrint, b: sim.SubmissionPrint) -> float | None:
    """The module's code score of one pair, or None when a side added too little code."""
    scores, _ = sim.code_scores({"a": a, "b": b}, ignore_common=False)
    hit = scores.get(("a", "b"))
    return None if hit is None else hit[0]


def calibrate_code(sources: dict[str, list[tuple[str, str, bool]]], lesson: frozenset[int] | None = None,
                   k: int = sim.K) -> CodeCalibration:
    """Score every independent pair and every (original, copy) pair."""
    cal = CodeCalibration(k=k)
    prints = {n: sim.fingerprint_sources(n, segs, lesson, k) for n, segs in sources.items()}
    for n, p in prints.items():
        cal.added[n] = len(p.added())
        if cal.added[n] < sim.MIN_ADDED_SHINGLES:
            cal.too_small.append(n)
    scores, _ = sim.code_scores(prints, ignore_common=False)
    names = sorted(prints)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            if a in cal.too_small or b in cal.too_small:
                continue
            score = scores.get((a, b), (0.0, 0))[0]  # no shingle in common: not listed
            if (a, b) in DERIVED:
                cal.derived.append((a, b, score, DERIVED[(a, b)]))
            else:
                cal.independent.append((a, b, score))
    usable = [n for n in names if n not in cal.too_small]
    for seed, name in enumerate(names):
        if name in cal.too_small:
            continue
        script = as_script(sources[name])
        for how in TRANSFORMS:
            copy = sim.fingerprint_sources(f"{name}-{how}", [("copy.py", transform(script, how, seed), False)],
                                           lesson, k)
            score = pair_score(prints[name], copy)
            if score is None:
                cal.not_comparable.append((name, how))
            else:
                cal.copied.append((name, how, score))
        other = usable[(usable.index(name) + 1) % len(usable)]
        mix = half(script, random.Random(seed)) + "\n\n" + as_script(sources[other])
        score = pair_score(prints[name], sim.fingerprint_sources("mix", [("mix.py", mix, False)], lesson, k))
        cal.mixed.append((name, other, 0.0 if score is None else score))
    return cal


@dataclass
class NotebookCalibration:
    """Notebook scores of independent and copied pairs, and the threshold chosen from them."""

    independent: list[tuple[str, str, float]] = field(default_factory=list)
    copied: list[tuple[str, str, float]] = field(default_factory=list)
    too_small: list[str] = field(default_factory=list)
    features: dict[str, int] = field(default_factory=dict)

    @property
    def max_independent(self) -> float:
        return max((s for *_, s in self.independent), default=0.0)

    @property
    def min_copied(self) -> float:
        return min((s for *_, s in self.copied), default=1.0)

    @property
    def threshold(self) -> float:
        return round((self.max_independent + self.min_copied) / 2, 2)


def corpus_texts(paths: dict[str, Path]) -> dict[str, list[int]]:
    """Name -> the markdown shingles of its notebooks (the course notes' removed)."""
    from grader.cohort.similarity.text import notebook_text

    out: dict[str, list[int]] = {}
    for name, path in paths.items():
        files = [path] if path.is_file() else sorted(path.rglob("*.ipynb"))
        cells = [c for f in files if f.suffix == ".ipynb"
                 for c in notebook_text(f.read_bytes(), f.name)]
        out[name] = sim.text_print(cells)
    return out


def _notebook_score(a: sim.SubmissionPrint, b: sim.SubmissionPrint) -> float | None:
    scores, _ = sim.notebook_scores({"a": a, "b": b}, ignore_common=False)
    hit = scores.get(("a", "b"))
    return None if hit is None else hit[0]


def calibrate_notebook(sources: dict[str, list[tuple[str, str, bool]]],
                       texts: dict[str, list[int]]) -> NotebookCalibration:
    """Notebook-score every independent pair and every (original, copy) pair."""
    cal = NotebookCalibration()
    prints = {n: sim.fingerprint_sources(n, segs) for n, segs in sources.items()}
    for n, p in prints.items():
        p.text = texts.get(n, [])
        cal.features[n] = len(p.notebook())
        if cal.features[n] < sim.MIN_NOTEBOOK_FEATURES:
            cal.too_small.append(n)
    scores, _ = sim.notebook_scores(prints, ignore_common=False)
    names = sorted(prints)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            if a in cal.too_small or b in cal.too_small or (a, b) in DERIVED:
                continue
            cal.independent.append((a, b, scores.get((a, b), (0.0, 0))[0]))
    for seed, name in enumerate(names):
        if name in cal.too_small:
            continue
        script = as_script(sources[name])
        for how in TRANSFORMS:
            copy = sim.fingerprint_sources(f"{name}-{how}", [("copy.py", transform(script, how, seed), False)])
            score = _notebook_score(prints[name], copy)
            if score is not None:
                cal.copied.append((name, how, score))
    return cal


# ---------------------------------------------------------------- images


def _tile_grid(tiles: np.ndarray, scale: int = 3, gap: int = 6, margin: int = 20) -> np.ndarray:
    """A 4x4 grid on white, like the lesson's ``plt.subplot(4, 4, i+1)`` figure."""
    n, h, w, _ = tiles.shape
    side = 4
    th, tw = h * scale, w * scale
    canvas = np.full((2 * margin + side * th + (side - 1) * gap,
                      2 * margin + side * tw + (side - 1) * gap, 3), 255, np.uint8)
    for i in range(min(n, 16)):
        r, c = divmod(i, side)
        y, x = margin + r * (th + gap), margin + c * (tw + gap)
        canvas[y:y + th, x:x + tw] = np.kron(tiles[i], np.ones((scale, scale, 1), np.uint8))
    return canvas


def image_sets(n_real: int = 16, n_blob: int = 16, n_noise: int = 8, seed: int = 0) -> list[np.ndarray]:
    """Different sample grids: real CIFAR-10 tiles, smooth random blobs (a generator after a few
    steps) and per-pixel grey noise (an untrained generator, which should not be hashed)."""
    from PIL import Image

    raw = np.load(get_assignment().data.subset, allow_pickle=False)
    jpeg, offsets = raw["train_jpeg"], raw["train_offsets"]
    rng = np.random.default_rng(seed)
    grids = []
    for _ in range(n_real):
        idx = rng.choice(len(offsets) - 1, 16, replace=False)
        tiles = np.stack([np.asarray(Image.open(io.BytesIO(jpeg[offsets[i]:offsets[i + 1]].tobytes()))
                                     .convert("RGB")) for i in idx])
        grids.append(_tile_grid(tiles))
    for _ in range(n_blob):
        low = rng.normal(128, 40, (16, 4, 4, 3)).clip(0, 255).astype(np.uint8)
        tiles = np.stack([np.asarray(Image.fromarray(t).resize((32, 32), Image.Resampling.BICUBIC))
                          for t in low])
        grids.append(_tile_grid(tiles))
    for _ in range(n_noise):
        grids.append(_tile_grid(rng.normal(128, 38, (16, 32, 32, 3)).clip(0, 255).astype(np.uint8)))
    return grids


def image_copies(grid: np.ndarray) -> dict[str, object]:
    """Re-encoded copies of one grid, as PIL images."""
    from PIL import Image, ImageOps

    im = Image.fromarray(grid)

    def jpeg(q: int) -> Image.Image:
        buf = io.BytesIO()
        im.save(buf, "JPEG", quality=q)
        return Image.open(io.BytesIO(buf.getvalue()))

    return {
        "identical": im.copy(),
        "jpeg q=75": jpeg(75),
        "jpeg q=30": jpeg(30),
        "resized 0.5x": im.resize((im.width // 2, im.height // 2), Image.Resampling.BILINEAR),
        "resized 1.6x": im.resize((int(im.width * 1.6), int(im.height * 1.6)), Image.Resampling.BICUBIC),
        "new margin": ImageOps.expand(im.crop((10, 10, im.width - 10, im.height - 10)), 40, "white"),
    }


@dataclass
class ImageCalibration:
    """Image-hash similarities of different and of copied sample grids."""

    different: list[float] = field(default_factory=list)
    copied: dict[str, list[float]] = field(default_factory=dict)
    not_hashed: int = 0
    """Grids left out as showing nothing but the layout (untrained-generator noise)."""

    @property
    def max_different(self) -> float:
        return max(self.different, default=0.0)

    @property
    def min_copied(self) -> float:
        return min((s for v in self.copied.values() for s in v), default=1.0)

    @property
    def threshold(self) -> float:
        return round((self.max_different + self.min_copied) / 2, 2)


def _similarity(h1: str, h2: str) -> float:
    a, b = int(h1, 16), int(h2, 16)
    return 1 - bin(a ^ b).count("1") / sim.HASH_BITS


def calibrate_images() -> ImageCalibration:
    """Hash-similarity of all different grid pairs and of each grid with its copies."""
    from PIL import Image

    cal = ImageCalibration()
    grids = image_sets()
    hashes = [sim.image_hash(Image.fromarray(g)) for g in grids]
    cal.not_hashed = sum(h is None for h in hashes)
    for i in range(len(hashes)):
        for j in range(i + 1, len(hashes)):
            if hashes[i] and hashes[j]:
                cal.different.append(_similarity(hashes[i], hashes[j]))
    for grid, h in zip(grids, hashes):
        if h is None:
            continue
        for how, im in image_copies(grid).items():
            hc = sim.image_hash(im)
            cal.copied.setdefault(how, []).append(_similarity(h, hc) if h and hc else 0.0)
    return cal


# ---------------------------------------------------------------- report


def _stats(values: list[float]) -> str:
    if not values:
        return "-"
    q = np.quantile(values, [0.5, 0.9])
    return f"{min(values):.3f} / {q[0]:.3f} / {q[1]:.3f} / {max(values):.3f}"


def render(cal: CodeCalibration, sweep: list[CodeCalibration], img: ImageCalibration,
           nb: NotebookCalibration | None = None, corpus: str = "") -> str:
    """The Markdown report (``corpus``: the realistic-cohort section, kept as it is)."""
    ind = sorted(cal.independent, key=lambda x: -x[2])
    lines = [
        "# Similarity calibration",
        "",
        "Written by `python -m reference.calibrate_similarity`; the module constants in",
        "`grader/cohort/similarity/` must equal the thresholds chosen here",
        "(`tests/cohort/test_similarity.py` checks it).",
        "",
        "## Code",
        "",
        f"Score: containment of the smaller set of *added* {cal.k}-token shingles in the larger "
        "(a shingle is added when it holds a token that no lesson shingle or lesson line covers).",
        f"Corpus: {len(cal.added)} solutions that follow the lesson (fixtures, sample submissions, "
        f"`reference/solution.py`); {len(cal.added) - len(cal.too_small)} added at least "
        f"{sim.MIN_ADDED_SHINGLES} shingles and can be compared (a pair where a side added fewer is "
        "never flagged). Copies of each: `rename` (every user-defined name), `comments` (comments "
        "dropped and rewritten, blank lines removed, quotes changed), `reorder` (top-level "
        "functions shuffled), `padding` (unrelated code between statements), `hyperparams` (every "
        "number changed), `half` (first half of the top-level statements), `all` (all but half).",
        "",
        "| | pairs | min / median / 90% / max |",
        "| --- | ---: | --- |",
        f"| independent pairs | {len(cal.independent)} | {_stats([s for *_, s in cal.independent])} |",
    ]
    for how in TRANSFORMS:
        vals = [s for _, t, s in cal.copied if t == how]
        lines.append(f"| copied: {how} | {len(vals)} | {_stats(vals)} |")
    lines.append(f"| not used: half of one solution inside another | {len(cal.mixed)} | "
                 f"{_stats([s for *_, s in cal.mixed])} |")
    caught = sum(s >= cal.threshold for *_, s in cal.mixed)
    lines += ["", f"The last row is a partial copy: half of a solution pasted into another student's "
              f"own solution. {caught} of {len(cal.mixed)} reach the threshold; such copies are "
              "only partly caught (the score is the share of the smaller added code that is shared)."]
    lines += [
        "",
        f"**Threshold: {cal.threshold:.2f}** = midway between the highest independent score "
        f"({cal.max_independent:.3f}) and the lowest copied score ({cal.min_copied:.3f}); "
        f"margin {cal.min_copied - cal.max_independent:.3f}.",
        "",
        "Highest independent pairs:",
        "",
        "| a | b | score |",
        "| --- | --- | ---: |",
    ]
    lines += [f"| {a} | {b} | {s:.3f} |" for a, b, s in ind[:8]]
    lines += ["", "Lowest copied pairs:", "", "| original | transformation | score |",
              "| --- | --- | ---: |"]
    lines += [f"| {n} | {t} | {s:.3f} |" for n, t, s in sorted(cal.copied, key=lambda x: x[2])[:8]]
    if cal.derived:
        lines += ["", "Pairs that share code by construction (not counted as independent):", ""]
        lines += [f"- {a} ~ {b}: {s:.3f} ({why})" for a, b, s, why in cal.derived]
    lines += ["", "Added shingles per corpus member (after removing the lesson's):", "",
              ", ".join(f"{n} {c}" for n, c in sorted(cal.added.items())), ""]
    if cal.too_small:
        lines += [f"Too little added code to be compared: {', '.join(sorted(cal.too_small))}.", ""]
    if cal.not_comparable:
        lines += ["Copies with too little added code left to compare (not counted): "
                  + ", ".join(f"{n} ({t})" for n, t in cal.not_comparable) + ".", ""]
    if sweep:
        lines += ["Shingle length (the lesson fingerprint rebuilt for each k):", "",
                  "| k | max independent | min copied | margin |", "| ---: | ---: | ---: | ---: |"]
        lines += [f"| {c.k} | {c.max_independent:.3f} | {c.min_copied:.3f} | "
                  f"{c.min_copied - c.max_independent:.3f} |" for c in sweep]
        lines += ["", f"k = {sim.K} is used: the margin grows slowly past it, while a statement "
                  "shorter than k tokens gives no shingle at all (12 tokens is about one Keras "
                  "layer line).", ""]
    if nb is not None:
        lines += render_notebook(nb)
    lines += [
        "## Sample images",
        "",
        f"Score: 1 - (differing bits / {sim.HASH_BITS}) of a {sim.HASH_SIDE}x{sim.HASH_SIDE} "
        "difference hash (borders cropped). Grids: 4x4 tiles of real CIFAR-10 images (bundled "
        "subset) and of smooth random blobs (an early generator), laid out like the lesson's figure. "
        f"{img.not_hashed} grids of per-pixel grey noise (an untrained generator) are not hashed: "
        f"fewer than {sim.MIN_CONTENT_BITS} of their thumbnail gradients differ from their "
        "layout's (content painted flat grey).",
        "",
        "| | pairs | min / median / 90% / max |",
        "| --- | ---: | --- |",
        f"| different grids | {len(img.different)} | {_stats(img.different)} |",
    ]
    lines += [f"| copied: {how} | {len(v)} | {_stats(v)} |" for how, v in img.copied.items()]
    lines += ["", f"**Threshold: {img.threshold:.2f}** (highest different {img.max_different:.3f}, "
              f"lowest copy {img.min_copied:.3f}).", "",
              "Checkpoints are flagged only when the sha256 of their weight data is equal.", ""]
    if corpus:
        lines += [corpus.rstrip("\n"), ""]
    return "\n".join(lines)


def render_notebook(nb: NotebookCalibration) -> list[str]:
    """The notebook section of the report."""
    lines = [
        "## Notebook",
        "",
        "Score: containment of the smaller set of a student's own content in the other's: the "
        "added code shingles above and the markdown word shingles (5 words, per line) that the "
        f"course notes do not hold. In a cohort, features that more than "
        f"max({sim.NOTEBOOK_COMMON_MIN}, {sim.NOTEBOOK_COMMON_FRACTION:.0%} of the class) students "
        f"hold are dropped; a pair is scored when both hold at least {sim.MIN_NOTEBOOK_FEATURES} "
        "features (where the code score needs 100 added shingles). Same corpus and copies as for "
        f"code; {len(nb.features) - len(nb.too_small)} of {len(nb.features)} hold enough.",
        "",
        "| | pairs | min / median / 90% / max |",
        "| --- | ---: | --- |",
        f"| independent pairs | {len(nb.independent)} | {_stats([s for *_, s in nb.independent])} |",
    ]
    for how in TRANSFORMS:
        vals = [s for _, t, s in nb.copied if t == how]
        lines.append(f"| copied: {how} | {len(vals)} | {_stats(vals)} |")
    top = sorted(nb.independent, key=lambda x: -x[2])[:5]
    lines += [
        "",
        f"**Notebook threshold: {nb.threshold:.2f}** = midway between the highest independent "
        f"score ({nb.max_independent:.3f}) and the lowest copied score ({nb.min_copied:.3f}).",
        "",
        "Highest independent pairs: " + ", ".join(f"{a} ~ {b} {s:.3f}" for a, b, s in top) + ".",
        "",
        "Features per corpus member: " + ", ".join(f"{n} {c}" for n, c in sorted(nb.features.items()))
        + ".",
        "",
        "The hand-written corpus has almost no markdown of its own, so this calibrates the code "
        "side; the markdown side is measured on the realistic cohort below.",
        "",
    ]
    return lines


def sweep_k(sources: dict[str, list[tuple[str, str, bool]]]) -> list[CodeCalibration]:
    """The calibration for other shingle lengths (needs the course notes)."""
    from reference.make_lesson_fingerprint import DEFAULT_NOTES, lesson_hashes, note_files

    if not note_files(DEFAULT_NOTES):
        return []
    out = []
    for k in K_SWEEP:
        hashes, _ = lesson_hashes(DEFAULT_NOTES, k)
        out.append(calibrate_code(sources, frozenset(int(h) for h in hashes), k))
    return out


# ---------------------------------------------------------------- a realistic cohort

CORPUS_BEGIN = "<!-- corpus: written by --corpus, kept when the rest is rewritten -->"
CORPUS_END = "<!-- /corpus -->"


def old_checkout(rev: str, into: Path) -> Path:
    """The ``grader`` package of commit ``rev`` unpacked under ``into`` (``git archive``)."""
    data = subprocess.run(["git", "-C", str(REPO), "archive", rev, "grader"], check=True,
                          capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        tar.extractall(into, filter="data")
    return into


def measure_corpus(corpus: Path, before: str | None = None) -> dict[str, Any]:
    """Plant the copies, flag the cohorts with this code (and ``before``'s), sort the flags."""
    from reference import similarity_corpus as sc

    corpus = corpus.resolve()
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        planted = sc.plant_copies(corpus, work / "copies", sc.corpus_names(corpus))
        (work / "planted.json").write_text(json.dumps(planted), encoding="utf-8")
        raw = sc.cohort_flags(corpus, work / "copies", work / "now", planted)
        out["now"] = sc.analyse(raw, corpus, planted)
        out["census"], labels = sc.image_census(corpus, work / "census")
        if before:
            old = old_checkout(before, work / "old")
            env = {**os.environ, "PYTHONPATH": f"{old}{os.pathsep}{REPO}"}
            proc = subprocess.run([sys.executable, "-m", "reference.similarity_corpus", str(corpus),
                                   str(work / "copies"), str(work / "then"),
                                   str(work / "planted.json")], cwd=work, env=env, check=True,
                                  capture_output=True, text=True)
            then = sc.analyse(json.loads(proc.stdout.strip().splitlines()[-1]), corpus, planted)
            for f in then.corpus_flags:
                f["left_out"] = f["kind"] == "samples" and sc.rests_on_left_out(f, labels)
            out["before"], out["rev"] = then, before
    return out


def _kinds(flags: list[dict[str, Any]]) -> str:
    counts: dict[str, int] = {}
    for f in flags:
        counts[f["kind"]] = counts.get(f["kind"], 0) + 1
    return ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "none"


def _caught(res: Any, how: str) -> str:
    rows = [r for r in res.planted if r["how"] == how]
    return f"{sum(r['caught'] for r in rows)} of {len(rows)}"


def render_corpus(m: dict[str, Any], command: str) -> str:
    """The realistic-cohort section of the report."""
    now, then = m["now"], m.get("before")
    cols = ([f"before ({m['rev']})"] if then else []) + ["now"]
    runs = ([then] if then else []) + [now]

    def row(label: str, cells: list[str]) -> str:
        return f"| {label} | " + " | ".join(cells) + " |"

    lines = [
        CORPUS_BEGIN,
        "## A realistic cohort",
        "",
        f"Command: `{command}` (the corpus: `nice -n 10 .venv/bin/python -m "
        "reference.corpus.make_corpus --out runs/corpus --seed 0`; see "
        "`reference/similarity_corpus.py` for the copies).",
        "",
        f"Cohort: the {now.students - sum(1 for r in now.planted if r['cohort'] == 'joint')} "
        f"corpus notebooks and {sum(1 for r in now.planted if r['cohort'] == 'joint')} planted "
        f"copies, {now.students} students and {now.pairs} pairs; each other derived copy is "
        "flagged in a cohort of the corpus plus that copy. Fingerprinting takes "
        f"{now.fingerprint_s:.2f} s a notebook here.",
        "",
        "| | " + " | ".join(cols) + " |",
        "| --- | " + " | ".join("---" for _ in cols) + " |",
        row("flags between two corpus notebooks", [f"{len(r.corpus_flags)} ({_kinds(r.corpus_flags)})"
                                                   for r in runs]),
        row("... sample-image flags whose closest pair holds an image every student has "
            "(sanity plot, real preview, early frame)",
            [str(sum(f.get("left_out", False) for f in r.corpus_flags)) if r is then else "0"
             for r in runs]),
        row("... false flags (nothing behind them that the corpus shares by construction)",
            [f"{len(r.false_flags())} ({_kinds(r.false_flags())})" for r in runs]),
    ]
    for how in ("identical", "same code", "derived", "derived, markdown edited"):
        lines.append(row(f"planted copies caught: {how}", [_caught(r, how) for r in runs]))
    lines.append(row("flags between a planted copy and a corpus notebook not its original",
                     [f"{len(r.other_flags)} ({_kinds(r.other_flags)})" for r in runs]))
    joint = [r for r in now.planted if r["cohort"] == "joint"]
    old = {r["copy"]: r for r in then.planted} if then else {}
    lines += ["", "The copies in the joint cohort, with the kinds of flag between each and its "
              "original:", "", "| copy of | how | " + ("before | " if then else "") + "now |",
              "| --- | --- | " + ("--- | " if then else "") + "--- |"]
    for r in joint:
        before = [", ".join(old[r["copy"]]["kinds"]) or "not flagged"] if then else []
        lines.append(f"| {r['original']} | {r['how']} | " + " | ".join(
            before + [", ".join(r["kinds"]) or "not flagged"]) + " |")
    census = m["census"]
    lines += [
        "",
        "Images now (corpus notebooks): " + ", ".join(f"{k.replace('_', ' ')} {v}"
                                                      for k, v in sorted(census.items()))
        + " (left out by class, and the earliest third of numbered sample files and of a "
        "training cell's grids; a GIF's first third of frames is left out when it is read).",
        "",
        "The corpus is written by one generator from a few code snippets and phrases per step, "
        "and every snapshot's samples are drawn from one noise, so its notebooks share code "
        "cells, sentences and images verbatim where independent students would not. A flag "
        "between two corpus notebooks therefore counts as false only when the pair shares "
        "nothing of the kind it compares by construction: no generator snapshot (images), no "
        "identical code cell that adds to the lesson (code, identical), neither such a cell nor "
        "an identical markdown line that is not the course notes' (notebook). With that, code "
        "and notebook flags cannot be false here at all: nearly every corpus pair shares such "
        "cells and lines. Independence of code and notebook scores is measured on the "
        "hand-written corpus above.",
        "",
        "The same likeness limits what a copy of a corpus notebook can be caught on: once what "
        "more than a few notebooks share is dropped, many corpus notebooks hold little or "
        "nothing of their own (listed at the end), and a copy of such a notebook looks like its "
        "template siblings. The derived copies that are caught score at least "
        + (f"{min(r['score'] for r in now.planted if r['caught'] and r['how'] == 'derived'):.2f}"
           if any(r["caught"] and r["how"] == "derived" for r in now.planted) else "-")
        + "; a caught copy is also flagged with its original's siblings (the last row of the "
        "table).",
        "",
        "Flags between corpus notebooks now:",
        "",
        "| a | b | kind | score | shared by construction |",
        "| --- | --- | --- | ---: | --- |",
    ]
    lines += [f"| {f['a']} | {f['b']} | {f['kind']} | {f['score']:.3f} | {f['why']} |"
              for f in now.corpus_flags]
    missed = [r for r in now.planted if not r["caught"]]
    lines += ["", "Planted copies not caught now, with the features of the original and of the "
              "copy left once what more than "
              f"{sim.notebook_cut(now.students)} notebooks share is dropped, and the notebook "
              "score:", ""]
    for r in sorted(missed, key=lambda r: (r["how"], r["original"])):
        score, na, nb = r.get("notebook") or (None, "?", "?")
        lines.append(f"- {r['original']} ({r['how']}): {na} and {nb}; " + (
            f"{score:.2f}" if score is not None else
            f"not compared (fewer than {sim.MIN_NOTEBOOK_FEATURES})"))
    lines += [""]
    lines += [CORPUS_END]
    return "\n".join(lines) + "\n"


def kept_corpus_section(path: Path) -> str:
    """The realistic-cohort section of an existing report ('' when it has none)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return ""
    if CORPUS_BEGIN not in text or CORPUS_END not in text:
        return ""
    return text[text.index(CORPUS_BEGIN):text.index(CORPUS_END) + len(CORPUS_END)] + "\n"


def rebuild_lesson_text() -> int:
    """Write the assignment's ``lesson_text.json`` from the course notes; the shingle count."""
    from grader.cohort.similarity.text import write_lesson_text
    from reference.make_lesson_fingerprint import DEFAULT_NOTES, note_files

    files = note_files(DEFAULT_NOTES)
    if not files:
        raise SystemExit(f"no course notes in {DEFAULT_NOTES}")
    return write_lesson_text([f.read_text(encoding="utf-8") for f in files])


def main(argv: list[str] | None = None) -> int:
    """Calibrate, write the report, and compare with the module's constants."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=OUT_MD)
    parser.add_argument("--check", action="store_true", help="only compare with the module")
    parser.add_argument("--corpus", type=Path, help="also measure this built corpus plus copies")
    parser.add_argument("--before", metavar="REV", help="with --corpus: also an older commit's code")
    parser.add_argument("--lesson-text", action="store_true",
                        help="rebuild the course notes' text hashes and stop")
    args = parser.parse_args(argv)
    if args.lesson_text:
        print(f"lesson text: {rebuild_lesson_text()} shingles")
        return 0
    sources = corpus_sources(corpus_paths())
    cal, img = calibrate_code(sources), calibrate_images()
    nb = calibrate_notebook(sources, corpus_texts(corpus_paths()))
    if not args.check:
        corpus = kept_corpus_section(args.out)
        if args.corpus:
            measured = measure_corpus(args.corpus, args.before)
            command = "nice -n 10 .venv/bin/python -m reference.calibrate_similarity --corpus " \
                      f"{args.corpus}" + (f" --before {args.before}" if args.before else "")
            corpus = render_corpus(measured, command)
            now = measured["now"]
            print(f"corpus: {now.pairs} pairs; false flags {len(now.false_flags())}; copies caught "
                  + "; ".join(f"{how} {_caught(now, how)}" for how in
                              ("identical", "same code", "derived", "derived, markdown edited")))
        args.out.write_text(render(cal, sweep_k(sources), img, nb, corpus), encoding="utf-8")
        print(f"wrote {args.out}")
    print(f"code: independent max {cal.max_independent:.3f}, copied min {cal.min_copied:.3f} -> "
          f"{cal.threshold:.2f} (module {sim.CODE_THRESHOLD}); notebook: {nb.max_independent:.3f} / "
          f"{nb.min_copied:.3f} -> {nb.threshold:.2f} (module {sim.NOTEBOOK_THRESHOLD}); images: "
          f"{img.max_different:.3f} / {img.min_copied:.3f} -> {img.threshold:.2f} (module "
          f"{sim.IMAGE_THRESHOLD})")
    if (cal.threshold, nb.threshold, img.threshold) != (sim.CODE_THRESHOLD, sim.NOTEBOOK_THRESHOLD,
                                                         sim.IMAGE_THRESHOLD):
        print("the module's constants differ from the calibration", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
