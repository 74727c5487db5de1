"""How a simulated call proceeds and ends: transfers, fallbacks, hang-ups, redirects, handlers."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from minivoice_flow import Flow, Play
from minivoice_flow.testing import (
    ANSWER_URL,
    Caller,
    CallRequest,
    Handler,
    KeyPress,
    SimulationError,
    TestIVR,
    Timing,
    simulate,
)
from minivoice_flow.testing._settings import MAX_REQUESTS_LIMIT
from minivoice_flow.testing._timing import MAX_MS, MAX_SIGNAL_MS

PBX = "+15551230002"
OTHER = "+15551239999"
PROMPT = "https://media.example.com/menu.wav"
SORRY = "https://media.example.com/sorry.wav"
BUSY = "https://app.example.com/ivr/busy"
NEXT = "https://app.example.com/ivr/next"

SORRY_FLOW = Flow("sorry").play(SORRY).hangup()


def completed_status(result: Any) -> str:
    """The status carried by the call.completed webhook."""
    (hook,) = [h for h in result.webhooks if h["event"] == "call.completed"]
    status: str = hook["call"]["status"]
    return status


class TestTransferNotConnected:
    """Busy, no answer and failure end the call with that status, or go to the fallback_url."""

    @pytest.mark.parametrize(
        ("ivr", "status"),
        [
            (TestIVR.busy(), "busy"),
            (TestIVR.no_answer(), "no_answer"),
            (TestIVR.failing(), "failed"),
        ],
    )
    def test_without_fallback_the_call_ends_with_that_status(
        self, ivr: TestIVR, status: str
    ) -> None:
        result = simulate(Flow().transfer(PBX).play(PROMPT), far_end=ivr)
        assert result.status == status
        assert result.end_reason == "transfer_not_connected"
        assert [a.kind for a in result.actions] == ["transfer"]  # the play never runs
        assert completed_status(result) == status

    @pytest.mark.parametrize("status", ["busy", "no_answer", "failed"])
    def test_with_fallback_the_app_is_asked_with_that_status(self, status: str) -> None:
        seen: list[CallRequest] = []

        def fallback(request: CallRequest) -> Flow:
            seen.append(request)
            return SORRY_FLOW

        ivr = {
            "busy": TestIVR.busy(),
            "no_answer": TestIVR.no_answer(),
            "failed": TestIVR.failing(),
        }
        flow = Flow().transfer(PBX, fallback_url=BUSY).play(PROMPT)
        result = simulate(flow, far_end=ivr[status], handlers={BUSY: fallback})
        assert [r.call["status"] for r in seen] == [status]
        assert seen[0].reason == "fallback"
        assert seen[0].url == BUSY
        assert [a.kind for a in result.actions] == ["transfer", "play", "hangup"]
        assert result.actions[1].url == BUSY
        assert result.status == "completed"

    def test_an_unlisted_destination_fails(self) -> None:
        result = simulate(Flow().transfer(OTHER), far_end={PBX: TestIVR()})
        assert result.status == "failed"
        assert result.transfers[0].outcome == "failed"


class TestFarEnd:
    """Before any transfer the far end is the caller; after one, the destination that answered."""

    def test_tones_before_a_transfer_go_to_the_caller(self) -> None:
        flow = Flow().send_digits("12").transfer(PBX).send_digits("3", pause_before_ms=1000)
        result = simulate(flow, far_end=TestIVR(expect="3"))
        assert [(t.char, t.to) for t in result.tones] == [
            ("1", "caller"),
            ("2", "caller"),
            ("3", PBX),
        ]
        assert result.far_end_digits == "3"

    def test_each_destination_hears_only_its_own_tones(self) -> None:
        flow = (
            Flow()
            .transfer(PBX)
            .send_digits("11", pause_before_ms=1000)
            .transfer(OTHER)
            .send_digits("22", pause_before_ms=1000)
        )
        far = {PBX: TestIVR(expect="11"), OTHER: TestIVR(expect="22", ring_ms=100)}
        result = simulate(flow, far_end=far)
        assert [(t.to, t.heard) for t in result.transfers] == [(PBX, "11"), (OTHER, "22")]
        assert result.far_end_digits == "1122"
        assert [t.accepted for t in result.transfers] == [True, True]

    def test_a_failed_second_transfer_sends_later_tones_to_the_caller(self) -> None:
        flow = Flow().transfer(PBX).transfer(OTHER, fallback_url=BUSY)
        after = Flow("after").send_digits("9").hangup()
        result = simulate(flow, far_end={PBX: TestIVR()}, handlers={BUSY: after})
        assert [(t.char, t.to) for t in result.tones] == [("9", "caller")]


class TestCallerHangsUp:
    """A hang-up at H cuts what runs at H: what ends by H completes, nothing starts at H."""

    def test_during_a_play(self) -> None:
        result = simulate(Flow("menu").play(PROMPT).hangup(), caller=Caller.hangs_up(at_ms=1200))
        assert result.rows() == [("play", 0, 1200, "caller_hung_up")]
        assert result.status == "completed"
        assert result.end_reason == "caller_hung_up"
        assert result.ended_at_ms == 1200
        assert result.last_step is not None
        assert result.last_step.step == "menu /actions/0/play"
        assert result.webhooks[-1]["created_at"] == "2026-05-29T12:10:01.200Z"

    def test_during_a_collect_nothing_is_stored(self) -> None:
        caller = Caller.presses("12", at_ms=0).and_hangs_up(at_ms=1000)
        result = simulate(Flow().collect("pin").redirect(NEXT), caller=caller)
        assert result.rows() == [("collect", 0, 1000, "caller_hung_up")]
        assert result.variables == {}
        assert result.requests[-1].reason == "answer"  # the redirect was never made

    def test_during_send_digits_later_tones_are_not_sent(self) -> None:
        result = simulate(Flow().send_digits("1234#"), caller=Caller.hangs_up(at_ms=400))
        assert [t.char for t in result.tones] == ["1", "2"]
        assert result.rows() == [("send_digits", 0, 400, "caller_hung_up")]

    def test_while_the_transfer_rings(self) -> None:
        result = simulate(Flow().transfer(PBX).send_digits("1"), caller=Caller.hangs_up(at_ms=500))
        assert result.rows() == [("transfer", 0, 500, "caller_hung_up")]
        assert result.transfers[0].outcome == "caller_hung_up"
        assert result.transfers[0].answered_at_ms is None
        assert result.status == "completed"

    def test_at_the_end_of_an_action_it_completes_and_nothing_follows(self) -> None:
        flow = Flow().play(PROMPT).play(SORRY)
        result = simulate(flow, caller=Caller.hangs_up(at_ms=3000))
        assert result.rows() == [("play", 0, 3000, "played")]
        assert result.end_reason == "caller_hung_up"

    def test_no_fallback_request_after_hanging_up(self) -> None:
        flow = Flow().transfer(PBX, fallback_url=BUSY)
        result = simulate(
            flow,
            far_end=TestIVR.busy(ring_ms=1000),
            caller=Caller.hangs_up(at_ms=1000),
            handlers={BUSY: SORRY_FLOW},
        )
        assert [r.reason for r in result.requests] == ["answer"]
        assert result.status == "completed"

    def test_at_once(self) -> None:
        result = simulate(Flow().play(PROMPT), caller=Caller.hangs_up(at_ms=0))
        assert result.actions == ()
        assert result.last_step is None
        assert result.status == "completed"


class TestRedirects:
    """Redirects and fallbacks are followed through handlers; the response replaces the rest."""

    def test_a_callable_gets_the_call_and_variables(self) -> None:
        seen: list[CallRequest] = []

        def choice(request: CallRequest) -> Flow:
            seen.append(request)
            return Flow("chosen").play(f"https://media.example.com/{request.variables['pick']}.wav")

        flow = Flow("menu").play(PROMPT).collect("pick", max_digits=1).redirect(NEXT)
        result = simulate(flow, caller=Caller.answers_prompts("2"), handlers={NEXT: choice})
        (request,) = seen
        assert request.method == "POST"
        assert request.at_ms == 4200
        assert request.body == {
            "call": {
                "id": "call_123",
                "customer_id": "cust_123",
                "application_id": "app_123",
                "status": "in_progress",
                "direction": "inbound",
                "from": "+15551230001",
                "to": "+15551230002",
            },
            "variables": {"pick": "2"},
            "data": {},
        }
        assert [(a.flow, a.kind) for a in result.actions][-1] == ("chosen", "play")
        assert result.actions[-1].action == Play("https://media.example.com/2.wav")
        assert result.status == "completed"

    def test_the_method_is_passed_on(self) -> None:
        methods: list[str] = []

        def record(request: CallRequest) -> Flow:
            methods.append(request.method)
            return SORRY_FLOW

        simulate(Flow().redirect(NEXT, method="GET"), handlers={NEXT: record})
        simulate(Flow().redirect(NEXT), handlers={NEXT: record})
        assert methods == ["GET", "POST"]

    @pytest.mark.parametrize(
        "response",
        [
            SORRY_FLOW.to_json(),
            SORRY_FLOW.to_json().encode(),
            SORRY_FLOW.to_dict(),
            SORRY_FLOW,
        ],
        ids=["text", "bytes", "dict", "flow"],
    )
    def test_any_response_shape(self, response: Any) -> None:
        result = simulate(lambda request: response)
        assert [a.kind for a in result.actions] == ["play", "hangup"]
        assert result.requests[0].response_text == SORRY_FLOW.to_json()

    def test_a_flow_keeps_its_name_in_the_steps(self) -> None:
        result = simulate(Flow().redirect(NEXT), handlers={NEXT: SORRY_FLOW})
        assert result.last_step is not None
        assert result.last_step.step == "sorry /actions/1/hangup"
        text = SORRY_FLOW.to_json()
        unnamed = simulate(Flow().redirect(NEXT), handlers={NEXT: lambda request: text})
        assert unnamed.last_step is not None
        assert unnamed.last_step.step == f"{NEXT} /actions/1/hangup"

    def test_a_key_ending_in_a_slash_serves_every_url_under_it(self) -> None:
        urls: list[str] = []

        def router(request: CallRequest) -> Flow:
            urls.append(request.url)
            return SORRY_FLOW

        handlers: dict[str, Handler] = {
            "https://app.example.com/": router,
            NEXT: Flow().redirect(BUSY),
        }
        simulate(Flow().redirect(NEXT), handlers=handlers)
        assert urls == [BUSY]  # the exact key won for NEXT, the prefix served BUSY

    def test_the_answer_request(self) -> None:
        result = simulate(SORRY_FLOW)
        (request,) = result.requests
        assert (request.reason, request.method, request.url) == ("answer", "POST", ANSWER_URL)
        assert (
            simulate(SORRY_FLOW, answer_url="https://x.example/a").requests[0].url
            == "https://x.example/a"
        )


class TestUnfollowedAndRejected:
    """What MiniVoice cannot follow or read ends the simulated call, with the reason recorded."""

    def test_a_redirect_with_no_handler_stops_in_progress(self) -> None:
        result = simulate(Flow().play(PROMPT).redirect(NEXT))
        assert result.status == "in_progress"
        assert result.end_reason == "not_followed"
        assert result.not_followed == NEXT
        assert result.rows()[-1] == ("redirect", 3000, 3000, "not_followed")
        assert [h["event"] for h in result.webhooks] == ["call.initiated", "call.answered"]

    def test_a_fallback_with_no_handler_stops_in_progress(self) -> None:
        result = simulate(Flow().transfer(PBX, fallback_url=BUSY), far_end=TestIVR.busy())
        assert (result.status, result.not_followed) == ("in_progress", BUSY)

    def test_an_invalid_response_fails_the_call_with_its_diagnostics(self) -> None:
        bad = json.dumps({"actions": [{"play": {"url": "menu.wav"}}]})
        result = simulate(Flow().redirect(NEXT), handlers={NEXT: lambda request: bad})
        assert result.status == "failed"
        assert result.end_reason == "response_rejected"
        assert [d.code for d in result.diagnostics] == ["invalid_value"]
        assert result.diagnostics[0].path == "/actions/0/play/url"
        assert result.rows() == [("redirect", 0, 0, "rejected")]
        assert completed_status(result) == "failed"

    def test_a_flow_with_errors_is_rejected_too(self) -> None:
        result = simulate(lambda request: Flow())
        assert result.status == "failed"
        assert [d.code for d in result.diagnostics] == ["empty_actions"]

    def test_warnings_are_kept_on_the_request(self) -> None:
        result = simulate(Flow().transfer(PBX).hangup())
        assert [d.code for d in result.requests[0].diagnostics] == ["transfer_without_fallback"]
        assert result.diagnostics == ()

    def test_a_redirect_loop_stops_at_the_request_limit(self) -> None:
        loop = Flow("loop").play(PROMPT).redirect(NEXT)
        result = simulate(loop, handlers={NEXT: loop}, max_requests=5)
        assert result.end_reason == "request_limit"
        assert result.status == "in_progress"
        assert len([r for r in result.requests if r.outcome == "ok"]) == 5
        assert result.ended_at_ms == 5 * 3000

    def test_an_exception_in_a_handler_reaches_the_test(self) -> None:
        def broken(request: CallRequest) -> Flow:
            raise RuntimeError("bug in the app")

        with pytest.raises(RuntimeError, match="bug in the app"):
            simulate(Flow().redirect(NEXT), handlers={NEXT: broken})


class TestEndOfCall:
    """How a call ends when nothing goes wrong, and what it reports."""

    def test_the_actions_run_out(self) -> None:
        result = simulate(Flow().play(PROMPT))
        assert (result.status, result.end_reason, result.ended_at_ms) == (
            "completed",
            "actions_done",
            3000,
        )

    def test_the_flow_hangs_up(self) -> None:
        result = simulate(Flow().play(PROMPT).hangup())
        assert result.rows()[-1] == ("hangup", 3000, 3000, "hung_up")
        assert result.end_reason == "hangup_action"

    def test_outbound_swaps_from_and_to(self) -> None:
        result = simulate(Flow(direction="outbound").hangup(), caller=Caller(number="+15557654321"))
        call = result.webhooks[0]["call"]
        assert (call["direction"], call["from"], call["to"]) == (
            "outbound",
            "+15551230002",
            "+15557654321",
        )
        assert simulate(Flow().hangup(), direction="outbound").direction == "outbound"

    def test_the_same_call_gives_the_same_result(self) -> None:
        flow = Flow("menu").play(PROMPT).collect("pick").transfer(PBX).send_digits("1w2")
        caller = Caller.answers_prompts("12#")
        first = simulate(flow, caller=caller, far_end=TestIVR(ready_after_ms=300))
        again = simulate(flow, caller=caller, far_end=TestIVR(ready_after_ms=300))
        assert first == again
        assert first.timeline() == again.timeline()
        assert first.webhooks == again.webhooks


class TestArguments:
    """Wrong arguments fail at once, naming the argument and the value."""

    def test_an_application_that_is_not_on_loopback(self) -> None:
        with pytest.raises(ValueError, match="only makes HTTP requests to this machine"):
            simulate("https://app.example.com/answer")

    def test_a_handler_that_is_not_on_loopback(self) -> None:
        with pytest.raises(ValueError, match=r"handlers\['https://app.example.com/ivr/next'\]"):
            simulate(SORRY_FLOW, handlers={NEXT: "https://elsewhere.example/next"})

    def test_a_handler_of_the_wrong_type(self) -> None:
        with pytest.raises(TypeError, match="must be a Flow, a callable"):
            simulate(SORRY_FLOW, handlers={NEXT: 42})  # type: ignore[dict-item]

    def test_a_far_end_of_the_wrong_type(self) -> None:
        with pytest.raises(TypeError, match="far_end must be a TestIVR"):
            simulate(SORRY_FLOW, far_end={PBX: "answers"})  # type: ignore[dict-item]

    def test_a_bad_play_duration(self) -> None:
        with pytest.raises(ValueError, match=r"audio_ms\['https://media.example.com/menu.wav'\]"):
            simulate(SORRY_FLOW, audio_ms={PROMPT: -1})

    def test_a_bad_request_limit(self) -> None:
        with pytest.raises(
            SimulationError, match="max_requests must be a whole number from 1 to 1000; got 0"
        ):
            simulate(SORRY_FLOW, max_requests=0)

    def test_a_request_limit_of_the_wrong_type(self) -> None:
        with pytest.raises(
            TypeError, match="max_requests must be a whole number from 1 to 1000; got true"
        ):
            simulate(SORRY_FLOW, max_requests=True)

    def test_an_empty_call_id(self) -> None:
        with pytest.raises(ValueError, match='call_id must be a non-empty string; got ""'):
            simulate(SORRY_FLOW, call_id="")


HUGE = 10**18


class TestNumbersOutOfRange:
    """Huge, negative or non-whole numbers fail at once with the simulator's own error."""

    @pytest.mark.parametrize(
        ("make", "named"),
        [
            (lambda: simulate(SORRY_FLOW, audio_ms={PROMPT: HUGE}), "audio_ms["),
            (lambda: simulate(SORRY_FLOW, audio_ms={PROMPT: MAX_MS + 1}), "audio_ms["),
            (lambda: simulate(SORRY_FLOW, audio_ms={PROMPT: 10**5000}), "audio_ms["),
            (lambda: simulate(SORRY_FLOW, audio_ms={PROMPT: -(10**5000)}), "audio_ms["),
            (lambda: simulate(SORRY_FLOW, audio_ms={PROMPT: 1.5}), "audio_ms["),  # type: ignore[dict-item]
            (lambda: simulate(SORRY_FLOW, audio_ms={PROMPT: "3000"}), "audio_ms["),  # type: ignore[dict-item]
            (lambda: simulate(SORRY_FLOW, audio_ms=[1]), "audio_ms"),  # type: ignore[arg-type]
            (lambda: simulate(SORRY_FLOW, max_requests=HUGE), "max_requests"),
            (lambda: simulate(SORRY_FLOW, max_requests=10**5000), "max_requests"),
            (lambda: simulate(SORRY_FLOW, max_requests=MAX_REQUESTS_LIMIT + 1), "max_requests"),
            (lambda: simulate(SORRY_FLOW, max_requests=-HUGE), "max_requests"),
            (lambda: Timing(tone_ms=HUGE), "Timing.tone_ms"),
            (lambda: Timing(tone_gap_ms=MAX_SIGNAL_MS + 1), "Timing.tone_gap_ms"),
            (lambda: Timing(short_pause_ms=-1), "Timing.short_pause_ms"),
            (lambda: Timing(long_pause_ms=HUGE), "Timing.long_pause_ms"),
            (lambda: Timing(key_press_ms=HUGE), "Timing.key_press_ms"),
            (lambda: Timing(play_ms=HUGE), "Timing.play_ms"),
            (lambda: TestIVR(ring_ms=HUGE), "TestIVR.ring_ms"),
            (lambda: TestIVR(ready_after_ms=HUGE), "TestIVR.ready_after_ms"),
            (lambda: TestIVR.busy(ring_ms=HUGE), "TestIVR.ring_ms"),
            (lambda: Caller.hangs_up(at_ms=HUGE), "Caller.hangup_at_ms"),
            (lambda: Caller.silent().and_hangs_up(at_ms=-1), "Caller.hangup_at_ms"),
            (lambda: Caller.presses("1", at_ms=HUGE), "Caller.presses at_ms"),
            (lambda: Caller.presses("12", at_ms=0, every_ms=HUGE), "Caller.presses every_ms"),
            (lambda: Caller.presses("12", at_ms=0, every_ms=-1), "Caller.presses every_ms"),
            (lambda: Caller.presses("12", at_ms=MAX_MS, every_ms=1), "KeyPress.at_ms"),
            (lambda: Caller.answers_prompts("1", after_ms=HUGE), "Caller.reply_after_ms"),
            (lambda: KeyPress("1", HUGE), "KeyPress.at_ms"),
            (lambda: Caller(keys=[KeyPress("1", 0), 5]), "Caller.keys"),  # type: ignore[list-item]
        ],
    )
    def test_refused_with_a_message_naming_the_argument(
        self, make: Callable[[], object], named: str
    ) -> None:
        """Each bad number is a SimulationError (a ValueError) naming what was given wrong."""
        with pytest.raises(SimulationError) as info:
            make()
        assert named in str(info.value)
        assert isinstance(info.value, ValueError)

    @pytest.mark.parametrize(
        ("direction", "is_type_error"), [("Inbound", False), ("", False), (1, True)]
    )
    def test_a_bad_direction(self, direction: Any, is_type_error: bool) -> None:
        """A direction other than "inbound", "outbound" or None is refused, as validate() does."""
        with pytest.raises(
            SimulationError, match='direction must be "inbound", "outbound"'
        ) as info:
            simulate(SORRY_FLOW, direction=direction)
        assert isinstance(info.value, TypeError) is is_type_error

    def test_the_largest_settings_give_a_time_a_webhook_can_show(self) -> None:
        """Every setting at its maximum, over the most requests, still ends in a webhook."""
        loop = Flow("loop").then([Play(PROMPT, loop=10)] * 99).redirect(NEXT)
        answered = 0

        def app(request: CallRequest) -> Flow:
            nonlocal answered
            answered += 1
            return loop if answered < MAX_REQUESTS_LIMIT else Flow().hangup()

        result = simulate(
            app,
            handlers={NEXT: app},
            audio_ms={PROMPT: MAX_MS},
            max_requests=MAX_REQUESTS_LIMIT,
            timing=Timing(tone_ms=MAX_SIGNAL_MS, key_press_ms=MAX_SIGNAL_MS, play_ms=MAX_MS),
        )
        assert (result.status, result.end_reason) == ("completed", "hangup_action")
        assert result.ended_at_ms == (MAX_REQUESTS_LIMIT - 1) * 99 * 10 * MAX_MS
        assert result.webhooks[-1]["created_at"].startswith("47")
