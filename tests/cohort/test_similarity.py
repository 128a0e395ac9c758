"""Similarity flags: template discounted, copies caught, images and checkpoints, broken input."""

from __future__ import annotations

import io
import json
import pickle
import re
import time
from pathlib import Path

import nbformat
import numpy as np
import pytest
from PIL import Image

from grader.cohort import similarity as sim
from reference import calibrate_similarity as cal

FIXTURES = Path(__file__).parent / "fixtures" / "similarity"
INDEPENDENT = FIXTURES / "independent"
COPY = FIXTURES / "copied" / "s08_wgan_gp_renamed_reordered.py"
NOTES = Path(__file__).resolve().parents[3] / "shared" / "assignment"


def _print(path: Path, tmp_path: Path) -> sim.SubmissionPrint:
    return sim.fingerprint_submission(path, tmp_path / "work" / path.name)


def _submission(root: Path, code: str = "print('hi')\n") -> Path:
    root.mkdir(parents=True)
    (root / "main.py").write_text(code, encoding="utf-8")
    return root


def _code_flags(flags: list[sim.SimilarityFlag]) -> list[sim.SimilarityFlag]:
    return [f for f in flags if f.kind == "code"]


# ---------------------------------------------------------------- normalisation


def test_normalise_drops_layout_and_maps_names() -> None:
    a = 'def f(x):\n    """doc"""\n    y = x + 1  # comment\n    return layers.Dense(3, use_bias=False)(y)\n'
    b = "def gg(value):\n\n    out = value + 2\n    return layers.Dense(64,\n        use_bias=False)(out)\n"
    lib = {"layers"}
    words = [t[0] for t in sim.normalise(a, lib)]
    assert words == [t[0] for t in sim.normalise(b, lib)]
    assert "doc" not in " ".join(words) and "Dense" in words and "use_bias" in words
    assert words[:6] == ["def", "V", "(", "V", ")", ":"]


def test_normalise_survives_code_that_does_not_tokenise() -> None:
    toks = sim.normalise("def f(:\n    x = 'unterminated\n    return x\n")
    assert [t[0] for t in toks][:3] == ["def", "V", "("]


# ---------------------------------------------------------------- code flags


@pytest.fixture(scope="module")
def corpus_prints(tmp_path_factory: pytest.TempPathFactory) -> dict[str, sim.SubmissionPrint]:
    tmp = tmp_path_factory.mktemp("corpus")
    paths = sorted(p for p in INDEPENDENT.iterdir() if p.suffix in (".py", ".ipynb"))
    return {p.stem: sim.fingerprint_submission(p, tmp / p.stem) for p in paths}


def test_independent_lesson_following_solutions_are_not_flagged(corpus_prints) -> None:
    scores, _ = sim.code_scores(corpus_prints, ignore_common=False)
    assert len(scores) >= 20  # enough code added to be compared
    assert _code_flags(sim.find_similar(corpus_prints)) == []
    assert max(s for s, _ in scores.values()) < sim.CODE_THRESHOLD


def test_copy_with_renames_comments_and_reordering_is_flagged(corpus_prints, tmp_path) -> None:
    prints = {"s08": corpus_prints["s08_wgan_gp"], "zed": _print(COPY, tmp_path)}
    flags = _code_flags(sim.find_similar(prints))
    assert len(flags) == 1
    flag = flags[0]
    assert (flag.a, flag.b) == ("s08", "zed") and flag.score >= sim.CODE_THRESHOLD
    assert flag.threshold == sim.CODE_THRESHOLD and flag.detail.endswith(".")
    assert 1 <= len(flag.matches) <= sim.MAX_MATCHES
    # the regions are the copied functions, side by side, with real line numbers
    copy_lines = COPY.read_text(encoding="utf-8").split("\n")
    penalty = next(m for m in flag.matches if "def gradient_penalty(real, fake)" in m.a_text)
    where = re.fullmatch(r"s08_wgan_gp_renamed_reordered\.py:(\d+)-(\d+)", penalty.b_where)
    assert where, penalty.b_where
    first, last = int(where[1]), int(where[2])
    assert penalty.b_text == "\n".join(copy_lines[first - 1:last])
    assert "tape.watch" in penalty.a_text and ".watch(" in penalty.b_text
    assert re.fullmatch(r"s08_wgan_gp\.py:\d+-\d+", penalty.a_where)
    sizes = [len(m.a_text.split("\n")) for m in flag.matches]
    assert sizes[0] == max(sizes)


