"""Open every sample's report.html in headless Chromium: no console errors, content renders."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed "
                                "(apt-get install chromium; .ci/install-system.sh does it)")
SHOTS = Path(__file__).resolve().parents[2] / "reports" / "screenshots"


@pytest.mark.parametrize("name", ["alice", "bob", "carol", "dave"])
def test_report_renders_in_chromium(graded, name):
    sync_api = pytest.importorskip("playwright.sync_api")
    report = graded[name]["out"] / "report.html"
    errors: list[str] = []
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync"])
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(report.as_uri())
        page.wait_for_load_state("load")
        body = page.inner_text("body")
        result = graded[name]["result"]
        assert f"{result['score']:g}" in body
        for item in result["items"]:
            assert item["id"] in page.content()
        broken = page.evaluate(
            "Array.from(document.images).filter(i => !(i.complete && i.naturalWidth > 0)).length")
        n_images = page.evaluate("document.images.length")
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=False)
        browser.close()
    assert not errors, errors
    assert broken == 0
    if name == "alice":
        assert n_images >= 3
