"""validate()'s fast path: what the provers accept, the field-by-field walk must accept too.

Each action's prover (``_parse._PROVERS``) proves its fields valid in a few steps, and msgspec
decodes the text once a process validates many. These tests hold both to the slow path (the
standard library's decoder, every field checked by ``FieldSpec.check``): the same report for
any text in any layout, a proof never given for fields the walk would fault, and a proof for
whatever the library itself writes (or the speed is silently lost).
"""

from __future__ import annotations

import json
import random
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest.mock import patch

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from minivoice_flow import Flow, Report, _json, _parse, _wire, parse, validate
from minivoice_flow._actions import CATALOGUE
from minivoice_flow._fields import FieldSpec
from tests.strategies import any_flows, mutated_payloads, near_payloads, valid_flows

NEVER_PROVED = {info.kind: (lambda fields: -1) for info in CATALOGUE}


def standard_decode(text: str, found: list[Any]) -> Any:
    return _json.loads(text, found, subject="payload")


@contextmanager
def fast_path_off() -> Iterator[None]:
    """Every field checked by FieldSpec.check, and the text read by the standard library."""
    with (
        patch.dict(_parse._PROVERS, NEVER_PROVED),
        patch.object(_parse, "_decode", standard_decode),
    ):
        yield


@contextmanager
def msgspec_on() -> Iterator[None]:
    """The decoder a process that validates many payloads switches to."""
    with patch.object(_parse, "_decode", _parse._msgspec_decode()):
        yield


def proved(text: str) -> bool:
    """Whether the provers proved every action of the text valid."""
    read = _parse._diagnose(text, None)[1]
    return read is not None and read[3]


def fast(text: str, direction: Any = None) -> Report:
    with msgspec_on():
        return validate(text, direction=direction)


def walk_only(payload: object, direction: Any = None) -> Report:
    with fast_path_off():
        return validate(payload, direction=direction)


def flow_text(flow: Flow) -> str:
    """The compact JSON of any flow's actions, even one that breaks the ordering rules."""
    return _wire.payload_json(flow.actions)


def reordered(data: Any, seed: int) -> Any:
    """The same payload with the keys of every object in another order."""
    if isinstance(data, dict):
        items = list(data.items())
        random.Random(seed).shuffle(items)
        return {key: reordered(value, seed + 1) for key, value in items}
    if isinstance(data, list):
        return [reordered(value, seed) for value in data]
    return data


def layouts(data: Any, seed: int = 0) -> list[str]:
    """The four layouts the benchmark times, plus escapes (ASCII-only text)."""
    return [
        json.dumps(data, separators=(",", ":"), ensure_ascii=False),
        json.dumps(data, ensure_ascii=False),
        json.dumps(data, indent=2, ensure_ascii=False),
        json.dumps(reordered(data, seed), ensure_ascii=False),
        json.dumps(data, separators=(",", ":")).replace("/", "\\/"),
    ]


@given(any_flows(), st.integers(0, 100))
def test_the_library_s_own_json_is_proved_valid_in_every_layout(flow: Flow, seed: int) -> None:
    """Whatever the builder accepted, the Structs accept too, however the text is laid out."""
    for text in layouts(json.loads(flow_text(flow)), seed):
        assert proved(text)
        assert fast(text, flow.direction) == walk_only(text, flow.direction)
        assert validate(text, direction=flow.direction) == walk_only(text, flow.direction)


@given(valid_flows(), st.integers(0, 100))
def test_parse_through_the_provers_gives_the_flow_the_walk_gives(flow: Flow, seed: int) -> None:
    """parse() builds the same actions from proved fields as the classes' own checks do."""
    for text in layouts(flow.to_dict(), seed):
        fast = parse(text)
        with fast_path_off():
            assert fast == parse(text) == Flow().then(flow.actions)