def test_lesson_code_submitted_by_two_students_is_not_flagged(tmp_path) -> None:
    lesson_py = INDEPENDENT / "s01_lesson_verbatim.py"
    nb = nbformat.v4.new_notebook()
    text = lesson_py.read_text(encoding="utf-8")
    nb.cells = [nbformat.v4.new_code_cell(part) for part in re.split(r"\n\n\n", text) if part.strip()]
    other = tmp_path / "kim.ipynb"
    nbformat.write(nb, other)
    prints = {"lee": _print(lesson_py, tmp_path), "kim": _print(other, tmp_path)}
    assert all(len(p.added()) < sim.MIN_ADDED_SHINGLES for p in prints.values())
    assert _code_flags(sim.find_similar(prints, code_threshold=0.0)) == []
    # without the lesson fingerprint the same pair would be flagged
    from grader.intake import load_submission

    bare = {n: sim.fingerprint_sources(n, sim.code_sources(load_submission(p, tmp_path / "bare" / n)),
                                       lesson=frozenset())
            for n, p in (("lee", lesson_py), ("kim", other))}
    assert _code_flags(sim.find_similar(bare))


def test_common_idioms_are_ignored_in_a_large_cohort(corpus_prints) -> None:
    base = corpus_prints["s02_functional"]
    cohort = {f"c{i:02d}": base for i in range(12)}  # 12 identical students: every shingle common
    scores, kept = sim.code_scores(cohort)
    assert scores == {} and all(not s for s in kept.values())
    assert sim.common_cut(300) == 30


# ---------------------------------------------------------------- images and checkpoints


