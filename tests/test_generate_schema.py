"""The JSON Schema: valid draft 2020-12, and in agreement with validate() on every payload."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from hypothesis import assume, example, given, settings

from minivoice_flow import validate
from minivoice_flow._actions import CATALOGUE
from minivoice_flow._codes import CODES
from minivoice_flow._generate.schema import (
    EXPRESSED_RULES,
    TEXT_ONLY_CODES,
    anchored,
    build_schema,
    character_class,
    schema_text,
)
from tests.cases import FIELD_CASES, REQUIRED, case_id
from tests.strategies import mutated_payloads, near_payloads, valid_flows

jsonschema = pytest.importorskip("jsonschema")

SCHEMA = build_schema()
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)

#: Codes the schema cannot express: the ordering rules beyond the array's length. (The codes
#: only JSON text can raise never arise here: the payloads are compared as decoded values.)
NOT_EXPRESSED = frozenset({c.code for c in CODES.values() if c.kind == "rule"} - EXPRESSED_RULES)


def schema_accepts(payload: Any) -> bool:
    return bool(VALIDATOR.is_valid(payload))


def validate_accepts(payload: Any) -> bool | None:
    """validate() finds nothing a schema can express; None when it checked nothing (64 KiB)."""
    # A str given to validate() is JSON text; a decoded top-level string must be encoded.
    codes = set(validate(json.dumps(payload) if isinstance(payload, str) else payload).codes)
    if "payload_too_large" in codes:
        return None
    return not codes - NOT_EXPRESSED


def assert_agree(payload: Any) -> None:
    verdict = validate_accepts(payload)
    assume(verdict is not None)
    assert schema_accepts(payload) is verdict


class TestShape:
    """The schema is well formed and carries what the issue asks of it."""

    def test_is_a_valid_draft_2020_12_schema(self) -> None:
        jsonschema.Draft202012Validator.check_schema(SCHEMA)
        assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"

    def test_every_action_and_field_is_described(self) -> None:
        defs = SCHEMA["$defs"]
        assert set(defs["action"]["properties"]) == {info.kind for info in CATALOGUE}
        for info in CATALOGUE:
            value = defs[info.kind]
            assert value["additionalProperties"] is False
            assert value["required"] == [f.name for f in info.fields if f.required]
            assert list(value["properties"]) == [f.name for f in info.fields]
            for field in value["properties"].values():
                assert field["description"]

    def test_description_lists_every_rule_it_cannot_express(self) -> None:
        description = SCHEMA["description"]
        for code in NOT_EXPRESSED | set(TEXT_ONLY_CODES):
            assert f"- {code} (" in description
        for code in EXPRESSED_RULES:
            assert code not in description

    def test_text_is_deterministic_json(self) -> None:
        assert schema_text() == schema_text()
        assert json.loads(schema_text()) == SCHEMA
        assert schema_text().endswith("}\n")


class TestPatterns:
    """Patterns match whole strings alike in Python's re and ECMA-262."""

    def test_anchored_rejects_a_trailing_newline(self) -> None:
        # Python's "$" would match before the newline; the schema must not.
        assert re.search(anchored("[0-9]+"), "123") is not None
        assert re.search(anchored("[0-9]+"), "123\n") is None
        assert re.search(anchored("[0-9]+"), "x123") is None

    def test_character_class_uses_ranges_and_escapes(self) -> None:
        assert character_class("0123456789*#ABCDwW,") == "#*,0-9A-DWw"
        assert character_class("ab") == "ab"
        assert character_class("]-^x") == "\\-\\]\\^x"
        assert character_class("\\]^") == "\\\\-\\^"  # a run of three becomes a range
        assert re.fullmatch(f"[{character_class(']-^x')}]+", "]-^x")


class TestAgreement:
    """The schema and validate() accept and reject the same payloads, field rules and all.

    Ordering rules and limits only JSON text can break are left aside: the schema lists them
    in its description instead.
    """

    @pytest.mark.parametrize("case", FIELD_CASES, ids=case_id)
    def test_every_field_case(self, case: tuple[str, str, Any, str | None]) -> None:
        kind, name, value, code = case
        payload = {"actions": [{kind: {**REQUIRED[kind], name: value}}]}
        assert schema_accepts(payload) is (code is None)
        assert validate_accepts(payload) is (code is None)

    @settings(max_examples=400)
    @given(mutated_payloads())
    @example({"actions": [{"send_digits": {"digits": "1234#\n"}}]})
    @example({"actions": [{"collect": {"variable": "x", "timeout_ms": 2000.0}}]})
    @example({"actions": [{"hangup": {}}] * 101})
    @example({"actions": []})
    def test_mutated_payloads(self, payload: Any) -> None:
        assert_agree(payload)

    @given(near_payloads())
    def test_near_payloads(self, payload: Any) -> None:
        assert_agree(payload)

    @given(valid_flows())
    def test_every_valid_flow_is_schema_valid(self, flow: Any) -> None:
        assert schema_accepts(flow.to_dict())
