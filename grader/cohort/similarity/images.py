"""Image similarity: difference hashes of sample grids and late GIF frames, and near-identical pairs.

Only what a student's own trained generator drew is compared: images every student has by
construction never are. Intake's classes decide (the run map of :mod:`grader.intake.runs` for
images in notebook outputs, :func:`grader.intake.artifacts.classify_image_path` for files):

* compared: sample grids (intermediate and final) and GIF frames;
* never: the lesson's sanity plot of one untrained sample (``plt.imshow(generated_image[0, :,
  :, 0])`` with a colorbar: a flat image every student shows, also when it is shown again
  for a second model), real-data previews (``train_x[i]``), history plots, other figures, and
  anything shown before the first training cell (an untrained generator);
* the earliest part of every sequence is left out: the first :data:`EARLY_FRACTION` of a GIF's
  frames, of a folder's numbered sample files (``sample_epoch_0001...``) and of the grids one
  cell shows while it trains. Early in training every student's generator draws the same
  mean-image blobs, so early frames look alike across a class whatever anyone copied; a third
  keeps the late frames, which are the student's own, and leaves out a GIF's first frames at any
  length (5 frames: the first 2; 40 frames: the first 14).

Each compared image gets a 256-bit difference hash (16x16 dHash of the grayscale image with
uniform borders cropped); images that show nothing but their layout (blank, or untrained noise)
get none. A pair is flagged when some image of one student is within :data:`IMAGE_THRESHOLD`
of one of the other's, unless more than
:func:`~grader.cohort.similarity.compare.common_cut` students hold that image (then it is
shared by construction: a misclassified preview of the data set, the lesson's own figure).
"""

from __future__ import annotations

import math
import re
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np

from grader.cohort.similarity.records import ImagePrint, SimilarityFlag, SubmissionPrint

#: images: 1 - (differing bits / HASH_BITS) at or above this is "near-identical"; calibrated in
#: reference/similarity_calibration.md (different grids <= 0.71, re-encoded copies >= 0.89)
IMAGE_THRESHOLD = 0.8
#: an image with fewer than MIN_CONTENT_BITS thumbnail gradients that differ by more than
#: CONTENT_DELTA grey levels from its layout's shows nothing but a grid (blank, or
#: untrained-generator noise: 0-1 such gradients; real or generated samples: 67-200)
CONTENT_DELTA = 12.0
MIN_CONTENT_BITS = 32
MAX_IMAGES = 48
MAX_GIF_FRAMES = 12
HASH_SIDE = 16
HASH_BITS = HASH_SIDE * HASH_SIDE
#: the first third of a GIF, of a folder of numbered samples, of one cell's grids is not compared
EARLY_FRACTION = 1 / 3
#: run-map classes (grader.intake.runs) whose images are compared
COMPARED_CLASSES = ("sample_grid", "gif")

_IMAGE_KINDS = ("samples", "gif")
#: the lesson's one-sample plot: ``generated_image[0, :, :, 0]`` or a colorbar
_ONE_SAMPLE = re.compile(r"\[\s*0\s*,\s*:\s*,\s*:\s*,\s*0\s*\]|\bcolorbar\s*\(")
_NUMBER = re.compile(r"\d+")


def image_prints(sub: Any, work_dir: Path, sp: SubmissionPrint) -> None:
    """Hash the compared sample images and late GIF frames of an intake ``Submission``."""
    prints: list[ImagePrint] = []
    for origin, file in compared_images(sub, work_dir):
        try:
            prints += [ImagePrint(label, h) for label, h in _hash_file(origin, file)]
        except Exception as exc:  # noqa: BLE001 - an undecodable image is skipped
            sp.notes.append(f"image {origin} not hashed: {type(exc).__name__}")
    if len(prints) > MAX_IMAGES:  # evenly spaced, first and last kept
        idx = np.unique(np.linspace(0, len(prints) - 1, MAX_IMAGES).round().astype(int))
        prints = [prints[i] for i in idx]
    sp.images = prints


