"""``minivoice-flow calls``: a journal read from the command line, and clear errors.

Tests taking ``db`` run once per store: a SQLite file, and a PostgreSQL URL.
"""

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
from tests.postgres import free_port

MENU = (
    Flow("menu")
    .play("https://media.example.com/menu.wav")
    .collect("choice")
    .redirect("https://app.example.com/ivr/menu/input")
)


@pytest.fixture
def db(journal_url: str) -> str:
    """A journal with two calls and one webhook that names no call, on each store."""
    moments = iter(datetime(2026, 5, 29, 12, 0, s, tzinfo=UTC) for s in range(60))
    with CallJournal(journal_url, clock=lambda: next(moments)) as journal:
        journal.record_response(
            "call_1", MENU, url="https://app.example.com/ivr/menu", status="ringing"
        )
        journal.record_webhook(webhook_for("call_1"))
        journal.record_response("call_2", Flow("agent").transfer("+15551230002"))
        journal.record_webhook(webhook_for("call_2", "busy"))
        journal.record_webhook(b"\xff not json")
    return journal_url


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
        assert lines.pop(0) == "call call_1"
        assert lines.pop(0) == "numbers:   from +15551230001 to +15551230002"
        assert lines[0] == (
            "  #1  2026-05-29T12:00:00+00:00  response menu for "
            "https://app.example.com/ivr/menu (call status ringing)"
        )
        assert lines[1] == f"      {MENU.to_json()}"
        assert lines[2] == (
            "  #2  2026-05-29T12:00:01+00:00  webhook call.completed (call status completed)"
        )
        assert lines[3] == f"      {webhook_for('call_1')}"
        assert lines[4:] == [
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
            "CALL ID  UPDATED                    FROM          LAST STEP  OUTCOME",
            "call_2   2026-05-29T12:00:03+00:00  +15551230001  agent      "
            "destination busy during step 'agent'",
            "call_1   2026-05-29T12:00:01+00:00  +15551230001  menu       "
            "caller hung up during step 'menu'",
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
            "started_at": "2026-05-29T12:00:00+00:00",
            "from": "+15551230001",
            "to": "+15551230002",
            "records": 2,
            "last_record_id": 2,
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


HOSTILE_ID = "call_\x1b]0;pwned\x07"
HOSTILE_STATUS = "completed\nforged: line"


@pytest.fixture
def hostile_db(journal_url: str) -> str:
    """A journal whose webhooks carry terminal escapes and line breaks in every field."""
    with CallJournal(journal_url) as journal:
        journal.record_response(HOSTILE_ID, MENU, url="https://x.example/\x1b[2J")
        journal.record_webhook(
            webhook_for(HOSTILE_ID, HOSTILE_STATUS, event="call.\x9bcompleted", from_="+1\u202e5")
        )
        journal.record_webhook("\x1b[31mnot json\r\nforged: line")
    return journal_url


class TestUntrustedText:
    """Values that came from webhooks reach the terminal escaped; JSON stays plain JSON."""

    @pytest.mark.parametrize("argv", [["list"], ["show", HOSTILE_ID], ["unattributed"]], ids=str)
    def test_no_control_character_reaches_the_terminal(
        self, capsys: pytest.CaptureFixture[str], hostile_db: str, argv: list[str]
    ) -> None:
        """ESC, C1, BEL, bidi overrides and line breaks from input are shown escaped."""
        code, out, err = run(capsys, "calls", *argv, "--db", hostile_db)
        assert code == 0, err
        assert not set(out) & {"\x1b", "\x07", "\x9b", "\r", "\u202e"}
        assert "forged: line" not in [line.strip() for line in out.splitlines()]
        assert not [line for line in out.splitlines() if line.startswith("forged")]

    def test_escapes_are_visible(self, capsys: pytest.CaptureFixture[str], hostile_db: str) -> None:
        """The escaped values can still be read: the call ID and the status."""
        _, out, _ = run(capsys, "calls", "list", "--db", hostile_db)
        assert "call_\\x1b]0;pwned\\x07" in out
        _, out, _ = run(capsys, "calls", "show", HOSTILE_ID, "--db", hostile_db)
        assert "completed\\x0aforged: line" in out and "+1\\u202e5" in out

    def test_json_is_plain_json(self, capsys: pytest.CaptureFixture[str], hostile_db: str) -> None:
        """--format json gives the values exactly, escaped only as JSON escapes them."""
        _, out, _ = run(capsys, "calls", "show", HOSTILE_ID, "--db", hostile_db, "--format", "json")
        document = json.loads(out)
        assert document["last_step"]["call_id"] == HOSTILE_ID
        assert document["timeline"][1]["status"] == HOSTILE_STATUS

    def test_an_error_naming_input_is_escaped(
        self, capsys: pytest.CaptureFixture[str], db: str
    ) -> None:
        """A call ID given on the command line is escaped in the error that names it."""
        code, _, err = run(capsys, "calls", "show", "nope\x1b[2J", "--db", db)
        assert code == 1 and "\x1b" not in err and "nope\\x1b[2J" in err


class TestFilters:
    """``calls list --outcome`` and ``--number`` narrow the list."""

    def test_outcome(self, capsys: pytest.CaptureFixture[str], db: str) -> None:
        """--outcome busy lists only the busy call."""
        _, out, _ = run(capsys, "calls", "list", "--db", db, "--outcome", "busy")
        assert [line.split()[0] for line in out.splitlines()[1:2]] == ["call_2"]
        assert "call_1" not in out

    def test_number(self, capsys: pytest.CaptureFixture[str], db: str) -> None:
        """A number no call has lists nothing, and says the list was filtered."""
        _, out, _ = run(capsys, "calls", "list", "--db", db, "--number", "+19995550000")
        assert out.startswith("no matching calls recorded in ")


class TestPrune:
    """``calls prune --older-than AGE`` deletes whole calls and says how many."""

    def test_prune(self, capsys: pytest.CaptureFixture[str], db: str) -> None:
        """Everything in the fixture is old: two calls, four records, one unattributed."""
        code, out, _ = run(capsys, "calls", "prune", "--older-than", "30d", "--db", db)
        assert code == 0
        assert out.startswith(
            "pruned 2 call(s) (4 records) and 1 unattributed record(s) last written before "
            "30 days, 0:00:00 ago from "
        )
        _, out, _ = run(capsys, "calls", "list", "--db", db, "--format", "json")
        assert json.loads(out) == {"calls": [], "unattributed": 0}

    def test_nothing_old_enough(self, capsys: pytest.CaptureFixture[str], db: str) -> None:
        """An age reaching before the first record deletes nothing; JSON says so."""
        code, out, _ = run(
            capsys, "calls", "prune", "--older-than", "5200w", "--db", db, "--format", "json"
        )
        assert code == 0
        assert json.loads(out) == {
            "pruned": {"calls": 0, "records": 0, "unattributed": 0},
            "older_than_seconds": 5200 * 7 * 86400.0,
        }

    @pytest.mark.parametrize("age", ["30", "0d", "-1d", "30 days", "1y", ""])
    def test_bad_age(self, capsys: pytest.CaptureFixture[str], age: str) -> None:
        """An age that is not a number and a unit is a usage error naming the option."""
        with pytest.raises(SystemExit) as info:
            main(["calls", "prune", f"--older-than={age}", "--db", "x.db"])
        assert info.value.code == 2
        assert "--older-than: must be a whole number above 0 and a unit" in capsys.readouterr().err


class TestWhichJournal:
    """``--db`` takes a path or a URL; without it, MINIVOICE_JOURNAL; else calls.db."""

    def test_environment_variable(
        self, capsys: pytest.CaptureFixture[str], db: str, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """MINIVOICE_JOURNAL names the journal when --db is absent."""
        monkeypatch.setenv("MINIVOICE_JOURNAL", db)
        code, out, _ = run(capsys, "calls", "show", "call_2")
        assert code == 0 and out.startswith("call call_2\n")

    def test_db_wins_over_the_environment(
        self,
        capsys: pytest.CaptureFixture[str],
        db: str,
        monkeypatch: pytest.MonkeyPatch,
        tmp_path: Path,
    ) -> None:
        """--db is used even when MINIVOICE_JOURNAL names another journal."""
        monkeypatch.setenv("MINIVOICE_JOURNAL", str(tmp_path / "elsewhere.db"))
        code, _, _ = run(capsys, "calls", "list", "--db", db)
        assert code == 0

    def test_default_file(
        self, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        """With neither, calls.db in the current folder (never created)."""
        monkeypatch.delenv("MINIVOICE_JOURNAL", raising=False)
        monkeypatch.chdir(tmp_path)
        code, _, err = run(capsys, "calls", "list")
        assert code == 1 and "there is no call journal at calls.db" in err

    def test_unreachable_server(self, capsys: pytest.CaptureFixture[str]) -> None:
        """A PostgreSQL URL whose server is down: one line naming the server, exit 1."""
        port = free_port()
        url = f"postgresql://app:secret@127.0.0.1:{port}/calls"
        code, out, err = run(capsys, "calls", "list", "--db", url)
        assert (code, out) == (1, "")
        assert f"PostgreSQL server at 127.0.0.1:{port}" in err and "secret" not in err
        assert len(err.splitlines()) == 1


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
        last = LastStep(evil, evil, Outcome.UNKNOWN, evil, when, 1, when, evil, evil, 3, 3)
        svg = ET.fromstring(draw_recorded_call(records, last).encode("utf-8"))
        assert not [e for e in svg.iter() if e.tag.endswith("script")]
        assert "<script>" in "".join(svg.itertext())  # shown as text
