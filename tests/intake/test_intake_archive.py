"""Zip submissions: unpacked safely; escapes, links and bombs refused; folder links ignored."""

from __future__ import annotations

import json
import os
import stat
import zipfile
from pathlib import Path

import nbformat
import pytest

from grader.intake import SubmissionError, archive, load_submission

NB = json.dumps(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("N = 1")]))


def _zip(path: Path, members: dict[str, bytes], links: dict[str, str] | None = None) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
        for name, target in (links or {}).items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            zf.writestr(info, target)
    return path


def test_zip_with_single_top_folder(tmp_path: Path) -> None:
    path = _zip(tmp_path / "alice.zip", {"proj/main.ipynb": NB.encode(), "proj/out/s.png": b"png",
                                         "__MACOSX/proj/._main.ipynb": b"junk"})
    sub = load_submission(path, tmp_path / "work")
    assert sub.kind == "zip" and sub.name == "alice"
    assert sub.root == tmp_path / "work" / "unpacked" / "proj"
    assert sub.sources == ["main.ipynb"] and sub.code_units[0].names == ["N"]
    assert not (tmp_path / "work" / "unpacked" / "__MACOSX").exists()


def test_dotdot_and_absolute_members_are_rejected_and_nothing_escapes(tmp_path: Path) -> None:
    path = _zip(tmp_path / "evil.zip", {"main.ipynb": NB.encode(), "../evil.txt": b"x",
                                        "a/../../evil2.txt": b"x", "/abs/evil3.txt": b"x"})
    sub = load_submission(path, tmp_path / "work")
    assert sub.code_units[0].names == ["N"]
    assert not (tmp_path / "evil.txt").exists() and not (tmp_path / "work" / "evil.txt").exists()
    assert not (tmp_path / "evil2.txt").exists() and not Path("/abs/evil3.txt").exists()
    assert sum("'..'" in w for w in sub.warnings) == 2
    assert any("absolute" in w for w in sub.warnings)
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert all((tmp_path / "work" / "unpacked") in p.parents or p == path for p in written)


def test_zip_symlink_member_is_rejected(tmp_path: Path) -> None:
    path = _zip(tmp_path / "link.zip", {"main.ipynb": NB.encode()}, links={"secret": "/etc/passwd"})
    sub = load_submission(path, tmp_path / "work")
    assert not (tmp_path / "work" / "unpacked" / "secret").exists()
    assert any("links are not allowed" in w for w in sub.warnings)


def test_zip_bomb_and_limits_refuse_the_whole_zip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bomb = _zip(tmp_path / "bomb.zip", {"main.ipynb": NB.encode(), "zeros.bin": bytes(6 * 2**20)})
    with pytest.raises(SubmissionError, match="zip bomb"):
        load_submission(bomb, tmp_path / "work")
    monkeypatch.setattr(archive, "MAX_UNPACKED_BYTES", 1000)
    with pytest.raises(SubmissionError, match="too large"):
        load_submission(_zip(tmp_path / "big.zip", {"main.ipynb": NB.encode(), "b": bytes(2000)}),
                        tmp_path / "work2")
    monkeypatch.setattr(archive, "MAX_MEMBERS", 3)
    many = _zip(tmp_path / "many.zip", {f"f{i}.txt": b"x" for i in range(4)})
    with pytest.raises(SubmissionError, match="more than 3 files"):
        load_submission(many, tmp_path / "work3")
    (tmp_path / "fake.zip").write_bytes(b"not a zip")
    with pytest.raises(SubmissionError, match="not a valid zip"):
        load_submission(tmp_path / "fake.zip", tmp_path / "work4")


def test_korean_names_without_utf8_flag_are_repaired(tmp_path: Path) -> None:
    korean = "결과.ipynb".encode("cp949")  # what Windows zip tools store: no UTF-8 flag
    placeholder = b"X" * (len(korean) - 6) + b".ipynb"
    _zip(tmp_path / "k.zip", {placeholder.decode(): NB.encode()})
    data = (tmp_path / "k.zip").read_bytes()
    (tmp_path / "k.zip").write_bytes(data.replace(placeholder, korean))
    sub = load_submission(tmp_path / "k.zip", tmp_path / "work")
    assert sub.sources == ["결과.ipynb"]


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symlinks")
def test_folder_symlinks_are_never_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.py").write_text("STOLEN = 1\n")
    root = tmp_path / "sub"
    root.mkdir()
    (root / "main.py").write_text("N = 1\n")
    (root / "leak.py").symlink_to(outside / "secret.py")
    (root / "leakdir").symlink_to(outside, target_is_directory=True)
    (root / "loop").symlink_to(root, target_is_directory=True)
    sub = load_submission(root, tmp_path / "work")
    assert sub.sources == ["main.py"]
    assert [u.names for u in sub.code_units] == [["N"]]
    assert sum("outside the submission" in w for w in sub.warnings) == 2
    assert not any("loop" in w for w in sub.warnings)  # inside the submission: skipped quietly
