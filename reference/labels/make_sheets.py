"""Make the label set's tiles and contact sheets: sources mixed, shuffled and numbered.

Deterministic (seeded): the same generators give the same ``tiles.npz``, tables and sheets.

- ``python -m reference.labels.make_sheets tiles --batch 1`` (then 2, then 3): sample
  every source of :data:`SOURCES` for that batch, shuffle the batch's tiles together (a
  tile's id is its place in the shuffled order, after the ids of earlier batches), write
  ``reference/labels/tiles.npz`` (tiles, source and batch per tile), ``sources.csv`` (the
  source table: one row per tile) and ``sheets.csv`` (sheet, position -> tile id; no
  source), and the batch's first-pass sheets ``runs/label_sheets/sheet_NN.png``.
- ``python -m reference.labels.make_sheets retest``: after the first pass, pick the re-read
  subset (``RETEST_SHEETS`` x 64 tiles, drawn uniformly from all tiles) and lay it out in a
  new shuffled order on ``runs/label_sheets/retest_NN.png`` (``retest_sheets.csv``).

Sheets: 8x8 tiles, each upscaled 3x (32 -> 96 px) with a bilinear filter, a number 0-63
above each tile, on mid grey. 96 px is what a TA sees in a notebook (a 4x4 ``plt.subplot``
grid at figsize 4-5 in. and 72-100 dpi gives 60-100 px panels), and matplotlib's default
``interpolation='antialiased'`` smooths at such factors; a bilinear filter imitates that,
where nearest-neighbour blocks would make blurry tiles look sharper-edged than a TA sees.
"""

from __future__ import annotations

import argparse
import csv
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
SHEET_DIR = ROOT / "runs" / "label_sheets"
TILES_PATH = HERE / "tiles.npz"
SOURCES_CSV = HERE / "sources.csv"
SHEETS_CSV = HERE / "sheets.csv"
RETEST_CSV = HERE / "retest_sheets.csv"
DATA = "/work/shared/data/cifar10-jpeg.tar.gz"
SEED = 20240601
GRID = 8
PER_SHEET = GRID * GRID
SCALE = 3
RETEST_SHEETS = 5
"""Re-read subset: 5 sheets of 64 = 320 tiles (11.6% of 2,752)."""


@dataclass(frozen=True)
class Source:
    """One kind of tile: a saved generator, the untrained one, or real test photos."""

    name: str
    """Short id, e.g. ``ref50_e25`` (family, run length, epoch)."""
    n: tuple[int, int, int]
    """Tiles drawn from it in batches 1, 2 and 3."""
    path: str = ""
    """Saved generator (relative to the repository root); empty for ``untrained``/``real``."""
    epochs: float = 0.0
    """Training epochs of the generator (390 steps of 128 images each)."""


_LONG = "reference/baselines/long/generator_step_"
_B50 = "runs/baseline_50/generator_step_"
_E30 = "reference/baselines/e30/generator_"
SOURCES: tuple[Source, ...] = (
    Source("real_test", (208, 48, 32)),
    Source("untrained", (64, 16, 8)),
    Source("alice_s195", (128, 0, 0), "runs/labels_alice/generator_step_000195.keras", 0.5),
    Source("alice_s390", (192, 16, 0), "runs/labels_alice/generator_step_000390.keras", 1.0),
    Source("ref12_e01", (160, 0, 0), f"{_LONG}000390.keras", 1.0),
    Source("ref12_e03", (192, 0, 0), f"{_LONG}001170.keras", 3.0),
    Source("ref12_e06", (224, 16, 0), f"{_LONG}002340.keras", 6.0),
    Source("ref12_e10", (160, 0, 0), f"{_LONG}003900.keras", 10.0),
    Source("ref12_e12", (256, 32, 16), f"{_LONG}004680.keras", 12.0),
    Source("ref50_e08", (208, 16, 0), f"{_B50}003120.keras", 8.0),
    Source("wide_e02", (256, 16, 0), "runs/labels_wide/generator_step_000780.keras", 2.0),
    Source("ref50_e25", (0, 224, 0), f"{_B50}009750.keras", 25.0),
    Source("ref30_e15", (0, 0, 32), f"{_E30}step_005850.keras", 15.0),
    Source("ref30ema_e15", (0, 0, 40), f"{_E30}ema_step_005850.keras", 15.0),
    Source("ref30_e30", (0, 0, 96), f"{_E30}step_011700.keras", 30.0),
    Source("ref30ema_e30", (0, 0, 96), f"{_E30}ema_step_011700.keras", 30.0),
)
"""The label set's sources and their tiles in batches 1, 2 and 3. Batch 1 (2,048 tiles, 32
sheets) was made while the 50-epoch run was still training; batch 2 (384 tiles, 6 sheets)
adds its 25-epoch generator. That run stopped at about 25 epochs and its folder was later
lost, so batch 3 (320 tiles, 5 sheets) holds the 30-epoch run's generators instead
(``grade reference train --epochs 30 --ema 0.999``, see ``reference/baselines/README.md``):
the trained generator and its weight average at 15 and 30 epochs (264 tiles), mixed with
fresh tiles of the sources whose generators are still at hand (real photos, untrained,
``ref12_e12``), so that a later sheet does not reveal a tile's source either. Real photos:
288 of 2,752 (10.5%)."""
N_BATCHES = 3


