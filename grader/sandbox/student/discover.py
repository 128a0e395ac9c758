"""Find the student's generator and discriminator among all definitions, and build them.

Order: the standard names (``make_generator_model``), then variants (``build_generator``,
``make_generator_model_v2``, ...), then any other zero-argument function or top-level Keras
model whose built shapes look right. Every version of a name is a candidate; the first
working one is the ``baseline`` and the last working one the ``final`` model.
"""

from __future__ import annotations

import inspect
import re
from dataclasses import dataclass, field
from typing import Any

from grader.sandbox.student.explain import explain_error
from grader.sandbox.student.namespace import (
    StudentCode,
    StudentTimeout,
    Version,
    is_keras_model,
    time_limit,
)

_WORDS = {"generator": re.compile(r"generator|(^|_)gen($|_)|(^|_)g_?(model|net)", re.I),
          "discriminator": re.compile(r"discriminator|critic|(^|_)disc($|_)|(^|_)d_?(model|net)",
                                      re.I)}
_NOT_A_MODEL = re.compile(r"loss|optim|save|image|sample|plot|draw|train|acc|show|history|"
                          r"generate_|load|step|callback|lr|schedul", re.I)
#: parameter names that ask for the noise size
_DIM_WORDS = ("noise", "latent", "z_dim", "nz", "input_dim")


@dataclass
class Built:
    """One candidate, built (or not)."""

    role: str
    """``generator`` or ``discriminator``."""
    name: str
    unit: int
    origin: str
    how: str
    """How it was found: ``standard name``, ``name variant``, ``shape guess``, ``model object``."""
    model: Any = None
    error: str = ""
    """Why it did not build, in one line for students."""
    error_detail: str = ""
    """The full traceback when the call raised (for instructors)."""
    input_shape: tuple | None = None
    output_shape: tuple | None = None
    kwargs: dict[str, Any] = field(default_factory=dict)
    version: Version | None = field(default=None, repr=False)

    @property
    def ok(self) -> bool:
        """True when the call returned a model that runs on a batch."""
        return self.model is not None and not self.error

    def label(self) -> str:
        """Readable name with version: ``make_generator_model (cell 12)``."""
        return f"{self.name} ({self.origin})"

    def summary(self) -> dict[str, Any]:
        """Plain JSON description."""
        return {"name": self.name, "origin": self.origin, "how": self.how, "ok": self.ok,
                "error": self.error, "error_detail": self.error_detail,
                "input_shape": _plain(self.input_shape),
                "output_shape": _plain(self.output_shape), "kwargs": self.kwargs}


def _plain(shape) -> list | None:
    return None if shape is None else [None if d is None else int(d) for d in shape]


def candidate_versions(code: StudentCode, role: str,
                       facts: dict[str, Any]) -> list[tuple[Version, str]]:
    """Versions that may build the ``role`` model, best guesses first, each in definition order."""
    standard = facts["lesson"][role]
    out: list[tuple[Version, str]] = [(v, "standard name") for v in code.versions.get(standard, [])]
    variants = [v for name, vs in code.versions.items() for v in vs
                if name != standard and _WORDS[role].search(name) and
                not _NOT_A_MODEL.search(name) and callable(v.obj) and not is_keras_model(v.obj)]
    out += [(v, "name variant") for v in sorted(variants, key=lambda v: v.unit)]
    return out


def fill_arguments(fn: Any, ns: dict[str, Any], facts: dict[str, Any]) -> dict[str, Any] | None:
    """Keyword arguments for the required parameters of ``fn``, or None if it cannot be called."""
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return {}
    kwargs: dict[str, Any] = {}
    for p in sig.parameters.values():
        if p.default is not p.empty or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        if p.name in ns and isinstance(ns[p.name], (int, tuple, list)):
            kwargs[p.name] = ns[p.name]
        elif any(key in p.name.lower() for key in _DIM_WORDS):
            kwargs[p.name] = int(facts["noise_dim"])
        elif "shape" in p.name.lower():
            kwargs[p.name] = tuple(facts["image_shape"])
        else:
            return None
    return kwargs


