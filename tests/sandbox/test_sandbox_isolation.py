"""Hostile and broken student code in the sandbox (no TensorFlow: each run takes ~1 s)."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

import grader
from grader.assignment import get_assignment
from grader.sandbox import isolation
from grader.sandbox.launch import run_child
from grader.sandbox.limits import Limits

ISOLATION = isolation.choose()
FAST = Limits(timeout_s=30, memory_mb=512, memory_slack_mb=128, max_processes=12, max_tasks=40,
              poll_s=0.1)


def plan(*sources: str, unit_timeout_s: float = 5.0, load_timeout_s: float = 20.0) -> dict:
    units = [{"origin": f"cell {i + 1}", "source": s, "kind": "assign", "name": "", "names": []}
             for i, s in enumerate(sources)]
    return {"units": units, "phases": [], "unit_timeout_s": unit_timeout_s,
            "load_timeout_s": load_timeout_s, "assignment": get_assignment().facts()}


def run(tmp_path: Path, *sources: str, limits: Limits = FAST, **kw):
    return run_child(plan(*sources, **kw), tmp_path / "work", limits)


def failures(outcome) -> dict[str, str]:
    return {u["origin"]: f"{u['error_type']}: {u['message']}"
            for u in outcome.result["units"] if not u["ok"]}


def test_syntax_error_in_one_cell_the_rest_runs(tmp_path):
    out = run(tmp_path, "a = 1", "def broken(:\n    pass", "b = a + 1\nprint('b is', b)")
    assert out.status == "ok", out.log_tail
    assert list(failures(out)) == ["cell 2"]
    assert failures(out)["cell 2"].startswith("SyntaxError")
    assert "b is 2" in out.log_tail
    assert out.isolation == ISOLATION


def test_infinite_loop_is_cut_per_unit_and_the_grader_carries_on(tmp_path):
    out = run(tmp_path, "while True:\n    pass", "after = 'ran'\nprint(after)",
              unit_timeout_s=1.0)
    assert out.status == "ok"
    assert failures(out)["cell 1"].startswith("Timeout")
    assert "ran" in out.log_tail


def test_loop_that_swallows_the_alarm_is_killed_by_the_parent(tmp_path):
    src = "while True:\n    try:\n        while True:\n            pass\n    except BaseException:\n        pass"
    out = run(tmp_path, "print('started')", src, unit_timeout_s=0.5, load_timeout_s=2.0)
    assert out.status == "timeout"
    assert out.phase == "load"
    assert "longer than 2 s" in out.message.en and "2초" in out.message.ko
    assert out.result is not None and out.result["units"][0]["ok"]  # partial result kept
    assert out.wall_s < 15


def test_memory_hog_gets_a_clean_memory_error(tmp_path):
    out = run(tmp_path, "big = bytearray(3 * 1024 ** 3)", "print('still alive')")
    assert out.status == "ok"
    assert failures(out)["cell 1"].startswith("MemoryError")
    assert "still alive" in out.log_tail


def test_memory_outside_the_data_limit_is_stopped(tmp_path):
    # shared anonymous memory is not counted by RLIMIT_DATA: cgroup or watchdog must stop it
    src = ("import mmap, time\nm = mmap.mmap(-1, 1536 * 1024 ** 2)\n"
           "for i in range(0, len(m), 4096):\n    m[i] = 1\ntime.sleep(5)")
    out = run(tmp_path, src, unit_timeout_s=20, load_timeout_s=25)
    assert out.status == "memory", (out.status, out.log_tail[-500:])
    assert "512 MB" in out.message.en


def test_megabytes_of_printing_are_truncated(tmp_path):
    out = run(tmp_path, "for i in range(300):\n    print(str(i) * 10000)", "print('THE END')")
    assert out.status == "ok"
    assert len(out.log_tail) < FAST.log_bytes + 200
    assert "bytes of output cut" in out.log_tail
    assert out.log_tail.rstrip().endswith("THE END")


@pytest.mark.skipif(ISOLATION == "subprocess", reason="no network namespace available")
def test_network_connection_fails_and_reaches_nobody(tmp_path):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    listener.settimeout(0.5)
    port = listener.getsockname()[1]
    src = (f"import socket\ns = socket.create_connection(('127.0.0.1', {port}), timeout=3)\n"
           "s.sendall(b'stolen')")
    try:
        out = run(tmp_path, src, "import urllib.request\n"
                  "urllib.request.urlopen('http://example.com', timeout=3)")
        with pytest.raises(TimeoutError):
            listener.accept()
    finally:
        listener.close()
    assert out.status == "ok"
    errors = failures(out)
    assert "cell 1" in errors and "cell 2" in errors


@pytest.mark.skipif(ISOLATION != "bwrap", reason="file system isolation needs bubblewrap")
def test_writing_outside_the_work_folder_leaves_the_target_untouched(tmp_path):
    target = tmp_path / "outside.txt"
    target.write_text("original")
    out = run(tmp_path, f"open({str(target)!r}, 'w').write('hacked')",
              "open('/etc/grader-was-here', 'w').write('x')",
              "open('inside.txt', 'w').write('fine')")
    assert target.read_text() == "original"
    assert not Path("/etc/grader-was-here").exists()
    assert (tmp_path / "work" / "inside.txt").read_text() == "fine"
    assert set(failures(out)) == {"cell 2"} or set(failures(out)) == {"cell 1", "cell 2"}


@pytest.mark.skipif(ISOLATION != "bwrap", reason="file system isolation needs bubblewrap")
def test_sibling_submission_and_home_are_invisible(tmp_path):
    sibling = tmp_path / "other_student"
    sibling.mkdir()
    (sibling / "solution.py").write_text("SECRET = 42")
    repo = Path(grader.__file__).resolve().parents[1]
    out = run(tmp_path, f"print(open({str(sibling / 'solution.py')!r}).read())",
              f"import os\nprint('LISTING', sorted(os.listdir({str(repo.parent)!r})))")
    assert set(failures(out)) == {"cell 1"}
    assert "SECRET" not in out.log_tail
    # beside the grader's own code, the folder that holds it shows nothing else, except the
    # path down to the sandbox's own bound work folder when both lie in one place (a clone in
    # /tmp, where pytest's tmp_path lives too)
    expected = {repo.name}
    if tmp_path.resolve().is_relative_to(repo.parent):
        expected.add(tmp_path.resolve().relative_to(repo.parent).parts[0])
    assert f"LISTING {sorted(expected)}" in out.log_tail


def test_project_folder_and_working_directory_are_invisible(tmp_path, monkeypatch):
    """Only the grader's packages are bound, never the checkout around them or the cwd."""
    repo = Path(grader.__file__).resolve().parents[1]
    course = tmp_path / "course"
    (course / "bob").mkdir(parents=True)
    (course / "bob" / "bob.py").write_text("SECRET = 7")
    monkeypatch.chdir(course)  # an instructor grading from the course folder
    out = run(tmp_path / "alice", "x = 1",
              f"import os\nprint('REPO', sorted(os.listdir({str(repo)!r})))\n"
              f"print('COURSE', os.path.isdir({str(course / 'bob')!r}))\n"
              f"print('JUDGE', os.listdir({str(repo / 'grader' / 'assignments')!r}))")
    assert "COURSE False" in out.log_tail
    listing = next(line for line in out.log_tail.splitlines() if line.startswith("REPO"))
    assert "'grader'" in listing
    for private in ("reference", "submissions", "tests", "runs", "README.md"):
        assert f"'{private}'" not in listing, listing
    assert "JUDGE []" in out.log_tail  # the classifier that grades them stays out of reach


