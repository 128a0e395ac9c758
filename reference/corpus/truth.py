"""The rubric truth of a corpus notebook, computed from what it shows (re-runnable).

A careful TA's rules, applied to the evidence ``make_corpus`` recorded:

1. ``recognizable`` (item 1), per displayed final grid, from the eye labels of the very tiles
   shown: **pass** if at least 2 tiles are ``clear`` and ``clear + plausible >= 4``; **fail**
   if at most 1 is ``clear`` and ``clear + plausible < 4`` (blobs with at most one clear tile);
   else **partial** (the rule of ``grader.scoring.recognizable.count_level``). Display bugs
   count against the grid: channel 0 through ``gray``/viridis or unscaled [-1, 1] (clipped)
   lower it one level; the uint8 wrap-around garbles colours and fails it; 28x28x1 images (a
   Fashion-MNIST leftover) fail. The item takes the best final grid the notebook shows (the
   baseline's, an improvement's, or the before/after cell's).
2. ``training_progress`` (item 2): two parts, a GIF (shown or submitted) whose frames improve
   (at least 3 distinct frames, the last of a better generator than the first), and a shown
   fake-accuracy curve that trends down toward 0.5 (the last 10% of steps average <= 0.70 and
   at least 0.15 below the first 10%; a curve staying at 0.85-1.0 fails this part). Both:
   pass; one: partial; none: fail. A GIF that the code writes but the submission lacks is
   "present but unjudged" (issue 15): half of the GIF part, so the item is at least partial. A 28x28x1 leftover fails, whatever it shows (the TAs'
   reading in issue 15: its progress is not that of a CIFAR-10 model).
3. ``improvement`` (item 3): an applied change (code or training) with before and after grids
   both shown and the after clearly better (label score ``clear + plausible / 2`` up by at
   least 2.5 and item-1 level not lower; a wrap-around display cannot show it): pass;
   applied but after-only, or not clearly better: partial; ideas only or no section: fail.

Where a shown grid's tiles are not all labelled yet (the labels come in batches), items 1
and 3 use a provisional quality tier per generator (``sources.PROVISIONAL_TIER``) and are
marked ``provisional``. A snapshot replaced by a stand-in (its file did not exist yet) is
judged by the tiles actually shown; the entry's ``rebuild`` flag says the notebook should be
rebuilt once the intended generator exists.

Usage: ``python -m reference.corpus.truth runs/corpus`` recomputes ``truth.json`` in place.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from grader.scoring.recognizable import count_level
from reference.corpus.sources import Labels, load_labels, match_tiles, tier

LEVELS = ("fail", "partial", "pass")
ITEMS = ("recognizable", "training_progress", "improvement")
COLOR_HIDING = ("gray_ch0", "viridis_ch0", "clip")


def grid_counts(grid: dict, tiles: np.ndarray | None, labels: Labels | None) -> dict | None:
    """Eye-label counts of a grid's tiles, found in the label set by content.

    Returns None unless every tile of the grid is a labelled label-set tile.
    """
    if labels is None or tiles is None or not grid.get("label_source"):
        return None
    ids = match_tiles(tiles, labels.tiles)
    if any(i is None or i not in labels.label for i in ids):
        return None
    names = [labels.label[i] for i in ids]
    return {"clear": names.count("clear"), "plausible": names.count("plausible"),
            "none": names.count("none"), "tile_ids": ids}


def level_from_counts(c: dict) -> int:
    """Item-1 level (0 fail, 1 partial, 2 pass) of a 16-tile grid's label counts: the
    rubric's own rule (``count_level``) with 2 clear and 4 clear-or-plausible tiles."""
    named = c["clear"] + c["plausible"]
    return int(count_level(c["clear"], named, named, 2, 4))


