"""The scripted caller and test IVR: what they accept, and how the caller answers prompts."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from minivoice_flow import Flow
from minivoice_flow.testing import Caller, KeyPress, TestIVR, simulate

PROMPT = "https://media.example.com/menu.wav"


class TestCallerScripts:
    """The constructors build the script they name."""

    def test_presses(self) -> None:
        caller = Caller.presses("12", at_ms=500, every_ms=300)
        assert caller.keys == (KeyPress("1", 500), KeyPress("2", 800))

    def test_presses_and_hangs_up(self) -> None:
        caller = Caller.presses("1", at_ms=0).and_presses("2", at_ms=900).and_hangs_up(at_ms=5000)
        assert caller.keys == (KeyPress("1", 0), KeyPress("2", 900))
        assert caller.hangup_at_ms == 5000

    def test_silent(self) -> None:
        assert Caller.silent() == Caller()
        assert Caller.silent().keys == ()


class TestAnsweringPrompts:
    """A caller who waits for a prompt answers each prompted collect with the next reply."""

    FLOW = (
        Flow()
        .play(PROMPT)
        .collect("first", max_digits=1)
        .collect("unprompted", max_digits=1, timeout_ms=1000)
        .play(PROMPT)
        .collect("second", finish_on_key="#")
        .play(PROMPT)
        .collect("third", timeout_ms=1000)
    )

    def test_replies_go_to_prompted_collects_in_order(self) -> None:
        result = simulate(self.FLOW, caller=Caller.answers_prompts("1", "42#"))
        assert result.variables == {"first": "1", "unprompted": "", "second": "42", "third": ""}

    def test_an_empty_reply_is_silence(self) -> None:
        result = simulate(self.FLOW, caller=Caller.answers_prompts("", "7#"))
        assert result.variables["first"] == ""
        assert result.variables["second"] == "7"

    def test_the_reply_starts_after_the_delay(self) -> None:
        result = simulate(self.FLOW, caller=Caller.answers_prompts("1", after_ms=250))
        assert result.keys[0].pressed_at_ms == 3000 + 250
        assert result.rows()[1] == ("collect", 3000, 3450, "max_digits")

    def test_a_prompt_in_an_earlier_response_still_counts(self) -> None:
        """The caller heard the prompt, whichever actions array it came from."""
        next_url = "https://app.example.com/ivr/next"
        flow = Flow().play(PROMPT).redirect(next_url)
        second = Flow("second").collect("pick", max_digits=1).hangup()
        result = simulate(flow, caller=Caller.answers_prompts("9"), handlers={next_url: second})
        assert result.variables == {"pick": "9"}


class TestCallerChecks:
    """A wrong script fails when it is written, naming the field and the value."""

    @pytest.mark.parametrize(
        ("make", "message"),
        [
            (lambda: Caller.presses("1x", at_ms=0), 'has "x" at position 2'),
            (lambda: Caller.presses("", at_ms=0), "must not be empty"),
            (lambda: Caller.presses("1", at_ms=-5), "Caller.presses at_ms must be a whole number"),
            (lambda: KeyPress("1", -5), "KeyPress.at_ms must be a whole number"),
            (lambda: Caller.hangs_up(at_ms=-1), "Caller.hangup_at_ms must be a whole number"),
            (lambda: Caller.answers_prompts("1", "w"), 'Caller reply 2 has "w"'),
            (lambda: Caller(number="5551230001"), "Caller.number must be an E.164 number"),
            (lambda: KeyPress("12", 0), "exactly one key"),
            (lambda: KeyPress("a", 0), 'KeyPress.key has "a"'),
        ],
    )
    def test_value_errors(self, make: Callable[[], object], message: str) -> None:
        with pytest.raises(ValueError, match=message):
            make()

    def test_keys_must_be_key_presses(self) -> None:
        with pytest.raises(TypeError, match=r"Caller\.keys must hold KeyPress objects; got '1'"):
            Caller(keys=["1"])  # type: ignore[list-item]

    def test_bool_is_not_a_time(self) -> None:
        with pytest.raises(ValueError, match="got true"):
            Caller.hangs_up(at_ms=True)


class TestIVRChecks:
    """The test IVR's settings are checked the same way."""

    @pytest.mark.parametrize(
        ("make", "message"),
        [
            (lambda: TestIVR(expect=""), "TestIVR.expect must not be empty"),
            (lambda: TestIVR(expect="12w"), 'TestIVR.expect has "w" at position 3'),
            (lambda: TestIVR(ready_after_ms=-1), "TestIVR.ready_after_ms must be a whole number"),
            (lambda: TestIVR(ring_ms=1.5), "TestIVR.ring_ms must be a whole number"),  # type: ignore[arg-type]
            (lambda: TestIVR(outcome="hangs"), 'TestIVR.outcome must be one of "answer"'),  # type: ignore[arg-type]
        ],
    )
    def test_value_errors(self, make: Callable[[], object], message: str) -> None:
        with pytest.raises(ValueError, match=message):
            make()

    def test_named_outcomes(self) -> None:
        assert TestIVR.busy().outcome == "busy"
        assert TestIVR.no_answer().outcome == "no_answer"
        assert TestIVR.failing().outcome == "failed"

    def test_pytest_does_not_collect_it(self) -> None:
        assert TestIVR.__test__ is False