def source_seed(name: str) -> int:
    """A stable per-source seed (independent of the order of :data:`SOURCES`)."""
    return (SEED + zlib.crc32(name.encode())) % 2**31


def to_uint8(x: np.ndarray) -> np.ndarray:
    """Generator output in [-1, 1] to uint8."""
    return np.clip(np.rint((np.asarray(x, np.float32) + 1.0) * 127.5), 0, 255).astype(np.uint8)


def sample_generator(model, n: int, seed: int, batch: int = 128) -> np.ndarray:
    """``n`` uint8 images from ``model`` with numpy N(0, 1) noise of ``seed``."""
    z = np.random.default_rng(seed).standard_normal((n, int(model.inputs[0].shape[-1])))
    z = z.astype(np.float32)
    return np.concatenate([to_uint8(model(z[i:i + batch], training=False))[..., :3]
                           for i in range(0, n, batch)])


def draw_source(src: Source, batch: int, real_test: np.ndarray) -> np.ndarray:
    """The tiles of one source in one batch (1, 2 or 3), uint8 (n, 32, 32, 3).

    Both batches come from one stream per source (a permutation of the real photos, a
    sequence of noise vectors) cut into consecutive parts, so batch 2 never repeats a tile of
    an earlier batch and an earlier batch does not depend on the later ones.

    Raises:
        FileNotFoundError: A generator file of :data:`SOURCES` does not exist (yet).
    """
    seed, total = source_seed(src.name), sum(src.n)
    lo = sum(src.n[:batch - 1])
    hi = lo + src.n[batch - 1]
    if hi == lo:
        return np.zeros((0, 32, 32, 3), np.uint8)
    if src.name == "real_test":
        idx = np.random.default_rng(seed).permutation(len(real_test))  # prefix-stable
        return real_test[idx[lo:hi]]
    import keras

    if src.name == "untrained":
        from reference.solution import make_generator_model

        keras.utils.set_random_seed(seed)
        return sample_generator(make_generator_model(), total, seed)[lo:hi]
    path = ROOT / src.path
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist; train it first (see module docstring)")
    model = keras.saving.load_model(path, compile=False, safe_mode=True)
    return sample_generator(model, total, seed)[lo:hi]


def render_sheet(tiles: np.ndarray, title: str):
    """An 8x8 contact sheet (PIL image): bilinear 3x tiles, numbered 0-63 above each."""
    from PIL import Image, ImageDraw, ImageFont

    size, gap, label_h, top = 32 * SCALE, 10, 16, 24
    cell_w, cell_h = size + gap, size + label_h + gap
    sheet = Image.new("RGB", (GRID * cell_w + gap, top + GRID * cell_h), (128, 128, 128))
    draw = ImageDraw.Draw(sheet)
    font = ImageFont.load_default(size=13)
    draw.text((gap, 4), title, fill=(255, 255, 255), font=font)
    for pos, tile in enumerate(tiles):
        r, c = divmod(pos, GRID)
        x, y = gap + c * cell_w, top + r * cell_h
        draw.text((x, y), str(pos), fill=(255, 255, 0), font=font)
        big = Image.fromarray(tile).resize((size, size), Image.Resampling.BILINEAR)
        sheet.paste(big, (x, y + label_h))
    return sheet


