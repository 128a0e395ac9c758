"""Find result files in a submission: sample images, history plots, GIFs and checkpoints."""

from __future__ import annotations

import os
import re
import shutil
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from grader.evidence import Artifact, ArtifactKind
from grader.intake.sources import CODE_SUFFIXES, FileEntry

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif")
MODEL_SUFFIXES = (".h5", ".hdf5", ".keras")
#: images up to this size are copied into the work folder (``files/...``) for the report
COPY_MAX_BYTES = 10 * 1024 * 1024
COPY_TOTAL_BYTES = 200 * 1024 * 1024

_CKPT_INDEX = re.compile(r"^(?P<prefix>.+)\.index$")
_CKPT_DATA = re.compile(r"^(?P<prefix>.+)\.data-\d+-of-\d+$")
_LATEST = re.compile(r'^model_checkpoint_path:\s*"(?P<path>[^"]+)"', re.MULTILINE)

# Strong file-name signals, by kind, in precedence order; then folder names; then weak names.
_NAME_SIGNALS: tuple[tuple[ArtifactKind, re.Pattern[str]], ...] = (
    ("real_preview", re.compile(r"(^|[^a-z])(real|original|train_?x|x_?train|dataset|preview)"
                                r"(?!.*(fake|gen))")),
    ("history_plot", re.compile(r"hist|loss|acc|graph|curve")),
    ("samples", re.compile(r"sample|generat|fake|image_at_epoch|result|output")),
)
_DIR_SIGNALS: tuple[tuple[ArtifactKind, re.Pattern[str]], ...] = (
    ("real_preview", re.compile(r"^(real|original|dataset|data|preview)")),
    ("history_plot", re.compile(r"hist|loss|graph|plot")),
    ("samples", re.compile(r"sample|generat|fake|output|result|image")),
)
_MIXED_REAL = re.compile(r"real|original")
_MIXED_FAKE = re.compile(r"fake|gen")
_WEAK_SAMPLES = re.compile(r"epoch|iter|step|gen")


def classify_image_path(rel: str) -> ArtifactKind:
    """Guess what an image file shows from its name and folder.

    Precedence: ``.gif`` -> ``gif``; real and generated named together -> ``other``; then strong name words (real > history > samples);
    then folder names (same order); then weak name words (``epoch``, ``iter`` -> samples).

    Args:
        rel: The path relative to the submission root.

    Returns:
        ``gif``, ``real_preview``, ``history_plot``, ``samples`` or ``other``.
    """
    path = PurePosixPath(rel.lower())
    if path.suffix == ".gif":
        return "gif"
    stem = path.stem
    if _MIXED_REAL.search(stem) and _MIXED_FAKE.search(stem):  # real next to generated: not samples
        return "other"
    for kind, pattern in _NAME_SIGNALS:
        if pattern.search(stem):
            return kind
    for folder in reversed(path.parts[:-1]):
        for kind, pattern in _DIR_SIGNALS:
            if pattern.search(folder):
                return kind
    return "samples" if _WEAK_SAMPLES.search(stem) else "other"


