"""Every ordering rule, firing and not firing, for built flows and for parsed JSON alike."""

from __future__ import annotations

import json

import pytest

from minivoice_flow import Direction, Flow, FlowValidationError, validate
from minivoice_flow._actions import CATALOGUE_BY_KIND
from minivoice_flow._codes import CODES
from minivoice_flow._rules import RULES
from tests.cases import payload_of

PROMPT = "https://media.example.com/menu.wav"
NEXT = "https://app.example.com/ivr/next"
BUSY = "https://app.example.com/ivr/busy"
URL = "https://app.example.com/ivr/step"
PBX = "+15551230002"


def found(flow: Flow) -> list[tuple[str, str]]:
    """(code, path) of every diagnostic; the same for the Flow and for its JSON."""
    from_flow = [(d.code, d.path) for d in flow.check().diagnostics]
    from_json = [
        (d.code, d.path)
        for d in validate(payload_of(flow.actions), direction=flow.direction).diagnostics
    ]
    assert from_flow == from_json
    return from_flow


def codes(flow: Flow) -> list[str]:
    return [code for code, _ in found(flow)]


class TestEmptyActions:
    def test_fires_on_empty_flow(self) -> None:
        assert found(Flow()) == [("empty_actions", "/actions")]

    def test_emitting_raises(self) -> None:
        with pytest.raises(FlowValidationError) as info:
            Flow("x").to_json()
        assert [d.code for d in info.value.diagnostics] == ["empty_actions"]
        assert "flow 'x' is not valid" in str(info.value)

    def test_quiet_with_one_action(self) -> None:
        assert found(Flow().hangup()) == []


class TestTooManyActions:
    def test_fires_past_100(self) -> None:
        flow = Flow()
        for _ in range(101):
            flow = flow.play(PROMPT)
        assert found(flow) == [("too_many_actions", "/actions")]

    def test_quiet_at_100(self) -> None:
        flow = Flow()
        for _ in range(99):
            flow = flow.play(PROMPT)
        assert found(flow.hangup()) == []


class TestUnreachable:
    def test_every_action_after_hangup(self) -> None:
        flow = Flow().hangup().play(PROMPT).hangup()
        assert found(flow) == [
            ("unreachable_action", "/actions/1/play"),
            ("unreachable_action", "/actions/2/hangup"),
        ]

    def test_after_redirect(self) -> None:
        flow = Flow().redirect(NEXT).play(PROMPT)
        assert found(flow) == [("unreachable_action", "/actions/1/play")]

    def test_message_says_what_to_change(self) -> None:
        (diagnostic,) = Flow().hangup().play(PROMPT).check().diagnostics
        assert "after hangup at /actions/0" in diagnostic.message
        assert "remove it or move it" in diagnostic.message

    def test_warning_rules_ignore_unreachable_actions(self) -> None:
        flow = Flow().hangup().collect("x").transfer(PBX)
        assert codes(flow) == ["unreachable_action", "unreachable_action"]

    def test_terminal_last_is_fine(self) -> None:
        assert found(Flow().play(PROMPT).redirect(NEXT)) == []


class TestCollectWithoutPrompt:
    def test_fires_with_no_play(self) -> None:
        flow = Flow().collect("choice").redirect(NEXT)
        assert found(flow) == [("collect_without_prompt", "/actions/0/collect")]

    def test_fires_when_play_was_before_previous_collect(self) -> None:
        flow = Flow().play(PROMPT).collect("a").collect("b").redirect(NEXT)
        assert found(flow) == [("collect_without_prompt", "/actions/2/collect")]

    def test_quiet_with_prompt_before_each(self) -> None:
        flow = Flow().play(PROMPT).collect("a").play(PROMPT).collect("b").redirect(NEXT)
        assert found(flow) == []

    def test_is_a_warning(self) -> None:
        report = Flow().collect("choice").redirect(NEXT).check()
        assert report.ok
        assert [d.severity for d in report.diagnostics] == ["warning"]


