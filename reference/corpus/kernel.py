"""A small stand-in for a Jupyter kernel: runs a notebook's cells and records real outputs.

The corpus's notebooks are executed, not drawn: definitions, model summaries, data previews,
sample grids, history plots and the GIF cell run as Python in one namespace, and what they
print or plot becomes the cell's outputs the way IPython would record them (streams, figures
flushed at ``plt.show()`` and at the end of the cell as the inline backend does, the value of a
last expression, warnings and matplotlib's log messages on stderr). Only training is not run:
a cell can hand its execution to a *driver*, which calls the notebook's own functions with
saved generators and a prepared history instead.

Shell and line magics are interpreted (``!mkdir -p``, ``!ls -l``, ``%%time``,
``%matplotlib inline``, ``%config InlineBackend.figure_format``). ``IPython.display`` is
replaced by a fake module while the kernel runs, so ``display.clear_output`` and
``display.Image`` work without IPython.
"""

from __future__ import annotations

import ast
import base64
import contextlib
import io
import linecache
import logging
import os
import re
import sys
import types
import warnings
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import nbformat  # noqa: E402

plt.switch_backend("Agg")  # resolve the backend now: it rewrites plt.show's signature later

STUDENT_HOME = "/aiffel"
"""What ``$HOME`` looks like in the outputs (the course's cloud machines)."""
SITE = "/opt/conda/lib/python3.9/site-packages"
"""What the venv's site-packages look like in warnings."""
_ADDR = re.compile(r" at 0x[0-9a-f]{6,16}")


class FakeImage:
    """``IPython.display.Image(filename=...)``: keeps the file's bytes for the display hook."""

    def __init__(self, data: bytes | None = None, filename: str | None = None, **_: object):
        self.data = Path(filename).read_bytes() if filename else (data or b"")
        self.mime = "image/gif" if self.data[:4] == b"GIF8" else "image/png"


