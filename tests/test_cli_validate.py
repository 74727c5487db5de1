"""``minivoice-flow validate``: every file's problems by pointer and code, and honest exit codes.

The classes marked "real command" run ``python -m minivoice_flow`` in a subprocess; the
property at the end calls the same ``main()`` in this process, many times.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minivoice_flow import Flow, validate
from minivoice_flow._cli import main
from minivoice_flow._cli import validate as validate_command
from minivoice_flow._limits import MAX_PAYLOAD_BYTES
from tests.cli import run_cli, terminal_safe

GOOD = (
    Flow()
    .transfer("+15551230002", fallback_url="https://app.example.com/busy")
    .send_digits("1234#", pause_before_ms=2000)
    .to_json()
)
# Two errors: a bad digit, and an action after the hangup.
BAD = '{"actions":[{"send_digits":{"digits":"12x"}},{"hangup":{}},{"hangup":{}}]}'
# Valid, with one warning: a transfer with no fallback_url.
WARNS = '{"actions":[{"transfer":{"to":"+15551230002"}}]}'


@pytest.fixture
def files(tmp_path: Path) -> Path:
    """A directory with good.json, bad.json, warns.json, latin1.json and a subdirectory."""
    (tmp_path / "good.json").write_text(GOOD)
    (tmp_path / "bad.json").write_text(BAD)
    (tmp_path / "warns.json").write_text(WARNS)
    (tmp_path / "latin1.json").write_bytes('{"actions":[{"play":{"url":"é"}}]}'.encode("latin-1"))
    (tmp_path / "folder").mkdir()
    return tmp_path


class TestReport:
    """Real command: each problem with file, pointer, code and message; unreadable files too."""

    def test_a_valid_file_exits_0(self, files: Path) -> None:
        ran = run_cli("validate", "good.json", cwd=files)
        assert ran.code == 0, ran
        assert ran.out == "checked 1 file: 1 valid, 0 invalid, 0 unreadable; 0 errors, 0 warnings\n"

    def test_every_file_is_checked_and_every_problem_reported(self, files: Path) -> None:
        ran = run_cli(
            "validate", "good.json", "bad.json", "missing.json", "folder", "latin1.json", cwd=files
        )
        assert ran.code == 1
        lines = ran.out.splitlines()
        bad = list(validate(BAD).diagnostics)
        assert len(bad) == 2
        for diagnostic in bad:
            expected = (
                f"bad.json: error {diagnostic.code} at {diagnostic.path}: {diagnostic.message}"
            )
            assert expected in lines
        assert "missing.json: error: cannot read: no such file or directory" in lines
        assert "folder: error: cannot read: is a directory, not a file" in lines
        assert any(
            line.startswith(
                "latin1.json: error malformed_json at (document): the payload is not UTF-8"
            )
            for line in lines
        )
        assert not any(line.startswith("good.json") for line in lines)
        assert (
            lines[-1] == "checked 5 files: 1 valid, 2 invalid, 2 unreadable; 3 errors, 0 warnings"
        )
        assert ran.err == ""

    def test_a_file_without_read_permission(self, files: Path) -> None:
        """A file the user may not read is reported unreadable; the other files are checked."""
        secret = files / "secret.json"
        secret.write_text(GOOD)
        secret.chmod(0)
        ran = run_cli("validate", "secret.json", "good.json", cwd=files, as_ordinary_user=True)
        assert ran.code == 1
        assert "secret.json: error: cannot read: permission denied" in ran.out
        assert "1 valid, 0 invalid, 1 unreadable" in ran.out

    def test_warnings_pass_unless_strict(self, files: Path) -> None:
        lenient = run_cli("validate", "warns.json", cwd=files)
        strict = run_cli("validate", "warns.json", "--strict", cwd=files)
        assert (lenient.code, strict.code) == (0, 1)
        for ran in (lenient, strict):
            assert (
                "warns.json: warning transfer_without_fallback at /actions/0/transfer:" in ran.out
            )
        assert "1 valid, 0 invalid" in lenient.out
        assert "0 valid, 1 invalid" in strict.out


class TestStandardInput:
    """Real command: ``-`` reads the payload from standard input."""

    @pytest.mark.parametrize(("payload", "code"), [(GOOD, 0), (BAD, 1)])
    def test_stdin(self, tmp_path: Path, payload: str, code: int) -> None:
        ran = run_cli("validate", "-", cwd=tmp_path, stdin=payload.encode())
        assert ran.code == code
        assert ran.out.splitlines()[-1].startswith("checked 1 file:")
        if code:
            assert "<stdin>: error invalid_value at /actions/0/send_digits/digits:" in ran.out


class TestJsonFormat:
    """Real command: ``--format json`` prints one document with every file and a summary."""

    def test_one_document_per_run(self, files: Path) -> None:
        ran = run_cli(
            "validate",
            "--format",
            "json",
            "good.json",
            "-",
            "missing.json",
            cwd=files,
            stdin=BAD.encode(),
        )
        assert ran.code == 1
        document = json.loads(ran.out)
        assert document["ok"] is False
        assert document["strict"] is False
        good, stdin, missing = document["files"]
        assert good == {"file": "good.json", "status": "valid", "diagnostics": []}
        assert stdin["file"] == "-"
        assert stdin["status"] == "invalid"
        assert stdin["diagnostics"] == [d.to_dict() for d in validate(BAD).diagnostics]
        assert missing == {
            "file": "missing.json",
            "status": "unreadable",
            "reason": "no such file or directory",
            "diagnostics": [],
        }
        assert document["summary"] == {
            "files": 3,
            "valid": 1,
            "invalid": 1,
            "unreadable": 1,
            "errors": 2,
            "warnings": 0,
        }


class TestOutputNeverCrashes:
    """Real command: text the terminal cannot encode is escaped, never a traceback."""

    def test_non_ascii_in_messages_on_an_ascii_terminal(self, tmp_path: Path) -> None:
        (tmp_path / "plày.json").write_text('{"actions":[{"plày":{}}]}', encoding="utf-8")
        ran = run_cli("validate", "plày.json", cwd=tmp_path, env={"PYTHONIOENCODING": "ascii"})
        assert ran.code == 1
        assert "Traceback" not in ran.err
        assert "pl\\xe0y.json: error unknown_action at /actions/0/pl\\xe0y:" in ran.out


class TestUsage:
    """Real command: a wrong command line exits 2 and says why on stderr."""

    @pytest.mark.parametrize(
        "args",
        [["validate"], ["validate", "-", "-"], ["validate", "--format", "xml", "a.json"]],
        ids=["no file", "stdin twice", "unknown format"],
    )
    def test_usage_errors_exit_2(self, tmp_path: Path, args: list[str]) -> None:
        ran = run_cli(*args, cwd=tmp_path)
        assert ran.code == 2
        assert "error:" in ran.err
        assert ran.out == ""


class TestInterrupted:
    """Real command: Ctrl-C or SIGTERM while validate waits for its input ends with one line
    and exit 130 or 143, no traceback."""

    @pytest.mark.parametrize(
        ("sent", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)], ids=["INT", "TERM"]
    )
    def test_while_waiting_on_a_named_pipe(
        self, tmp_path: Path, sent: signal.Signals, code: int
    ) -> None:
        pipe = tmp_path / "payload.json"
        os.mkfifo(pipe)
        process = subprocess.Popen(
            [sys.executable, "-m", "minivoice_flow", "validate", str(pipe)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            # Opening a pipe for writing returns once the reader has opened it: validate is
            # now reading it, and waits for bytes that never come.
            with open(pipe, "wb"):
                process.send_signal(sent)
                out, err = process.communicate(timeout=60)
        finally:
            if process.poll() is None:
                process.kill()
                process.communicate()
        assert process.returncode == code
        assert err == f"minivoice-flow: interrupted by {sent.name}\n"
        assert out == ""


class TestDirection:
    """``--direction inbound`` turns on the rule that only applies to inbound calls."""

    def test_digits_to_caller_only_when_inbound(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        payload = tmp_path / "digits.json"
        payload.write_text('{"actions":[{"send_digits":{"digits":"1234#"}}]}')
        unset = main(["validate", "--strict", str(payload)])
        unset_out = capsys.readouterr().out
        inbound = main(["validate", "--strict", "--direction", "inbound", str(payload)])
        inbound_out = capsys.readouterr().out
        assert (unset, inbound) == (0, 1)
        assert "digits_to_caller" not in unset_out
        assert "warning digits_to_caller at /actions/0/send_digits:" in inbound_out


class TestPermissionDenied:
    """A permission error is reported like any unreadable file (checked here even as root)."""

    def test_reported_per_file(
        self, files: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        real_open = open

        def guarded_open(name: str, mode: str = "r") -> object:
            if name == "secret.json":
                raise PermissionError(13, "Permission denied", name)
            return real_open(name, mode)

        monkeypatch.chdir(files)
        monkeypatch.setattr(validate_command, "open", guarded_open, raising=False)
        code = main(["validate", "secret.json", "good.json"])
        out = capsys.readouterr().out
        assert code == 1
        assert "secret.json: error: cannot read: permission denied" in out
        assert "checked 2 files: 1 valid, 0 invalid, 1 unreadable" in out


class TestNeverCrashes:
    """Any bytes at all give a JSON report whose verdict matches the library's validate()."""

    @settings(max_examples=60, deadline=None)
    @given(st.binary(max_size=200) | st.text(max_size=200).map(str.encode))
    def test_any_bytes(self, content: bytes) -> None:
        out = io.StringIO()
        with tempfile.TemporaryDirectory() as directory, contextlib.redirect_stdout(out):
            path = Path(directory) / "payload.json"
            path.write_bytes(content)
            code = main(["validate", "--format", "json", str(path)])
        document = json.loads(out.getvalue())
        passes = validate(content).passes()
        assert code == (0 if passes else 1)
        assert document["files"][0]["status"] == ("valid" if passes else "invalid")


