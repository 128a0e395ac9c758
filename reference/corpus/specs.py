"""What each corpus notebook is: its code variants, runs, display bugs, outputs and quirks.

A :class:`Spec` is the construction plan of one notebook; truth is computed from what the
plan made the notebook show (``reference/corpus/truth.py``), never from the plan's intent.
:data:`CASES` are the hand-made notebooks (the default 32); :func:`specs` adds seeded random
combinations beyond them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from reference.corpus.sources import RUNS


def _names(run: str, upto: float | None = None, since: float = 0.0) -> tuple[str, ...]:
    return tuple(s.name for s in RUNS[run]
                 if (upto is None or s.epochs <= upto + 1e-6) and s.epochs > since + 1e-6)


REF50 = _names("ref50")
REF12 = _names("ref12")
ALICE = _names("alice", upto=1.0)
WIDE = _names("wide", upto=2.0)


@dataclass(frozen=True)
class Run:
    """One training run shown in a notebook (the baseline, or an improvement)."""

    frames: tuple[str, ...]
    """Snapshots of the run's saved sample grids, in order; the last is the final generator."""
    history: str
    """History kind (``down``, ``high``, ``osc``, ``dwins``, ``flat``, ``real_long``...)."""
    epochs: int
    model: str = "ref"
    """Key of ``snippets_models.MODELS``."""
    loop: str = "lesson"
    """``lesson`` (clear_output), ``epoch_log`` (a line per epoch) or ``tob``."""
    plot: str = "lesson"
    """``draw_train_history`` variant, or ``none`` (no history plot)."""
    accuracy: str = "fixed"
    from_logits: bool = True
    smoothing: float | None = None
    lr: float = 1e-4
    beta_1: float | None = None
    batch: int = 128
    change: str = ""
    """For an improvement run: ``deeper``, ``label_smoothing``, ``lr``, ``more_epochs``,
    ``batch``, ``upsampling``."""
    restore: bool = False
    """Continues the previous run from its checkpoint (epochs counted on)."""
    scaled: bool = False
    """The snapshots stand in for a longer run: frame epochs are stretched to ``epochs``."""
    interrupt_at: int | None = None
    shown: bool = True
    """The run's training outputs are kept (False: the student cleared them)."""

    @property
    def final(self) -> str:
        """The run's final snapshot."""
        return self.frames[-1]


@dataclass(frozen=True)
class Spec:
    """The construction plan of one notebook."""

    name: str
    author: str
    runs: tuple[Run, ...]
    display: str = "correct"
    """Final-grid display mode (``snippets_loop.IMSHOW``)."""
    preview: str = "correct"
    """Real-data preview: ``correct``, ``clip``, ``uint8``, ``random25``."""
    gif: str = "shown"
    """``shown`` (display.Image), ``file`` (submitted only), ``markdown`` (linked), ``missing``."""
    gif_pattern: str = "sample*.png"
    gif_simple: bool = False
    proj: str = "cifar10"
    counts: str = "in_order"
    """``in_order``, ``out_of_order`` or ``restart``."""
    improvement: str = "none"
    """``none`` (no section), ``not_attempted`` (ideas only) or ``applied`` (runs[1:])."""
    compare: bool = True
    checkpoint: bool = False
    submit: tuple[str, ...] = ("samples", "history", "gif")
    retina: bool = False
    gallery: bool = False
    error_cell: bool = False
    sanity_cmap: str = ""
    note: str = ""


def R(frames: tuple[str, ...], history: str, epochs: int, **kw) -> Run:
    """Shorthand for :class:`Run`."""
    return Run(frames, history, epochs, **kw)


