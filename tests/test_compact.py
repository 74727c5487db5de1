"""validate()'s fast path: a regex match must mean exactly what the full walk concludes.

The fast path (``_compact``) skips the item-by-item walk for compact texts it can prove valid.
These tests hold it to the walk: the same report for any text, a match never on a text the walk
would fault, and a match on what the library itself writes (or the speed is silently lost).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest.mock import patch

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from minivoice_flow import Flow, Report, _compact, _wire, validate
from minivoice_flow._actions import CATALOGUE
from tests.strategies import any_flows, mutated_payloads, near_payloads, valid_flows


@contextmanager
def fast_path_off() -> Iterator[None]:
    with patch.object(_compact, "matches", return_value=False):
        yield


def walk_only(text: str, direction: Any = None) -> Report:
    with fast_path_off():
        return validate(text, direction=direction)


def compact(data: Any) -> str:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)


def spaced(data: Any) -> str:
    """As json.dumps() writes by default: a space after each colon and comma."""
    return json.dumps(data, ensure_ascii=False)


def flow_text(flow: Flow) -> str:
    """The compact JSON of any flow's actions, even one that breaks the ordering rules."""
    return _wire.payload_json(flow.actions)


# The fast path against the walk.

QUOTE_INSIDE_A_VALUE = '{"actions":[{"play":{"url":"https://","x":"b"}}]}'


@given(any_flows())
def test_the_library_s_own_json_takes_the_fast_path(flow: Flow) -> None:
    text = flow_text(flow)
    # Only a value that JSON must escape (a quote or backslash in a URL) sends it to the walk.
    assert _compact.matches(text) == ("\\" not in text)
    assert validate(text, direction=flow.direction) == walk_only(text, flow.direction)
    default_spacing = spaced(json.loads(text))
    assert _compact.matches(default_spacing) == ("\\" not in text)
    assert validate(default_spacing) == walk_only(default_spacing)


def test_other_layouts_take_the_walk() -> None:
    text = flow_text(Flow().play("https://a.example/x", loop=2).hangup())
    data = json.loads(text)
    reordered = '{"actions":[{"play":{"loop":2,"url":"https://a.example/x"}},{"hangup":{}}]}'
    assert json.loads(reordered) == data
    for layout in (
        json.dumps(data, indent=2),
        json.dumps(data, separators=(" ,", " :")),
        reordered,
        " " + text,
        text.replace(",", ",  "),
    ):
        assert not _compact.matches(layout)
        assert validate(layout) == validate(text)


@given(
    st.one_of(mutated_payloads(), near_payloads()).flatmap(
        lambda data: st.sampled_from([compact(data), spaced(data)])
    )
)
def test_fast_path_reports_what_the_walk_reports_for_mutated_payloads(text: str) -> None:
    assert validate(text) == walk_only(text)
    if _compact.matches(text):
        assert not validate(text).errors or _only_rule_codes(validate(text))


def _only_rule_codes(report: Report) -> bool:
    field_codes = {
        "invalid_type",
        "invalid_value",
        "out_of_range",
        "missing_field",
        "unknown_field",
        "unknown_action",
        "malformed_action",
        "duplicate_key",
    }
    return not any(d.code in field_codes for d in report.diagnostics)


@st.composite
def edited_texts(draw: st.DrawFn) -> str:
    """A valid compact text with a few characters inserted, removed or copied elsewhere."""
    text = flow_text(draw(valid_flows()))
    if draw(st.booleans()):
        text = spaced(json.loads(text))
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(text)))
        edit = draw(st.integers(0, 2))
        if edit == 0:
            text = text[:at] + draw(st.sampled_from(list('"\\,:{}[]0 -9a.wé'))) + text[at:]
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
@example('{"actions":[],"actions":[{"hangup":{}}]}')
@example('{"actions":[{"play":{"loop":2,"url":"https://a.example/x"}}]}')
@example('{"actions":[{"send_digits":{"digits":"1234#","pause_before_ms":2000.0}}]}')
@example('{"actions":[{"send_digits":{"digits":"1234#","pause_before_ms":02000}}]}')
@example('{"actions":[{"send_digits":{"digits":"12\\u0034#"}}]}')
@example('{"actions":[{"redirect":{"url":"https:\\/\\/a.example\\/next"}}]}')
@example('{"actions":[{"hangup":{}},]}')
@example('{"actions":[{"hangup":{},"play":{"url":"https://a.example/x"}}]}')
@example('{"actions":[{"hangup":{}}]} ')
def test_fast_path_reports_what_the_walk_reports_for_edited_texts(text: str) -> None:
    assert validate(text) == walk_only(text)
    assert validate(text, direction="inbound") == walk_only(text, "inbound")


