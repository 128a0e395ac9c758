"""Import TensorFlow without its start-up chatter on the terminal (absl/oneDNN notices)."""

from __future__ import annotations

import os
import sys


def import_tensorflow_quietly():
    """Import and return ``tensorflow`` with file descriptor 2 silenced during the import.

    TensorFlow's C++ start-up notices ignore ``TF_CPP_MIN_LOG_LEVEL`` in recent releases;
    they carry no information for a grader's user. Python exceptions still propagate.
    """
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


def limit_threads(threads: int | None) -> None:
    """Cap TensorFlow's intra-op threads (inter-op: 1) in this process, if still possible.

    Used when several grading runs share a machine (``grade cohort --workers N``). A no-op
    when ``threads`` is falsy or TensorFlow's runtime has already started.
    """
    if not threads:
        return
    tf = import_tensorflow_quietly()
    try:
        tf.config.threading.set_intra_op_parallelism_threads(int(threads))
        tf.config.threading.set_inter_op_parallelism_threads(1)
    except RuntimeError:
        pass  # the runtime is initialised; the setting cannot change any more
