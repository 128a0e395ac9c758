"""Read a Jupyter notebook (v3 or v4, any encoding) into code chunks in file order."""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass, field

from grader.intake.chunks import Chunk
from grader.intake.encoding import decode_source
from grader.intake.submission import CellFailure
from grader.text import Msg


@dataclass
class NotebookRead:
    """The code cells of one notebook, or why it could not be read."""

    chunks: list[Chunk] = field(default_factory=list)
    encoding: str = "utf-8"
    warnings: list[Msg] = field(default_factory=list)
    failure: CellFailure | None = None
    """Set when the file is not a notebook at all (not JSON, wrong structure)."""
    cell_count: int = 0


def read_notebook(data: bytes, rel: str) -> NotebookRead:
    """Turn the bytes of an ``.ipynb`` file into one chunk per non-empty code cell.

    Code is kept in file order; each chunk records its cell number (1-based, counting
    markdown cells too) and the ``execution_count`` saved in the notebook.

    Args:
        data: The raw file content.
        rel: The file's path relative to the submission root (used in origins).

    Returns:
        A :class:`NotebookRead`; it never raises for a malformed notebook.
    """
    import nbformat  # only intake needs it; keep ``grade --help`` light

    decoded = decode_source(data, rel)
    result = NotebookRead(encoding=decoded.encoding)
    if decoded.warning:
        result.warnings.append(decoded.warning)
    if not decoded.text.strip():
        result.failure = _not_a_notebook(rel, "the file is empty")
        return result
    captured: dict = {}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                nb = nbformat.reads(decoded.text, as_version=4, capture_validation_error=captured)
            except nbformat.ValidationError:  # e.g. a cell without "outputs": fill in and retry
                nb = nbformat.reads(_repaired(decoded.text), as_version=4,
                                    capture_validation_error=captured)
                result.warnings.append(Msg(f"{rel} had missing notebook fields; they were filled in.",
                                           f"{rel}에 빠진 노트북 항목이 있어 채워 넣었습니다."))
    except Exception as exc:  # NotJSONError, ValidationError, KeyError, ...: all mean "not a notebook"
        result.failure = _not_a_notebook(rel, f"{type(exc).__name__}: {str(exc)[:300]}")
        return result
    if captured.get("ValidationError") is not None:
        result.warnings.append(Msg(f"{rel} does not fully follow the notebook format; "
                                    "it was read as far as possible.",
                                    f"{rel}이(가) 노트북 형식을 완전히 따르지 않아 읽을 수 있는 "
                                    "만큼 읽었습니다."))
    cells = nb.get("cells") or []
    result.cell_count = len(cells)
    for number, cell in enumerate(cells, start=1):
        if isinstance(cell, dict) and cell.get("cell_type") == "markdown":
            shown = _attached_gifs(cell)
            if shown:  # a GIF dragged into a markdown cell is shown in the notebook
                result.chunks.append(Chunk(file=rel, raw="", cell=number, outputs=shown))
            continue
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        if isinstance(source, list):
            source = "".join(str(s) for s in source)
        source = str(source).replace("\r\n", "\n")
        count = cell.get("execution_count")
        outputs = cell.get("outputs") or []
        if not source.strip() and not outputs:
            continue
        result.chunks.append(Chunk(file=rel, raw=source, cell=number,
                                   execution_count=count if isinstance(count, int) else None,
                                   outputs=list(outputs)))
    if not any(c.raw.strip() for c in result.chunks):
        result.warnings.append(Msg(f"{rel} has no code cells with code in them.",
                                    f"{rel}에 코드가 들어 있는 코드 셀이 없습니다."))
    return result


def _attached_gifs(cell: dict) -> list[dict]:
    """A markdown cell's GIF attachments as display outputs (``![](attachment:x.gif)``).

    Only GIFs: a GIF is recognised by its bytes alone, while a PNG in a markdown cell has
    no code that says what it shows.
    """
    attachments = cell.get("attachments")
    if not isinstance(attachments, dict):
        return []
    out = []
    for bundle in list(attachments.values())[:20]:
        if isinstance(bundle, dict) and "image/gif" in bundle:
            out.append({"output_type": "display_data", "data": {"image/gif": bundle["image/gif"]},
                        "metadata": {}})
    return out


def _repaired(text: str) -> str:
    """The notebook JSON with the keys nbformat insists on filled with empty values."""
    raw = json.loads(text)
    if not isinstance(raw, dict):
        raise ValueError("the notebook JSON is not an object")
    raw.setdefault("metadata", {})
    sheets = raw.get("worksheets") or [raw]
    for sheet in sheets:
        for cell in sheet.get("cells", []) if isinstance(sheet, dict) else []:
            if not isinstance(cell, dict):
                continue
            cell.setdefault("metadata", {})
            if cell.get("cell_type") == "code":
                cell.setdefault("outputs", [])
                if raw.get("nbformat", 4) >= 4:
                    cell.setdefault("execution_count", None)
                    cell.setdefault("source", "")
                else:
                    cell.setdefault("input", "")
                    cell.setdefault("language", "python")
            else:
                cell.setdefault("source", "")
    return json.dumps(raw)


def _not_a_notebook(rel: str, detail: str) -> CellFailure:
    return CellFailure(
        origin=rel,
        message=Msg(f"{rel} could not be read as a Jupyter notebook, so none of its code was "
                    "graded. Open it in Jupyter, save it again and resubmit.",
                    f"{rel} 파일을 주피터 노트북으로 읽을 수 없어 코드를 채점하지 못했습니다. "
                    "주피터에서 다시 저장한 뒤 제출해 주세요."),
        detail=detail,
    )