def grid_level(grid: dict, counts: dict | None, display: str, shape: list[int]) -> tuple[int, str,
                                                                                         bool]:
    """(level, reason, provisional) of one displayed grid, display bugs included."""
    if list(shape) != [32, 32, 3]:
        return 0, f"{shape[0]}x{shape[1]}x{shape[2]} grayscale images, not CIFAR-10 colour", False
    if counts is None:
        t = tier(grid["used"])
        base, why, prov = (2 if t >= 4 else 1 if t == 3 else 0), f"tier {t} of {grid['used']}", True
    else:
        base, prov = level_from_counts(counts), False
        n = counts["clear"] + counts["plausible"] + counts["none"]
        why = f"{counts['clear']} clear, {counts['plausible']} plausible of {n}"
    if display == "uint8_wrap":
        return 0, why + "; uint8 wrap-around garbles the colours", prov
    if display in COLOR_HIDING:
        return max(0, base - 1), why + f"; display bug {display} counts against it", prov
    return base, why, prov


def _score(counts: dict | None, grid: dict) -> float:
    if counts is None:
        return float(tier(grid["used"]))
    return counts["clear"] + 0.5 * counts["plausible"]


def truth_of(ev: dict, tiles: dict[str, np.ndarray], labels: Labels | None) -> dict:
    """The three items' truth (status, reason, provisional) from a notebook's evidence."""
    display, shape = ev["display"], ev["shape"]
    finals = []  # (key, grid) of each run's last shown grid, then the compare cell's
    for run in ev["runs"]:
        shown = [g for g in run["grids"] if g["where"] in ("train_cell", "saved_png")]
        if shown:
            finals.append(shown[-1])
    comp = ev.get("compare")
    if comp:
        finals += [comp["before_grid"], comp["after_grid"]]
    judged = []
    for g in finals:
        counts = grid_counts(g, tiles.get(g["key"]), labels)
        lvl, why, prov = grid_level(g, counts, display, shape)
        judged.append((lvl, why, prov, g, counts))
    if judged:
        best = max(judged, key=lambda j: (j[0], not j[2]))
        item1 = {"status": LEVELS[best[0]], "provisional": best[2],
                 "reason": f"best final grid ({best[3]['used']}): {best[1]}"}
    else:
        item1 = {"status": "fail", "provisional": False, "reason": "no sample grid is shown"}
    item2 = _item2(ev)
    if list(shape) != [32, 32, 3]:  # the TAs of issue 15 fail a Fashion-MNIST leftover here
        item2 = {"status": "fail", "provisional": False,
                 "reason": f"the generator is a {'x'.join(str(d) for d in shape)} leftover, so "
                           f"the progress shown is not of a CIFAR-10 model (shown: "
                           f"{item2['status']}, {item2['reason']})"}
    return {"recognizable": item1, "training_progress": item2,
            "improvement": _item3(ev, judged, tiles, labels)}


def _item2(ev: dict) -> dict:
    gif_ok = [g for g in ev["gifs"] if (g["in_notebook"] or g["submitted"])
              and g["n_distinct"] >= 3 and tier(g["last"]) > tier(g["first"])]
    curve_ok = [r for r in ev["runs"] if r["curve_shown"] and r["fake_last"] is not None
                and r["fake_last"] <= 0.70 and r["fake_first"] - r["fake_last"] >= 0.15]
    curves = [f"{r['fake_first']:.2f}->{r['fake_last']:.2f}" for r in ev["runs"]
              if r["curve_shown"]]
    gifs = [f"{g['mode']}:{g['n_distinct']} frames" for g in ev["gifs"]]
    # issue 15: "a GIF that the code writes but that is not in the submission counts as
    # present but unjudged": half of the GIF part (the item is then at least partial)
    written = [g for g in ev["gifs"] if g["mode"] == "missing"]
    gif_part = 1.0 if gif_ok else 0.5 if written else 0.0
    parts = gif_part + bool(curve_ok)
    n = 2 if parts == 2 else 0 if parts == 0 else 1
    gif_words = ("improves" if gif_ok else "written by the code but not submitted (present, "
                 "unjudged)" if written else "missing/not improving")
    why = (f"GIF {gif_words} ({', '.join(gifs) or 'none'});"
           f" fake accuracy {'trends to 0.5' if curve_ok else 'not shown trending to 0.5'}"
           f" ({', '.join(curves) or 'no curve shown'})")
    return {"status": LEVELS[n], "provisional": False, "reason": why}


