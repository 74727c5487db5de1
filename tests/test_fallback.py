"""Fallback helpers: the flows they build, the URLs that connect them, the decisions made."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from minivoice_flow import Flow, FlowError, FlowValidationError
from minivoice_flow.fallback import (
    FlowSet,
    collect_with_retries,
    combine,
    serve,
    transfer_with_fallback,
)

BASE = "https://app.example.com/ivr"
PROMPT = "https://media.example.com/pin.wav"
AGAIN = "https://media.example.com/pin-again.wav"
SORRY = "https://media.example.com/sorry.wav"
THANKS = Flow("thanks").play("https://media.example.com/thanks.wav").hangup()


def pin_set(**options: object) -> FlowSet:
    arguments: dict[str, object] = {"prompt": PROMPT, "base_url": BASE, "on_input": THANKS}
    arguments.update(options)
    return collect_with_retries("pin", **arguments)  # type: ignore[arg-type]


def repr_or_size(value: object) -> str:
    """A test id; an int too long to print is named by its size."""
    if isinstance(value, int) and value.bit_length() > 10_000:
        return f"int of {value.bit_length()} bits"
    return repr(value)


def names(flow_set: FlowSet) -> list[str | None]:
    return [flow.name for flow in flow_set.flows]


def assert_closed(flow_set: FlowSet) -> None:
    """Every URL a flow of the set points at is served by the set."""
    assert flow_set.targets(), "a set with fallback paths points somewhere"
    assert flow_set.unserved() == frozenset()
    for url in flow_set.targets():
        assert url in flow_set


class TestCollectWithRetries:
    """A collect re-prompts on no input, then gives up with a final flow."""

    def test_flows_and_names(self) -> None:
        flows = pin_set(reprompt=AGAIN, max_digits=4)
        assert names(flows) == ["pin", "pin_retry_1", "pin_retry_2", "pin_give_up", "thanks"]
        assert flows.entry is flows.flows[0] and flows.entry_url == f"{BASE}/pin"

    def test_exact_json_of_the_attempts(self) -> None:
        flows = pin_set(reprompt=AGAIN, max_digits=4, timeout_ms=8000, finish_on_key="#")
        collect = {"variable": "pin", "max_digits": 4, "timeout_ms": 8000, "finish_on_key": "#"}
        assert flows.entry.to_dict() == {
            "actions": [
                {"play": {"url": PROMPT}},
                {"collect": collect},
                {"redirect": {"url": f"{BASE}/pin/input"}},
            ]
        }
        assert flows.flow("pin_retry_2").to_dict() == {
            "actions": [
                {"play": {"url": AGAIN}},
                {"collect": collect},
                {"redirect": {"url": f"{BASE}/pin_retry_2/input"}},
            ]
        }

    def test_the_safe_flows_have_no_warnings(self) -> None:
        for flow in pin_set().flows:
            assert flow.check().diagnostics == ()

    def test_no_input_walks_the_retries_then_gives_up(self) -> None:
        flows = pin_set()
        served = flows.next_flow(f"{BASE}/pin/input", {"pin": ""})
        assert served.name == "pin_retry_1"
        served = flows.next_flow(f"{BASE}/pin_retry_1/input", {"pin": ""})
        assert served.name == "pin_retry_2"
        served = flows.next_flow(f"{BASE}/pin_retry_2/input", {"pin": ""})
        assert served.name == "pin_give_up"
        assert served.to_dict() == {"actions": [{"hangup": {}}]}

    def test_a_missing_variable_counts_as_no_input(self) -> None:
        assert pin_set().next_flow(f"{BASE}/pin/input", {}).name == "pin_retry_1"
        assert pin_set().next_flow(f"{BASE}/pin/input").name == "pin_retry_1"

    def test_input_goes_to_on_input_at_any_attempt(self) -> None:
        flows = pin_set()
        assert flows.next_flow(f"{BASE}/pin/input", {"pin": "1234"}) == THANKS
        assert flows.next_flow(f"{BASE}/pin_retry_2/input", {"pin": "9"}) == THANKS

    def test_on_input_may_be_a_function_of_the_digits(self) -> None:
        seen: list[str] = []

        def choose(digits: str) -> Flow:
            seen.append(digits)
            return Flow(f"got_{digits}").hangup()

        flows = pin_set(on_input=choose)
        assert flows.next_flow(f"{BASE}/pin/input", {"pin": "42"}).name == "got_42"
        assert seen == ["42"]
        assert names(flows) == ["pin", "pin_retry_1", "pin_retry_2", "pin_give_up"]

    def test_on_input_must_return_a_flow(self) -> None:
        flows = pin_set(on_input=lambda digits: digits)
        with pytest.raises(TypeError, match='must return a Flow; got "7"'):
            flows.next_flow(f"{BASE}/pin/input", {"pin": "7"})

    @pytest.mark.parametrize("accept", [{"1", "2"}, lambda d: d in ("1", "2")])
    def test_refused_input_counts_as_no_input(self, accept: object) -> None:
        flows = pin_set(accept=accept)
        assert flows.next_flow(f"{BASE}/pin/input", {"pin": "7"}).name == "pin_retry_1"
        assert flows.next_flow(f"{BASE}/pin/input", {"pin": "2"}) == THANKS

    def test_a_string_is_not_a_set_of_answers(self) -> None:
        """accept="1234" would silently mean {"1", "2", "3", "4"}: it is refused instead."""
        with pytest.raises(FlowError, match='accept takes a set of answers.*"1234"'):
            pin_set(accept="1234")

    def test_give_up_keeps_its_name_or_gets_one(self) -> None:
        apology = Flow().play(SORRY).hangup()
        assert names(pin_set(give_up=apology))[3] == "pin_give_up"
        operator = Flow("operator").transfer("+15551230009", fallback_url=f"{BASE}/x")
        flows = pin_set(give_up=operator, retries=0)
        assert names(flows) == ["pin", "operator", "thanks"]
        assert flows.next_flow(f"{BASE}/pin/input", {"pin": ""}) == operator
        assert flows.unserved() == {f"{BASE}/x"}

    def test_variable_defaults_to_the_name(self) -> None:
        flows = pin_set(variable="account_pin")
        assert flows.entry.to_dict()["actions"][1] == {"collect": {"variable": "account_pin"}}
        assert flows.next_flow(f"{BASE}/pin/input", {"account_pin": ""}).name == "pin_retry_1"

    def test_a_prompt_may_be_a_flow(self) -> None:
        lead = Flow().play(SORRY).play(PROMPT, loop=2)
        flows = pin_set(prompt=lead)
        assert flows.entry.actions[:2] == lead.actions

    def test_trailing_slash_on_the_base_is_ignored(self) -> None:
        assert pin_set(base_url=BASE + "/").urls() == pin_set().urls()

    @pytest.mark.parametrize(
        ("retries", "code"),
        [
            (-1, "invalid_value"),
            (1.5, "invalid_type"),
            (True, "invalid_type"),
            ("2", "invalid_type"),
            (11, "invalid_value"),
            (10**18, "invalid_value"),
            (10**5000, "invalid_value"),
        ],
        ids=repr_or_size,
    )
    def test_bad_retries(self, retries: object, code: str) -> None:
        """retries is a whole number from 0 to 10: a huge count is refused, not built."""
        with pytest.raises(FlowError, match="retries must be a whole number from 0 to 10") as info:
            pin_set(retries=retries)
        assert info.value.code == code

    @pytest.mark.parametrize("name", ["", "a b", "pin/1", "-x", "x" * 65])
    def test_names_must_fit_in_a_url(self, name: str) -> None:
        with pytest.raises(FlowError, match="part of a URL"):
            collect_with_retries(name, prompt=PROMPT, base_url=BASE, on_input=THANKS)

    @pytest.mark.parametrize(
        ("base", "words"),
        [("ftp://x.example", "base_url: "), ("https://x.example/ivr?a=1", "query")],
    )
    def test_bad_base_url(self, base: str, words: str) -> None:
        with pytest.raises(FlowError, match=words):
            pin_set(base_url=base)

    def test_bad_collect_options_name_the_field(self) -> None:
        with pytest.raises(FlowError, match="collect.max_digits"):
            pin_set(max_digits=0)

    def test_an_invalid_final_flow_fails_at_build_time(self) -> None:
        broken = Flow("broken").hangup().play(SORRY)
        with pytest.raises(FlowValidationError) as info:
            pin_set(give_up=broken)
        assert "unreachable_action" in info.value.report.codes


class TestTransferWithFallback:
    """A transfer whose busy / no-answer / failed cases lead to flows of their own."""

    def test_the_transfer_points_at_its_fallback(self) -> None:
        flows = transfer_with_fallback("agent", "+15551230002", base_url=BASE, timeout_ms=20000)
        assert flows.entry.to_dict() == {
            "actions": [
                {
                    "transfer": {
                        "to": "+15551230002",
                        "timeout_ms": 20000,
                        "fallback_url": f"{BASE}/agent/fallback",
                    }
                }
            ]
        }
        assert "transfer_without_fallback" not in flows.entry.check().codes
        assert names(flows) == ["agent", "agent_fallback"]

    def test_one_flow_per_case(self) -> None:
        busy = Flow().play(SORRY).hangup()
        no_answer = Flow("voicemail").play(PROMPT).hangup()
        flows = transfer_with_fallback(
            "agent", "+15551230002", base_url=BASE, on_busy=busy, on_no_answer=no_answer
        )
        assert names(flows) == ["agent", "agent_busy", "voicemail", "agent_fallback"]
        url = f"{BASE}/agent/fallback"
        assert flows.next_flow(url, status="busy").name == "agent_busy"
        assert flows.next_flow(url, status="no_answer").name == "voicemail"
        assert flows.next_flow(url, status="failed").name == "agent_fallback"
        assert flows.next_flow(url, status="weird").name == "agent_fallback"
        assert flows.next_flow(url).name == "agent_fallback"

    def test_one_flow_for_all_cases(self) -> None:
        sorry = Flow().play(SORRY).hangup()
        flows = transfer_with_fallback("agent", "+15551230002", base_url=BASE, fallback=sorry)
        for status in ("busy", "no_answer", "failed"):
            assert flows.next_flow(f"{BASE}/agent/fallback", status=status).name == "agent_fallback"

    def test_before_and_after_the_transfer(self) -> None:
        flows = transfer_with_fallback(
            "scheduler",
            "sip:ivr@scheduler.example.com",
            base_url=BASE,
            before=Flow().play(PROMPT),
            after=Flow().send_digits("1234#", pause_before_ms=2000),
            caller_id="+15551230001",
        )
        kinds = [action.kind for action in flows.entry.actions]
        assert kinds == ["play", "transfer", "send_digits"]
        assert json.loads(flows.entry.to_json())["actions"][1]["transfer"]["caller_id"] == (
            "+15551230001"
        )
        assert flows.entry.check().diagnostics == ()

    def test_bad_destination_names_the_field(self) -> None:
        with pytest.raises(FlowError, match="transfer.to"):
            transfer_with_fallback("agent", "5551230002", base_url=BASE)


class TestFlowSet:
    """Sets are closed over their URLs, combine safely, and export their flows."""

    def test_each_helper_serves_every_url_it_points_at(self) -> None:
        assert_closed(pin_set())
        assert_closed(pin_set(retries=0))
        assert_closed(transfer_with_fallback("agent", "+15551230002", base_url=BASE))

    def test_every_flow_is_served_at_its_own_url(self) -> None:
        flows = pin_set()
        for flow in flows.flows:
            assert flows.next_flow(f"{BASE}/{flow.name}") == flow

    def test_combining_closes_cross_references(self) -> None:
        agent = transfer_with_fallback("agent", "+15551230002", base_url=BASE)
        pin = pin_set(give_up=agent.entry)
        assert pin.unserved() == {f"{BASE}/agent/fallback"}
        both = combine(pin, agent)
        assert_closed(both)
        assert both.entry == pin.entry
        assert names(both) == [
            "pin",
            "pin_retry_1",
            "pin_retry_2",
            "agent",
            "thanks",
            "agent_fallback",
        ]

    def test_combining_a_set_with_itself_changes_nothing(self) -> None:
        flows = pin_set()
        assert combine(flows, flows) == flows

    def test_two_flows_of_one_name_are_an_error(self) -> None:
        other = serve(Flow("thanks").hangup(), base_url=BASE)
        with pytest.raises(FlowError, match="two different flows named 'thanks'"):
            combine(pin_set(), other)

    def test_serve_needs_a_name(self) -> None:
        assert serve(THANKS, base_url=BASE).next_flow(f"{BASE}/thanks") == THANKS
        with pytest.raises(FlowError, match="named flow"):
            serve(Flow().hangup(), base_url=BASE)

    def test_unknown_url_and_unknown_name(self) -> None:
        flows = pin_set()
        assert "https://elsewhere.example/x" not in flows
        with pytest.raises(LookupError, match="not served by this flow set"):
            flows.next_flow("https://elsewhere.example/x")
        with pytest.raises(LookupError, match="no flow named 'nope'"):
            flows.flow("nope")

    def test_exports_its_flows(self) -> None:
        flows = pin_set()
        assert list(flows.__minivoice_flows__()) == list(flows.flows)
        assert all(flow.to_json() for flow in flows.__minivoice_flows__())


@given(
    retries=st.integers(0, 6),
    empty_answers=st.integers(0, 8),
    digits=st.from_regex(r"[0-9]{1,6}", fullmatch=True),
)
def test_no_input_path_is_bounded(retries: int, empty_answers: int, digits: str) -> None:
    """Following the redirects: k empty inputs lead to attempt k+1, or the give-up flow
    once the retries are spent; an input at any attempt reaches on_input."""
    flows = pin_set(retries=retries)
    assert_closed(flows)
    current = flows.entry
    for _ in range(min(empty_answers, retries + 1)):
        url = current.actions[-1].url  # type: ignore[union-attr]
        current = flows.next_flow(url, {"pin": ""})
    if empty_answers > retries:
        assert current.name == "pin_give_up"
    else:
        expected = "pin" if empty_answers == 0 else f"pin_retry_{empty_answers}"
        assert current.name == expected
        url = current.actions[-1].url  # type: ignore[union-attr]
        assert flows.next_flow(url, {"pin": digits}) == THANKS
