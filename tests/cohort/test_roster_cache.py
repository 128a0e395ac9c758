"""Roster discovery, content hashes, cache keys and the atomic commit of one student."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from grader.cohort.commit import commit
from grader.cohort.keys import ENTRY_FILE, grading_key, read_entry
from grader.cohort.roster import content_hash, discover, safe_name, select
from grader.errors import UsageError


def _cohort(tmp_path: Path) -> Path:
    root = tmp_path / "cohort"
    (root / "alice").mkdir(parents=True)
    (root / "alice" / "a.ipynb").write_text("{}")
    (root / "bob.ipynb").write_text("{}")
    (root / "carol.py").write_text("x = 1\n")
    (root / "dave.zip").write_bytes(b"PK")
    (root / "alice.zip").write_bytes(b"PK")  # same stem as the folder
    (root / "notes.txt").write_text("not a submission")
    (root / ".hidden").mkdir()
    (root / "__pycache__").mkdir()
    (root / "김민수").mkdir()
    (root / "김민수" / "과제.ipynb").write_text("{}")
    return root


def test_discover_names_each_student_once(tmp_path):
    root = _cohort(tmp_path)
    students = discover(root, exclude=root / "out")
    names = [s.name for s in students]
    assert names == sorted(names)
    assert set(names) == {"alice", "alice.zip", "bob", "carol", "dave", "김민수"}
    assert {s.name: s.path.name for s in students}["bob"] == "bob.ipynb"


def test_discover_skips_the_output_folder_inside_the_cohort(tmp_path):
    root = _cohort(tmp_path)
    (root / "out").mkdir()
    assert "out" not in [s.name for s in discover(root, exclude=root / "out")]


def test_discover_rejects_a_file(tmp_path):
    f = tmp_path / "x.ipynb"
    f.write_text("{}")
    with pytest.raises(UsageError):
        discover(f)


def test_safe_name():
    assert safe_name("../evil/name") == "_evil_name"
    assert safe_name("김 민수") == "김 민수"
    assert safe_name("...") == "student"


def test_content_hash_tracks_content_not_mtime(tmp_path):
    root = _cohort(tmp_path)
    h1 = content_hash(root / "alice")
    (root / "alice" / "a.ipynb").touch()
    assert content_hash(root / "alice") == h1
    (root / "alice" / "a.ipynb").write_text('{"x": 1}')
    assert content_hash(root / "alice") != h1
    (root / "alice" / "extra.png").write_bytes(b"\x89PNG")
    assert len({h1, content_hash(root / "alice")}) == 2
    assert content_hash(root / "bob.ipynb") != content_hash(root / "carol.py")


def test_content_hash_does_not_follow_symlinks(tmp_path):
    root = _cohort(tmp_path)
    secret = tmp_path / "secret.txt"
    secret.write_text("v1")
    (root / "alice" / "link").symlink_to(secret)
    h1 = content_hash(root / "alice")
    secret.write_text("v2")
    assert content_hash(root / "alice") == h1


def test_grading_key_changes_with_every_setting():
    base = {"mode": "quick", "steps": None, "seed": 0, "rubric_sha256": "r", "grader": "0.1"}
    k = grading_key("abc", base)
    assert grading_key("abc", dict(base)) == k
    for change in ({"mode": "full"}, {"steps": 40}, {"seed": 1}, {"rubric_sha256": "r2"},
                   {"grader": "0.2"}):
        assert grading_key("abc", {**base, **change}) != k
    assert grading_key("abd", base) != k


def test_select_only(tmp_path):
    students = discover(_cohort(tmp_path))
    assert [s.name for s in select(students, ["bob", "carol"])] == ["bob", "carol"]
    with pytest.raises(UsageError, match="zoe"):
        select(students, ["zoe"])


def test_commit_replaces_atomically_and_prunes_scratch(tmp_path):
    out = tmp_path / "out"
    staged = out / ".cohort" / "work" / "alice"
    for box in ("student", "trusted"):
        (staged / "work" / box).mkdir(parents=True)
    (staged / "report.html").write_text("<html>new</html>")
    (staged / "result.json").write_text("{}")
    (staged / "work" / "trusted" / "real_images.npy").write_bytes(b"0" * 1000)
    (staged / "work" / "student" / "child.log").write_text("log")
    (out / "alice").mkdir(parents=True)
    (out / "alice" / "report.html").write_text("old")
    commit(out, "alice", staged, {"student": "alice", "key": "k1"})
    assert not staged.exists()
    assert (out / "alice" / "report.html").read_text() == "<html>new</html>"
    assert not (out / "alice" / "work" / "trusted" / "real_images.npy").exists()
    assert (out / "alice" / "work" / "student" / "child.log").exists()
    assert read_entry(out / "alice")["key"] == "k1"
    assert not list((out / ".cohort" / "trash").iterdir())


def test_read_entry_tolerates_garbage(tmp_path):
    (tmp_path / ENTRY_FILE).write_bytes(b"\xff\xfe not json")
    assert read_entry(tmp_path) is None
    (tmp_path / ENTRY_FILE).write_text(json.dumps({"no": "key"}))
    assert read_entry(tmp_path) is None
    assert read_entry(tmp_path / "missing") is None


def test_biggest_submissions_are_dispatched_first(tmp_path, monkeypatch):
    """The largest notebooks start first (their grades take longest), links are not followed."""
    from grader.cohort import runner
    from grader.cohort.roster import submission_bytes

    root = tmp_path / "cohort"
    for name, size in (("small", 10), ("huge", 5000), ("mid", 800)):
        (root / name).mkdir(parents=True)
        (root / name / "nb.ipynb").write_bytes(b"x" * size)
    (root / "linked").mkdir()
    (root / "linked" / "big").symlink_to(root / "huge" / "nb.ipynb")
    (root / "single.py").write_bytes(b"y" * 300)
    assert submission_bytes(root / "huge") == 5000
    assert submission_bytes(root / "linked") < 200  # the link itself, not its 5,000-byte target
    assert submission_bytes(root / "single.py") == 300
    assert submission_bytes(root / "missing") == 0
    seen: list[str] = []

    def fake_run_local(jobs, staging, workers, on_done):
        seen.extend(student.name for student, _job in jobs)

    monkeypatch.setattr(runner, "run_local", fake_run_local)
    runner.run_cohort(runner.CohortOptions(root=root, out=tmp_path / "out"))
    assert seen == ["huge", "mid", "single", "linked", "small"]
