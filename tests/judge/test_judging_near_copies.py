"""Near-copies in the student's figures: found within one figure, never across two."""

from __future__ import annotations

import numpy as np
from PIL import Image

from grader.evidence import Artifact, Evidence
from grader.judge.evaluate import judge_evidence, student_sample_tiles

from .conftest import lesson_grid


def _save(work, name, pixels) -> Artifact:
    Image.fromarray(pixels[..., :3]).save(work / name)
    return Artifact(kind="samples", origin=name, file=name)


def test_the_same_figure_saved_twice_is_not_collapse_but_a_repeating_grid_is(tmp_path, real_images):
    healthy = lesson_grid(real_images[:16])
    arts = [_save(tmp_path, "image_at_epoch_0049.png", healthy),
            _save(tmp_path, "image_at_epoch_0050.png", healthy)]
    found = student_sample_tiles(arts, tmp_path, (32, 32, 3))
    assert found.figure_of.tolist() == [0] * 16 + [1] * 16
    ev = Evidence(submission="s", isolation="subprocess", artifacts=arts)
    judged, _ = judge_evidence(ev, tmp_path)
    assert judged.student_images.n == 16  # the latest figure is the final grid, as a TA reads it
    assert judged.student_images.origin == "image_at_epoch_0050.png"
    assert judged.student_images.near_copy_fraction == 0.0

    collapsed = lesson_grid(real_images[[3, 7]][np.arange(16) % 2])
    ev = Evidence(submission="s", isolation="subprocess",
                  artifacts=[_save(tmp_path, "image_at_epoch_0051.png", collapsed)])
    judged, _ = judge_evidence(ev, tmp_path)
    assert judged.student_images.near_copy_fraction == 1.0


def test_a_colormapped_figure_is_a_display_note_in_both_languages(tmp_path, real_images):
    art = _save(tmp_path, "image_at_epoch_0050.png", lesson_grid(real_images[:16], cmap="viridis"))
    found = student_sample_tiles([art], tmp_path, (32, 32, 3))
    assert found.tiles is None or len(found.tiles) == 0
    (note,) = found.notes
    assert "viridis" in note and "colormap" in note
    assert "컬러맵" in note.ko
