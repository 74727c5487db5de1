"""The simulator keeps time exactly as the model's table says (model section 6).

Every number here is written out from the model, not read from the simulator's constants, so
a wrong constant fails these tests.
"""

from __future__ import annotations

import pytest

from minivoice_flow import Flow
from minivoice_flow.testing import Caller, SimulationResult, TestIVR, Timing, simulate

PBX = "+15551230002"
PROMPT = "https://media.example.com/menu.wav"
BUSY = "https://app.example.com/ivr/busy"


def digits_alone(digits: str, pause: int | None = None) -> SimulationResult:
    """send_digits as the only action, so it starts at 0 (tones go to the caller)."""
    return simulate(Flow().send_digits(digits, pause_before_ms=pause))


def tone_times(result: SimulationResult) -> list[tuple[str, int]]:
    return [(t.char, t.at_ms) for t in result.tones]


def pin_flow(pause: int | None) -> Flow:
    return Flow("pin").transfer(PBX, fallback_url=BUSY).send_digits("1234#", pause_before_ms=pause)


class TestSendDigits:
    """Each character class, each pause character and pause_before_ms take their modelled time."""

    @pytest.mark.parametrize("char", list("0123456789*#ABCD"))
    def test_a_tone_is_100_ms_then_100_ms_of_silence(self, char: str) -> None:
        result = digits_alone(char)
        assert result.rows() == [("send_digits", 0, 200, "sent")]
        assert tone_times(result) == [(char, 0)]

    @pytest.mark.parametrize(("char", "ms"), [("w", 500), (",", 500), ("W", 1000)])
    def test_pause_characters_are_silence(self, char: str, ms: int) -> None:
        result = digits_alone(char)
        assert result.rows() == [("send_digits", 0, ms, "sent")]
        assert result.tones == ()

    def test_pauses_shift_the_tones_after_them(self) -> None:
        result = digits_alone("1w2W3,4")
        assert tone_times(result) == [("1", 0), ("2", 700), ("3", 1900), ("4", 2600)]
        assert result.rows() == [("send_digits", 0, 2800, "sent")]

    @pytest.mark.parametrize(
        ("pause", "end", "first"), [(None, 1000, 0), (0, 1000, 0), (60000, 61000, 60000)]
    )
    def test_pause_before_ms_delays_the_first_tone(
        self, pause: int | None, end: int, first: int
    ) -> None:
        result = digits_alone("1234#", pause)
        assert result.rows() == [("send_digits", 0, end, "sent")]
        assert tone_times(result)[0] == ("1", first)

    def test_the_vendor_example_takes_3000_ms(self) -> None:
        """send_digits("1234#", pause_before_ms=2000): 2000 + 5 x 200."""
        result = digits_alone("1234#", 2000)
        assert result.rows() == [("send_digits", 0, 3000, "sent")]
        assert tone_times(result) == [
            ("1", 2000),
            ("2", 2200),
            ("3", 2400),
            ("4", 2600),
            ("#", 2800),
        ]

    def test_fifty_digits(self) -> None:
        assert digits_alone("9" * 50).rows() == [("send_digits", 0, 10000, "sent")]

    def test_timing_is_a_setting(self) -> None:
        slow = Timing(tone_ms=150, tone_gap_ms=50, short_pause_ms=300, long_pause_ms=700)
        result = simulate(Flow().send_digits("1w2W3"), timing=slow)
        assert tone_times(result) == [("1", 0), ("2", 500), ("3", 1400)]
        assert result.rows() == [("send_digits", 0, 1600, "sent")]


