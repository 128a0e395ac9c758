"""Compare tick-label OCR candidates on the benchmark: DejaVu templates, RapidOCR, Tesseract.

Run::

    python -m reference.plots.compare_ocr runs/plots/bench [--limit 100]

Every candidate reads the same crops: the y and x tick labels the reader itself cut out of
each fake-accuracy panel. Scored per label (the text equals matplotlib's own label) and per
panel (the y axis fitted from that candidate's readings maps 0 and 1 to within 0.01 of the
truth). RapidOCR (``pip install rapidocr-onnxruntime``) and Tesseract (the ``tesseract``
binary) are used only when installed; a missing one is reported, not an error.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image

from grader.intake.figures.plots.glyphs import parse_number, read_label
from grader.intake.figures.plots.panels import find_panels
from grader.intake.figures.plots.raster import load_raster
from grader.intake.figures.plots.ticks import Label, fit_axis, read_axes, text_layer

Reader = Callable[[np.ndarray], tuple[str, float]]
#: a fitted y axis is right when it maps data 0 and 1 within this of the truth
AXIS_TOLERANCE = 0.01


def _crop_image(ink: np.ndarray, pad: int = 6, min_height: int = 32) -> np.ndarray:
    """Dark-on-white RGB crop with a margin, scaled up so that digits are a few tens of px."""
    img = Image.fromarray((255 - np.clip(ink, 0, 1) * 255).astype(np.uint8))
    if img.height < min_height:
        f = min_height / img.height
        img = img.resize((max(1, round(img.width * f)), min_height), Image.BICUBIC)
    canvas = Image.new("L", (img.width + 2 * pad, img.height + 2 * pad), 255)
    canvas.paste(img, (pad, pad))
    return np.asarray(canvas.convert("RGB"))


def rapidocr_reader() -> Reader | None:
    """RapidOCR's recognition model alone (the crop is already one text line)."""
    try:
        from rapidocr_onnxruntime import RapidOCR
    except ImportError:
        return None
    engine = RapidOCR()

    def read(ink: np.ndarray) -> tuple[str, float]:
        result, _ = engine(_crop_image(ink), use_det=False, use_cls=False, use_rec=True)
        if not result:
            return "", 0.0
        text, score = result[0][0], float(result[0][1])
        return text.replace("-", "−").replace(" ", ""), score

    return read


def tesseract_reader() -> Reader | None:
    """The ``tesseract`` binary on one text line, digits and signs only."""
    exe = shutil.which("tesseract")
    if exe is None:
        return None

    def read(ink: np.ndarray) -> tuple[str, float]:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "crop.png"
            Image.fromarray(_crop_image(ink, min_height=40)).save(path)
            out = subprocess.run([exe, str(path), "stdout", "--psm", "7", "-c",
                                  "tessedit_char_whitelist=0123456789.-"],
                                 capture_output=True, text=True, timeout=30)
        text = out.stdout.strip().replace(" ", "")
        return (text.replace("-", "−"), 1.0) if text else ("", 0.0)

    return read


def _truth_text(label: Label, truths: list[dict], scale: int) -> str | None:
    x0, y0, x1, y1 = (v * scale for v in label.box)
    for t in truths:
        bx0, by0, bx1, by1 = t["bbox"]
        cx, cy = (bx0 + bx1) / 2, (by0 + by1) / 2
        if x0 - 2 <= cx <= x1 + 2 and y0 - 2 <= cy <= y1 + 2:
            return t["text"]
    return None


def _axis_ok(labels: list[Label], truth_y_px: tuple[float, float], scale: int) -> bool:
    m = fit_axis(labels, vertical=True)
    if m is None:
        return False
    a, b = truth_y_px
    return all(abs(m.value(((a * v + b) - 0.5) / scale) - v) <= AXIS_TOLERANCE
               for v in (0.0, 1.0))


def main(argv: list[str] | None = None) -> int:
    """Command line: ``DIR [--limit N] [--json OUT]``."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder", type=Path)
    ap.add_argument("--limit", type=int, default=0, help="use only the first N plots")
    ap.add_argument("--json", type=Path, default=None, help="write the summary here")
    ap.add_argument("--only", default="", help="comma-separated candidates to run (default: all)")
    args = ap.parse_args(argv)
    readers: dict[str, Reader | None] = {"templates": read_label, "rapidocr": rapidocr_reader(),
                                         "tesseract": tesseract_reader()}
    if args.only:
        readers = {k: v for k, v in readers.items() if k in args.only.split(",")}
    records = sorted(args.folder.glob("plot_*.json"))[:args.limit or None]
    if not records:
        print(f"No plots found in '{args.folder}'.", file=sys.stderr)
        return 1
    stats = {k: {"labels": 0, "right": 0, "seconds": 0.0, "axes": 0, "axes_ok": 0, "plots": 0}
             for k, v in readers.items() if v is not None}
    for path in records:
        rec = json.loads(path.read_text())
        image = next((im for im in rec["images"] if im["fake"]), None)
        if image is None:
            continue
        r = load_raster(args.folder / image["file"])
        panels = find_panels(r)
        layer = text_layer(r, panels)
        ax = image["axes"][image["fake"]["axes"]]
        bx = [v / r.scale for v in ax["bbox"]]
        cx, cy = (bx[0] + bx[2]) / 2, (bx[1] + bx[3]) / 2
        panel = next((p for p in panels if p.box[0] <= cx <= p.box[2]
                      and p.box[1] <= cy <= p.box[3]), None)
        if panel is None:
            continue
        _, _, ylab, xlab = read_axes(layer, panel, r.rgb.shape[:2])
        crops = [(lb, layer.ink[max(0, lb.box[1] - 1):lb.box[3] + 2,
                                max(0, lb.box[0] - 1):lb.box[2] + 2]) for lb in ylab + xlab]
        truths = ax["yticks"] + ax["xticks"]
        for name, reader in readers.items():
            if reader is None:
                continue
            st = stats[name]
            st["plots"] += 1
            start = time.perf_counter()
            read_y = []
            for lb, crop in crops:
                peak = float(crop.max()) or 1.0
                text, score = reader(crop / peak)
                truth = _truth_text(lb, truths, r.scale)
                if truth is not None:
                    st["labels"] += 1
                    st["right"] += int(text == truth)
                if any(lb is y for y in ylab):
                    read_y.append(Label(lb.box, text, score, parse_number(text), lb.centre))
            st["seconds"] += time.perf_counter() - start
            st["axes"] += 1
            st["axes_ok"] += int(_axis_ok(read_y, tuple(image["fake"]["y_px"]), r.scale))
    print("| OCR | labels | labels read exactly | y axes calibrated | ms per plot |")
    print("|---|---|---|---|---|")
    for name, st in stats.items():
        print(f"| {name} | {st['labels']} | {100 * st['right'] / max(1, st['labels']):.1f}% | "
              f"{100 * st['axes_ok'] / max(1, st['axes']):.1f}% | "
              f"{1000 * st['seconds'] / max(1, st['plots']):.0f} |")
    missing = [k for k, v in readers.items() if v is None]
    if missing:
        print(f"\nnot installed: {', '.join(missing)}")
    if args.json is not None:
        args.json.write_text(json.dumps(stats, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
