"""Submissions travel to Dask workers as bytes: packing keeps files, drops links and escapes."""

from __future__ import annotations

import io
import zipfile

from grader.cohort.remote import _unpack, pack_submission


def test_folder_round_trip_without_symlinks(tmp_path):
    sub = tmp_path / "alice"
    (sub / "training_checkpoints").mkdir(parents=True)
    (sub / "nb.ipynb").write_text("{}", encoding="utf-8")
    (sub / "training_checkpoints" / "ckpt-1.index").write_bytes(b"\x00\x01")
    (sub / "link").symlink_to("/etc/passwd")
    name, payload, is_folder = pack_submission(sub)
    assert (name, is_folder) == ("alice", True)
    dest = tmp_path / "worker"
    dest.mkdir()
    root = _unpack(name, payload, is_folder, dest)
    assert (root / "nb.ipynb").read_text() == "{}"
    assert (root / "training_checkpoints" / "ckpt-1.index").read_bytes() == b"\x00\x01"
    assert not (root / "link").exists()


def test_single_file_round_trip(tmp_path):
    f = tmp_path / "bob.py"
    f.write_text("x = 1\n")
    name, payload, is_folder = pack_submission(f)
    dest = tmp_path / "w"
    dest.mkdir()
    assert _unpack(name, payload, is_folder, dest).read_text() == "x = 1\n"


def test_unpack_refuses_paths_out_of_the_folder(tmp_path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("../escape.txt", "x")
        zf.writestr("/abs.txt", "x")
        zf.writestr("ok.txt", "fine")
    dest = tmp_path / "w"
    dest.mkdir()
    root = _unpack("s", buf.getvalue(), True, dest)
    assert (root / "ok.txt").read_text() == "fine"
    assert not (tmp_path / "escape.txt").exists() and not (dest / "escape.txt").exists()
