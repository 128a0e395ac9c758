"""The student's models as the trusted process sees them: files, loaded safely, re-initialised.

A model file crossed from the student's process; it is data, but hostile data. It is loaded
with ``safe_mode=True`` (no code from the file), its configuration is searched for arrays
that could carry images (an initializer or a normalisation layer with thousands of numbers
in it), its shapes are checked against the assignment, and it is re-initialised with
``keras.models.clone_model``: whatever weights the student's process saved are dropped, so
a "generator" that looks images up in frozen weights has nothing to look up.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MAX_CONFIG_NUMBERS = 256
"""A list of more numbers than this in a model's configuration is data, not a setting."""
MAX_MODEL_BYTES = 256 << 20


class ModelRefused(ValueError):
    """A model file that cannot be used, with the reason in plain words."""


@dataclass
class LoadedModel:
    """A verified, re-initialised model and what was found out about it."""

    model: Any
    input_shape: tuple
    output_shape: tuple


def longest_number_list(config: Any) -> int:
    """The length of the longest list of numbers anywhere in a (JSON) configuration."""
    best = 0
    todo = [config]
    while todo:
        item = todo.pop()
        if isinstance(item, dict):
            todo.extend(item.values())
        elif isinstance(item, list):
            numbers = sum(isinstance(x, (int, float)) and not isinstance(x, bool) for x in item)
            best = max(best, numbers)
            todo.extend(x for x in item if isinstance(x, (list, dict)))
    return best


def load_model_file(path: Path) -> Any:
    """Load a ``.keras`` file with ``safe_mode=True``.

    Raises:
        ModelRefused: The file is missing, too large, not loadable safely, or carries data
            in its configuration.
    """
    import keras

    path = Path(path)
    if not path.is_file():
        raise ModelRefused(f"{path.name} is missing")
    if path.stat().st_size > MAX_MODEL_BYTES:
        raise ModelRefused(f"{path.name} is larger than {MAX_MODEL_BYTES >> 20} MB")
    try:
        model = keras.saving.load_model(path, compile=False, safe_mode=True)
    except Exception as exc:  # keras raises many types for bad or unsafe files
        raise ModelRefused(f"{path.name} cannot be loaded safely ({type(exc).__name__}: "
                           f"{str(exc)[:200]})") from exc
    try:
        config = json.loads(json.dumps(model.get_config(), default=str))
    except Exception as exc:  # an odd config: refuse rather than guess
        raise ModelRefused(f"{path.name} has a configuration that cannot be read") from exc
    if longest_number_list(config) > MAX_CONFIG_NUMBERS:
        raise ModelRefused(f"{path.name} stores a long list of numbers in its configuration "
                           "(data hidden in a layer or initializer setting)")
    return model


def fresh_copy(model: Any) -> Any:
    """The same architecture with new weights from its own initializers."""
    import keras

    return keras.models.clone_model(model)


def _shapes(model: Any, probe_shape: tuple[int, ...]) -> tuple[tuple, tuple]:
    import tensorflow as tf

    shape = tuple(model.inputs[0].shape) if getattr(model, "inputs", None) else (None,
                                                                                  *probe_shape)
    x = tf.random.normal([2, *[d or 1 for d in shape[1:]]], seed=0)
    y = model(x, training=False)
    if isinstance(y, (list, tuple)):
        y = y[0]
    return shape, (None, *tuple(y.shape)[1:])


def load_generator(path: Path, image_shape: tuple[int, ...], noise_dim: int) -> LoadedModel:
    """A fresh copy of the exported generator, checked: noise (None, k) -> image_shape."""
    model = fresh_copy(load_model_file(path))
    try:
        in_shape, out_shape = _shapes(model, (noise_dim,))
    except Exception as exc:
        raise ModelRefused(f"the generator does not run on noise ({type(exc).__name__})") from exc
    if len(in_shape) != 2 or tuple(out_shape[1:]) != tuple(image_shape):
        raise ModelRefused(f"the generator maps {in_shape} to {out_shape}, not to images of "
                           f"shape {tuple(image_shape)}")
    return LoadedModel(model, in_shape, out_shape)


def load_discriminator(path: Path, image_shape: tuple[int, ...]) -> LoadedModel:
    """A fresh copy of the exported discriminator, checked: images -> one score each."""
    model = fresh_copy(load_model_file(path))
    try:
        in_shape, out_shape = _shapes(model, tuple(image_shape))
    except Exception as exc:
        raise ModelRefused(f"the discriminator does not run on images "
                           f"({type(exc).__name__})") from exc
    if tuple(in_shape[1:]) != tuple(image_shape) or tuple(out_shape[1:]) not in ((1,), ()):
        raise ModelRefused(f"the discriminator maps {in_shape} to {out_shape}, not images to "
                           "one score each")
    return LoadedModel(model, in_shape, out_shape)


def same_architecture(a: Any, b: Any) -> bool:
    """Whether two models have the same layers (classes) and the same weight shapes."""
    def signature(m: Any) -> list[tuple[str, tuple[tuple[int, ...], ...]]]:
        out = []
        for layer in getattr(m, "layers", []):
            shapes = tuple(tuple(int(d) for d in w.shape) for w in layer.weights)
            out.append((type(layer).__name__, shapes))
        return out

    return signature(a) == signature(b)
