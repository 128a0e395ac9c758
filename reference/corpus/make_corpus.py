"""Build the corpus: N student-like notebook submissions and their rubric truth.

Each notebook is composed from a :class:`~reference.corpus.specs.Spec` and executed cell by
cell (``kernel.py``); training is stood in for by saved generators (``sources.py``) and real or
simulated histories (``histories.py``). Every submission folder holds the notebook and, where
the case submits them, its sample PNGs, GIF, history plots and checkpoint. ``truth.json``
lists per notebook its features, what it shows (evidence) and the truth of the three rubric
items (``truth.py``); ``_evidence/<name>.npz`` keeps the uint8 tiles of its displayed grids.

Usage::

    nice -n 10 .venv/bin/python -m reference.corpus.make_corpus --out runs/corpus --seed 0 [--n N]
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import shutil
import time
import zlib
from dataclasses import dataclass
from pathlib import Path

import nbformat
import numpy as np

from reference.corpus import sources
from reference.corpus.compose import Builder, Shown, cifar_subset
from reference.corpus.drivers import RunContext, grid_tiles
from reference.corpus.histories import HistorySpec, make_history
from reference.corpus.kernel import Kernel, student_environment
from reference.corpus.layout import compose_standard, compose_tob
from reference.corpus.specs import Run, Spec, features, specs
from reference.corpus.truth import truth_of

NB_NAMES = ("cifar10_dcgan.ipynb", "[E-13]DCGAN_CIFAR10.ipynb", "exploration13_project.ipynb",
            "E13_cifar10_gan.ipynb", "project_dcgan.ipynb")
SIGMOID_MODELS = ("ref_sigmoid", "list_sigmoid", "tob")


@dataclass(frozen=True)
class Budget:
    """How much of each case to build (``tiny`` for tests)."""

    max_frames: int | None = None
    """Keep at most this many intermediate sample grids per run."""
    max_epochs: int | None = None
    """Shorten runs to this many epochs (the snapshots are stretched over them)."""
    checkpoints: bool = True
    dpi: int = 72


FULL = Budget()
TINY = Budget(max_frames=2, max_epochs=2, checkpoints=False, dpi=36)


class NoiseAllocator:
    """Hands out label-set noise rows per source without reuse (until a source runs out)."""

    def __init__(self) -> None:
        self.next: dict[str, int] = {}

    def take(self, source: str, n: int) -> tuple[np.ndarray, list[int]] | None:
        """``n`` noise rows of ``source`` and their row numbers; None if it has no rows."""
        drawn = sources.label_noise(source)
        if drawn is None:
            return None
        z, first = drawn  # batch-1 rows first: they are labelled earlier
        rng = np.random.default_rng(zlib.crc32(source.encode()))
        order = np.concatenate([rng.permutation(first), first + rng.permutation(len(z) - first)])
        start = self.next.get(source, 0)
        idx = order[(start + np.arange(n)) % len(order)]
        self.next[source] = start + n
        return z[idx], [int(i) for i in idx]


def make_context(i: int, spec: Spec, budget: Budget, alloc: NoiseAllocator, seed: int,
                 start_epoch: int) -> tuple[RunContext, dict]:
    """The driver context of run ``i`` and its label info (tile ids of the final grid)."""
    run: Run = spec.runs[i]
    snaps = sources.all_snapshots()
    frames = [snaps[n] for n in run.frames]
    if budget.max_frames is not None:
        frames = frames[:-1][-budget.max_frames:] + frames[-1:]
    used, substituted = {}, []
    for s in frames:
        u, sub = sources.resolve(s.name)
        if sub:
            used[s.name] = u.name
            substituted.append(s.name)
    last = frames[-1]
    if run.interrupt_at:  # the last grid shown is the one at the interruption
        last = ([s for s in frames if s.epochs <= run.interrupt_at + 1e-6] or frames[:1])[-1]
    final_used = used.get(last.name, last.name)
    drawn = alloc.take(sources.label_name(snaps[final_used]), 16)
    rng = np.random.default_rng(seed * 1000 + i)
    z, rows = drawn if drawn else (rng.standard_normal((16, 100)).astype(np.float32), None)
    epochs = min(run.epochs, budget.max_epochs or run.epochs)
    head = ("logits" if run.model not in SIGMOID_MODELS
            else "double_sigmoid" if run.from_logits else "sigmoid")
    hs = HistorySpec(run.history, epochs, run.batch, head, run.accuracy,
                     run.smoothing if run.smoothing is not None else 1.0)
    hist, kind = make_history(hs, seed * 100 + i)
    per_epoch = len(hist["gen_loss"]) // epochs
    if run.model == "tob":
        per_epoch = sources.STEPS_PER_EPOCH
    scale = run.epochs / frames[-1].epochs if run.scaled else 1.0
    scale *= epochs / run.epochs
    next_restores = i + 1 < len(spec.runs) and spec.runs[i + 1].restore
    ckpt = (start_epoch + epochs) // 5 if (spec.checkpoint and budget.checkpoints) or \
        next_restores else 0
    ctx = RunContext(i, epochs, per_epoch, z, frames, hist, gray28=run.model == "fashion",
                     start_epoch=start_epoch, interrupt_at=run.interrupt_at,
                     checkpoint_count=ckpt, seconds_per_epoch=float(rng.uniform(18, 45)),
                     scale=scale, used=used, plot=run.plot != "none")
    ctx.record["history_kind"] = kind
    label = sources.label_name(snaps[final_used]) if rows is not None else None
    return ctx, {"label_source": label, "label_used": final_used, "label_rows": rows,
                 "substituted": substituted}


def build_one(spec: Spec, out: Path, work: Path, budget: Budget, alloc: NoiseAllocator,
              seed: int, subset: np.ndarray) -> dict:
    """Build one submission folder; return its truth.json entry (tiles go to ``_evidence``)."""
    import keras

    nb_seed = (seed * 7919 + zlib.crc32(spec.name.encode())) % 2**31
    home = work / spec.name / "home"
    shutil.rmtree(work / spec.name, ignore_errors=True)
    contexts, infos, start = [], [], 0
    for i, run in enumerate(spec.runs):
        start = start if run.restore else 0
        ctx, info = make_context(i, spec, budget, alloc, nb_seed, start)
        contexts.append(ctx)
        infos.append(info)
        start = ctx.start_epoch + ctx.epochs
    kernel = Kernel(home, nb_seed, dpi=budget.dpi, retina=spec.retina)
    rng = np.random.default_rng(nb_seed)
    with student_environment(kernel):
        keras.backend.clear_session()
        keras.utils.set_random_seed(nb_seed)
        for proj in {spec.proj, "cifar10", "cifar10_v2"}:
            for d in ("generated_samples", "training_checkpoints", "training_history"):
                (home / "aiffel" / "dcgan_newimage" / proj / d).mkdir(parents=True, exist_ok=True)
        kernel.ns.update(_CIFAR=subset.copy(), _Shown=Shown)
        b = Builder(spec, kernel, rng, contexts)
        (compose_tob if spec.runs[0].model == "tob" else compose_standard)(b)
    nb_name = NB_NAMES[int(rng.integers(len(NB_NAMES)))]
    sub = out / spec.name
    shutil.rmtree(sub, ignore_errors=True)
    sub.mkdir(parents=True)
    nbformat.write(to_notebook(b), sub / nb_name)
    copy_submission(spec, home / "aiffel" / "dcgan_newimage", sub)
    evidence, tiles = collect_evidence(b, infos, home / "aiffel" / "dcgan_newimage", sub)
    (out / "_evidence").mkdir(exist_ok=True)
    np.savez_compressed(out / "_evidence" / f"{spec.name}.npz", **tiles)
    shutil.rmtree(work / spec.name, ignore_errors=True)
    items = truth_of(evidence, tiles, sources.load_labels())
    return {"name": spec.name, "notebook": nb_name, "author": spec.author, "note": spec.note,
            "features": features(spec), "items": items,
            "provisional": any(v["provisional"] for v in items.values()),
            "size_bytes": (sub / nb_name).stat().st_size,
            "folder_bytes": sum(p.stat().st_size for p in sub.rglob("*") if p.is_file()),
            "n_cells": len(b.cells),
            "rebuild": sorted({n for info in infos for n in info["substituted"]}),
            "evidence": evidence}


def to_notebook(b: Builder) -> nbformat.NotebookNode:
    """nbformat notebook with execution counts (restarts and out-of-order runs applied)."""
    cells, count, session = [], 0, 0
    code = [c for c in b.cells if c.kind == "code"]
    late = set()
    if b.spec.counts == "out_of_order":  # re-run after training: two definition cells
        late = {id(c) for c in code if "def generate_and_save_images" in c.source
                or c.source.startswith("noise_dim = 100")}
    for c in b.cells:
        if c.kind == "markdown":
            cells.append(nbformat.v4.new_markdown_cell(c.source))
            continue
        if c.session != session:
            session, count = c.session, 0
        n = None
        if c.executed and id(c) not in late:
            count += 1
            n = count
        cells.append(_code_cell(c, n))
    for c, cell in zip(b.cells, cells):
        if id(c) in late:
            count += 1
            _set_count(cell, count)
    for k, cell in enumerate(cells):  # stable ids: the same build gives the same bytes
        cell.id = f"{zlib.crc32(f'{b.kernel.seed}:{k}'.encode()):08x}"
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)",
                                 "language": "python"}
    nb.metadata["language_info"] = {"name": "python", "version": "3.9.7",
                                    "mimetype": "text/x-python", "file_extension": ".py"}
    return nb


def _code_cell(c, n: int | None) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell(c.source, outputs=c.outputs if c.executed else [])
    _set_count(cell, n)
    return cell


def _set_count(cell: nbformat.NotebookNode, n: int | None) -> None:
    cell.execution_count = n
    for o in cell.outputs:
        if o.output_type == "execute_result":
            o.execution_count = n


def copy_submission(spec: Spec, project: Path, sub: Path) -> None:
    """Copy the student's result files into the submission folder (what the case submits)."""
    wanted = {"samples": "generated_samples", "history": "training_history",
              "ckpt": "training_checkpoints"}
    for proj_dir in sorted(p for p in project.iterdir() if p.is_dir()):
        dest = sub if proj_dir.name == "cifar10" and spec.proj == "cifar10" else sub / proj_dir.name
        for key, folder in wanted.items():
            src = proj_dir / folder
            if key in spec.submit and src.is_dir() and any(src.iterdir()):
                keep = _latest_checkpoint(src) if key == "ckpt" else None
                shutil.copytree(src, dest / folder, dirs_exist_ok=True,
                                ignore=None if keep is None else
                                lambda _d, names, k=keep: [n for n in names if n != "checkpoint"
                                                           and not n.startswith(k + ".")])
        if "gif" in spec.submit and spec.gif != "missing":
            for gif in proj_dir.glob("*.gif"):
                dest.mkdir(parents=True, exist_ok=True)
                shutil.copy2(gif, dest / gif.name)


