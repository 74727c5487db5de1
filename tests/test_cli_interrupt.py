"""Interrupted builds: real signals sent to real ``minivoice-flow build`` processes.

Ctrl-C (SIGINT) and SIGTERM put every file back and end with one line and exit 130 or 143.
A build killed outright (SIGKILL) leaves temporary and backup files that the next build
recognises by name and removes, and no others. Errors name the flow file, never a temporary
one. Each signal is sent at a moment the test knows: a flow module that waits to be signalled,
or ``tests/paused_build.py``, which stops the build at a chosen file-system call.
"""

from __future__ import annotations

import fcntl
import os
import resource
import signal
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import pytest

from minivoice_flow._cli._output import MANIFEST
from minivoice_flow._files import hidden_target
from tests.cli import ROOT, flow_files, run_cli, snapshot, write_module
from tests.test_cli_build import BROKEN, GOOD, earlier_build_to_change, expected_files

PAUSED_BUILD = ["-m", "tests.paused_build"]
BUILD = ["build", "flows", "--out", "out"]

#: Files beside the build's output that look like temporary files but are not the build's.
DECOYS = {
    ".menu.json.swp": b"an editor's swap file",
    ".menu.json.tmp": b"someone else's temporary file",
    ".menu.json.0123456789ABCDEF.tmp": b"upper-case hex: no build made this",
    ".menu.json.minivoice-flow-0123.tmp": b"too short a token",
    ".notes.txt.minivoice-flow-0123456789abcdef.tmp": b"not for a file the build writes",
    "menu.json.minivoice-flow-0123456789abcdef.tmp": b"not hidden",
    ".menu.json.minivoice-flow-0123456789abcdef.tmp.keep": b"another suffix",
}

#: A link named like a temporary file of the build: not the build's, as the build makes none.
LINK = ".menu.json.minivoice-flow-aaaaaaaaaaaaaaaa.tmp"

#: What the build of ``earlier_build_to_change`` writes, by name.
WANTED = expected_files(GOOD.replace("bye.wav", "farewell.wav"))


def add_decoys(out: Path, outside: Path) -> None:
    """The decoys, and a link named like a temporary file of the build, to a file outside."""
    for name, content in DECOYS.items():
        (out / name).write_bytes(content)
    outside.write_text("outside the out directory")
    (out / LINK).symlink_to(outside)


def decoys_untouched(out: Path, outside: Path) -> bool:
    link = out / LINK
    return (
        all((out / name).read_bytes() == content for name, content in DECOYS.items())
        and link.is_symlink()
        and outside.read_text() == "outside the out directory"
    )


def leftovers(out: Path) -> list[str]:
    """Names in ``out`` of the build's own temporary and backup pattern (regular files)."""
    return sorted(
        p.name
        for p in out.iterdir()
        if hidden_target(p.name) is not None and not p.is_symlink() and p.name not in DECOYS
    )


def python_path() -> str:
    """$PYTHONPATH with the repository added, for ``-m tests.paused_build``."""
    return os.pathsep.join([*filter(None, [os.environ.get("PYTHONPATH")]), str(ROOT)])


@contextmanager
def started(
    arguments: Sequence[str | Path], cwd: Path
) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    """A real process, with $READY_FD: yields it and the descriptor it says "paused" on."""
    ready, ready_for_child = os.pipe()
    process = subprocess.Popen(
        [sys.executable, *map(str, arguments)],
        cwd=cwd,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        pass_fds=(ready_for_child,),
        env={**os.environ, "READY_FD": str(ready_for_child), "PYTHONPATH": python_path()},
    )
    os.close(ready_for_child)
    try:
        yield process, ready
    finally:
        os.close(ready)
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=60)


def wait_until_paused(process: subprocess.Popen[bytes], ready: int) -> None:
    """Block until the process says it is paused; fail (not hang) if it ends first."""
    said = b""
    while not said.endswith(b"\n"):
        chunk = os.read(ready, 100)
        if not chunk:
            break
        said += chunk
    if said != b"paused\n":
        out, err = process.communicate(timeout=60)
        pytest.fail(f"the build ended before the pause: {out!r} {err!r}")


def finish(process: subprocess.Popen[bytes], *, release: bool) -> tuple[int, str, str]:
    """Let a paused process go on (``release``), wait for it; its exit code and output."""
    if release:
        assert process.stdin is not None
        process.stdin.write(b"x")
        process.stdin.flush()
    out, err = process.communicate(timeout=60)
    return process.returncode, out.decode(), err.decode()


