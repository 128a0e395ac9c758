"""The sample submissions graded end to end, as a user runs ``grade``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _items(result: dict) -> dict[str, dict]:
    return {i["id"]: i for i in result["items"]}


def _checks(result: dict) -> dict[str, dict]:
    return {c["id"]: c for c in result["checks"]}


@pytest.mark.parametrize("name", ["alice", "bob", "carol", "dave"])
def test_every_sample_gets_a_report(graded, name):
    g = graded[name]
    assert g["rc"] == 0, g["stderr"]
    assert (g["out"] / "report.html").stat().st_size > 10_000
    assert "Traceback" not in g["stderr"]
    gs = json.loads((g["out"] / "results.json").read_text())
    assert {"score", "tests"} <= set(gs) and gs["tests"]
    assert not list((ROOT / "submissions" / name).glob("**/report.html"))


def test_result_json_follows_the_schema(graded):
    from grader.report.result_json import validate_result

    for g in graded.values():
        validate_result(g["result"])


def test_alice_is_graded_on_her_final_grid_as_a_ta_reads_it(graded):
    """alice trained the reference DCGAN for 12 epochs: her final grid is blurry blobs by eye
    (reference/labels: 0 of 288 tiles of that generator clear), so item 1 is not a pass; the
    grader's 10 verification steps neither decide it nor leave it to review."""
    res = graded["alice"]["result"]
    items = _items(res)
    assert not [c for c in res["checks"] if c["status"] == "fail"]
    rec = items["recognizable"]
    assert rec["evidence"] == "student_images" and rec["status"] in ("fail", "partial")
    assert rec["numbers"]["clear"] < 2 and rec["numbers"]["n"] == 16
    progress = items["training_progress"]
    assert "student_history_plot" in progress["evidence"] and progress["score"] > 0
    assert not res["review_needed"]


def test_bob_fails_the_gates_with_the_fashion_mnist_message(graded):
    res = graded["bob"]["result"]
    failed = [c for c in res["checks"] if c["status"] == "fail"]
    assert failed
    assert any("28" in c["message_en"] and "Fashion" in c["message_en"] for c in failed)
    assert res["score"] == 0


def test_carol_gets_partial_credit_with_reasons(graded):
    res = graded["carol"]["result"]
    checks = _checks(res)
    assert checks["accuracy_function"]["status"] == "warn"
    assert checks["loss_functions"]["status"] in ("pass", "warn")
    assert 0 < res["score"] < res["max_score"]


def test_dave_is_contained_and_reported(graded):
    res = graded["dave"]["result"]
    assert not Path("/tmp/dave_was_here.txt").exists()
    assert not (ROOT / "submissions" / "alice" / "dave_was_here.txt").exists()
    assert res["isolation"] in ("bwrap", "unshare", "subprocess")
    text = json.dumps(res)
    assert "longer than" in text or "timed out" in text or "stopped" in text
    if res["isolation"] == "bwrap":  # the sibling alice lies in the grader's own checkout
        log = graded["dave"]["out"] / "work" / "student" / "child.log"
        assert "found a sibling" not in log.read_text(errors="replace")
    improvement = next(i for i in res["items"] if i["id"] == "improvement")
    assert improvement["score"] == 0  # his broken v2 earns nothing, and is named
    assert "does not run" in json.dumps(improvement) or "cannot be trained" in json.dumps(
        improvement)


def test_broken_submissions_get_a_report_not_a_traceback(tmp_path):
    import subprocess
    import sys

    import nbformat

    sub = tmp_path / "broken"
    sub.mkdir()
    nbformat.write(nbformat.v4.new_notebook(), sub / "empty.ipynb")
    (sub / "not_json.ipynb").write_text("not json {", encoding="utf-8")
    (sub / "cp949.py").write_bytes("# 생성자\ndef make_generator_model(:\n".encode("cp949"))
    proc = subprocess.run([sys.executable, "-m", "grader.cli", str(sub), "--out",
                           str(tmp_path / "out")], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    res = json.loads((tmp_path / "out" / "result.json").read_text())
    checks = {c["id"]: c for c in res["checks"]}
    assert checks["code_cells"]["status"] == "fail"
    assert res["score"] == 0
    html = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    lead = html.index("Your submission could not be read")  # the cause leads the report
    assert lead < html.index('id="item-recognizable"')
    missing = subprocess.run([sys.executable, "-m", "grader.cli", str(tmp_path / "nope")],
                             capture_output=True, text=True, timeout=120)
    assert missing.returncode == 2 and "does not exist" in missing.stderr


def test_no_code_check_quotes_the_notebook_problem_in_korean(tmp_path):
    """The Korean code_cells message carries the Korean reason, not the English one."""
    from grader.evidence import Evidence
    from grader.intake import load_submission
    from grader.pipeline import run_sandbox

    nb = tmp_path / "broken.ipynb"
    nb.write_text('{"cells": [ {"cell_type": "code", "source": "x = (', encoding="utf-8")
    sub = load_submission(nb, tmp_path / "work")
    evidence = Evidence(submission="broken", isolation="none")
    run_sandbox(sub, evidence, tmp_path / "work", None, None, None, lambda *_: None)
    check = {c.id: c for c in evidence.checks}["code_cells"]
    assert "could not be read" in check.message.en
    assert "주피터 노트북으로 읽을 수 없어" in check.message.ko and "could not" not in check.message.ko


def test_rescore_applies_an_edited_threshold_without_training(graded, tmp_path):
    """``grade rescore`` re-scores from the kept evidence: a rubric edit changes the grade."""
    import re
    import shutil
    import subprocess
    import sys

    folder = tmp_path / "alice"
    shutil.copytree(graded["alice"]["out"], folder)
    assert not [p for p in (folder / "work").rglob("*.keras") if p.is_file()]  # scratch
    assert sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) < 20 * 2**20
    rubric = (ROOT / "grader" / "assignments" / "cifar10_dcgan" / "rubric.toml").read_text(
        encoding="utf-8")
    easy = re.sub(r"grid_min_clear = \{ value = \d+", "grid_min_clear = { value = 0", rubric)
    easy = re.sub(r"grid_min_named = \{ value = \d+", "grid_min_named = { value = 0", easy)
    assert easy != rubric
    (tmp_path / "easy.toml").write_text(easy, encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "grader.cli", "rescore", str(folder),
                           "--rubric", str(tmp_path / "easy.toml")],
                          capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    res = json.loads((folder / "result.json").read_text())
    before = _items(graded["alice"]["result"])["recognizable"]
    after = _items(res)["recognizable"]
    assert before["status"] != "pass" and after["status"] == "pass"
    assert after["numbers"]["named"] == before["numbers"]["named"]  # same evidence
    assert res["score"] > graded["alice"]["result"]["score"]
    assert (folder / "results.json").is_file()  # Gradescope's file is rewritten too