class Kernel:
    """Run cells in one namespace and collect their outputs as nbformat nodes."""

    def __init__(self, home: Path, seed: int, dpi: int = 72, retina: bool = False):
        """Args: home is the fake ``$HOME``; seed seeds TF/numpy; dpi/retina as the inline backend."""
        self.home = home
        self.seed = seed
        self.dpi = dpi
        self.retina = retina
        self.ns: dict[str, object] = {"__name__": "__main__"}
        self.outputs: list[nbformat.NotebookNode] = []
        self.capture = True
        self.count = 0
        self._seen_warnings: set[tuple] = set()
        self._addresses: dict[str, str] = {}
        self._venv_site = str(Path(matplotlib.__file__).resolve().parents[1])

    # ---- output helpers -------------------------------------------------------------
    def sanitize(self, text: str) -> str:
        """Make paths and object addresses look like the student's machine (deterministic)."""
        text = text.replace(str(self.home), STUDENT_HOME).replace(self._venv_site, SITE)

        def addr(m: re.Match) -> str:
            key = m.group(0)
            if key not in self._addresses:
                n = (self.seed * 7919 + len(self._addresses) * 104729) % 16**10
                self._addresses[key] = f" at 0x7f{n:010x}"
            return self._addresses[key]

        return _ADDR.sub(addr, text)

    def stream(self, text: str, name: str = "stdout") -> None:
        """Append text to the current cell's stream output (merging as Jupyter does)."""
        if not self.capture or not text:
            return
        text = self.sanitize(text)
        last = self.outputs[-1] if self.outputs else None
        if last is not None and last.output_type == "stream" and last.name == name:
            last.text += text
        else:
            self.outputs.append(nbformat.v4.new_output("stream", name=name, text=text))

    def clear_output(self, wait: bool = False) -> None:
        """``IPython.display.clear_output``: drop the cell's outputs so far."""
        if self.capture:
            self.outputs.clear()

    def error(self, ename: str, evalue: str, traceback: list[str]) -> None:
        """Append an error output (a traceback the notebook shows)."""
        self.outputs.append(nbformat.v4.new_output(
            "error", ename=ename, evalue=evalue, traceback=[self.sanitize(t) for t in traceback]))

    def error_from(self, exc: BaseException, code: str) -> None:
        """An error output for an exception raised by cell code (IPython-like traceback)."""
        import traceback

        frames = traceback.extract_tb(exc.__traceback__)
        cell = [f for f in frames if f.filename == self.cell_file()]
        lines = code.splitlines()
        tb = ["\x1b[0;31m" + "-" * 75 + "\x1b[0m",
              f"\x1b[0;31m{type(exc).__name__}\x1b[0m" + " " * 25
              + "Traceback (most recent call last)"]
        for f in cell:
            src = lines[f.lineno - 1] if 0 < (f.lineno or 0) <= len(lines) else ""
            tb.append(f"Cell \x1b[0;32mIn[{self.count}], line {f.lineno}\x1b[0m\n"
                      f"\x1b[0;32m---> {f.lineno}\x1b[0m {src}\n")
        if frames and frames[-1].filename != self.cell_file():
            last = frames[-1]
            tb.append(f"File \x1b[0;32m{last.filename}:{last.lineno}\x1b[0m, in "
                      f"\x1b[0;36m{last.name}\x1b[0m\n")
        tb.append(f"\x1b[0;31m{type(exc).__name__}\x1b[0m: {exc}")
        self.error(type(exc).__name__, str(exc), tb)

    def figure_output(self, fig) -> None:
        """Render a figure as the inline backend does (tight bbox) and append it."""
        if not self.capture:
            return
        buf = io.BytesIO()
        dpi = fig.dpi * (2 if self.retina else 1)
        fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight",
                    facecolor=fig.get_facecolor(), edgecolor=fig.get_edgecolor())
        w, h = (fig.get_size_inches() * fig.dpi).round().astype(int)
        n_axes = len(fig.axes)
        meta = {}
        if self.retina:
            from PIL import Image

            pw, ph = Image.open(io.BytesIO(buf.getvalue())).size
            meta = {"image/png": {"width": pw // 2, "height": ph // 2}}
        self.outputs.append(nbformat.v4.new_output(
            "display_data", metadata=meta,
            data={"image/png": base64.b64encode(buf.getvalue()).decode(),
                  "text/plain": f"<Figure size {w}x{h} with {n_axes} Axes>"}))

    def _show(self, *_: object, **__: object) -> None:
        for num in plt.get_fignums():
            fig = plt.figure(num)
            self.figure_output(fig)
        plt.close("all")

    def _display_value(self, value: object) -> None:
        if value is None:
            return
        if isinstance(value, FakeImage):
            data = {value.mime: base64.b64encode(value.data).decode(),
                    "text/plain": "<IPython.core.display.Image object>"}
        else:
            data = {"text/plain": self.sanitize(repr(value))}
        self.outputs.append(nbformat.v4.new_output("execute_result", data=data,
                                                   execution_count=self.count))

    # ---- execution ------------------------------------------------------------------
    def cell_file(self) -> str:
        """The file name IPython gives the current cell's code (warnings and tracebacks)."""
        digest = zlib.crc32(f"{self.seed}:{self.count}".encode())
        return f"/tmp/ipykernel_{2000 + self.seed % 7000}/{digest}.py"

    @contextlib.contextmanager
    def quiet(self) -> Iterator[None]:
        """Run without recording outputs (plots are closed, prints dropped)."""
        old, self.capture = self.capture, False
        try:
            yield
        finally:
            self.capture = old

    def exec(self, code: str, display_last: bool = True) -> None:
        """Execute code in the namespace; the value of a last expression is displayed."""
        fname = self.cell_file()
        linecache.cache[fname] = (len(code), None, code.splitlines(True), fname)
        tree = ast.parse(code, fname)
        last = tree.body[-1] if tree.body and isinstance(tree.body[-1], ast.Expr) else None
        if not display_last:
            last = None
        body = tree.body[:-1] if last is not None else tree.body
        exec(compile(ast.Module(body=body, type_ignores=[]), fname, "exec"), self.ns)
        if last is not None:
            value = eval(compile(ast.Expression(last.value), fname, "eval"), self.ns)
            if self.capture:
                self._display_value(value)

    def _magic(self, line: str) -> None:
        cmd = line.strip()
        if cmd.startswith("!mkdir"):
            for p in cmd.split()[1:]:
                if not p.startswith("-"):
                    Path(os.path.expanduser(p)).mkdir(parents=True, exist_ok=True)
        elif cmd.startswith("!ls"):
            for p in cmd.split()[1:]:
                if p.startswith("-"):
                    continue
                path = Path(os.path.expanduser(p))
                if path.is_file():
                    size = path.stat().st_size
                    self.stream(f"-rw-r--r-- 1 root root {size} Mar 14 02:17 {path}\n")
                else:
                    self.stream(f"ls: cannot access '{p}': No such file or directory\n")
        elif "figure_format" in cmd and "retina" in cmd:
            self.retina = True

    def run_cell(self, source: str, *, run: str | None = None,
                 driver: Callable[[Kernel], None] | None = None,
                 time_text: str | None = None,
                 allow_error: bool = False) -> list[nbformat.NotebookNode]:
        """Run one cell and return its outputs.

        Args:
            source: The cell as the notebook shows it (magics included).
            run: Code to execute instead of ``source`` (magics are still read from source).
            driver: Called instead of executing code (training cells).
            time_text: The ``%%time`` report to print after the cell.
            allow_error: An exception becomes an error output (as a failing cell shows).

        Returns:
            The cell's outputs, in order.
        """
        self.count += 1
        self.outputs = []
        lines = source.splitlines()
        segments: list[tuple[str, str]] = []  # ("magic" | "code", text), in cell order
        for line in lines:
            kind = "magic" if line.lstrip().startswith(("!", "%")) else "code"
            if kind == "code" and segments and segments[-1][0] == "code":
                segments[-1] = ("code", segments[-1][1] + "\n" + line)
            else:
                segments.append((kind, line))
        if run is not None:
            segments = [x for x in segments if x[0] == "magic" and not x[1].startswith("!ls")]
            segments.append(("code", run))
            segments += [x for x in _magics(lines) if x[1].lstrip().startswith("!ls")]
        with self._capturing():
            try:
                if driver is not None:
                    for kind, text in segments:
                        if kind == "magic":
                            self._magic(text)
                    driver(self)
                else:
                    self._run_segments(segments)
            except Exception as exc:
                if not allow_error:
                    raise
                self._show()
                self.error_from(exc, "\n".join(t for k, t in segments if k == "code"))
                return self.outputs
            self._show()
        if time_text is None and lines and lines[0].startswith("%%time"):
            time_text = "CPU times: user 2.1 s, sys: 180 ms, total: 2.28 s\nWall time: 2.05 s\n"
        if time_text and not any(o.output_type == "error" for o in self.outputs):
            self.stream(time_text)  # an interrupted %%time cell reports no times
        return self.outputs

    def _run_segments(self, segments: list[tuple[str, str]]) -> None:
        code_idx = [i for i, (k, t) in enumerate(segments) if k == "code" and t.strip()]
        for i, (kind, text) in enumerate(segments):
            if kind == "magic":
                self._magic(text)
            elif text.strip():
                self.exec(text, display_last=bool(code_idx) and i == code_idx[-1])

    @contextlib.contextmanager
    def _capturing(self) -> Iterator[None]:
        kernel = self

        class _Writer(io.TextIOBase):
            def __init__(self, name: str):
                self.name = name

            def write(self, s: str) -> int:
                kernel.stream(s, self.name)
                return len(s)

        def showwarning(message, category, filename, lineno, file=None, line=None):
            key = (str(filename), lineno, category, str(message))
            if key in kernel._seen_warnings:
                return
            kernel._seen_warnings.add(key)
            if "reference/corpus" in str(filename):  # our inline-backend stand-in: IPython's
                filename, lineno = f"{SITE}/IPython/core/pylabtools.py", 152
                line = "fig.canvas.print_figure(bytes_io, **kw)"
            kernel.stream(warnings.formatwarning(message, category, filename, lineno, line),
                          "stderr")

        handler = logging.StreamHandler(_Writer("stderr"))
        handler.setFormatter(logging.Formatter("%(levelname)s:%(name)s:%(message)s"))
        mpl_log = logging.getLogger("matplotlib")
        old_show, old_sw = plt.show, warnings.showwarning
        mpl_log.addHandler(handler)
        mpl_log.propagate = False
        def show(*_: object, **__: object) -> None:
            self._show()

        plt.show = show
        warnings.showwarning = showwarning
        try:
            with warnings.catch_warnings(), contextlib.redirect_stdout(_Writer("stdout")), \
                    contextlib.redirect_stderr(_Writer("stderr")):
                warnings.showwarning = showwarning
                warnings.simplefilter("always")
                warnings.filterwarnings("ignore", module="tensorflow")
                warnings.filterwarnings("ignore", category=FutureWarning)
                yield
        finally:
            plt.show, warnings.showwarning = old_show, old_sw
            mpl_log.removeHandler(handler)
            mpl_log.propagate = True


@contextlib.contextmanager
def student_environment(kernel: Kernel) -> Iterator[None]:
    """Fake ``$HOME``, a fake ``IPython.display`` and the inline backend's rc settings."""
    ipy = types.ModuleType("IPython")
    disp = types.ModuleType("IPython.display")
    disp.clear_output = kernel.clear_output
    disp.Image = FakeImage
    disp.display = lambda *objs, **_: [kernel._display_value(o) for o in objs]
    ipy.display = disp
    ipy.version_info = (8, 30, 0)  # matplotlib asks
    saved = {k: sys.modules.get(k) for k in ("IPython", "IPython.display")}
    old_home = os.environ.get("HOME")
    sys.modules["IPython"], sys.modules["IPython.display"] = ipy, disp
    os.environ["HOME"] = str(kernel.home)
    kernel.home.mkdir(parents=True, exist_ok=True)
    rc = {"figure.dpi": kernel.dpi, "figure.figsize": (6.0, 4.0), "font.size": 10,
          "figure.subplot.bottom": 0.125, "figure.facecolor": "white"}
    try:
        with matplotlib.rc_context(rc):
            yield
    finally:
        plt.close("all")
        for k, v in saved.items():
            if v is None:
                sys.modules.pop(k, None)
            else:
                sys.modules[k] = v
        if old_home is None:
            os.environ.pop("HOME", None)
        else:
            os.environ["HOME"] = old_home


def _magics(lines: list[str]) -> list[tuple[str, str]]:
    return [("magic", ln) for ln in lines if ln.lstrip().startswith(("!", "%"))]
