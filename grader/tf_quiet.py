"""Transitional alias of :mod:`grader.tf_setup` (removed when in-flight scripts are merged)."""

from grader.tf_setup import import_tensorflow_quietly, limit_threads  # noqa: F401
