"""The assignment: every fact about one GAN assignment, described once, as data.

An assignment is a folder under ``grader/assignments/`` (or anywhere, given by path) with an
``assignment.toml`` that names the image shape, the noise size, the classes, the lesson's
function names, shapes left over from the lesson's other data set, the data source, the
judge's files and the rubric. The engine asks the :class:`Assignment` and never hard-codes
any of these; adding an assignment means adding a folder (and training a judge for it).
"""

from __future__ import annotations

import os
import sys
from dataclasses import asdict, dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10 only
    import tomli as tomllib

from grader.config import ENV_PREFIX
from grader.errors import UsageError
from grader.registry import Registry

BUILTIN_DIR = Path(__file__).resolve().parent / "assignments"
ASSIGNMENT_FILE = "assignment.toml"
DEFAULT_ASSIGNMENT = "cifar10_dcgan"
ENV_ASSIGNMENT = f"{ENV_PREFIX}ASSIGNMENT"


@dataclass(frozen=True)
class LessonNames:
    """Names the lesson gives the functions students write."""

    generator: str = "make_generator_model"
    discriminator: str = "make_discriminator_model"
    generator_loss: str = "generator_loss"
    discriminator_loss: str = "discriminator_loss"
    accuracy: str = "discriminator_accuracy"
    train_step: str = "train_step"
    show_samples: str = "generate_and_save_images"
    draw_history: str = "draw_train_history"


@dataclass(frozen=True)
class Leftover:
    """A model shape from the lesson's *other* data set: a sign the code was not adapted."""

    shape: tuple[int, ...]
    name: str
    """The data set it belongs to, e.g. ``Fashion-MNIST``."""


@dataclass(frozen=True)
class DataSpec:
    """Where the assignment's training images come from."""

    dataset: str
    """Loader family: ``cifar10`` (pickled batches, image trees, keras) or ``npz``."""
    name: str = ""
    """The data set's name in messages (``CIFAR-10``)."""
    subset: Path | None = None
    """A small offline copy shipped in the folder (quick mode's default data)."""
    train_size: int = 50_000
    """Images in the full training set (an epoch of the assignment)."""


@dataclass(frozen=True)
class JudgeFiles:
    """The assignment's image judge: a classifier with its calibration and statistics."""

    weights: Path
    calibration: Path
    test_stats: Path
    class_stats: Path
    realism: Path | None = None
    copy_index: Path | None = None


@dataclass(frozen=True)
class Assignment:
    """One GAN assignment (see the module docstring)."""

    id: str
    title_en: str
    title_ko: str
    folder: Path
    image_shape: tuple[int, int, int]
    """(height, width, channels) of a training image and of a generated one."""
    noise_dim: int
    class_names: tuple[str, ...]
    data: DataSpec
    judge: JudgeFiles
    rubric: Path
    lesson: LessonNames = field(default_factory=LessonNames)
    leftovers: tuple[Leftover, ...] = ()
    fingerprint: Path | None = None
    """The lesson's code fingerprint (similarity discounts lesson code)."""
    epochs: int = 50
    """Epochs the assignment asks students to train."""

    @property
    def height(self) -> int:
        """Image height in pixels."""
        return self.image_shape[0]

    @property
    def width(self) -> int:
        """Image width in pixels."""
        return self.image_shape[1]

    @property
    def channels(self) -> int:
        """Colour channels (3 for RGB, 1 for grey)."""
        return self.image_shape[2]

    @property
    def n_classes(self) -> int:
        """Number of classes the judge tells apart."""
        return len(self.class_names)

    def shape_text(self) -> str:
        """``32x32x3``."""
        return "x".join(str(d) for d in self.image_shape)

    def facts(self) -> dict[str, Any]:
        """The plain facts the student's process needs (it never sees the folder itself)."""
        return {"id": self.id, "image_shape": list(self.image_shape), "noise_dim": self.noise_dim,
                "dataset_name": self.data.name,
                "lesson": asdict(self.lesson),
                "leftovers": [{"shape": list(x.shape), "name": x.name} for x in self.leftovers]}


class AssignmentError(UsageError):
    """An assignment folder is missing or its ``assignment.toml`` is invalid."""


def _path(folder: Path, raw: dict[str, Any], key: str, where: str,
          required: bool = True) -> Path | None:
    value = raw.get(key)
    if value is None:
        if required:
            raise AssignmentError(f"{where}: missing key '{key}'")
        return None
    if not isinstance(value, str) or not value:
        raise AssignmentError(f"{where}: '{key}' must be a file name")
    return folder / value


