"""Encodings: UTF-8 (with BOM), CP949 and EUC-KR sources, latin-1 as the last resort."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat

from grader.intake import load_submission
from grader.intake.encoding import decode_source

KOREAN_PY = "# 생성자 모델을 만듭니다\nnoise_dim = 100  # 노이즈 차원\n\ndef make_generator_model():\n    return '생성자'\n"


def test_decode_table() -> None:
    assert decode_source("a = '한글'".encode(), "x").encoding == "utf-8"
    bom = decode_source(b"\xef\xbb\xbfa = 1\r\n", "x")
    assert (bom.encoding, bom.text, bom.warning) == ("utf-8-sig", "a = 1\n", None)
    cp = decode_source("a = '똠방각하'".encode("cp949"), "x.py")  # CP949-only syllables
    assert cp.encoding == "cp949" and cp.text == "a = '똠방각하'" and "cp949" in cp.warning
    latin = decode_source(b"a = '\xff\xfe\xfd'", "x.py")  # not valid in any Korean encoding
    assert latin.encoding == "latin-1" and "latin-1" in latin.warning
    utf16 = decode_source("a = 1".encode("utf-16"), "x")
    assert utf16.encoding == "utf-16" and utf16.text == "a = 1"


def test_coding_cookie_is_honoured_for_py() -> None:
    data = "# -*- coding: euc-kr -*-\nx = '한글'\n".encode("euc-kr")
    assert decode_source(data, "x.py", honour_cookie=True).encoding in ("euc_kr", "euc-kr")


def test_cp949_py_with_korean_comments(tmp_path: Path) -> None:
    path = tmp_path / "main.py"
    path.write_bytes(KOREAN_PY.encode("cp949"))
    sub = load_submission(path, tmp_path / "work")
    assert sub.kind == "script" and sub.encodings == {"main.py": "cp949"}
    assert any("cp949" in w for w in sub.warnings)
    assert not sub.cell_failures
    unit = sub.versions("make_generator_model")[0]
    assert "'생성자'" in unit.source and unit.origin == "main.py line 4"


def test_cp949_notebook(tmp_path: Path) -> None:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(KOREAN_PY)])
    path = tmp_path / "nb.ipynb"
    path.write_bytes(nbformat.writes(nb).encode("cp949"))
    sub = load_submission(path, tmp_path / "work")
    assert sub.encodings == {"nb.ipynb": "cp949"}
    assert [u.names for u in sub.code_units] == [["noise_dim"], ["make_generator_model"]]


def test_bom_notebook_and_py(tmp_path: Path) -> None:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
    folder = tmp_path / "sub"
    folder.mkdir()
    (folder / "a.ipynb").write_bytes(b"\xef\xbb\xbf" + json.dumps(nb).encode())
    (folder / "b.py").write_bytes(b"\xef\xbb\xbfy = 2\r\n")
    sub = load_submission(folder, tmp_path / "work")
    assert sub.encodings == {"a.ipynb": "utf-8-sig", "b.py": "utf-8-sig"}
    assert [u.source for u in sub.code_units] == ["x = 1", "y = 2"]
    assert not any("UTF-8" in w for w in sub.warnings)


def test_warnings_carry_korean_wording_through_pickle_and_json(tmp_path: Path) -> None:
    import pickle

    from grader.text import Msg

    path = tmp_path / "main.py"
    path.write_bytes(KOREAN_PY.encode("cp949"))
    warning = next(w for w in load_submission(path, tmp_path / "work").warnings if "cp949" in w)
    assert "UTF-8이 아닌" in warning.ko  # the Korean report gets Korean text
    again = pickle.loads(pickle.dumps(warning))  # batch workers send evidence between processes
    assert again == warning
    assert Msg.from_json(json.loads(json.dumps(warning.to_json()))) == warning  # JSON keeps both
