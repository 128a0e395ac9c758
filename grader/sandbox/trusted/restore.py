"""The student's checkpoint, restored into the generator the submitted code builds.

A checkpoint earns credit only if it fits the code: its weights must load into the
generator architecture exported from the student's process. Supported: a
``tf.train.Checkpoint`` prefix (or its folder), ``.weights.h5``, and full-model ``.keras``
/ ``.h5`` files, whose *weights* are read into the exported architecture (their own
configuration is never deserialised, so a model file that is a different network does not
fit). Reading a checkpoint runs no code: it is tensors in files.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np


@dataclass
class Restored:
    """What restoring a checkpoint into the architecture gave."""

    fits_code: bool
    """All of the generator's weights came from the checkpoint."""
    how: str
    why: str = ""
    """Why it does not fit (plain words), when it does not."""
    details: dict[str, Any] = field(default_factory=dict)


def _weights(model: Any) -> list[np.ndarray]:
    return [np.array(w.numpy(), copy=True) for w in model.weights]


def _changed(before: list[np.ndarray], model: Any) -> tuple[int, int]:
    """(trainable weights changed, trainable weights in all) after a restore."""
    after = _weights(model)
    trainable = {id(w) for w in model.trainable_weights}
    flags = [id(w) in trainable for w in model.weights]
    moved = sum(f and not np.array_equal(a, b) for a, b, f in zip(before, after, flags,
                                                                   strict=False))
    return moved, sum(flags)


def _covers(have: list[tuple[int, ...]], need: list[tuple[int, ...]]) -> bool:
    """Whether the multiset ``have`` contains the multiset ``need``."""
    return not (Counter(need) - Counter(have))


def _restore_tf_checkpoint(generator: Any, discriminator: Any, prefix: str) -> Restored:
    """Find the checkpoint's object holding generator-shaped variables and restore it."""
    import tensorflow as tf

    names = tf.train.list_variables(prefix)
    roots = sorted({n.split("/")[0] for n, _ in names if "/" in n and not n.startswith("_")})
    wanted = [tuple(int(d) for d in w.shape) for w in generator.trainable_weights]
    for root in ["generator", *[r for r in roots if r != "generator"]]:
        shapes = [tuple(s) for n, s in names if n.startswith(root + "/")
                  and ".OPTIMIZER_SLOT" not in n and "VARIABLE_VALUE" in n]
        if not _covers(shapes, wanted):
            continue
        before = _weights(generator)
        tf.train.Checkpoint(**{root: generator}).restore(prefix).expect_partial()
        moved, total = _changed(before, generator)
        if moved == 0:
            continue  # same shapes, but not this object's weights (a discriminator?)
        return Restored(moved == total, "tf.train.Checkpoint",
                        "" if moved == total else f"only {moved} of the generator's {total} "
                        "weights are in the checkpoint",
                        {"prefix": prefix, "object": root, "weights_restored": moved,
                         "weights": total})
    return Restored(False, "tf.train.Checkpoint",
                    "the checkpoint holds no weights shaped like the generator your code builds"
                    f" (looked at: {', '.join(roots) or 'nothing'})", {"prefix": prefix})


def _restore_weights_file(generator: Any, path: Path) -> Restored:
    before = _weights(generator)
    try:
        generator.load_weights(path)
    except Exception as exc:  # shapes or layer counts that do not match
        return Restored(False, "load_weights", "its weights do not fit the generator your code "
                        f"builds ({type(exc).__name__}: {str(exc)[:200]})")
    moved, total = _changed(before, generator)
    return Restored(moved == total and total > 0, "load_weights",
                    "" if moved == total else "not every weight of the generator was restored",
                    {"weights_restored": moved, "weights": total})


def _restore_model_file(generator: Any, path: Path) -> Restored:
    """Weights of a full ``.keras`` model file, read without deserialising its config."""
    import zipfile

    import h5py

    before = _weights(generator)
    try:
        with zipfile.ZipFile(path) as zf, zf.open("model.weights.h5") as raw, \
                h5py.File(raw, "r") as h5:
            arrays: list[np.ndarray] = []
            h5.visititems(lambda name, obj: arrays.append(np.asarray(obj))
                          if isinstance(obj, h5py.Dataset)
                          and not name.startswith("optimizer") else None)
    except (zipfile.BadZipFile, KeyError, OSError) as exc:
        return Restored(False, "keras file", f"it is not a readable .keras file ({exc})")
    # Keras stores weights per layer in creation order under layers/<name>/vars/<i>; the
    # visit order is alphabetical, so match by shape sequence instead.
    if not _covers([tuple(a.shape) for a in arrays],
                   [tuple(int(d) for d in w.shape) for w in generator.weights]):
        return Restored(False, "keras file", "the saved model is a different network from "
                        "the generator your code builds (its weight shapes differ)")
    try:
        generator.load_weights(path)
    except Exception as exc:
        return Restored(False, "keras file", "its weights do not fit the generator your code "
                        f"builds ({type(exc).__name__})")
    moved, total = _changed(before, generator)
    return Restored(moved == total and total > 0, "keras file",
                    "" if moved == total else "not every weight of the generator was restored",
                    {"weights_restored": moved, "weights": total})


def restore_checkpoint(generator: Any, discriminator: Any, path: str | Path) -> Restored:
    """Restore ``path`` into ``generator`` (a fresh copy of the code's architecture).

    Never raises for a bad checkpoint: the result says why it does not fit.
    """
    import tensorflow as tf

    path = Path(path)
    name = path.name.lower()
    try:
        if name.endswith(".weights.h5") or (name.endswith(".h5") and path.is_file()):
            return _restore_weights_file(generator, path)
        if name.endswith(".keras"):
            return _restore_model_file(generator, path)
        if path.is_dir():
            prefix = tf.train.latest_checkpoint(str(path))
            if prefix is None:
                return Restored(False, "tf.train.Checkpoint",
                                "the folder holds no tf.train.Checkpoint")
            return _restore_tf_checkpoint(generator, discriminator, prefix)
        return _restore_tf_checkpoint(generator, discriminator, str(path))
    except Exception as exc:  # a damaged checkpoint must not stop the grading
        return Restored(False, "unknown", "the checkpoint files could not be read; they may "
                        "be cut short or damaged (upload them again, complete: the .index and "
                        f"every .data file) ({type(exc).__name__}: {str(exc)[:200]})")
