"""Similarity flags: template discounted, copies caught, images and checkpoints, broken input."""

from __future__ import annotations

import base64
import functools
import io
import json
import pickle
import re
import shutil
import time
from pathlib import Path

import nbformat
import numpy as np
import pytest
from PIL import Image

from grader.cohort import similarity as sim
from reference import calibrate_similarity as cal
from reference.similarity_corpus import derive_notebook

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


# ---------------------------------------------------------------- images every student has


def _png(image: Image.Image | np.ndarray) -> str:
    image = Image.fromarray(image) if isinstance(image, np.ndarray) else image
    buf = io.BytesIO()
    image.save(buf, "PNG")
    return base64.b64encode(buf.getvalue()).decode("ascii")


@functools.lru_cache(maxsize=1)
def _sanity_plot() -> Image.Image:
    """The lesson's ``plt.imshow(generated_image[0, :, :, 0]); plt.colorbar()`` of an untrained
    generator: a flat square next to a colorbar (it has gradients: the old code hashed it)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(4, 3), dpi=72)
    plt.imshow(np.random.default_rng(0).normal(0, 0.002, (32, 32)))
    plt.colorbar()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight")
    plt.close(fig)
    return Image.open(io.BytesIO(buf.getvalue())).convert("RGB")


def _shown(image: Image.Image | np.ndarray) -> dict:
    return nbformat.v4.new_output("display_data", data={"image/png": _png(image),
                                                        "text/plain": "<Figure size 288x288>"})


def _story(root: Path, preview: np.ndarray, final: np.ndarray) -> Path:
    """A notebook with the lesson's real preview, sanity plot and a trained final grid."""
    c = nbformat.v4.new_code_cell
    cells = [
        c("import tensorflow as tf\nimport matplotlib.pyplot as plt\n"
          "(train_x, _), _ = tf.keras.datasets.cifar10.load_data()"),
        c("for i in range(10):\n    plt.subplot(2, 5, i + 1)\n    plt.imshow(train_x[i])\nplt.show()",
          outputs=[_shown(preview)]),
        c("noise = tf.random.normal([1, 100])\ngenerated_image = generator(noise, training=False)\n"
          "plt.imshow(generated_image[0, :, :, 0])\nplt.colorbar()\nplt.show()",
          outputs=[_shown(_sanity_plot())]),
        c("def generate_and_save_images(model, epoch, test_input):\n"
          "    predictions = model(test_input, training=False)\n    for i in range(16):\n"
          "        plt.subplot(4, 4, i + 1)\n        plt.imshow(predictions[i] * 0.5 + 0.5)\n"
          "    plt.show()"),
        c("def train(dataset, epochs):\n    for epoch in range(epochs):\n"
          "        for batch in dataset:\n            train_step(batch)\n"
          "        generate_and_save_images(generator, epoch + 1, seed)"),
        c("train(train_dataset, 50)", outputs=[_shown(final)]),
    ]
    for n, cell in enumerate(cells, start=1):
        cell.execution_count = n
    nb = nbformat.v4.new_notebook()
    nb.cells = cells
    root.mkdir(parents=True)
    nbformat.write(nb, root / "dcgan.ipynb")
    return root


def _samples(flags: list[sim.SimilarityFlag]) -> set[tuple[str, str]]:
    return {(f.a, f.b) for f in flags if f.kind == "samples"}


def test_sanity_plot_and_real_preview_are_never_compared(tmp_path) -> None:
    preview = _grid(5)  # train_x[0..9]: the same images for every student
    roots = {"ann": _story(tmp_path / "ann", preview, _grid(1)),
             "ben": _story(tmp_path / "ben", preview, _grid(2)),
             "cho": _story(tmp_path / "cho", preview, _grid(1))}
    assert sim.image_hash(_sanity_plot()) is not None  # it would be compared if it were kept
    prints = {n: _print(p, tmp_path) for n, p in roots.items()}
    assert all([i.origin for i in p.images] == ["dcgan.ipynb cell 6 output 0"] for p in prints.values())
    # identical sanity plots and previews flag nobody; the same trained grid does
    assert _samples(sim.find_similar(prints)) == {("ann", "cho")}
    from grader.intake import load_submission

    left: dict[str, list[str]] = {}
    sim.compared_images(load_submission(roots["ann"], tmp_path / "w"), tmp_path / "w", left)
    assert left["real_preview"] == ["dcgan.ipynb cell 2 output 0"]
    assert left["sanity_plot"] == ["dcgan.ipynb cell 3 output 0"]


def _with_training(root: Path, frames: list[np.ndarray]) -> Path:
    """A submission with a GIF of ``frames`` and the same frames as numbered sample files."""
    _submission(root)
    (root / "generated_samples").mkdir()
    images = [Image.fromarray(f) for f in frames]
    images[0].save(root / "dcgan.gif", save_all=True, append_images=images[1:], duration=200)
    for n, image in enumerate(images, start=1):
        image.save(root / "generated_samples" / f"sample_epoch_{n:04d}.png")
    return root


