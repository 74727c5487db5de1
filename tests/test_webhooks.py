"""Webhook and action-request models: exact reading, kept unknowns, located errors."""

from __future__ import annotations

import json
import pickle
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from minivoice_flow.webhooks import (
    Call,
    CallStatus,
    Event,
    FlowRequest,
    Webhook,
    WebhookError,
    parse_flow_request,
    parse_webhook,
)
from tests.strategies import json_values
from tests.webhook_strategies import near_webhooks, webhook_payloads

VENDOR = Path(__file__).parent / "fixtures" / "vendor" / "webhook-example.json"


def vendor_payload() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(VENDOR.read_text())
    return data


def problems(payload: Any) -> list[tuple[str, str, str]]:
    """(code, pointer, message) of every problem, or fail if the payload reads."""
    with pytest.raises(WebhookError) as info:
        parse_webhook(payload)
    return [(d.code, d.path, d.message) for d in info.value.diagnostics]


class TestVendorExample:
    """The webhook on MiniVoice's page reads exactly, and writes back exactly."""

    def test_every_field(self) -> None:
        webhook = parse_webhook(VENDOR.read_bytes())
        assert webhook == Webhook(
            event="call.completed",
            created_at=datetime(2026, 5, 29, 12, 10, tzinfo=UTC),
            call=Call(
                id="call_123",
                customer_id="cust_123",
                application_id="app_123",
                status="completed",
                direction="inbound",
                from_="+15551230001",
                to="+15551230002",
            ),
            variables={},
            data={},
        )
        assert webhook.event == Event.COMPLETED
        assert webhook.call.status == CallStatus.COMPLETED
        assert webhook.call.ended
        assert webhook.extra == {} and webhook.call.extra == {}

    def test_writes_back_the_same_data(self) -> None:
        webhook = parse_webhook(VENDOR.read_text())
        assert webhook.to_dict() == vendor_payload()
        assert json.loads(webhook.to_json()) == vendor_payload()
        assert list(webhook.to_dict()["call"]) == list(vendor_payload()["call"])

    def test_bytes_text_and_data_read_alike(self) -> None:
        assert (
            parse_webhook(VENDOR.read_bytes())
            == parse_webhook(VENDOR.read_text())
            == parse_webhook(vendor_payload())
        )


class TestUnknownsAreKept:
    """MiniVoice may add events, statuses and keys: they are kept, never rejected."""

    def test_unknown_event_and_status(self) -> None:
        payload = vendor_payload()
        payload["event"] = "call.recording_ready"
        payload["call"]["status"] = "on_hold"
        webhook = parse_webhook(payload)
        assert webhook.event == "call.recording_ready"
        assert webhook.call.status == "on_hold"
        assert not webhook.call.ended

    def test_extra_keys_at_both_levels(self) -> None:
        payload = vendor_payload()
        payload["region"] = "eu-west"
        payload["extra"] = {"nested": [1, 2]}
        payload["call"]["answered_by"] = "human"
        webhook = parse_webhook(payload)
        assert webhook.extra == {"region": "eu-west", "extra": {"nested": [1, 2]}}
        assert webhook.call.extra == {"answered_by": "human"}
        assert webhook.to_dict() == payload

    def test_variables_and_data_are_kept(self) -> None:
        payload = vendor_payload()
        payload["variables"] = {"pin": "1234", "choice": ""}
        payload["data"] = {"duration_ms": 61000, "legs": [{"to": "+1"}]}
        webhook = parse_webhook(payload)
        assert webhook.variables == {"pin": "1234", "choice": ""}
        assert webhook.data["legs"] == [{"to": "+1"}]

    def test_variables_and_data_may_be_left_out(self) -> None:
        payload = vendor_payload()
        del payload["variables"], payload["data"]
        webhook = parse_webhook(payload)
        assert webhook.variables == {} and webhook.data == {}