CASES: tuple[Spec, ...] = (
    Spec("lesson_fixed_down_gif_shown", "김서연", (R(REF50, "down", 50, model="lesson"),),
         retina=True, note="lesson adapted to 32x32x3, accuracy fixed, GIF shown"),
    Spec("lesson_bug_gray_grid", "이준호",
         (R(REF50, "high", 50, model="lesson", accuracy="lesson_bug"),),
         display="gray_ch0", gif="file", improvement="not_attempted", sanity_cmap="gray"),
    Spec("deeper_model_better", "박지민",
         (R(ALICE, "high", 1, model="lesson"),
          R(REF50, "down", 50, model="ref", lr=2e-4, beta_1=0.5, change="deeper")),
         improvement="applied"),
    Spec("label_smoothing_wide_not_better", "최유진",
         (R(_names("ref12", upto=1), "high", 2, model="ref", scaled=True),
          R(WIDE, "down", 2, model="wide", smoothing=0.9, lr=2e-4, beta_1=0.5,
            change="label_smoothing")),
         improvement="applied"),
    Spec("more_epochs_restore_restart", "정민수",
         (R(_names("ref50", upto=25), "down", 25, loop="epoch_log"),
          R(_names("ref50", since=25), "flat", 25, loop="epoch_log", restore=True,
            change="more_epochs")),
         improvement="applied", counts="restart", checkpoint=True,
         submit=("samples", "history", "gif", "ckpt")),
    Spec("sigmoid_consistent_batch_change", "강하늘",
         (R(REF12, "high", 50, model="list_sigmoid", from_logits=False, accuracy="sigmoid",
            plot="four_lines", scaled=True, batch=256),
          R(REF50, "down", 50, model="list_sigmoid", from_logits=False, accuracy="sigmoid",
            plot="four_lines", change="batch")),
         display="correct_uint8", improvement="applied"),
    Spec("double_sigmoid_from_logits", "조은비",
         (R(_names("ref12", upto=3), "osc", 50, model="ref_sigmoid", accuracy="sigmoid",
            scaled=True),),
         note="sigmoid output with from_logits=True"),
    Spec("functional_viridis_ckpt", "윤도현", (R(REF50, "down", 50, model="functional",
                                                plot="per_epoch"),),
         display="viridis_ch0", gif="file", checkpoint=True,
         submit=("samples", "history", "gif", "ckpt")),
    Spec("upsampling_gif_markdown", "장수빈",
         (R(REF12, "real_long", 12, model="upsampling"),),
         gif="markdown", improvement="not_attempted"),
    Spec("build_names_clip_lr_change", "임재현",
         (R(REF12, "real_long", 12, model="build"),
          R(REF50, "down", 50, model="build", lr=2e-4, beta_1=0.5, change="lr")),
         display="clip", improvement="applied"),
    Spec("fashion_leftover_gray28", "한지우", (R(_names("ref50", upto=25), "down", 25,
                                                model="fashion"),),
         display="gray_ch0", sanity_cmap="gray"),
    Spec("train_on_batch_keras", "오세훈", (R(REF50, "down", 50, model="tob", accuracy="sigmoid",
                                             from_logits=False),),
         gif="file", gif_simple=True, gif_pattern="img-*.png"),
    Spec("uint8_wrap_lr_change", "서민재",
         (R(_names("ref50", upto=8), "high", 8),
          R(REF50, "down", 50, lr=2e-4, beta_1=0.5, change="lr")),
         display="uint8_wrap", improvement="applied"),
    Spec("interrupted_out_of_order", "신예은",
         (R(REF50, "high", 50, model="ref_alpha", accuracy="lesson_bug", interrupt_at=8),),
         counts="out_of_order", submit=("samples", "gif")),
    Spec("restart_fashion_path_seaborn", "권태양", (R(REF50, "down", 50, plot="seaborn"),),
         proj="fashion", counts="restart", retina=True, improvement="not_attempted"),
    Spec("missing_gif_deeper_better", "황보람",
         (R(ALICE, "high", 1, model="lesson"),
          R(REF50, "down", 50, change="deeper", lr=2e-4, beta_1=0.5)),
         gif="missing", improvement="applied"),
    Spec("single_frame_gif", "송지호", (R(REF50, "down", 50),),
         gif_pattern="sample_epoch_0050*.png"),
    Spec("four_lines_lr_better", "안소희",
         (R(REF12, "high", 50, plot="four_lines", scaled=True),
          R(REF50, "down", 50, plot="four_lines", lr=2e-4, beta_1=0.5, change="lr")),
         improvement="applied"),
    Spec("per_epoch_means_osc", "배준영", (R(REF50, "osc", 50, model="list", loop="epoch_log",
                                            plot="per_epoch"),),
         improvement="not_attempted"),
    Spec("korean_titles_lr_better", "류하은",
         (R(_names("ref12", upto=3), "high", 50, plot="korean", scaled=True),
          R(REF50, "down", 50, plot="korean", lr=2e-4, beta_1=0.5, change="lr")),
         gif="file", improvement="applied"),
    Spec("no_history_plot", "문성민", (R(REF50, "down", 50, model="lesson", plot="none"),),
         submit=("samples", "gif")),
    Spec("real_long_then_more_epochs", "양지훈",
         (R(REF12, "real_long", 12),
          R(_names("ref50", since=12), "flat", 38, restore=True, change="more_epochs")),
         improvement="applied", checkpoint=True),
    Spec("improvement_after_only", "홍서윤",
         (R(_names("ref12", upto=6), "high", 50, scaled=True, shown=False),
          R(REF50, "down", 50, smoothing=0.9, change="label_smoothing")),
         improvement="applied", compare=False),
    Spec("improvement_worse_upsampling", "전우진",
         (R(REF50, "down", 50),
          R(_names("ref12", upto=3), "dwins", 50, model="upsampling", scaled=True,
            change="upsampling")),
         improvement="applied"),
    Spec("lesson_blobs_single_frame", "고다인", (R(ALICE, "high", 50, model="lesson",
                                                  scaled=True),),
         gif_pattern="sample_epoch_0050*.png"),
    Spec("ckpt_accuracy_bug_down", "남궁현", (R(REF50, "down", 50, accuracy="lesson_bug"),),
         checkpoint=True, submit=("samples", "history", "gif", "ckpt"),
         improvement="not_attempted"),
    Spec("preview_clip_more_epochs", "유채원",
         (R(_names("ref50", upto=25), "osc", 25, model="list", loop="epoch_log"),
          R(_names("ref50", since=25), "flat", 25, model="list", loop="epoch_log",
            restore=True, change="more_epochs")),
         preview="clip", improvement="applied"),
    Spec("gallery_retina_lr_same", "백승우",
         (R(_names("ref50", upto=25), "down", 50, scaled=True),
          R(REF50, "down", 50, lr=2e-4, beta_1=0.5, change="lr")),
         retina=True, gallery=True, improvement="applied"),
    Spec("error_cell_smoothing_wide", "노은서",
         (R(REF50, "down", 50),
          R(WIDE, "down", 50, model="wide", smoothing=0.9, scaled=True,
            change="label_smoothing")),
         error_cell=True, improvement="applied"),
    Spec("viridis_deeper_better", "차민호",
         (R(ALICE, "high", 1, model="lesson"),
          R(REF50, "down", 50, lr=2e-4, beta_1=0.5, change="deeper")),
         display="viridis_ch0", improvement="applied"),
    Spec("dwins_missing_gif", "주하린", (R(_names("ref12", upto=6), "dwins", 50, scaled=True),),
         gif="missing", submit=("samples", "history")),
    Spec("tob_gray_high_missing_gif", "탁지성",
         (R(_names("ref50", upto=25), "high", 25, model="tob", accuracy="sigmoid",
            from_logits=False),),
         display="gray_ch0", gif="missing", gif_simple=True, gif_pattern="img-*.png",
         submit=("samples", "history")),
)
"""The hand-made cases, in build order (the first N are built with ``--n N``)."""

