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


_TOFU_JS = """() => {
  const font = getComputedStyle(document.body).fontFamily;
  const draw = (text) => {
    const c = document.createElement('canvas'); c.width = 120; c.height = 40;
    const g = c.getContext('2d'); g.font = '28px ' + font; g.fillText(text, 4, 30);
    return c.toDataURL();
  };
  return draw('\\uAC00\\uB098\\uB2E4') !== draw('\\uE000\\uE001\\uE002');
}"""
"""True when Hangul renders as glyphs: the same text in private-use code points (always
empty boxes) looks different."""


@pytest.fixture(scope="module")
def screenshot_cases(graded, tmp_path_factory):
    """alice, carol, dave (hostile) and a broken submission, each in English and Korean."""
    import json
    import subprocess
    import sys

    base = tmp_path_factory.mktemp("shots")
    broken = base / "broken_in"
    broken.mkdir()
    (broken / "notes.ipynb").write_text("not json {", encoding="utf-8")
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.run([sys.executable, "-m", "grader.cli", str(broken), "--out",
                           str(base / "broken_en")], capture_output=True, text=True,
                          timeout=600, cwd=root)
    assert proc.returncode == 0, proc.stderr[-2000:]
    folders = {("broken", "en"): base / "broken_en"}
    for name in ("alice", "carol", "dave"):
        folders[(name, "en")] = graded[name]["out"]
    for (name, _), folder in list(folders.items()):
        ko = base / f"{name}_ko"
        shutil.copytree(folder, ko)
        proc = subprocess.run([sys.executable, "-m", "grader.cli", "rescore", str(ko),
                               "--lang", "ko"], capture_output=True, text=True, timeout=300,
                              cwd=root)
        assert proc.returncode == 0, proc.stderr[-2000:]
        folders[(name, "ko")] = ko
    results = {k: json.loads((v / "result.json").read_text()) for k, v in folders.items()}
    return folders, results


@pytest.mark.parametrize("width", [1200, 390])
def test_reports_hold_desktop_and_phone_width_in_both_languages(screenshot_cases, width):
    sync_api = pytest.importorskip("playwright.sync_api")
    folders, results = screenshot_cases
    problems = []
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                    args=["--no-sandbox", "--disable-gpu", "--no-first-run"])
        for (name, lang), folder in folders.items():
            page = browser.new_page(viewport={"width": width, "height": 900})
            page.goto((folder / "report.html").as_uri())
            page.wait_for_load_state("load")
            SHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SHOTS / f"{name}_{lang}_{width}.png"), full_page=False)
            body = page.inner_text("body")
            if f"{results[(name, lang)]['score']:g}" not in body:
                problems.append(f"{name}/{lang}: the score is not on the page")
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            if overflow > 2:
                problems.append(f"{name}/{lang} at {width}px: {overflow}px wider than the screen")
            if lang == "ko" and not page.evaluate(_TOFU_JS):
                problems.append(f"{name}/ko: Hangul renders as empty boxes (no Korean font)")
            page.close()
        browser.close()
    assert not problems, problems
