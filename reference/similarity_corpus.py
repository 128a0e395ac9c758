"""Similarity on a realistic cohort: the TA-evidence corpus plus copies planted in it.

The corpus (``reference/corpus``, built by ``python -m reference.corpus.make_corpus``) is 32
notebooks with everything a class has by construction: the lesson's code adapted, the untrained
sanity plot with its colorbar, a real-data preview, GIFs and numbered sample files from the
first epoch on. Copies are planted in it:

* ``identical``: the submission folder copied byte for byte;
* ``same code``: the notebook re-saved with its outputs cleared, its comments rewritten and its
  markdown edited (the code is the same);
* ``derived``: a copy with small edits: every user-defined name renamed, comments rewritten,
  three hyper-parameters changed, two pairs of definition cells swapped, outputs cleared, the
  author changed and a sentence added to the last markdown cell;
* ``derived, markdown edited``: the same, and one markdown cell in three loses its last line
  and gets a new one (a copier who also rewrites some of the text).

Each corpus notebook's derived copy is measured in a cohort of the corpus plus that copy; the
identical and same-code copies, and four derived ones, in one cohort with all of them. Only
:func:`grader.cohort.similarity.fingerprint_submission` and ``find_similar`` are used, so the
code of an older checkout can be measured the same way (``PYTHONPATH=old:.``).

The corpus is written by one generator from a few code snippets and phrases per step, so some of
its notebooks share code cells and sentences verbatim, which independent students never do.
Every flag between two corpus notebooks is listed with what the pair shares by construction:
the same generator snapshot in their late samples (the same images), identical code cells that
add to the lesson, identical markdown lines that are not the course notes'.
"""

from __future__ import annotations

import ast
import copy
import hashlib
import json
import random
import re
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.cohort import similarity as sim

#: derived copies measured together with the identical and same-code copies (little, some and
#: much added code, and a train_on_batch notebook)
JOINT = ("lesson_bug_gray_grid", "korean_titles_lr_better", "per_epoch_means_osc",
         "train_on_batch_keras")
#: copied byte for byte, and as the same code
IDENTICAL = ("lesson_fixed_down_gif_shown", "functional_viridis_ckpt")
SAME_CODE = ("no_history_plot", "sigmoid_consistent_batch_change")
#: kinds that catch a planted copy of code (images and checkpoints are not copied by all)
CODE_KINDS = ("identical", "code", "notebook")
_AUTHOR = re.compile(r"(작성자\s*:\s*|^>\s*|\()([가-힣]{2,4})", re.MULTILINE)
_SETTINGS = (re.compile(r"^(\s*(?:EPOCHS|BATCH_SIZE|save_every)\s*=\s*)(\d+)", re.MULTILINE),
             re.compile(r"(Adam\(\s*(?:learning_rate\s*=\s*)?)(\d[0-9.e-]*)"))


# ---------------------------------------------------------------- planted copies


def _source(cell: dict[str, Any]) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else str(src)


def _defs_only(text: str) -> bool:
    try:
        body = ast.parse(text).body
    except SyntaxError:
        return False
    return bool(body) and all(isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
                              for s in body)


def _change_settings(texts: list[str], most: int = 3) -> list[str]:
    """Change up to ``most`` hyper-parameters (epochs, batch size, save interval, learning rate)."""
    out, changed = [], 0
    for text in texts:
        for pattern in _SETTINGS:
            if changed >= most:
                break
            new = pattern.sub(lambda m: m.group(1) + _other(m.group(2)), text, count=1)
            changed += new != text
            text = new
        out.append(text)
    return out


def _other(number: str) -> str:
    try:
        return str(int(number) * 2) if number.isdigit() else repr(float(number) * 2)
    except ValueError:
        return number


