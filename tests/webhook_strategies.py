"""Hypothesis strategies for webhook payloads, written from the platform model.

``webhook_payloads`` are valid payloads as plain data (unknown events, statuses and extra
keys included, since those must be kept); ``near_webhooks`` mutate them at random.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from hypothesis import strategies as st

from tests.strategies import json_values

#: JSON values that survive a round trip through JSON text (no NaN or Infinity).
finite_json: st.SearchStrategy[Any] = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=10),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3)
    ),
    max_leaves=10,
)

KNOWN_EVENTS = ["call.initiated", "call.answered", "call.completed"]
KNOWN_STATUSES = [
    "queued",
    "ringing",
    "in_progress",
    "completed",
    "busy",
    "no_answer",
    "failed",
    "canceled",
]
CALL_KEYS = ["id", "customer_id", "application_id", "status", "direction", "from", "to"]
TOP_KEYS = ["event", "created_at", "call", "variables", "data"]

offsets = st.integers(-23 * 60 - 59, 23 * 60 + 59).map(lambda m: timezone(timedelta(minutes=m)))
moments = st.builds(
    lambda naive, zone: naive.replace(tzinfo=zone),
    st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(9998, 12, 30)),
    offsets | st.just(UTC),
)
timestamps = moments.map(lambda m: m.isoformat().replace("+00:00", "Z"))
short_text = st.text(max_size=12)
extra_keys = st.dictionaries(
    st.text(max_size=8).filter(lambda k: k not in TOP_KEYS + CALL_KEYS + ["extra"]),
    finite_json,
    max_size=2,
)


@st.composite
def calls(draw: st.DrawFn) -> dict[str, Any]:
    call = {
        "id": draw(st.text(min_size=1, max_size=12)),
        "customer_id": draw(short_text),
        "application_id": draw(short_text),
        "status": draw(st.sampled_from(KNOWN_STATUSES) | short_text),
        "direction": draw(st.sampled_from(["inbound", "outbound"]) | short_text),
        "from": draw(short_text),
        "to": draw(short_text),
    }
    call.update(draw(extra_keys))
    return call


@st.composite
def webhook_payloads(draw: st.DrawFn) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "event": draw(st.sampled_from(KNOWN_EVENTS) | short_text),
        "created_at": draw(timestamps),
        "call": draw(calls()),
        "variables": draw(st.dictionaries(short_text, short_text, max_size=3)),
        "data": draw(st.dictionaries(short_text, finite_json, max_size=3)),
    }
    payload.update(draw(extra_keys))
    return payload


@st.composite
def near_webhooks(draw: st.DrawFn) -> Any:
    """Valid payloads with a few keys removed or replaced by any JSON value."""
    payload = copy.deepcopy(draw(webhook_payloads()))
    for _ in range(draw(st.integers(1, 4))):
        call = payload.get("call")
        target = call if isinstance(call, dict) and call and draw(st.booleans()) else payload
        if not target:
            break
        key = draw(st.sampled_from(sorted(target)))
        if draw(st.booleans()):
            del target[key]
        else:
            target[key] = draw(json_values)
    return payload