def _latest_checkpoint(folder: Path) -> str | None:
    """The prefix name (``ckpt-10``) the ``checkpoint`` file points at: the one submitted."""
    index = folder / "checkpoint"
    if not index.is_file():
        return None
    first = index.read_text().splitlines()[0]
    return first.split('"')[1] if '"' in first else None


def collect_evidence(b: Builder, infos: list[dict], project: Path, sub: Path
                     ) -> tuple[dict, dict[str, np.ndarray]]:
    """The evidence truth is computed from, and the tiles of every displayed grid."""
    import imageio.v3 as iio

    ev = {"display": b.spec.display, "improvement": b.spec.improvement,
          "shape": [28, 28, 1] if b.spec.runs[0].model == "fashion" else [32, 32, 3],
          "runs": b.evidence["runs"], "gifs": [], "compare": None}
    tiles: dict[str, np.ndarray] = {}
    for run_ev, ctx, info in zip(ev["runs"], b.contexts, infos):
        for n, g in enumerate(run_ev["grids"]):
            g["key"] = f"run{run_ev['run']}:{n}"
            tiles[g["key"]] = grid_tiles(g["used"], ctx.z)
            g["label_source"] = info["label_source"] if g["used"] == info["label_used"] else None
            g["substituted"] = g["snapshot"] in info["substituted"]
    comp = b.evidence.get("compare")
    if comp:
        ev["compare"] = {}
        for side in ("before", "after"):
            i = comp[side]
            ctx = b.contexts[i]
            snap = ctx.frames[-1]
            used = ctx.used.get(snap.name, snap.name)
            key = f"compare:{side}"
            tiles[key] = grid_tiles(used, ctx.z)
            ev["compare"][f"{side}_grid"] = {
                "key": key, "snapshot": snap.name, "used": used, "where": f"compare_{side}",
                "label_source": infos[i]["label_source"],
                "substituted": snap.name in infos[i]["substituted"]}
    files = {}
    for r in ev["runs"]:
        proj = b._proj(r["run"])
        files.update({(proj, k): v for k, v in r["files"].items()})
    for g in b.evidence["gifs"]:
        path = project / g["file"]
        frames = [np.asarray(f) for f in iio.imiter(path)] if path.is_file() else []
        folder = path.parent / "generated_samples"
        pattern, gproj = b.spec.gif_pattern, g["file"].split("/")[0]
        matched = sorted(p.name for p in folder.iterdir() if fnmatch.fnmatch(p.name, pattern))
        ev["gifs"].append({**g, "in_notebook": g["mode"] == "shown",
                           "submitted": any(True for _ in sub.rglob(path.name)),
                           "n_frames": int(len(frames)),
                           "n_distinct": len({zlib.crc32(f.tobytes()) for f in frames}),
                           "first": files.get((gproj, matched[0]), "") if matched else "",
                           "last": files.get((gproj, matched[-1]), "") if matched else ""})
    return ev, tiles


