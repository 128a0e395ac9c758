"""Open the cohort dashboard in headless Chromium: no errors, sorting works, links resolve."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

from grader.cohort.outputs import write_cohort_outputs, write_failure_report

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed "
                                "(apt-get install chromium; .ci/install-system.sh does it)")
SHOTS = Path(__file__).resolve().parents[2] / "reports" / "screenshots"
FIXTURE = Path(__file__).resolve().parent / "fixtures" / "outputs" / "cohort_input.json"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
#: the column order of the students table: student, status, score, %, ...
SCORE_COL = 3


@pytest.fixture()
def dashboard(tmp_path) -> tuple[Path, dict]:
    """A cohort folder with a report per student (a failure report for dave) and index.html."""
    c = json.loads(FIXTURE.read_text(encoding="utf-8"))
    for rec in c["records"]:
        folder = tmp_path / rec["student"]
        if rec["status"] == "failed":
            write_failure_report(folder, rec["student"], rec["reason"])
        else:
            folder.mkdir()
            (folder / "report.html").write_text(
                f"<!DOCTYPE html><title>r</title><p id=score>{rec['score']:g}</p>",
                encoding="utf-8")
    write_cohort_outputs(tmp_path, c["records"], c["results"], c["flags"], c["meta"])
    return tmp_path / "index.html", c


def _names(page) -> list[str]:
    return page.eval_on_selector_all(
        "#students-table tbody tr", "rows => rows.map(r => r.cells[0].getAttribute('data-sort'))")


def test_dashboard_in_chromium(dashboard):
    sync_api = pytest.importorskip("playwright.sync_api")
    index, cohort = dashboard
    roster = [r["student"] for r in cohort["records"]]
    errors: list[str] = []
    dialogs: list[str] = []
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        page = browser.new_page(viewport={"width": 1250, "height": 900})
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(index.as_uri())
        page.wait_for_load_state("load")
        assert _names(page) == roster

        score_th = page.locator(f"#students-table thead th:nth-child({SCORE_COL})")
        score_th.click()  # ascending; dave (failed, no score) first, then by total
        ascending = _names(page)
        score_th.click()
        descending = _names(page)
        page.locator("#students-table thead th:nth-child(1)").click()
        by_name = _names(page)

        hrefs = page.eval_on_selector_all("a.report-link", "as => as.map(a => a.href)")
        flag_code = page.inner_text("#flag-0")
        bars = page.locator("#histogram rect").count()
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "cohort.png"), full_page=True)

        page.locator("a.report-link", has_text="dave").click()
        page.wait_for_load_state("load")
        reason = page.inner_text("#reason")
        browser.close()

    assert not errors, errors
    assert not dialogs, dialogs
    assert ascending == ["dave", "bob", "carol", "김민수", "o'brien & co #1", "alice"]
    assert descending == ["alice", "o'brien & co #1", "김민수", "carol", "bob", "dave"]
    assert ascending != roster and by_name == sorted(roster, key=str.casefold)
    assert len(hrefs) == len(roster)
    for href in hrefs:
        url = urlparse(href)
        assert url.scheme == "file" and Path(unquote(url.path)).is_file(), href
    assert {Path(unquote(urlparse(h).path)).parent.name for h in hrefs} == set(roster)
    assert '<script>alert("x")</script>' in flag_code  # shown as text, never run
    assert "carol.py:40-42" in flag_code and "cell 7, lines 1-3" in flag_code
    assert bars == 10
    assert reason == cohort["records"][3]["reason"]
