"""Which output came from which code: the training runs of a notebook and what each showed.

A TA reads a notebook as a story: the models are defined, trained (a *run*), the results
shown; then something is changed and trained again. This module rebuilds that story from
the saved notebook without running it:

* **order**: cells in file order, unless their ``execution_count``s say they ran in another
  order (then by count; a kernel restart, counts starting again at 1, keeps file order
  between sessions);
* **runs**: cells whose top-level code trains (``train(...)``, ``model.fit``, a loop over
  ``train_step``), with the definitions and settings in force when each ran, and whether
  a checkpoint was restored just before (a continuation of the previous run);
* **images**: every embedded output image, given to the run whose training cell most
  recently ran before it, and classified as a sample grid, a history plot, a real-data
  preview, the lesson's sanity plot of one untrained sample, a GIF, or something else;
* **baseline and final**: the last run is the final one; the last earlier run that differs
  from it in code or in training settings is the baseline, and the difference is described
  (a code diff, or a training-only change such as more epochs or another learning rate).

Every choice is written down in ``RunMap.notes`` in plain words.
"""

from __future__ import annotations

import ast
import re
from dataclasses import asdict, dataclass, field
from typing import Any

from grader.intake.chunks import Chunk
from grader.intake.embedded import code_facts
from grader.intake.select import dotted_name
from grader.intake.submission import EmbeddedImage

ImageKind = str
"""``sample_grid``, ``history_plot``, ``real_preview``, ``sanity_plot``, ``gif`` or ``other``."""

_TRAIN = re.compile(r"^(train\w*|fit|fit_generator|train_on_batch|gan_train|run_training)$")
_NOT_TRAIN = re.compile(r"^(train_test_split|train_dataset|trainable\w*)$")
_RESTORE = frozenset({"restore", "load_weights", "load_model"})
#: top-level names whose assignment is a training setting
_SETTING = re.compile(r"(epoch|batch|^lr$|learning_rate|beta|noise_dim|smooth|n_critic|"
                      r"buffer|steps)", re.IGNORECASE)
_OPTIMIZER = re.compile(r"optimi[sz]er|^opt_?[gd]$|^[gd]_?opt", re.IGNORECASE)
#: definitions whose change between runs is a change of the model or the training code
_GENERATOR_BUILDER = re.compile(r"generator", re.IGNORECASE)
"""A definition with this in its name (re)defines the generator: until the next training call
its one-sample plot shows an untrained model (the improvement section's sanity plot)."""
_COMPARE_WORDS = re.compile(r"\bbefore\b|\bafter\b|개선\s*[전후]|[전후]\s*비교|전\s*/\s*후|"
                            r"\bbaseline\b|\bimproved\b|\boriginal\b", re.IGNORECASE)
"""A string literal with one of these (a title, a label) in a cell that does not train marks
its figure as the student's side-by-side before/after comparison."""
_ROLE_NAMES = re.compile(r"generator|discriminator|critic|loss|train_step|^make_|^build_",
                         re.IGNORECASE)


@dataclass
class ShownImage:
    """An image the notebook shows, placed in the story."""

    file: str
    """Path relative to the work folder (``embedded/cell12_out3.png``)."""
    origin: str
    cell: int
    output: int
    execution_count: int | None
    kind: ImageKind
    run: int | None
    """Index of the run it belongs to; None before any training."""
    reason: str = ""
    code: str = ""
    """The code that drew it: the cell and the notebook functions it calls (capped)."""
    compare: bool = False
    """The cell titles it "before"/"after" (or 개선 전/후) and does not train: a side-by-side
    comparison of two grids, cut in two by the judge (never a run's own last grid)."""


@dataclass
class Run:
    """One training run: the cell that trained and what was in force when it ran."""

    index: int
    cell: int
    origin: str
    execution_count: int | None
    call: str
    """The training statement, shortened (``train(train_dataset, EPOCHS, 5)``)."""
    definitions: dict[str, str] = field(default_factory=dict)
    """Model, loss and step functions in force: name -> the cell that defined them."""
    settings: dict[str, str] = field(default_factory=dict)
    """Training settings in force: name -> its source (``EPOCHS = 50``)."""
    continues: bool = False
    """A checkpoint was restored since the previous run: this run continues that one."""
    final_grid: int | None = None
    """Index (into ``RunMap.images``) of the last sample grid shown for this run."""
    final_history: int | None = None
    gif: int | None = None
    save_dirs: list[str] = field(default_factory=list)
    """Folders of the image paths written in the code since the previous run (``.../cifar10_v2
    /training_history``): where this run's own saved figures go, when it moved them."""