class TestFarEndReadiness:
    """A tone that starts before the far end is ready is lost; at or after, it is heard."""

    @pytest.mark.parametrize(
        ("pause", "heard"), [(0, ""), (1000, "4#"), (1500, "1234#"), (2000, "1234#")]
    )
    def test_the_classic_bug(self, pause: int, heard: str) -> None:
        ivr = TestIVR(expect="1234#", ready_after_ms=1500)
        assert simulate(pin_flow(pause), far_end=ivr).far_end_digits == heard

    def test_one_millisecond_early_is_lost_and_on_time_is_heard(self) -> None:
        ivr = TestIVR(expect="1", ready_after_ms=1500, ring_ms=2000)
        early = simulate(Flow().transfer(PBX).send_digits("1", pause_before_ms=1499), far_end=ivr)
        on_time = simulate(Flow().transfer(PBX).send_digits("1", pause_before_ms=1500), far_end=ivr)
        assert [(t.at_ms, t.heard) for t in early.tones] == [(3499, False)]
        assert [(t.at_ms, t.heard) for t in on_time.tones] == [(3500, True)]

    def test_a_leading_w_is_a_pause_too(self) -> None:
        ivr = TestIVR(expect="1234#", ready_after_ms=1000)
        result = simulate(Flow().transfer(PBX).send_digits("WW1234#"), far_end=ivr)
        assert result.far_end_digits == "1234#"
        assert result.far_end_accepted

    def test_the_ivr_accepts_only_exactly_what_it_expects(self) -> None:
        ivr = TestIVR(expect="1234#", ready_after_ms=1500)
        late = simulate(pin_flow(1000), far_end=ivr)
        assert late.transfers[0].heard == "4#"
        assert late.transfers[0].accepted is False
        assert not late.far_end_accepted
        assert simulate(pin_flow(2000), far_end=ivr).transfers[0].accepted is True
        assert simulate(pin_flow(2000), far_end=TestIVR()).transfers[0].accepted is None


class TestPlay:
    """A play lasts its URL's duration (3000 ms unless set) times loop."""

    def test_default_duration(self) -> None:
        assert simulate(Flow().play(PROMPT)).rows() == [("play", 0, 3000, "played")]

    def test_loop_multiplies(self) -> None:
        assert simulate(Flow().play(PROMPT, loop=3)).rows() == [("play", 0, 9000, "played")]

    def test_duration_per_url(self) -> None:
        other = "https://media.example.com/other.wav"
        flow = Flow().play(PROMPT, loop=2).play(other)
        result = simulate(flow, audio_ms={PROMPT: 1200})
        assert result.rows() == [("play", 0, 2400, "played"), ("play", 2400, 5400, "played")]

    def test_default_is_a_setting(self) -> None:
        result = simulate(Flow().play(PROMPT), timing=Timing(play_ms=500))
        assert result.rows() == [("play", 0, 500, "played")]


def collect_with(
    caller: Caller,
    *,
    max_digits: int | None = None,
    timeout_ms: int | None = None,
    finish_on_key: str | None = None,
) -> SimulationResult:
    collect = Flow().collect(
        "pin", max_digits=max_digits, timeout_ms=timeout_ms, finish_on_key=finish_on_key
    )
    return simulate(collect.hangup(), caller=caller)