class TestInputNotForwarded:
    def test_fires_without_redirect(self) -> None:
        flow = Flow().play(PROMPT).collect("choice").hangup()
        assert found(flow) == [("input_not_forwarded", "/actions/1/collect")]

    def test_fires_at_end_of_array(self) -> None:
        flow = Flow().play(PROMPT).collect("choice")
        assert found(flow) == [("input_not_forwarded", "/actions/1/collect")]

    def test_quiet_with_later_redirect(self) -> None:
        flow = Flow().play(PROMPT).collect("choice").play(PROMPT).redirect(NEXT)
        assert found(flow) == []

    def test_redirect_after_unreachable_point_does_not_count(self) -> None:
        flow = Flow().play(PROMPT).collect("choice").hangup().redirect(NEXT)
        assert codes(flow) == ["input_not_forwarded", "unreachable_action"]


class TestTransferBeforeDecision:
    def test_fires_after_collect(self) -> None:
        flow = Flow().play(PROMPT).collect("choice").transfer(PBX, fallback_url=BUSY)
        assert found(flow) == [
            ("input_not_forwarded", "/actions/1/collect"),
            ("transfer_before_decision", "/actions/2/transfer"),
        ]

    def test_quiet_when_transfer_comes_first(self) -> None:
        flow = Flow().transfer(PBX, fallback_url=BUSY).play(PROMPT).collect("x").redirect(NEXT)
        assert found(flow) == []


class TestTransferWithoutFallback:
    def test_fires_without_fallback_url(self) -> None:
        assert found(Flow().transfer(PBX)) == [("transfer_without_fallback", "/actions/0/transfer")]

    def test_quiet_with_fallback_url(self) -> None:
        assert found(Flow().transfer(PBX, fallback_url=BUSY)) == []

    @pytest.mark.parametrize("bad", [None, 5, "", "ftp://x", [], {}], ids=repr)
    def test_a_bad_fallback_url_counts_as_set(self, bad: object) -> None:
        """A fallback_url given with a bad value (null too) is its own error, not also unset."""
        payload = {"actions": [{"transfer": {"to": PBX, "fallback_url": bad}}]}
        for given in (payload, json.dumps(payload), json.dumps(payload, indent=1).encode()):
            report = validate(given)
            assert len(report.errors) == 1
            assert report.codes == (report.errors[0].code,)
            assert report.errors[0].path == "/actions/0/transfer/fallback_url"


class TestDigitsTooEarly:
    def test_fires_with_no_pause(self) -> None:
        flow = Flow().transfer(PBX, fallback_url=BUSY).send_digits("1234#")
        assert found(flow) == [("digits_too_early", "/actions/1/send_digits")]

    def test_fires_with_zero_pause(self) -> None:
        flow = Flow().transfer(PBX, fallback_url=BUSY).send_digits("1234#", pause_before_ms=0)
        assert codes(flow) == ["digits_too_early"]

    @pytest.mark.parametrize("digits", ["w1234#", "W1234#", ",1234#"])
    def test_quiet_with_leading_wait(self, digits: str) -> None:
        assert found(Flow().transfer(PBX, fallback_url=BUSY).send_digits(digits)) == []

    def test_quiet_with_pause(self) -> None:
        flow = Flow().transfer(PBX, fallback_url=BUSY).send_digits("1234#", pause_before_ms=1)
        assert found(flow) == []

    def test_quiet_when_not_directly_after(self) -> None:
        flow = Flow().transfer(PBX, fallback_url=BUSY).play(PROMPT).send_digits("1234#")
        assert found(flow) == []

    def test_a_bad_pause_counts_as_set(self) -> None:
        payload = {
            "actions": [
                {"transfer": {"to": PBX, "fallback_url": BUSY}},
                {"send_digits": {"digits": "1", "pause_before_ms": "2000"}},
            ]
        }
        assert validate(payload).codes == ("invalid_type",)

    @pytest.mark.parametrize("bad", [None, "2000", True, -1, 1.5, []], ids=repr)
    def test_a_bad_pause_of_any_kind_counts_as_set(self, bad: object) -> None:
        """A pause_before_ms given with any bad value, null included, silences the rule."""
        payload = {
            "actions": [
                {"transfer": {"to": PBX, "fallback_url": BUSY}},
                {"send_digits": {"digits": "1", "pause_before_ms": bad}},
            ]
        }
        for given in (payload, json.dumps(payload)):
            report = validate(given)
            assert [d.path for d in report.diagnostics] == [
                "/actions/1/send_digits/pause_before_ms"
            ]

    def test_a_bad_transfer_destination_is_shown_as_invalid(self) -> None:
        """A rule message quoting a field given as null says it is invalid, not unset."""
        payload = {"actions": [{"play": {"url": PROMPT}}, {"collect": {"variable": None}}]}
        payload["actions"].append({"transfer": {"to": None, "fallback_url": BUSY}})
        report = validate(payload)
        [before] = [d for d in report.diagnostics if d.code == "transfer_before_decision"]
        assert "(an invalid value)" in before.message

    def test_a_zero_float_pause_is_no_pause(self) -> None:
        text = (
            '{"actions":[{"transfer":{"to":"+15551230002","fallback_url":"https://a.example/b"}},'
            '{"send_digits":{"digits":"1","pause_before_ms":0.0}}]}'
        )
        assert validate(text).codes == ("digits_too_early",)