def _shape(value: Any, where: str) -> tuple[int, ...]:
    if (not isinstance(value, list) or not value
            or not all(isinstance(d, int) and d > 0 for d in value)):
        raise AssignmentError(f"{where}: a shape must be a list of positive integers, got "
                              f"{value!r}")
    return tuple(value)


def load_assignment(folder: str | Path) -> Assignment:
    """Read and validate ``folder/assignment.toml``.

    Raises:
        AssignmentError: The folder or file is missing, or a key is missing or malformed.
    """
    folder = Path(folder).resolve()
    file = folder / ASSIGNMENT_FILE
    where = str(file)
    try:
        raw = tomllib.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise AssignmentError(f"No assignment at {folder} (no {ASSIGNMENT_FILE}).") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise AssignmentError(f"{where} is not valid TOML: {exc}") from exc
    try:
        images, data, judge = raw["images"], raw["data"], raw["judge"]
        shape = _shape(images["shape"], f"{where} [images] shape")
        if len(shape) != 3:
            raise AssignmentError(f"{where}: [images] shape must be [height, width, channels]")
        classes = tuple(str(c) for c in images["classes"])
        lesson = LessonNames(**{k: str(v) for k, v in raw.get("lesson", {}).items()})
        leftovers = tuple(Leftover(_shape(x["shape"], f"{where} [[leftovers]]"), str(x["name"]))
                          for x in raw.get("leftovers", []))
        out = Assignment(
            id=str(raw["id"]), title_en=str(raw["title_en"]), title_ko=str(raw["title_ko"]),
            folder=folder, image_shape=shape,  # type: ignore[arg-type]
            noise_dim=int(images["noise_dim"]), class_names=classes,
            data=DataSpec(dataset=str(data["dataset"]), name=str(data.get("name", data["dataset"])),
                          subset=_path(folder, data, "subset", where, required=False),
                          train_size=int(data.get("train_size", 50_000))),
            judge=JudgeFiles(
                weights=_path(folder, judge, "weights", where),  # type: ignore[arg-type]
                calibration=_path(folder, judge, "calibration", where),  # type: ignore[arg-type]
                test_stats=_path(folder, judge, "test_stats", where),  # type: ignore[arg-type]
                class_stats=_path(folder, judge, "class_stats", where),  # type: ignore[arg-type]
                realism=_path(folder, judge, "realism", where, required=False),
                copy_index=_path(folder, judge, "copy_index", where, required=False)),
            rubric=_path(folder, raw, "rubric", where),  # type: ignore[arg-type]
            lesson=lesson, leftovers=leftovers,
            fingerprint=_path(folder, raw, "fingerprint", where, required=False),
            epochs=int(raw.get("epochs", 50)))
    except KeyError as exc:
        raise AssignmentError(f"{where}: missing key {exc}") from exc
    except (TypeError, ValueError) as exc:
        if isinstance(exc, AssignmentError):
            raise
        raise AssignmentError(f"{where}: {exc}") from exc
    if len(classes) < 2:
        raise AssignmentError(f"{where}: [images] classes needs at least two names")
    if out.noise_dim <= 0:
        raise AssignmentError(f"{where}: [images] noise_dim must be positive")
    return out


#: assignments by id: the folders under ``grader/assignments/``
ASSIGNMENTS: Registry[Path] = Registry("assignment", Path)


def _register_builtin() -> None:
    for file in sorted(BUILTIN_DIR.glob(f"*/{ASSIGNMENT_FILE}")):
        ASSIGNMENTS.register(file.parent.name, file.parent, replace=True)


_register_builtin()


@cache
def _load_cached(folder: str) -> Assignment:
    return load_assignment(folder)


def get_assignment(name_or_path: str | Path | None = None) -> Assignment:
    """The assignment by id (``cifar10_dcgan``) or folder path; default from the environment.

    Order: the argument, ``$DCGAN_GRADER_ASSIGNMENT``, then ``cifar10_dcgan``.

    Raises:
        AssignmentError: No such assignment, or it is invalid.
    """
    choice = name_or_path or os.environ.get(ENV_ASSIGNMENT) or DEFAULT_ASSIGNMENT
    if str(choice) in ASSIGNMENTS:
        return _load_cached(str(ASSIGNMENTS[str(choice)]))
    path = Path(choice)
    if path.is_dir():
        return _load_cached(str(path.resolve()))
    raise AssignmentError(f"Unknown assignment {choice!r}: give one of "
                          f"{', '.join(ASSIGNMENTS.names())} or an assignment folder.")
