"""Reading JSON back: every payload-level code, every input type, every problem in one pass."""

from __future__ import annotations

import json
from typing import Any

import pytest

from minivoice_flow import Flow, FlowError, FlowValidationError, SendDigits, parse, validate

GOOD = '{"actions":[{"send_digits":{"digits":"1234#"}}]}'
RULE_CODES = {"transfer_without_fallback", "collect_without_prompt", "input_not_forwarded"}


def where(payload: object, **kwargs: Any) -> list[tuple[str, str]]:
    return [(d.code, d.path) for d in validate(payload, **kwargs).diagnostics]


class TestInputs:
    @pytest.mark.parametrize(
        "payload", [GOOD, GOOD.encode(), bytearray(GOOD.encode()), memoryview(GOOD.encode())]
    )
    def test_text_and_bytes(self, payload: object) -> None:
        assert validate(payload).diagnostics == ()
        assert parse(payload) == Flow().send_digits("1234#")

    def test_parsed_object(self) -> None:
        assert parse(json.loads(GOOD)) == Flow().send_digits("1234#")

    def test_name_and_direction_are_keywords(self) -> None:
        flow = parse(GOOD, name="pin", direction="inbound")
        assert (flow.name, flow.direction) == ("pin", "inbound")
        assert where(GOOD, direction="inbound") == [("digits_to_caller", "/actions/0/send_digits")]

    @pytest.mark.parametrize("direction", ["Inbound", "INBOUND", "in", "", 1, True, ["inbound"]])
    @pytest.mark.parametrize("payload", [GOOD, "not json", b"\xff", {"actions": 5}])
    def test_a_bad_direction_is_refused_by_validate_and_parse_alike(
        self, direction: Any, payload: object
    ) -> None:
        """A bad direction argument is a FlowError naming it and the allowed values, whatever
        the payload holds; it is never silently ignored."""
        for call in (validate, parse):
            with pytest.raises(FlowError) as info:
                call(payload, direction=direction)
            assert not isinstance(info.value, FlowValidationError)
            message = str(info.value)
            assert f"{call.__name__}() direction must be" in message
            assert '"inbound", "outbound" or None' in message

    @pytest.mark.parametrize("name", [1, b"pin", ["pin"]])
    def test_a_bad_name_is_refused_by_parse_whatever_the_payload(self, name: Any) -> None:
        """parse() checks its name argument before the payload, as it checks direction."""
        for payload in (GOOD, "not json"):
            with pytest.raises(FlowError, match=r"parse\(\) name must be a string or None"):
                parse(payload, name=name)

    def test_whole_float_is_read_as_int(self) -> None:
        flow = parse('{"actions":[{"send_digits":{"digits":"1","pause_before_ms":2000.0}}]}')
        assert flow.actions == (SendDigits("1", pause_before_ms=2000),)
        assert (
            flow.to_json() == '{"actions":[{"send_digits":{"digits":"1","pause_before_ms":2000}}]}'
        )