def _grid(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    canvas = np.full((150, 150, 3), 255, np.uint8)
    for r in range(4):
        for c in range(4):
            tile = np.kron(rng.integers(0, 255, (4, 4, 3)), np.ones((8, 8, 1))).astype(np.uint8)
            canvas[8 + r * 35:8 + r * 35 + 32, 8 + c * 35:8 + c * 35 + 32] = tile
    return canvas


def _with_image(root: Path, image: Image.Image, fmt: str = "PNG") -> Path:
    _submission(root)
    (root / "generated_samples").mkdir()
    image.save(root / "generated_samples" / f"sample_epoch_0050.{fmt.lower()}", fmt)
    return root


def test_identical_and_reencoded_sample_images_are_flagged(tmp_path) -> None:
    grid = Image.fromarray(_grid(1))
    buf = io.BytesIO()
    grid.save(buf, "JPEG", quality=70)
    roots = {
        "ann": _with_image(tmp_path / "ann", grid),
        "ben": _with_image(tmp_path / "ben", grid),
        "cho": _with_image(tmp_path / "cho", Image.open(buf).resize((100, 100)), "JPEG"),
        "dan": _with_image(tmp_path / "dan", Image.fromarray(_grid(2))),
    }
    prints = {n: _print(p, tmp_path) for n, p in roots.items()}
    assert all(len(p.images) == 1 for p in prints.values())
    flags = [f for f in sim.find_similar(prints) if f.kind == "samples"]
    pairs = {(f.a, f.b): f for f in flags}
    assert set(pairs) == {("ann", "ben"), ("ann", "cho"), ("ben", "cho")}
    assert pairs[("ann", "ben")].score == 1.0 and pairs[("ann", "cho")].score >= sim.IMAGE_THRESHOLD
    assert "generated_samples/sample_epoch_0050.png" in pairs[("ann", "ben")].detail


def _noise_grid(seed: int) -> Image.Image:
    """Per-pixel grey noise in the grid layout: what an untrained generator draws."""
    canvas = _grid(0)
    noise = np.random.default_rng(seed).normal(128, 38, canvas.shape).clip(0, 255)
    tiles = canvas < 255
    canvas[tiles] = noise[tiles].astype(np.uint8)
    return Image.fromarray(canvas)


def test_different_blank_and_untrained_noise_images_are_not_flagged(tmp_path) -> None:
    blank = Image.new("RGB", (120, 120), (128, 128, 128))
    roots = {"ann": _with_image(tmp_path / "ann", Image.fromarray(_grid(3))),
             "ben": _with_image(tmp_path / "ben", Image.fromarray(_grid(4))),
             "cho": _with_image(tmp_path / "cho", blank), "dan": _with_image(tmp_path / "dan", blank),
             "eve": _with_image(tmp_path / "eve", _noise_grid(1)),
             "fay": _with_image(tmp_path / "fay", _noise_grid(2))}
    prints = {n: _print(p, tmp_path) for n, p in roots.items()}
    # nothing to compare in a flat image or in noise: the same layout alone would look alike
    assert prints["cho"].images == [] and prints["eve"].images == []
    assert [f for f in sim.find_similar(prints) if f.kind == "samples"] == []


def _with_checkpoint(root: Path, data: bytes) -> Path:
    _submission(root)
    ck = root / "training_checkpoints"
    ck.mkdir()
    (ck / "checkpoint").write_text('model_checkpoint_path: "ckpt-1"\n')
    (ck / "ckpt-1.index").write_bytes(b"index" + root.name.encode())  # differs: not compared
    (ck / "ckpt-1.data-00000-of-00001").write_bytes(data)
    return root


def test_identical_checkpoints_are_flagged(tmp_path) -> None:
    rng = np.random.default_rng(0)
    weights = rng.integers(0, 255, 8192, dtype=np.uint8).tobytes()
    other = rng.integers(0, 255, 8192, dtype=np.uint8).tobytes()
    roots = {"ann": _with_checkpoint(tmp_path / "ann", weights),
             "ben": _with_checkpoint(tmp_path / "ben", weights),
             "cho": _with_checkpoint(tmp_path / "cho", other)}
    prints = {n: _print(p, tmp_path) for n, p in roots.items()}
    flags = [f for f in sim.find_similar(prints) if f.kind == "checkpoint"]
    assert [(f.a, f.b, f.score) for f in flags] == [("ann", "ben", 1.0)]
    assert "training_checkpoints/ckpt-1" in flags[0].detail


# ---------------------------------------------------------------- robustness and records


@pytest.mark.parametrize("case", ["garbage", "empty_folder", "missing", "bad_notebook"])
def test_broken_submission_gives_an_empty_print(tmp_path, case) -> None:
    if case == "garbage":
        path = tmp_path / "garbage.py"
        path.write_bytes(bytes(np.random.default_rng(0).integers(0, 256, 4000, dtype=np.uint8)))
    elif case == "empty_folder":
        path = tmp_path / "empty"
        path.mkdir()
    elif case == "missing":
        path = tmp_path / "nobody"
    else:
        path = tmp_path / "bad.ipynb"
        path.write_bytes(b"\xff\xfe{not json")
    sp = _print(path, tmp_path)
    assert sp.added() == set() and sp.images == [] and sp.checkpoints == []
    if case != "garbage":
        assert sp.notes or not sp.segments
    assert sim.find_similar({"x": sp, "y": sp}) == []


def test_prints_and_flags_are_plain_data(corpus_prints) -> None:
    sp = corpus_prints["s03_upsample"]
    assert sim.SubmissionPrint.from_dict(json.loads(json.dumps(sp.to_dict()))) == sp
    assert pickle.loads(pickle.dumps(sp)) == sp
    assert any(s.where.startswith("s03_upsample.ipynb cell ") for s in sp.segments)
    flag = sim.SimilarityFlag("a", "b", "code", 0.9, 0.68, "x.", [sim.Match("1", "2", "p:1-2", "q:1-2")])
    assert json.loads(json.dumps(flag.to_dict()))["matches"][0]["b_where"] == "q:1-2"


def test_three_hundred_prints_compare_quickly() -> None:
    rng = np.random.default_rng(0)
    common = rng.integers(0, 2**63, 2000, dtype=np.uint64)
    prints = {}
    for i in range(300):
        hashes = [int(h) for h in np.concatenate([rng.integers(0, 2**63, 800, dtype=np.uint64),
                                                  rng.choice(common, 150, replace=False)])]
        seg = sim.CodeSegment("main.py", False, ["x"] * 50, hashes, [(1, 2, 0)] * len(hashes))
        images = [sim.ImagePrint(f"s{j}.png", rng.integers(0, 256, 32, dtype=np.uint8).tobytes().hex())
                  for j in range(sim.MAX_IMAGES)]
        prints[f"s{i:03d}"] = sim.SubmissionPrint(f"s{i:03d}", [seg], images)
    prints["copy"] = prints["s007"]
    start = time.perf_counter()
    flags = sim.find_similar(prints)
    assert time.perf_counter() - start < 10
    assert {(f.a, f.b, f.kind) for f in flags} == {("copy", "s007", "code"), ("copy", "s007", "samples")}


# ---------------------------------------------------------------- calibration


def test_code_threshold_is_the_calibrated_value() -> None:
    result = cal.calibrate_code(cal.corpus_sources(cal.corpus_paths()))
    assert result.threshold == sim.CODE_THRESHOLD
    assert result.max_independent < sim.CODE_THRESHOLD <= result.min_copied
    md = (cal.OUT_MD).read_text(encoding="utf-8")
    assert f"**Threshold: {sim.CODE_THRESHOLD:.2f}**" in md


def test_image_threshold_is_the_calibrated_value() -> None:
    result = cal.calibrate_images()
    assert result.threshold == sim.IMAGE_THRESHOLD
    assert result.max_different < sim.IMAGE_THRESHOLD <= result.min_copied


@pytest.mark.skipif(not NOTES.is_dir(), reason="course notes (shared/assignment) not available")
def test_lesson_fingerprint_is_up_to_date() -> None:
    from reference.make_lesson_fingerprint import build

    stored = json.loads(sim.lesson_fingerprint_path().read_text(encoding="utf-8"))
    assert build(NOTES) == stored
    assert len(sim.lesson_shingles()) == stored["count"] > 1000