def stopped(
    arguments: Sequence[str | Path], cwd: Path, sent: signal.Signals, *, release: bool
) -> tuple[int, str, str]:
    """Start a process, wait for its pause, send it ``sent`` (and let it go on, if
    ``release``); its exit code and output."""
    with started(arguments, cwd) as (process, ready):
        wait_until_paused(process, ready)
        process.send_signal(sent)
        return finish(process, release=release)


SIGNALS = [
    pytest.param(signal.SIGINT, 130, id="SIGINT"),
    pytest.param(signal.SIGTERM, 143, id="SIGTERM"),
]

WAITS = """
    import os
    from minivoice_flow import Flow

    LATE = Flow("late").hangup()
    os.write(int(os.environ["READY_FD"]), b"paused\\n")
    os.read(0, 1)  # waits here, in the import, for the test's signal
"""


class TestSignalWhileImporting:
    """A signal while a flow module is imported: one line, exit 130/143, nothing written."""

    @pytest.mark.parametrize(("sent", "code"), SIGNALS)
    def test_one_line_and_the_exit_code(
        self, tmp_path: Path, sent: signal.Signals, code: int
    ) -> None:
        out = earlier_build_to_change(tmp_path)
        write_module(tmp_path / "flows", "waits", WAITS)
        before = snapshot(out)
        arguments = ["-m", "minivoice_flow", *BUILD]
        exit_code, printed, err = stopped(arguments, tmp_path, sent, release=False)
        assert exit_code == code
        assert err.splitlines() == [
            f"minivoice-flow: interrupted by {sent.name}; nothing was written to out"
        ]
        assert "Traceback" not in printed
        assert snapshot(out) == before


#: Where a build of ``earlier_build_to_change`` can be stopped, in the order it gets there:
#: fsync 1-2 stage goodbye.json and menu.json, fsync 3 the interim manifest; replace 1 puts
#: the interim manifest in, 2-3 the two files, 4 takes retired.json out, 5 puts the final
#: manifest in, after which fsync 5 flushes the directory.
BEFORE_THE_END = [("fsync", 1), ("fsync", 3), ("replace", 1), ("replace", 3), ("replace", 4)]
AT_THE_END = [("replace", 5), ("fsync", 5)]


class TestSignalWhileWriting:
    """A signal while files are swapped: every file is put back first, then one line."""

    @pytest.mark.parametrize(("function", "call"), BEFORE_THE_END)
    @pytest.mark.parametrize(("sent", "code"), SIGNALS)
    def test_everything_is_put_back(
        self, tmp_path: Path, function: str, call: int, sent: signal.Signals, code: int
    ) -> None:
        out = earlier_build_to_change(tmp_path)
        add_decoys(out, tmp_path / "outside.txt")
        before = snapshot(out)
        arguments = [*PAUSED_BUILD, function, str(call), *BUILD]
        exit_code, printed, err = stopped(arguments, tmp_path, sent, release=True)
        assert exit_code == code
        assert err.splitlines() == [
            f"minivoice-flow: interrupted by {sent.name}; every file in out is as it was "
            "before the build"
        ]
        assert printed == ""
        assert snapshot(out) == before  # names, bytes, times: no temporary file either

    @pytest.mark.parametrize(("function", "call"), AT_THE_END)
    def test_a_signal_during_the_last_step_lets_it_finish(
        self, tmp_path: Path, function: str, call: int
    ) -> None:
        out = earlier_build_to_change(tmp_path)
        arguments = [*PAUSED_BUILD, function, str(call), *BUILD]
        exit_code, _, err = stopped(arguments, tmp_path, signal.SIGTERM, release=True)
        assert exit_code == 143
        assert err.splitlines() == [
            "minivoice-flow: interrupted by SIGTERM; the build had finished: out is up to date"
        ]
        assert {name: (out / name).read_bytes() for name in flow_files(out)} == WANTED
        assert sorted(os.listdir(out)) == sorted([*WANTED, MANIFEST])
        assert run_cli(*BUILD, "--check", cwd=tmp_path).code == 0