def write_csv(path: Path, header: list[str], rows: list[list]) -> None:
    """Write a small CSV table."""
    with open(path, "w", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(header)
        out.writerows(rows)


def make_tiles(batch: int) -> None:
    """Sample all sources of one batch, shuffle, append to the tiles and tables, draw sheets."""
    from grader.data import load_dataset

    real = load_dataset(DATA).x_test
    parts = [draw_source(src, batch, real) for src in SOURCES]
    tiles = np.concatenate(parts)
    source = np.concatenate([np.full(len(t), k, np.int16) for k, t in enumerate(parts)])
    order = np.random.default_rng(SEED + batch).permutation(len(tiles))
    tiles, source = tiles[order], source[order]
    old_batches = np.zeros(0, np.int8)
    if batch > 1:
        with np.load(TILES_PATH, allow_pickle=False) as z:
            old_batches = z["batch"]
            if old_batches.max() != batch - 1:
                raise SystemExit(f"{TILES_PATH} holds batches up to {old_batches.max()}; "
                                 f"make batch {old_batches.max() + 1} next")
            tiles = np.concatenate([z["tiles"], tiles])
            source = np.concatenate([z["source"], source])
    first = len(old_batches)
    batches = np.concatenate([old_batches, np.full(len(tiles) - first, batch, np.int8)])
    np.savez_compressed(TILES_PATH, tiles=tiles, source=source, batch=batches,
                        source_names=np.asarray([s.name for s in SOURCES]),
                        source_epochs=np.asarray([s.epochs for s in SOURCES]))
    write_csv(SOURCES_CSV, ["tile_id", "source", "path", "epochs", "batch"],
              [[i, SOURCES[s].name, SOURCES[s].path, SOURCES[s].epochs, int(b)]
               for i, (s, b) in enumerate(zip(source, batches))])
    write_csv(SHEETS_CSV, ["sheet", "position", "tile_id"],
              [[f"sheet_{i // PER_SHEET:02d}", i % PER_SHEET, i] for i in range(len(tiles))])
    SHEET_DIR.mkdir(parents=True, exist_ok=True)
    for k in range(first // PER_SHEET, len(tiles) // PER_SHEET):
        block = tiles[k * PER_SHEET:(k + 1) * PER_SHEET]
        render_sheet(block, f"sheet_{k:02d}").save(SHEET_DIR / f"sheet_{k:02d}.png")
    print(f"batch {batch}: {len(tiles) - first} tiles (ids {first}-{len(tiles) - 1}); "
          f"sheets {first // PER_SHEET}-{len(tiles) // PER_SHEET - 1} in {SHEET_DIR}")


def make_retest() -> None:
    """Pick the re-read subset and write its sheets in a new shuffled order."""
    with np.load(TILES_PATH, allow_pickle=False) as z:
        tiles = z["tiles"]
    rng = np.random.default_rng(SEED + 1)
    ids = rng.choice(len(tiles), RETEST_SHEETS * PER_SHEET, replace=False)  # random order
    SHEET_DIR.mkdir(parents=True, exist_ok=True)
    rows = []
    for k in range(RETEST_SHEETS):
        block = ids[k * PER_SHEET:(k + 1) * PER_SHEET]
        render_sheet(tiles[block], f"retest_{k:02d}").save(SHEET_DIR / f"retest_{k:02d}.png")
        rows += [[f"retest_{k:02d}", p, int(t)] for p, t in enumerate(block)]
    write_csv(RETEST_CSV, ["sheet", "position", "tile_id"], rows)
    print(f"{len(ids)} tiles on {RETEST_SHEETS} retest sheets in {SHEET_DIR}")


def main(argv: list[str] | None = None) -> int:
    """Command line: ``tiles`` (first pass) or ``retest`` (the re-read subset)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["tiles", "retest"])
    parser.add_argument("--batch", type=int, choices=range(1, N_BATCHES + 1), default=1,
                        help="which batch of tiles to make (``tiles`` only)")
    args = parser.parse_args(argv)
    make_tiles(args.batch) if args.what == "tiles" else make_retest()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
