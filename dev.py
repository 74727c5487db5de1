#!/usr/bin/env python3
"""Project tasks that need nothing but python3: ``python3 dev.py build`` and ``check``.

The first run makes a virtual environment in ``.venv`` and installs the package with its
development extras; later runs reinstall only when ``pyproject.toml`` has changed. A ``.venv``
left broken by an interrupted set-up (no pip in it, or the mark of an install that never
finished) is noticed, said so, and made again from scratch.

    build   export the example flows to static JSON in build/flows (the main job)
    check   every check: the test suite under branch coverage (95% at least), mypy --strict,
            ruff, and the generated-files check
    setup   only make (or repair) .venv; build and check do this first anyway
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")
#: What .venv was installed from (a hash of pyproject.toml), or UNFINISHED while set-up runs.
STAMP = VENV / ".installed-from"
UNFINISHED = "unfinished"

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
STEPS = {"build": BUILD, "check": CHECK, "setup": []}


def ensure_environment() -> None:
    """Create .venv and install the package (editable, with dev extras) when needed."""
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    stamp = _read_stamp()
    if stamp == wanted and PYTHON.exists():
        return  # the usual case: nothing to do, and nothing run to find that out
    broken = _why_broken(stamp)
    if broken is not None:
        print(f"dev.py: {VENV.name} is broken ({broken}); making it again", flush=True)
        shutil.rmtree(VENV)
    if not PYTHON.exists():
        print(f"dev.py: creating {VENV.relative_to(ROOT)}", flush=True)
        VENV.mkdir(parents=True, exist_ok=True)
        _write_stamp(UNFINISHED)  # until the install has finished: see _why_broken
        venv.create(VENV, with_pip=True)
    _write_stamp(UNFINISHED)
    print("dev.py: installing minivoice-flow with its dev extras", flush=True)
    install = ["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-e", ".[dev]"]
    if run(install) != 0:
        sys.exit(
            "dev.py: installing failed; see pip's messages above. The next run makes "
            f"{VENV.name} again from scratch"
        )
    _write_stamp(wanted)


def _why_broken(stamp: str | None) -> str | None:
    """Why the existing .venv cannot be installed into as it is; None if it can (or is absent).

    The stamp says UNFINISHED from the moment set-up starts until the install succeeds, so an
    interrupted set-up (Ctrl-C, a killed CI job) is known even when pip itself survived it.
    A .venv without that mark (made by hand, or before the mark existed) is kept if its pip
    still runs.
    """
    if not VENV.exists():
        return None
    if stamp == UNFINISHED:
        return "an earlier set-up was interrupted before it finished"
    if not PYTHON.exists():
        return f"it has no {PYTHON.relative_to(VENV)}"
    try:
        check = subprocess.run(
            [str(PYTHON), "-m", "pip", "--version"], capture_output=True, timeout=120
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"its python does not run: {error}"
    if check.returncode != 0:
        return "pip is missing from it"
    return None


def _read_stamp() -> str | None:
    try:
        return STAMP.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None


def _write_stamp(text: str) -> None:
    """Replace the stamp in one rename, so it is never half written."""
    temporary = STAMP.with_name(STAMP.name + ".tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, STAMP)


def run(arguments: list[str]) -> int:
    print(f"$ python {' '.join(arguments)}", flush=True)
    return subprocess.call([str(PYTHON), *arguments], cwd=ROOT)


def main(argv: list[str]) -> int:
    if len(argv) != 1 or argv[0] not in STEPS:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        ensure_environment()
        failed = [" ".join(step) for step in STEPS[argv[0]] if run(step) != 0]
    except KeyboardInterrupt:
        print("dev.py: interrupted; the next run finishes what was left undone", file=sys.stderr)
        return 130
    for step in failed:
        print(f"dev.py: FAILED: python {step}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