def test_a_quote_inside_a_value_is_never_taken_for_the_end_of_the_value() -> None:
    # A URL pattern allows '"', so a careless expression could read https://","x":"b as
    # one URL. The text has an unknown field x and an empty host.
    assert not _compact.matches(QUOTE_INSIDE_A_VALUE)
    codes = {d.code for d in validate(QUOTE_INSIDE_A_VALUE).diagnostics}
    assert {"unknown_field", "invalid_value"} <= codes


@pytest.mark.parametrize(
    ("length", "matched"),
    [(2048, True), (2049, False)],
)
def test_a_url_s_length_limit_holds_on_the_fast_path(length: int, matched: bool) -> None:
    url = "https://a.example/" + "x" * (length - len("https://a.example/"))
    text = compact({"actions": [{"play": {"url": url}}]})
    assert _compact.matches(text) is matched
    assert validate(text) == walk_only(text)


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
    """A URL with a host is proved valid by the match; one without goes to the walk."""
    for data in ({"actions": [{"play": {"url": url}}]}, {"actions": [{"redirect": {"url": url}}]}):
        for text in (compact(data), spaced(data)):
            assert _compact.matches(text) is valid
            assert validate(text) == walk_only(text)
            assert validate(text).ok is valid


def test_a_payload_over_the_action_limit_is_matched_and_left_to_the_rules() -> None:
    text = compact({"actions": [{"hangup": {}}] * 1_500})  # past the action limit, not the size
    assert _compact.matches(text)
    report = validate(text)
    assert {d.code for d in report.errors} == {"too_many_actions", "unreachable_action"}
    assert report == walk_only(text)


# The pieces the expression is built from.


@pytest.mark.parametrize(
    ("low", "high"),
    [
        (0, 0),
        (0, 9),
        (1, 10),
        (5, 95),
        (0, 1000),
        (99, 101),
        (1000, 60000),
        (5000, 120000),
        (7, 7),
        (10, 10),
        (123, 4567),
    ],
)
def test_integer_range_pattern_matches_exactly_the_range(low: int, high: int) -> None:
    pattern = _compact.integer_range_pattern(low, high)
    assert pattern is not None
    regex = re.compile(pattern)
    for number in range(max(0, low - 1100), high + 1100):
        assert (regex.fullmatch(str(number)) is not None) == (low <= number <= high), number


@given(st.integers(0, 10**7), st.integers(0, 10**7), st.integers(0, 10**8))
def test_integer_range_pattern_holds_for_any_range(a: int, b: int, number: int) -> None:
    low, high = sorted((a, b))
    regex = re.compile(_compact.integer_range_pattern(low, high) or "(?!)")
    assert (regex.fullmatch(str(number)) is not None) == (low <= number <= high)
    for text in (f"0{low}", f"-{low}", f"{low}.0", f"+{low}"):
        assert regex.fullmatch(text) is None


def test_an_empty_range_has_no_pattern() -> None:
    assert _compact.integer_range_pattern(5, 4) is None


PATTERNS = sorted(
    {field.spec.pattern for info in CATALOGUE for field in info.fields if field.spec.pattern}
)


@pytest.mark.parametrize("pattern", PATTERNS)
@given(data=st.data())
def test_rewritten_patterns_match_only_unescaped_values_the_original_accepts(
    pattern: str, data: st.DataObject
) -> None:
    rewritten = _compact.without_escaped_characters(pattern)
    assert rewritten is not None
    value = data.draw(st.from_regex(rewritten, fullmatch=True))
    assert '"' not in value and "\\" not in value
    assert re.fullmatch(pattern, value)


@pytest.mark.parametrize("pattern", PATTERNS)
@given(data=st.data())
def test_rewritten_patterns_keep_every_unescaped_value(pattern: str, data: st.DataObject) -> None:
    value = data.draw(st.from_regex(pattern, fullmatch=True))
    if '"' not in value and "\\" not in value:
        assert re.fullmatch(_compact.without_escaped_characters(pattern) or "(?!)", value)


@pytest.mark.parametrize(
    "pattern",
    [
        ".",
        r"\d+",
        "[^a]",
        "(?!x)y",
        '"',
        r"\\",
        r"\"",
        "^a",
        "a$",
        r"[\d]",
        "(?i)a",
        r"\x22",
        "a{2",
        "[a-c--e]",
        "[[a]]",
        r"[a\]]",
        r"\1",
        "é",
    ],
)
def test_unfamiliar_patterns_are_left_to_the_walk(pattern: str) -> None:
    assert _compact.without_escaped_characters(pattern) is None


def test_classes_lose_only_the_quote_and_the_backslash() -> None:
    rewritten = _compact.without_escaped_characters(r"[!-~]+[\-a]")
    assert rewritten is not None
    regex = re.compile(rewritten)
    assert regex.fullmatch("!#$[]~-") and regex.fullmatch("x-") and regex.fullmatch("xa")
    assert not regex.fullmatch('a"-') and not regex.fullmatch("a\\-") and not regex.fullmatch("xb")
