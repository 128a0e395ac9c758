"""Checkpoint similarity: sha256 of the weight data files; equal digests are flagged."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from grader.cohort.similarity.records import CheckpointPrint, SimilarityFlag, SubmissionPrint

#: weight files smaller than this are not compared (empty or placeholder files)
MIN_CHECKPOINT_BYTES = 1024


def checkpoint_prints(sub: Any, work_dir: Path, sp: SubmissionPrint) -> None:
    """Digest the weight data of each checkpoint of an intake ``Submission`` into ``sp``."""
    root = Path(sub.root)
    for art in sub.artifacts:
        if art.kind != "checkpoint":
            continue
        target = root / art.origin
        if target.is_file():  # .h5 / .keras
            files = [target]
        elif target.is_dir():  # SavedModel: its variables
            files = sorted((target / "variables").glob("*.data-*"))
        else:  # tf.train.Checkpoint prefix
            files = sorted(target.parent.glob(target.name + ".data-*"))
        files = [f for f in files if f.is_file() and not f.is_symlink()]
        size = sum(f.stat().st_size for f in files)
        if size < MIN_CHECKPOINT_BYTES:
            continue
        digest = hashlib.sha256()
        for f in files:
            with f.open("rb") as fh:
                for block in iter(lambda fh=fh: fh.read(1 << 20), b""):
                    digest.update(block)
        sp.checkpoints.append(CheckpointPrint(art.origin, digest.hexdigest(), size))


def checkpoint_flags(prints: dict[str, SubmissionPrint]) -> list[SimilarityFlag]:
    """One flag per pair of students holding byte-identical weight data."""
    holders: dict[str, list[tuple[str, str]]] = {}
    for name in sorted(prints):
        for ck in prints[name].checkpoints:
            holders.setdefault(ck.sha256, []).append((name, ck.origin))
    flags: dict[tuple[str, str], SimilarityFlag] = {}
    for digest, owners in holders.items():
        for x in range(len(owners)):
            for y in range(x + 1, len(owners)):
                (a, oa), (b, ob) = owners[x], owners[y]
                if a == b or (a, b) in flags:
                    continue
                detail = (f"{a}'s checkpoint {oa} and {b}'s checkpoint {ob} hold byte-identical "
                          f"weight data (sha256 {digest[:12]}).")
                flags[(a, b)] = SimilarityFlag(a, b, "checkpoint", 1.0, 1.0, detail)
    return list(flags.values())
