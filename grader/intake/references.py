"""Output paths the code writes to (``savefig``, GIF writers, checkpoints) and which are missing.

Paths are evaluated from string literals, f-strings, ``.format``, ``%``, ``+`` and
``os.path.join`` with ``os.getenv('HOME')`` read as ``~``; unknown parts become ``*``.
``~/aiffel/dcgan_newimage/cifar10/generated_samples/x.png`` is reported by its tail
``generated_samples/x.png``. A missing path is a note for the report, never an error.
"""

from __future__ import annotations

import ast
import fnmatch
import re
from dataclasses import dataclass
from pathlib import PurePosixPath

from grader.intake.chunks import Chunk
from grader.intake.select import dotted_name

_FILE_WRITERS = frozenset({"savefig", "get_writer", "mimsave", "mimwrite", "imwrite", "imsave",
                           "save_img", "to_csv"})
_DIR_MAKERS = frozenset({"makedirs", "mkdir"})
_HOME_CALLS = frozenset({"os.getenv", "os.environ.get", "getenv"})
_HOME_PREFIXES = (r"^~/", r"^/home/[^/]+/", r"^/root/", r"^/content/(g?drive)/(my ?drive)/",
                  r"^/content/", r"^/aiffel/aiffel/", r"^aiffel/", r"^\./", r"^\*/")


@dataclass(frozen=True)
class Reference:
    """A path the code writes to."""

    path: str
    """Normalised tail, with ``*`` for parts only known at run time."""
    kind: str
    """``file``, ``dir`` or ``ckpt_prefix``."""
    origin: str


def normalise_output_path(path: str) -> str:
    """Reduce a path to the tail a submission folder would hold.

    ``~/aiffel/dcgan_newimage/cifar10/generated_samples/s.png`` -> ``generated_samples/s.png``;
    home-like prefixes (``~``, ``/home/x``, ``/content/drive/MyDrive``) are removed; other
    absolute paths keep their last two parts.
    """
    p = re.sub(r"\*+", "*", path.replace("\\", "/"))
    match = re.search(r"dcgan_newimage/[^/]+/(.+)$", p)
    if match:
        return match.group(1).strip("/")
    changed = True
    while changed:
        before = p
        for pattern in _HOME_PREFIXES:
            p = re.sub(pattern, "", p, flags=re.IGNORECASE)
        changed = p != before
    if p.startswith("/"):
        p = "/".join(p.rstrip("/").split("/")[-2:])
    return p.strip("/")


def collect_references(chunks: list[Chunk]) -> list[Reference]:
    """Find output paths in all parsed chunks (function bodies included), first seen first."""
    env: dict[str, str] = {}
    for chunk in chunks:  # pass 1: module-level string variables, in file order
        for stmt in chunk.tree.body if chunk.tree else []:
            if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
                try:
                    value = evaluate_path(stmt.value, env)
                except RecursionError:
                    continue
                if value is not None:
                    env[stmt.targets[0].id] = value
    visitor = _Visitor(env)
    for chunk in chunks:
        if chunk.tree is not None:
            visitor.origin = chunk.origin()
            try:
                visitor.visit(chunk.tree)
            except RecursionError:  # absurdly nested code: its paths are not worth finding
                visitor.env = dict(env)
    seen: dict[tuple[str, str], Reference] = {}
    for ref in visitor.found:
        if ref.path.strip("*/.") and (ref.path, ref.kind) not in seen:
            seen[(ref.path, ref.kind)] = ref
    return list(seen.values())


def missing_references(refs: list[Reference], files: list[str], dirs: list[str]) -> list[str]:
    """Referenced paths with no match in the submission (by basename pattern)."""
    names = {PurePosixPath(f).name.lower() for f in files}
    folders = {PurePosixPath(d).name.lower() for d in dirs}
    folders |= {part.lower() for f in files for part in PurePosixPath(f).parts[:-1]}
    missing = []
    for ref in refs:
        base = PurePosixPath(ref.path).name.lower()
        if ref.kind == "dir":
            present = any(fnmatch.fnmatchcase(d, base) for d in folders)
        elif ref.kind == "ckpt_prefix":
            present = any(fnmatch.fnmatchcase(n, base + "*") for n in names)
        else:
            present = any(fnmatch.fnmatchcase(n, base) for n in names)
        if not present and ref.path not in missing:
            missing.append(ref.path)
    return missing


def evaluate_path(node: ast.AST, env: dict[str, str]) -> str | None:
    """The string an expression builds, with ``*`` for unknown parts; ``None`` if not a string."""
    if isinstance(node, ast.Constant):
        return node.value if isinstance(node.value, str) else None
    if isinstance(node, ast.Name):
        return env.get(node.id)
    if isinstance(node, ast.JoinedStr):
        parts = []
        for value in node.values:
            if isinstance(value, ast.FormattedValue):
                parts.append(evaluate_path(value.value, env) or "*")
            else:
                parts.append(evaluate_path(value, env) or "")
        return "".join(parts)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = evaluate_path(node.left, env), evaluate_path(node.right, env)
        return None if left is None and right is None else (left or "*") + (right or "*")
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Mod, ast.Div)):
        return _mod_or_div(node, env)
    if isinstance(node, ast.Subscript) and dotted_name(node.value) == "os.environ":
        return "~" if _const(node.slice) == "HOME" else "*"
    if isinstance(node, ast.Call):
        return _call_path(node, env)
    return None


