"""Images embedded in notebook outputs: decode, write to the work folder, tag by what made them.

A tag comes from the source of the cell that produced the image (``generate_and_save_images``
-> samples, ``train_x[i]`` -> real preview, ``draw_train_history`` -> history plot) and, when
the cell itself says nothing, from the bodies of the submission's functions it calls
(``train(...)`` -> both samples and history). See :func:`decide_kind` for the precedence.
"""

from __future__ import annotations

import ast
import base64
import binascii
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from grader.evidence import Artifact
from grader.intake.chunks import Chunk
from grader.intake.figures.tiles import extract_tiles
from grader.intake.select import dotted_name
from grader.intake.submission import EmbeddedImage
from grader.text import Msg

MAX_IMAGE_BYTES = 20 * 1024 * 1024
MAX_TOTAL_BYTES = 300 * 1024 * 1024
MAX_IMAGES = 1_000
#: a figure at least this much wider than tall is a history plot when the cell also makes samples
HISTORY_ASPECT = 1.6
_MIME_ORDER = ("image/gif", "image/png", "image/jpeg")
_HTML_IMAGE = re.compile(r"""<img\b[^>]*?\bsrc\s*=\s*["']data:(image/(?:gif|png|jpe?g));base64,"""
                         r"""([A-Za-z0-9+/=\s]+)["']""", re.IGNORECASE)
"""An image inlined in an HTML output (``IPython.display.HTML``, ``embed_file``)."""
_MAGIC = {b"\x89PNG": "png", b"GIF8": "gif", b"\xff\xd8\xff": "jpg"}

_DATA_NAME = re.compile(r"^((train|test|real)_?(x|images?|imgs?|data|batch)|x_?(train|test))$",
                        re.IGNORECASE)
_SAMPLE_CALL = re.compile(r"generat|sample", re.IGNORECASE)
_NOT_SAMPLE_CALL = re.compile(r"loss|optimi|datagenerator|history|accuracy", re.IGNORECASE)
_SAMPLE_NAME = re.compile(r"^(predictions?|generated\w*|fake_?im\w*|gen_?im\w*|samples?)$", re.IGNORECASE)
_HISTORY_CALL = re.compile(r"history|plot_loss|plot_acc", re.IGNORECASE)
_LOSS_WORD = re.compile(r"loss|acc", re.IGNORECASE)
_TRAIN_CALL = re.compile(r"^(train\w*|fit|fit_generator|train_on_batch|gan_train)$")


@dataclass
class Facts:
    """Names seen in some code: calls (dotted and last part), subscripted names, names, strings."""

    calls: set[str] = field(default_factory=set)
    subscripted: set[str] = field(default_factory=set)
    names: set[str] = field(default_factory=set)
    strings: set[str] = field(default_factory=set)


@dataclass
class Signals:
    """Evidence for each kind (a short reason per hit)."""

    samples: list[str] = field(default_factory=list)
    real: list[str] = field(default_factory=list)
    history: list[str] = field(default_factory=list)
    gif: list[str] = field(default_factory=list)
    trains: bool = False

    def any(self) -> bool:
        """True when some kind has evidence."""
        return bool(self.samples or self.real or self.history or self.gif)


def code_facts(code: ast.AST | str) -> Facts:
    """Collect facts from a parsed tree, or (for a cell that does not parse) from its text."""
    facts = Facts()
    if isinstance(code, str):
        facts.calls.update(re.findall(r"([A-Za-z_][\w.]*)\s*\(", code))
        facts.subscripted.update(re.findall(r"([A-Za-z_]\w*)\s*\[", code))
        facts.names.update(re.findall(r"[A-Za-z_]\w*", code))
        facts.strings.update(re.findall(r"""['"]([^'"\n]*)['"]""", code))
    else:
        for node in ast.walk(code):
            if isinstance(node, ast.Call):
                name = dotted_name(node.func) or getattr(node.func, "attr", "")
                if name:
                    facts.calls.add(name)
            elif isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name):
                facts.subscripted.add(node.value.id)
            elif isinstance(node, ast.Name):
                facts.names.add(node.id)
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                facts.strings.add(node.value)
    facts.calls |= {c.split(".")[-1] for c in facts.calls}
    return facts