def derive_notebook(raw: dict[str, Any], seed: int, rename_names: bool = True,
                    markdown: bool = False) -> dict[str, Any]:
    """A copy of a notebook (JSON) with a copier's small edits (see the module docstring).

    Args:
        raw: The notebook's JSON.
        seed: Chooses the new names.
        rename_names: Rename, change settings and swap cells (False: the same code).
        markdown: Also drop a line of one markdown cell in three and write a new one.
    """
    from grader.intake.magics import strip_ipython
    from reference import calibrate_similarity as cal

    rng = random.Random(seed)
    nb = copy.deepcopy(raw)
    cells = nb["cells"]
    code = [i for i, c in enumerate(cells) if c.get("cell_type") == "code"]
    texts = _change_settings([_source(cells[i]) for i in code]) if rename_names else \
        [_source(cells[i]) for i in code]
    if rename_names:
        names = set().union(*(cal.user_names(strip_ipython(t).text) for t in texts))
        mapping = cal.new_names(names, rng)
        texts = [cal.rename(t, rng, mapping) for t in texts]
    texts = [cal.recomment(t, rng).rstrip("\n") for t in texts]
    for i, text in zip(code, texts):
        cells[i].update(source=text, outputs=[], execution_count=None)
    if rename_names:  # two pairs of neighbouring definition cells change places
        defs = [i for i in code if _defs_only(_source(cells[i]))]
        pairs = [(a, b) for a, b in zip(defs, defs[1:])]
        for a, b in pairs[::2][:2]:
            cells[a], cells[b] = cells[b], cells[a]
    md = [c for c in cells if c.get("cell_type") == "markdown"]
    if md:
        md[0]["source"] = _AUTHOR.sub(lambda m: m.group(1) + "김민준", _source(md[0]), count=1)
        md[-1]["source"] = _source(md[-1]) + "\n\n다음에는 처음부터 혼자 다시 해 보고 싶다."
    for n, cell in enumerate(md[2::3] if markdown else []):
        lines = _source(cell).split("\n")
        lines = lines[:-1] if len(lines) > 1 else lines
        cell["source"] = "\n".join(lines + ["", f"여기는 {n + 1}번째로 다시 정리해서 적었다."])
    return nb


def plant_copies(corpus: Path, out: Path, names: list[str]) -> dict[str, tuple[str, str]]:
    """Write the copies under ``out``; copy name -> (original, how)."""
    out.mkdir(parents=True, exist_ok=True)
    planted: dict[str, tuple[str, str]] = {}
    for n, name in enumerate(names):
        folder = corpus / name
        notebook = next(folder.glob("*.ipynb"))
        raw = json.loads(notebook.read_text(encoding="utf-8"))
        for how in ("derived", "derived, markdown edited") + \
                (("identical",) if name in IDENTICAL else ()) + \
                (("same code",) if name in SAME_CODE else ()):
            target = out / f"{re.sub(r'[^a-z]+', '_', how)}__{name}"
            shutil.rmtree(target, ignore_errors=True)
            if how == "identical":
                shutil.copytree(folder, target)
            else:
                target.mkdir()
                nb = derive_notebook(raw, n, rename_names=how.startswith("derived"),
                                     markdown=how.endswith("edited"))
                (target / "notebook.ipynb").write_text(json.dumps(nb, ensure_ascii=False, indent=1),
                                                       encoding="utf-8")
            planted[target.name] = (name, how)
    return planted


# ---------------------------------------------------------------- construction overlap


def _snapshots(entry: dict[str, Any]) -> set[str]:
    """Trained generator snapshots an entry of ``truth.json`` draws samples with.

    The corpus draws every snapshot's samples from one noise (``sources.py``), so two notebooks
    showing the same snapshot show the same images, however independent they are meant to be.
    """
    out: set[str] = set()
    for run in (entry.get("evidence") or {}).get("runs", []):
        out |= set((run.get("files") or {}).values())
        out |= {g.get("used") or g.get("snapshot") for g in run.get("grids", [])}
    return {s for s in out if s and s != "untrained"}


def _shared_units(folder: Path) -> tuple[set[str], set[str]]:
    """Digests of a notebook's code cells that add to the lesson, and of its own markdown lines."""
    from grader.cohort.similarity.text import lesson_text, text_shingles, words
    from grader.cohort.similarity.tokens import plain_tokens

    notebook = next(folder.glob("*.ipynb"))
    raw = json.loads(notebook.read_text(encoding="utf-8"))
    code, text = set(), set()
    for cell in raw.get("cells", []):
        src = _source(cell)
        if cell.get("cell_type") == "code":
            segs = sim.fingerprint_sources("x", [("c", src, True)]).segments
            if segs and segs[0].hashes:
                code.add(hashlib.sha256(" ".join(plain_tokens(src)).encode()).hexdigest())
        elif cell.get("cell_type") == "markdown":
            for line in src.split("\n"):
                if len(words(line)) >= 3 and not text_shingles(line) <= lesson_text():
                    text.add(" ".join(words(line)))
    return code, text


