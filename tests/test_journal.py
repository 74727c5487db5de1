"""The call journal: nothing lost, malformed input kept, the last step derived correctly.

Every test that takes ``journal`` or ``journal_url`` runs once per store: SQLite, and
PostgreSQL on the throwaway server of ``tests/postgres.py``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from minivoice_flow import Flow
from minivoice_flow.fallback import FlowSet, collect_with_retries, transfer_with_fallback
from minivoice_flow.journal import (
    CallJournal,
    JournalError,
    LastStep,
    Outcome,
    Pruned,
    Record,
)
from minivoice_flow.webhooks import parse_webhook
from tests.journal_worker import count_records, webhook_for
from tests.strategies import json_values
from tests.webhook_strategies import near_webhooks

BASE = "https://app.example.com/ivr"
MEDIA = "https://media.example.com"
MENU = Flow("menu").play(f"{MEDIA}/menu.wav").collect("choice").redirect(f"{BASE}/choice")
GOODBYE = Flow("goodbye").play(f"{MEDIA}/bye.wav").hangup()


@pytest.fixture
def journal(any_journal: CallJournal) -> CallJournal:
    """A new journal on each store in turn."""
    return any_journal


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


class TestHostileWebhooks:
    """Whatever a webhook holds, it is stored exactly and never raises a codec error."""

    @pytest.mark.parametrize(
        "text",
        [
            r'{"created_at": "\ud800"}',
            r'{"event": "\udfff", "call": {"id": "call_1"}}',
            r'{"call": {"id": "call_1", "status": "\ud800"}}',
            r'{"call": {"id": "\ud800"}}',
            r'{"call": {"id": "call_1\u0000"}}',
            r'{"event": "call.completed\u0000"}',
        ],
    )
    def test_escaped_lone_surrogates_and_nul(
        self, journal: CallJournal, journal_url: str, text: str
    ) -> None:
        """JSON escapes of lone surrogates or NUL in any field are stored, not lost."""
        received = journal.record_webhook(text)
        assert received.record.body == text and received.record.raw is None
        assert count_records(journal_url) == 1

    @pytest.mark.parametrize(
        "payload",
        [
            "\ud800{}",
            '{"call": {"id": "call_1"}, "x": "\udc80"}',
            "nul \x00 inside",
            b"nul \x00 inside",
            b"\xff\xfe",
            {"call": {"id": "call_1"}, "x": "\ud800\x00"},
        ],
    )
    def test_raw_forms_are_kept_exactly(self, journal: CallJournal, payload: object) -> None:
        """Lone surrogates, NUL and invalid UTF-8 are kept byte for byte beside the text."""
        record = journal.record_webhook(payload).record  # type: ignore[arg-type]
        assert "\x00" not in record.body
        if isinstance(payload, bytes):
            assert record.raw == payload
        elif isinstance(payload, str):
            assert record.raw == payload.encode("utf-8", "surrogatepass")
        else:
            assert record.raw is not None
            assert json.loads(record.raw.decode("utf-8", "surrogatepass")) == payload

    def test_a_megabyte_of_nesting(self, journal: CallJournal) -> None:
        """1 MB of nesting as bytes, text or parsed data is stored, unread, never raised."""
        text = "[" * 500_000 + "]" * 500_000
        as_bytes = journal.record_webhook(text.encode())
        assert as_bytes.record.body == text and as_bytes.error is not None
        deep: list[Any] = []
        for _ in range(200_000):
            deep = [deep]
        parsed = journal.record_webhook({"call": {"id": "call_1"}, "data": deep})
        assert parsed.record.call_id == "call_1"
        assert parsed.record.body.count("[") == 200_001
        assert journal.record_webhook(text).repeat  # the same bytes as the first

    def test_non_utf8_body_with_a_readable_call_id_is_filed_under_it(
        self, journal: CallJournal
    ) -> None:
        """A webhook whose bytes are not UTF-8 elsewhere is still filed under its call."""
        data = webhook_for("call_1").replace("cust_1", "cust_\xff").encode("latin-1")
        data = data.replace(b"cust_\xc3\xbf", b"cust_\xff")
        received = journal.record_webhook(data.replace(b'"cust_\xff"', b'"cust_\xff\xfe"'))
        assert received.error is not None and received.error.code == "malformed_json"
        assert received.record.call_id == "call_1"
        assert journal.unattributed() == ()
        last = journal.last_step("call_1")
        assert last is not None and last.unreadable == 1

    def test_trailing_garbage_still_names_the_call(self, journal: CallJournal) -> None:
        """A call ID readable before the text goes wrong is used."""
        received = journal.record_webhook('{"call": {"id": "call_1"}} and then some')
        assert received.record.call_id == "call_1"

    def test_a_call_id_that_cannot_be_filed_leaves_the_webhook_unattributed(
        self, journal: CallJournal
    ) -> None:
        """An over-long call ID, or one with a NUL, is kept with the webhook, unfiled."""
        for call_id in ("x" * 256, "call\x00"):
            received = journal.record_webhook(webhook_for(call_id))
            assert received.webhook is not None and received.record.call_id is None
        assert len(journal.unattributed()) == 2

    def test_a_mapping_that_fails_when_read_is_stored(self, journal: CallJournal) -> None:
        """A mapping of the caller's whose methods raise is still stored, as unreadable."""

        class Broken(dict[str, Any]):
            def get(self, *args: Any, **kwargs: Any) -> Any:
                raise RuntimeError("no")

            def items(self) -> Any:
                raise RuntimeError("no")

        received = journal.record_webhook(Broken(call={"id": "call_1"}))
        assert received.error is not None and received.record.call_id is None