def facts_signals(facts: Facts, generator_names: set[str]) -> Signals:
    """Turn facts into evidence for samples / real preview / history plot / GIF."""
    sig = Signals()
    lasts = {c.split(".")[-1] for c in facts.calls}
    if lasts & {"Image", "embed_file"} and (any(s.lower().endswith(".gif") for s in facts.strings)
                                             or any("gif" in n.lower() or "anim" in n.lower() for n in facts.names)):
        sig.gif.append("displays a GIF file")
    for call in sorted(lasts):
        if call in generator_names:
            sig.samples.append(f"calls {call}()")
        elif _SAMPLE_CALL.search(call) and not _NOT_SAMPLE_CALL.search(call):
            sig.samples.append(f"calls {call}()")
        if _HISTORY_CALL.search(call):
            sig.history.append(f"calls {call}()")
        if _TRAIN_CALL.match(call) and call != "train_test_split":
            sig.trains = True
    sig.samples += [f"uses {n}" for n in sorted(facts.names) if _SAMPLE_NAME.match(n)]
    if "load_data" in lasts or "take" in lasts:
        sig.real.append("loads or takes real data")
    sig.real += [f"shows {n}[...]" for n in sorted(facts.subscripted) if _DATA_NAME.match(n)]
    if "iter" in lasts and any("dataset" in n.lower() for n in facts.names):
        sig.real.append("takes a batch of the data set")
    sig.history += [f"reads {n}[...]" for n in sorted(facts.subscripted) if "history" in n.lower()]
    if "plot" in lasts and any(_LOSS_WORD.search(x) for x in facts.strings | facts.names):
        sig.history.append("plots losses or accuracy")
    return sig


def content_kind(data: bytes) -> str:
    """What the pixels show: ``grid``, ``single``, ``chart`` or ``unknown`` (tile finder)."""
    try:
        from PIL import Image

        with Image.open(io.BytesIO(data)) as im:
            im.seek(0)
            rgb = np.asarray(im.convert("RGB"))
        return extract_tiles(rgb).kind
    except Exception:  # a damaged image: the shape rule decides
        return "unknown"


def decide_kind(direct: Signals, indirect: Signals, *, is_gif: bool, width: int = 0,
                height: int = 0, content: Callable[[], str] | None = None) -> tuple[str, str]:
    """Decide what an embedded image shows.

    Precedence: GIF bytes/mime > the cell displays a ``.gif`` > the cell's own source >
    the functions it calls. Within one level: real and generated evidence together gives
    ``other`` (a real preview must never count as samples); samples and history together
    are told apart by the pixels (``content``: the tile finder sees a grid of images or a
    chart), else by shape (history plots are wide, sample grids roughly square).

    Returns:
        ``(kind, reason)`` with kind in ``gif``, ``real_preview``, ``samples``,
        ``history_plot``, ``other``.
    """
    if is_gif:
        return "gif", "GIF image data"
    if direct.gif:
        return "gif", direct.gif[0]
    for sig, where in ((direct, "cell"), (indirect, "called functions")):
        if not (sig.samples or sig.real or sig.history):
            continue
        if sig.real and sig.samples:
            return "other", f"{where}: mixes real data ({sig.real[0]}) and generated images ({sig.samples[0]})"
        if sig.history and (sig.samples or sig.real):
            seen = content() if content is not None else "unknown"
            if seen == "chart":
                return "history_plot", f"{where}: {sig.history[0]}; the image is a chart"
            if seen in ("grid", "single"):
                other = "samples" if sig.samples else "real_preview"
                return other, f"{where}: {(sig.samples or sig.real)[0]}; the image is a {seen}"
            wide = height > 0 and width / height >= HISTORY_ASPECT
            if wide:
                return "history_plot", f"{where}: {sig.history[0]}; wide figure"
            other = "samples" if sig.samples else "real_preview"
            return other, f"{where}: {(sig.samples or sig.real)[0]}; not a wide figure"
        if sig.real:
            return "real_preview", f"{where}: {sig.real[0]}"
        if sig.history:
            return "history_plot", f"{where}: {sig.history[0]}"
        return "samples", f"{where}: {sig.samples[0]}"
    return "other", "no clue in the cell"


@dataclass
class EmbeddedResult:
    """Images written for one notebook."""

    images: list[EmbeddedImage] = field(default_factory=list)
    artifacts: list[Artifact] = field(default_factory=list)
    warnings: list[Msg] = field(default_factory=list)
    total_bytes: int = 0