_AUTHORS = ("김하준", "이서아", "박도윤", "최지안", "정시우", "강서진", "조예준", "윤채은")


def random_spec(rng: np.random.Generator, k: int) -> Spec:
    """A seeded random combination of the case dimensions (beyond the hand-made ones)."""
    base = CASES[int(rng.integers(len(CASES)))]
    runs = list(base.runs)
    pick = lambda xs: xs[int(rng.integers(len(xs)))]  # noqa: E731
    runs[0] = replace(runs[0], history=pick(("down", "high", "osc")),
                      accuracy=pick(("fixed", "lesson_bug")) if runs[0].model not in
                      ("tob", "ref_sigmoid", "list_sigmoid") else runs[0].accuracy,
                      plot=pick(("lesson", "four_lines", "per_epoch", "seaborn"))
                      if runs[0].loop != "tob" else runs[0].plot)
    return replace(base, name=f"random_{k:03d}_{base.name}", author=pick(_AUTHORS),
                   runs=tuple(runs),
                   display=pick(("correct", "gray_ch0", "clip", "correct_uint8")),
                   gif=pick(("shown", "file", "missing")), retina=bool(rng.integers(2)),
                   note=f"random variant of {base.name}")


def specs(n: int, seed: int) -> list[Spec]:
    """The first ``n`` notebooks: the hand-made cases, then seeded random variants."""
    out = list(CASES[:n])
    rng = np.random.default_rng(seed)
    k = 0
    while len(out) < n:
        out.append(random_spec(rng, k))
        k += 1
    return out


def features(spec: Spec) -> list[str]:
    """The features a notebook exercises (for truth.json and the README table)."""
    f = [f"display:{spec.display}", f"gif:{spec.gif}", f"counts:{spec.counts}",
         f"improvement:{spec.improvement}", f"preview:{spec.preview}"]
    for i, run in enumerate(spec.runs):
        p = f"run{i}:"
        loop, plot = ("tob", "tob") if run.model == "tob" else (run.loop, run.plot)
        f += [p + f"model:{run.model}", p + f"loop:{loop}", p + f"plot:{plot}",
              p + f"history:{run.history}", p + f"accuracy:{run.accuracy}",
              p + f"final:{run.final}", p + f"epochs:{run.epochs}"]
        if run.model in ("ref_sigmoid", "list_sigmoid", "tob"):
            f.append(p + ("double_sigmoid" if run.from_logits else "sigmoid_from_logits_false"))
        f += [p + x for x, on in (("restore", run.restore), ("scaled_stand_in", run.scaled),
                                  (f"interrupted_at_{run.interrupt_at}", run.interrupt_at),
                                  ("outputs_cleared", not run.shown),
                                  (f"change:{run.change}", run.change),
                                  (f"label_smoothing:{run.smoothing}", run.smoothing)) if on]
    f += [x for x, on in (("fashion_path", spec.proj == "fashion"), ("retina", spec.retina),
                          ("checkpoint", spec.checkpoint), ("gallery", spec.gallery),
                          ("error_cell", spec.error_cell), ("gif_single_frame",
                                                            "0050" in spec.gif_pattern),
                          ("compare_cell", spec.improvement == "applied" and spec.compare))
          if on]
    return f + [f"submit:{s}" for s in spec.submit]
