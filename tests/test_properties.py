"""Properties: valid flows round-trip; validate() and parse() never crash on anything."""

from __future__ import annotations

import contextlib
import json
import math
from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st

from minivoice_flow import Flow, FlowValidationError, Report, parse, validate
from tests.cases import payload_of
from tests.strategies import (
    any_flows,
    json_texts_with_repeats,
    json_values,
    near_payloads,
    valid_flows,
)


@given(valid_flows())
def test_valid_flows_round_trip_through_json(flow: Flow) -> None:
    text = flow.to_json()
    assert parse(text).actions == flow.actions
    assert parse(text, name=flow.name, direction=flow.direction) == flow
    assert parse(flow.to_json(indent=2), name=flow.name, direction=flow.direction) == flow
    assert parse(flow.to_dict(), name=flow.name, direction=flow.direction) == flow
    assert validate(text, direction=flow.direction) == flow.check()


@given(valid_flows())
def test_emitted_json_is_compact_and_finite(flow: Flow) -> None:
    text = flow.to_json()
    assert json.loads(text) == flow.to_dict()
    assert json.dumps(json.loads(text), separators=(",", ":"), allow_nan=False) == text


@given(any_flows())
def test_validate_agrees_with_check_for_any_flow(flow: Flow) -> None:
    """The rules judge built flows and parsed JSON alike, invalid ones included."""
    assert validate(payload_of(flow.actions), direction=flow.direction) == flow.check()


def assert_sound(report: Report, data: Any) -> None:
    """A report is in document order, and each pointer leads into the data."""
    assert isinstance(report, Report)
    order = [_index(d.path) for d in report.diagnostics]
    assert order == sorted(order)
    for diagnostic in report.diagnostics:
        if data is _UNKNOWN or diagnostic.code in ("malformed_json", "payload_too_large"):
            continue
        path = diagnostic.path
        if diagnostic.code == "missing_field":
            path = path.rsplit("/", 1)[0]
        _resolve(data, path)


_UNKNOWN = object()


def _index(path: str) -> int:
    parts = path.split("/")
    return int(parts[2]) if len(parts) > 2 and parts[1] == "actions" else -1


def _resolve(data: Any, pointer: str) -> Any:
    if pointer == "":
        return data
    for token in pointer[1:].split("/"):
        token = token.replace("~1", "/").replace("~0", "~")
        data = data[int(token)] if isinstance(data, list) else data[token]
    return data


@given(json_values | near_payloads())
@example({"actions": [{"send_digits": {"digits": "1", "pause_before_ms": float("nan")}}]})
def test_validate_never_raises_on_json_like_data(data: Any) -> None:
    assert_sound(validate(data), data)
    assert_sound(validate(data, direction="inbound"), data)


# Built from their exponents: hypothesis cannot print such integers (nor can Python).
HUGE_INTEGERS = st.builds(
    lambda exponent, sign: sign * 10**exponent,
    st.sampled_from([4300, 5000, 70_000]),
    st.sampled_from([1, -1]),
)
json_values_with_huge_integers: st.SearchStrategy[Any] = st.recursive(
    json_values | HUGE_INTEGERS,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(max_size=8) | HUGE_INTEGERS, children, max_size=4)
    ),
    max_leaves=20,
)


@given(
    st.builds(lambda actions: {"actions": actions}, st.lists(json_values_with_huge_integers))
    | json_values_with_huge_integers
)
def test_validate_never_raises_on_data_with_huge_integers(data: Any) -> None:
    """Ints too long for Python to print, as keys or values anywhere, are reported in place."""
    report = validate(data)
    assert not any("circular" in d.message for d in report.diagnostics)
    with contextlib.suppress(FlowValidationError):
        parse(data)


@given(near_payloads())
def test_validate_never_raises_on_json_text(data: Any) -> None:
    text = json.dumps(data)
    report = validate(text)
    if _has_non_finite(data):
        assert report.codes == ("malformed_json",)
    else:
        assert_sound(report, json.loads(text))


def _has_non_finite(data: Any) -> bool:
    if isinstance(data, float):
        return not math.isfinite(data)
    if isinstance(data, dict):
        return any(_has_non_finite(v) for v in data.values())
    if isinstance(data, list):
        return any(_has_non_finite(v) for v in data)
    return False


@given(st.binary(max_size=300) | st.text(max_size=300))
@example(b'{"actions":[{"hangup":{}}]}')
def test_validate_never_raises_on_arbitrary_input(payload: bytes | str) -> None:
    assert isinstance(validate(payload), Report)


@given(json_values | near_payloads() | st.binary(max_size=100))
def test_parse_raises_only_its_own_error(payload: Any) -> None:
    """parse() either returns a Flow that re-emits the same data, or raises our error."""
    try:
        flow = parse(payload)
    except FlowValidationError as error:
        assert not error.report.ok
        return
    assert validate(payload).ok
    if isinstance(payload, dict):
        assert json.loads(flow.to_json()) == payload


@given(valid_flows())
def test_fast_json_writer_matches_the_standard_library(flow: Flow) -> None:
    """to_json() writes its text directly; it must be json.dumps' output, byte for byte."""
    assert flow.to_json() == json.dumps(flow.to_dict(), separators=(",", ":"))


def _repeats_in(text: str) -> int:
    """The oracle: (object, key) pairs that repeat, by json's own pairs hook.

    Only objects still in the decoded data count: one overwritten by a later repeat of its
    own key has no pointer left to report it at.
    """

    class Repeats(dict[str, Any]):
        count = 0

    def mark(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        keys = [key for key, _ in pairs]
        obj = Repeats(pairs)
        obj.count = len({key for key in keys if keys.count(key) > 1})
        return obj

    def total(value: Any) -> int:
        if isinstance(value, Repeats):
            return value.count + sum(total(v) for v in value.values())
        if isinstance(value, list):
            return sum(total(v) for v in value)
        return 0

    return total(json.loads(text, object_pairs_hook=mark))


@given(json_texts_with_repeats())
@example('{"actions":[{"play":{"url":"https://a.example/x","url":"https://a.example/y"}}]}')
@example('{"actions":[{"play":{"url":"https://a.example/\\":","loop":1}}],"actions":[]}')
@example('{"actions" :[{"hangup":{}}],"actions":[{"hangup":{}}]}')
def test_every_repeated_key_is_found(text: str) -> None:
    """validate() proves most texts free of repeats cheaply; it must never miss one."""
    assert validate(text).codes.count("duplicate_key") == _repeats_in(text)
