"""The webhooks a simulated call produces have the vendor's shape, with deterministic values."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from minivoice_flow import Flow
from minivoice_flow.testing import Caller, simulate
from minivoice_flow.testing._payloads import created_at

VENDOR = Path(__file__).parents[1] / "fixtures" / "vendor" / "webhook-example.json"
PROMPT = "https://media.example.com/menu.wav"
NEXT = "https://app.example.com/ivr/next"


def shape(value: Any) -> Any:
    """The keys (in order) and value types of a JSON value, recursively."""
    if isinstance(value, dict):
        return [(key, shape(item)) for key, item in value.items()]
    return type(value).__name__


class TestVendorShape:
    """Every webhook has exactly the keys, order and types of the vendor's example."""

    def test_a_call_that_hangs_up_at_once_sends_the_vendor_example(self) -> None:
        vendor = json.loads(VENDOR.read_text())
        assert simulate(Flow().hangup()).webhooks[-1] == vendor

    def test_every_event_has_the_vendor_shape(self) -> None:
        vendor = shape(json.loads(VENDOR.read_text()))
        flow = Flow().play(PROMPT).collect("pick", max_digits=1).hangup()
        result = simulate(flow, caller=Caller.answers_prompts("5"))
        assert [h["event"] for h in result.webhooks] == [
            "call.initiated",
            "call.answered",
            "call.completed",
        ]
        for hook in result.webhooks:
            assert shape({**hook, "variables": {}}) == vendor

    def test_statuses_and_variables_follow_the_call(self) -> None:
        flow = Flow().play(PROMPT).collect("pick", max_digits=1).hangup()
        result = simulate(flow, caller=Caller.answers_prompts("5"))
        assert [(h["call"]["status"], h["variables"]) for h in result.webhooks] == [
            ("ringing", {}),
            ("in_progress", {}),
            ("completed", {"pick": "5"}),
        ]

    def test_a_call_still_in_progress_sends_no_completed_event(self) -> None:
        result = simulate(Flow().redirect(NEXT))
        assert [h["event"] for h in result.webhooks] == ["call.initiated", "call.answered"]

    def test_the_call_id_is_a_setting(self) -> None:
        result = simulate(Flow().hangup(), call_id="call_456")
        assert {h["call"]["id"] for h in result.webhooks} == {"call_456"}


class TestCreatedAt:
    """Timestamps are a fixed epoch plus simulated time, UTC with Z."""

    @pytest.mark.parametrize(
        ("ms", "text"),
        [
            (0, "2026-05-29T12:10:00Z"),
            (3000, "2026-05-29T12:10:03Z"),
            (4200, "2026-05-29T12:10:04.200Z"),
            (1, "2026-05-29T12:10:00.001Z"),
            (3_600_000, "2026-05-29T13:10:00Z"),
        ],
    )
    def test_format(self, ms: int, text: str) -> None:
        assert created_at(ms) == text

    def test_the_completed_event_is_stamped_at_the_end(self) -> None:
        result = simulate(Flow().play(PROMPT, loop=2).hangup())
        assert [h["created_at"] for h in result.webhooks] == [
            "2026-05-29T12:10:00Z",
            "2026-05-29T12:10:00Z",
            "2026-05-29T12:10:06Z",
        ]
