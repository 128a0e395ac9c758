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

Usage::

    python -m reference.calibrate_similarity            # writes reference/similarity_calibration.md
    python -m reference.calibrate_similarity --check    # exit 1 when the module's constants differ
"""

from __future__ import annotations

import argparse
import ast
import io
import random
import re
import sys
import tempfile
import tokenize
from dataclasses import dataclass, field
from pathlib import Path

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


def rename(text: str, rng: random.Random) -> str:
    """Give every user-defined name a new one (a search-and-replace copier)."""
    names = sorted(user_names(text))
    new = {n: f"{rng.choice(_WORDS)}_{i}" for i, n in enumerate(names)}
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


def render(cal: CodeCalibration, sweep: list[CodeCalibration], img: ImageCalibration) -> str:
    """The Markdown report."""
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
    return "\n".join(lines)


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


def main(argv: list[str] | None = None) -> int:
    """Calibrate, write the report, and compare with the module's constants."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=OUT_MD)
    parser.add_argument("--check", action="store_true", help="only compare with the module")
    args = parser.parse_args(argv)
    sources = corpus_sources(corpus_paths())
    cal, img = calibrate_code(sources), calibrate_images()
    if not args.check:
        args.out.write_text(render(cal, sweep_k(sources), img), encoding="utf-8")
        print(f"wrote {args.out}")
    print(f"code: independent max {cal.max_independent:.3f}, copied min {cal.min_copied:.3f} -> "
          f"{cal.threshold:.2f} (module {sim.CODE_THRESHOLD}); images: {img.max_different:.3f} / "
          f"{img.min_copied:.3f} -> {img.threshold:.2f} (module {sim.IMAGE_THRESHOLD})")
    if (cal.threshold, img.threshold) != (sim.CODE_THRESHOLD, sim.IMAGE_THRESHOLD):
        print("the module's constants differ from the calibration", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
