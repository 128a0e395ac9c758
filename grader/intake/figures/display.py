"""Display bugs of a sample grid: the figure hides the colours the generator made.

A TA judges the grid the student shows, so a bug in showing it counts against the grid;
the student is told which bug it is and how to fix it. Four bugs of the lesson's plotting
code, told apart by the plotting code (intake has it) and by the pixels:

* ``channel0``: one channel drawn in grey (the lesson's ``predictions[i, :, :, 0]`` with
  ``cmap='gray'``, written for Fashion-MNIST);
* ``colormap``: one channel drawn through a colormap (matplotlib's default viridis);
* ``clipped``: ``[-1, 1]`` floats shown without rescaling; matplotlib clips below 0, so
  about half of every image is black;
* ``wrapped``: ``(x * 255).astype('uint8')`` of ``[-1, 1]`` floats; negative values wrap
  round to bright ones, so the image is speckled with extreme values.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from grader.text import Msg, msg

#: share of channel values at (or within 2 of) 0 above which a grid is clipped
CLIPPED_ZERO_SHARE = 0.25
#: share of neighbouring pixel pairs differing by more than 200 above which it is wrapped
WRAPPED_JUMP_SHARE = 0.08

_CHANNEL0 = re.compile(r"\[\s*(?:[\w.]+\s*,\s*)?:\s*,\s*:\s*,\s*0\s*\]|\[\s*\.\.\.\s*,\s*0\s*\]")
_RESCALE = re.compile(r"\*\s*127\.5\s*\+\s*127\.5|\+\s*1\s*\)\s*/\s*2|\*\s*0\.5\s*\+\s*0\.5|"
                      r"\+\s*1\.?0?\s*\)\s*\*\s*(?:0\.5|127\.5)|/\s*2\s*\+\s*0\.5|"
                      r"\+\s*1\)\s*/\s*2\.0|clip\(|minmax|normalize", re.IGNORECASE)
_UINT8 = re.compile(r"astype\(\s*['\"]?(np\.)?uint8|np\.uint8\(|tf\.uint8")
_TIMES_255 = re.compile(r"\*\s*255(?:\.0)?\b")


@dataclass(frozen=True)
class DisplayBug:
    """A display bug found in a grid, with what it is and how to fix it."""

    kind: str
    """``channel0``, ``colormap``, ``clipped`` or ``wrapped``."""
    evidence: str
    """How it was found (the code, the pixels, or both)."""

    @property
    def text(self) -> Msg:
        """What the bug is and how to fix it, for the student."""
        return msg(f"figures.display_{self.kind}")


def clipped_share(tiles: np.ndarray) -> float:
    """Share of channel values at 0..2 (matplotlib clipped what was below 0)."""
    x = np.asarray(tiles)
    return float((x <= 2).mean()) if x.size else 0.0


def jump_share(tiles: np.ndarray) -> float:
    """Share of horizontally neighbouring values that differ by more than 200."""
    x = np.asarray(tiles, dtype=np.int16)
    if x.ndim != 4 or x.shape[2] < 2:
        return 0.0
    return float((np.abs(np.diff(x, axis=2)) > 200).mean())


def diagnose(tiles: np.ndarray | None, *, colormap: str | None, source: str) -> DisplayBug | None:
    """The display bug of a grid (None when it shows the colours as they are).

    Args:
        tiles: The grid's tiles, uint8 (N, H, W, C), as cut from the figure.
        colormap: The colormap the tile cutter matched (None when the panels are in colour).
        source: The plotting code that drew the grid (the cell and the functions it calls).
    """
    code = source or ""
    if colormap is not None:
        kind = "channel0" if colormap in ("gray", "Greys", "binary", "bone") else "colormap"
        found = "the panels are one channel through the '" + colormap + "' colormap"
        if _CHANNEL0.search(code):
            found += " and the code shows channel 0"
        return DisplayBug(kind, found)
    if tiles is None or not len(tiles):
        return None
    wraps_in_code = bool(_UINT8.search(code) and _TIMES_255.search(code)) and \
        not _RESCALE.search(code)
    if wraps_in_code:  # the cast wraps every negative value: the code alone is enough
        return DisplayBug("wrapped", "the code casts x * 255 of the [-1, 1] output to uint8")
    if jump_share(tiles) > WRAPPED_JUMP_SHARE and clipped_share(tiles) < 0.1:
        return DisplayBug("wrapped", "neighbouring pixels jump between black and white")
    share = clipped_share(tiles)
    if share > CLIPPED_ZERO_SHARE and not _RESCALE.search(code):
        return DisplayBug("clipped", f"{share:.0%} of the colour values are black (clipped at 0)"
                          + ("" if not code else " and the code does not rescale to [0, 1]"))
    return None