def compared_images(sub: Any, work_dir: Path, left_out: dict[str, list[str]] | None = None
                    ) -> list[tuple[str, Path]]:
    """``(origin, file)`` of the images of a ``Submission`` that are compared (see the module).

    Sequences in time order are a folder's numbered sample files and the grids a training cell
    shows; the earliest :data:`EARLY_FRACTION` of each is left out (GIF frames: in
    :func:`_hash_file`). Other images (a final grid, a before/after cell) are kept whole.

    Args:
        sub: The submission.
        work_dir: Its intake work folder.
        left_out: When given, filled with reason -> origins of the images left out.
    """
    why = left_out if left_out is not None else {}
    story = sub.run_map or {}
    shown = {i.get("file"): i for i in story.get("images", []) if isinstance(i, dict)}
    training_cells = {r.get("cell") for r in story.get("runs", []) if isinstance(r, dict)}
    embedded = {e.file: e for e in getattr(sub, "embedded", [])}
    groups: dict[str, list[tuple[tuple[int, ...], str, Path]]] = {}
    for n, art in enumerate(sub.artifacts):
        if art.kind not in _IMAGE_KINDS:
            if art.kind in ("real_preview", "history_plot"):
                why.setdefault(art.kind, []).append(art.origin)
            continue
        file = work_dir / art.file if art.file else Path(sub.root) / art.origin
        key, order = f"\0{n}", ()  # a group of its own
        if art.file in embedded:
            image = embedded[art.file]
            reason = _left_out(image, shown.get(art.file))
            if reason:
                why.setdefault(reason, []).append(art.origin)
                continue
            if image.cell in training_cells:
                key, order = f"{image.notebook} cell {image.cell}", (image.output,)
        elif art.kind == "samples":
            path = PurePosixPath(art.origin)
            numbers = tuple(int(x) for x in _NUMBER.findall(path.stem))
            if numbers:  # sample_epoch_0001_iter_201.png: a step of training
                key, order = str(path.parent), numbers
        groups.setdefault(key, []).append((order, art.origin, file))
    out: list[tuple[str, Path]] = []
    for members in groups.values():
        members.sort(key=lambda m: m[0])
        first = early_count(len(members))
        why.setdefault("early", []).extend(origin for _, origin, _ in members[:first])
        out += [(origin, file) for _, origin, file in members[first:]]
    return out


def early_count(n: int) -> int:
    """How many of ``n`` samples in time order are early (not compared); the last is always kept."""
    return 0 if n <= 1 else min(n - 1, math.ceil(n * EARLY_FRACTION))


def _left_out(image: Any, shown: dict[str, Any] | None) -> str:
    """Why an image in a notebook's outputs is not compared ('' when it is: a trained sample
    grid, or a GIF): ``sanity_plot``, ``untrained``, or its run-map class."""
    if shown is None:  # a notebook the run map does not tell: intake's tag and position
        return "untrained" if image.before_training else ""
    kind = str(shown.get("kind"))
    if kind not in COMPARED_CLASSES:
        return kind
    if kind == "gif":
        return ""
    if _ONE_SAMPLE.search(str(shown.get("code") or "")):
        return "sanity_plot"  # the one-sample plot again, for a second model
    return "untrained" if shown.get("run") is None else ""


def _hash_file(origin: str, file: Path) -> list[tuple[str, str]]:
    from PIL import Image, ImageSequence

    with Image.open(file) as im:
        frames = getattr(im, "n_frames", 1)
        if frames <= 1:
            h = image_hash(im)
            return [(origin, h)] if h else []
        first = early_count(frames)
        late = frames - first
        picks = set(first + np.linspace(0, late - 1, min(late, MAX_GIF_FRAMES)).round().astype(int))
        out = []
        for i, frame in enumerate(ImageSequence.Iterator(im)):
            if i in picks:
                h = image_hash(frame)
                if h:
                    out.append((f"{origin} frame {i}", h))
        return out


