"""TensorFlow set-up, in one place: a quiet import, thread caps, seeds, GPU memory growth.

TensorFlow is imported lazily (``grade --help`` and the intake never load it). Its C++
start-up notices ignore ``TF_CPP_MIN_LOG_LEVEL`` in recent releases and tell a grader's user
nothing, so file descriptor 2 is silenced while it loads; Python exceptions still propagate.
"""

from __future__ import annotations

import os
import sys
from typing import Any


def import_tensorflow_quietly() -> Any:
    """Import and return ``tensorflow`` without its start-up chatter on stderr."""
    if "tensorflow" in sys.modules:
        return sys.modules["tensorflow"]
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
            import tensorflow as tf
    finally:
        os.dup2(saved, 2)
        os.close(saved)
    return tf


def limit_threads(threads: int | None, inter_op: int = 1) -> None:
    """Cap TensorFlow's intra-op threads (and inter-op threads) in this process, if possible.

    A no-op when ``threads`` is falsy or TensorFlow's runtime has already started (the
    setting can no longer change then).
    """
    if not threads:
        return
    tf = import_tensorflow_quietly()
    try:
        tf.config.threading.set_intra_op_parallelism_threads(int(threads))
        tf.config.threading.set_inter_op_parallelism_threads(int(inter_op))
    except RuntimeError:
        pass  # the runtime is initialised; keep its settings


def configure_tensorflow(seed: int | None = None, threads: int | None = None,
                         inter_op: int = 1) -> str:
    """Quiet import, thread caps, seeds (Python, NumPy, TF) and GPU memory growth.

    Returns:
        ``"GPU"`` when TensorFlow sees a GPU (it is then used automatically), else ``"CPU"``.
    """
    tf = import_tensorflow_quietly()
    limit_threads(threads, inter_op)
    if seed is not None:
        tf.keras.utils.set_random_seed(int(seed))
    gpus = tf.config.list_physical_devices("GPU")
    for gpu in gpus:
        try:
            tf.config.experimental.set_memory_growth(gpu, True)
        except RuntimeError:
            pass  # already initialised
    return "GPU" if gpus else "CPU"
