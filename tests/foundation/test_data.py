"""The CIFAR-10 data layer: every source format, the cache, and clear errors."""

from __future__ import annotations

import pickle
import tarfile
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from grader.assignment import get_assignment
from grader.data import load_dataset
from grader.errors import DataError


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch):
    monkeypatch.setenv("DCGAN_GRADER_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("DCGAN_GRADER_DATA", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))


def _images(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return (rng.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8),
            np.arange(n, dtype=np.int64) % 10)


def _write_batches(folder: Path) -> tuple[np.ndarray, np.ndarray]:
    folder.mkdir(parents=True)
    xs, ys = [], []
    for i in range(1, 6):
        x, y = _images(4, i)
        xs.append(x)
        ys.append(y)
        flat = x.transpose(0, 3, 1, 2).reshape(4, -1)
        (folder / f"data_batch_{i}").write_bytes(
            pickle.dumps({b"data": flat, b"labels": y.tolist()}))
    x, y = _images(3, 9)
    (folder / "test_batch").write_bytes(
        pickle.dumps({b"data": x.transpose(0, 3, 1, 2).reshape(3, -1), b"labels": y.tolist()}))
    return np.concatenate(xs), np.concatenate(ys)


def _write_tree(root: Path, suffix: str = ".png") -> None:
    for split, n in (("train", 2), ("test", 1)):
        for label, cls in enumerate(get_assignment().class_names[:3]):
            d = root / split / cls
            d.mkdir(parents=True)
            for i in range(n):
                x, _ = _images(1, label * 10 + i)
                Image.fromarray(x[0]).save(d / f"{i:04d}{suffix}")


def test_npz_source(tmp_path):
    x, y = _images(6, 0)
    path = tmp_path / "c.npz"
    np.savez(path, x_train=x, y_train=y, x_test=x[:2], y_test=y[:2])
    d = load_dataset(path)
    assert d.x_train.shape == (6, 32, 32, 3) and d.x_train.dtype == np.uint8
    np.testing.assert_array_equal(d.x_train, x)
    assert "npz" in d.source


def test_npz_float_images_are_converted(tmp_path):
    x, y = _images(4, 0)
    f = x.astype(np.float32) / 127.5 - 1.0
    np.savez(tmp_path / "f.npz", x_train=f, y_train=y, x_test=f, y_test=y)
    d = load_dataset(tmp_path / "f.npz")
    assert np.abs(d.x_train.astype(int) - x).max() <= 1


def test_batches_folder_and_parent(tmp_path):
    x, y = _write_batches(tmp_path / "cifar-10-batches-py")
    for path in (tmp_path / "cifar-10-batches-py", tmp_path):
        d = load_dataset(path, use_cache=False)
        np.testing.assert_array_equal(d.x_train, x)
        np.testing.assert_array_equal(d.y_train, y)
        assert d.x_test.shape == (3, 32, 32, 3)


def test_batches_tarball(tmp_path):
    _write_batches(tmp_path / "src" / "cifar-10-batches-py")
    archive = tmp_path / "cifar-10-python.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(tmp_path / "src" / "cifar-10-batches-py", arcname="cifar-10-batches-py")
    assert load_dataset(archive).x_train.shape == (20, 32, 32, 3)


def test_image_tree_folder_and_tarball(tmp_path):
    _write_tree(tmp_path / "tree")
    d = load_dataset(tmp_path / "tree")
    assert d.x_train.shape == (6, 32, 32, 3) and d.x_test.shape == (3, 32, 32, 3)
    assert sorted(set(d.y_train.tolist())) == [0, 1, 2]
    archive = tmp_path / "tree.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(tmp_path / "tree", arcname="cifar")
    d2 = load_dataset(archive)
    np.testing.assert_array_equal(d.x_train, d2.x_train)  # PNG is lossless: same pixels


def test_cache_is_used_and_fast(tmp_path):
    _write_tree(tmp_path / "tree", ".jpg")
    first = load_dataset(tmp_path / "tree")
    t0 = time.perf_counter()
    second = load_dataset(tmp_path / "tree")
    assert time.perf_counter() - t0 < 1.0
    assert second.source.endswith("(cached)")
    np.testing.assert_array_equal(first.x_train, second.x_train)


def test_env_var_and_keras_cache_order(tmp_path, monkeypatch):
    x, y = _images(4, 1)
    np.savez(tmp_path / "env.npz", x_train=x, y_train=y, x_test=x, y_test=y)
    _write_batches(tmp_path / "keras_home" / "datasets" / "cifar-10-batches-py")
    assert "cifar-10-batches-py" in load_dataset().source  # keras cache beats bundled
    monkeypatch.setenv("DCGAN_GRADER_DATA", str(tmp_path / "env.npz"))
    assert "env.npz" in load_dataset().source  # env var beats keras cache
    assert load_dataset("bundled").is_subset  # --data beats env var


def test_bundled_subset_is_balanced_and_small():
    assert get_assignment().data.subset.stat().st_size <= 5 * 1024 * 1024
    d = load_dataset("bundled")
    counts = np.bincount(d.y_train, minlength=10)
    assert counts.min() == counts.max() >= 400
    assert np.bincount(d.y_test, minlength=10).min() >= 50
    assert d.x_train.dtype == np.uint8 and d.x_train.std() > 30  # real images, not blanks


@pytest.mark.parametrize("bad", ["does/not/exist.npz", "{tmp}/empty_dir", "{tmp}/bad.npz",
                                 "{tmp}/bad.tar.gz", "{tmp}/wrong_shape.npz"])
def test_bad_sources_give_clear_error(tmp_path, bad):
    (tmp_path / "empty_dir").mkdir()
    (tmp_path / "bad.npz").write_bytes(b"not a zip")
    (tmp_path / "bad.tar.gz").write_bytes(b"\x1f\x8bgarbage")
    np.savez(tmp_path / "wrong_shape.npz", x_train=np.zeros((2, 28, 28)), y_train=[0, 1],
             x_test=np.zeros((1, 28, 28)), y_test=[0])
    with pytest.raises(DataError) as info:
        load_dataset(bad.format(tmp=tmp_path))
    message = str(info.value)
    assert "No usable CIFAR-10 data" in message and "--data" in message
