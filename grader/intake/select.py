"""Choose which top-level statements the sandbox may run: imports, definitions, cheap assignments.

Kept: imports; function and class definitions (decorators included); assignments whose value
is cheap (constants, arithmetic of names already kept, loss/optimizer/initializer objects,
``tf.random.normal`` seeds); model construction (``generator = make_generator_model()``)
when the callee is defined in the submission; and a model stacked at the top level, as the
course notes' ``train_on_batch`` lesson does (``generator = Sequential()`` followed by
``generator.add(Dense(...))``, or ``Sequential([layers...])``). Everything else (data
loading, training, loops, plotting, file I/O) is dropped and counted with a short reason.
"""

from __future__ import annotations

import ast
import builtins
import re

from grader.intake.chunks import Chunk
from grader.intake.submission import CodeUnit, Dropped

REASON_MAIN = "main block"
REASON_LOOP = "loop"
REASON_TRAINING = "training"
REASON_DATA = "data loading"
REASON_FILE_IO = "file I/O"
REASON_CHECKPOINT = "checkpoint"
REASON_PLOT = "plotting or display"
REASON_MODEL_RUN = "runs a model"
REASON_BLOCK = "control block"
REASON_EXPRESSION = "expression"
REASON_ASSIGN = "other assignment"
REASON_OTHER = "other statement"
REASON_TOO_DEEP = "too deeply nested"

#: path parts of callables that build cheap objects (losses, optimizers, initializers, ...)
_OBJECT_MODULES = frozenset({"losses", "optimizers", "initializers", "regularizers",
                             "constraints", "schedules", "legacy"})
#: bare class names (after ``from ... import Adam``) that build cheap objects
_OBJECT_CLASSES = frozenset({
    "BinaryCrossentropy", "CategoricalCrossentropy", "MeanSquaredError", "MeanAbsoluteError",
    "Hinge", "Adam", "AdamW", "RMSprop", "SGD", "Nadam", "Adagrad", "Adadelta", "Adamax",
    "RandomNormal", "RandomUniform", "TruncatedNormal", "GlorotUniform", "GlorotNormal",
    "HeNormal", "HeUniform", "Zeros", "Ones", "Constant", "ExponentialDecay", "L2", "L1",
})
_RANDOM_FUNCS = frozenset({"normal", "uniform", "truncated_normal", "randn", "rand", "from_seed"})
_PURE_BUILTINS = frozenset({"int", "float", "str", "bool", "round", "min", "max", "abs", "len",
                            "tuple", "list", "dict", "range", "pow", "sum"})
_MODEL_FUNC = re.compile(r"model|generator|discriminator|gan|critic|^(build|make|create|get)_",
                         re.IGNORECASE)
_MODEL_TARGET = re.compile(r"^(generator|discriminator|gen|disc|critic|g|d|gan.*|.*model.*|"
                           r".*_gen|.*_disc|.*generator.*|.*discriminator.*)$", re.IGNORECASE)
_NOT_BUILDER = re.compile(r"train|load|fit|plot|draw|show|save|restore|display|^generate_and",
                          re.IGNORECASE)

_TRAIN_CALLS = frozenset({"fit", "fit_generator", "train_on_batch", "train_step", "gan_train",
                          "train_gan", "train_GAN"})
_DATA_CALLS = frozenset({"load_data", "from_tensor_slices", "image_dataset_from_directory",
                         "flow_from_directory", "ImageDataGenerator", "load", "read_csv",
                         "imread", "loadtxt", "listdir", "fromarray", "load_img"})
_IO_CALLS = frozenset({"open", "savefig", "save", "save_weights", "makedirs", "mkdir", "remove",
                       "rmtree", "get_writer", "mimsave", "imwrite", "imsave", "copy", "glob",
                       "write", "dump", "system", "rename", "chdir", "embed_file", "mount"})
_CKPT_CALLS = frozenset({"restore", "Checkpoint", "CheckpointManager", "latest_checkpoint",
                         "expect_partial"})
_PLOT_ROOTS = frozenset({"plt", "matplotlib", "pyplot", "sns", "display", "IPython", "rcParams"})
_PLOT_CALLS = frozenset({"imshow", "show", "subplot", "subplots", "figure", "plot", "title",
                         "summary", "clear_output", "Image", "print", "plot_model", "axis",
                         "colorbar", "legend"})