def image_hash(image: Any) -> str | None:
    """256-bit difference hash of a PIL image as hex, or None when it shows nothing to compare.

    Uniform borders (a figure's white margin) are cropped first, so the same grid saved with
    another margin or size hashes alike. An image is left out when fewer than
    :data:`MIN_CONTENT_BITS` of its thumbnail's gradients differ from those of its own layout
    (its content painted in one flat grey) by more than :data:`CONTENT_DELTA`: a blank image,
    or a grid of untrained-generator noise, which every student's first samples look like.
    """
    gray = np.asarray(image.convert("L"), dtype=np.float32)
    if gray.size == 0:
        return None
    background = np.median(np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]]))
    content = np.abs(gray - background) > 12
    rows, cols = np.flatnonzero(content.any(axis=1)), np.flatnonzero(content.any(axis=0))
    if rows.size < 2 or cols.size < 2:
        return None
    box = (slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1))
    gray, content = gray[box], content[box]
    layout = np.where(content, gray[content].mean(), background)
    grad, layout_grad = _gradients(gray), _gradients(layout)
    if np.count_nonzero(np.abs(grad - layout_grad) > CONTENT_DELTA) < MIN_CONTENT_BITS:
        return None
    return np.packbits((grad > 0).ravel()).tobytes().hex()


def _gradients(gray: np.ndarray) -> np.ndarray:
    """Horizontal differences of a (HASH_SIDE + 1) x HASH_SIDE thumbnail (the dHash inputs)."""
    from PIL import Image

    small = np.asarray(Image.fromarray(gray.clip(0, 255).astype(np.uint8)).resize(
        (HASH_SIDE + 1, HASH_SIDE), Image.Resampling.LANCZOS), dtype=np.float32)
    return small[:, 1:] - small[:, :-1]


def image_flags(prints: dict[str, SubmissionPrint], common: int | None = None
                ) -> list[SimilarityFlag]:
    """One flag per pair of students holding a near-identical image (closest pair in detail).

    Args:
        prints: Student name -> print.
        common: An image that more than this many students hold (near-identical copies) is
            shared by construction and not compared (None: no limit).
    """
    names = sorted(n for n in prints if prints[n].images)
    if len(names) < 2:
        return []
    owner = np.concatenate([np.full(len(prints[n].images), i) for i, n in enumerate(names)])
    labels = [(n, im.origin) for n in names for im in prints[n].images]
    words = np.array([np.frombuffer(bytes.fromhex(im.hash), dtype=">u8")
                      for n in names for im in prints[n].images], dtype=np.uint64)
    limit = int((1 - IMAGE_THRESHOLD) * HASH_BITS)
    holders = np.ones(len(words), dtype=np.int64)  # students holding each image, its own included
    found: list[tuple[int, int, int]] = []  # (distance, i, j) with owner[i] < owner[j]
    for start in range(0, len(words), 256):
        block = words[start:start + 256]
        dist = np.zeros((len(block), len(words)), dtype=np.uint16)
        for w in range(words.shape[1]):  # one 64-bit word at a time keeps memory small
            dist += _popcount(block[:, None, w] ^ words[None, :, w]).astype(np.uint16)
        near = (dist <= limit) & (owner[start:start + 256, None] != owner[None, :])
        for bi in np.flatnonzero(near.any(axis=1)):
            others = np.flatnonzero(near[bi])
            holders[start + bi] += np.unique(owner[others]).size
            found += [(int(dist[bi, j]), start + int(bi), int(j)) for j in others
                      if owner[start + bi] < owner[j]]
    shared = holders > common if common is not None else np.zeros(len(words), dtype=bool)
    best: dict[tuple[int, int], tuple[int, int, int]] = {}
    hits: dict[tuple[int, int], set[int]] = {}
    for d, i, j in found:
        if shared[i] or shared[j]:
            continue
        key = (int(owner[i]), int(owner[j]))
        if key not in best or d < best[key][0]:
            best[key] = (d, i, j)
        hits.setdefault(key, set()).add(i)
    flags = []
    for (oa, ob), (d, i, j) in best.items():
        a, b = names[oa], names[ob]
        score = 1 - d / HASH_BITS
        detail = (f"{len(hits[(oa, ob)])} of {a}'s sample images have a near-identical image in "
                  f"{b}'s submission (closest: {labels[i][1]} and {labels[j][1]}, {d} of "
                  f"{HASH_BITS} hash bits differ).")
        flags.append(SimilarityFlag(a, b, "samples", round(score, 4), IMAGE_THRESHOLD, detail))
    return flags


def _popcount(x: np.ndarray) -> np.ndarray:
    if hasattr(np, "bitwise_count"):
        return np.bitwise_count(x)
    return np.unpackbits(x.view(np.uint8), axis=-1).reshape(*x.shape, 64).sum(axis=-1)
