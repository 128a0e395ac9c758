"""Files a training run leaves behind: sample grids, the GIF and the history plot (pictures).

Used by :func:`grader.training.trainer.write_outputs` (``grade reference train``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


def grid_image(tiles: np.ndarray, cols: int | None = None, pad: int = 2, scale: int = 2) -> np.ndarray:
    """Arrange uint8 tiles (K, H, W, C) on a white canvas, ``scale``x nearest upsampling."""
    k = len(tiles)
    cols = cols or int(np.ceil(np.sqrt(k)))
    rows = int(np.ceil(k / cols))
    h, w = tiles.shape[1] * scale, tiles.shape[2] * scale
    canvas = np.full((rows * (h + pad) + pad, cols * (w + pad) + pad, 3), 255, np.uint8)
    for i, tile in enumerate(tiles):
        r, c = divmod(i, cols)
        big = tile.repeat(scale, axis=0).repeat(scale, axis=1)
        if big.shape[-1] == 1:  # grey images on the RGB canvas
            big = np.repeat(big, 3, axis=-1)
        y, x = pad + r * (h + pad), pad + c * (w + pad)
        canvas[y:y + h, x:x + w] = big[..., :3]
    return canvas


def save_grid_png(tiles: np.ndarray, path: Path) -> None:
    """Write a grid of uint8 tiles as a PNG."""
    from PIL import Image

    Image.fromarray(grid_image(tiles)).save(path)


def save_gif(frame_paths: list[Path], path: Path, duration_ms: int = 200) -> None:
    """Write the grid PNGs as an animated GIF (all frames in order, looping)."""
    import imageio.v3 as iio

    frames = [iio.imread(p)[..., :3] for p in frame_paths]
    if frames:
        iio.imwrite(path, np.stack(frames), extension=".gif", duration=duration_ms, loop=0)


def save_history_png(history: dict[str, list[float]], path: Path) -> None:
    """Plot losses and the trusted real/fake accuracy with the 0.5 reference line."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(9, 6), sharex=True)
    for key in ("gen_loss", "disc_loss"):
        ax1.plot(history.get(key, []), label=key, linewidth=0.8)
    ax1.set_ylabel("loss")
    ax1.legend(loc="upper left")
    ax1.set_title("model loss")
    for key in ("fake_accuracy", "real_accuracy"):
        ax2.plot(history.get(key, []), label=key, linewidth=0.8)
    ax2.axhline(0.5, color="k", linestyle="--", linewidth=0.8, label="0.5")
    ax2.set_ylim(-0.05, 1.05)
    ax2.set_ylabel("accuracy")
    ax2.set_xlabel("step")
    ax2.legend(loc="upper left")
    ax2.set_title("discriminator accuracy (from logits)")
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