class TestMalformedJson:
    @pytest.mark.parametrize(
        "payload",
        [
            "",
            "{",
            "{'actions': []}",
            b"\xff\xfe{}",
            b'{"actions":[{"send_digits":{"digits":"\xe9"}}]}',  # Latin-1, not UTF-8
            b'\xef\xbb\xbf{"actions":[{"hangup":{}}]}',
            '\ufeff{"actions":[{"hangup":{}}]}',
            '{"actions":[{"send_digits":{"digits":"1","pause_before_ms":NaN}}]}',
            '{"actions":[{"send_digits":{"digits":"1","pause_before_ms":Infinity}}]}',
            '{"actions":[{"send_digits":{"digits":"1","pause_before_ms":-Infinity}}]}',
        ],
    )
    def test_reported_at_the_document(self, payload: object) -> None:
        assert where(payload) == [("malformed_json", "")]

    def test_syntax_error_gives_line_and_column(self) -> None:
        (diagnostic,) = validate('{\n "actions": [,]\n}').diagnostics
        assert "line 2, column 14" in diagnostic.message

    def test_deep_nesting_is_reported_not_raised(self) -> None:
        text = '{"actions":' + "[" * 20_000 + "]" * 20_000 + "}"
        assert len(text) < 64 * 1024
        assert where(text) == [("malformed_json", "")]
        assert "nested too deeply" in validate(text).diagnostics[0].message

    def test_deeply_nested_object_is_reported_not_raised(self) -> None:
        deep: list[Any] = []
        for _ in range(50_000):
            deep = [deep]
        assert where({"actions": deep}) == [("malformed_payload", "")]

    def test_circular_object_is_reported_not_raised(self) -> None:
        loop: list[Any] = []
        loop.append(loop)
        assert where({"actions": loop}) == [("malformed_payload", "")]

    def test_huge_integer_literal_is_out_of_range(self) -> None:
        text = '{"actions":[{"send_digits":{"digits":"1","pause_before_ms":' + "9" * 5000 + "}}]}"
        assert where(text) == [("out_of_range", "/actions/0/send_digits/pause_before_ms")]

    @pytest.mark.parametrize(
        "huge", [10**5000, -(10**5000), 10**4300 + 1], ids=["1e5000", "-1e5000", "1e4300+1"]
    )
    @pytest.mark.parametrize(
        ("place", "expected"),
        [
            ("play.loop", [("out_of_range", "/actions/0/play/loop")]),
            (
                "send_digits.pause_before_ms",
                [("out_of_range", "/actions/0/send_digits/pause_before_ms")],
            ),
            ("collect.max_digits", [("out_of_range", "/actions/0/collect/max_digits")]),
            ("transfer.timeout_ms", [("out_of_range", "/actions/0/transfer/timeout_ms")]),
            ("play.url", [("invalid_type", "/actions/0/play/url")]),
            ("hangup.extra", [("unknown_field", "/actions/0/hangup/extra")]),
        ],
    )
    def test_huge_integer_in_parsed_data_is_judged_where_it_stands(
        self, huge: int, place: str, expected: list[tuple[str, str]]
    ) -> None:
        """An int too long for Python to print, anywhere in a parsed mapping, gets the
        diagnostic its place calls for (never "circular reference")."""
        kind, field = place.split(".")
        fields: dict[str, Any] = {
            "play": {"url": "https://a.example/x"},
            "send_digits": {"digits": "1"},
            "collect": {"variable": "pin"},
            "transfer": {"to": "+15551230002", "fallback_url": "https://a.example/b"},
            "hangup": {},
        }[kind]
        payload = {"actions": [{kind: {**fields, field: huge}}]}
        found = [pair for pair in where(payload) if pair[0] not in RULE_CODES]
        assert found == expected
        assert not any("circular" in d.message for d in validate(payload).diagnostics)

    @pytest.mark.parametrize(
        "payload",
        [
            {"actions": [10**5000]},
            {"actions": [{10**5000: {}}]},
            {"actions": [{"hangup": {10**5000: 1}}]},
            {"actions": [{"hangup": {}}], 10**5000: 1},
            {"actions": [{"hangup": {"x": [1, (2, 10**5000)]}}]},
            10**5000,
        ],
        ids=["item", "action-key", "field-key", "top-key", "in-a-tuple", "payload"],
    )
    def test_huge_integer_anywhere_is_reported_not_raised(self, payload: Any) -> None:
        """validate() and parse() report a huge int as a key, item or value, never raise."""
        report = validate(payload)
        assert not report.ok
        assert "malformed_json" not in report.codes
        assert not any("circular" in d.message for d in report.diagnostics)
        with pytest.raises(FlowValidationError):
            parse(payload)

    def test_a_cycle_next_to_a_huge_integer_is_still_a_cycle(self) -> None:
        """The huge-integer path keeps telling a circular reference apart."""
        loop: list[Any] = [10**5000]
        loop.append(loop)
        (diagnostic,) = validate({"actions": loop}).diagnostics
        assert diagnostic.code == "malformed_payload" and "circular" in diagnostic.message

    def test_non_finite_number_in_parsed_data(self) -> None:
        payload = {"actions": [{"play": {"url": "https://a.example/x", "loop": float("nan")}}]}
        assert where(payload) == [("invalid_type", "/actions/0/play/loop")]