class TestTimestamps:
    """created_at is always a timezone-aware datetime."""

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("2026-05-29T12:10:00Z", datetime(2026, 5, 29, 12, 10, tzinfo=UTC)),
            (
                "2026-05-29T14:10:00.250+02:00",
                datetime(2026, 5, 29, 14, 10, 0, 250000, tzinfo=timezone(timedelta(hours=2))),
            ),
        ],
    )
    def test_offsets_are_kept(self, text: str, expected: datetime) -> None:
        payload = vendor_payload() | {"created_at": text}
        created = parse_webhook(payload).created_at
        assert created == expected and created.utcoffset() == expected.utcoffset()

    def test_naive_time_is_an_error_saying_so(self) -> None:
        [(code, path, message)] = problems(vendor_payload() | {"created_at": "2026-05-29T12:10:00"})
        assert (code, path) == ("invalid_value", "/created_at")
        assert '"2026-05-29T12:10:00"' in message and "no time zone" in message

    @pytest.mark.parametrize(
        ("value", "code"),
        [("yesterday", "invalid_value"), ("", "invalid_value"), (1717000000, "invalid_type")],
    )
    def test_unreadable_time_is_an_error(self, value: object, code: str) -> None:
        [(got, path, message)] = problems(vendor_payload() | {"created_at": value})
        assert (got, path) == (code, "/created_at")
        assert "ISO 8601" in message and "2026-05-29T12:10:00Z" in message

    def test_an_aware_datetime_object_is_accepted(self) -> None:
        moment = datetime(2026, 1, 1, tzinfo=UTC)
        assert parse_webhook(vendor_payload() | {"created_at": moment}).created_at == moment


class TestMalformed:
    """Every problem is reported at once, by JSON pointer, naming field, value and rule."""

    def test_all_problems_in_one_pass(self) -> None:
        payload = vendor_payload()
        payload["event"] = 7
        del payload["call"]["to"]
        payload["call"]["from"] = None
        payload["variables"] = {"pin": 1234}
        found = problems(payload)
        assert [(code, path) for code, path, _ in found] == [
            ("invalid_type", "/event"),
            ("invalid_type", "/call/from"),
            ("missing_field", "/call/to"),
            ("invalid_type", "/variables/pin"),
        ]
        messages = [message for _, _, message in found]
        assert messages[0] == "event must be a string; got 7"
        assert messages[1] == "call.from must be a string; got null"
        assert messages[2] == "call.to is missing; it must be a string"
        assert messages[3] == "variables.pin must be a string; got 1234"

    def test_numbers_are_not_strings(self) -> None:
        """No quiet str(123): a call ID sent as a number is an error, not "123"."""
        payload = vendor_payload()
        payload["call"]["id"] = 123
        assert problems(payload) == [
            ("invalid_type", "/call/id", "call.id must be a non-empty string; got 123")
        ]

    def test_an_empty_call_id_correlates_nothing(self) -> None:
        payload = vendor_payload()
        payload["call"]["id"] = ""
        assert problems(payload)[0][:2] == ("invalid_value", "/call/id")

    @pytest.mark.parametrize(
        ("key", "value", "pointer"),
        [("call", [], "/call"), ("variables", "pin", "/variables"), ("data", 3, "/data")],
    )
    def test_objects_must_be_objects(self, key: str, value: object, pointer: str) -> None:
        [(code, path, message)] = problems(vendor_payload() | {key: value})
        assert (code, path) == ("invalid_type", pointer)
        assert message.startswith(f"{key} must be an object; got ")

    def test_missing_call(self) -> None:
        payload = vendor_payload()
        del payload["call"]
        assert problems(payload) == [
            ("missing_field", "/call", "call is missing; it must be an object describing the call")
        ]

    def test_pointer_tokens_are_escaped(self) -> None:
        payload = vendor_payload() | {"variables": {"a/b~c": 1}}
        assert problems(payload)[0][1] == "/variables/a~1b~0c"

    @pytest.mark.parametrize(
        ("payload", "code", "words"),
        [
            (b"\xff{}", "malformed_json", "not UTF-8"),
            ("{", "malformed_json", "not valid JSON"),
            ('{"event": NaN}', "malformed_json", "NaN"),
            ("[]", "malformed_payload", "must be a JSON object; got an array"),
            ("null", "malformed_payload", "got null"),
            ("[" * 100_000, "malformed_json", "nested too deeply"),
        ],
    )
    def test_unreadable_documents(self, payload: bytes | str, code: str, words: str) -> None:
        [(got, path, message)] = problems(payload)
        assert (got, path) == (code, "")
        assert words in message

    def test_error_is_a_value_error_with_a_summary(self) -> None:
        with pytest.raises(ValueError, match=r"webhook cannot be read \(1 problem\)") as info:
            parse_webhook("[]")
        error = info.value
        assert isinstance(error, WebhookError)
        assert (error.code, error.path) == ("malformed_payload", "")


