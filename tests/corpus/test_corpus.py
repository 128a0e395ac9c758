"""Build two corpus notebooks with a tiny budget and check what they hold and their truth."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

CASES = ("upsampling_gif_markdown", "dwins_missing_gif")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    """A corpus of the two cases, built once (tiny budget, committed generators only)."""
    from reference.corpus import make_corpus

    out = tmp_path_factory.mktemp("corpus")
    assert make_corpus.main(["--out", str(out), "--only", ",".join(CASES), "--tiny"]) == 0
    return out


def _notebook(folder: Path) -> nbformat.NotebookNode:
    (path,) = folder.glob("*.ipynb")
    return nbformat.read(path, as_version=4)


def test_notebooks_are_valid_and_executed(corpus: Path) -> None:
    """Valid nbformat, every code cell run, summaries, the sanity plot, grid and history."""
    for name in CASES:
        nb = _notebook(corpus / name)
        nbformat.validate(nb)
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert len(nb.cells) >= 35
        assert all(c.execution_count is not None for c in code)
        texts = "".join(o.get("text", "") for c in code for o in c.outputs)
        assert 'Model: "sequential' in texts  # generator.summary() printed
        sanity = next(c for c in code if "generated_image[0, :, :, 0]" in c.source)
        assert any("image/png" in o.get("data", {}) for o in sanity.outputs)
        train = next(c for c in code if c.source.startswith("%%time"))
        assert sum("image/png" in o.get("data", {}) for o in train.outputs) >= 2  # grid + plot
        assert any(m.cell_type == "markdown" and "Step 1" in m.source for m in nb.cells)


def test_files_follow_the_case(corpus: Path) -> None:
    """The markdown-linked GIF is submitted; the missing-GIF case submits none."""
    gif_case, no_gif_case = (corpus / n for n in CASES)
    nb = _notebook(gif_case)
    assert any(c.cell_type == "markdown" and "cifar10_dcgan.gif" in c.source for c in nb.cells)
    assert (gif_case / "cifar10_dcgan.gif").is_file()
    assert list((gif_case / "generated_samples").glob("sample_epoch_*.png"))
    assert not list(no_gif_case.rglob("*.gif"))
    assert list((no_gif_case / "training_history").glob("*.png"))


def test_truth_entries(corpus: Path) -> None:
    """Every item has a status and a reason; recomputing the truth gives the same answer."""
    from reference.corpus.truth import ITEMS, LEVELS, recompute

    truth = json.loads((corpus / "truth.json").read_text())
    by_name = {e["name"]: e for e in truth["notebooks"]}
    assert set(by_name) == set(CASES)
    for entry in by_name.values():
        assert set(entry["items"]) == set(ITEMS)
        assert all(v["status"] in LEVELS and v["reason"] for v in entry["items"].values())
        assert entry["features"]
    # a GIF the code writes but the submission lacks is present but unjudged (issue 15): half
    # of the GIF part, so with a curve stuck near 1.0 item 2 is partial; no Step 7: item 3 fails
    dwins = by_name["dwins_missing_gif"]["items"]
    assert dwins["training_progress"]["status"] == "partial"
    assert "present, unjudged" in dwins["training_progress"]["reason"]
    assert dwins["improvement"]["status"] == "fail"
    again = recompute(corpus)
    assert {e["name"]: e["items"] for e in again["notebooks"]} == {
        n: e["items"] for n, e in by_name.items()}
