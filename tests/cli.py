"""Helpers for the command-line tests: run the real command, write flow modules, snapshot dirs."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import unicodedata
from pathlib import Path

from attrs import frozen

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "flows"


def without_coverage() -> dict[str, str]:
    """The environment for a subprocess that checks what it imports: without coverage's
    start-up hook (dev.py check measures subprocesses), which loads sqlite3 of its own."""
    return {k: v for k, v in os.environ.items() if not k.startswith("COVERAGE_PROCESS")}


@frozen
class Ran:
    """What a run of the command gave: exit code and its output as text."""

    code: int
    out: str
    err: str


def run_cli(
    *args: str | Path,
    cwd: Path,
    stdin: bytes = b"",
    env: dict[str, str] | None = None,
    as_ordinary_user: bool = False,
) -> Ran:
    """``python -m minivoice_flow ARGS`` in a subprocess, as a user would run it.

    ``as_ordinary_user``: when the tests run as root, drop the capabilities that let root
    read and write any file, so file permissions apply to the command as to anyone else.
    """
    prefix = []
    if as_ordinary_user and os.geteuid() == 0:
        prefix = ["setpriv", "--bounding-set", "-dac_override,-dac_read_search", "--"]
    done = subprocess.run(
        [*prefix, sys.executable, "-m", "minivoice_flow", *map(str, args)],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        env={**os.environ, **(env or {})},
        timeout=120,
    )
    return Ran(done.returncode, _text(done.stdout), _text(done.stderr))


def _text(output: bytes) -> str:
    return output.decode("utf-8", "backslashreplace")


def terminal_safe(text: str) -> bool:
    """No character of ``text`` but its line breaks is one a terminal acts on: no control (C0,
    DEL, C1), format character (direction overrides), line separator or lone surrogate."""
    return not any(
        unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp", "Cs") and c != "\n" for c in text
    )


def write_module(directory: Path, name: str, source: str) -> Path:
    """Write ``<directory>/<name>.py`` from an indented source string."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.py"
    path.write_text(textwrap.dedent(source).lstrip(), encoding="utf-8")
    return path


def snapshot(directory: Path) -> dict[str, tuple[bytes, int]]:
    """Every entry of a directory with its bytes (a link: its target; a directory or a pipe:
    its kind) and modification time (ns)."""
    if not directory.exists():
        return {}
    return {p.name: (_content(p), p.lstat().st_mtime_ns) for p in sorted(directory.iterdir())}


def _content(path: Path) -> bytes:
    if path.is_symlink():
        return b"<link to " + os.fsencode(os.readlink(path)) + b">"
    if path.is_file():
        return path.read_bytes()
    return b"<dir>" if path.is_dir() else b"<other>"


def flow_files(directory: Path) -> list[str]:
    """The names of the visible ``*.json`` files of a directory, sorted (not the manifest)."""
    return sorted(p.name for p in directory.glob("*.json") if not p.name.startswith("."))


def line_of(path: Path, text: str) -> int:
    """The number of the only line of ``path`` that contains ``text``."""
    found = [n for n, line in enumerate(path.read_text().splitlines(), 1) if text in line]
    assert len(found) == 1, (text, found)
    return found[0]
