"""Calls of the example support line, recorded as its web app records them, for the support
page's tests (WSGI and browser) and its screenshots: calls that end each way, an unreadable
webhook, unattributed junk, and a call whose every value is an attack on the page."""

from __future__ import annotations

import importlib.util
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Final

from minivoice_flow import Flow, Redirect, Transfer
from minivoice_flow.fallback import FlowSet
from minivoice_flow.journal import CallJournal
from tests.journal_worker import webhook_for

EXAMPLES: Final = Path(__file__).resolve().parent.parent / "examples"
START: Final = datetime(2026, 5, 29, 9, 0, tzinfo=UTC)
LINE_NUMBER: Final = "+15551230100"

#: Text that runs script if a page ever puts it into HTML, an attribute or a URL unescaped.
SCRIPT: Final = "<script>alert('xss')</script>"
JAVASCRIPT_URL: Final = "javascript:alert(document.cookie)"
ATTRIBUTE: Final = '"onerror="alert(1)'
IMAGE: Final = "<img src=x onerror=alert(2)>"
HOSTILE_ID: Final = f"call_{SCRIPT}"

#: The calls, by ID: the outcome sentence each must show.
OUTCOMES: Final = {
    "call_7f3a9c01": "completed, last step 'pin_accepted'",
    "call_7f3a9c02": "caller hung up during step 'support_menu_retry_1'",
    "call_7f3a9c03": "destination busy during step 'support_agent'",
    "call_7f3a9c04": "no answer during step 'support_agent'",
    "call_7f3a9c05": "in progress, at step 'support_menu'",
    "call_7f3a9c06": "failed during step 'support_agent'",
    HOSTILE_ID: f"completed, last step {JAVASCRIPT_URL!r}",
}


def support_line() -> FlowSet:
    """The example support line (``examples/flows/support_line.py``)."""
    spec = importlib.util.spec_from_file_location(
        "_support_line_for_tests", EXAMPLES / "flows" / "support_line.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    line: FlowSet = module.SUPPORT_LINE
    return line


class Clock:
    """The time of each record: set by the script of a call, in seconds from START."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


def record_calls(url: str) -> None:
    """Write every call of this module into the journal at ``url``."""
    clock = Clock()
    flows = {flow.name: flow for flow in support_line().flows}
    with CallJournal(url, clock=clock) as journal:

        def call(call_id: str, minute: int, *events: tuple[float, str, str]) -> None:
            """The records of one call in the order they happen: each (second, what, status)
            is a flow returned (``what`` its name, at the URL the step before sent MiniVoice
            to, the answer_url first), a webhook (``what`` its event), or an unreadable
            webhook (``what`` is ``"broken"``)."""
            url = "https://app.example.com/ivr/support_menu"
            number = f"+1555010{minute:04d}"
            for second, what, status in events:
                clock.now = START + timedelta(minutes=minute, seconds=second)
                if what in flows:
                    journal.record_response(call_id, flows[what], url=url, status=status)
                    url = _next_url(flows[what]) or url
                elif what == "broken":
                    broken = {"event": "call.completed", "call": {"id": call_id, "status": 7}}
                    journal.record_webhook(json.dumps(broken))
                else:
                    webhook = webhook_for(call_id, status, what, from_=number, to=LINE_NUMBER)
                    journal.record_webhook(webhook)

        answered = (0.4, "call.answered", "in_progress")
        call(
            "call_7f3a9c01",
            0,
            (0, "support_menu", "ringing"),
            answered,
            (7.5, "account_pin", "in_progress"),
            (19.2, "pin_accepted", "in_progress"),
            (24.1, "call.completed", "completed"),
        )
        call(
            "call_7f3a9c02",
            3,
            (0, "support_menu", "ringing"),
            answered,
            (6.6, "support_menu_retry_1", "in_progress"),
            (8.0, "broken", ""),
            (9.3, "call.completed", "completed"),
        )
        for minute, call_id, status in (
            (6, "call_7f3a9c03", "busy"),
            (9, "call_7f3a9c04", "no_answer"),
            (12, "call_7f3a9c06", "failed"),
        ):
            call(
                call_id,
                minute,
                (0, "support_menu", "ringing"),
                answered,
                (6.8, "support_agent", "in_progress"),
                (37.0, "call.completed", status),
            )
        call("call_7f3a9c05", 15, (0, "support_menu", "ringing"), answered)

        def at(minute: int, second: float) -> None:
            clock.now = START + timedelta(minutes=minute, seconds=second)

        at(18, 0)
        journal.record_response(
            HOSTILE_ID,
            json.dumps({"actions": [{"hangup": {}}]}),
            name=JAVASCRIPT_URL,
            url=JAVASCRIPT_URL,
            status=ATTRIBUTE,
        )
        at(18, 2.5)
        attack = json.loads(
            webhook_for(
                HOSTILE_ID, "completed", "call.completed", from_=JAVASCRIPT_URL, to=ATTRIBUTE
            )
        )
        attack["variables"] = {"pin": SCRIPT, "note": IMAGE, "link": JAVASCRIPT_URL}
        journal.record_webhook(json.dumps(attack))
        at(18, 3.0)
        journal.record_webhook(json.dumps({"call": {"id": HOSTILE_ID}, "event": SCRIPT + IMAGE}))

        at(21, 0)
        journal.record_webhook(b"\xff\xfe" + SCRIPT.encode() + b" not json")
        at(21, 5)
        journal.record_webhook(json.dumps({"event": IMAGE, "call": {"href": JAVASCRIPT_URL}}))


def _next_url(flow: Flow) -> str | None:
    """Where a flow sends MiniVoice next: its redirect, or its transfer's fallback_url."""
    for action in flow.actions:
        if isinstance(action, Redirect):
            return action.url
        if isinstance(action, Transfer) and action.fallback_url is not None:
            return action.fallback_url
    return None


#: The calls as the calls page lists them: the most recently active first.
NEWEST_FIRST: Final = (
    HOSTILE_ID,
    "call_7f3a9c05",
    "call_7f3a9c06",
    "call_7f3a9c04",
    "call_7f3a9c03",
    "call_7f3a9c02",
    "call_7f3a9c01",
)
