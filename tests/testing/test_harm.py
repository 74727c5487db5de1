"""Each ordering-rule warning, shown doing the harm it warns about in a simulated call.

For every warning code there is a flow that earns it, a call that goes wrong because of it,
and the corrected flow, which is quiet and whose call goes right.
"""

from __future__ import annotations

from minivoice_flow import Flow
from minivoice_flow._codes import CODES
from minivoice_flow.testing import Caller, CallRequest, TestIVR, simulate

MENU = "https://media.example.com/menu.wav"
THANKS = "https://media.example.com/thanks.wav"
SORRY = "https://media.example.com/sorry.wav"
CHOICE = "https://app.example.com/ivr/choice"
BUSY = "https://app.example.com/ivr/busy"
SALES = "+15551230010"
SUPPORT = "+15551230020"
PBX = "+15551230002"

#: The caller presses 2 (support) once told what to press.
PRESSES_TWO = Caller.answers_prompts("2")


def codes(flow: Flow) -> list[str]:
    return list(flow.check().codes)


class Recorder:
    """A handler that remembers every request and answers with a fixed flow."""

    def __init__(self, flow: Flow) -> None:
        self.flow = flow
        self.requests: list[CallRequest] = []

    def __call__(self, request: CallRequest) -> Flow:
        self.requests.append(request)
        return self.flow


def test_every_warning_rule_is_shown_here() -> None:
    """A new warning rule needs a class here too."""
    warnings = {c.code for c in CODES.values() if c.kind == "rule" and c.severity == "warning"}
    shown = {
        name.removeprefix("Test").lower()
        for name in globals()
        if name.startswith("Test") and name not in ("TestIVR",)
    }
    assert {code.replace("_", "") for code in warnings} == shown


class TestCollectWithoutPrompt:
    """An unprompted collect: a caller who waits to be told what to press presses nothing."""

    def test_harm(self) -> None:
        flow = Flow("menu").collect("pick", max_digits=1).redirect(CHOICE)
        assert "collect_without_prompt" in codes(flow)
        app = Recorder(Flow().play(THANKS))
        result = simulate(flow, caller=PRESSES_TWO, handlers={CHOICE: app})
        assert app.requests[0].variables == {"pick": ""}
        assert result.keys == ()

    def test_fixed(self) -> None:
        flow = Flow("menu").play(MENU).collect("pick", max_digits=1).redirect(CHOICE)
        assert "collect_without_prompt" not in codes(flow)
        app = Recorder(Flow().play(THANKS))
        simulate(flow, caller=PRESSES_TWO, handlers={CHOICE: app})
        assert app.requests[0].variables == {"pick": "2"}


class TestInputNotForwarded:
    """Digits collected with no redirect after them never reach the app while the call lasts."""

    def test_harm(self) -> None:
        flow = Flow("menu").play(MENU).collect("pick", max_digits=1).play(THANKS).hangup()
        assert "input_not_forwarded" in codes(flow)
        result = simulate(flow, caller=PRESSES_TWO)
        assert result.variables == {"pick": "2"}  # MiniVoice has them ...
        assert [r.body["variables"] for r in result.requests] == [{}]  # ... the app never did

    def test_fixed(self) -> None:
        flow = Flow("menu").play(MENU).collect("pick", max_digits=1).redirect(CHOICE)
        assert "input_not_forwarded" not in codes(flow)
        app = Recorder(Flow().play(THANKS))
        result = simulate(flow, caller=PRESSES_TWO, handlers={CHOICE: app})
        assert [r.body["variables"] for r in result.requests] == [{}, {"pick": "2"}]


class TestTransferBeforeDecision:
    """A transfer fixed before the input was seen goes to the same place whatever is pressed."""

    def test_harm(self) -> None:
        flow = (
            Flow("menu").play(MENU).collect("pick", max_digits=1).transfer(SALES, fallback_url=BUSY)
        )
        assert "transfer_before_decision" in codes(flow)
        result = simulate(flow, caller=PRESSES_TWO)
        assert result.variables == {"pick": "2"}  # the caller asked for support ...
        assert [t.to for t in result.transfers] == [SALES]  # ... and reached sales

    def test_fixed(self) -> None:
        flow = Flow("menu").play(MENU).collect("pick", max_digits=1).redirect(CHOICE)
        assert "transfer_before_decision" not in codes(flow)

        def route(request: CallRequest) -> Flow:
            to = SUPPORT if request.variables["pick"] == "2" else SALES
            return Flow("route").transfer(to, fallback_url=BUSY)

        result = simulate(flow, caller=PRESSES_TWO, handlers={CHOICE: route})
        assert [t.to for t in result.transfers] == [SUPPORT]


class TestTransferWithoutFallback:
    """A busy destination with no fallback_url drops the caller with nothing said."""

    def test_harm(self) -> None:
        flow = Flow("connect").transfer(PBX).play(THANKS)
        assert "transfer_without_fallback" in codes(flow)
        result = simulate(flow, far_end=TestIVR.busy())
        assert result.status == "busy"
        assert [a.kind for a in result.actions] == ["transfer"]

    def test_fixed(self) -> None:
        flow = Flow("connect").transfer(PBX, fallback_url=BUSY).play(THANKS)
        assert "transfer_without_fallback" not in codes(flow)
        sorry = Flow("sorry").play(SORRY).hangup()
        result = simulate(flow, far_end=TestIVR.busy(), handlers={BUSY: sorry})
        assert result.status == "completed"
        assert [(a.flow, a.kind) for a in result.actions][1:] == [
            ("sorry", "play"),
            ("sorry", "hangup"),
        ]


class TestDigitsTooEarly:
    """Digits sent the moment the transfer answers reach an IVR that is not listening yet."""

    IVR = TestIVR(expect="1234#", ready_after_ms=1500)

    def test_harm(self) -> None:
        flow = Flow("pin").transfer(PBX, fallback_url=BUSY).send_digits("1234#")
        assert "digits_too_early" in codes(flow)
        result = simulate(flow, far_end=self.IVR)
        assert result.far_end_digits == ""
        assert [t.heard for t in result.tones] == [False] * 5
        assert not result.far_end_accepted

    def test_fixed(self) -> None:
        flow = (
            Flow("pin").transfer(PBX, fallback_url=BUSY).send_digits("1234#", pause_before_ms=2000)
        )
        assert "digits_too_early" not in codes(flow)
        result = simulate(flow, far_end=self.IVR)
        assert result.far_end_digits == "1234#"
        assert result.far_end_accepted


class TestDigitsToCaller:
    """In an inbound call, digits sent before the transfer go to the caller, not the IVR."""

    IVR = TestIVR(expect="1234#", ready_after_ms=1500)

    def test_harm(self) -> None:
        flow = (
            Flow("pin", direction="inbound").send_digits("1234#").transfer(PBX, fallback_url=BUSY)
        )
        assert "digits_to_caller" in codes(flow)
        result = simulate(flow, far_end=self.IVR)
        assert {t.to for t in result.tones} == {"caller"}
        assert result.far_end_digits == ""
        assert not result.far_end_accepted

    def test_fixed(self) -> None:
        flow = (
            Flow("pin", direction="inbound")
            .transfer(PBX, fallback_url=BUSY)
            .send_digits("1234#", pause_before_ms=2000)
        )
        assert "digits_to_caller" not in codes(flow)
        result = simulate(flow, far_end=self.IVR)
        assert result.far_end_digits == "1234#"
