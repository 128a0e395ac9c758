"""Plain records produced by intake: code units, cell failures and the Submission itself."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from grader.errors import GraderError
from grader.evidence import Artifact
from grader.text import Msg


class SubmissionError(GraderError):
    """The submission cannot be read at all: no code, or an unsafe archive."""


class SubmissionNotFound(SubmissionError):
    """The submission path does not exist (a usage error: exit code 2)."""

    exit_code = 2


UnitKind = Literal["import", "function", "class", "assign", "model_build"]
SubmissionKind = Literal["folder", "notebook", "script", "zip"]


@dataclass
class CodeUnit:
    """One top-level statement kept for the sandbox, with its exact source text."""

    source: str
    """The statement's text (decorators included), dedented to column 0."""
    origin: str
    """Where it came from: ``notebook.ipynb cell 7`` or ``main.py line 12``."""
    kind: UnitKind
    names: list[str] = field(default_factory=list)
    """Names the statement binds (``*`` for a star import)."""
    name: str | None = None
    """For a function or class: its name."""
    file: str = ""
    """Source file, relative to the submission root."""
    line: int = 0
    """First line (1-based) within the cell, or within the ``.py`` file."""
    cell: int | None = None
    """Notebook cell number (1-based, counting every cell), if from a notebook."""
    execution_count: int | None = None
    """The cell's ``In [n]`` when the notebook was saved (students run cells out of order)."""
    order: int = 0
    """Position among all kept units (file order: notebooks first, then ``.py`` files)."""
    params: list[str] = field(default_factory=list)
    """For a function: its parameter names (positional then keyword-only)."""
    required_params: int = 0
    """For a function: how many parameters have no default value."""
    decorators: list[str] = field(default_factory=list)
    """For a function or class: decorator expressions as text, e.g. ``tf.function``."""
    calls: str | None = None
    """For ``model_build``: the submission function or class called on the right-hand side."""


@dataclass
class CellFailure:
    """A cell (or ``.py`` chunk, or whole file) that could not be read; the rest continues."""

    origin: str
    message: Msg
    """What is wrong and what to do, for the student."""
    detail: str = ""
    """Instructor-facing detail: the parser's message and the offending line."""
    line: int | None = None
    """Line (1-based) within the cell or file, when known."""


@dataclass
class Dropped:
    """A top-level statement that was not kept (counted, with a short reason)."""

    origin: str
    line: int
    reason: str
    preview: str = ""
    """The statement's first line, shortened."""


@dataclass
class EmbeddedImage:
    """An image found in a notebook cell's outputs and written to the work folder."""

    file: str
    """Path relative to the work folder, e.g. ``embedded/cell12_out0.png``."""
    notebook: str
    cell: int
    output: int
    """Output index within the cell (0-based)."""
    execution_count: int | None
    mime: str
    kind: str
    """``samples``, ``real_preview``, ``history_plot``, ``gif`` or ``other``."""
    width: int = 0
    height: int = 0
    before_training: bool = False
    """True when the cell comes before the first cell that trains."""
    reason: str = ""
    """Why this kind was chosen (which signal won)."""


@dataclass
class Submission:
    """Everything intake learned about one submission, without running any of its code."""

    name: str
    root: Path
    """The submission folder (for a single file: the folder holding it; only that file is read)."""
    kind: SubmissionKind
    code_units: list[CodeUnit] = field(default_factory=list)
    cell_failures: list[CellFailure] = field(default_factory=list)
    artifacts: list[Artifact] = field(default_factory=list)
    missing_artifacts: list[str] = field(default_factory=list)
    """Output paths the code writes to that are not in the submission (a note, not an error)."""
    warnings: list[Msg] = field(default_factory=list)
    encodings: dict[str, str] = field(default_factory=dict)
    """Source file -> the text encoding it was read with."""
    sources: list[str] = field(default_factory=list)
    """Code files read, in the order their units appear."""
    dropped: list[Dropped] = field(default_factory=list)
    embedded: list[EmbeddedImage] = field(default_factory=list)
    artifact_sizes: dict[str, int] = field(default_factory=dict)
    """Artifact origin -> size in bytes (a checkpoint: all its files together)."""
    run_map: dict[str, Any] | None = None
    """The main notebook's story (:class:`grader.intake.runs.RunMap` as a dict)."""

    def versions(self, name: str) -> list[CodeUnit]:
        """Every unit that defines ``name``, in file order (first = original, last = final)."""
        return [u for u in self.code_units if name in u.names]

    def dropped_counts(self) -> dict[str, int]:
        """How many statements were dropped, per reason."""
        counts: dict[str, int] = {}
        for d in self.dropped:
            counts[d.reason] = counts.get(d.reason, 0) + 1
        return counts

    def to_json(self) -> str:
        """Serialise to JSON text (plain data; ``root`` as a string)."""
        raw = dataclasses.asdict(self)
        raw["root"] = str(self.root)
        raw["warnings"] = [w.to_json() for w in self.warnings]
        return json.dumps(raw, ensure_ascii=False, indent=1)

    @classmethod
    def from_json(cls, text: str) -> Submission:
        """Parse JSON written by :meth:`to_json` (unknown keys are ignored)."""
        raw = json.loads(text)
        nested = {
            "code_units": CodeUnit, "cell_failures": CellFailure, "artifacts": Artifact,
            "dropped": Dropped, "embedded": EmbeddedImage,
        }
        kwargs: dict[str, Any] = {}
        for key, klass in nested.items():
            kwargs[key] = [klass(**_known(klass, item)) for item in raw.pop(key, [])]
        for failure in kwargs["cell_failures"]:
            failure.message = Msg.from_json(failure.message)
        raw["warnings"] = [Msg.from_json(w) for w in raw.get("warnings", [])]
        plain = _known(cls, raw)
        plain["root"] = Path(plain.get("root", "."))
        return cls(**plain, **kwargs)


def _known(klass: type, raw: dict[str, Any]) -> dict[str, Any]:
    names = {f.name for f in dataclasses.fields(klass)}
    return {k: v for k, v in raw.items() if k in names}
