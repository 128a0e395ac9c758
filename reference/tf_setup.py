"""TensorFlow start-up: quiet logs, seeds, threads, and the device in use."""

from __future__ import annotations

import os


def configure_tensorflow(seed: int | None = None, threads: int | None = None) -> str:
    """Seed Python/NumPy/TF, optionally cap TF threads; return "GPU" or "CPU".

    A GPU is used automatically when TensorFlow sees one (``pip install -e '.[gpu]'``).
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf

    if threads:
        try:
            tf.config.threading.set_intra_op_parallelism_threads(threads)
            tf.config.threading.set_inter_op_parallelism_threads(max(1, threads // 2))
        except RuntimeError:
            pass  # already initialised: keep TF's choice
    if seed is not None:
        tf.keras.utils.set_random_seed(seed)
    gpus = tf.config.list_physical_devices("GPU")
    for gpu in gpus:
        try:
            tf.config.experimental.set_memory_growth(gpu, True)
        except RuntimeError:
            pass
    return "GPU" if gpus else "CPU"