class TestSize:
    def padded(self, size: int) -> str:
        """A valid payload of exactly ``size`` bytes (padding inside a URL)."""
        head = '{"actions":[{"play":{"url":"https://a.example/'
        tail = '"}},{"hangup":{}}]}'
        return head + "x" * (size - len(head) - len(tail)) + tail

    def test_limit_is_inclusive(self) -> None:
        text = self.padded(64 * 1024)
        assert len(text.encode()) == 65536
        # Only the URL's own length limit fires; the payload itself is not too large.
        assert [code for code, _ in where(text)] == ["out_of_range"]

    @pytest.mark.parametrize("as_bytes", [False, True])
    def test_one_byte_over_is_its_only_diagnostic(self, as_bytes: bool) -> None:
        text = self.padded(64 * 1024 + 1)
        assert where(text.encode() if as_bytes else text) == [("payload_too_large", "")]

    def test_multibyte_text_counts_bytes_not_characters(self) -> None:
        text = '{"actions":[],"x":"' + "\u00e9" * 33_000 + '"}'  # 33k characters, 66k bytes
        assert len(text) < 65536 < len(text.encode())
        assert where(text) == [("payload_too_large", "")]

    def test_parsed_object_is_measured_as_compact_json(self) -> None:
        big = {"actions": [{"play": {"url": "https://a.example/" + "x" * 70_000}}]}
        assert where(big) == [("payload_too_large", "")]

    @pytest.mark.parametrize("sign", [1, -1])
    @pytest.mark.parametrize("over", [0, 1])
    def test_a_huge_integer_counts_its_digits(self, sign: int, over: int) -> None:
        """A parsed int too long to print is measured as its JSON digits, to the byte."""
        huge = sign * 10**5000
        head = '{"actions":[{"hangup":{}}],"pad":"'
        tail = '","n":' + ("-" if sign < 0 else "") + "1" + "0" * 5000 + "}"
        pad = "x" * (64 * 1024 + over - len(head) - len(tail))
        assert len(head + pad + tail) == 64 * 1024 + over
        payload = {"actions": [{"hangup": {}}], "pad": pad, "n": huge}
        assert (where(payload) == [("payload_too_large", "")]) is bool(over)
        assert validate(payload).codes == validate(head + pad + tail).codes

    def test_an_integer_longer_than_the_limit_is_too_large(self) -> None:
        """An int whose digits alone pass 64 KiB makes the payload too large."""
        payload = {"actions": [{"play": {"url": "https://a.example/x", "loop": 10**70_000}}]}
        assert where(payload) == [("payload_too_large", "")]


class TestPayloadShape:
    @pytest.mark.parametrize("payload", ["[]", "5", '"actions"', "null", "{}"])
    def test_top_level(self, payload: str) -> None:
        assert where(payload) == [("malformed_payload", "")]

    @pytest.mark.parametrize("actions", ["{}", '"hangup"', "null", "1"])
    def test_actions_not_an_array(self, actions: str) -> None:
        assert where('{"actions":' + actions + "}") == [("malformed_payload", "/actions")]

    def test_unknown_top_level_key(self) -> None:
        text = '{"actions":[{"hangup":{}}],"version":2}'
        assert where(text) == [("unknown_field", "/version")]

    @pytest.mark.parametrize(
        "item", ["{}", '{"play":{"url":"https://a.example/x"},"hangup":{}}', "[]", '"hangup"', "7"]
    )
    def test_malformed_action(self, item: str) -> None:
        assert where('{"actions":[' + item + "]}") == [("malformed_action", "/actions/0")]

    def test_action_value_not_an_object(self) -> None:
        assert where('{"actions":[{"hangup":null}]}') == [("malformed_action", "/actions/0/hangup")]

    def test_unknown_action_suggests_a_name(self) -> None:
        (diagnostic,) = validate('{"actions":[{"send_digit":{"digits":"1"}}]}').diagnostics
        assert (diagnostic.code, diagnostic.path) == ("unknown_action", "/actions/0/send_digit")
        assert 'did you mean "send_digits"' in diagnostic.message

    def test_unknown_field_suggests_a_name(self) -> None:
        text = '{"actions":[{"send_digits":{"digits":"1","pause_before":5}}]}'
        (diagnostic,) = validate(text).diagnostics
        assert (diagnostic.code, diagnostic.path) == (
            "unknown_field",
            "/actions/0/send_digits/pause_before",
        )
        assert 'did you mean "pause_before_ms"' in diagnostic.message

    def test_missing_field(self) -> None:
        assert where('{"actions":[{"send_digits":{}}]}') == [
            ("missing_field", "/actions/0/send_digits/digits")
        ]

    def test_null_optional_field_is_invalid_type(self) -> None:
        text = '{"actions":[{"send_digits":{"digits":"1","pause_before_ms":null}}]}'
        assert where(text) == [("invalid_type", "/actions/0/send_digits/pause_before_ms")]

    def test_pointer_tokens_are_escaped(self) -> None:
        text = '{"actions":[{"hangup":{"a/b":1,"m~n":2}}],"x/y":0}'
        assert where(text) == [
            ("unknown_field", "/x~1y"),
            ("unknown_field", "/actions/0/hangup/a~1b"),
            ("unknown_field", "/actions/0/hangup/m~0n"),
        ]