# ---------------------------------------------------------------- measurement


def cohort_flags(corpus: Path, copies: Path, work: Path, planted: dict[str, tuple[str, str]]
                 ) -> dict[str, Any]:
    """Fingerprint the corpus and the copies; flag the joint cohort and each derived copy's.

    Uses only ``fingerprint_submission`` and ``find_similar`` (works with older code).

    Returns:
        Plain data: ``names``, ``fingerprint_s``, ``joint`` (copies in the joint cohort),
        ``flags`` (joint cohort) and ``alone`` (copy -> flags of corpus + that copy).
    """
    names = corpus_names(corpus)
    start = time.perf_counter()
    prints = {n: sim.fingerprint_submission(corpus / n, work / n) for n in names}
    seconds = time.perf_counter() - start
    mine = {c: sim.fingerprint_submission(copies / c, work / c) for c in planted}
    joint = [c for c, (orig, how) in planted.items()
             if not how.startswith("derived") or (orig in JOINT and how == "derived")]
    cohort = {**prints, **{c: mine[c] for c in joint}}
    flags = [f.to_dict() for f in sim.find_similar(cohort)]
    scores = {c: _notebook_score(cohort, planted[c][0], c) for c in joint}
    alone: dict[str, list[dict[str, Any]]] = {}
    for c in planted:
        if c not in joint:
            alone[c] = [f.to_dict() for f in sim.find_similar({**prints, c: mine[c]})
                        if c in (f.a, f.b)]
            scores[c] = _notebook_score({**prints, c: mine[c]}, planted[c][0], c)
    return {"names": names, "fingerprint_s": round(seconds / max(1, len(names)), 2),
            "joint": joint, "flags": flags, "alone": alone, "scores": scores}


def _notebook_score(cohort: dict[str, Any], a: str, b: str) -> list[Any] | None:
    """[notebook score (None: a side holds too little to compare), a's and b's compared
    features] of one pair; None from older code."""
    if not hasattr(sim, "notebook_scores"):
        return None
    scores, kept = sim.notebook_scores(cohort)
    hit = scores.get((min(a, b), max(a, b)))
    small = min(len(kept[a]), len(kept[b])) < sim.MIN_NOTEBOOK_FEATURES
    score = None if small else round(hit[0], 3) if hit else 0.0
    return [score, len(kept[a]), len(kept[b])]


def corpus_names(corpus: Path) -> list[str]:
    """The corpus notebooks' folders."""
    return sorted(p.name for p in corpus.iterdir() if p.is_dir() and not p.name.startswith("_")
                  and any(p.glob("*.ipynb")))


@dataclass
class CohortResult:
    """What one measurement of the corpus found (by the current code or an older one)."""

    students: int = 0
    pairs: int = 0
    fingerprint_s: float = 0.0
    """Seconds per corpus notebook."""
    corpus_flags: list[dict[str, Any]] = field(default_factory=list)
    """Flags between two corpus notebooks, each with ``why`` (what they share by construction)
    and ``explained`` (whether that is what its kind compares)."""
    planted: list[dict[str, Any]] = field(default_factory=list)
    """One row per planted copy: copy, original, how, cohort, caught, kinds, score."""
    other_flags: list[dict[str, Any]] = field(default_factory=list)
    """Flags between a planted copy and a corpus notebook that is not its original."""

    def false_flags(self) -> list[dict[str, Any]]:
        """Corpus flags with nothing shared by construction behind their kind."""
        return [f for f in self.corpus_flags if not f["explained"]]


def _why(kind: str, a: str, b: str, snaps: dict[str, set[str]],
         units: dict[str, tuple[set[str], set[str]]]) -> tuple[str, bool]:
    """What a corpus pair shares by construction, and whether that explains a flag of ``kind``."""
    same = sorted(snaps.get(a, set()) & snaps.get(b, set()))
    code = len(units[a][0] & units[b][0])
    text = len(units[a][1] & units[b][1])
    words = (f"samples of {', '.join(same) or 'no common generator snapshot'}; "
             f"{code} identical code cells that add to the lesson; {text} identical markdown lines")
    explained = {"samples": bool(same), "code": code > 0, "identical": code > 0,
                 "notebook": code > 0 or text > 0}.get(kind, False)
    return words, explained