@given(
    st.one_of(mutated_payloads(), near_payloads()).flatmap(
        lambda data: st.integers(0, 100).flatmap(lambda seed: st.sampled_from(layouts(data, seed)))
    )
)
def test_fast_path_reports_what_the_walk_reports_for_mutated_payloads(text: str) -> None:
    """A payload with bad fields is never proved valid; the report equals the walk's."""
    assert validate(text) == walk_only(text) == fast(text)
    if proved(text):
        assert not any(d.code in FIELD_CODES for d in validate(text).diagnostics)


@given(st.one_of(mutated_payloads(), near_payloads()))
def test_parsed_payloads_get_the_walk_s_report_too(data: Any) -> None:
    """An already-parsed payload goes through the provers as well: the same report."""
    assert validate(data) == walk_only(data)
    assert validate(data, direction="inbound") == walk_only(data, "inbound")


FIELD_CODES = frozenset(
    {
        "invalid_type",
        "invalid_value",
        "out_of_range",
        "missing_field",
        "unknown_field",
        "unknown_action",
        "malformed_action",
        "malformed_payload",
        "malformed_json",
    }
)
QUOTE_INSIDE_A_VALUE = '{"actions":[{"play":{"url":"https://","x":"b"}}]}'


@st.composite
def edited_texts(draw: st.DrawFn) -> str:
    """A valid text with a few characters inserted, removed or copied elsewhere."""
    text = draw(st.sampled_from(layouts(draw(valid_flows()).to_dict())))
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(text)))
        edit = draw(st.integers(0, 2))
        if edit == 0:
            text = text[:at] + draw(st.sampled_from(list('"\\,:{}[]0 -9a.wé\n'))) + text[at:]
        elif edit == 1:
            text = text[:at] + text[at + draw(st.integers(1, 4)) :]
        else:  # a slice copied elsewhere: repeated keys, fields, actions
            start = draw(st.integers(0, len(text)))
            piece = text[start : start + draw(st.integers(1, 40))]
            text = text[:at] + piece + text[at:]
    return text


@given(edited_texts())
@example(QUOTE_INSIDE_A_VALUE)
@example('{"actions":[{"play":{"url":"https://a.example/x","url":"https://a.example/y"}}]}')
@example('{"actions":[{"play":{"url":"https://a.example/x", "url" :"https://a.example/y"}}]}')
@example('{"actions":[{"play":{"url":"https://a.example/\\"x","url":"https://a.example/y"}}]}')
@example('{"actions":[],"actions":[{"hangup":{}}]}')
@example('{"actions":[{"hangup":{},"hangup":{}}]}')
@example('{"actions":[{"play":{"loop":2,"url":"https://a.example/x"}}]}')
@example('{"actions":[{"send_digits":{"digits":"1234#","pause_before_ms":2000.0}}]}')
@example('{"actions":[{"send_digits":{"digits":"1234#","pause_before_ms":02000}}]}')
@example('{"actions":[{"send_digits":{"digits":"1234#","pause_before_ms":null}}]}')
@example('{"actions":[{"send_digits":{"digits":"12\\u0034#"}}]}')
@example('{"actions":[{"send_digits":{"digits":"12\\ud800"}}]}')
@example('{"actions":[{"redirect":{"url":"https:\\/\\/a.example\\/next"}}]}')
@example('{"actions":[{"hangup":{}},]}')
@example('{"actions":[{"hangup":{},"play":{"url":"https://a.example/x"}}]}')
@example('{"actions":[{}]}')
@example('{"actions":[{"hangup":{}}]} ')
@example('\ufeff{"actions":[{"hangup":{}}]}')
@example('{"actions":[{"collect":{"variable":"x\\n"}}]}')
def test_fast_path_reports_what_the_walk_reports_for_edited_texts(text: str) -> None:
    """Whatever the edit broke (or repeated), both paths report exactly the same."""
    assert validate(text) == walk_only(text) == fast(text)
    assert validate(text, direction="inbound") == walk_only(text, "inbound")
    assert validate(text.encode()) == validate(text)