@dataclass
class RunMap:
    """The story of a notebook: runs, shown images, and which runs to compare."""

    runs: list[Run] = field(default_factory=list)
    images: list[ShownImage] = field(default_factory=list)
    order: str = "file"
    """``file`` or ``execution_count``: how cells were put in the order they ran."""
    baseline: int | None = None
    final: int | None = None
    change_kind: str = "none"
    """Between baseline and final: ``code``, ``training``, ``code+training`` or ``none``."""
    changes: list[str] = field(default_factory=list)
    """What changed, in words (``make_generator_model redefined in cell 20``,
    ``EPOCHS: 50 -> 100``)."""
    redefined: list[str] = field(default_factory=list)
    """Model, loss or step functions defined more than once in the notebook (an improvement
    was written, whether or not it was trained and shown)."""
    comparison: int | None = None
    """Index (into ``images``) of the last before/after comparison shown after the final run
    started (``ShownImage.compare``), if any."""
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON dict."""
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> RunMap:
        """Read :meth:`to_dict` output (unknown keys are ignored)."""
        out = cls(order=str(raw.get("order", "file")), baseline=raw.get("baseline"),
                  final=raw.get("final"), change_kind=str(raw.get("change_kind", "none")),
                  changes=[str(c) for c in raw.get("changes", [])],
                  redefined=[str(c) for c in raw.get("redefined", [])],
                  comparison=raw.get("comparison"),
                  notes=[str(n) for n in raw.get("notes", [])])
        out.images = [ShownImage(**{k: v for k, v in i.items()
                                    if k in ShownImage.__dataclass_fields__})
                      for i in raw.get("images", []) if isinstance(i, dict)]
        out.runs = [Run(**{k: v for k, v in r.items() if k in Run.__dataclass_fields__})
                    for r in raw.get("runs", []) if isinstance(r, dict)]
        return out

    def image(self, index: int | None) -> ShownImage | None:
        """The image at ``index`` (None for None)."""
        return self.images[index] if index is not None and 0 <= index < len(self.images) \
            else None


def _top_level_calls(tree: ast.Module | None) -> list[tuple[str, ast.stmt]]:
    """Calls made by the cell's own top-level statements (not inside its definitions)."""
    out: list[tuple[str, ast.stmt]] = []
    for stmt in tree.body if tree else []:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        for node in ast.walk(stmt):
            if isinstance(node, ast.Call):
                name = dotted_name(node.func) or getattr(node.func, "attr", "") or ""
                if name:
                    out.append((name, stmt))
    return out


def _trains(chunk: Chunk) -> str | None:
    """The training statement of a cell (shortened), or None when it does not train."""
    for name, stmt in _top_level_calls(chunk.tree):
        last = name.split(".")[-1]
        if _TRAIN.match(last) and not _NOT_TRAIN.match(last):
            text = ast.get_source_segment(chunk.text, stmt) or last
            return " ".join(text.split())[:120]
    return None


def _restores(chunk: Chunk) -> bool:
    return any(name.split(".")[-1] in _RESTORE for name, _ in _top_level_calls(chunk.tree))


def execution_order(chunks: list[Chunk]) -> tuple[list[Chunk], str, list[str]]:
    """The cells in the order they last ran, how that was decided, and notes."""
    counted = [c for c in chunks if c.execution_count is not None]
    notes: list[str] = []
    if len(counted) < max(2, 0.6 * len(chunks)):
        if counted:
            notes.append("most cells have no execution count: file order is used")
        return list(chunks), "file", notes
    counts = [c.execution_count for c in counted]
    restarts = sum(1 for a, b in zip(counts, counts[1:]) if b < a and b <= 2)
    if restarts:
        notes.append(f"the kernel was restarted {restarts} time(s) (execution counts start "
                     "again): file order is used")
        return list(chunks), "file", notes
    if counts == sorted(counts):
        return list(chunks), "file", notes
    if len(set(counts)) != len(counts):
        notes.append("execution counts repeat: file order is used")
        return list(chunks), "file", notes
    # Uncounted cells (not run, or markdown-like) keep their place after the counted cell
    # before them in the file.
    key: dict[int, tuple[float, int]] = {}
    last = 0.0
    for pos, c in enumerate(chunks):
        if c.execution_count is not None:
            last = float(c.execution_count)
        key[id(c)] = (last + (0.0 if c.execution_count is not None else 0.5), pos)
    ordered = sorted(chunks, key=lambda c: key[id(c)])
    moved = sum(1 for a, b in zip(chunks, ordered) if a is not b)
    notes.append(f"cells ran out of file order ({moved} cells move when ordered by their "
                 "execution counts): the execution order is used")
    return ordered, "execution_count", notes