class TestBadCallIds:
    """A call ID the journal cannot use is a JournalError, never a codec error."""

    @pytest.mark.parametrize("call_id", ["\ud800", "a\x00b", "x" * 256, 5])
    def test_record_response_timeline_last_step(
        self, journal: CallJournal, journal_url: str, call_id: Any
    ) -> None:
        """record_response, timeline and last_step refuse it, naming call_id."""
        for method in (
            lambda: journal.record_response(call_id, MENU),
            lambda: journal.timeline(call_id),
            lambda: journal.last_step(call_id),
        ):
            with pytest.raises(JournalError, match="call_id must be text"):
                method()
        assert count_records(journal_url) == 0

    def test_hostile_text_in_other_fields_is_stored(self, journal: CallJournal) -> None:
        """A status, URL or name with lone surrogates or NUL is stored escaped."""
        record = journal.record_response(
            "call_1", "{}", url="https://x.example/\ud800", status="busy\x00", name="\udfff"
        )
        assert (record.url, record.status, record.flow_name) == (
            "https://x.example/\\ud800",
            "busy\\x00",
            "\\udfff",
        )
        assert journal.timeline("call_1") == (record,)


class TestPaths:
    """A journal path that would not persist is refused; ":memory:" is for tests."""

    def test_empty_path_is_refused(self) -> None:
        """CallJournal("") is an error naming the argument, not a vanishing database."""
        with pytest.raises(JournalError, match="path is empty"):
            CallJournal("")

    @pytest.mark.parametrize("path", [5, b"calls.db", None])
    def test_a_path_that_is_not_text(self, path: Any) -> None:
        """A path that is not text is a JournalError naming the argument."""
        with pytest.raises(JournalError, match="path must be a file path or a URL as text"):
            CallJournal(path)

    def test_memory(self) -> None:
        """ ":memory:" still opens a journal that lives as long as the object."""
        with CallJournal(":memory:") as journal:
            journal.record_response("call_1", MENU)
            assert len(journal.timeline("call_1")) == 1


