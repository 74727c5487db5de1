"""``minivoice-flow calls``: a journal read from the command line, and clear errors."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from minivoice_flow import Flow
from minivoice_flow._cli import main
from minivoice_flow.journal import CallJournal
from tests.journal_worker import webhook_for

MENU = (
    Flow("menu")
    .play("https://media.example.com/menu.wav")
    .collect("choice")
    .redirect("https://app.example.com/ivr/menu/input")
)


@pytest.fixture
def db(tmp_path: Path) -> str:
    """A journal with two calls and one webhook that names no call."""
    moments = iter(datetime(2026, 5, 29, 12, 0, s, tzinfo=UTC) for s in range(60))
    path = tmp_path / "calls.db"
    with CallJournal(path, clock=lambda: next(moments)) as journal:
        journal.record_response(
            "call_1", MENU, url="https://app.example.com/ivr/menu", status="ringing"
        )
        journal.record_webhook(webhook_for("call_1"))
        journal.record_response("call_2", Flow("agent").transfer("+15551230002"))
        journal.record_webhook(webhook_for("call_2", "busy"))
        journal.record_webhook(b"\xff not json")
    return str(path)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


class TestShow:
    """``calls show`` prints the timeline, the last step and the outcome."""

    def test_timeline_last_step_and_outcome(
        self, capsys: pytest.CaptureFixture[str], db: str
    ) -> None:
        code, out, err = run(capsys, "calls", "show", "call_1", "--db", db)
        assert (code, err) == (0, "")
        lines = out.splitlines()
        assert lines[0] == "call call_1"
        assert lines[1] == (
            "  #1  2026-05-29T12:00:00+00:00  response menu for "
            "https://app.example.com/ivr/menu (call status ringing)"
        )
        assert lines[2] == f"      {MENU.to_json()}"
        assert lines[3] == (
            "  #2  2026-05-29T12:00:01+00:00  webhook call.completed (call status completed)"
        )
        assert lines[4] == f"      {webhook_for('call_1')}"
        assert lines[5:] == [
            "last step: menu",
            "outcome:   hung_up (call status completed): caller hung up during step 'menu'",
        ]

    def test_busy(self, capsys: pytest.CaptureFixture[str], db: str) -> None:
        code, out, _ = run(capsys, "calls", "show", "call_2", "--db", db)
        assert code == 0
        assert out.splitlines()[-1] == (
            "outcome:   busy (call status busy): destination busy during step 'agent'"
        )

    def test_unknown_call_is_an_error(self, capsys: pytest.CaptureFixture[str], db: str) -> None:
        code, out, err = run(capsys, "calls", "show", "call_9", "--db", db)
        assert (code, out) == (1, "")
        assert err == f"minivoice-flow calls: error: nothing recorded for call 'call_9' in {db}\n"


class TestList:
    """``calls list`` shows recent calls with their outcome, newest first."""

    def test_table(self, capsys: pytest.CaptureFixture[str], db: str) -> None:
        code, out, _ = run(capsys, "calls", "list", "--db", db)
        assert code == 0
        assert out.splitlines() == [
            "CALL ID  UPDATED                    LAST STEP  OUTCOME",
            "call_2   2026-05-29T12:00:03+00:00  agent      destination busy during step 'agent'",
            "call_1   2026-05-29T12:00:01+00:00  menu       caller hung up during step 'menu'",
            "",
            f"1 webhook(s) stored with no call ID: minivoice-flow calls unattributed --db {db}",
        ]

    def test_limit(self, capsys: pytest.CaptureFixture[str], db: str) -> None:
        _, out, _ = run(capsys, "calls", "list", "--db", db, "--limit", "1")
        assert [line.split()[0] for line in out.splitlines()[1:2]] == ["call_2"]
        assert "call_1" not in out

    def test_empty_journal(self, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
        CallJournal(tmp_path / "empty.db").close()
        code, out, _ = run(capsys, "calls", "list", "--db", str(tmp_path / "empty.db"))
        assert (code, out) == (0, f"no calls recorded in {tmp_path / 'empty.db'}\n")

    def test_unattributed(self, capsys: pytest.CaptureFixture[str], db: str) -> None:
        code, out, _ = run(capsys, "calls", "unattributed", "--db", db)
        assert code == 0
        assert out.splitlines()[0] == "  #5  2026-05-29T12:00:04+00:00  webhook (could not be read)"
        assert "      \\xff not json" in out.splitlines()


class TestJson:
    """``--format json``: one document on stdout, with every field of the records and calls."""

    def test_show(self, capsys: pytest.CaptureFixture[str], db: str) -> None:
        code, out, err = run(capsys, "calls", "show", "call_1", "--db", db, "--format", "json")
        assert (code, err) == (0, "")
        document = json.loads(out)
        assert document["last_step"] == {
            "call_id": "call_1",
            "step": "menu",
            "outcome": "hung_up",
            "status": "completed",
            "updated_at": "2026-05-29T12:00:01+00:00",
            "unreadable": 0,
            "description": "caller hung up during step 'menu'",
        }
        response, webhook = document["timeline"]
        assert response["kind"] == "response" and response["flow_name"] == "menu"
        assert json.loads(response["body"]) == MENU.to_dict()
        assert (webhook["kind"], webhook["event"], webhook["id"]) == (
            "webhook",
            "call.completed",
            2,
        )
        assert webhook["body"] == webhook_for("call_1") and webhook["raw"] is None

    def test_list(self, capsys: pytest.CaptureFixture[str], db: str) -> None:
        code, out, _ = run(capsys, "calls", "list", "--db", db, "--format", "json")
        document = json.loads(out)
        assert code == 0
        assert [(c["call_id"], c["outcome"]) for c in document["calls"]] == [
            ("call_2", "busy"),
            ("call_1", "hung_up"),
        ]
        assert document["unattributed"] == 1

    def test_unattributed_keeps_the_exact_bytes(
        self, capsys: pytest.CaptureFixture[str], db: str
    ) -> None:
        code, out, _ = run(capsys, "calls", "unattributed", "--db", db, "--format", "json")
        (record,) = json.loads(out)["records"]
        assert code == 0
        assert base64.b64decode(record["raw"]) == b"\xff not json"
        assert "not UTF-8" in record["error"]

    def test_empty_journal_is_an_empty_list(
        self, capsys: pytest.CaptureFixture[str], tmp_path: Path
    ) -> None:
        CallJournal(tmp_path / "empty.db").close()
        _, out, _ = run(
            capsys, "calls", "list", "--db", str(tmp_path / "empty.db"), "--format", "json"
        )
        assert json.loads(out) == {"calls": [], "unattributed": 0}


class TestErrors:
    """User mistakes are one clear line and exit 1 (or 2 for usage), never a traceback."""

    def test_missing_journal_is_not_created(
        self, capsys: pytest.CaptureFixture[str], tmp_path: Path
    ) -> None:
        path = tmp_path / "missing.db"
        code, out, err = run(capsys, "calls", "list", "--db", str(path))
        assert (code, out) == (1, "")
        assert err == f"minivoice-flow calls: error: there is no call journal at {path}\n"
        assert not path.exists()

    def test_not_a_journal(self, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
        path = tmp_path / "notes.db"
        path.write_text("not a database at all" * 50)
        code, _, err = run(capsys, "calls", "show", "call_1", "--db", str(path))
        assert code == 1 and err.startswith("minivoice-flow calls: error: cannot open")

    @pytest.mark.parametrize("argv", [["calls"], ["calls", "list", "--limit", "0"]])
    def test_usage(self, capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
        with pytest.raises(SystemExit) as info:
            main(argv)
        assert info.value.code == 2
        assert "error:" in capsys.readouterr().err

    def test_as_a_program(self, tmp_path: Path) -> None:
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "minivoice_flow",
                "calls",
                "list",
                "--db",
                str(tmp_path / "x.db"),
            ],
            capture_output=True,
            text=True,
        )
        assert result.returncode == 1
        assert "Traceback" not in result.stderr and "no call journal" in result.stderr


class TestShowSvg:
    """``calls show --svg FILE`` draws the recorded call, the last known step marked."""

    def test_draws_every_record_and_marks_the_last_step(
        self, capsys: pytest.CaptureFixture[str], db: str, tmp_path: Path
    ) -> None:
        """One row per record, the last response marked, the outcome in the heading."""
        import xml.etree.ElementTree as ET

        out = tmp_path / "call.svg"
        code, text, err = run(capsys, "calls", "show", "call_2", "--db", db, "--svg", str(out))
        assert code == 0 and f"wrote {out}" in err
        assert "last step: agent" in text  # the text report is still printed
        svg = ET.parse(out).getroot()
        groups = [
            g for g in svg.iter("{http://www.w3.org/2000/svg}g") if "record" in g.get("class", "")
        ]
        assert [g.get("class") for g in groups] == ["record response last-step", "record webhook"]
        assert "destination busy during step 'agent'" in "".join(svg.itertext())

    def test_unwritable_file_is_an_error(
        self, capsys: pytest.CaptureFixture[str], db: str, tmp_path: Path
    ) -> None:
        """A folder that does not exist is reported; nothing else is printed."""
        target = tmp_path / "missing" / "call.svg"
        code, text, err = run(capsys, "calls", "show", "call_1", "--db", db, "--svg", str(target))
        assert code == 1 and text == ""
        assert "cannot write" in err and "no such file or directory" in err

    def test_hostile_journal_rows_are_escaped(self, tmp_path: Path) -> None:
        """Call IDs, flow names, URLs, events and statuses from outside cannot inject."""
        import xml.etree.ElementTree as ET

        from minivoice_flow._draw.recorded import draw_recorded_call
        from minivoice_flow.journal import LastStep, Outcome, Record

        evil = "<script>alert(1)</script>\"'&]]>\x00\x1b[2J\ud800"
        when = datetime(2026, 5, 29, 12, 0, 0, tzinfo=UTC)
        records = (
            Record(1, evil, "response", when, evil, evil, None, evil, "{}", None, evil),
            Record(2, evil, "webhook", when, None, None, evil, evil, evil, None, None),
            Record(
                3,
                evil,
                "webhook",
                when,
                None,
                None,
                None,
                None,
                evil,
                evil.encode("utf-8", "surrogatepass"),
                evil,
            ),
        )
        last = LastStep(evil, evil, Outcome.UNKNOWN, evil, when, 1)
        svg = ET.fromstring(draw_recorded_call(records, last).encode("utf-8"))
        assert not [e for e in svg.iter() if e.tag.endswith("script")]
        assert "<script>" in "".join(svg.itertext())  # shown as text
