"""``dev.py`` notices a ``.venv`` left broken by an interrupted set-up, says so, and remakes it.

The real ``dev.py`` runs on a copy of a tiny project whose build backend needs nothing from
the network, so pip installs it offline. The interruption is a real Ctrl-C: SIGINT to the
whole process group (dev.py, pip and the backend), sent while the backend is known to be
building, because it says so through a named pipe and then waits.
"""

from __future__ import annotations

import hashlib
import os
import select
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.cli import ROOT

BACKEND = '''
"""A PEP 517/660 build backend that needs nothing installed, so pip can use it offline."""

import base64
import hashlib
import os
import zipfile

DIST = "devpy_probe-0.dist-info"


def get_requires_for_build_wheel(config_settings=None):
    return []


get_requires_for_build_editable = get_requires_for_build_wheel


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    return _wheel(wheel_directory)


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    hold = os.environ.get("DEVPY_HOLD")
    if hold:  # say "building" through one named pipe, then wait on the other for ever
        with open(hold + ".said", "w") as said:
            said.write("building\\n")
        with open(hold) as wait:
            wait.read()
    return _wheel(wheel_directory)


def _wheel(directory):
    files = {
        f"{DIST}/METADATA": (
            "Metadata-Version: 2.1\\nName: devpy-probe\\nVersion: 0\\nProvides-Extra: dev\\n"
        ),
        f"{DIST}/WHEEL": (
            "Wheel-Version: 1.0\\nGenerator: test\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n"
        ),
    }
    record = [f"{path},sha256={_digest(text)},{len(text)}" for path, text in files.items()]
    files[f"{DIST}/RECORD"] = "\\n".join([*record, f"{DIST}/RECORD,,"]) + "\\n"
    name = "devpy_probe-0-py3-none-any.whl"
    with zipfile.ZipFile(os.path.join(directory, name), "w") as wheel:
        for path, text in files.items():
            wheel.writestr(path, text)
    return name


def _digest(text):
    digest = hashlib.sha256(text.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
'''

PYPROJECT = """
[build-system]
requires = []
build-backend = "backend"
backend-path = ["."]

[project]
name = "devpy-probe"
version = "0"

[project.optional-dependencies]
dev = []
"""

#: pip may not reach an index here: everything it needs is in the project.
OFFLINE = {"PIP_NO_INDEX": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}


def project(tmp_path: Path) -> Path:
    """A copy of dev.py beside the tiny project's pyproject.toml and backend."""
    root = tmp_path / "project"
    root.mkdir()
    shutil.copy2(ROOT / "dev.py", root / "dev.py")
    (root / "pyproject.toml").write_text(textwrap.dedent(PYPROJECT).lstrip())
    (root / "backend.py").write_text(BACKEND.lstrip())
    return root


def wait_for_word(pipe: str, process: subprocess.Popen[str]) -> None:
    """Wait until the backend writes to the named ``pipe``; fail if ``process`` ends first.

    Opened for reading and writing, so opening never blocks and no end of file is seen
    before the backend writes.
    """
    descriptor = os.open(pipe, os.O_RDWR)
    try:
        while not select.select([descriptor], [], [], 1.0)[0]:
            if process.poll() is not None:
                out, err = process.communicate()
                pytest.fail(f"dev.py ended before the install began: {out} {err}")
        assert os.read(descriptor, 100) == b"building\n"
    finally:
        os.close(descriptor)


def dev_py(root: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "dev.py", *args],
        cwd=root,
        capture_output=True,
        text=True,
        env={**os.environ, **OFFLINE, **env},
        timeout=600,
    )


def test_a_venv_broken_by_interruptions_is_made_again(tmp_path: Path) -> None:
    """No pip (an interrupted first set-up), then Ctrl-C during the install: each time the
    next run says why and starts .venv again, and the third run finishes the job."""
    root = project(tmp_path)
    venv = root / ".venv"
    # What a Ctrl-C during the creation of .venv leaves: a python and no pip.
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)

    hold = tmp_path / "hold"
    os.mkfifo(hold)
    os.mkfifo(f"{hold}.said")
    process = subprocess.Popen(
        [sys.executable, "dev.py", "setup"],
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **OFFLINE, "DEVPY_HOLD": str(hold)},
        start_new_session=True,  # its own process group, as a terminal's foreground job
    )
    try:
        wait_for_word(f"{hold}.said", process)
        os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C does
        out, err = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
    assert process.returncode == 130, (out, err)
    assert "dev.py: .venv is broken (pip is missing from it); making it again" in out
    assert err.splitlines()[-1] == (
        "dev.py: interrupted; the next run finishes what was left undone"
    )
    assert (venv / ".installed-from").read_text() == "unfinished"

    again = dev_py(root, "setup")
    assert again.returncode == 0, again
    assert (
        "dev.py: .venv is broken (an earlier set-up was interrupted before it finished); "
        "making it again"
    ) in again.stdout
    wanted = hashlib.sha256((root / "pyproject.toml").read_bytes()).hexdigest()
    assert (venv / ".installed-from").read_text() == wanted
    python = venv / "bin" / "python"
    installed = subprocess.run(
        [str(python), "-c", "import importlib.metadata as m; print(m.version('devpy-probe'))"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert installed.stdout == "0\n"

    quiet = dev_py(root, "setup")
    assert (quiet.returncode, quiet.stdout, quiet.stderr) == (0, "", "")
