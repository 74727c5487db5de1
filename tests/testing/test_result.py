"""The result of a simulated call: its timeline text and the summaries drawn from it."""

from __future__ import annotations

import json

import pytest

from minivoice_flow import Flow
from minivoice_flow.testing import Caller, SimulationResult, TestIVR, assert_status, simulate
from tests.cli import terminal_safe

PICK = "https://app.example.com/ivr/pick"
BUSY = "https://app.example.com/ivr/busy"
MENU = Flow("menu").play("https://media.example.com/menu.wav").collect("pick", max_digits=1)
PIN = (
    Flow("pin").transfer("+15551230002", fallback_url=BUSY).send_digits("12", pause_before_ms=1000)
)


def menu_then_pin() -> SimulationResult:
    return simulate(
        MENU.redirect(PICK),
        caller=Caller.answers_prompts("2").and_presses("9", at_ms=500),
        handlers={PICK: PIN},
        far_end=TestIVR(ready_after_ms=1200, ring_ms=1000),
    )


class TestTimeline:
    """The timeline lists every event by time; events at the same moment keep their order."""

    def test_the_whole_call(self) -> None:
        assert str(menu_then_pin()) == "\n".join(
            [
                "call call_123, inbound, caller +15551230001; ms from the answer (start, end)",
                "      0          webhook call.initiated (status ringing)",
                "      0          webhook call.answered (status in_progress)",
                "      0          answer POST https://app.example.com/answer (via Flow menu)"
                ' -> flow "menu", 3 actions',
                "      0    3000  [0] play https://media.example.com/menu.wav: played",
                '    500            caller presses "9": not collected (counts at 700)',
                '   3000    4200  [1] collect pick="2": max_digits',
                '   4000            caller presses "2": into pick (counts at 4200)',
                "   4200    4200  [2] redirect https://app.example.com/ivr/pick: followed",
                "   4200          redirect POST https://app.example.com/ivr/pick (via Flow pin)"
                ' -> flow "pin", 2 actions',
                "   4200    5200  [0] transfer +15551230002, listening from 6400: answered",
                '   5200    6600  [1] send_digits "12" after 1000 ms to +15551230002: sent',
                '   6200            tone "1" to +15551230002: lost (listening from 6400)',
                '   6400            tone "2" to +15551230002: heard',
                "   6600          webhook call.completed (status completed)",
                "   6600          end: completed (actions done); last step: pin"
                " /actions/1/send_digits",
            ]
        )

    def test_a_rejected_response_names_its_problems(self) -> None:
        result = simulate(lambda request: '{"actions": []}')
        assert "-> rejected: empty_actions at /actions" in result.timeline()

    def test_an_unfollowed_url_is_named_at_the_end(self) -> None:
        result = simulate(Flow().redirect(PICK))
        assert result.timeline().endswith(
            f"end: in_progress (not followed); not followed: {PICK}; last step: "
            "https://app.example.com/answer /actions/0/redirect"
        )


class TestSummaries:
    """The properties a test reads most: last step, far-end digits, diagnostics, rows."""

    def test_last_step_is_the_last_action_that_started(self) -> None:
        result = menu_then_pin()
        assert result.last_step is not None
        assert (result.last_step.flow, result.last_step.pointer) == (
            "pin",
            "/actions/1/send_digits",
        )
        assert result.last_step.url == PICK

    def test_far_end_digits_leave_out_lost_tones_and_the_caller(self) -> None:
        result = menu_then_pin()
        assert [(t.char, t.heard) for t in result.tones] == [("1", False), ("2", True)]
        assert result.far_end_digits == "2"

    def test_rows(self) -> None:
        assert menu_then_pin().rows() == [
            ("play", 0, 3000, "played"),
            ("collect", 3000, 4200, "max_digits"),
            ("redirect", 4200, 4200, "followed"),
            ("transfer", 4200, 5200, "answered"),
            ("send_digits", 5200, 6600, "sent"),
        ]


#: Characters a terminal acts on, as an application under test might send them back.
CONTROLS = "\x1b]0;owned\x07\n\r\x7f\x85\x9b\u2028\u202e"


def hostile_call() -> SimulationResult:
    """A call whose IDs, flow names and rejected response are full of control characters."""

    def answer(request: object) -> Flow:
        return Flow(f"menu{CONTROLS}").play("https://media.example.com/menu.wav").redirect(PICK)

    def pick(request: object) -> str:
        return json.dumps({"actions": [{f"pl{CONTROLS}": {}}]})

    return simulate(
        answer,
        handlers={PICK: pick},
        call_id=f"call{CONTROLS}",
    )


class TestUntrustedText:
    """What the application under test sends back reaches the timeline (and so the pytest
    report and every assertion message) escaped: one line per event, no control character."""

    def test_the_timeline_is_one_clean_line_per_event(self) -> None:
        result = hostile_call()
        text = result.timeline()
        assert terminal_safe(text)
        assert len(text.split("\n")) == len(result.events) + 2  # the header and the end
        assert "call call\\x1b]0;owned\\x07\\x0a\\x0d\\x7f\\x85\\x9b\\u2028\\u202e" in text
        assert "rejected: unknown_action at /actions/0/pl\\x1b]0;owned\\x07" in text

    def test_assertion_messages_are_clean_too(self) -> None:
        result = hostile_call()
        with pytest.raises(AssertionError) as raised:
            assert_status(result, "completed")
        assert terminal_safe(str(raised.value))
        assert "the call ended with status" in str(raised.value)