def test_early_gif_frames_and_sample_files_are_not_compared(tmp_path) -> None:
    early = [_grid(100), _grid(101)]  # what every student's generator draws at first
    roots = {"ann": _with_training(tmp_path / "ann", early + [_grid(s) for s in (10, 11, 12, 13)]),
             "ben": _with_training(tmp_path / "ben", early + [_grid(s) for s in (20, 21, 22, 23)]),
             "cho": _with_training(tmp_path / "cho", early + [_grid(s) for s in (30, 31, 32, 13)])}
    prints = {n: _print(p, tmp_path) for n, p in roots.items()}
    origins = {i.origin for i in prints["ann"].images}
    assert sim.early_count(6) == 2 and len(origins) == 8
    assert "dcgan.gif frame 1" not in origins and "dcgan.gif frame 2" in origins
    assert "generated_samples/sample_epoch_0002.png" not in origins
    # the shared first frames flag nobody; the same last frame does
    assert _samples(sim.find_similar(prints)) == {("ann", "cho")}


def test_an_image_most_of_the_class_holds_is_not_compared() -> None:
    shared = sim.ImagePrint("preview.png", "ab" * 32)
    prints = {f"s{i:02d}": sim.SubmissionPrint(f"s{i:02d}", images=[shared]) for i in range(12)}
    assert sim.find_similar(prints) == []  # 12 holders > common_cut(12) = 10: by construction
    assert len(sim.find_similar(dict(list(prints.items())[:3]))) == 3


# ---------------------------------------------------------------- identical and derived notebooks

_LESSON_CELLS = [part for part in re.split(r"\n\n\n", (INDEPENDENT / "s01_lesson_verbatim.py")
                                           .read_text(encoding="utf-8")) if part.strip()]
_OWN = {
    "ann": ("## 회고\n\n처음에는 판별자 손실이 너무 빨리 줄어서 생성자가 전혀 배우지 못했다.\n"
            "학습률을 절반으로 줄였더니 40 epoch 근처부터 자동차 비슷한 모양이 보이기 시작했다.\n"
            "다음에는 스펙트럴 정규화를 판별자에 넣어서 다시 비교해 보고 싶다.",
            "def show_losses(hist, every=10):\n"
            "    smooth = np.convolve(hist['gen_loss'], np.ones(every) / every, mode='valid')\n"
            "    plt.plot(smooth, label='generator (moving average)')\n"
            "    plt.legend()\n    plt.show()\n"),
    "ben": ("## 정리\n\n배치 크기를 바꿔 가며 세 번 학습했는데 128일 때 가장 안정적이었다.\n"
            "GIF를 보면 20 epoch 이후로는 배경 색만 조금씩 바뀌고 형태는 거의 그대로다.\n"
            "mode collapse가 온 것 같아서 노이즈 차원을 늘려 보는 것이 다음 과제다.",
            "def save_grid(model, path):\n"
            "    images = (model(tf.random.normal([16, 100]), training=False).numpy() + 1) / 2\n"
            "    fig, axes = plt.subplots(4, 4)\n"
            "    for ax, im in zip(axes.ravel(), images):\n"
            "        ax.imshow(im)\n        ax.axis('off')\n    fig.savefig(path)\n"),
}


def _lesson_notebook(path: Path, who: str) -> dict:
    """A small notebook that follows the lesson, with a little of its author's own work."""
    text, code = _OWN[who]
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("## Step 1. 데이터셋 구성하기")]
    nb.cells += [nbformat.v4.new_code_cell(part) for part in _LESSON_CELLS]
    nb.cells += [nbformat.v4.new_code_cell(code), nbformat.v4.new_markdown_cell(text)]
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return json.loads(path.read_text(encoding="utf-8"))


def _kinds(flags: list[sim.SimilarityFlag]) -> dict[tuple[str, str], set[str]]:
    out: dict[tuple[str, str], set[str]] = {}
    for f in flags:
        out.setdefault((f.a, f.b), set()).add(f.kind)
    return out


def test_identical_submissions_are_flagged_however_little_they_add(tmp_path) -> None:
    raw = _lesson_notebook(tmp_path / "ann" / "ann.ipynb", "ann")
    shutil.copytree(tmp_path / "ann", tmp_path / "ben")
    (tmp_path / "ben" / "ann.ipynb").rename(tmp_path / "ben" / "ben.ipynb")  # another name
    same = derive_notebook(raw, 0, rename_names=False)  # comments rewritten, outputs cleared
    (tmp_path / "cho").mkdir()
    (tmp_path / "cho" / "cho.ipynb").write_text(json.dumps(same), encoding="utf-8")
    _lesson_notebook(tmp_path / "dan" / "dan.ipynb", "ben")
    prints = {n: _print(tmp_path / n, tmp_path) for n in ("ann", "ben", "cho", "dan")}
    assert len(prints["ann"].added()) < sim.MIN_ADDED_SHINGLES  # too little for the code score
    flags = sim.find_similar(prints)
    kinds = _kinds(flags)
    assert kinds[("ann", "ben")] == kinds[("ann", "cho")] == kinds[("ben", "cho")] == {"identical"}
    assert not any("dan" in pair for pair in kinds)
    detail = {(f.a, f.b): f.detail for f in flags}
    assert "ann.ipynb and ben's ben.ipynb are byte-identical" in detail[("ann", "ben")]
    assert "every code cell is identical once comments and layout" in detail[("ann", "cho")]
    # code more students hold than a cohort's common cut is the course's own, not a copy
    assert [(f.a, f.b) for f in sim.identical_flags(prints, common=2)] == [("ann", "ben")]