class TestCollect:
    """Input ends at max_digits, at the finishing key, or timeout_ms after the last key.

    A key press takes 200 ms and counts when it ends; it is collected when it starts at or
    after the collect's start and counts no later than the timeout, which restarts from each
    key that counts.
    """

    def test_ends_at_max_digits(self) -> None:
        result = collect_with(Caller.presses("1234", at_ms=1000), max_digits=3)
        assert result.rows()[0] == ("collect", 0, 1600, "max_digits")
        assert result.variables == {"pin": "123"}

    def test_ends_at_the_finishing_key_which_is_not_stored(self) -> None:
        result = collect_with(Caller.presses("12#", at_ms=1000))
        assert result.rows()[0] == ("collect", 0, 1600, "finish_key")
        assert result.variables == {"pin": "12"}

    def test_another_finishing_key(self) -> None:
        result = collect_with(Caller.presses("1#2*", at_ms=0), finish_on_key="*")
        assert result.rows()[0] == ("collect", 0, 800, "finish_key")
        assert result.variables == {"pin": "1#2"}

    def test_no_finishing_key_waits_for_the_timeout(self) -> None:
        result = collect_with(Caller.presses("1#", at_ms=1000), finish_on_key="")
        assert result.rows()[0] == ("collect", 0, 1400 + 5000, "timeout")
        assert result.variables == {"pin": "1#"}

    def test_no_key_times_out_with_an_empty_value(self) -> None:
        result = collect_with(Caller.silent())
        assert result.rows()[0] == ("collect", 0, 5000, "timeout")
        assert result.variables == {"pin": ""}

    def test_timeout_ms(self) -> None:
        result = collect_with(Caller.silent(), timeout_ms=1000)
        assert result.rows()[0] == ("collect", 0, 1000, "timeout")

    def test_the_timeout_restarts_after_each_key(self) -> None:
        # "1" counts at 1200; "2" counts at 3200, exactly 2000 later: still in time.
        # "3" would count at 5300, after the timeout at 5200.
        caller = (
            Caller.presses("1", at_ms=1000)
            .and_presses("2", at_ms=3000)
            .and_presses("3", at_ms=5100)
        )
        result = collect_with(caller, timeout_ms=2000)
        assert result.rows()[0] == ("collect", 0, 5200, "timeout")
        assert result.variables == {"pin": "12"}
        assert [(k.key, k.collected_into) for k in result.keys] == [
            ("1", "pin"),
            ("2", "pin"),
            ("3", None),
        ]

    def test_keys_pressed_before_the_collect_listens_are_not_kept(self) -> None:
        # One key during the prompt, one straddling the collect's start, one in time.
        caller = (
            Caller.presses("7", at_ms=1000)
            .and_presses("8", at_ms=2900)
            .and_presses("9", at_ms=3100)
        )
        flow = Flow().play(PROMPT).collect("pin", max_digits=1).hangup()
        result = simulate(flow, caller=caller)
        assert result.variables == {"pin": "9"}
        assert [(k.key, k.collected_into) for k in result.keys] == [
            ("7", None),
            ("8", None),
            ("9", "pin"),
        ]

    def test_keys_follow_one_another(self) -> None:
        """A key starts no earlier than the end of the key before it."""
        result = collect_with(
            Caller.presses("12", at_ms=0).and_presses("3", at_ms=100), max_digits=3
        )
        assert [(k.key, k.pressed_at_ms, k.counted_at_ms) for k in result.keys] == [
            ("1", 0, 200),
            ("2", 200, 400),
            ("3", 400, 600),
        ]

    def test_keys_can_be_spaced(self) -> None:
        result = collect_with(Caller.presses("12", at_ms=0, every_ms=1000), max_digits=2)
        assert [k.pressed_at_ms for k in result.keys] == [0, 1000]
        assert result.rows()[0] == ("collect", 0, 1200, "max_digits")


class TestTransferTiming:
    """A transfer rings the destination; what follows starts the moment it answers."""

    def test_answers_after_the_ring(self) -> None:
        result = simulate(Flow().transfer(PBX).play(PROMPT), far_end=TestIVR(ring_ms=700))
        assert result.rows() == [("transfer", 0, 700, "answered"), ("play", 700, 3700, "played")]
        assert result.transfers[0].answered_at_ms == 700

    def test_default_ring(self) -> None:
        result = simulate(Flow().transfer(PBX).hangup())
        assert result.rows()[0] == ("transfer", 0, 2000, "answered")

    def test_no_answer_waits_for_the_default_timeout(self) -> None:
        result = simulate(Flow().transfer(PBX), far_end=TestIVR.no_answer())
        assert result.rows() == [("transfer", 0, 30000, "no_answer")]

    def test_no_answer_waits_for_timeout_ms(self) -> None:
        result = simulate(Flow().transfer(PBX, timeout_ms=5000), far_end=TestIVR.no_answer())
        assert result.rows() == [("transfer", 0, 5000, "no_answer")]

    def test_an_answer_after_the_timeout_is_no_answer(self) -> None:
        flow = Flow().transfer(PBX, timeout_ms=5000)
        assert simulate(flow, far_end=TestIVR(ring_ms=5000)).rows()[0][3] == "answered"
        assert simulate(flow, far_end=TestIVR(ring_ms=5001)).rows() == [
            ("transfer", 0, 5000, "no_answer")
        ]

    def test_busy_and_failed_respond_after_their_ring(self) -> None:
        assert simulate(Flow().transfer(PBX), far_end=TestIVR.busy(ring_ms=900)).rows() == [
            ("transfer", 0, 900, "busy")
        ]
        assert simulate(Flow().transfer(PBX), far_end=TestIVR.failing()).rows() == [
            ("transfer", 0, 0, "failed")
        ]