def build(role: str, version: Version, how: str, ns: dict[str, Any], seconds: float,
          facts: dict[str, Any]) -> Built:
    """Call the candidate (or take the model object) and probe its input/output shapes.

    A builder that once ran out of time is not called again in this process (each later
    phase would wait out the whole limit once more); it fails with the same words.
    """
    b = Built(role, version.name, version.unit, version.origin, how, version=version)
    timed_out = _TIMED_OUT.get(id(version.obj))
    if timed_out is not None and timed_out[0] is version.obj:
        b.error, b.error_detail = timed_out[1], timed_out[2]
        return b
    try:
        with time_limit(seconds):
            if is_keras_model(version.obj):
                model = version.obj
            else:
                kwargs = fill_arguments(version.obj, ns, facts)
                if kwargs is None:
                    b.error = "needs arguments the grader cannot guess"
                    return b
                b.kwargs = {k: v for k, v in kwargs.items()}
                model = version.obj(**kwargs)
            if not is_keras_model(model):
                b.error = f"returned {type(model).__name__}, not a Keras model"
                return b
            b.input_shape, b.output_shape = probe_shapes(role, model, facts)
            b.model = model
    except BaseException as exc:  # student code
        err = explain_error(exc)
        b.error, b.error_detail = err.text, err.detail
        if isinstance(exc, StudentTimeout):
            _TIMED_OUT[id(version.obj)] = (version.obj, b.error, b.error_detail)
    return b


_TIMED_OUT: dict[int, tuple[Any, str, str]] = {}
"""id of a builder that ran out of time -> (the builder, its error, the detail)."""


def probe_shapes(role: str, model: Any, facts: dict[str, Any]) -> tuple[tuple, tuple]:
    """Input shape (declared, or guessed) and output shape on a batch of 2."""
    import tensorflow as tf

    shape = None
    try:
        if model.inputs:
            shape = tuple(model.inputs[0].shape)
    except (AttributeError, ValueError):
        shape = None
    if shape is None:
        shape = (None, int(facts["noise_dim"])) if role == "generator" else \
            (None, *facts["image_shape"])
    x = tf.random.normal([2, *[d or 1 for d in shape[1:]]], seed=None)
    y = model(x, training=False)
    if isinstance(y, (list, tuple)):
        y = y[0]
    return shape, (None, *tuple(y.shape)[1:])


def looks_like(role: str, b: Built) -> bool:
    """Shape test used to guess unnamed models: noise -> image, or image -> score."""
    if not b.ok:
        return False
    i, o = b.input_shape, b.output_shape
    if role == "generator":
        return len(i) == 2 and len(o) == 4
    return len(i) == 4 and (len(o) == 1 or (len(o) == 2 and o[1] == 1))


def guess_candidates(code: StudentCode, role: str, seconds: float, exclude: set[str],
                     facts: dict[str, Any]) -> list[Built]:
    """Last resort: try other zero-argument functions and Keras model objects by their shapes."""
    found = []
    for name, versions in code.versions.items():
        if name in exclude or _NOT_A_MODEL.search(name):
            continue
        v = versions[-1]
        if is_keras_model(v.obj):
            how = "model object"
        elif inspect.isfunction(getattr(v.obj, "python_function", v.obj)) and \
                fill_arguments(v.obj, {}, facts) == {}:
            how = "shape guess"
        else:
            continue
        b = build(role, v, how, code.ns, seconds, facts)
        if looks_like(role, b):
            found.append(b)
    return found


def discover(code: StudentCode, role: str, seconds: float,
             facts: dict[str, Any]) -> list[Built]:
    """All candidates for ``role`` in definition order, each built (or with its error)."""
    built = [build(role, v, how, code.ns, seconds, facts)
             for v, how in candidate_versions(code, role, facts)]
    if not any(b.ok for b in built):
        other = "discriminator" if role == "generator" else "generator"
        exclude = {v.name for v, _ in candidate_versions(code, other, facts)} | \
            {v.name for v, _ in candidate_versions(code, role, facts)}
        built += guess_candidates(code, role, seconds, exclude, facts)
    return built
