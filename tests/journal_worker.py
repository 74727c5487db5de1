"""A process that writes to a call journal while others do: used by the concurrency tests.

Kept apart from the test module so a spawned child imports only the journal.
"""

from __future__ import annotations

import json
from typing import Any

from minivoice_flow import Flow
from minivoice_flow.journal import CallJournal

FLOW = Flow("menu").play("https://media.example.com/menu.wav").hangup()


def webhook_for(call_id: str, status: str = "completed", event: str = "call.completed") -> str:
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
                "from": "+15551230001",
                "to": "+15551230002",
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