def _image_kind(image: EmbeddedImage, chunk: Chunk, before_training: bool) -> tuple[str, str]:
    """Refine the intake's tag of an embedded image into the story's kinds.

    ``before_training``: no training call ran yet, or the generator was redefined since the
    last one (a one-sample plot is then the lesson's sanity plot, not a result).
    """
    if image.kind == "gif":
        return "gif", image.reason
    if image.kind == "history_plot":
        return "history_plot", image.reason
    if image.kind == "real_preview":
        return "real_preview", image.reason
    facts = code_facts(chunk.tree if chunk.tree is not None else chunk.raw)
    one_sample = "colorbar" in facts.calls or re.search(r"\[\s*0\s*,\s*:\s*,\s*:\s*,\s*0\s*\]",
                                                        chunk.text)
    if image.kind == "samples" and before_training and one_sample:
        return "sanity_plot", "one untrained sample shown before the generator trained"
    if image.kind == "samples":
        return "sample_grid", image.reason
    if before_training and one_sample:
        return "sanity_plot", "one untrained sample shown before the generator trained"
    return "other", image.reason


def _compares(image: EmbeddedImage, chunk: Chunk, kind: ImageKind) -> bool:
    """Whether the image is the student's before/after comparison (see ``ShownImage``)."""
    if kind not in ("sample_grid", "other") or image.kind in ("gif", "history_plot",
                                                              "real_preview"):
        return False
    if _trains(chunk):
        return False
    facts = code_facts(chunk.tree if chunk.tree is not None else chunk.raw)
    return any(_COMPARE_WORDS.search(text) for text in facts.strings)


_IMAGE_PATH = re.compile(r"[/\\][^/\\]*\.(png|jpe?g|gif)$", re.IGNORECASE)


def image_dirs(chunk: Chunk) -> list[str]:
    """Folders of the image file paths the cell's string literals name (f-strings too)."""
    out: list[str] = []
    for node in ast.walk(chunk.tree) if chunk.tree else []:
        if isinstance(node, ast.JoinedStr):
            text = "".join(v.value if isinstance(v, ast.Constant) and isinstance(v.value, str)
                           else "{}" for v in node.values)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            text = node.value
        else:
            continue
        text = text.strip().replace("\\", "/")
        if len(text) < 400 and _IMAGE_PATH.search(text):
            folder = text.rsplit("/", 1)[0]
            if folder and folder not in out:
                out.append(folder)
    return out


def _definitions(chunk: Chunk) -> dict[str, str]:
    out = {}
    for stmt in chunk.tree.body if chunk.tree else []:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and \
                _ROLE_NAMES.search(stmt.name):
            out[stmt.name] = chunk.origin()
    return out


def _settings(chunk: Chunk) -> dict[str, str]:
    out = {}
    for stmt in chunk.tree.body if chunk.tree else []:
        if not isinstance(stmt, ast.Assign):
            continue
        names = [t.id for t in stmt.targets if isinstance(t, ast.Name)]
        text = " ".join((ast.get_source_segment(chunk.text, stmt) or "").split())[:120]
        for name in names:
            if _SETTING.search(name) or _OPTIMIZER.search(name):
                out[name] = text
    return out


MAX_CODE_CHARS = 6000


def drawing_code(chunk: Chunk, functions: dict[str, list[ast.AST]]) -> str:
    """The cell's code and the notebook functions it calls (two levels), capped."""
    parts = [chunk.text]
    seen: set[str] = set()
    frontier = {n.split(".")[-1] for n, _ in _top_level_calls(chunk.tree)} & set(functions)
    for _ in range(2):
        nxt: set[str] = set()
        for name in sorted(frontier - seen):
            seen.add(name)
            for node in functions[name]:
                parts.append(ast.unparse(node))
                nxt |= {getattr(c.func, "id", getattr(c.func, "attr", "")) for c in ast.walk(node)
                        if isinstance(c, ast.Call)} & set(functions)
        frontier = nxt
    return "\n".join(parts)[:MAX_CODE_CHARS]


