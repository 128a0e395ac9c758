"""``load_submission``: a path (folder, notebook, script or zip) -> a plain :class:`Submission`."""

from __future__ import annotations

import ast
from pathlib import Path

from grader.intake.archive import unpack_zip
from grader.intake.artifacts import collect_artifacts
from grader.intake.candidates import find_candidates
from grader.intake.chunks import Chunk, parse_chunk
from grader.intake.embedded import extract_embedded
from grader.intake.encoding import decode_source
from grader.intake.notebook import read_notebook
from grader.intake.references import collect_references, missing_references
from grader.intake.runs import build_run_map
from grader.intake.select import Selector
from grader.intake.sources import (
    MAX_CODE_FILES,
    MAX_FILE_BYTES,
    MAX_PY_BYTES,
    FileEntry,
    Walk,
    py_chunks,
    walk_submission,
)
from grader.intake.submission import (
    CellFailure,
    Dropped,
    Submission,
    SubmissionError,
    SubmissionNotFound,
)
from grader.text import Msg

REASON_IPYTHON = "IPython magic or shell"
REASON_SHELL_CELL = "non-Python cell magic"
_GEN_TARGET = ("generator", "gen", "g", "g_model")


def load_submission(path: Path, work_dir: Path) -> Submission:
    """Read a submission without executing any of it.

    Args:
        path: A folder, a ``.ipynb``, a ``.py`` or a ``.zip`` of a folder.
        work_dir: A folder this submission may write to (unpacked zip, embedded images,
            copies of small result images).

    Returns:
        The :class:`Submission`; problems in the student's files are recorded in it
        (``cell_failures``, ``warnings``), never raised.

    Raises:
        SubmissionError: The path does not exist, is of an unknown type, is a zip that is
            refused as a whole, or holds no notebook or ``.py`` file at all.
    """
    path, work_dir = Path(path), Path(work_dir)
    sub, walk = _open(path, work_dir)
    code_files = walk.code_files()
    if not code_files:
        raise SubmissionError(Msg(
            f"No notebook (.ipynb) or Python (.py) file was found in {path.name}; "
            "submit your notebook.",
            f"{path.name}에서 노트북(.ipynb)이나 파이썬(.py) 파일을 찾지 못했습니다. 노트북을 "
            "제출해 주세요."), str(path))
    if len(code_files) > MAX_CODE_FILES:
        sub.warnings.append(Msg(
            f"Only the first {MAX_CODE_FILES} of {len(code_files)} code files were read.",
            f"코드 파일 {len(code_files)}개 중 처음 {MAX_CODE_FILES}개만 읽었습니다."))
        code_files = code_files[:MAX_CODE_FILES]
    notebooks: list[list[Chunk]] = []
    chunks: list[Chunk] = []
    for entry in code_files:
        file_chunks = _read_code_file(entry, sub)
        if entry.rel.lower().endswith(".ipynb"):
            notebooks.append(file_chunks)
        chunks += file_chunks
    for chunk in chunks:
        _record_parse(parse_chunk(chunk), sub)
    defs = {s.name for c in chunks if c.tree for s in c.tree.body
            if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}
    selector = Selector(defs)
    for chunk in chunks:
        selector.select(chunk)
    sub.code_units, sub.dropped = selector.units, sub.dropped + selector.dropped
    if not any(u.kind in ("function", "class") for u in sub.code_units):
        sub.warnings.append(Msg("No function definitions were found in the code.",
                                 "코드에서 함수 정의를 찾지 못했습니다."))
    _embedded(sub, notebooks, chunks, work_dir)
    _collect_artifacts(sub, walk, work_dir)
    refs = collect_references(chunks)
    sub.missing_artifacts = missing_references(refs, [f.rel for f in walk.files], walk.dirs)
    return sub


def load_artifacts_only(path: Path, work_dir: Path) -> Submission:
    """The artifacts of a folder or zip that :func:`load_submission` refused for lack of code.

    A student who forgot the notebook still gets their sample images, GIF and plots judged.

    Raises:
        SubmissionError: As :func:`load_submission` for a missing path, a refused zip or a
            single file (which has no artifacts).
    """
    path, work_dir = Path(path), Path(work_dir)
    sub, walk = _open(path, work_dir)
    _collect_artifacts(sub, walk, work_dir)
    return sub


def _collect_artifacts(sub: Submission, walk: Walk, work_dir: Path) -> None:
    """Add the files of a folder or zip as artifacts, before any found in notebook outputs."""
    if sub.kind in ("folder", "zip"):
        found = collect_artifacts(walk.files, work_dir)
        sub.artifacts = found.artifacts + sub.artifacts
        sub.artifact_sizes.update(found.sizes)
        sub.warnings += found.warnings


