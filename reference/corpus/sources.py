"""Generator snapshots the corpus samples from, named as in the eye-label set.

A *snapshot* is one saved generator of a training run (``ref50_e25``: the 50-epoch reference
run after 25 epochs). Snapshot names follow ``reference/labels/make_sheets.py``'s ``SOURCES``
so that a notebook's final grid can show tiles that were labelled by eye: the corpus draws
the noise rows the label set drew for that source; the tile ids are found by content.

A snapshot whose file does not exist yet (the 50-epoch run is still training) is replaced by
the nearest earlier one of a fallback run; the substitution is recorded and makes the truth
provisional.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
STEPS_PER_EPOCH = 390
LABELS_DIR = ROOT / "reference" / "labels"


@dataclass(frozen=True)
class Snapshot:
    """One saved generator of a training run."""

    name: str
    """Snapshot id, e.g. ``ref50_e25`` (run, epochs) or ``alice_s100`` (run, steps)."""
    path: str
    """The ``.keras`` file, relative to the repository root; empty for ``untrained``."""
    step: int
    """Training steps of 128 images (390 per epoch)."""
    family: str
    """Architecture: ``ref`` (reference DCGAN), ``alice`` (lesson-style), ``wide``."""

    @property
    def epochs(self) -> float:
        """Training epochs."""
        return self.step / STEPS_PER_EPOCH

    @property
    def run(self) -> str:
        """The run the snapshot belongs to (``ref50``, ``ref12``, ``alice``, ``wide``)."""
        return self.name.split("_")[0]


def _run(run: str, folder: str, family: str, steps: tuple[int, ...],
         by_step: bool = False) -> list[Snapshot]:
    out = []
    for s in steps:
        whole = s % STEPS_PER_EPOCH == 0 and not by_step
        tag = f"e{s // STEPS_PER_EPOCH:02d}" if whole else f"s{s}"
        out.append(Snapshot(f"{run}_{tag}", f"{folder}/generator_step_{s:06d}.keras", s, family))
    return out


RUNS: dict[str, list[Snapshot]] = {
    "ref50": _run("ref50", "runs/baseline_50", "ref",
                  (195, 390, 780, 1170, 1950, 3120, 4680, 6240, 7800, 9750, 11700, 13650,
                   15600, 17550, 19500)),
    "ref12": _run("ref12", "reference/baselines/long", "ref", (390, 1170, 2340, 3900, 4680)),
    "alice": _run("alice", "runs/labels_alice", "alice", (100, 195, 390, 780, 1170),
                  by_step=True),
    "wide": _run("wide", "runs/labels_wide", "wide", tuple(390 * k for k in range(1, 11))),
}
"""Every snapshot the corpus knows, per run, in training order."""

UNTRAINED = Snapshot("untrained", "", 0, "ref")
LABEL_ALIAS: dict[str, str] = {}
"""Snapshot name -> label-set source name where they differ (none at present)."""
FALLBACK = {"ref50": "ref12", "wide": "ref12", "alice": "alice", "ref12": "ref12"}
"""Run to take a missing snapshot from."""

PROVISIONAL_TIER = {
    "untrained": 0, "alice_s100": 0, "alice_s195": 0, "alice_s390": 1, "alice_s780": 1,
    "alice_s1170": 1, "ref50_s195": 0, "ref12_e01": 1, "ref50_e01": 1, "ref50_e02": 1,
    "wide_e01": 1, "ref12_e03": 2, "ref50_e03": 2, "ref50_e05": 2, "ref12_e06": 2,
    "ref50_e08": 3, "ref12_e10": 3, "ref12_e12": 3,
}
"""Guessed quality before eye labels exist: 0 noise, 1 blobs, 2 shapes, 3 a few objects,
4 several objects. Snapshots not listed: ref50 from epoch 12 on is 4, other wide ones 3."""


def all_snapshots() -> dict[str, Snapshot]:
    """Every known snapshot by name (``untrained`` included)."""
    out = {s.name: s for run in RUNS.values() for s in run}
    out[UNTRAINED.name] = UNTRAINED
    return out


def tier(name: str) -> int:
    """Provisional quality tier of a snapshot (see :data:`PROVISIONAL_TIER`)."""
    if name in PROVISIONAL_TIER:
        return PROVISIONAL_TIER[name]
    return 4 if name.startswith("ref50") else 3


def label_name(snap: Snapshot) -> str:
    """The label-set source name of a snapshot (its own name unless aliased)."""
    return LABEL_ALIAS.get(snap.name, snap.name)


def exists(snap: Snapshot) -> bool:
    """True when the snapshot's generator can be loaded."""
    return snap is UNTRAINED or (ROOT / snap.path).is_file()


