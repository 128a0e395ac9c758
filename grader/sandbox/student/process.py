"""The student's process: ``python -m grader.sandbox.student PLAN.json`` (runs student code).

Reads the plan, executes the code units one by one (phase ``load``), then runs the planned
phases (``check``, ``train``, ``sample_checkpoint``), writing ``result.json`` after every step
so that a kill still leaves partial results. Writes only JSON, ``.npz`` and ``.keras`` files.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from grader.files import write_json_atomic
from grader.sandbox.student.check_phase import run_check
from grader.sandbox.student.explain import explain_error, set_student_roots
from grader.sandbox.student.export_phase import run_export, synthetic_images
from grader.sandbox.student.namespace import StudentCode, install_notebook_stubs
from grader.sandbox.student.train_phase import run_sample_checkpoint, run_train

RESULT_VERSION = 1


class Child:
    """State of one child run: the plan, the student's namespace and the result so far."""

    def __init__(self, plan: dict[str, Any], work: Path) -> None:
        self.plan = plan
        self.work = work
        self.code = StudentCode()
        self.result: dict[str, Any] = {"version": RESULT_VERSION, "units": [], "checks": [],
                                       "variants": [], "phase_errors": {},
                                       "phase_error_details": {}, "timings": {}}
        self.call_s = float(plan.get("call_timeout_s", 60.0))
        self.seed = int(plan.get("seed", 0))
        self.facts: dict[str, Any] = dict(plan["assignment"])
        """The assignment facts (image shape, noise size, lesson names) from the plan."""
        self._real: np.ndarray | None = None

    def save(self) -> None:
        """Write the result so far."""
        write_json_atomic(self.work / "result.json", self.result, indent=None)

    def progress(self, phase: str) -> None:
        """Tell the parent which phase runs now (it applies that phase's time limit)."""
        write_json_atomic(self.work / "progress.json", {"phase": phase, "time": time.time()},
                          indent=None)

    def load(self) -> None:
        """Phase ``load``: execute every code unit, recording failures and definitions."""
        self.progress("load")
        units = self.plan.get("units", [])

        def on_unit(run) -> None:
            self.result["units"].append(run.to_json())
            self.save()

        script = next((str(u.get("origin", "")).rsplit(" line ", 1)[0] for u in units
                       if str(u.get("origin", "")).split(" line ")[0].endswith(".py")), None)
        roots = self.plan.get("read_only") or []
        set_student_roots([str(r) for r in roots])
        if script and roots:  # a .py may use __file__ (a notebook has none)
            self.code.ns["__file__"] = str(Path(roots[0]) / script)
        self.code.run_units(units, float(self.plan.get("unit_timeout_s", 60.0)), on_unit)
        self.result["functions"] = {name: [v.origin for v in vs]
                                    for name, vs in self.code.versions.items()}

    def probe_images(self, n: int) -> np.ndarray:
        """Images for probing the models: real ones when the parent gave any, else synthetic.

        The student's process of a normal run is given no training data at all (only the
        fallback training run is); synthetic image-like arrays serve the checks.
        """
        if self._real is not None:
            return self.real_images(n)
        return synthetic_images(n, tuple(self.facts["image_shape"]), self.seed)

    def take_real_images(self) -> None:
        """Read the parent's real images into memory and delete the file, before any student
        code runs: the student's code never finds training data as a file."""
        path = self.work / self.plan.get("real_images", "real_images.npy")
        if path.is_file():
            self._real = np.load(path, allow_pickle=False)
            path.unlink()

    def real_images(self, n: int | None = None) -> np.ndarray:
        """Real uint8 images the parent gave (empty when it gave none)."""
        arr = self._real if self._real is not None else np.zeros(
            (0, *self.facts["image_shape"]), np.uint8)
        return arr[:n] if n else arr

    def run(self) -> int:
        """Load, then run every phase; each phase's failure is recorded, not raised."""
        t0 = time.perf_counter()
        self.take_real_images()
        self.load()
        self.result["timings"]["load"] = round(time.perf_counter() - t0, 3)
        self.save()
        for spec in self.plan.get("phases", []):
            name = spec.get("name", "")
            self.progress(name)
            t0 = time.perf_counter()
            try:
                self.run_phase(name, spec)
            except BaseException as exc:  # student code may raise anything, even SystemExit
                err = explain_error(exc)
                self.result["phase_errors"][name] = err.text
                self.result["phase_error_details"][name] = err.detail
            self.result["timings"][name] = round(time.perf_counter() - t0, 3)
            self.save()
        self.progress("done")
        return 0

    def run_phase(self, name: str, spec: dict[str, Any]) -> None:
        """Dispatch one phase."""
        if name == "check":
            run_check(self, spec)
        elif name == "train":
            run_train(self, spec)
        elif name == "sample_checkpoint":
            run_sample_checkpoint(self, spec)
        elif name == "export":
            run_export(self, spec)
        elif name != "exec":
            raise ValueError(f"unknown phase {name!r}")


def main(argv: list[str]) -> int:
    """Entry point; returns the exit code."""
    if len(argv) != 2:
        print("usage: python -m grader.sandbox.student PLAN.json", file=sys.stderr)
        return 2
    plan_path = Path(argv[1])
    plan = json.loads(plan_path.read_text(encoding="utf-8"))
    work = plan_path.parent
    os.chdir(work)
    sys.setrecursionlimit(5000)
    install_notebook_stubs()
    child = Child(plan, work)
    child.save()
    return child.run()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