class TestKilledBuild:
    """SIGKILL anywhere: the next build removes what the killed one left, and only that."""

    @pytest.mark.parametrize(("function", "call"), BEFORE_THE_END + AT_THE_END)
    def test_the_next_build_cleans_up_and_finishes(
        self, tmp_path: Path, function: str, call: int
    ) -> None:
        out = earlier_build_to_change(tmp_path)
        outside = tmp_path / "outside.txt"
        add_decoys(out, outside)
        arguments = [*PAUSED_BUILD, function, str(call), *BUILD]
        assert stopped(arguments, tmp_path, signal.SIGKILL, release=False)[0] == -signal.SIGKILL
        left = leftovers(out)
        ran = run_cli(*BUILD, cwd=tmp_path)
        assert ran.code == 0, ran
        if left:
            assert f"removed {len(left)} temporary file" in ran.out
        assert {name: (out / name).read_bytes() for name in flow_files(out)} == WANTED
        assert sorted(os.listdir(out)) == sorted([*WANTED, MANIFEST, *DECOYS, LINK])
        assert decoys_untouched(out, outside)
        assert run_cli(*BUILD, "--check", cwd=tmp_path).code == 0

    def test_an_earlier_releases_temporary_files_are_removed(self, tmp_path: Path) -> None:
        """Before the manifest, a killed build left ``.<flow>.json.<16 hex>.tmp`` (and .old)."""
        write_module(tmp_path / "flows", "menu", GOOD)
        out = tmp_path / "out"
        out.mkdir()
        earlier = [".menu.json.0123456789abcdef.tmp", ".goodbye.json.fedcba9876543210.old"]
        for name in earlier:
            (out / name).write_text('{"actions":[')
        outside = tmp_path / "outside.txt"
        add_decoys(out, outside)
        ran = run_cli(*BUILD, cwd=tmp_path)
        assert ran.code == 0, ran
        assert "removed 2 temporary files left in out by an interrupted build" in ran.out
        assert not any((out / name).exists() for name in earlier)
        assert decoys_untouched(out, outside)

    def test_a_failed_build_removes_nothing_either(self, tmp_path: Path) -> None:
        """Clean-up is part of writing: a build that fails its checks changes nothing."""
        out = earlier_build_to_change(tmp_path)
        (out / ".menu.json.minivoice-flow-0123456789abcdef.tmp").write_text("{")
        write_module(tmp_path / "flows", "broken", BROKEN)
        before = snapshot(out)
        assert run_cli(*BUILD, cwd=tmp_path).code == 1
        assert snapshot(out) == before


class TestOneBuildAtATime:
    """A second build into a directory another build is writing stops without touching it."""

    def test_the_second_build_is_refused_and_the_first_finishes(self, tmp_path: Path) -> None:
        out = earlier_build_to_change(tmp_path)
        arguments = [*PAUSED_BUILD, "replace", "3", *BUILD]
        with started(arguments, tmp_path) as (process, ready):
            wait_until_paused(process, ready)
            during = snapshot(out)
            second = run_cli(*BUILD, cwd=tmp_path)
            assert snapshot(out) == during
            exit_code, _, _ = finish(process, release=True)
        assert second.code == 1
        assert (
            "out: error: another minivoice-flow build is writing into this directory" in second.out
        )
        assert exit_code == 0
        assert {name: (out / name).read_bytes() for name in flow_files(out)} == WANTED

    def test_a_lock_held_by_another_process_is_respected(self, tmp_path: Path) -> None:
        out = earlier_build_to_change(tmp_path)
        before = snapshot(out)
        descriptor = os.open(out, os.O_RDONLY)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            ran = run_cli(*BUILD, cwd=tmp_path)
        finally:
            os.close(descriptor)
        assert ran.code == 1
        assert snapshot(out) == before


class TestErrorsNameTheFlowFile:
    """When the file system refuses, the message names the flow's file, not a temporary one."""

    def test_a_directory_without_write_permission(self, tmp_path: Path) -> None:
        out = earlier_build_to_change(tmp_path)
        before = snapshot(out)
        out.chmod(0o555)
        try:
            ran = run_cli(*BUILD, cwd=tmp_path, as_ordinary_user=True)
        finally:
            out.chmod(0o755)
        assert ran.code == 1
        assert "out/menu.json: error: cannot write the flow files: permission denied" in (ran.out)
        assert "minivoice-flow-" not in ran.out  # no temporary file's name
        assert snapshot(out) == before

    def test_a_file_size_limit(self, tmp_path: Path) -> None:
        """A real write error (EFBIG under RLIMIT_FSIZE) part-way through staging."""
        write_module(tmp_path / "flows", "menu", GOOD)

        def limit_file_size() -> None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (40, 40))

        done = subprocess.run(
            [sys.executable, "-m", "minivoice_flow", *BUILD],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            preexec_fn=limit_file_size,
            timeout=120,
        )
        assert done.returncode == 1
        assert "out/goodbye.json: error: cannot write the flow files: File too large" in (
            done.stdout
        )
        assert "minivoice-flow-" not in done.stdout
        assert list((tmp_path / "out").iterdir()) == []
