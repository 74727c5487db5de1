"""``minivoice-flow validate``: every file's problems by pointer and code, and honest exit codes.

The classes marked "real command" run ``python -m minivoice_flow`` in a subprocess; the
property at the end calls the same ``main()`` in this process, many times.
"""

from __future__ import annotations

import contextlib
import io
import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minivoice_flow import Flow, validate
from minivoice_flow._cli import main
from minivoice_flow._cli import validate as validate_command
from tests.cli import run_cli

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
