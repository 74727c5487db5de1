"""Reading JSON back: every payload-level code, every input type, every problem in one pass."""

from __future__ import annotations

import json
from typing import Any

import pytest

from minivoice_flow import Flow, FlowValidationError, SendDigits, parse, validate

GOOD = '{"actions":[{"send_digits":{"digits":"1234#"}}]}'


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