def main(argv: list[str] | None = None) -> int:
    """Command line: build the corpus into ``--out``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("runs/corpus"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--n", type=int, default=32, help="number of notebooks")
    parser.add_argument("--only", default="", help="comma-separated case names to build")
    parser.add_argument("--tiny", action="store_true", help="tiny budget (tests)")
    args = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    chosen = specs(args.n, args.seed)
    alloc = NoiseAllocator()
    args.out.mkdir(parents=True, exist_ok=True)
    work = args.out / "_work"
    subset = cifar_subset()
    entries, t0 = [], time.time()
    for spec in chosen:
        if args.only and spec.name not in args.only.split(","):
            alloc_skip(alloc, spec)
            continue
        t = time.time()
        entries.append(build_one(spec, args.out, work, TINY if args.tiny else FULL, alloc,
                                 args.seed, subset))
        e = entries[-1]
        print(f"{spec.name}: {e['n_cells']} cells, {e['size_bytes'] / 1e6:.2f} MB, "
              + ", ".join(f"{k}={v['status']}{'*' if v['provisional'] else ''}"
                          for k, v in e["items"].items()) + f" ({time.time() - t:.0f} s)")
    shutil.rmtree(work, ignore_errors=True)
    old = args.out / "truth.json"
    if args.only and old.is_file():  # a partial rebuild replaces its entries, keeps the rest
        rebuilt = {e["name"]: e for e in entries}
        kept = {e["name"]: e for e in json.loads(old.read_text())["notebooks"]}
        kept.update(rebuilt)
        entries = [kept[s.name] for s in chosen if s.name in kept]
    seconds = round(time.time() - t0, 1)
    if args.only and old.is_file():
        seconds = json.loads(old.read_text()).get("build_seconds", seconds)
    truth = {"seed": args.seed, "n": len(entries), "build_seconds": seconds,
             "labels": "reference/labels (pass 1)" if sources.load_labels() else
             "none yet: provisional tiers", "notebooks": entries}
    (args.out / "truth.json").write_text(json.dumps(truth, ensure_ascii=False, indent=1))
    print(f"{len(entries)} notebooks in {args.out} ({time.time() - t0:.0f} s)")
    return 0


def alloc_skip(alloc: NoiseAllocator, spec: Spec) -> None:
    """Advance the noise allocator as if ``spec`` were built (``--only`` keeps tiles stable)."""
    for run in spec.runs:
        final = run.final
        if run.interrupt_at:
            snaps = sources.all_snapshots()
            final = [n for n in run.frames if snaps[n].epochs <= run.interrupt_at + 1e-6][-1]
        used, _ = sources.resolve(final)
        alloc.take(sources.label_name(used), 16)


if __name__ == "__main__":
    raise SystemExit(main())
