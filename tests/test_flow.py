"""The builder: immutability, located errors, and the exact JSON it emits."""

from __future__ import annotations

import json
import pickle
from pathlib import Path
from typing import Any

import attrs
import pytest

from minivoice_flow import (
    Flow,
    FlowError,
    FlowValidationError,
    Hangup,
    Play,
    SendDigits,
    Transfer,
    parse,
    validate,
)

VENDOR = Path(__file__).parent / "fixtures" / "vendor"
BUSY = "https://app.example.com/ivr/busy"


class TestVendorExamples:
    """The examples on MiniVoice's send_digits page, byte for byte."""

    def test_send_digits_example_is_exact(self) -> None:
        assert Flow().send_digits("1234#").to_json() == (
            '{"actions":[{"send_digits":{"digits":"1234#"}}]}'
        )

    @pytest.mark.parametrize(
        "name", ["json-example", "success-example", "real-request", "real-response"]
    )
    def test_page_examples_match_the_builder(self, name: str) -> None:
        text = (VENDOR / f"{name}.json").read_text()
        assert validate(text).diagnostics == ()
        flow = Flow().send_digits("1234#")
        assert parse(text) == flow
        compact = json.dumps(json.loads(text), separators=(",", ":"))
        assert flow.to_json() == compact

    def test_error_payload_has_the_vendor_shape(self) -> None:
        vendor = json.loads((VENDOR / "failure-example.json").read_text())
        with pytest.raises(FlowValidationError) as info:
            parse('{"actions":[{"send_digits":{"digits":"12x"}}]}')
        payload = info.value.to_payload()
        details = payload["error"].pop("details")
        assert payload == vendor
        assert details == [
            {
                "code": "invalid_value",
                "severity": "error",
                "path": "/actions/0/send_digits/digits",
                "message": details[0]["message"],
            }
        ]
        assert '"x"' in details[0]["message"]

    def test_api_sketch_example(self) -> None:
        flow = (
            Flow("pin_entry")
            .transfer("+15551230002", fallback_url=BUSY)
            .send_digits("1234#", pause_before_ms=2000)
        )
        assert flow.to_json() == (
            '{"actions":[{"transfer":{"to":"+15551230002","fallback_url":'
            '"https://app.example.com/ivr/busy"}},'
            '{"send_digits":{"digits":"1234#","pause_before_ms":2000}}]}'
        )


class TestImmutability:
    def test_each_call_returns_a_new_flow(self) -> None:
        prefix = Flow().play("https://media.example.com/hi.wav")
        a = prefix.hangup()
        b = prefix.redirect("https://app.example.com/next")
        assert len(prefix.actions) == 1
        assert [x.kind for x in a.actions] == ["play", "hangup"]
        assert [x.kind for x in b.actions] == ["play", "redirect"]

    def test_flow_cannot_be_changed(self) -> None:
        flow = Flow("x").hangup()
        with pytest.raises(attrs.exceptions.FrozenInstanceError):
            flow._name = "y"
        with pytest.raises(attrs.exceptions.FrozenInstanceError):
            flow.actions[0].kind = "play"  # type: ignore[misc]
        with pytest.raises(attrs.exceptions.FrozenInstanceError):
            SendDigits("1").digits = "2"  # type: ignore[misc]

    def test_cached_json_belongs_to_its_flow(self) -> None:
        prefix = Flow().play("https://media.example.com/hi.wav")
        first = prefix.to_json()
        longer = prefix.hangup()
        assert longer.to_json() != first
        assert prefix.to_json() == first

    def test_then_appends_a_shared_prefix(self) -> None:
        greeting = Flow().play("https://media.example.com/hi.wav")
        menu = Flow("menu", direction="inbound").then(greeting).hangup()
        assert menu.name == "menu"
        assert menu.direction == "inbound"
        assert [a.kind for a in menu.actions] == ["play", "hangup"]
        assert Flow().then([Hangup()]).actions == (Hangup(),)

    def test_then_rejects_what_is_not_an_action(self) -> None:
        with pytest.raises(FlowError, match="takes a Flow or action objects") as info:
            Flow().hangup().then(["hangup"])  # type: ignore[list-item]
        assert info.value.path == "/actions/1"

    def test_named(self) -> None:
        flow = Flow(direction="outbound").hangup()
        renamed = flow.named("bye")
        assert (renamed.name, renamed.direction, renamed.actions) == (
            "bye",
            "outbound",
            flow.actions,
        )