class TestFlowRequest:
    """The modelled body of MiniVoice's request for actions reads like a webhook."""

    def test_call_and_variables(self) -> None:
        payload = {"call": vendor_payload()["call"] | {"status": "busy"}, "variables": {"pin": ""}}
        request = parse_flow_request(json.dumps(payload))
        assert request.call.status == CallStatus.BUSY
        assert request.variables == {"pin": ""}
        assert request.to_dict() == payload | {"data": {}}

    def test_errors_name_the_request(self) -> None:
        with pytest.raises(WebhookError, match="action request") as info:
            parse_flow_request({"variables": {}})
        assert info.value.path == "/call"


class TestImmutable:
    """Parsed objects cannot be changed, and survive pickling."""

    def test_fields_and_mappings_are_read_only(self) -> None:
        webhook = parse_webhook(vendor_payload() | {"variables": {"pin": "1"}})
        with pytest.raises(attrs.exceptions.FrozenInstanceError):
            webhook.event = "x"  # type: ignore[misc]
        with pytest.raises(TypeError):
            webhook.variables["pin"] = "2"  # type: ignore[index]

    def test_the_input_is_copied(self) -> None:
        payload = vendor_payload() | {"variables": {"pin": "1"}}
        webhook = parse_webhook(payload)
        payload["variables"]["pin"] = "2"
        assert webhook.variables["pin"] == "1"

    def test_pickle_round_trip(self) -> None:
        webhook = parse_webhook(vendor_payload() | {"region": "eu"})
        request = FlowRequest(webhook.call, {"pin": "1"})
        assert pickle.loads(pickle.dumps(webhook)) == webhook
        assert pickle.loads(pickle.dumps(request)) == request
        with pytest.raises(WebhookError) as raised:
            parse_webhook("[]")
        error = raised.value
        copied = pickle.loads(pickle.dumps(error))
        assert copied.diagnostics == error.diagnostics and str(copied) == str(error)


@given(webhook_payloads())
def test_valid_payloads_round_trip(payload: dict[str, Any]) -> None:
    webhook = parse_webhook(json.dumps(payload))
    assert webhook.to_dict() == payload
    assert parse_webhook(webhook.to_json()) == webhook
    assert webhook.created_at.utcoffset() is not None


@given(json_values | near_webhooks() | st.binary(max_size=200) | st.text(max_size=200))
@example({"call": {1: "x"}})
@example({"created_at": "2026-05-29T12:10:00+25:00"})
def test_parse_raises_only_its_own_error(payload: Any) -> None:
    """Anything at all either reads, or raises WebhookError with located problems."""
    try:
        webhook = parse_webhook(payload)
    except WebhookError as error:
        assert error.diagnostics
        assert all(d.severity == "error" and d.message for d in error.diagnostics)
        return
    assert isinstance(webhook, Webhook)
