"""Tests of the copy check: a tiny index from the bundled subset, and the shipped index."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pytest

from grader.judge import copies as C
from reference.make_copy_index import build_copy_index

N_TRAIN, N_TEST = 300, 100
#: (split, index within split) of the real images the tests pass off as samples
PICKED = [("train", 0), ("train", 57), ("train", 299), ("test", 3), ("test", 99)]
SHIPPED_MAX_BYTES = 6_000_000
ARCHIVE_SHA256 = "c8bf302352fdc88827187ced53d62bc26cdd5e2e2f619d5354cbd3bbd2402f28"


@pytest.fixture(scope="module")
def subset():
    """300 train and 100 test images of the bundled subset (spread over the classes)."""
    from grader.data import load_dataset

    d = load_dataset("bundled")
    tr = np.linspace(0, len(d.x_train) - 1, N_TRAIN).astype(int)
    te = np.linspace(0, len(d.x_test) - 1, N_TEST).astype(int)
    return d.x_train[tr], d.y_train[tr], d.x_test[te], d.y_test[te]


@pytest.fixture(scope="module")
def tiny(subset) -> C.CopyIndex:
    x_tr, y_tr, x_te, y_te = subset
    return build_copy_index(np.concatenate([x_tr, x_te]), np.concatenate([y_tr, y_te]),
                            (N_TRAIN, N_TEST), source="bundled subset (test)")


def picked(subset) -> tuple[np.ndarray, list[tuple[str, int]]]:
    x_tr, _, x_te, _ = subset
    return np.stack([(x_tr if s == "train" else x_te)[i] for s, i in PICKED]), PICKED


def assert_found(m: C.CopyMatches, expected: list[tuple[str, int]], mirrored: bool = False):
    assert m.is_copy.all(), (m.distance, m.fine, m.score)
    assert list(zip(m.split.tolist(), m.index.tolist())) == expected
    assert (m.mirrored == mirrored).all()


def jpeg(images: np.ndarray, quality: int) -> np.ndarray:
    from PIL import Image

    out = []
    for x in images:
        buf = io.BytesIO()
        Image.fromarray(x).save(buf, format="JPEG", quality=quality)
        out.append(np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB")))
    return np.stack(out)


def test_exact_copies_found_with_split_index_and_class(tiny, subset):
    x, where = picked(subset)
    m = C.find_copies(tiny, x)
    assert_found(m, where)
    labels = [(subset[1] if s == "train" else subset[3])[i] for s, i in where]
    assert m.label.tolist() == labels
    assert (m.distance < 0.05).all() and (m.fine < 0.05).all()


def test_jpeg_recompressed_copies_found(tiny, subset):
    x, where = picked(subset)
    assert_found(C.find_copies(tiny, jpeg(x, 60)), where)


def test_mirrored_copies_found_and_marked(tiny, subset):
    x, where = picked(subset)
    assert_found(C.find_copies(tiny, x[:, :, ::-1]), where, mirrored=True)


def test_grid_cut_copies_found(tiny, subset):
    """16 real images in the lesson's 4x4 figure, saved as PNG and cut back to tiles."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from PIL import Image

    from grader.intake.figures.tiles import extract_tiles

    x_tr = subset[0]
    chosen = list(range(0, N_TRAIN, N_TRAIN // 16))[:16]
    fig = plt.figure(figsize=(4, 4))
    for k, i in enumerate(chosen):
        plt.subplot(4, 4, k + 1)
        plt.imshow((x_tr[i].astype(np.float32) / 127.5 - 1) * 0.5 + 0.5)
        plt.axis("off")
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=72)
    plt.close(fig)
    tiles = extract_tiles(np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))).tiles
    assert len(tiles) == 16
    assert_found(C.find_copies(tiny, tiles), [("train", i) for i in chosen])


def test_noise_is_not_a_copy(tiny):
    from scipy.ndimage import gaussian_filter

    rng = np.random.default_rng(0)
    noise = rng.normal(128, 60, (32, 32, 32, 3))
    smooth = gaussian_filter(rng.normal(0, 1, (32, 32, 32, 3)), (0, 2, 2, 0))
    smooth = 128 + 60 * smooth / smooth.std()
    flat = np.broadcast_to(rng.uniform(0, 255, (8, 1, 1, 3)), (8, 32, 32, 3))
    images = np.clip(np.rint(np.concatenate([noise, smooth, flat])), 0, 255).astype(np.uint8)
    m = C.find_copies(tiny, images)
    assert m.n_copies == 0
    assert (m.score > tiny.threshold_score).all()


def test_batch_size_does_not_change_results(tiny, subset):
    x = np.concatenate([picked(subset)[0], jpeg(subset[0][:20], 50)])
    a, b = C.find_copies(tiny, x, batch=3), C.find_copies(tiny, x)
    for field in ("is_copy", "split", "index", "mirrored"):
        assert (getattr(a, field) == getattr(b, field)).all()
    np.testing.assert_allclose(a.score, b.score, atol=1e-5)