def dotted_name(node: ast.AST) -> str | None:
    """``tf.keras.losses.BinaryCrossentropy`` for an Attribute/Name chain, else ``None``."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


class Selector:
    """Walks chunks in file order and keeps or drops each top-level statement."""

    def __init__(self, submission_defs: set[str]) -> None:
        self.submission_defs = submission_defs
        """Names of every top-level function and class defined anywhere in the submission."""
        self.known: set[str] = set()
        self.imported: set[str] = set()
        self.keras: set[str] = set()
        """Imported names that come from TensorFlow or Keras (``tf``, ``layers``, ``Dense``)."""
        self.units: list[CodeUnit] = []
        self.dropped: list[Dropped] = []
        self.stacked: set[str] = set()
        """Top-level names bound to ``Sequential(...)``: their ``.add(layer)`` calls are kept."""

    def select(self, chunk: Chunk) -> None:
        """Keep or drop each top-level statement of a parsed chunk."""
        if chunk.tree is None:
            return
        lines = chunk.text.split("\n")
        for stmt in chunk.tree.body:
            if isinstance(stmt, ast.Pass):  # stands in for a stripped magic line (counted there)
                continue
            try:
                unit = self._keep(stmt, chunk, lines)
                reason = self._drop_reason(stmt) if unit is None else ""
            except RecursionError:  # absurdly nested expressions: not worth running
                unit, reason = None, REASON_TOO_DEEP
            if unit is None:
                preview = lines[stmt.lineno - 1].strip()[:80] if stmt.lineno <= len(lines) else ""
                self.dropped.append(Dropped(chunk.origin(stmt.lineno), chunk.unit_line(stmt.lineno),
                                            reason, preview))
                continue
            unit.order = len(self.units)
            self.units.append(unit)
            self.known.update(n for n in unit.names if n != "*")

    def _keep(self, stmt: ast.stmt, chunk: Chunk, lines: list[str]) -> CodeUnit | None:
        if isinstance(stmt, (ast.Import, ast.ImportFrom)):
            names = _import_names(stmt)
            self.imported.update(names)
            self.keras.update(_keras_names(stmt))
            return self._unit(stmt, chunk, lines, "import", names)
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            kind = "class" if isinstance(stmt, ast.ClassDef) else "function"
            unit = self._unit(stmt, chunk, lines, kind, [stmt.name])
            unit.name = stmt.name
            unit.decorators = [ast.unparse(d) for d in stmt.decorator_list]
            unit.params, unit.required_params = _signature(stmt)
            return unit
        stacked = self._stacked_layer(stmt)
        if stacked:
            return self._unit(stmt, chunk, lines, "assign", [stacked])
        targets, value = _assignment(stmt)
        if targets is None or value is None:
            return None
        if len(targets) == 1 and _MODEL_TARGET.match(targets[0]) and self._sequential(value):
            self.stacked.add(targets[0])
            return self._unit(stmt, chunk, lines, "assign", targets)
        self.stacked.difference_update(targets)  # rebound to something else
        if isinstance(stmt, ast.AugAssign) and not set(targets) <= self.known:
            return None
        callee = self._model_builder(value, targets)
        if callee:
            unit = self._unit(stmt, chunk, lines, "model_build", targets)
            unit.calls = callee
            return unit
        if self._cheap(value):
            return self._unit(stmt, chunk, lines, "assign", targets)
        return None

    def _unit(self, stmt: ast.stmt, chunk: Chunk, lines: list[str], kind: str,
              names: list[str]) -> CodeUnit:
        decorators = getattr(stmt, "decorator_list", [])
        start = min([stmt.lineno] + [d.lineno for d in decorators])
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            source = "\n".join(lines[start - 1: stmt.end_lineno])
        else:
            source = ast.get_source_segment(chunk.text, stmt) or ast.unparse(stmt)
        return CodeUnit(source=source, origin=chunk.origin(start), kind=kind,  # type: ignore[arg-type]
                        names=list(names), file=chunk.file, line=chunk.unit_line(start),
                        cell=chunk.cell, execution_count=chunk.execution_count)

    def _model_builder(self, value: ast.expr, targets: list[str]) -> str | None:
        if not (isinstance(value, ast.Call) and isinstance(value.func, ast.Name)):
            return None
        name = value.func.id
        if name not in self.submission_defs or _NOT_BUILDER.search(name):
            return None
        if not (_MODEL_FUNC.search(name) or any(_MODEL_TARGET.match(t) for t in targets)):
            return None
        args = list(value.args) + [k.value for k in value.keywords]
        if any(k.arg is None for k in value.keywords) or not all(self._cheap(a) for a in args):
            return None
        return name

    def _sequential(self, value: ast.expr) -> bool:
        """``Sequential()``, ``keras.Sequential([layer, ...])`` with layer constructors only."""
        if not isinstance(value, ast.Call):
            return False
        name = dotted_name(value.func) or ""
        parts = name.split(".")
        if parts[-1] != "Sequential" or parts[0] not in self.keras:
            return False
        return all(self._layer_or_cheap(a) for a in [*value.args, *(k.value for k in
                                                                       value.keywords)])

    def _stacked_layer(self, stmt: ast.stmt) -> str | None:
        """The model name of ``model.add(Layer(...))`` on a stacked model (else None)."""
        if not (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call)):
            return None
        call = stmt.value
        func = call.func
        if not (isinstance(func, ast.Attribute) and func.attr == "add"
                and isinstance(func.value, ast.Name) and func.value.id in self.stacked):
            return None
        if len(call.args) != 1 or call.keywords or not self._layer_call(call.args[0]):
            return None
        return func.value.id

    def _layer_call(self, node: ast.AST) -> bool:
        """A layer constructor (``Dense(8)``, ``layers.Conv2D(...)``) with cheap arguments: a
        capitalised name reached from a TensorFlow or Keras import (not any imported class)."""
        if not isinstance(node, ast.Call) or any(k.arg is None for k in node.keywords):
            return False
        name = dotted_name(node.func) or ""
        parts = name.split(".")
        if not name or parts[0] not in self.keras or not parts[-1][:1].isupper():
            return False
        return all(self._layer_or_cheap(a) for a in [*node.args, *(k.value for k in
                                                                     node.keywords)])

    def _layer_or_cheap(self, node: ast.AST) -> bool:
        if isinstance(node, (ast.List, ast.Tuple)):
            return all(self._layer_or_cheap(e) for e in node.elts)
        return self._layer_call(node) or self._cheap(node)

    def _cheap(self, node: ast.AST) -> bool:
        """True for values that are quick to compute and need nothing the sandbox lacks."""
        if isinstance(node, ast.Constant):
            return True
        if isinstance(node, ast.Name):
            return node.id in self.known or node.id in ("None", "True", "False")
        if isinstance(node, ast.Attribute):
            root = dotted_name(node)
            return root is not None and root.split(".")[0] in self.imported
        if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
            return all(self._cheap(e) for e in node.elts)
        if isinstance(node, ast.Dict):
            return None not in node.keys and all(self._cheap(n) for n in [*node.keys, *node.values])
        if isinstance(node, ast.UnaryOp):
            return self._cheap(node.operand)
        if isinstance(node, (ast.BinOp, ast.BoolOp, ast.Compare, ast.IfExp, ast.Subscript,
                             ast.JoinedStr, ast.FormattedValue, ast.Slice)):
            return all(self._cheap(c) for c in ast.iter_child_nodes(node)
                       if not isinstance(c, (ast.operator, ast.boolop, ast.cmpop, ast.unaryop,
                                             ast.expr_context)))
        if isinstance(node, ast.Call):
            return self._cheap_call(node)
        return False

    def _cheap_call(self, node: ast.Call) -> bool:
        name = dotted_name(node.func)
        if name is None or any(k.arg is None for k in node.keywords):
            return False
        parts = name.split(".")
        if len(parts) == 1:
            ok = (name in _PURE_BUILTINS and hasattr(builtins, name)) or (
                name in _OBJECT_CLASSES and name in self.known)
        else:
            ok = parts[0] in self.imported and (
                bool(_OBJECT_MODULES & set(parts[1:-1])) or parts[-1] in _OBJECT_CLASSES
                or ("random" in parts and parts[-1] in _RANDOM_FUNCS))
        args = list(node.args) + [k.value for k in node.keywords]
        return ok and all(self._cheap(a) for a in args)

    def _drop_reason(self, stmt: ast.stmt) -> str:
        if isinstance(stmt, ast.If) and _is_main_guard(stmt):
            return REASON_MAIN
        if isinstance(stmt, (ast.For, ast.AsyncFor, ast.While)):
            return REASON_LOOP
        category = self._call_category(stmt)
        if category:
            return category
        if isinstance(stmt, (ast.If, ast.With, ast.AsyncWith, ast.Try)) or type(stmt).__name__ == "TryStar":
            return REASON_BLOCK
        if isinstance(stmt, ast.Expr):
            return REASON_EXPRESSION
        if isinstance(stmt, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
            return REASON_ASSIGN
        return REASON_OTHER

    def _call_category(self, stmt: ast.stmt) -> str | None:
        found: set[str] = set()
        for node in ast.walk(stmt):
            if not isinstance(node, ast.Call):
                continue
            name = dotted_name(node.func) or ""
            parts = name.split(".") if name else [getattr(node.func, "attr", "")]
            last, root = parts[-1], parts[0]
            if last in _TRAIN_CALLS or last.lower().startswith("train"):
                found.add(REASON_TRAINING)
            elif last in _DATA_CALLS:
                found.add(REASON_DATA)
            elif last in _CKPT_CALLS:
                found.add(REASON_CHECKPOINT)
            elif last in _IO_CALLS or root in ("os", "shutil", "glob", "imageio", "pathlib"):
                found.add(REASON_FILE_IO)
            elif root in _PLOT_ROOTS or last in _PLOT_CALLS:
                found.add(REASON_PLOT)
            elif name and root in self.known and root not in self.imported:
                found.add(REASON_MODEL_RUN)
        for reason in (REASON_TRAINING, REASON_CHECKPOINT, REASON_FILE_IO, REASON_DATA,
                       REASON_PLOT, REASON_MODEL_RUN):
            if reason in found:
                return reason
        return None


def _import_names(stmt: ast.Import | ast.ImportFrom) -> list[str]:
    names = []
    for alias in stmt.names:
        if alias.name == "*":
            names.append("*")
        elif alias.asname:
            names.append(alias.asname)
        else:
            names.append(alias.name.split(".")[0] if isinstance(stmt, ast.Import) else alias.name)
    return names


#: top-level packages whose classes may build layers at the top level of a notebook
KERAS_ROOTS = frozenset({"tensorflow", "keras", "tf_keras"})


def _keras_names(stmt: ast.Import | ast.ImportFrom) -> list[str]:
    """The names an import binds that come from TensorFlow or Keras (:data:`KERAS_ROOTS`)."""
    if isinstance(stmt, ast.ImportFrom):
        from_keras = stmt.level == 0 and (stmt.module or "").split(".")[0] in KERAS_ROOTS
        return [n for n in _import_names(stmt) if n != "*"] if from_keras else []
    return [alias.asname or alias.name.split(".")[0] for alias in stmt.names
            if alias.name.split(".")[0] in KERAS_ROOTS]


def _signature(stmt: ast.stmt) -> tuple[list[str], int]:
    if isinstance(stmt, ast.ClassDef):
        init = next((s for s in stmt.body if isinstance(s, ast.FunctionDef) and s.name == "__init__"), None)
        if init is None:
            return [], 0
        params, required = _signature(init)
        return params[1:], max(0, required - 1)
    args = stmt.args  # type: ignore[attr-defined]
    positional = [a.arg for a in [*args.posonlyargs, *args.args]]
    keyword = [a.arg for a in args.kwonlyargs]
    required = len(positional) - len(args.defaults) + sum(d is None for d in args.kw_defaults)
    return positional + keyword, required


def _assignment(stmt: ast.stmt) -> tuple[list[str] | None, ast.expr | None]:
    """Target names and value of a simple assignment; ``(None, None)`` for anything else."""
    if isinstance(stmt, ast.Assign):
        names: list[str] = []
        for target in stmt.targets:
            got = _target_names(target)
            if got is None:
                return None, None
            names += got
        return names, stmt.value
    if isinstance(stmt, (ast.AugAssign, ast.AnnAssign)) and stmt.value is not None:
        got = _target_names(stmt.target)
        return (got, stmt.value) if got else (None, None)
    return None, None


def _target_names(target: ast.expr) -> list[str] | None:
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, (ast.Tuple, ast.List)):
        names = [_target_names(e) for e in target.elts]
        if any(n is None for n in names):
            return None
        return [x for n in names for x in n]  # type: ignore[union-attr]
    return None


def _is_main_guard(stmt: ast.If) -> bool:
    test = stmt.test
    return (isinstance(test, ast.Compare) and isinstance(test.left, ast.Name)
            and test.left.id == "__name__")