def resolve(name: str) -> tuple[Snapshot, bool]:
    """The snapshot to use for ``name``: itself, or the nearest earlier stand-in.

    Returns:
        The snapshot actually used and whether it is a substitute.
    """
    snaps = all_snapshots()
    want = snaps[name]
    if exists(want):
        return want, False
    pool = [s for s in RUNS[FALLBACK[want.run]] if exists(s)]
    earlier = [s for s in pool if s.step <= want.step] or pool[:1]
    return (earlier[-1] if earlier else UNTRAINED), True


@cache
def load_generator(name: str):
    """The Keras generator of a snapshot (cached; ``untrained`` is seeded and fixed)."""
    import keras

    snap = all_snapshots()[name]
    if snap is UNTRAINED:
        from reference.labels.make_sheets import source_seed
        from reference.solution import make_generator_model

        keras.utils.set_random_seed(source_seed("untrained"))
        return make_generator_model()
    return keras.saving.load_model(ROOT / snap.path, compile=False, safe_mode=True)


def to_uint8(x: np.ndarray) -> np.ndarray:
    """Generator output in [-1, 1] to uint8, as the label set converts it."""
    return np.clip(np.rint((np.asarray(x, np.float32) + 1.0) * 127.5), 0, 255).astype(np.uint8)


@cache
def label_noise(source: str) -> tuple[np.ndarray, int] | None:
    """The label set's noise rows for ``source`` (all batches) and how many are in batch 1.

    The label set draws, per source, ``default_rng(source_seed(name)).standard_normal((n,
    100))`` with ``n`` its tiles over all batches (``reference/labels/make_sheets.py``). Tiles
    drawn from these rows are in the label set; their ids are found later by content
    (:func:`match_tiles`), so the label set may reshuffle or rebatch without breaking this.
    """
    try:
        from reference.labels import make_sheets as ms
    except ImportError:
        return None
    found = [s for s in ms.SOURCES if s.name == source]
    if not found or source in ("real_test", "untrained"):
        return None
    n = found[0].n
    total = int(sum(n)) if isinstance(n, tuple | list) else int(n)
    first = int(n[0]) if isinstance(n, tuple | list) else total
    z = np.random.default_rng(ms.source_seed(source)).standard_normal((total, 100))
    return z.astype(np.float32), first


def match_tiles(tiles: np.ndarray, pool: np.ndarray, tol: int = 3) -> list[int | None]:
    """For each tile, the id of the pool tile equal to it within ``tol`` grey levels."""
    flat = pool.reshape(len(pool), -1).astype(np.int16)
    means = flat.mean(axis=1)
    out: list[int | None] = []
    for t in tiles.reshape(len(tiles), -1).astype(np.int16):
        cand = np.flatnonzero(np.abs(means - t.mean()) <= tol)
        hit = [int(c) for c in cand if np.abs(flat[c] - t).max() <= tol]
        out.append(hit[0] if hit else None)
    return out


@dataclass(frozen=True)
class Labels:
    """The eye labels of the label set's tiles (first pass)."""

    tiles: np.ndarray
    """uint8 (N, 32, 32, 3), by tile id."""
    label: dict[int, str]
    """tile id -> ``clear`` / ``plausible`` / ``none``, for labelled tiles."""
    klass: dict[int, str]
    """tile id -> class name (empty for ``none``)."""


def load_labels(folder: Path = LABELS_DIR) -> Labels | None:
    """Read ``tiles.npz`` and ``labels.csv`` (pass 1); None until both exist."""
    tiles_path, csv_path = folder / "tiles.npz", folder / "labels.csv"
    if not (tiles_path.is_file() and csv_path.is_file()):
        return None
    with np.load(tiles_path, allow_pickle=False) as z:
        tiles = z["tiles"]
    label, klass = {}, {}
    with open(csv_path, newline="") as fh:
        for row in csv.DictReader(fh):
            if str(row.get("pass", "1")).strip() not in ("", "1"):
                continue
            tid = int(row["tile_id"])
            label[tid] = row["label"].strip()
            klass[tid] = (row.get("class") or "").strip()
    return Labels(tiles, label, klass)
