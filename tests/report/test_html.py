"""The HTML report: self-contained, bilingual, escaped, small enough."""

from __future__ import annotations

import io
import re
from html.parser import HTMLParser

import numpy as np
import pytest
import scoring_synth as synth
from PIL import Image

from grader.evidence import load_images_npz
from grader.report.html import LANGS, ReportImages, load_strings, render_report, write_report
from grader.report.result_json import RunMeta
from grader.scoring import load_rubric, score_submission

META = RunMeta(mode="full", seed=0, versions={"grader": "0.1.0", "tensorflow": "2.21.0",
                                             "python": "3.11"}, timing={"report": 1.0})


class _Collect(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def _parse(html: str) -> _Collect:
    p = _Collect()
    p.feed(html)
    return p


def _images(n_tiles: int = 64, gif_frames: int = 0) -> ReportImages:
    rng = np.random.default_rng(0)
    tiles = rng.integers(0, 255, (n_tiles, 32, 32, 3), dtype=np.uint8)
    gif = None
    if gif_frames:
        pics = [Image.fromarray(np.kron(rng.integers(0, 255, (72, 72, 3), dtype=np.uint8),
                                        np.ones((4, 4, 1), dtype=np.uint8)))
                for _ in range(gif_frames)]
        buf = io.BytesIO()
        pics[0].save(buf, format="GIF", save_all=True, append_images=pics[1:], duration=100)
        gif = buf.getvalue()
    return ReportImages(final_samples=tiles, baseline_samples=tiles[::-1], student_tiles=tiles[:16],
                        grader_frames=rng.integers(0, 255, (10, 16, 32, 32, 3), dtype=np.uint8),
                        gif_bytes=gif)


@pytest.fixture(scope="module")
def hostile():
    ev, judged = synth.hostile_final_timeout()
    return ev, judged, score_submission(ev, judged, load_rubric())


def test_strings_have_the_same_keys_in_every_language():
    s = load_strings()
    assert set(s) == set(LANGS)
    assert set(s["en"]) == set(s["ko"])
    assert not set(s["en"]) & set(dir(dict))  # t.items would be a dict method in jinja2
    assert all(v.strip() for lang in LANGS for v in s[lang].values())


@pytest.mark.parametrize("lang", LANGS)
def test_report_shows_score_items_images_and_escapes(hostile, lang):
    ev, judged, grade = hostile
    html = render_report(grade, ev, judged, _images(16), lang=lang, meta=META)
    p = _parse(html)
    text = " ".join(p.text)
    assert f"{grade.score:g} / {grade.max_score:g}" in text
    for item in grade.items:
        assert (item.title_ko if lang == "ko" else item.title_en) in text
        assert any(a.get("id") == f"item-{item.id}" for _, a in p.tags)
    imgs = [a["src"] for t, a in p.tags if t == "img"]
    assert imgs and all(src.startswith("data:image/") for src in imgs)
    assert not [a for t, a in p.tags if t in ("script", "link")]  # nothing external, no JS
    assert not re.search(r'(src|href)="(https?:)?//', html)
    # student-written text is escaped, never markup
    assert "<script>" not in html and "&lt;script&gt;alert(&#39;g&#39;)" in html
    assert "&lt;script&gt;alert(&#39;log&#39;)" in html
    assert "600 s time limit" in text
    if lang == "ko":
        assert "채점 보고서" in text and "검토 필요" in text and "경고" in text
    else:
        assert "Grading report" in text and "needs review" in text


def test_report_galleries_mark_recognized_tiles():
    ev, judged = synth.good_student()
    grade = score_submission(ev, judged, load_rubric())
    html = render_report(grade, ev, judged, _images(64), lang="en", meta=META)
    p = _parse(html)
    tiles = [a for t, a in p.tags if t == "div" and "tile" in a.get("class", "")]
    ok = [a for a in tiles if "ok" in a["class"].split()]
    n_rec = sum(x.recognizable for x in judged.final_samples.per_image[:64])
    assert len(tiles) >= 64 and len(ok) >= n_rec > 0
    assert judged.final_samples.per_image[0].class_name in html
    assert html.count('class="plot"') == 2  # a history plot per variant
    assert 'class="twin"' not in html
    for info in judged.final_samples.per_image[:3]:
        info.near_copy = True
    html = render_report(grade, ev, judged, _images(64), lang="en", meta=META)
    assert html.count('class="twin"') == 3


def test_report_size_with_64_tiles_and_a_gif(tmp_path):
    ev, judged = synth.good_student()
    grade = score_submission(ev, judged, load_rubric())
    path = write_report(grade, ev, judged, _images(64, gif_frames=40), tmp_path / "r.html",
                        lang="ko", meta=META)
    size = path.stat().st_size
    assert size < 5_000_000, size  # noise is the worst case for compression
    assert "data:image/gif;base64," in path.read_text(encoding="utf-8")


def test_report_without_any_images_still_renders():
    ev, judged = synth.fashion_leftover()
    grade = score_submission(ev, judged, load_rubric())
    html = render_report(grade, ev, judged, ReportImages(), lang="ko", meta=META)
    assert "볼 수 있는 생성 이미지가 없습니다" in html and "0 / 30" in html
    with pytest.raises(ValueError):
        render_report(grade, ev, judged, ReportImages(), lang="fr", meta=META)


def test_images_from_work_dir(tmp_path):
    ev, judged = synth.good_student()
    rng = np.random.default_rng(1)
    np.savez(tmp_path / "final.npz", images=rng.integers(0, 255, (8, 32, 32, 3), dtype=np.uint8))
    np.savez(tmp_path / "frames.npz", frames=rng.integers(0, 255, (3, 4, 32, 32, 3), dtype=np.uint8))
    np.savez(tmp_path / "baseline.npz", images=np.zeros((8, 32, 32, 1), dtype=np.uint8))  # bad
    (tmp_path / "cifar10_dcgan.gif").write_bytes(b"GIF89a")
    imgs = ReportImages.from_work_dir(ev, judged, tmp_path, (32, 32, 3))
    assert imgs.final_samples.shape == (8, 32, 32, 3)
    assert imgs.grader_frames.shape == (3, 4, 32, 32, 3)
    assert imgs.baseline_samples is None  # malformed: skipped, not a crash
    assert imgs.gif_bytes == b"GIF89a"
    assert load_images_npz(tmp_path / "final.npz", "images", (32, 32, 3)).dtype == np.uint8
