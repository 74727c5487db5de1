"""``minivoice-flow calls serve``: the support page from the command line, on loopback."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from minivoice_flow._cli import main
from tests.support_calls import EXAMPLES, OUTCOMES, record_calls

TOKEN = "a-token-for-the-serve-tests"
SERVING = re.compile(r"on (http://127\.0\.0\.1:\d+/)")


@pytest.fixture
def db(tmp_path: Path) -> str:
    path = str(tmp_path / "calls.db")
    record_calls(path)
    return path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(["calls", "serve", *argv])
    return code, capsys.readouterr().err


class TestRefusals:
    """What calls serve refuses before it listens, each with a line saying why."""

    @pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.10", "::", "calls.example.com"])
    def test_no_token_off_loopback(
        self,
        capsys: pytest.CaptureFixture[str],
        db: str,
        host: str,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        """Any address but loopback needs a token: exit 2, nothing listens."""
        monkeypatch.delenv("MINIVOICE_SUPPORT_TOKEN", raising=False)
        code, err = run(capsys, "--db", db, "--host", host)
        assert code == 2
        assert f"refusing to serve the journal on {host} without a token" in err

    def test_a_weak_token(self, capsys: pytest.CaptureFixture[str], db: str) -> None:
        code, err = run(capsys, "--db", db, "--token", "short")
        assert code == 2 and "token must be at least 16 characters" in err

    def test_a_missing_journal(self, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
        """The page never creates a journal."""
        code, err = run(capsys, "--db", str(tmp_path / "none.db"))
        assert code == 1 and "there is no call journal" in err
        assert not (tmp_path / "none.db").exists()

    def test_flows_that_cannot_be_loaded(
        self, capsys: pytest.CaptureFixture[str], db: str, tmp_path: Path
    ) -> None:
        (tmp_path / "broken.py").write_text("raise RuntimeError('no')\n")
        code, err = run(capsys, "--db", db, "--flows", str(tmp_path / "broken.py"))
        assert code == 1 and "RuntimeError" in err
        (tmp_path / "empty.py").write_text("X = 1\n")
        code, err = run(capsys, "--db", db, "--flows", str(tmp_path / "empty.py"))
        assert code == 1 and "no named flows found" in err

    @pytest.mark.parametrize("port", ["-1", "65536", "http", ""])
    def test_a_bad_port(self, capsys: pytest.CaptureFixture[str], db: str, port: str) -> None:
        with pytest.raises(SystemExit) as exit_:
            run(capsys, "--db", db, "--port", port)
        assert exit_.value.code == 2

    def test_without_jinja2(self, db: str) -> None:
        """No jinja2: one line saying what to install, exit 1, no traceback."""
        code = (
            "import sys\n"
            "sys.modules['jinja2'] = None  # as if it were not installed\n"
            "from minivoice_flow._cli import main\n"
            f"sys.exit(main(['calls', 'serve', '--db', {db!r}, '--port', '0']))\n"
        )
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        assert done.returncode == 1
        assert "needs jinja2" in done.stderr
        assert "pip install 'minivoice-flow[support]'" in done.stderr
        assert "Traceback" not in done.stderr


@contextmanager
def serving(
    *argv: str, stop: int = signal.SIGINT, **environment: str
) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """The real command on a free loopback port; yields its base URL, then stops it with
    ``stop`` (Ctrl-C unless told) and checks it ended cleanly: exit 0, "stopped"."""
    command = [sys.executable, "-m", "minivoice_flow", "calls", "serve", "--port", "0", *argv]
    server = subprocess.Popen(
        command,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        env={**os.environ, **environment},
    )
    assert server.stderr is not None
    try:
        first = server.stderr.readline()
        found = SERVING.search(first)
        assert found is not None, first + server.stderr.read()
        yield found.group(1), server
    finally:
        server.send_signal(stop)
        try:
            _, rest = server.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            raise
    assert server.returncode == 0, rest
    assert "stopped" in rest and "Traceback" not in rest


def fetch(url: str, **headers: str) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


class TestServing:
    """The command serves the page until Ctrl-C."""

    def test_the_pages_with_the_flows(self, db: str) -> None:
        """Calls, a call and its graph are served from the journal and the flows given."""
        flows = str(EXAMPLES / "flows" / "support_line.py")
        with serving("--db", db, "--flows", flows) as (base, _):
            status, body = fetch(f"{base}calls?format=json")
            assert status == 200
            assert {c["call_id"] for c in json.loads(body)["calls"]} == set(OUTCOMES)
            status, page = fetch(f"{base}call?id=call_7f3a9c03")
            assert status == 200 and b"destination busy during step" in page
            status, svg = fetch(f"{base}call/graph.svg?id=call_7f3a9c03")
            assert status == 200 and svg.startswith(b"<?xml")

    def test_the_token_from_the_environment(self, db: str) -> None:
        """MINIVOICE_SUPPORT_TOKEN guards the page: nothing without it, all with it; SIGTERM
        stops it as cleanly as Ctrl-C."""
        with serving("--db", db, stop=signal.SIGTERM, MINIVOICE_SUPPORT_TOKEN=TOKEN) as (base, _):
            assert fetch(f"{base}calls?format=json")[0] == 401
            status, _body = fetch(f"{base}calls?format=json", Authorization=f"Bearer {TOKEN}")
            assert status == 200


class TestImports:
    """jinja2 is loaded only by the support page itself."""

    def test_journal_and_flows_never_load_jinja2(self) -> None:
        code = (
            "import sys\n"
            "import minivoice_flow.journal, minivoice_flow.support, minivoice_flow.wsgi\n"
            "from minivoice_flow import Flow\n"
            "Flow('x').hangup().to_json(); Flow('x').hangup().to_dict()\n"
            "print('jinja2' in sys.modules)\n"
        )
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        assert done.stdout.strip() == "False", done.stderr
