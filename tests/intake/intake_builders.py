"""Builders for intake tests: notebooks and images made in temporary folders."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import nbformat
from PIL import Image


def png_bytes(width: int = 40, height: int = 40, fmt: str = "PNG") -> bytes:
    """A small solid image of the given size (PNG, GIF or JPEG)."""
    buf = io.BytesIO()
    Image.new("RGB", (width, height), (120, 30, 200)).save(buf, format=fmt)
    return buf.getvalue()


def image_output(data: bytes, mime: str = "image/png") -> nbformat.NotebookNode:
    """A ``display_data`` output holding one base64 image."""
    return nbformat.v4.new_output("display_data", data={mime: base64.b64encode(data).decode(),
                                                         "text/plain": "<Figure>"})


def notebook(cells: list, path: Path) -> Path:
    """Write a v4 notebook; a cell is source text, or (source, execution_count, outputs)."""
    nb = nbformat.v4.new_notebook()
    for cell in cells:
        if isinstance(cell, str) and cell.startswith("#md "):
            nb.cells.append(nbformat.v4.new_markdown_cell(cell[4:]))
            continue
        source, count, outputs = (cell, None, []) if isinstance(cell, str) else cell
        nb.cells.append(nbformat.v4.new_code_cell(source, execution_count=count, outputs=outputs))
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path
