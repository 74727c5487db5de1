#!/usr/bin/env python3
"""Project tasks that need nothing but python3: ``python3 dev.py build`` and ``check``.

The first run makes a virtual environment in ``.venv`` and installs the package with its
development extras; later runs reinstall only when ``pyproject.toml`` has changed.

    build   export the example flows to static JSON in build/flows (the main job)
    check   every check: the test suite under branch coverage (95% at least), mypy --strict,
            ruff, and the generated-files check
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")
STAMP = VENV / ".installed-from"

BUILD = [["-m", "minivoice_flow", "build", "examples/flows", "--out", "build/flows"]]
CHECK = [
    ["-m", "coverage", "erase"],
    ["-m", "coverage", "run", "-m", "pytest"],
    ["-m", "coverage", "combine", "--quiet"],
    ["-m", "coverage", "report"],
    ["-m", "mypy", "--strict"],
    ["-m", "ruff", "check", "."],
    ["-m", "ruff", "format", "--check", "."],
    ["-m", "minivoice_flow", "docs", "--check"],
]


def ensure_environment() -> None:
    """Create .venv and install the package (editable, with dev extras) when needed."""
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if not PYTHON.exists():
        print(f"dev.py: creating {VENV.relative_to(ROOT)}", flush=True)
        venv.create(VENV, with_pip=True)
    if not STAMP.exists() or STAMP.read_text() != wanted:
        print("dev.py: installing minivoice-flow with its dev extras", flush=True)
        install = ["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-e", ".[dev]"]
        if run(install) != 0:
            sys.exit("dev.py: installing failed; see pip's messages above")
        STAMP.write_text(wanted)


def run(arguments: list[str]) -> int:
    print(f"$ python {' '.join(arguments)}", flush=True)
    return subprocess.call([str(PYTHON), *arguments], cwd=ROOT)


def main(argv: list[str]) -> int:
    if len(argv) != 1 or argv[0] not in ("build", "check"):
        print(__doc__, file=sys.stderr)
        return 2
    ensure_environment()
    steps = BUILD if argv[0] == "build" else CHECK
    failed = [" ".join(step) for step in steps if run(step) != 0]
    for step in failed:
        print(f"dev.py: FAILED: python {step}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
