"""Transitional alias of :mod:`grader.tf_setup` (removed when in-flight scripts are merged)."""

from grader.tf_setup import configure_tensorflow  # noqa: F401
