"""Transitional alias of :mod:`grader.training.trainer` for scripts written before the move
(removed when they are merged)."""

from grader.training.trainer import *  # noqa: F401,F403
from grader.training.trainer import sample_images, saved_generators, train_gan  # noqa: F401
