"""The JSON MiniVoice sends to an application: the call object, webhooks and request bodies.

Shapes follow the vendor's webhook example; the ids are fixed fakes and ``created_at`` is a
fixed epoch plus simulated time, so the same call always gives the same payloads.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, Final

from minivoice_flow._rules import Direction

#: Simulated time 0 (the moment the call is answered) as a wall-clock time.
EPOCH: Final = datetime(2026, 5, 29, 12, 10, 0, tzinfo=UTC)
CALL_ID: Final = "call_123"
CUSTOMER_ID: Final = "cust_123"
APPLICATION_ID: Final = "app_123"
#: The application's own number: ``to`` of an inbound call, ``from`` of an outbound one.
APPLICATION_NUMBER: Final = "+15551230002"

#: Lifecycle events and the call status each one carries (completed carries the final one).
INITIATED: Final = ("call.initiated", "ringing")
ANSWERED: Final = ("call.answered", "in_progress")
COMPLETED: Final = "call.completed"


def created_at(ms: int) -> str:
    """UTC ISO 8601 with ``Z``; whole seconds as in the vendor example, else milliseconds."""
    moment = EPOCH + timedelta(milliseconds=ms)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if moment.microsecond:
        text += f".{moment.microsecond // 1000:03d}"
    return text + "Z"


def call_object(call_id: str, status: str, direction: Direction, caller: str) -> dict[str, Any]:
    """The ``call`` object of webhooks and requests."""
    inbound = direction == "inbound"
    return {
        "id": call_id,
        "customer_id": CUSTOMER_ID,
        "application_id": APPLICATION_ID,
        "status": status,
        "direction": direction,
        "from": caller if inbound else APPLICATION_NUMBER,
        "to": APPLICATION_NUMBER if inbound else caller,
    }


def webhook(event: str, ms: int, call: dict[str, Any], variables: dict[str, str]) -> dict[str, Any]:
    """One webhook payload, keys in the vendor example's order."""
    return {
        "event": event,
        "created_at": created_at(ms),
        "call": call,
        "variables": dict(variables),
        "data": {},
    }


def request_body(call: dict[str, Any], variables: dict[str, str]) -> dict[str, Any]:
    """What an answer_url, redirect or fallback request carries (modelled on the webhook):
    the call, its variables, and an empty ``data``."""
    return {"call": call, "variables": dict(variables), "data": {}}


def query_items(body: dict[str, Any]) -> list[tuple[str, str]]:
    """A request body flattened for a GET: ``call.<key>`` and ``variables.<name>`` pairs."""
    items = [(f"call.{key}", str(value)) for key, value in body["call"].items()]
    items += [(f"variables.{name}", value) for name, value in body["variables"].items()]
    return items