def test_a_repeated_key_is_found_however_the_count_is_hidden() -> None:
    """Decoders keep the last of repeated keys; the count (or a second read) finds them."""
    url = "https://a.example/x"
    for text in (
        '{"actions":[{"play":{"url":"%s","url":"%s"}}]}' % (url, url),
        '{"actions":[{"play":{"url" : "%s", "url" : "%s"}}]}' % (url, url),
        '{"actions":[{"play":{"url":"%s\\"","url":"%s"}}]}' % (url, url),
        '{"actions":[{"hangup":{}}],"actions":[{"hangup":{}}]}',
    ):
        assert proved(text)
        assert "duplicate_key" in validate(text).codes, text
        assert "duplicate_key" in fast(text).codes, text


@pytest.mark.parametrize(("length", "valid"), [(2048, True), (2049, False)])
def test_a_url_s_length_limit_holds_on_the_fast_path(length: int, valid: bool) -> None:
    """The URL length limit is the FieldSpec's, to the character."""
    url = "https://a.example/" + "x" * (length - len("https://a.example/"))
    text = json.dumps({"actions": [{"play": {"url": url}}]})
    assert proved(text) is valid
    assert validate(text) == walk_only(text)


def test_a_payload_over_the_action_limit_is_proved_and_left_to_the_rules() -> None:
    """Fields all valid, too many actions: the provers pass it and the rules report it."""
    text = json.dumps({"actions": [{"hangup": {}}] * 1_500})
    assert proved(text)
    report = validate(text)
    assert {d.code for d in report.errors} == {"too_many_actions", "unreachable_action"}
    assert report == walk_only(text)


# Each field's test in its prover accepts exactly what its FieldSpec accepts.


SPECS = [(info.kind, field.name, field.spec) for info in CATALOGUE for field in info.fields]
JSON_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=60),
    st.from_regex(r"[+a-zA-Z0-9:/._#*-]{0,40}", fullmatch=True),
    st.lists(st.integers(), max_size=2),
)


def sample_values(spec: FieldSpec) -> st.SearchStrategy[object]:
    """Values near the spec's limits and patterns, and anything else JSON holds."""
    near: list[st.SearchStrategy[object]] = [JSON_VALUES]
    if spec.json_type == "integer":
        assert spec.minimum is not None and spec.maximum is not None
        near.append(st.integers(spec.minimum - 2, spec.maximum + 2))
    if spec.pattern is not None:
        near.append(st.from_regex(spec.pattern, fullmatch=True))
    if spec.alphabet is not None:
        near.append(st.text(alphabet=spec.alphabet + "abcx ", max_size=55))
    if spec.choices is not None:
        near.append(st.sampled_from([*spec.choices, "post", ""]))
    if spec.head_pattern is not None:  # long values take another test: 257 to 3,000 characters
        tails = st.text(alphabet="a/ é\x7f", min_size=1, max_size=3)
        near.append(
            st.builds(
                lambda tail, n: "https://a.example/" + tail * n, tails, st.integers(239, 1000)
            )
        )
    return st.one_of(near)


@pytest.mark.parametrize(("kind", "name", "spec"), SPECS, ids=[f"{k}.{n}" for k, n, _ in SPECS])
@given(data=st.data())
def test_each_field_test_accepts_exactly_what_its_spec_accepts(
    kind: str, name: str, spec: FieldSpec, data: st.DataObject
) -> None:
    """A prover's test of a field passes only values check() passes, and passes them all (a
    whole float, which the walk takes as an int, is the one value left to check())."""
    value = data.draw(sample_values(spec))
    needs: dict[str, Any] = {}
    test = _parse._valid_test(spec, "value", needs)
    accepted = bool(eval(test, needs, {"value": value}))
    valid = spec.check(f"{kind}.{name}", value) is None
    assert accepted == (valid and not isinstance(value, float)), value


