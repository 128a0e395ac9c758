"""``grade judge``: files, folders, JSON output, display problems and unreadable files."""

from __future__ import annotations

import json

import numpy as np
import pytest

from grader import cli
from grader.judge import classifier

from .conftest import FakeJudge, lesson_grid


@pytest.fixture
def inputs(tmp_path, real_images):
    from PIL import Image

    Image.fromarray(lesson_grid(real_images)).save(tmp_path / "real_grid.png")
    Image.fromarray(lesson_grid(real_images, cmap="viridis")).save(tmp_path / "viridis_grid.png")
    (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    np.save(tmp_path / "samples.npy", (real_images[:30] / 127.5 - 1).astype(np.float32))
    np.savez(tmp_path / "arrays.npz", good=real_images[:20], bad=np.zeros((3, 28, 28), np.uint8))
    return tmp_path


def test_json_over_a_folder(inputs, monkeypatch, capsys):
    monkeypatch.setattr(classifier, "load_judge", lambda *a, **k: FakeJudge())
    code = cli.main(["judge", str(inputs), "--json"])
    out = {r["source"]: r for r in json.loads(capsys.readouterr().out)}
    assert code == 1  # broken.png could not be read; the rest were still scored
    assert out["broken.png"]["status"] == "error"
    assert "Traceback" not in out["broken.png"]["message"]
    assert out["real_grid.png"]["status"] == "scored"
    assert out["real_grid.png"]["tiles_found"] == 16
    assert out["real_grid.png"]["result"]["n"] == 16
    assert "per_image" not in out["real_grid.png"]["result"]
    assert out["viridis_grid.png"]["status"] == "display_problem"
    assert out["viridis_grid.png"]["result"] is None
    assert out["samples.npy"]["result"]["n"] == 30
    assert out["arrays.npz:good"]["result"]["n"] == 20
    assert out["arrays.npz:bad"]["status"] == "error"


def test_table_output_and_clean_exit(inputs, monkeypatch, capsys):
    monkeypatch.setattr(classifier, "load_judge", lambda *a, **k: FakeJudge())
    code = cli.main(["judge", str(inputs / "real_grid.png"), str(inputs / "viridis_grid.png")])
    text = capsys.readouterr().out
    assert code == 0
    assert "real_grid.png" in text and "recognizable" in text and "viridis" in text


def test_missing_path_is_reported_in_words(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(classifier, "load_judge", lambda *a, **k: FakeJudge())
    assert cli.main(["judge", str(tmp_path / "nothing.png"), "--json"]) == 2  # usage, as
    assert "No such file or folder" in capsys.readouterr().err          # in every verb


def test_arrays_saved_in_common_layouts_are_read_and_say_how(real_images):
    from grader.judge.files import _from_array

    x = real_images[:6]
    ways = {
        "float [0,1]": x / 255.0,
        "float 0..255": x.astype(np.float64),
        "int64": x.astype(np.int64),
        "channels-first": x.transpose(0, 3, 1, 2),
        "tanh": x / 127.5 - 1.0,
    }
    for way, arr in ways.items():
        rep, pixels = _from_array(way, arr, (32, 32, 3))
        assert rep.status == "scored", way
        assert np.abs(pixels.astype(int) - x).max() <= 1, way  # the same pixels, however saved
        assert bool(rep.notes) == (way != "tanh"), way  # every conversion is stated
    rep, pixels = _from_array("one", x[0], (32, 32, 3))
    assert rep.status == "scored" and len(pixels) == 1
    rep, _ = _from_array("labels", np.arange(6), (32, 32, 3))
    assert rep.status == "no_images" and "skipped" in rep.message
    rep, _ = _from_array("gray", np.zeros((5, 32, 32), np.float32), (32, 32, 3))
    assert rep.status == "error" and "(5, 32, 32)" in rep.message  # the shape as saved
    rep, _ = _from_array("negative ints", x.astype(np.int64) - 300, (32, 32, 3))
    assert rep.status == "error"