def test_spawning_many_processes_is_capped(tmp_path):
    src = ("import subprocess\nprocs = []\nfor i in range(60):\n"
           "    procs.append(subprocess.Popen(['sleep', '31.4159']))\nprint('spawned', len(procs))")
    out = run(tmp_path, src, "import time\ntime.sleep(2)")
    capped = out.status == "processes" or "cell 1" in (failures(out) if out.result else {})
    assert capped, (out.status, out.log_tail[-500:])
    assert "spawned 60" not in out.log_tail
    left = [p for p in Path("/proc").iterdir() if p.name.isdigit() and
            b"31.4159" in _cmdline(p)]
    assert not left  # nothing survives the run


def _cmdline(p: Path) -> bytes:
    try:
        return (p / "cmdline").read_bytes()
    except OSError:
        return b""


def test_non_utf8_and_odd_source_text_does_not_break_the_plan(tmp_path):
    odd = "s = 'caf\\xe9 \udcff'\nprint('odd ok')"  # a lone surrogate, as surrogateescape makes
    out = run(tmp_path, odd, "k = '한글 이름'\nprint(k)")
    assert out.status == "ok"
    assert "한글 이름" in out.log_tail


def test_exit_and_os_exit(tmp_path):
    out = run(tmp_path, "import sys\nsys.exit(3)", "x = 1")
    assert out.status == "ok" and failures(out)["cell 1"].startswith("SystemExit")
    out = run(tmp_path, "import os\nos._exit(7)")
    assert out.status == "crashed" and out.exit_code == 7
    assert "exit code 7" in out.message.en


def test_empty_plan(tmp_path):
    out = run(tmp_path)
    assert out.status == "ok" and out.result["units"] == []