class TestDigitsToCaller:
    @pytest.mark.parametrize("direction", [None, "outbound"])
    def test_quiet_unless_inbound(self, direction: Direction | None) -> None:
        assert found(Flow(direction=direction).send_digits("1")) == []

    def test_fires_inbound_before_transfer(self) -> None:
        flow = Flow(direction="inbound").send_digits("1")
        assert found(flow) == [("digits_to_caller", "/actions/0/send_digits")]

    def test_quiet_inbound_after_transfer(self) -> None:
        flow = Flow(direction="inbound").transfer(PBX, fallback_url=BUSY).send_digits("w1")
        assert found(flow) == []


class TestOrderAndStrictness:
    def test_document_order(self) -> None:
        flow = Flow().collect("a").transfer(PBX).send_digits("1").hangup().play(PROMPT)
        assert found(flow) == [
            ("collect_without_prompt", "/actions/0/collect"),
            ("input_not_forwarded", "/actions/0/collect"),
            ("transfer_before_decision", "/actions/1/transfer"),
            ("transfer_without_fallback", "/actions/1/transfer"),
            ("digits_too_early", "/actions/2/send_digits"),
            ("unreachable_action", "/actions/4/play"),
        ]

    def test_warnings_emit_unless_strict(self) -> None:
        flow = Flow("t").transfer(PBX)
        assert flow.to_json() == '{"actions":[{"transfer":{"to":"+15551230002"}}]}'
        with pytest.raises(FlowValidationError) as info:
            flow.to_json(strict=True)
        assert info.value.diagnostics[0].severity == "warning"  # strict does not relabel
        with pytest.raises(FlowValidationError):
            flow.to_dict(strict=True)


class TestCodeTable:
    """Each diagnostic is declared once, in the code table, and the rules agree with it."""

    def test_every_rule_has_its_row_and_every_rule_row_its_rule(self) -> None:
        """A rule function is named for its code; a code of kind "rule" has a function."""
        assert {rule.__name__ for rule in RULES} == {
            code for code, info in CODES.items() if info.kind == "rule"
        }

    def test_the_actions_a_rule_names_are_actions(self) -> None:
        """involves and requires name real actions; a rule requires only what it involves,
        and reads only fields of the actions it involves."""
        for info in CODES.values():
            assert set(info.involves) <= set(CATALOGUE_BY_KIND), info.code
            assert set(info.requires) <= set(info.involves), info.code
            fields = {f.name for kind in info.involves for f in CATALOGUE_BY_KIND[kind].fields}
            assert set(info.reads) <= fields, info.code

    def test_a_rule_that_reads_no_field_is_decided_by_the_kinds(self) -> None:
        """The rules' plan keeps no rule decided by kinds that did not fire: the same kinds
        with other values give the same verdict for such a rule."""
        calm = Flow().play(URL).collect("pin").redirect(URL)
        other = Flow().play(URL + "2").collect("digits").redirect(URL + "3")
        assert calm.check().codes == other.check().codes == ()
        bare = Flow().transfer("+15551230002").send_digits("1")
        ready = Flow().transfer("+15551230002", fallback_url=URL).send_digits("w1")
        assert bare.check().codes == ("transfer_without_fallback", "digits_too_early")
        assert ready.check().codes == ()  # same kinds: the rules that read values run again
