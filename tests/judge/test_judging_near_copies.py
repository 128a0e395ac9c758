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


def test_a_before_after_figure_fills_in_the_baseline_grid_a_run_did_not_show(tmp_path,
                                                                            real_images):
    # issue 15, item 3: the baseline's grid is shown only in the student's comparison
    import matplotlib.pyplot as plt

    from grader.intake.runs import Run, RunMap, ShownImage
    from grader.judge.evaluate import judge_shown

    from .conftest import render_png

    fig = plt.figure(figsize=(10, 5))
    for k, title in enumerate(("before", "after")):
        plt.subplot(1, 2, k + 1)
        plt.imshow(lesson_grid(real_images[16 * k:16 * (k + 1)]))
        plt.title(title)
        plt.axis("off")
    (tmp_path / "intake" / "embedded").mkdir(parents=True)
    Image.fromarray(render_png(fig)[..., :3]).save(tmp_path / "intake/embedded/cell9_out0.png")
    Image.fromarray(lesson_grid(real_images[32:48])[..., :3]).save(
        tmp_path / "intake/embedded/cell7_out0.png")
    story = RunMap(runs=[Run(0, 2, "nb cell 2", 1, "train(ds, 1)"),
                         Run(1, 6, "nb cell 6", 2, "train(ds, 50)", final_grid=0)],
                   images=[ShownImage("embedded/cell7_out0.png", "nb cell 7 output 0", 7, 0,
                                      None, "sample_grid", 1),
                           ShownImage("embedded/cell9_out0.png", "nb cell 9 output 0", 9, 0,
                                      None, "other", 1, compare=True)],
                   baseline=0, final=1, comparison=1)
    ev = Evidence(submission="s", isolation="subprocess", run_map=story.to_dict())
    judged, student, _ = judge_shown(ev, tmp_path)
    roles = {f.role: f.origin for f in judged.figures}
    assert roles["final"] == "nb cell 7 output 0"  # the run's own grid stays the final one
    assert roles["before"] == "nb cell 9 output 0, left or top half"
    assert judged.student_before_images.n == 16 and student.before_tiles.shape[0] == 16
    assert judged.student_after_images is judged.student_images
