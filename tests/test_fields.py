"""Every field limit, at and just past each bound, through the builder and through validate()."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

from minivoice_flow import Flow, FlowError, SendDigits, validate
from tests.cases import FIELD_CASES, REQUIRED, case_id


def build(kind: str, field: str, value: Any) -> Flow:
    """Flow().<kind>(...) with one field set to ``value`` and the others valid."""
    method = getattr(Flow().play(REQUIRED["play"]["url"]), kind)
    flow: Flow = method(**{**REQUIRED[kind], field: value})
    return flow


@pytest.mark.parametrize("case", FIELD_CASES, ids=case_id)
class TestFieldLimits:
    def test_builder(self, case: tuple[str, str, Any, str | None]) -> None:
        """The builder call that sets a bad value raises, naming the field; a good one passes."""
        kind, field, value, code = case
        if value is None and field not in REQUIRED[kind]:
            # None is how a builder call leaves an optional field unset, not a bad value.
            assert build(kind, field, None).actions[1].given(field) is None
            return
        if code is None:
            flow = build(kind, field, value)
            assert flow.actions[1].given(field) == value
            return
        with pytest.raises(FlowError) as info:
            build(kind, field, value)
        assert info.value.code == code
        assert info.value.path == f"/actions/1/{kind}/{field}"
        assert f"{kind}.{field}" in str(info.value)

    def test_validate(self, case: tuple[str, str, Any, str | None]) -> None:
        """validate() reports the same code at the field's JSON pointer, for data and text."""
        kind, field, value, code = case
        actions: list[Any] = [{kind: {**REQUIRED[kind], field: value}}]
        if kind != "redirect":
            actions.append({"hangup": {}})
        payload = {"actions": actions}
        expected = [] if code is None else [(code, f"/actions/0/{kind}/{field}")]
        found = [(d.code, d.path) for d in validate(payload).errors]
        assert found == expected
        if not (isinstance(value, float) and not math.isfinite(value)):  # not JSON text
            text = json.dumps(payload)
            assert [(d.code, d.path) for d in validate(text).errors] == expected


class TestMessages:
    """A field error names the field, the value given and what is allowed."""

    def test_bad_digit_names_character_and_position(self) -> None:
        with pytest.raises(FlowError) as info:
            Flow().send_digits("12x")
        message = str(info.value)
        assert "send_digits.digits" in message
        assert '"x" at position 3 of "12x"' in message
        assert "0-9 * # A B C D" in message

    def test_lower_case_letter_suggests_upper_case(self) -> None:
        with pytest.raises(FlowError, match='use "A"'):
            Flow().send_digits("1a")

    def test_look_alike_digit_is_named(self) -> None:
        with pytest.raises(FlowError, match="U\\+0663 ARABIC-INDIC DIGIT THREE"):
            Flow().send_digits("12\u0663")

    def test_out_of_range_names_bounds_and_value(self) -> None:
        with pytest.raises(FlowError) as info:
            Flow().send_digits("1", pause_before_ms=60001)
        assert "from 0 to 60000 ms" in str(info.value)
        assert "got 60001" in str(info.value)

    def test_boolean_is_not_a_number(self) -> None:
        with pytest.raises(FlowError, match="got true") as info:
            Flow().play("https://h.example/a.wav", loop=True)
        assert info.value.code == "invalid_type"

    def test_fraction_is_called_out(self) -> None:
        with pytest.raises(FlowError, match="1500.5, which is not a whole number"):
            Flow().send_digits("1", pause_before_ms=1500.5)  # type: ignore[arg-type]

    def test_nan_is_named(self) -> None:
        with pytest.raises(FlowError, match="got NaN"):
            Flow().send_digits("1", pause_before_ms=math.nan)  # type: ignore[arg-type]

    def test_long_value_is_truncated(self) -> None:
        with pytest.raises(FlowError) as info:
            Flow().send_digits("1" * 500)
        assert len(str(info.value)) < 200
        assert "got 500 characters" in str(info.value)

    def test_error_is_a_value_error(self) -> None:
        with pytest.raises(ValueError):
            Flow().send_digits("")


class TestValuesKept:
    def test_zero_pause_is_emitted(self) -> None:
        """0 is a value, not 'unset': it must not vanish in a truthiness test."""
        assert Flow().send_digits("1", pause_before_ms=0).to_json() == (
            '{"actions":[{"send_digits":{"digits":"1","pause_before_ms":0}}]}'
        )

    def test_empty_finish_key_is_emitted(self) -> None:
        flow = Flow().play("https://h.example/p.wav").collect("pin", finish_on_key="")
        data = flow.redirect("https://h.example/next").to_dict()
        assert data["actions"][1] == {"collect": {"variable": "pin", "finish_on_key": ""}}

    def test_default_value_set_explicitly_is_emitted(self) -> None:
        flow = Flow().play("https://h.example/p.wav").collect("x", finish_on_key="#")
        data = flow.redirect("https://h.example/next").to_dict()
        assert data["actions"][1] == {"collect": {"variable": "x", "finish_on_key": "#"}}

    def test_whole_float_becomes_int(self) -> None:
        action = SendDigits("1", pause_before_ms=2000.0)  # type: ignore[arg-type]
        assert action.pause_before_ms == 2000
        assert type(action.pause_before_ms) is int