class TestRepeats:
    """A webhook delivered twice with the same bytes is stored once, on every store."""

    def test_the_same_bytes_twice(self, journal: CallJournal, journal_url: str) -> None:
        """The second delivery is a repeat and returns the record stored the first time."""
        first = journal.record_webhook(webhook_for("call_1").encode())
        again = journal.record_webhook(webhook_for("call_1").encode())
        as_text = journal.record_webhook(webhook_for("call_1"))
        assert (first.repeat, again.repeat, as_text.repeat) == (False, True, True)
        assert again.record == first.record == as_text.record
        assert again.webhook == first.webhook and again.error is None
        assert journal.timeline("call_1") == (first.record,)
        assert count_records(journal_url) == 1
        last = journal.last_step("call_1")
        assert last is not None and last.records == 1

    def test_unreadable_repeats_too(self, journal: CallJournal) -> None:
        """An unreadable webhook sent twice is one unattributed record."""
        first = journal.record_webhook(b"\xff not json")
        again = journal.record_webhook(b"\xff not json")
        assert again.repeat and again.record == first.record and again.error is not None
        assert journal.unattributed_count() == 1

    def test_different_bytes_are_different_webhooks(self, journal: CallJournal) -> None:
        """The same content laid out differently is a new delivery."""
        journal.record_webhook(webhook_for("call_1"))
        other = journal.record_webhook(json.dumps(json.loads(webhook_for("call_1")), indent=1))
        assert not other.repeat
        assert len(journal.timeline("call_1")) == 2

    def test_responses_are_never_merged(self, journal: CallJournal) -> None:
        """The same flow returned twice for a call is two records."""
        journal.record_response("call_1", MENU)
        journal.record_response("call_1", MENU)
        assert len(journal.timeline("call_1")) == 2


class TestPaging:
    """recent() pages newest first, filters by outcome and finds calls by number."""

    @pytest.fixture
    def calls(self, journal: CallJournal) -> list[str]:
        """Six calls: even ones busy, odd ones completed; each from its own number."""
        ids = [f"call_{n}" for n in range(6)]
        for n, call_id in enumerate(ids):
            journal.record_response(call_id, GOODBYE)
            status = "busy" if n % 2 == 0 else "completed"
            journal.record_webhook(webhook_for(call_id, status, from_=f"+1555000000{n}"))
        return ids

    def test_keyset_pages(self, journal: CallJournal, calls: list[str]) -> None:
        """Each page continues where the last one ended, with nothing skipped or repeated."""
        first = journal.recent(limit=4)
        second = journal.recent(limit=4, before=first[-1].last_record_id)
        assert [c.call_id for c in first + second] == calls[::-1]
        assert journal.recent(limit=4, before=second[-1].last_record_id) == ()

    def test_by_outcome(self, journal: CallJournal, calls: list[str]) -> None:
        """outcome= keeps only the calls that ended so (by name or enum)."""
        busy = journal.recent(outcome=Outcome.BUSY)
        assert [c.call_id for c in busy] == ["call_4", "call_2", "call_0"]
        assert journal.recent(outcome="completed") == journal.recent(outcome=Outcome.COMPLETED)
        with pytest.raises(JournalError, match="outcome must be one of"):
            journal.recent(outcome="exploded")

    def test_by_number(self, journal: CallJournal, calls: list[str]) -> None:
        """number= finds the calls from or to a number."""
        assert [c.call_id for c in journal.recent(number="+15550000003")] == ["call_3"]
        assert len(journal.recent(number="+15551230002")) == 6
        assert journal.recent(number="+19999999999") == ()
        assert journal.recent(number="\ud800" * 300) == ()

    def test_bad_limit(self, journal: CallJournal) -> None:
        """A limit below 1 is a clear error."""
        with pytest.raises(JournalError, match="limit must be"):
            journal.recent(limit=0)

    def test_timeline_limit(self, journal: CallJournal, calls: list[str]) -> None:
        """timeline(limit=) gives the first records of the call, in order; 0 is an error."""
        whole = journal.timeline("call_1")
        assert journal.timeline("call_1", limit=1) == whole[:1]
        assert journal.timeline("call_1", limit=50) == whole
        with pytest.raises(JournalError, match="limit must be"):
            journal.timeline("call_1", limit=0)

    def test_unattributed_pages(self, journal: CallJournal) -> None:
        """unattributed() pages newest first and is counted."""
        ids = [journal.record_webhook(f"junk {n}").record.id for n in range(5)]
        first = journal.unattributed(limit=3)
        rest = journal.unattributed(limit=3, before=first[-1].id)
        assert [r.id for r in first + rest] == ids[::-1]
        assert journal.unattributed_count() == 5