def limited_memory(megabytes: int) -> Callable[[], None]:
    """A ``preexec_fn`` that caps the child's address space: reading a big input whole fails."""

    def limit() -> None:
        size = megabytes * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (size, size))

    return limit


#: Enough for the command to start and check 64 KiB; far too little to hold 1 GB.
MEMORY_MB = 200
TOO_LARGE = "error payload_too_large at (document): the payload is"


class TestLimitsBeforeReading:
    """Real command and in process: at most 64 KiB + 1 byte of an input is read, so memory
    stays small however big the input is, even endless."""

    def run_limited(
        self, tmp_path: Path, *args: str, stdin: int | None = None
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "minivoice_flow", "validate", *args],
            cwd=tmp_path,
            stdin=stdin,
            capture_output=True,
            text=True,
            preexec_fn=limited_memory(MEMORY_MB),
            timeout=120,
        )

    def test_a_1_gb_sparse_file_and_dev_zero(self, tmp_path: Path) -> None:
        big = tmp_path / "big.json"
        with big.open("wb") as stream:
            stream.truncate(1024**3)
        done = self.run_limited(tmp_path, "big.json", "/dev/zero")
        assert done.returncode == 1, done.stderr
        assert "Traceback" not in done.stderr
        assert f"big.json: {TOO_LARGE} 1073741824 bytes; at most 65536" in done.stdout
        assert f"/dev/zero: {TOO_LARGE} over 65536 bytes" in done.stdout

    def test_an_endless_standard_input(self, tmp_path: Path) -> None:
        """A pipe that never ends: a writer thread keeps writing until the reader is gone."""
        read_end, write_end = os.pipe()

        def write_forever() -> None:
            with contextlib.suppress(BrokenPipeError), os.fdopen(write_end, "wb") as stream:
                while True:
                    stream.write(b"[" * 65536)

        writer = threading.Thread(target=write_forever, daemon=True)
        writer.start()
        try:
            done = self.run_limited(tmp_path, "-", stdin=read_end)
        finally:
            os.close(read_end)  # the writer's next write fails, and it stops
        writer.join(timeout=60)
        assert done.returncode == 1, done.stderr
        assert f"<stdin>: {TOO_LARGE} over 65536 bytes" in done.stdout
        assert "Traceback" not in done.stderr

    def test_not_one_byte_more_is_taken_from_a_pipe(
        self, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """What is left in the pipe afterwards shows exactly how much was read."""
        sent = 256 * 1024
        read_end, write_end = os.pipe()

        def write_then_close() -> None:
            with os.fdopen(write_end, "wb") as stream:
                stream.write(b"{" * sent)

        writer = threading.Thread(target=write_then_close, daemon=True)
        writer.start()
        with os.fdopen(read_end, "rb", buffering=0) as raw:
            monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BufferedReader(raw)))
            code = main(["validate", "-"])
            left = len(raw.readall() or b"")  # the rest, up to the writer's close
        writer.join(timeout=60)
        assert code == 1
        assert sent - left == MAX_PAYLOAD_BYTES + 1
        assert TOO_LARGE in capsys.readouterr().out

    def test_bytes_read_from_a_big_file(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """The process's own count of bytes read (/proc/self/io) grows by about 64 KiB."""
        big = tmp_path / "big.json"
        big.write_bytes(b" " * (8 * 1024 * 1024))
        before = bytes_read()
        code = main(["validate", str(big)])
        after = bytes_read()
        assert code == 1
        assert after - before < 2 * MAX_PAYLOAD_BYTES
        assert f"{TOO_LARGE} 8388608 bytes" in capsys.readouterr().out


def bytes_read() -> int:
    """Bytes this process has read with read() and its kin, as Linux counts them."""
    for line in Path("/proc/self/io").read_text().splitlines():
        name, value = line.split(":")
        if name == "rchar":
            return int(value)
    raise AssertionError("no rchar in /proc/self/io")


#: Characters a terminal acts on: C0 (ESC, BEL, line breaks...), DEL, C1, and the Unicode
#: line separators and direction overrides.
CONTROLS = "\x1b\x07\n\r\x08\x7f\x85\x9b\u2028\u202e"


def hostile_payload() -> bytes:
    """A payload whose keys and values hold every kind of control character."""
    document = {
        "actions": [
            {f"pl{CONTROLS}ay": {}},
            {"play": {"url": f"https://a.example/{CONTROLS}", f"lo{CONTROLS}op": 1}},
            {"collect": {"variable": f"v{CONTROLS}"}},
        ],
        f"x\x1b]0;owned\x07{CONTROLS}": 1,
    }
    return json.dumps(document, ensure_ascii=False).encode("utf-8")


class TestControlCharactersAreEscaped:
    """Real command: a control character from the input is shown as an escape, never sent to
    the terminal, in pointers, values and file names; JSON output stays plain JSON."""

    def test_text_output_has_one_line_per_problem_and_no_control(self, tmp_path: Path) -> None:
        payload = hostile_payload()
        name = "bad\x1b[31m\nname.json"
        (tmp_path / name).write_bytes(payload)
        expected = validate(payload).diagnostics
        for args, stdin in [((name,), b""), (("-",), payload)]:
            ran = run_cli("validate", *args, cwd=tmp_path, stdin=stdin)
            assert ran.code == 1
            assert terminal_safe(ran.out)
            lines = ran.out.splitlines()
            assert len(lines) == len(expected) + 1  # one per diagnostic, then the summary
        assert "at /actions/0/pl\\x1b\\x07\\x0a\\x0d\\x08\\x7f\\x85\\x9b\\u2028\\u202eay:" in (
            ran.out
        )
        named = run_cli("validate", name, cwd=tmp_path)
        assert named.out.startswith("bad\\x1b[31m\\x0aname.json: error ")

    def test_json_output_keeps_the_values_exactly(self, tmp_path: Path) -> None:
        payload = hostile_payload()
        ran = run_cli("validate", "--format", "json", "-", cwd=tmp_path, stdin=payload)
        assert ran.code == 1
        assert ran.out.isascii()  # every control character is a JSON escape
        document = json.loads(ran.out)
        assert document["files"][0]["diagnostics"] == [
            d.to_dict() for d in validate(payload).diagnostics
        ]
