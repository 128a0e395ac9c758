"""Fixtures of the judge tests: real CIFAR test images, matplotlib renderings, a fake judge."""

from __future__ import annotations

import io

import numpy as np
import pytest

from grader.assignment import get_assignment
from grader.judge.calibration import FeatureStats


@pytest.fixture(scope="session")
def real_images() -> np.ndarray:
    """The bundled subset's 500 real CIFAR-10 test images (uint8)."""
    from grader.data import load_dataset

    return load_dataset("bundled").x_test


def render_png(fig) -> np.ndarray:
    """Save a matplotlib figure as PNG bytes (as students do) and read it back as RGBA."""
    import matplotlib.pyplot as plt
    from PIL import Image

    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    buf.seek(0)
    return np.asarray(Image.open(buf).convert("RGBA"))


def lesson_grid(images, rows=4, cols=4, figsize=(4, 4), axis_off=True, title=False,
                colorbar=False, cmap=None) -> np.ndarray:
    """The lesson's ``generate_and_save_images`` figure (plt.subplot grid), with variations."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=figsize)
    for i in range(rows * cols):
        plt.subplot(rows, cols, i + 1)
        plt.imshow(images[i] if cmap is None else images[i][:, :, 0], cmap=cmap)
        if title:
            plt.title(f"sample {i}")
        if colorbar:
            plt.colorbar()
        if axis_off:
            plt.axis("off")
    return render_png(fig)


class FakeJudge:
    """A judge whose 'classifier' reads the answer off the pixels (identity-like).

    probs: softmax of 10 fixed pixel values scaled by ``sharpness``; features: the first
    ``dim`` pixel values. Deterministic and per-image, so batch size cannot matter.
    """

    def __init__(self, tau: float = 0.5, dim: int = 8, sharpness: float = 0.1,
                 gate: np.ndarray | None = None) -> None:
        self.tau, self.dim, self.sharpness, self.gate = tau, dim, sharpness, gate
        rng = np.random.default_rng(0)
        self.reference_stats = FeatureStats(mean=rng.normal(100, 10, dim),
                                            cov=np.eye(dim) * 400.0, n=1000)
        self.fcd_table = {16: 10.0, 1000: 1.0}
        self.warnings: list[str] = []
        self.class_names = get_assignment().class_names
        self.image_shape = get_assignment().image_shape

    def predict(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        flat = np.asarray(images, dtype=np.float64).reshape(len(images), -1)
        z = flat[:, :10] * self.sharpness
        z -= z.max(axis=1, keepdims=True)
        p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
        return p, flat[:, 10:10 + self.dim]

    def in_distribution(self, features: np.ndarray):
        return None if self.gate is None else self.gate[: len(features)]


@pytest.fixture
def fake_judge() -> FakeJudge:
    return FakeJudge()
