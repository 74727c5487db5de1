"""The call journal: nothing lost, malformed input kept, the last step derived correctly."""

from __future__ import annotations

import json
import multiprocessing
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from minivoice_flow import Flow
from minivoice_flow.fallback import FlowSet, collect_with_retries, transfer_with_fallback
from minivoice_flow.journal import (
    SCHEMA_VERSION,
    CallJournal,
    JournalError,
    LastStep,
    Outcome,
)
from minivoice_flow.webhooks import parse_webhook
from tests import journal_worker
from tests.cli import without_coverage
from tests.journal_worker import webhook_for
from tests.strategies import json_values
from tests.webhook_strategies import near_webhooks

BASE = "https://app.example.com/ivr"
MEDIA = "https://media.example.com"
MENU = Flow("menu").play(f"{MEDIA}/menu.wav").collect("choice").redirect(f"{BASE}/choice")
GOODBYE = Flow("goodbye").play(f"{MEDIA}/bye.wav").hangup()


@pytest.fixture
def journal() -> Iterator[CallJournal]:
    with CallJournal(":memory:") as opened:
        yield opened


class Clock:
    """A clock for tests: starts at a fixed moment, one second per reading."""

    def __init__(self) -> None:
        self.now = datetime(2026, 5, 29, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


class TestRecordResponse:
    """Each response returned is kept with its flow name, JSON, URL and request status."""

    def test_a_flow(self, journal: CallJournal) -> None:
        record = journal.record_response("call_1", MENU, url=f"{BASE}/menu", status="ringing")
        assert (record.call_id, record.kind, record.flow_name) == ("call_1", "response", "menu")
        assert (record.url, record.status, record.error) == (f"{BASE}/menu", "ringing", None)
        assert record.body == MENU.to_json()
        assert journal.timeline("call_1") == (record,)

    def test_json_text_with_a_name(self, journal: CallJournal) -> None:
        text = '{"actions":[{"hangup":{}}]}'
        record = journal.record_response("call_1", text, name="legacy")
        assert (record.flow_name, record.body) == ("legacy", text)

    def test_a_flow_that_cannot_be_emitted_is_kept_with_its_error(
        self, journal: CallJournal
    ) -> None:
        broken = Flow("broken").hangup().play(f"{MEDIA}/x.wav")
        record = journal.record_response("call_1", broken)
        assert record.error is not None and "unreachable_action" in record.error
        assert json.loads(record.body)["error"]["code"] == "answer_url_error"

    @pytest.mark.parametrize("call_id", [None, ""])
    def test_no_call_id_is_kept_unattributed(
        self, journal: CallJournal, call_id: str | None
    ) -> None:
        record = journal.record_response(call_id, GOODBYE)
        assert record.call_id is None
        assert journal.unattributed() == (record,)


class TestRecordWebhook:
    """Every webhook is stored as received; the unreadable ones are reported, never dropped."""

    def test_a_readable_webhook(self, journal: CallJournal) -> None:
        received = journal.record_webhook(webhook_for("call_1").encode())
        assert received.error is None and received.webhook is not None
        assert received.webhook.call.id == "call_1"
        record = received.record
        assert (record.call_id, record.kind, record.event, record.status) == (
            "call_1",
            "webhook",
            "call.completed",
            "completed",
        )
        assert record.body == webhook_for("call_1") and record.raw is None

    def test_unknown_event_is_stored_and_read(self, journal: CallJournal) -> None:
        received = journal.record_webhook(webhook_for("call_1", event="call.transcribed"))
        assert received.error is None and received.record.event == "call.transcribed"

    def test_malformed_webhook_keeps_its_call_id(self, journal: CallJournal) -> None:
        payload = json.loads(webhook_for("call_1"))
        payload["created_at"] = "not a time"
        text = json.dumps(payload)
        received = journal.record_webhook(text)
        assert received.webhook is None and received.error is not None
        assert received.error.path == "/created_at"
        assert received.record.call_id == "call_1"
        assert received.record.body == text
        assert received.record.error == str(received.error)
        assert journal.timeline("call_1") == (received.record,)

    def test_webhook_without_a_call_id_is_listed(self, journal: CallJournal) -> None:
        first = journal.record_webhook("{}")
        second = journal.record_webhook('{"call": {"id": 5}}')
        assert first.record.call_id is None and second.record.call_id is None
        assert journal.unattributed() == (second.record, first.record)
        assert journal.unattributed(limit=1) == (second.record,)
        assert journal.recent() == ()

    def test_bytes_that_are_not_utf8_are_kept_exactly(self, journal: CallJournal) -> None:
        data = b'{"call": {"id": "\xff"}}'
        received = journal.record_webhook(data)
        assert received.record.raw == data
        assert received.record.body == '{"call": {"id": "\\xff"}}'
        assert received.error is not None and received.error.code == "malformed_json"
        assert journal.unattributed()[0].raw == data

    def test_text_with_a_lone_surrogate_is_kept(self, journal: CallJournal) -> None:
        received = journal.record_webhook('{"event": "\udc80"}')
        assert received.record.raw == '{"event": "\udc80"}'.encode("utf-8", "surrogatepass")

    def test_parsed_data_and_webhook_objects(self, journal: CallJournal) -> None:
        data = json.loads(webhook_for("call_1"))
        from_data = journal.record_webhook(data)
        from_object = journal.record_webhook(parse_webhook(data))
        assert from_data.webhook == from_object.webhook
        assert json.loads(from_data.record.body) == data

    def test_data_json_cannot_hold_is_stored_by_repr(self, journal: CallJournal) -> None:
        received = journal.record_webhook({"call": {"id": "call_1"}, "when": object()})
        assert received.record.call_id == "call_1"
        assert "<object object at" in received.record.body


def served(
    journal: CallJournal,
    call_id: str,
    flows: FlowSet,
    url: str | None = None,
    variables: Mapping[str, str] | None = None,
    status: str = "in_progress",
) -> Flow:
    """What the web handler does: choose the flow for a request and record it."""
    url = flows.entry_url if url is None else url
    flow = flows.next_flow(url, variables, status)
    journal.record_response(call_id, flow, url=url, status=status)
    return flow


def next_url(flow: Flow) -> str:
    """Where a flow's final redirect sends MiniVoice."""
    url: str = flow.actions[-1].url  # type: ignore[union-attr]
    return url


class TestVendorFailureCases:
    """The four cases the vendor asks every integration to survive, through the fallback
    helpers and the journal, each ending with the right last step and outcome."""

    @pytest.fixture
    def agent(self) -> FlowSet:
        return transfer_with_fallback(
            "agent",
            "+15551230002",
            base_url=BASE,
            on_busy=Flow().play(f"{MEDIA}/all-busy.wav").hangup(),
        )

    @pytest.fixture
    def menu(self, agent: FlowSet) -> FlowSet:
        return collect_with_retries(
            "menu",
            prompt=f"{MEDIA}/menu.wav",
            base_url=BASE,
            on_input=agent.entry,
            give_up=Flow().play(f"{MEDIA}/sorry.wav").hangup(),
            accept={"0"},
        )

    def test_caller_hangs_up(self, journal: CallJournal, menu: FlowSet) -> None:
        served(journal, "call_1", menu)
        journal.record_webhook(webhook_for("call_1", "completed"))
        last = journal.last_step("call_1")
        assert last is not None
        assert (last.step, last.outcome) == ("menu", Outcome.HUNG_UP)
        assert last.describe() == "caller hung up during step 'menu'"

    def test_caller_enters_no_digits(self, journal: CallJournal, menu: FlowSet) -> None:
        flow = served(journal, "call_1", menu)
        while flow.actions[-1].kind == "redirect":
            flow = served(journal, "call_1", menu, next_url(flow), {"menu": ""})
        journal.record_webhook(webhook_for("call_1", "completed"))
        steps = [r.flow_name for r in journal.timeline("call_1") if r.kind == "response"]
        assert steps == ["menu", "menu_retry_1", "menu_retry_2", "menu_give_up"]
        last = journal.last_step("call_1")
        assert last is not None
        assert (last.step, last.outcome) == ("menu_give_up", Outcome.COMPLETED)

    def test_destination_is_busy(self, journal: CallJournal, menu: FlowSet, agent: FlowSet) -> None:
        flow = served(journal, "call_1", menu)
        flow = served(journal, "call_1", menu, next_url(flow), {"menu": "0"})
        assert flow.name == "agent"
        fallback_url = flow.actions[0].fallback_url  # type: ignore[union-attr]
        served(journal, "call_1", agent, fallback_url, status="busy")
        journal.record_webhook(webhook_for("call_1", "completed"))
        last = journal.last_step("call_1")
        assert last is not None
        assert (last.step, last.outcome) == ("agent_busy", Outcome.COMPLETED)
        busy = journal.timeline("call_1")[-2]
        assert (busy.url, busy.status) == (fallback_url, "busy")

    @pytest.mark.parametrize(
        ("status", "outcome", "words"),
        [
            ("busy", Outcome.BUSY, "destination busy during step 'agent'"),
            ("no_answer", Outcome.NO_ANSWER, "no answer during step 'agent'"),
            ("failed", Outcome.FAILED, "failed during step 'agent'"),
        ],
    )
    def test_a_transfer_without_fallback_ends_with_its_status(
        self, journal: CallJournal, status: str, outcome: Outcome, words: str
    ) -> None:
        journal.record_response("call_1", Flow("agent").transfer("+15551230002"))
        journal.record_webhook(webhook_for("call_1", status))
        last = journal.last_step("call_1")
        assert last is not None
        assert (last.step, last.outcome, last.status) == ("agent", outcome, status)
        assert last.describe() == words

    @pytest.mark.parametrize(
        ("status", "outcome"), [("completed", Outcome.HUNG_UP), ("failed", Outcome.FAILED)]
    )
    def test_caller_disconnects_mid_flow(
        self, journal: CallJournal, status: str, outcome: Outcome
    ) -> None:
        """After the menu's first attempt got no input, the line drops during the retry."""
        pin = collect_with_retries(
            "pin", prompt=f"{MEDIA}/pin.wav", base_url=BASE, on_input=GOODBYE
        )
        flow = served(journal, "call_1", pin)
        served(journal, "call_1", pin, next_url(flow), {"pin": ""})
        journal.record_webhook(webhook_for("call_1", "answered", event="call.answered"))
        journal.record_webhook(webhook_for("call_1", status))
        last = journal.last_step("call_1")
        assert last is not None
        assert (last.step, last.outcome) == ("pin_retry_1", outcome)


class TestLastStep:
    """How the outcome is derived from the records of one call."""

    def test_nothing_recorded(self, journal: CallJournal) -> None:
        assert journal.last_step("call_9") is None

    def test_in_progress_until_an_ending_webhook(self, journal: CallJournal) -> None:
        journal.record_response("call_1", MENU)
        journal.record_webhook(webhook_for("call_1", "in_progress", event="call.answered"))
        last = journal.last_step("call_1")
        assert last is not None and last.outcome == Outcome.IN_PROGRESS
        assert last.describe() == "in progress, at step 'menu'"

    def test_a_flow_that_ends_the_call_completes_normally(self, journal: CallJournal) -> None:
        journal.record_response("call_1", GOODBYE)
        journal.record_webhook(webhook_for("call_1"))
        last = journal.last_step("call_1")
        assert last is not None and last.outcome == Outcome.COMPLETED

    def test_a_bridged_transfer_completes_normally(self, journal: CallJournal) -> None:
        journal.record_response("call_1", Flow("agent").transfer("+15551230002"))
        journal.record_webhook(webhook_for("call_1"))
        last = journal.last_step("call_1")
        assert last is not None and last.outcome == Outcome.COMPLETED

    def test_canceled_is_a_hang_up(self, journal: CallJournal) -> None:
        journal.record_webhook(webhook_for("call_1", "canceled"))
        last = journal.last_step("call_1")
        assert last is not None and (last.step, last.outcome) == (None, Outcome.HUNG_UP)
        assert last.describe() == "caller hung up (no step recorded)"

    def test_unknown_ending_status(self, journal: CallJournal) -> None:
        journal.record_response("call_1", MENU)
        journal.record_webhook(webhook_for("call_1", "vanished"))
        last = journal.last_step("call_1")
        assert last is not None and last.outcome == Outcome.UNKNOWN
        assert last.describe() == "ended with status 'vanished' during step 'menu'"

    def test_unreadable_webhooks_are_counted_not_trusted(self, journal: CallJournal) -> None:
        journal.record_response("call_1", MENU)
        journal.record_webhook('{"call": {"id": "call_1", "status": "completed"}}')
        last = journal.last_step("call_1")
        assert last is not None
        assert (last.outcome, last.unreadable) == (Outcome.IN_PROGRESS, 1)

    def test_unnamed_flow_is_named_by_its_url(self, journal: CallJournal) -> None:
        journal.record_response("call_1", Flow().hangup(), url=f"{BASE}/bye")
        last = journal.last_step("call_1")
        assert last is not None and last.step == f"{BASE}/bye"

    def test_recent_calls_newest_first(self) -> None:
        clock = Clock()
        journal = CallJournal(":memory:", clock=clock)
        for call_id in ("call_a", "call_b", "call_c"):
            journal.record_response(call_id, MENU)
        journal.record_webhook(webhook_for("call_a"))
        recent = journal.recent()
        assert [s.call_id for s in recent] == ["call_a", "call_c", "call_b"]
        assert recent[0] == LastStep("call_a", "menu", Outcome.HUNG_UP, "completed", clock.now, 0)
        assert [s.call_id for s in journal.recent(limit=1)] == ["call_a"]


class TestClock:
    """Record times come from the injected clock; a naive time counts as UTC."""

    def test_injected_clock(self) -> None:
        clock = Clock()
        journal = CallJournal(":memory:", clock=clock)
        record = journal.record_response("call_1", MENU)
        assert record.received_at == clock.now

    def test_naive_clock(self) -> None:
        journal = CallJournal(":memory:", clock=lambda: datetime(2026, 1, 1, 9, 30))
        record = journal.record_response("call_1", MENU)
        assert record.received_at == datetime(2026, 1, 1, 9, 30, tzinfo=UTC)


class TestDatabaseFile:
    """The journal is a versioned SQLite file; wrong files are clear errors."""

    def test_records_survive_reopening(self, tmp_path: Path) -> None:
        path = tmp_path / "calls.db"
        with CallJournal(path) as journal:
            written = journal.record_response("call_1", MENU)
        with CallJournal(str(path), create=False) as journal:
            assert journal.timeline("call_1") == (written,)
        with sqlite3.connect(path) as connection:
            assert connection.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
            assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)

    def test_missing_file_without_create(self, tmp_path: Path) -> None:
        path = tmp_path / "none.db"
        with pytest.raises(JournalError, match="there is no call journal at"):
            CallJournal(path, create=False)
        assert not path.exists()

    def test_not_a_database(self, tmp_path: Path) -> None:
        path = tmp_path / "notes.txt"
        path.write_text("hello, this is not SQLite" * 100)
        with pytest.raises(JournalError, match="cannot open the call journal"):
            CallJournal(path)

    def test_another_database(self, tmp_path: Path) -> None:
        path = tmp_path / "other.db"
        with sqlite3.connect(path) as connection:
            connection.execute("CREATE TABLE customers (id)")
        with pytest.raises(JournalError, match="a SQLite database but not a call journal"):
            CallJournal(path)

    def test_newer_schema(self, tmp_path: Path) -> None:
        path = tmp_path / "calls.db"
        CallJournal(path).close()
        with sqlite3.connect(path) as connection:
            connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
        with pytest.raises(JournalError, match=f"schema version {SCHEMA_VERSION + 1}"):
            CallJournal(path)

    def test_the_core_does_not_load_sqlite(self) -> None:
        code = (
            "import sys, minivoice_flow, minivoice_flow.webhooks, minivoice_flow.fallback; "
            "assert 'sqlite3' not in sys.modules"
        )
        subprocess.run([sys.executable, "-c", code], check=True, env=without_coverage())


