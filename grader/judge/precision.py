"""Which arithmetic the judge's network runs in: bfloat16 where the CPU has it natively.

The judge computes in bfloat16 up to its pooled features on CPUs with native bfloat16 matrix
units (Intel AMX or AVX512-BF16), where it is ~5x faster than float32, and in float32
elsewhere (bfloat16 without hardware support is slow). ``reference/classifier/eval_report.md``
measures how little the two disagree. ``DCGAN_GRADER_JUDGE_PRECISION=float32|bfloat16|auto``
overrides the choice. No TensorFlow or Keras import here: the cohort cache keys use it.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

from grader.config import ENV_PREFIX

PRECISION_ENV = f"{ENV_PREFIX}JUDGE_PRECISION"
CHOICES = ("auto", "float32", "bfloat16")


@functools.cache
def native_bfloat16() -> bool:
    """True when this CPU multiplies bfloat16 natively (AMX-BF16 or AVX512-BF16; Linux only).

    Read once per process: reports, cache keys and judge loads all ask.
    """
    try:
        flags = Path("/proc/cpuinfo").read_text(errors="replace")
    except OSError:
        return False
    return "amx_bf16" in flags or "avx512_bf16" in flags


def _setting() -> str:
    """``DCGAN_GRADER_JUDGE_PRECISION`` normalized (``auto`` when unset or blank)."""
    return os.environ.get(PRECISION_ENV, "").strip().lower() or "auto"


def setting_problem() -> str | None:
    """A sentence when ``DCGAN_GRADER_JUDGE_PRECISION`` holds something unknown (then: auto)."""
    chosen = _setting()
    if chosen in CHOICES:
        return None
    return (f"{PRECISION_ENV}={chosen!r} is not one of {', '.join(CHOICES)}; "
            "the judge chose its precision automatically.")


def compute_policy() -> str:
    """``"bfloat16"`` or ``"float32"``: the setting, or (auto, or unknown) what this CPU runs fast."""
    chosen = _setting()
    if chosen in ("float32", "bfloat16"):
        return chosen
    return "bfloat16" if native_bfloat16() else "float32"