STRING_SPECS = [(kind, name, spec) for kind, name, spec in SPECS if spec.json_type == "string"]


@pytest.mark.parametrize(
    ("kind", "name", "spec"), STRING_SPECS, ids=[f"{k}.{n}" for k, n, _ in STRING_SPECS]
)
@given(data=st.data())
def test_every_string_a_field_accepts_is_printable_ascii_without_space(
    kind: str, name: str, spec: FieldSpec, data: st.DataObject
) -> None:
    """The fast path proves characters for a whole payload at once; that holds only while no
    field accepts a space, a control or a character outside ASCII."""
    value = data.draw(sample_values(spec))
    if spec.check(f"{kind}.{name}", value) is None:
        assert isinstance(value, str) and all("!" <= c <= "~" for c in value), value


HEADED = [(kind, name, spec) for kind, name, spec in SPECS if spec.head_pattern is not None]


@pytest.mark.parametrize(("kind", "name", "spec"), HEADED, ids=[f"{k}.{n}" for k, n, _ in HEADED])
@given(data=st.data())
def test_a_head_pattern_says_what_the_whole_pattern_says_of_printable_values(
    kind: str, name: str, spec: FieldSpec, data: st.DataObject
) -> None:
    """For printable ASCII without space, matching the head at the start is the full match."""
    assert spec.pattern is not None and spec.head_pattern is not None
    printable = st.characters(min_codepoint=0x21, max_codepoint=0x7E)
    value = data.draw(
        st.one_of(
            st.from_regex(spec.pattern, fullmatch=True, alphabet=printable),
            st.text(alphabet=printable, max_size=30),
            st.from_regex(
                r"[Hh][Tt][Tt][Pp][Ss]?://[!-~]{0,12}", fullmatch=True, alphabet=printable
            ),
        )
    )
    whole = re.fullmatch(spec.pattern, value) is not None
    assert (re.match(spec.head_pattern, value) is not None) == whole, value


def test_a_long_payload_is_proved_valid_and_reports_what_the_walk_reports() -> None:
    """Long URLs (tested by their head after a scan of their characters): the same report."""
    url = "https://a.example/" + "x" * 1500
    data = {"actions": [{"play": {"url": url}}] * 30 + [{"hangup": {}}, {"play": {"url": url}}]}
    text = json.dumps(data)
    assert proved(text)
    assert validate(text) == walk_only(text) == fast(text)
    assert validate(text).codes == ("unreachable_action",)


@pytest.mark.parametrize(
    ("url", "valid"),
    [
        ("https://user:pw@h.example:8443/a.wav", True),
        ("http://[::1]:8000/a.wav", True),
        ("https://h.example:/a.wav", True),
        ("https://@", False),
        ("https://:80/x", False),
        ("http://user:pw@", False),
        ("https:///x", False),
        ("https://?q", False),
        ("https://#f", False),
        ("https://h.example:65536/", False),
    ],
)
def test_the_fast_path_takes_urls_with_a_host_and_only_those(url: str, valid: bool) -> None:
    """A URL with a host is proved valid by its prover; one without goes to the walk."""
    for data in ({"actions": [{"play": {"url": url}}]}, {"actions": [{"redirect": {"url": url}}]}):
        for text in layouts(data):
            assert proved(text) is valid
            assert validate(text) == walk_only(text)
            assert validate(text).ok is valid


def test_msgspec_is_imported_only_once_a_process_has_validated_many_payloads() -> None:
    """The first 999 texts are read by the standard library; the 1,000th imports msgspec."""
    probe = (
        "import sys\n"
        "from minivoice_flow import validate\n"
        'text = \'{"actions":[{"hangup":{}}]}\'\n'
        "for _ in range(999): assert validate(text).ok\n"
        "print('msgspec' in sys.modules)\n"
        "assert validate(text).ok\n"
        "print('msgspec' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert result.stdout.split() == ["False", "True"]