class TestConstruction:
    def test_error_path_is_the_index_the_action_would_take(self) -> None:
        flow = Flow().play("https://media.example.com/a.wav").play("https://media.example.com/b")
        with pytest.raises(FlowError) as info:
            flow.send_digits("12x")
        assert info.value.path == "/actions/2/send_digits/digits"
        assert info.value.diagnostics[0].path == info.value.path

    def test_bad_name(self) -> None:
        with pytest.raises(FlowError, match="name must be a string"):
            Flow(5)  # type: ignore[arg-type]

    def test_bad_direction(self) -> None:
        with pytest.raises(FlowError, match='"inbound", "outbound"'):
            Flow(direction="sideways")  # type: ignore[arg-type]

    def test_unknown_keyword_is_a_type_error(self) -> None:
        with pytest.raises(TypeError):
            Flow().send_digits("1", pause=5)  # type: ignore[call-arg]

    def test_equality_and_hash(self) -> None:
        a = Flow("x").send_digits("1")
        b = Flow("x").send_digits("1")
        assert a == b and hash(a) == hash(b)
        assert a != Flow("y").send_digits("1")
        assert a != Flow("x", direction="inbound").send_digits("1")
        assert a.__eq__("x") is NotImplemented

    def test_repr_shows_the_actions(self) -> None:
        assert repr(Flow("x").hangup()) == "Flow('x', actions=(Hangup(),))"

    def test_builder_methods_have_signatures_and_docs(self) -> None:
        import inspect

        signature = inspect.signature(Flow.send_digits)
        assert list(signature.parameters) == ["self", "digits", "pause_before_ms"]
        assert "DTMF" in (Flow.send_digits.__doc__ or "")


class TestWire:
    def test_fields_in_table_order_and_unset_omitted(self) -> None:
        flow = Flow().transfer(
            "+15551230002", fallback_url=BUSY, timeout_ms=20000, caller_id="+15551230001"
        )
        assert flow.to_dict() == {
            "actions": [
                {
                    "transfer": {
                        "to": "+15551230002",
                        "caller_id": "+15551230001",
                        "timeout_ms": 20000,
                        "fallback_url": BUSY,
                    }
                }
            ]
        }
        assert list(flow.to_dict()["actions"][0]["transfer"]) == [
            "to",
            "caller_id",
            "timeout_ms",
            "fallback_url",
        ]

    def test_hangup_is_an_empty_object(self) -> None:
        assert Flow().hangup().to_json() == '{"actions":[{"hangup":{}}]}'

    def test_indent(self) -> None:
        text = Flow().hangup().to_json(indent=2)
        assert text == '{\n  "actions": [\n    {\n      "hangup": {}\n    }\n  ]\n}'

    @pytest.mark.parametrize("indent", [-1, 17, 10**9, 2.5, "x", True, [2]], ids=repr)
    def test_a_bad_indent_is_refused(self, indent: Any) -> None:
        """indent is None or 0 to 16 spaces; anything else is a FlowError naming it."""
        with pytest.raises(FlowError, match=r"to_json\(\) indent must be None \(compact\)"):
            Flow().hangup().to_json(indent=indent)

    @pytest.mark.parametrize("strict", ["no", "", 1, 0, None], ids=repr)
    def test_strict_is_true_or_false(self, strict: Any) -> None:
        """A strict that is not a bool is refused, not read as truthy or falsy."""
        flow = Flow().transfer("+15551230002")
        for call, name in ((flow.to_json, "to_json"), (flow.to_dict, "to_dict")):
            with pytest.raises(FlowError, match=rf"{name}\(\) strict must be True or False"):
                call(strict=strict)
        with pytest.raises(FlowError, match=r"parse\(\) strict must be True or False"):
            parse('{"actions":[{"hangup":{}}]}', strict=strict)

    def test_to_dict_is_a_fresh_copy(self) -> None:
        flow = Flow().send_digits("1")
        flow.to_dict()["actions"].clear()
        assert flow.to_dict()["actions"] == [{"send_digits": {"digits": "1"}}]

    def test_action_objects_compare_by_value(self) -> None:
        assert Play("https://a.example/x", loop=2) == Play("https://a.example/x", loop=2)
        assert Transfer("+15551230002") != Transfer("+15551230003")


class TestErrors:
    def test_validation_error_is_a_flow_error_and_value_error(self) -> None:
        with pytest.raises(FlowValidationError) as info:
            Flow().hangup().play("https://x.example/a.wav").to_json()
        assert isinstance(info.value, FlowError)
        assert isinstance(info.value, ValueError)
        assert info.value.code == "unreachable_action"
        assert info.value.report.codes == ("unreachable_action",)

    def test_errors_pickle(self) -> None:
        with pytest.raises(FlowValidationError) as info:
            Flow().to_json()
        copy = pickle.loads(pickle.dumps(info.value))
        assert copy.diagnostics == info.value.diagnostics
        assert str(copy) == str(info.value)
        with pytest.raises(FlowError) as field_info:
            Flow().send_digits("x")
        field_copy = pickle.loads(pickle.dumps(field_info.value))
        assert field_copy.diagnostics == field_info.value.diagnostics