def build_run_map(chunks: list[Chunk], images: list[EmbeddedImage],
                  functions: dict[str, list[ast.AST]] | None = None) -> RunMap:
    """The story of one notebook (its code cells, parsed, with their outputs).

    Args:
        chunks: The notebook's code cells in file order (parsed by intake).
        images: The images intake extracted from those cells' outputs.
        functions: The submission's top-level functions by name (for the drawing code).
    """
    functions = functions or {}
    out = RunMap()
    ordered, out.order, out.notes = execution_order(chunks)
    by_cell = {c.cell: c for c in chunks}
    definitions: dict[str, str] = {}
    seen_in: dict[str, set[str]] = {}
    settings: dict[str, str] = {}
    restored = False
    run_of_cell: dict[int, int | None] = {}
    current: int | None = None
    dirs: list[str] = []  # image folders named since the previous run
    untrained: set[int] = set()  # cells after a builder's redefinition, before it trains
    fresh = False
    for chunk in ordered:
        if chunk.tree is None:
            run_of_cell[chunk.cell or 0] = current
            if fresh:
                untrained.add(chunk.cell or 0)
            continue
        dirs += [d for d in image_dirs(chunk) if d not in dirs]
        new = _definitions(chunk)
        fresh = fresh or any(_GENERATOR_BUILDER.search(name) for name in new)
        for name, where in new.items():
            seen_in.setdefault(name, set()).add(where)
        definitions.update(new)
        settings.update(_settings(chunk))
        call = _trains(chunk)
        if _restores(chunk) and not call:
            restored = True
        if call:
            fresh = False
        elif fresh:
            untrained.add(chunk.cell or 0)
        if call:
            run = Run(index=len(out.runs), cell=chunk.cell or 0, origin=chunk.origin(),
                      execution_count=chunk.execution_count, call=call,
                      definitions=dict(definitions), settings=dict(settings),
                      continues=(restored or _restores(chunk)) and bool(out.runs),
                      save_dirs=dirs[:20])
            dirs = []
            out.runs.append(run)
            current = run.index
            restored = False
        run_of_cell[chunk.cell or 0] = current
    position = {c.cell: i for i, c in enumerate(ordered)}
    for img in sorted(images, key=lambda i: (position.get(i.cell, 1 << 30), i.output)):
        chunk = by_cell.get(img.cell)
        run = run_of_cell.get(img.cell)
        if chunk is None:
            continue
        kind, reason = _image_kind(img, chunk, run is None or img.cell in untrained)
        out.images.append(ShownImage(file=img.file, origin=f"{img.notebook} cell {img.cell} "
                                     f"output {img.output}", cell=img.cell, output=img.output,
                                     execution_count=img.execution_count, kind=kind, run=run,
                                     reason=reason, code=drawing_code(chunk, functions)
                                     if kind in ("sample_grid", "history_plot") else "",
                                     compare=_compares(img, chunk, kind)))
    for i, shown in enumerate(out.images):
        if shown.run is None:
            continue
        run = out.runs[shown.run]
        if shown.compare:
            if out.runs and shown.run == len(out.runs) - 1:
                out.comparison = i
        elif shown.kind == "sample_grid":
            run.final_grid = i
        elif shown.kind == "history_plot":
            run.final_history = i
        elif shown.kind == "gif":
            run.gif = i
    out.redefined = sorted(n for n, cells in seen_in.items() if len(cells) > 1)
    _choose_pair(out)
    return out


def _differences(a: Run, b: Run) -> tuple[list[str], list[str]]:
    """(code changes, training changes) from run ``a`` to run ``b``."""
    code = [f"{name} redefined in {where}" for name, where in sorted(b.definitions.items())
            if a.definitions.get(name) not in (None, where)]
    code += [f"{name} added in {where}" for name, where in sorted(b.definitions.items())
             if name not in a.definitions]
    training = [f"{name}: {a.settings.get(name, '(unset)')} -> {text}"
                for name, text in sorted(b.settings.items())
                if a.settings.get(name) != text and name in a.settings]
    if a.call != b.call:
        training.append(f"training call: {a.call} -> {b.call}")
    return code, training


def _choose_pair(out: RunMap) -> None:
    """Final: the last run; baseline: the run it continues, else the last one that differs."""
    if not out.runs:
        out.notes.append("no cell that trains was found")
        return
    final = out.runs[-1]
    out.final = final.index
    earlier = out.runs[:-1]
    if final.continues and earlier:
        base = earlier[-1]
        code, training = _differences(base, final)
        training.insert(0, f"training continued from a restored checkpoint ({final.origin})")
        out.baseline, out.changes = base.index, code + training
        out.change_kind = "code+training" if code else "training"
        return
    for base in reversed(earlier):
        code, training = _differences(base, final)
        if code or training:
            out.baseline = base.index
            out.changes = code + training
            out.change_kind = "+".join(k for k, v in (("code", code), ("training", training))
                                       if v)
            return
        out.notes.append(f"run {base.index + 1} used the same code and settings as the final "
                         "run: it is a repetition, not a baseline")