@dataclass
class FoundArtifacts:
    """Artifacts with their sizes, plus warnings."""

    artifacts: list[Artifact] = field(default_factory=list)
    sizes: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def collect_artifacts(files: list[FileEntry], work_dir: Path) -> FoundArtifacts:
    """Turn the non-code files of a submission into artifacts.

    Checkpoints (``checkpoint`` + ``*.index`` + ``*.data-*``) become one artifact per prefix;
    a SavedModel folder one artifact; ``.h5``/``.keras`` files one each. Images up to
    :data:`COPY_MAX_BYTES` are copied to ``work_dir/files/`` (unless already inside
    ``work_dir``), and ``Artifact.file`` names the copy relative to ``work_dir``.

    Args:
        files: Regular files of the submission (from :func:`walk_submission`).
        work_dir: The work folder of this submission.
    """
    found = FoundArtifacts()
    saved_models = {str(PurePosixPath(f.rel).parent) for f in files if PurePosixPath(f.rel).name == "saved_model.pb"}
    groups: dict[str, list[FileEntry]] = defaultdict(list)
    latest: set[str] = set()
    copied = 0
    for entry in files:
        path = PurePosixPath(entry.rel)
        name, lower = path.name, path.name.lower()
        if lower.endswith(CODE_SUFFIXES):
            continue
        owner = _saved_model_of(path, saved_models)
        if owner is not None:
            groups[f"savedmodel:{owner}"].append(entry)
            continue
        if name == "checkpoint":
            latest.update(_latest_prefixes(entry, path.parent))
            continue
        match = _CKPT_INDEX.match(name) or _CKPT_DATA.match(name)
        if match:
            groups[str(path.parent / match.group("prefix"))].append(entry)
            continue
        if lower.endswith(MODEL_SUFFIXES):
            kind_note = "Keras weights" if lower.endswith((".weights.h5", "_weights.h5")) else "Keras model file"
            _add(found, Artifact("checkpoint", entry.rel, note=f"{kind_note}, {_size(entry.size)}"), entry.size)
            continue
        if lower.endswith(IMAGE_SUFFIXES):
            file = _place(entry, work_dir, copied)
            if file and file.startswith("files/"):
                copied += entry.size
            _add(found, Artifact(classify_image_path(entry.rel), entry.rel, file=file,
                                 note=_size(entry.size)), entry.size)
            continue
        _add(found, Artifact("other", entry.rel, note=_size(entry.size)), entry.size)
    for prefix, members in sorted(groups.items()):
        found.artifacts.append(_checkpoint_artifact(prefix, members, latest))
        found.sizes[found.artifacts[-1].origin] = sum(m.size for m in members)
    return found


def _saved_model_of(path: PurePosixPath, saved_models: set[str]) -> str | None:
    """The SavedModel folder a file belongs to (its ``.pb`` files, ``variables/``, ``assets/``)."""
    for d in saved_models:
        base = PurePosixPath(d)
        if path.parent == base and path.name.endswith(".pb"):
            return d
        for sub in ("variables", "assets"):
            if path.is_relative_to(base / sub):
                return d
    return None


def _checkpoint_artifact(prefix: str, members: list[FileEntry], latest: set[str]) -> Artifact:
    total = _size(sum(m.size for m in members))
    if prefix.startswith("savedmodel:"):
        return Artifact("checkpoint", prefix.split(":", 1)[1], note=f"SavedModel folder, {len(members)} files, {total}")
    has_index = any(m.rel.endswith(".index") for m in members)
    note = f"tf.train.Checkpoint, {len(members)} files, {total}"
    if not has_index:
        note += ", incomplete: no .index file"
    if prefix in latest:
        note += ", latest"
    return Artifact("checkpoint", prefix, note=note)


def _latest_prefixes(entry: FileEntry, folder: PurePosixPath) -> set[str]:
    """Prefixes named by a ``checkpoint`` bookkeeping file (a small text proto)."""
    if entry.size > 64 * 1024:
        return set()
    try:
        text = entry.path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return set()
    match = _LATEST.search(text)
    if not match:
        return set()
    name = PurePosixPath(match.group("path").replace("\\", "/")).name  # absolute on the student's machine
    return {str(folder / name)}


def _place(entry: FileEntry, work_dir: Path, copied: int) -> str | None:
    """Where the trusted side can read the image, relative to ``work_dir`` (copying if small)."""
    real_work = work_dir.resolve()
    real = entry.path.resolve()
    if real_work in real.parents:
        return Path(os.path.relpath(real, real_work)).as_posix()
    if entry.size > COPY_MAX_BYTES or copied + entry.size > COPY_TOTAL_BYTES:
        return None
    target = work_dir / "files" / entry.rel
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(entry.path, target, follow_symlinks=False)
    return f"files/{entry.rel}"


def _add(found: FoundArtifacts, artifact: Artifact, size: int) -> None:
    found.artifacts.append(artifact)
    found.sizes[artifact.origin] = size


def _size(n: int) -> str:
    for unit in ("bytes", "kB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return f"{n} bytes"