def test_small_identical_code_is_not_flagged(tmp_path) -> None:
    prints = {n: _print(_submission(tmp_path / n), tmp_path) for n in ("ann", "ben")}
    assert prints["ann"].code_sha256 == "" and prints["ann"].files == {}
    assert sim.find_similar(prints) == []


def test_derived_notebook_is_flagged_and_independent_ones_are_not(tmp_path) -> None:
    raw = _lesson_notebook(tmp_path / "ann" / "ann.ipynb", "ann")
    _lesson_notebook(tmp_path / "ben" / "ben.ipynb", "ben")
    derived = derive_notebook(raw, 3)  # renamed, recommented, settings changed, cells swapped
    (tmp_path / "zed").mkdir()
    (tmp_path / "zed" / "copy.ipynb").write_text(json.dumps(derived, ensure_ascii=False),
                                                 encoding="utf-8")
    copied = (tmp_path / "zed" / "copy.ipynb").read_text(encoding="utf-8")
    assert "show_losses" not in copied and "BATCH_SIZE" not in copied and " = 512" in copied
    prints = {n: _print(tmp_path / n, tmp_path) for n in ("ann", "ben", "zed")}
    assert prints["ann"].code_sha256 != prints["zed"].code_sha256
    assert all(sim.MIN_NOTEBOOK_FEATURES <= len(p.notebook()) for p in prints.values())
    assert all(len(p.added()) < sim.MIN_ADDED_SHINGLES for p in prints.values())
    flags = sim.find_similar(prints)
    assert _kinds(flags) == {("ann", "zed"): {"notebook"}}
    flag = flags[0]
    assert flag.score >= sim.NOTEBOOK_THRESHOLD == flag.threshold
    assert "of added code and" in flag.detail and flag.matches  # the copied function, side by side
    assert any("def show_losses" in m.a_text for m in flag.matches)
    scores, _ = sim.notebook_scores(prints)
    assert scores.get(("ann", "ben"), (0.0, 0))[0] < 0.2


def test_markdown_of_the_course_notes_is_not_the_students_own() -> None:
    heading = "**Step 1. 데이터셋 구성하기**"
    assert sim.text_shingles(heading) and sim.text_shingles(heading) <= sim.lesson_text()
    assert sim.text_print([heading, "## 회고"]) == []
    own = sim.text_print(["학습률을 절반으로 줄였더니 40 epoch 근처부터 자동차 비슷한 모양이 보였다."])
    assert len(own) == 10 - sim.TEXT_K + 1  # ten words


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
    assert sp.code_sha256 and sp.files and sp.version == sim.PRINT_VERSION
    assert sim.SubmissionPrint.from_dict(json.loads(json.dumps(sp.to_dict()))) == sp
    assert pickle.loads(pickle.dumps(sp)) == sp
    with pytest.raises(ValueError, match="version"):  # a cached print of older code is made again
        sim.SubmissionPrint.from_dict({**sp.to_dict(), "version": 1})
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


def test_notebook_threshold_is_the_calibrated_value() -> None:
    paths = cal.corpus_paths()
    result = cal.calibrate_notebook(cal.corpus_sources(paths), cal.corpus_texts(paths))
    assert result.threshold == sim.NOTEBOOK_THRESHOLD
    assert result.max_independent < sim.NOTEBOOK_THRESHOLD <= result.min_copied
    md = (cal.OUT_MD).read_text(encoding="utf-8")
    assert f"**Notebook threshold: {sim.NOTEBOOK_THRESHOLD:.2f}**" in md
    assert "## A realistic cohort" in md  # the corpus measurement is kept when the rest is redone


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


@pytest.mark.skipif(not NOTES.is_dir(), reason="course notes (shared/assignment) not available")
def test_lesson_text_is_up_to_date(tmp_path) -> None:
    from grader.cohort.similarity.text import write_lesson_text
    from reference.make_lesson_fingerprint import note_files

    count = write_lesson_text([f.read_text(encoding="utf-8") for f in note_files(NOTES)],
                              tmp_path / "lesson_text.json")
    assert (tmp_path / "lesson_text.json").read_bytes() == sim.lesson_text_path().read_bytes()
    assert len(sim.lesson_text()) == count > 1000