def _open(path: Path, work_dir: Path) -> tuple[Submission, Walk]:
    """The submission record and its file walk (zips unpacked into ``work_dir``)."""
    if not path.exists():
        raise SubmissionNotFound(Msg(f"The submission {path.name or path} was not found.",
                                   f"제출물 {path.name or path}을(를) 찾을 수 없습니다."),
                                 str(path))
    work_dir.mkdir(parents=True, exist_ok=True)
    suffix = path.suffix.lower()
    if path.is_dir():
        sub = Submission(name=path.resolve().name, root=path.resolve(), kind="folder")
        walk = walk_submission(path, exclude=work_dir)
    elif suffix == ".zip":
        unpacked = unpack_zip(path, work_dir / "unpacked")
        sub = Submission(name=path.stem, root=unpacked.root, kind="zip", warnings=unpacked.warnings)
        walk = walk_submission(unpacked.root)
    elif suffix in (".ipynb", ".py"):
        kind = "notebook" if suffix == ".ipynb" else "script"
        sub = Submission(name=path.stem, root=path.resolve().parent, kind=kind)
        walk = Walk(files=[FileEntry(path.name, path, path.stat().st_size)])
    else:
        raise SubmissionError(Msg(
            f"{path.name} is not a notebook (.ipynb), a Python file (.py), a folder "
            "or a .zip; submit one of those.",
            f"{path.name}은(는) 노트북(.ipynb), 파이썬 파일(.py), 폴더, .zip 중 어느 것도 "
            "아닙니다. 이 중 하나로 제출해 주세요."), str(path))
    sub.warnings += walk.warnings
    return sub, walk


def _read_code_file(entry: FileEntry, sub: Submission) -> list[Chunk]:
    is_notebook = entry.rel.lower().endswith(".ipynb")
    limit = MAX_FILE_BYTES if is_notebook else MAX_PY_BYTES
    if entry.size > limit:
        sub.warnings.append(Msg(
            f"Skipped {entry.rel}: {entry.size // 2**20} MB is too large for a code file.",
            f"{entry.rel}은(는) 코드 파일로 보기에 너무 커서({entry.size // 2**20} MB) 건너뛰었습니다."))
        return []
    try:
        data = entry.path.read_bytes()
    except OSError as exc:
        sub.cell_failures.append(CellFailure(entry.rel, Msg(f"{entry.rel} could not be read.",
                                                            f"{entry.rel} 파일을 읽을 수 없습니다."),
                                             str(exc)))
        return []
    sub.sources.append(entry.rel)
    if is_notebook:
        nb = read_notebook(data, entry.rel)
        sub.encodings[entry.rel] = nb.encoding
        sub.warnings += nb.warnings
        if nb.failure:
            sub.cell_failures.append(nb.failure)
        return nb.chunks
    decoded = decode_source(data, entry.rel, honour_cookie=True)
    sub.encodings[entry.rel] = decoded.encoding
    if decoded.warning:
        sub.warnings.append(decoded.warning)
    return py_chunks(decoded.text, entry.rel)


def _record_parse(chunk: Chunk, sub: Submission) -> None:
    if chunk.failure:
        sub.cell_failures.append(chunk.failure)
    lines = chunk.raw.split("\n")
    if chunk.dropped_cell is not None:
        sub.dropped.append(Dropped(chunk.origin(), chunk.unit_line(1), REASON_SHELL_CELL,
                                   f"%%{chunk.dropped_cell}"))
        return
    for line, _what in chunk.removed:
        preview = lines[line - 1].strip()[:80] if line <= len(lines) else ""
        sub.dropped.append(Dropped(chunk.origin(line), chunk.unit_line(line), REASON_IPYTHON, preview))


def _embedded(sub: Submission, notebooks: list[list[Chunk]], chunks: list[Chunk], work_dir: Path) -> None:
    functions: dict[str, list[ast.AST]] = {}
    for chunk in chunks:
        for stmt in chunk.tree.body if chunk.tree else []:
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                functions.setdefault(stmt.name, []).append(stmt)
    gen_names = {n for u in sub.code_units if u.kind == "model_build" for n in u.names
                 if n.lower() in _GEN_TARGET or "generator" in n.lower()}
    gen_names |= {c.name for c in find_candidates(sub.code_units, "generator") if c.confidence >= 0.6}
    for index, nb_chunks in enumerate(notebooks):
        prefix = "" if len(notebooks) == 1 else f"nb{index + 1}_"
        result = extract_embedded(nb_chunks, work_dir, prefix=prefix, functions=functions,
                                  generator_names=gen_names)
        sub.embedded += result.images
        sub.artifacts += result.artifacts
        sub.warnings += result.warnings
        story = build_run_map(nb_chunks, result.images, functions)
        best = sub.run_map
        if best is None or len(story.images) + 10 * len(story.runs) > \
                len(best["images"]) + 10 * len(best["runs"]):
            sub.run_map = story.to_dict()
