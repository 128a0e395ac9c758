"""``grade gradescope build``: the zip, and ``run_autograder`` in a fake ``/autograder`` tree.

The zip is unpacked into ``ROOT/source`` as Gradescope does; ``run_autograder`` runs with
``DCGAN_GRADER_AUTOGRADER_ROOT=ROOT`` and ``DCGAN_GRADER_AUTOGRADER_GRADE`` naming a ``grade``
(the carried source on ``PYTHONPATH``, or a stub) instead of the one ``setup.sh`` installs.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from test_gradescope import TEST, TOP

from grader.cli import main
from grader.report.autograder import (
    CONFIG_FILE,
    GRADE_ENV,
    ROOT_ENV,
    RUN_FILE,
    SETUP_FILE,
    SOURCE_DIR,
    TEMPLATES,
    AutograderConfig,
    build_autograder,
    config_text,
    project_root,
)

CHECKOUT = Path(__file__).resolve().parents[2]
BROKEN_NOTEBOOK = '{"cells": [ {"cell_type": "code", "source": "x = ('


def _spec_ok(obj: dict) -> None:
    """``obj`` has only the spec's fields, with the spec's types."""
    assert set(obj) <= set(TOP)
    for key, typ in TOP.items():
        if key in obj:
            assert isinstance(obj[key], typ), key
    assert obj["visibility"] in ("hidden", "after_due_date", "after_published", "visible")
    for t in obj["tests"]:
        assert set(t) <= set(TEST) and {"score", "max_score", "name"} <= set(t)


def _hangul(text: str) -> bool:
    return any("\uac00" <= ch <= "\ud7a3" for ch in text)


def _tree(base: Path, zip_path: Path, *, full: bool = True) -> Path:
    """A fake ``/autograder``: ``source/`` (the zip unpacked), ``submission/``, ``results/``."""
    root = base / "autograder"
    for name in ("source", "submission", "results"):
        (root / name).mkdir(parents=True)
    with zipfile.ZipFile(zip_path) as zf:
        for info in zf.infolist():
            if full or info.filename in (RUN_FILE, CONFIG_FILE, SETUP_FILE):
                zf.extract(info, root / "source")
                os.chmod(root / "source" / info.filename, (info.external_attr >> 16) & 0o777)
    return root


def _light_tree(base: Path, config: AutograderConfig) -> Path:
    """A fake ``/autograder`` with only what ``run_autograder`` reads (no grader carried)."""
    root = base / "autograder"
    for name in ("source", "submission", "results"):
        (root / name).mkdir(parents=True)
    shutil.copy(TEMPLATES / "gradescope_run_autograder.sh", root / "source" / RUN_FILE)
    (root / "source" / CONFIG_FILE).write_text(config_text(config), encoding="utf-8")
    return root


def _run(root: Path, grade: Path | str, timeout: float = 300) -> tuple[dict, str]:
    env = {**os.environ, ROOT_ENV: str(root), GRADE_ENV: str(grade)}
    proc = subprocess.run(["bash", str(root / "source" / RUN_FILE)], env=env,
                          capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL, cwd=root)  # not the checkout: -m finds it
    assert proc.returncode == 0, proc.stderr
    results = json.loads((root / "results" / "results.json").read_text(encoding="utf-8"))
    _spec_ok(results)
    return results, proc.stdout + proc.stderr


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("zip") / "autograder.zip"
    assert main(["gradescope", "build", "--out", str(out), "--lang", "ko",
                 "--visibility", "after_published"]) == 0
    return out


def _stub(path: Path, body: str) -> Path:
    """A fake ``grade``: records its arguments in ``args.txt`` beside it, then ``body``."""
    path.write_text("#!/usr/bin/env bash\nprintf '%s\\n' \"$@\" > \"$(dirname \"$0\")/args.txt\"\n"
                    'out=""; prev=""; for a in "$@"; do [ "$prev" = --out ] && out=$a; prev=$a; '
                    "done\n" + body + "\n", encoding="utf-8")
    path.chmod(0o755)
    return path


def test_zip_holds_what_gradescope_runs(built):
    with zipfile.ZipFile(built) as zf:
        infos = {i.filename: i for i in zf.infolist()}
        env = zf.read(CONFIG_FILE).decode()
    for name in (SETUP_FILE, RUN_FILE):  # top level, executable
        assert infos[name].external_attr >> 16 & stat.S_IXUSR
    assert "GS_LANG=ko" in env and "GS_VISIBILITY=after_published" in env
    assert "GS_MODE=quick" in env and f"GS_SOURCE_DIR={SOURCE_DIR}" in env
    carried = {n.removeprefix(f"{SOURCE_DIR}/") for n in infos if n.startswith(SOURCE_DIR)}
    assert "pyproject.toml" in carried and "README.md" in carried
    package = {p.relative_to(CHECKOUT).as_posix() for p in (CHECKOUT / "grader").rglob("*")
               if p.is_file() and "__pycache__" not in p.parts}
    # judge weights, rubric, templates, catalogs: all of it (what pip install keeps)
    assert package <= carried, f"not in pyproject.toml's package-data: {package - carried}"
    assert not any("__pycache__" in n or n.endswith(".pyc") for n in infos)
    assert not any(n.startswith((f"{SOURCE_DIR}/tests/", f"{SOURCE_DIR}/submissions/"))
                   for n in infos)


def test_setup_installs_the_carried_grader(built, tmp_path):
    root = _tree(tmp_path, built, full=False)
    setup = root / "source" / SETUP_FILE
    for script in (setup, root / "source" / RUN_FILE):
        subprocess.run(["bash", "-n", str(script)], check=True)
    text = setup.read_text(encoding="utf-8")
    assert 'GRADER="$SOURCE/$GS_SOURCE_DIR"' in text
    assert 'pip install -q --no-cache-dir "$GRADER[$GS_EXTRA]"' in text
    assert "bwrap_binary" in text and "python3-venv" in text
    assert "git " not in text and "github" not in text.lower()


def test_carried_source_builds_a_complete_wheel(built, tmp_path):
    """What setup.sh installs: a wheel built offline from the zip holds every grader file."""
    pytest.importorskip("setuptools")
    pytest.importorskip("wheel")
    root = _tree(tmp_path, built)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps",
                    "--no-build-isolation", "-w", str(tmp_path / "whl"),
                    str(root / "source" / SOURCE_DIR)], check=True, timeout=300,
                   capture_output=True)
    (wheel,) = (tmp_path / "whl").glob("dcgan_grader-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    package = {p.relative_to(CHECKOUT).as_posix() for p in (CHECKOUT / "grader").rglob("*")
               if p.is_file() and "__pycache__" not in p.parts}
    assert package <= names, f"not in pyproject.toml's package-data: {package - names}"


def test_run_autograder_grades_a_broken_notebook_in_korean(built, tmp_path):
    """End to end with the grader the zip carries: a valid Korean results.json, score 0."""
    root = _tree(tmp_path, built)
    (root / "submission" / "notebook.ipynb").write_text(BROKEN_NOTEBOOK, encoding="utf-8")
    src = root / "source" / SOURCE_DIR
    grade = tmp_path / "grade"
    grade.write_text(f'#!/bin/sh\nPYTHONPATH="{src}" exec "{sys.executable}" -m grader.cli '
                     '"$@"\n', encoding="utf-8")
    grade.chmod(0o755)
    which = subprocess.run([str(grade), "--version"], capture_output=True, text=True)
    assert which.returncode == 0
    carried = subprocess.run(["sh", "-c", f'PYTHONPATH="{src}" "{sys.executable}" -c '
                              '"import grader; print(grader.__file__)"'],
                             capture_output=True, text=True, cwd=tmp_path).stdout
    assert carried.startswith(str(src))  # the zip's grader runs, not the checkout's
    results, log = _run(root, grade)
    assert results["score"] == 0 and len(results["tests"]) == 3
    assert results["visibility"] == "after_published" and results["extra_data"]["lang"] == "ko"
    assert _hangul(results["output"]) and "Score:" not in results["output"]
    assert all(_hangul(t["name"]) and t["visibility"] == "after_published"
               for t in results["tests"])
    assert "주피터 노트북으로 읽을 수 없어" in results["output"]
    out = root / "results" / "grade"
    assert 'lang="ko"' in (out / "report.html").read_text(encoding="utf-8")[:2000]
    assert "notebook.ipynb" in log and (root / "results" / "grade.log").is_file()

    # grade rescore keeps the language and visibility results.json was written with
    from grader.rescore import rescore_folder

    rescore_folder(out)
    kept = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert kept["extra_data"]["lang"] == "ko" and kept["visibility"] == "after_published"
    rescore_folder(out, lang="en", gradescope_visibility="hidden")
    changed = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert changed["extra_data"]["lang"] == "en" and not _hangul(changed["output"])
    assert changed["visibility"] == "hidden"
    assert all(t["visibility"] == "hidden" for t in changed["tests"])

    # grade cohort --gradescope: a cached student gets results.json from its kept evidence,
    # a failed one 0 points with the reason
    cohort = tmp_path / "cohort"
    shutil.copytree(out, cohort / "alice")
    (cohort / "alice" / "results.json").unlink()
    (cohort / "bob").mkdir()
    from grader.verbs.grade_cohort import gradescope_for_cohort

    args = argparse.Namespace(out=cohort, rubric=None, lang="en", gradescope_lang="both",
                              gradescope_visibility="after_due_date")
    records = [{"student": "alice", "status": "graded"},
               {"student": "bob", "status": "failed", "reason": "timed out after 1800 s"}]
    assert gradescope_for_cohort(args, records) == 2
    alice = json.loads((cohort / "alice" / "results.json").read_text(encoding="utf-8"))
    bob = json.loads((cohort / "bob" / "results.json").read_text(encoding="utf-8"))
    for obj in (alice, bob):
        _spec_ok(obj)
        assert obj["visibility"] == "after_due_date" and obj["extra_data"]["lang"] == "both"
    assert len(alice["tests"]) == 3 and "Score:" in alice["output"]
    assert bob["score"] == 0 and "timed out after 1800 s" in bob["output"]
    assert gradescope_for_cohort(args, records[:1]) == 0  # already as asked: left alone


def test_missing_grader_still_leaves_results(built, tmp_path):
    root = _tree(tmp_path, built, full=False)
    (root / "submission" / "a.py").write_text("print(1)\n", encoding="utf-8")
    results, _ = _run(root, tmp_path / "no" / "grade")
    assert results["score"] == 0 and results["tests"] == []
    assert "not installed" in results["output"] and _hangul(results["output"])
    assert "autograder_error" in results["extra_data"]


@pytest.mark.parametrize("files,expected", [
    ({"hw.ipynb": "{}"}, "hw.ipynb"),
    ({"Upload/Model.PY": "x = 1\n"}, "Upload/Model.PY"),
    ({"hw.ipynb": "{}", "samples.gif": "GIF89a"}, "."),
    ({"notes.txt": "hi"}, "."),
    ({}, "."),
])
def test_run_autograder_finds_the_submission_and_passes_the_settings(tmp_path, files,
                                                                     expected):
    root = _light_tree(tmp_path, AutograderConfig(lang="both", mode="full",
                                                  visibility="hidden", isolation="none"))
    for rel, text in files.items():
        (root / "submission" / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / "submission" / rel).write_text(text, encoding="utf-8")
    (tmp_path / "bin").mkdir()
    grade = _stub(tmp_path / "bin" / "grade",
                  'mkdir -p "$out" && echo \'{"score": 7.5, "visibility": "hidden", '
                  '"tests": []}\' > "$out/results.json"')
    results, _ = _run(root, grade, timeout=60)
    assert results["score"] == 7.5
    args = (tmp_path / "bin" / "args.txt").read_text(encoding="utf-8").splitlines()
    assert Path(args[0]) == root / "submission" / expected
    flags = " ".join(args[1:])
    for flag in ("--full", "--gradescope", "--lang ko", "--gradescope-lang both",
                 "--gradescope-visibility hidden", "--isolation none",
                 f"--out {root / 'results' / 'grade'}"):
        assert flag in flags


@pytest.mark.parametrize("body,reason", [
    ("echo 'error: No usable CIFAR-10 data: \"x\" \\ 한글 <b>' >&2; echo detail >&2; exit 3",
     'No usable CIFAR-10 data: "x" \\ 한글 <b>'),
    ('mkdir -p "$out" && echo "not json" > "$out/results.json"', "no valid results"),
    ("exit 1", "exit code 1"),
    ("sleep 30", "time limit of 1 s"),
])
def test_a_failing_grader_gives_zero_and_says_why(tmp_path, body, reason):
    root = _light_tree(tmp_path, AutograderConfig(lang="en", timeout_s=1))
    (root / "submission" / "hw.py").write_text("x = 1\n", encoding="utf-8")
    (tmp_path / "bin").mkdir()
    results, _ = _run(root, _stub(tmp_path / "bin" / "grade", body), timeout=90)
    assert results["score"] == 0 and results["output_format"] == "text"
    assert reason in results["output"] and reason in results["extra_data"]["autograder_error"]
    assert "could not grade this submission" in results["output"]
    assert not _hangul(results["output"].replace("한글", ""))


def test_build_refuses_bad_settings_and_carries_a_folder_assignment(tmp_path):
    from grader.assignment import get_assignment
    from grader.errors import UsageError

    with pytest.raises(UsageError):
        build_autograder(tmp_path / "a.zip", AutograderConfig(visibility="public"))
    with pytest.raises(UsageError):
        build_autograder(tmp_path / "a.zip", AutograderConfig(timeout_s=0))
    folder = get_assignment(None).rubric.parent
    built = build_autograder(tmp_path / "b.zip", AutograderConfig(assignment=str(folder)),
                             root=project_root())
    with zipfile.ZipFile(built.path) as zf:
        env = zf.read(CONFIG_FILE).decode()
        assert f"assignment/{folder.name}/rubric.toml" in zf.namelist()
    assert f"GS_ASSIGNMENT_DIR=assignment/{folder.name}" in env