def test_restricted_index_and_empty_query(tiny, subset):
    train_only = tiny.only(("train",))
    assert len(train_only) == N_TRAIN and train_only.split_names == ("train",)
    m = C.find_copies(train_only, subset[0][:2])
    assert m.split.tolist() == ["train", "train"] and m.index.tolist() == [0, 1]
    assert len(C.find_copies(tiny, np.zeros((0, 32, 32, 3), np.uint8))) == 0
    with pytest.raises(ValueError, match="not in the index"):
        tiny.only(("validation",))


def test_rejects_images_that_are_not_uint8_32x32_rgb(tiny):
    with pytest.raises(ValueError, match="uint8"):
        C.find_copies(tiny, np.zeros((2, 32, 32, 3), np.float32))
    with pytest.raises(ValueError, match="32, 32, 3"):
        C.find_copies(tiny, np.zeros((2, 28, 28, 1), np.uint8))


def test_save_load_round_trip_is_byte_identical(tiny, tmp_path):
    a, b = tmp_path / "a.npz", tmp_path / "b.npz"
    C.save_copy_index(tiny, a)
    C.save_copy_index(C.load_copy_index(a), b)
    assert a.read_bytes() == b.read_bytes()
    back = C.load_copy_index(b)
    assert (back.codes == tiny.codes).all() and back.split_sizes == tiny.split_sizes
    assert back.source == tiny.source and back.threshold_score == tiny.threshold_score


def _rewrite(src, dst, **changes):
    """Copy an index .npz with some arrays replaced (None: removed)."""
    with np.load(src, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    for k, v in changes.items():
        if v is None:
            arrays.pop(k)
        else:
            arrays[k] = v
    np.savez(dst, **arrays)
    return dst


@pytest.mark.parametrize("changes, message", [
    ({"codes": None}, "lacks the arrays"),
    ({"version": np.asarray(99)}, "descriptor version 99"),
    ({"codes": np.zeros((4, 48), np.float32)}, "'codes' has type float32"),
    ({"fine_bits": np.zeros((3, 30), np.uint8)}, "'fine_bits' has shape"),
    ({"split_sizes": np.asarray([1, 2])}, "do not add up"),
    ({"format": np.asarray("something else")}, "not a copy index"),
    ({"threshold_score": np.asarray(np.nan)}, "not a finite number"),
    ({"mean": np.asarray([object()] * 192, dtype=object)}, "not a readable .npz"),
])
def test_malformed_index_gives_a_clear_error(tiny, tmp_path, changes, message):
    good = tmp_path / "good.npz"
    C.save_copy_index(tiny, good)
    bad = _rewrite(good, tmp_path / "bad.npz", **changes)
    with pytest.raises(C.CopyIndexError, match=message) as err:
        C.load_copy_index(bad)
    assert "make_copy_index" in err.value.detail


def test_missing_or_non_npz_index_gives_a_clear_error(tmp_path):
    with pytest.raises(C.CopyIndexError, match="does not exist"):
        C.load_copy_index(tmp_path / "nope.npz")
    (tmp_path / "text.npz").write_text("not an index")
    with pytest.raises(C.CopyIndexError, match="not a readable .npz"):
        C.load_copy_index(tmp_path / "text.npz")
    with zipfile.ZipFile(tmp_path / "cut.npz", "w") as zf:
        zf.writestr("codes.npy", b"\x93NUMPY broken")
    with pytest.raises(C.CopyIndexError):
        C.load_copy_index(tmp_path / "cut.npz")


# ---------------------------------------------------------------- the shipped index
@pytest.fixture(scope="module")
def shipped() -> C.CopyIndex:
    if not C.default_index_path().is_file():
        pytest.skip(f"no shipped copy index at {C.default_index_path()}")
    return C.load_copy_index()


def test_shipped_index_is_small_and_records_its_data(shipped):
    assert C.default_index_path().stat().st_size <= SHIPPED_MAX_BYTES
    assert shipped.split_names == ("train", "test") and shipped.split_sizes == (50_000, 10_000)
    assert shipped.version == C.DESCRIPTOR_VERSION
    assert shipped.source_sha256 == ARCHIVE_SHA256


def test_shipped_index_finds_real_test_images(shipped):
    """The bundled subset's test images are the first 50 files of each class's test folder."""
    from grader.data import load_dataset

    d = load_dataset("bundled")
    pick = np.arange(0, len(d.x_test), 37)
    per_class = len(d.x_test) // 10
    expected = d.y_test[pick] * 1000 + pick % per_class
    m = C.find_copies(shipped, np.concatenate([d.x_test[pick], jpeg(d.x_test[pick], 50)]))
    assert m.is_copy.all()
    assert (m.split == "test").all()
    assert (m.index == np.concatenate([expected, expected])).all()
    assert (m.label == np.concatenate([d.y_test[pick]] * 2)).all()