class TestDuplicateKeys:
    def test_every_level(self) -> None:
        text = (
            '{"actions":[{"send_digits":{"digits":"1","digits":"2"}}],'
            '"actions":[{"send_digits":{"digits":"1","digits":"x","digits":"3"}}]}'
        )
        assert where(text) == [
            ("duplicate_key", ""),
            ("duplicate_key", "/actions/0/send_digits"),
        ]
        assert "3 times" in validate(text).diagnostics[1].message

    def test_duplicate_action_name_in_one_object(self) -> None:
        text = '{"actions":[{"hangup":{},"hangup":{}}]}'
        assert where(text) == [("duplicate_key", "/actions/0")]

    def test_other_problems_still_reported(self) -> None:
        text = '{"actions":[{"send_digits":{"digits":"1","digits":"1"}},{"hangup":{"x":1}}]}'
        assert where(text) == [
            ("duplicate_key", "/actions/0/send_digits"),
            ("unknown_field", "/actions/1/hangup/x"),
        ]


class TestOnePass:
    def test_every_problem_in_document_order(self) -> None:
        payload = {
            "actions": [
                {"send_digits": {"digits": "12x", "pause_before_ms": -1, "volume": 3}},
                {"transfer": {"timeout_ms": "30s"}},
                {"dance": {}},
                {"hangup": {}},
                {"play": {"url": "ftp://a"}},
            ],
            "extra": True,
        }
        assert where(payload, direction="inbound") == [
            ("unknown_field", "/extra"),
            ("invalid_value", "/actions/0/send_digits/digits"),
            ("out_of_range", "/actions/0/send_digits/pause_before_ms"),
            ("unknown_field", "/actions/0/send_digits/volume"),
            ("digits_to_caller", "/actions/0/send_digits"),
            ("invalid_type", "/actions/1/transfer/timeout_ms"),
            ("missing_field", "/actions/1/transfer/to"),
            ("transfer_without_fallback", "/actions/1/transfer"),
            ("unknown_action", "/actions/2/dance"),
            ("invalid_value", "/actions/4/play/url"),
            ("unreachable_action", "/actions/4/play"),
        ]

    def test_too_many_actions_still_checks_each(self) -> None:
        actions: list[dict[str, Any]] = [{"play": {"url": "https://a.example/x"}}] * 120
        actions[110] = {"play": {"url": 5}}
        assert where({"actions": actions}) == [
            ("too_many_actions", "/actions"),
            ("invalid_type", "/actions/110/play/url"),
        ]


class TestParse:
    def test_raises_with_every_diagnostic(self) -> None:
        with pytest.raises(FlowValidationError) as info:
            parse('{"actions":[{"send_digits":{"digits":""}},{"hangup":{"x":1}}]}')
        assert info.value.report.codes == ("out_of_range", "unknown_field")
        assert str(info.value).startswith("payload is not valid (2 errors, 0 warnings)")

    def test_warnings_pass_unless_strict(self) -> None:
        text = '{"actions":[{"transfer":{"to":"+15551230002"}}]}'
        assert parse(text).actions[0].kind == "transfer"
        with pytest.raises(FlowValidationError):
            parse(text, strict=True)

    def test_round_trip_keeps_everything(self) -> None:
        flow = (
            Flow("menu", direction="inbound")
            .play("https://media.example.com/menu.wav", loop=2)
            .collect("choice", max_digits=1, timeout_ms=8000, finish_on_key="")
            .redirect("https://app.example.com/menu/choice", method="GET")
        )
        assert parse(flow.to_json(), name="menu", direction="inbound") == flow