def _mod_or_div(node: ast.BinOp, env: dict[str, str]) -> str | None:
    left = evaluate_path(node.left, env)
    if left is None:
        return None
    if isinstance(node.op, ast.Div):  # pathlib: Path(a) / "b"
        return f"{left}/{evaluate_path(node.right, env) or '*'}"
    args = node.right.elts if isinstance(node.right, ast.Tuple) else [node.right]
    values = iter([evaluate_path(a, env) or "*" for a in args])
    return re.sub(r"%[-+ #0-9.]*[sdifr]", lambda m: next(values, "*"), left)


def _call_path(node: ast.Call, env: dict[str, str]) -> str | None:
    name = dotted_name(node.func) or ""
    if name in _HOME_CALLS:
        return "~" if node.args and _const(node.args[0]) in ("HOME", "USERPROFILE") else "*"
    if name in ("Path.home", "pathlib.Path.home", "os.path.expanduser") and not node.args:
        return "~"
    if name in ("os.path.join", "join", "posixpath.join"):
        parts = [evaluate_path(a, env) or "*" for a in node.args]
        return "/".join(p.rstrip("/") for p in parts) if parts else None
    if name in ("str", "os.path.expanduser", "os.path.abspath", "Path", "pathlib.Path",
                "os.path.normpath") and node.args:
        return evaluate_path(node.args[0], env)
    if isinstance(node.func, ast.Attribute) and node.func.attr == "format":
        template = evaluate_path(node.func.value, env)
        if template is None:
            return None
        args = [evaluate_path(a, env) or "*" for a in node.args]
        kwargs = {k.arg: evaluate_path(k.value, env) or "*" for k in node.keywords if k.arg}
        return _format(template, args, kwargs)
    return None


def _format(template: str, args: list[str], kwargs: dict[str, str]) -> str:
    auto = iter(args)

    def field(match: re.Match[str]) -> str:
        key = match.group(1).split("!")[0].split(".")[0].split("[")[0]
        if key == "":
            return next(auto, "*")
        if key.isdigit():
            return args[int(key)] if int(key) < len(args) else "*"
        return kwargs.get(key, "*")

    return re.sub(r"\{([^{}:]*)(:[^{}]*)?\}", field, template)


def _const(node: ast.AST) -> object:
    return node.value if isinstance(node, ast.Constant) else None


class _Visitor(ast.NodeVisitor):
    def __init__(self, env: dict[str, str]) -> None:
        self.env = dict(env)
        self.found: list[Reference] = []
        self.origin = ""

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        saved, self.env = self.env, dict(self.env)
        self.generic_visit(node)
        self.env = saved

    visit_AsyncFunctionDef = visit_FunctionDef  # type: ignore[assignment]

    def visit_Assign(self, node: ast.Assign) -> None:
        self.generic_visit(node)
        if len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            name, value = node.targets[0].id, evaluate_path(node.value, self.env)
            if value is None:
                return
            self.env[name] = value
            lowered = name.lower()
            if value.lower().endswith(".gif"):
                self._add(value, "file")
            elif "checkpoint" in lowered and lowered.endswith("dir"):
                self._add(value, "dir")

    def visit_Call(self, node: ast.Call) -> None:
        self.generic_visit(node)
        name = dotted_name(node.func) or getattr(node.func, "attr", "")
        last = name.split(".")[-1]
        kw = {k.arg: k.value for k in node.keywords if k.arg}
        first = node.args[0] if node.args else None
        if last in _FILE_WRITERS:
            self._add_node(first or kw.get("fname") or kw.get("uri"), "file")
        elif last in _DIR_MAKERS:
            self._add_node(first or kw.get("name"), "dir")
        elif last == "CheckpointManager":
            self._add_node(node.args[1] if len(node.args) > 1 else kw.get("directory"), "dir")
        elif last in ("save", "save_weights") and (first is not None or "file_prefix" in kw):
            receiver = name.lower()
            is_ckpt = "file_prefix" in kw or "checkpoint" in receiver or "ckpt" in receiver
            self._add_node(kw.get("file_prefix") or first, "ckpt_prefix" if is_ckpt else "file")
        elif last == "open" and len(node.args) > 1 and any(c in str(_const(node.args[1])) for c in "wax"):
            self._add_node(first, "file")

    def _add_node(self, node: ast.AST | None, kind: str) -> None:
        value = evaluate_path(node, self.env) if node is not None else None
        if value is not None:
            self._add(value, kind)

    def _add(self, value: str, kind: str) -> None:
        path = normalise_output_path(value)
        if kind == "file" and not PurePosixPath(path).suffix and kind != "ckpt_prefix":
            kind = "ckpt_prefix" if "ckpt" in path.lower() else "file"
        self.found.append(Reference(path, kind, self.origin))