class TestConcurrentWriters:
    """Threads and processes writing at once lose nothing and duplicate nothing."""

    def test_threads(self, tmp_path: Path) -> None:
        journal = CallJournal(tmp_path / "calls.db")
        start = threading.Barrier(6)

        def write(worker: int) -> None:
            start.wait()
            for index in range(40):
                journal.record_response(f"call_{worker}_{index}", MENU)
                journal.record_webhook(webhook_for(f"call_{worker}_{index}"))

        threads = [threading.Thread(target=write, args=(w,)) for w in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert_all_written(journal, workers=6, count=40, unreadable_each=0)

    def test_processes(self, tmp_path: Path) -> None:
        path = str(tmp_path / "calls.db")
        context = multiprocessing.get_context("spawn")
        workers, count = 4, 30
        start = context.Barrier(workers)
        processes = [
            context.Process(target=journal_worker.write, args=(path, w, count, start))
            for w in range(workers)
        ]
        for process in processes:
            process.start()
        for process in processes:
            process.join(timeout=120)
        assert [p.exitcode for p in processes] == [0] * workers
        assert_all_written(CallJournal(path), workers=workers, count=count, unreadable_each=1)


def assert_all_written(
    journal: CallJournal, *, workers: int, count: int, unreadable_each: int
) -> None:
    """Every call has exactly its response and webhook; every unreadable webhook is there."""
    expected = {f"call_{w}_{i}" for w in range(workers) for i in range(count)}
    assert {s.call_id for s in journal.recent(limit=len(expected) + 1)} == expected
    ids: set[int] = set()
    for call_id in expected:
        timeline = journal.timeline(call_id)
        assert [r.kind for r in timeline] == ["response", "webhook"]
        ids.update(r.id for r in timeline)
    unread = journal.unattributed()
    assert len(unread) == len(expected) * unreadable_each
    assert sorted(r.body for r in unread) == sorted(
        f"not json from {c}" for c in expected for _ in range(unreadable_each)
    )
    assert len(ids | {r.id for r in unread}) == len(expected) * (2 + unreadable_each)


anything = (
    json_values
    | near_webhooks()
    | st.binary(max_size=200)
    | st.text(max_size=200)
    | st.dictionaries(st.integers() | st.text(max_size=3), json_values, max_size=3)
)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(payload=anything)
def test_record_webhook_never_raises_and_always_stores(journal: CallJournal, payload: Any) -> None:
    before = len(journal.unattributed())
    received = journal.record_webhook(payload)
    record = received.record
    assert (received.webhook is None) == (received.error is not None) == (not record.ok)
    if record.call_id is None:
        assert len(journal.unattributed()) == before + 1
        assert journal.unattributed(limit=1) == (record,)
    else:
        assert journal.timeline(record.call_id)[-1] == record
    if isinstance(payload, bytes):
        assert (record.raw if record.raw is not None else record.body.encode()) == payload
    elif isinstance(payload, str):
        kept = record.raw.decode("utf-8", "surrogatepass") if record.raw is not None else None
        assert (kept if kept is not None else record.body) == payload