class TestPrune:
    """prune() deletes whole calls whose last record is older than the limit."""

    def test_whole_calls_only(self, journal_url: str) -> None:
        """A call with one recent record keeps all of its records; old ones go entirely."""
        clock = Clock()
        with CallJournal(journal_url, clock=clock) as journal:
            journal.record_response("old", MENU)
            journal.record_webhook(webhook_for("old"))
            journal.record_response("mixed", MENU)
            journal.record_webhook("junk, old")
            clock.now += timedelta(days=40)
            journal.record_webhook(webhook_for("mixed"))
            journal.record_webhook("junk, new")
            clock.now += timedelta(days=10)
            pruned = journal.prune(older_than=timedelta(days=30))
            assert pruned == Pruned(calls=1, records=2, unattributed=1)
            assert journal.last_step("old") is None and journal.timeline("old") == ()
            assert [r.kind for r in journal.timeline("mixed")] == ["response", "webhook"]
            assert [r.body for r in journal.unattributed()] == ["junk, new"]
            assert journal.prune(older_than=timedelta(days=30)) == Pruned(0, 0, 0)
            assert count_records(journal_url) == 3

    def test_a_pruned_webhook_can_arrive_again(self, journal_url: str) -> None:
        """After pruning, the same bytes are a new delivery, not a repeat of nothing."""
        clock = Clock()
        with CallJournal(journal_url, clock=clock) as journal:
            journal.record_webhook(webhook_for("call_1"))
            clock.now += timedelta(days=31)
            assert journal.prune(older_than=timedelta(days=30)).calls == 1
            assert not journal.record_webhook(webhook_for("call_1")).repeat

    @pytest.mark.parametrize("older_than", [timedelta(0), timedelta(days=-1), 30])
    def test_bad_age(self, journal: CallJournal, older_than: Any) -> None:
        """A limit that is not a positive timedelta is an error, and deletes nothing."""
        journal.record_response("call_1", MENU)
        with pytest.raises(JournalError, match="older_than must be a positive timedelta"):
            journal.prune(older_than=older_than)
        assert len(journal.timeline("call_1")) == 1


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

    def test_recent_calls_newest_first(self, journal_url: str) -> None:
        """recent() lists calls by their latest record, each summarised in full."""
        clock = Clock()
        journal = CallJournal(journal_url, clock=clock)
        for call_id in ("call_a", "call_b", "call_c"):
            journal.record_response(call_id, MENU)
        started = clock.now - timedelta(seconds=2)
        webhook = journal.record_webhook(webhook_for("call_a")).record
        recent = journal.recent()
        assert [s.call_id for s in recent] == ["call_a", "call_c", "call_b"]
        assert recent[0] == LastStep(
            call_id="call_a",
            step="menu",
            outcome=Outcome.HUNG_UP,
            status="completed",
            updated_at=clock.now,
            unreadable=0,
            started_at=started,
            from_="+15551230001",
            to="+15551230002",
            records=2,
            last_record_id=webhook.id,
        )
        assert [s.call_id for s in journal.recent(limit=1)] == ["call_a"]
        journal.close()


class TestClock:
    """Record times come from the injected clock; a naive time counts as UTC."""

    def test_injected_clock(self, journal_url: str) -> None:
        """Each record takes its time from the clock, and reads back the same."""
        clock = Clock()
        with CallJournal(journal_url, clock=clock) as journal:
            record = journal.record_response("call_1", MENU)
            assert record.received_at == clock.now
            assert journal.timeline("call_1")[0].received_at == clock.now

    def test_naive_clock(self, journal_url: str) -> None:
        """A clock without a time zone is read as UTC."""
        moment = datetime(2026, 1, 1, 9, 30)
        with CallJournal(journal_url, clock=lambda: moment) as journal:
            record = journal.record_response("call_1", MENU)
            assert record.received_at == datetime(2026, 1, 1, 9, 30, tzinfo=UTC)

    def test_other_time_zones_read_back_in_utc(self, journal_url: str) -> None:
        """A time in another zone is stored as the same instant and read back in UTC."""
        moment = datetime(2026, 1, 1, 9, 30, 0, 123456, tzinfo=timezone(timedelta(hours=5)))
        with CallJournal(journal_url, clock=lambda: moment) as journal:
            journal.record_response("call_1", MENU)
            (record,) = journal.timeline("call_1")
            assert record.received_at == moment
            assert record.received_at.utcoffset() == timedelta(0)


