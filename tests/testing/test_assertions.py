"""The assertion helpers pass on a match and fail with expected against actual, and the call."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from minivoice_flow import Flow
from minivoice_flow.testing import (
    SimulationResult,
    TestIVR,
    assert_far_end_heard,
    assert_status,
    assert_timeline,
    simulate,
)

PBX = "+15551230002"
BUSY = "https://app.example.com/ivr/busy"
IVR = TestIVR(expect="1234#", ready_after_ms=1500)


def pin_call(pause: int) -> SimulationResult:
    flow = Flow("pin").transfer(PBX, fallback_url=BUSY).send_digits("1234#", pause_before_ms=pause)
    return simulate(flow, far_end=IVR)


def failure(check: Callable[[], object]) -> str:
    """The message of the AssertionError that ``check`` raises."""
    with pytest.raises(AssertionError) as info:
        check()
    return str(info.value)


class TestFarEndHeard:
    """assert_far_end_heard explains lost tones and suggests the pause that fixes them."""

    def test_passes_when_heard(self) -> None:
        assert_far_end_heard(pin_call(2000), "1234#")

    def test_says_what_was_heard_and_how_much_more_pause_is_needed(self) -> None:
        message = failure(lambda: assert_far_end_heard(pin_call(1000), "1234#"))
        assert message.splitlines()[0] == 'the far end heard "4#"; expected "1234#"'
        assert '"123" started before the far end was listening (from 3500 ms)' in message
        assert "the first started at 3000 ms, so a pause_before_ms 500 ms longer" in message
        assert '  tone "1" to +15551230002: lost (listening from 3500)' in message

    def test_tones_sent_to_the_caller(self) -> None:
        result = simulate(Flow().send_digits("12").transfer(PBX), far_end=IVR)
        message = failure(lambda: assert_far_end_heard(result, "12"))
        assert '"12" went to the caller: no transfer had been answered' in message

    def test_no_transfer_answered(self) -> None:
        result = simulate(Flow().transfer(PBX).send_digits("1"), far_end=TestIVR.busy())
        message = failure(lambda: assert_far_end_heard(result, "1"))
        assert f"no transfer was answered ({PBX} busy)" in message


class TestStatus:
    """assert_status compares the status and, if asked, the reason."""

    def test_passes(self) -> None:
        result = simulate(Flow().transfer(PBX), far_end=TestIVR.busy())
        assert_status(result, "busy", end_reason="transfer_not_connected")

    def test_fails_with_both_differences_and_the_timeline(self) -> None:
        result = simulate(Flow().transfer(PBX), far_end=TestIVR.busy())
        message = failure(lambda: assert_status(result, "completed", end_reason="hangup_action"))
        assert 'the call ended with status "busy"; expected "completed"' in message
        assert 'because of "transfer_not_connected"; expected "hangup_action"' in message
        assert "[0] transfer +15551230002: busy" in message


class TestTimeline:
    """assert_timeline compares the rows given and shows both columns when they differ."""

    def test_passes_with_or_without_outcomes(self) -> None:
        result = pin_call(2000)
        assert_timeline(result, [("transfer", 0, 2000), ("send_digits", 2000, 5000)])
        assert_timeline(
            result, [("transfer", 0, 2000, "answered"), ("send_digits", 2000, 5000, "sent")]
        )

    def test_marks_the_differing_row(self) -> None:
        result = pin_call(0)
        expected = [("transfer", 0, 2000), ("send_digits", 2000, 5000)]
        message = failure(lambda: assert_timeline(result, expected))
        lines = message.splitlines()
        assert lines[0] == "the simulated actions differ from the expected timeline:"
        assert lines[1].split() == ["#", "expected", "|", "actual"]
        assert lines[2].split() == [
            "0",
            "transfer",
            "0..2000",
            "|",
            "transfer",
            "0..2000",
            "answered",
        ]
        assert lines[3].split() == [
            ">",
            "1",
            "send_digits",
            "2000..5000",
            "|",
            "send_digits",
            "2000..3000",
            "sent",
        ]
        assert "the simulated call:" in message

    def test_missing_and_extra_rows(self) -> None:
        result = pin_call(2000)
        message = failure(lambda: assert_timeline(result, [("transfer", 0, 2000)]))
        assert message.splitlines()[3].split()[:3] == [">", "1", "(nothing)"]
        longer = [("transfer", 0, 2000), ("send_digits", 2000, 5000), ("hangup", 5000, 5000)]
        message = failure(lambda: assert_timeline(result, longer))
        assert message.splitlines()[4].split()[-3:] == ["5000..5000", "|", "(nothing)"]

    def test_a_malformed_row_is_a_type_error(self) -> None:
        with pytest.raises(TypeError, match=r"expected row 0 must be \(kind, start_ms, end_ms\)"):
            assert_timeline(pin_call(0), [("transfer", 0)])  # type: ignore[list-item]
