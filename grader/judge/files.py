"""Score image files with the judge: PNG/JPEG grids, GIF frames, ``.npy``/``.npz`` arrays.

One :class:`InputReport` per scored unit (an image file, a GIF frame, an array in an
``.npz``). A file that cannot be read becomes a report with ``status="error"`` and a plain
message; the other inputs are still scored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from grader.assignment import get_assignment
from grader.errors import GraderError
from grader.intake.figures.tiles import TileResult, extract_frame_tiles, read_frames
from grader.judge.classifier import images_to_pixels, load_judge
from grader.judge.metrics import score_images

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif")
ARRAY_SUFFIXES = (".npy", ".npz")
Status = Literal["scored", "display_problem", "no_images", "error"]


@dataclass
class InputReport:
    """The judge's verdict on one input (a file, a GIF frame or an array)."""

    source: str
    """File name, with ``frame N`` or ``:key`` when a file holds several inputs."""
    status: Status
    message: str = ""
    """Plain words for people: what was found or what went wrong."""
    kind: str = "array"
    """``array``, or the :class:`~grader.intake.figures.tiles.TileResult` kind of a figure."""
    tiles_found: int = 0
    rows: int = 0
    cols: int = 0
    colormapped: bool = False
    notes: list[str] = field(default_factory=list)
    result: dict[str, Any] | None = None
    """:meth:`grader.judge.metrics.JudgeResult.to_dict` when scored."""

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict."""
        return dict(self.__dict__)


def collect_paths(paths: list[Path]) -> list[Path]:
    """Expand folders (recursively, sorted) into the supported files inside them."""
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            out += sorted(f for f in p.rglob("*")
                          if f.is_file() and f.suffix.lower() in IMAGE_SUFFIXES + ARRAY_SUFFIXES)
        else:
            out.append(p)
    return out


def _from_tiles(source: str, tr: TileResult) -> tuple[InputReport, np.ndarray | None]:
    rep = InputReport(source=source, status="scored", kind=tr.kind, tiles_found=len(tr.tiles),
                      rows=tr.rows, cols=tr.cols, colormapped=tr.colormapped, notes=list(tr.notes))
    if tr.colormapped:
        rep.status = "display_problem"
        rep.message = (f"The samples are drawn from one colour channel through the '{tr.colormap}' "
                       "colormap, so their colours cannot be judged. Show all three channels, "
                       "e.g. plt.imshow((images[i] + 1) / 2).")
        return rep, None
    if tr.kind == "chart":
        rep.status, rep.message = "no_images", "This is a chart (e.g. the training history), not generated images."
        return rep, None
    if not len(tr.tiles):
        rep.status, rep.message = "no_images", "No image panels were found in this figure."
        return rep, None
    rep.message = f"{len(tr.tiles)} image(s) found ({tr.kind}, {tr.rows}x{tr.cols})."
    return rep, tr.tiles


def _arrays_from(path: Path) -> list[tuple[str, np.ndarray]]:
    try:
        if path.suffix.lower() == ".npy":
            return [(path.name, np.load(path, allow_pickle=False))]
        with np.load(path, allow_pickle=False) as z:
            return [(f"{path.name}:{k}", z[k]) for k in z.files]
    except (OSError, ValueError, EOFError) as exc:
        raise GraderError(f"The file {path.name} is not a readable NumPy array file.",
                          f"{path}: {type(exc).__name__}: {exc}") from exc


def _as_images(arr: np.ndarray, shape: tuple[int, int, int]) -> tuple[np.ndarray, list[str]]:
    """Bring the common ways of saving images to the judge's contract, saying what was done.

    One (H, W, C) image, channels-first (N, C, H, W), integer pixels 0..255 of any integer
    dtype, and floats in [0, 1] or 0..255 are converted; anything else is left for
    :func:`images_to_pixels` to refuse in plain words.
    """
    notes: list[str] = []
    h, w, c = shape
    if arr.shape == (h, w, c):
        arr = arr[None]
    if arr.ndim == 4 and arr.shape[1:] == (c, h, w) and c != h:
        arr = arr.transpose(0, 2, 3, 1)
        notes.append(f"channels-first (N, {c}, {h}, {w}): read as (N, {h}, {w}, {c})")
    if not arr.size:
        return arr, notes
    integer = np.issubdtype(arr.dtype, np.integer) and arr.dtype != np.uint8
    floating = np.issubdtype(arr.dtype, np.floating) and bool(np.isfinite(arr).all())
    if not (integer or floating) or float(arr.min()) < 0.0 or float(arr.max()) > 255.0:
        return arr, notes  # uint8, tanh floats, or something images_to_pixels refuses
    if integer:
        notes.append(f"{arr.dtype} values within 0..255: read as 8-bit pixels")
        return arr.astype(np.uint8), notes
    if float(arr.max()) <= 1.0:
        notes.append("all values lie in [0, 1]: read as [0, 1] images (the range "
                     "plt.imshow shows), not as [-1, 1] generator output")
        return np.rint(arr * 255.0).astype(np.uint8), notes
    notes.append("float values within 0..255: read as 8-bit pixel values")
    return np.rint(arr).astype(np.uint8), notes


def _from_array(source: str, arr: np.ndarray,
                shape: tuple[int, int, int]) -> tuple[InputReport, np.ndarray | None]:
    rep = InputReport(source=source, status="scored", kind="array")
    if arr.ndim < 3:
        rep.status = "no_images"
        rep.message = f"Not an image array (shape {arr.shape}); skipped."
        return rep, None
    images, rep.notes = _as_images(arr, shape)
    try:
        pixels = images_to_pixels(images, shape)
    except ValueError as exc:
        what = "x".join(str(d) for d in shape)
        rep.status, rep.message = "error", f"This array is not a set of {what} images: {exc}"
        return rep, None
    rep.tiles_found = len(pixels)
    rep.message = f"{len(pixels)} image(s) in the array."
    return rep, np.rint(pixels).astype(np.uint8)


def inputs_from_file(path: Path, shape: tuple[int, int, int] | None = None
                     ) -> list[tuple[InputReport, np.ndarray | None]]:
    """Read one file into (report, images or None) pairs; unreadable files give one error report.

    ``shape`` (H, W, C) of the images (default: the current assignment's).
    """
    shape = tuple(shape) if shape is not None else get_assignment().image_shape
    suffix = path.suffix.lower()
    try:
        if not path.is_file():
            raise GraderError(f"{path} does not exist or is not a file.")
        if suffix in ARRAY_SUFFIXES:
            return [_from_array(src, arr, shape) for src, arr in _arrays_from(path)]
        if suffix not in IMAGE_SUFFIXES:
            raise GraderError(f"{path.name}: the judge reads PNG, JPEG, GIF, .npy and .npz files.")
        read = read_frames(path)
        many = len(read.frames) > 1 or read.damaged
        out = [_from_tiles(f"{path.name} frame {i}" if many else path.name, res)
               for i, res in enumerate(extract_frame_tiles(read.frames, shape))]
        if read.damaged:
            out[-1][0].notes.append(f"{path.name} is damaged after frame {len(read.frames) - 1}: "
                                    "only the frames before the damage were read")
        return out
    except GraderError as exc:
        return [(InputReport(source=path.name, status="error", kind="unreadable",
                             message=exc.student, notes=[exc.detail] if exc.detail else []), None)]


def judge_files(paths: list[Path], judge=None, n_boot: int = 1000) -> list[InputReport]:
    """Score every input found in ``paths`` (files or folders).

    Args:
        paths: Files and folders.
        judge: A loaded judge; default :func:`grader.judge.classifier.load_judge` (loaded
            only when some input has images).
        n_boot: Bootstrap resamples per input.

    Raises:
        JudgeAssetError: The shipped classifier or its calibration is missing.
    """
    reports = []
    for path in collect_paths(list(paths)):
        for rep, images in inputs_from_file(path):
            if images is not None and len(images):
                judge = judge or load_judge()
                rep.result = score_images(images, judge, n_boot=n_boot).to_dict()
            reports.append(rep)
    return reports