anything = (
    json_values
    | near_webhooks()
    | st.binary(max_size=200)
    | st.text(max_size=200)
    | st.dictionaries(st.integers() | st.text(max_size=3), json_values, max_size=3)
)
#: Text with lone surrogates, NUL and other controls among ordinary characters.
hostile_text = st.text(
    st.characters(codec=None, exclude_categories=()) | st.sampled_from("\ud800\udfff\x00\x1b"),
    max_size=20,
)
#: JSON whose strings (keys too) include lone surrogates, shaped like webhooks or not.
hostile_json = st.recursive(
    st.none() | st.booleans() | st.integers() | hostile_text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(hostile_text, inner, max_size=3),
    max_leaves=10,
)
hostile_webhooks = st.fixed_dictionaries(
    {
        "event": hostile_text,
        "created_at": hostile_text,
        "call": st.fixed_dictionaries({"id": hostile_text, "status": hostile_text}),
    }
)


def exact_bytes(payload: object, record: Record) -> bytes:
    """The bytes a payload was stored from, as the journal keeps them."""
    return record.raw if record.raw is not None else record.body.encode()


@pytest.fixture
def stored() -> set[bytes]:
    """The exact bytes of every webhook a property test has stored (kept across examples)."""
    return set()


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(payload=anything | hostile_json | hostile_webhooks | hostile_text.map(str.encode))
def test_record_webhook_never_raises_and_always_stores(
    journal: CallJournal, journal_url: str, stored: set[bytes], payload: Any
) -> None:
    """Whatever arrives is stored: one more record, or (the same bytes again) the record
    stored before; a payload given as bytes or text is kept exactly."""
    before = count_records(journal_url)
    received = journal.record_webhook(payload)
    record = received.record
    assert (received.webhook is None) == (received.error is not None) == (not record.ok)
    assert received.repeat == (exact_bytes(payload, record) in stored)
    stored.add(exact_bytes(payload, record))
    assert count_records(journal_url) == before + (0 if received.repeat else 1)
    if record.call_id is None:
        assert record in journal.unattributed()
    else:
        assert record in journal.timeline(record.call_id)
    if isinstance(payload, bytes):
        assert exact_bytes(payload, record) == payload
    elif isinstance(payload, str):
        kept = record.raw.decode("utf-8", "surrogatepass") if record.raw is not None else None
        assert (kept if kept is not None else record.body) == payload


class TestToDict:
    """Records, calls and prune counts as JSON-ready data, the fields of ``--format json``."""

    def test_records_and_calls(self, journal: CallJournal) -> None:
        """Times in ISO 8601, raw bytes in base64, ``from`` for ``from_``, the outcome in words."""
        journal.record_response("call_1", GOODBYE)
        journal.record_webhook(webhook_for("call_1", "busy"))
        junk = journal.record_webhook(b"\xff junk").record.to_dict()
        assert (junk["raw"], junk["call_id"], junk["kind"]) == ("/yBqdW5r", None, "webhook")
        last = journal.last_step("call_1")
        assert last is not None
        data = last.to_dict()
        assert list(data)[:4] == ["call_id", "step", "outcome", "status"]
        assert (data["from"], data["outcome"], data["description"]) == (
            "+15551230001",
            "busy",
            "destination busy during step 'goodbye'",
        )
        assert "from_" not in data
        assert datetime.fromisoformat(data["started_at"]) == last.started_at
        assert json.loads(json.dumps([r.to_dict() for r in journal.timeline("call_1")]))

    def test_pruned(self) -> None:
        """Pruned counts by name."""
        assert Pruned(1, 2, 3).to_dict() == {"calls": 1, "records": 2, "unattributed": 3}
