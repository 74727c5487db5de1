"""Processes that write to a call journal while others do: used by the concurrency tests.

Kept apart from the test module so a spawned child imports only the journal.
"""

from __future__ import annotations

import itertools
import json
import sqlite3
from contextlib import closing
from typing import Any

from minivoice_flow import Flow
from minivoice_flow.journal import CallJournal, Outcome

FLOW = Flow("menu").play("https://media.example.com/menu.wav").hangup()
HANDS_OVER = (
    Flow("menu_input")
    .play("https://media.example.com/menu.wav")
    .collect("choice")
    .redirect("https://app.example.com/ivr/menu/input")
)


def webhook_for(
    call_id: str,
    status: str = "completed",
    event: str = "call.completed",
    *,
    from_: str = "+15551230001",
    to: str = "+15551230002",
) -> str:
    """A webhook in the vendor's shape for one call."""
    return json.dumps(
        {
            "event": event,
            "created_at": "2026-05-29T12:10:00Z",
            "call": {
                "id": call_id,
                "customer_id": "cust_1",
                "application_id": "app_1",
                "status": status,
                "direction": "inbound",
                "from": from_,
                "to": to,
            },
            "variables": {},
            "data": {},
        }
    )


def write(path: str, worker: int, count: int, start: Any) -> None:
    """Wait for every worker to be ready, then write ``count`` calls (a response and a
    webhook each) and one unreadable webhook per call."""
    journal = CallJournal(path)
    start.wait()
    for index in range(count):
        call_id = f"call_{worker}_{index}"
        journal.record_response(call_id, FLOW, url="https://app.example.com/answer")
        journal.record_webhook(webhook_for(call_id))
        journal.record_webhook(f"not json from {call_id}".encode())
    journal.close()


#: The ending of call ``i`` in the load test, and the outcome it must give.
ENDINGS = (
    ("completed", FLOW, Outcome.COMPLETED),
    ("completed", HANDS_OVER, Outcome.HUNG_UP),
    ("busy", FLOW, Outcome.BUSY),
    ("canceled", HANDS_OVER, Outcome.HUNG_UP),
    ("no_answer", FLOW, Outcome.NO_ANSWER),
)


def load_call(worker: int, index: int) -> tuple[str, str, Flow, Outcome]:
    """Call ``index`` of ``worker`` in the load test: its ID, webhook, flow and outcome."""
    call_id = f"call_{worker}_{index}"
    status, flow, outcome = ENDINGS[(worker + index) % len(ENDINGS)]
    return (
        call_id,
        webhook_for(call_id, status, from_=f"+1555{worker:03d}{index:04d}"),
        flow,
        outcome,
    )


def deliver(url: str, worker: int, workers: int, count: int, start: Any) -> None:
    """The load test's writer: for each of its ``count`` calls a response and the webhook;
    each webhook of the next worker is delivered again from here (a platform's retry that
    lands on another instance)."""
    journal = CallJournal(url)
    start.wait()
    for index in range(count):
        call_id, webhook, flow, _ = load_call(worker, index)
        journal.record_response(call_id, flow)
        journal.record_webhook(webhook.encode())
        journal.record_webhook(load_call((worker + 1) % workers, index)[1].encode())
    journal.close()


def write_forever(url: str, ready: Any) -> None:
    """Write calls until killed (the killed-writer test)."""
    journal = CallJournal(url)
    ready.set()
    for index in itertools.count():
        call_id = f"call_{index}"
        journal.record_response(call_id, FLOW)
        journal.record_webhook(webhook_for(call_id))
        journal.record_webhook(f"unreadable {index}")


def count_records(url: str) -> int:
    """How many records the journal at ``url`` holds, counted in its database."""
    if url.startswith("postgresql://"):
        import psycopg  # only the PostgreSQL tests need it

        with psycopg.connect(url) as connection:
            row = connection.execute("SELECT count(*) FROM minivoice_journal.records").fetchone()
            assert row is not None
            return int(row[0])
    with closing(sqlite3.connect(url)) as connection:
        return int(connection.execute("SELECT count(*) FROM records").fetchone()[0])
