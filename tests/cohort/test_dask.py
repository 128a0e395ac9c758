"""A real Dask scheduler and two workers on loopback grade a cohort like a local run does."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .helpers import ROOT, make_cohort

pytest.importorskip("distributed")
DASK = shutil.which("dask", path=str(Path(sys.executable).parent)) or shutil.which("dask")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """``dask scheduler`` + two ``dask worker`` processes (one thread each) on 127.0.0.1."""
    if DASK is None:
        pytest.skip("the dask command is not installed")
    from distributed import Client

    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    logs = tmp_path_factory.mktemp("dask")
    env = {**os.environ, "DASK_DISTRIBUTED__WORKER__DAEMON": "False"}
    procs = [subprocess.Popen([DASK, "scheduler", "--host", "127.0.0.1", "--port", str(port),
                               "--no-dashboard"], stdout=open(logs / "scheduler.log", "w"),
                              stderr=subprocess.STDOUT, cwd=ROOT, env=env)]
    for i in range(2):
        procs.append(subprocess.Popen(
            [DASK, "worker", address, "--nthreads", "1", "--no-dashboard", "--host",
             "127.0.0.1", "--name", f"w{i}"], stdout=open(logs / f"worker{i}.log", "w"),
            stderr=subprocess.STDOUT, cwd=ROOT, env=env))
    try:
        deadline = time.time() + 60
        while True:
            try:
                with Client(address, timeout=5) as client:
                    client.wait_for_workers(2, timeout=60)
                break
            except (OSError, TimeoutError):
                if time.time() > deadline:
                    raise
                time.sleep(0.5)
        yield address
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()


def _grade(root: Path, out: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "grader.cli", "cohort", str(root), "--out",
                           str(out), "--steps", "3", *extra], capture_output=True, text=True,
                          timeout=600, cwd=ROOT)


def _summary(out: Path) -> dict[str, tuple]:
    found = {}
    for p in sorted(out.glob("*/result.json")):
        r = json.loads(p.read_text(encoding="utf-8"))
        found[p.parent.name] = (r["score"],
                                tuple((i["id"], i["status"], i["score"]) for i in r["items"]),
                                tuple((c["id"], c["status"]) for c in r["checks"]))
    return found


def test_dask_cluster_grades_like_a_local_run(cluster, tmp_path):
    root = make_cohort(tmp_path / "in", ("bob", "sol", "empty"))
    remote = _grade(root, tmp_path / "dask", "--scheduler", cluster)
    assert remote.returncode == 0, remote.stderr[-3000:]
    local = _grade(root, tmp_path / "local", "--workers", "2")  # 1 thread each, as there
    assert local.returncode == 0, local.stderr[-3000:]
    got, want = _summary(tmp_path / "dask"), _summary(tmp_path / "local")
    assert set(got) == {"bob", "sol", "empty"}
    assert got == want
    hosts = {json.loads(p.read_text())["host"] for p in (tmp_path / "dask").glob("*/cohort-entry.json")}
    assert hosts and None not in hosts  # graded on the workers, not here
    for name in got:
        assert (tmp_path / "dask" / name / "report.html").is_file()
    assert (tmp_path / "dask" / "index.html").is_file()
    again = _grade(root, tmp_path / "dask", "--scheduler", cluster)
    assert "0 graded now, 3 cached" in again.stdout


def test_full_mode_needs_a_gpu_worker(cluster, tmp_path):
    root = make_cohort(tmp_path / "in", ("empty",))
    proc = _grade(root, tmp_path / "out", "--scheduler", cluster, "--full")
    assert proc.returncode == 2
    assert "GPU" in proc.stderr


def test_unreachable_scheduler_is_a_clear_error(tmp_path):
    root = make_cohort(tmp_path / "in", ("empty",))
    proc = subprocess.run([sys.executable, "-m", "grader.cli", "cohort", str(root), "--out",
                           str(tmp_path / "out"), "--scheduler", f"tcp://127.0.0.1:{_free_port()}"],
                          capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert "Could not connect" in proc.stderr