def _item3(ev: dict, judged: list, tiles: dict, labels: Labels | None) -> dict:
    kind = ev["improvement"]
    if kind != "applied":
        why = "no improvement section" if kind == "none" else "ideas listed, nothing applied"
        return {"status": "fail", "provisional": False, "reason": why}
    comp = ev.get("compare")
    if comp:
        before, after = comp["before_grid"], comp["after_grid"]
    else:
        first = [g for g in ev["runs"][0]["grids"] if g["where"] == "train_cell"]
        last = [g for g in ev["runs"][-1]["grids"] if g["where"] == "train_cell"]
        if not first or not last:
            return {"status": "partial", "provisional": False,
                    "reason": "change applied but before and after are not both shown"}
        before, after = first[-1], last[-1]
    cb = grid_counts(before, tiles.get(before["key"]), labels)
    ca = grid_counts(after, tiles.get(after["key"]), labels)
    prov = any(c is None for c in (cb, ca))
    if ev["display"] == "uint8_wrap":
        return {"status": "partial", "provisional": prov,
                "reason": "applied, but the wrap-around display cannot show it better"}
    if prov:
        better = tier(after["used"]) - tier(before["used"]) >= 2
        why = f"tiers {tier(before['used'])} -> {tier(after['used'])}"
    else:
        lb, la = level_from_counts(cb), level_from_counts(ca)
        better = la >= lb and _score(ca, after) - _score(cb, before) >= 2.5
        why = f"label score {_score(cb, before):.1f} -> {_score(ca, after):.1f}"
    return {"status": "pass" if better else "partial", "provisional": prov,
            "reason": f"{ev['runs'][-1]['change']}: before and after shown, {why}"
                      + ("" if better else ", not clearly better")}


def recompute(corpus: Path) -> dict:
    """Recompute every notebook's truth in ``corpus/truth.json`` from its stored evidence."""
    path = corpus / "truth.json"
    data = json.loads(path.read_text())
    labels = load_labels()
    for entry in data["notebooks"]:
        with np.load(corpus / "_evidence" / f"{entry['name']}.npz", allow_pickle=False) as z:
            tiles = {k: z[k] for k in z.files}
        entry["items"] = truth_of(entry["evidence"], tiles, labels)
        entry["provisional"] = any(v["provisional"] for v in entry["items"].values())
    data["labels"] = "reference/labels (pass 1)" if labels else "none yet: provisional tiers"
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1))
    return data


def markdown_table(data: dict) -> str:
    """The corpus as a markdown table: name, key features, truth per item (* provisional)."""
    def cell(v: dict) -> str:
        return v["status"] + ("*" if v["provisional"] else "")

    rows = ["| notebook | cells | MB | features | 1 recognizable | 2 progress | 3 improvement |",
            "|---|---|---|---|---|---|---|"]
    for e in data["notebooks"]:
        keep = [f for f in e["features"] if not f.startswith(("submit:", "preview:correct",
                                                               "counts:in_order"))
                and ":accuracy:fixed" not in f and ":loop:lesson" not in f]
        it = e["items"]
        rows.append(f"| `{e['name']}` | {e['n_cells']} | {e['size_bytes'] / 1e6:.2f} | "
                    f"{', '.join(keep)} | {cell(it['recognizable'])} | "
                    f"{cell(it['training_progress'])} | {cell(it['improvement'])} |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    """Command line: recompute ``truth.json`` of a built corpus (``--table``: print a table)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--table", action="store_true", help="print the markdown table")
    args = parser.parse_args(argv)
    data = recompute(args.corpus)
    if args.table:
        print(markdown_table(data))
    n_prov = sum(e["provisional"] for e in data["notebooks"])
    print(f"{len(data['notebooks'])} notebooks; {n_prov} with provisional items")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