def extract_embedded(chunks: list[Chunk], work_dir: Path, *, prefix: str = "",
                     functions: dict[str, list[ast.AST]] | None = None,
                     generator_names: set[str] | None = None) -> EmbeddedResult:
    """Write the images in the outputs of a notebook's code cells and tag each one.

    Args:
        chunks: The notebook's code cells (parsed), in file order.
        work_dir: Images go to ``work_dir/embedded/{prefix}cell{N}_out{K}.{ext}``.
        prefix: Distinguishes notebooks when a submission has several.
        functions: Top-level function definitions of the submission, by name.
        generator_names: Names that hold or build the generator (``generator``, ...).
    """
    functions = functions or {}
    gen_names = set(generator_names or ()) | {"generator"}
    result = EmbeddedResult()
    trained_at = next((c.cell for c in chunks if _signals_for(c, gen_names)[0].trains), None)
    folder = work_dir / "embedded"
    for chunk in chunks:
        if not chunk.outputs:
            continue
        direct, facts = _signals_for(chunk, gen_names)
        indirect = facts_signals(_called_facts(facts, functions), gen_names)
        for index, output in enumerate(chunk.outputs):
            found = _image_of(output)
            if found is None:
                continue
            mime, data, error = found
            if error:
                result.warnings.append(Msg(f"{chunk.origin()} output {index}: {error}",
                                           f"{chunk.origin()} 출력 {index}: {error}"))
                continue
            if len(result.images) >= MAX_IMAGES or result.total_bytes + len(data) > MAX_TOTAL_BYTES:
                result.warnings.append(Msg(
                    f"{chunk.file}: too many embedded images; the rest were not read.",
                    f"{chunk.file}: 출력에 들어 있는 이미지가 너무 많아 나머지는 읽지 않았습니다."))
                return result
            ext = next((e for magic, e in _MAGIC.items() if data.startswith(magic)), "")
            width, height = _image_size(data)
            kind, reason = decide_kind(direct, indirect, is_gif=ext == "gif" or mime == "image/gif",
                                       width=width, height=height,
                                       content=lambda d=data: content_kind(d))
            before = trained_at is not None and chunk.cell is not None and chunk.cell < trained_at
            rel = f"embedded/{prefix}cell{chunk.cell}_out{index}.{ext or 'bin'}"
            folder.mkdir(parents=True, exist_ok=True)
            (work_dir / rel).write_bytes(data)
            result.total_bytes += len(data)
            image = EmbeddedImage(file=rel, notebook=chunk.file, cell=chunk.cell or 0, output=index,
                                  execution_count=chunk.execution_count, mime=mime, kind=kind,
                                  width=width, height=height, before_training=before, reason=reason)
            result.images.append(image)
            note = f"In [{chunk.execution_count or ' '}], {width}x{height}, {reason}"
            note += ", before training" if before else ""
            result.artifacts.append(Artifact(kind, f"{chunk.origin()} output {index}", file=rel, note=note))  # type: ignore[arg-type]
    return result


def _signals_for(chunk: Chunk, gen_names: set[str]) -> tuple[Signals, Facts]:
    facts = code_facts(chunk.tree if chunk.tree is not None else chunk.raw)
    return facts_signals(facts, gen_names), facts


def _called_facts(facts: Facts, functions: dict[str, list[ast.AST]], depth: int = 3) -> Facts:
    """Facts of the bodies of submission functions called (transitively, ``depth`` levels)."""
    merged, seen = Facts(), set()
    frontier = {c for c in facts.calls if c in functions}
    for _ in range(depth):
        nxt: set[str] = set()
        for name in frontier - seen:
            seen.add(name)
            for node in functions[name]:
                sub = code_facts(node)
                for attr in ("calls", "subscripted", "names", "strings"):
                    getattr(merged, attr).update(getattr(sub, attr))
                nxt |= {c for c in sub.calls if c in functions}
        frontier = nxt
    return merged


def _image_of(output: object) -> tuple[str, bytes, str | None] | None:
    """(mime, bytes, error) of the first image in one output, or ``None`` if it has none."""
    if not isinstance(output, dict) or output.get("output_type") not in ("display_data", "execute_result"):
        return None
    data = output.get("data") or {}
    mime = next((m for m in _MIME_ORDER if m in data), None)
    if mime is None:
        html = data.get("text/html")
        html = "".join(str(v) for v in html) if isinstance(html, list) else str(html or "")
        found = _HTML_IMAGE.search(html[:MAX_IMAGE_BYTES * 2])
        if found is None:  # e.g. tensorflow_docs' embed_file: an <img> with a data URI
            return None
        mime, value = found.group(1).lower().replace("jpg", "jpeg"), found.group(2)
    else:
        value = data[mime]
    if isinstance(value, list):
        value = "".join(str(v) for v in value)
    try:
        raw = base64.b64decode("".join(str(value).split()), validate=True)
    except (binascii.Error, ValueError):
        return mime, b"", "embedded image is not valid base64; skipped"
    if len(raw) > MAX_IMAGE_BYTES:
        return mime, b"", f"embedded image of {len(raw)} bytes is over the limit; skipped"
    if not any(raw.startswith(m) for m in _MAGIC):
        return mime, b"", "embedded data is not a PNG, GIF or JPEG image; skipped"
    return mime, raw, None


def _image_size(data: bytes) -> tuple[int, int]:
    try:
        from PIL import Image

        with Image.open(io.BytesIO(data)) as img:
            return int(img.width), int(img.height)
    except Exception:  # a damaged image still counts as found; its size is unknown
        return 0, 0