def analyse(raw: dict[str, Any], corpus: Path, planted: dict[str, tuple[str, str]]) -> CohortResult:
    """Sort the flags of :func:`cohort_flags` into corpus pairs, planted copies and the rest."""
    names = set(raw["names"])
    truth_file = corpus / "truth.json"
    truth = json.loads(truth_file.read_text(encoding="utf-8")) if truth_file.is_file() else {}
    snaps = {e["name"]: _snapshots(e) for e in truth.get("notebooks", [])}
    units = {n: _shared_units(corpus / n) for n in names}
    out = CohortResult(fingerprint_s=raw["fingerprint_s"])
    out.students = len(names) + len(raw["joint"])
    out.pairs = out.students * (out.students - 1) // 2
    for f in raw["flags"]:
        if f["a"] in names and f["b"] in names:
            why, explained = _why(f["kind"], f["a"], f["b"], snaps, units)
            if f["kind"] == "checkpoint":  # drivers.py: one 12-epoch discriminator for all
                why, explained = "the corpus's checkpoints share one discriminator", True
            out.corpus_flags.append({**{k: f[k] for k in ("a", "b", "kind", "score", "detail")},
                                     "why": why, "explained": explained})
    cohorts = [("joint", raw["joint"], raw["flags"])]
    cohorts += [("corpus + this copy", [c], flags) for c, flags in raw["alone"].items()]
    for label, members, flags in cohorts:
        for c in members:
            orig, how = planted[c]
            mine = [f for f in flags if {f["a"], f["b"]} == {c, orig}]
            code = [f["score"] for f in mine if f["kind"] in CODE_KINDS]
            out.planted.append({"copy": c, "original": orig, "how": how, "cohort": label,
                                "caught": bool(code), "kinds": sorted({f["kind"] for f in mine}),
                                "score": max(code, default=0.0),
                                "notebook": (raw.get("scores") or {}).get(c)})
            out.other_flags += [{"copy": c, "other": f["b"] if f["a"] == c else f["a"],
                                 "kind": f["kind"], "score": f["score"]} for f in flags
                                if c in (f["a"], f["b"]) and orig not in (f["a"], f["b"])]
    return out


def image_census(corpus: Path, work: Path) -> tuple[dict[str, int], dict[str, set[str]]]:
    """Images of the corpus left out of the comparison, by reason; and each notebook's compared
    image labels (as in a print: ``origin`` or ``origin frame N``)."""
    from grader.cohort.similarity.images import image_prints
    from grader.intake import load_submission

    counts: dict[str, int] = {}
    labels: dict[str, set[str]] = {}
    for name in corpus_names(corpus):
        sub = load_submission(corpus / name, work / name)
        left: dict[str, list[str]] = {}
        kept = sim.compared_images(sub, work / name, left)
        for reason, origins in left.items():
            counts[reason] = counts.get(reason, 0) + len(origins)
        counts["compared"] = counts.get("compared", 0) + len(kept)
        sp = sim.SubmissionPrint(name)
        image_prints(sub, work / name, sp)
        labels[name] = {im.origin for im in sp.images}
    return counts, labels


def rests_on_left_out(flag: dict[str, Any], labels: dict[str, set[str]]) -> bool:
    """Whether a samples flag's closest pair of images holds one that is now left out."""
    m = re.search(r"closest: (.+) and (.+), \d+ of \d+ hash bits", flag.get("detail", ""))
    if not m or flag["a"] not in labels or flag["b"] not in labels:
        return False
    return m.group(1) not in labels[flag["a"]] or m.group(2) not in labels[flag["b"]]


def main(argv: list[str] | None = None) -> int:
    """``--raw CORPUS COPIES WORK PLANTED.json``: print :func:`cohort_flags` as JSON."""
    import argparse

    parser = argparse.ArgumentParser(description="raw flags of the corpus cohorts (JSON)")
    parser.add_argument("corpus", type=Path)
    parser.add_argument("copies", type=Path)
    parser.add_argument("work", type=Path)
    parser.add_argument("planted", type=Path)
    args = parser.parse_args(argv)
    planted = {k: tuple(v) for k, v in json.loads(args.planted.read_text()).items()}
    print(json.dumps(cohort_flags(args.corpus, args.copies, args.work, planted)))  # type: ignore[arg-type]
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
