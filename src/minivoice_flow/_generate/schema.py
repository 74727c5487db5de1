"""The JSON Schema (draft 2020-12) of the answer_url payload, built from the catalogue.

Every field rule a schema can express is in it: types, ranges, lengths, patterns, choices,
required fields, no unknown keys, one key per action, 1 to 100 actions. What it cannot express
(the ordering rules, the size limit, duplicate keys, NaN literals) is listed in its
description, from the same code table the diagnostics use. No jinja2 here: the schema is data.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any, Final

from minivoice_flow._actions import CATALOGUE, ActionInfo
from minivoice_flow._codes import CODES, CodeInfo
from minivoice_flow._fields import FieldSpec
from minivoice_flow._generate import STAMP
from minivoice_flow._limits import MAX_ACTIONS

SCHEMA_PATH: Final = "docs/answer_url.schema.json"
SCHEMA_ID: Final = "urn:minivoice-flow:answer-url-payload"
DRAFT: Final = "https://json-schema.org/draft/2020-12/schema"

#: Codes whose whole meaning the schema carries (minItems and maxItems of ``actions``).
EXPRESSED_RULES: Final = frozenset({"empty_actions", "too_many_actions"})
#: Document-level codes that only arise from JSON text, not from the decoded value.
TEXT_ONLY_CODES: Final = ("payload_too_large", "duplicate_key", "malformed_json")

# End of input in both Python's re and ECMA-262: Python's "$" also matches before a final
# newline, so "$" alone would let "1234#\n" through the jsonschema package.
_END: Final = r"(?![\s\S])"
# Characters that must be escaped inside an ECMA-262 (and Python) character class; all are
# syntax characters, so the escape is valid with and without the "u" flag.
_CLASS_SPECIALS: Final = "\\]^-["
_UNIT_WORDS: Final = {"ms": "milliseconds"}


def build_schema(
    catalogue: Iterable[ActionInfo] = CATALOGUE, codes: Mapping[str, CodeInfo] = CODES
) -> dict[str, Any]:
    """The schema as plain data."""
    actions = tuple(catalogue)
    return {
        "$schema": DRAFT,
        "$id": SCHEMA_ID,
        "$comment": STAMP,
        "title": "MiniVoice answer_url payload",
        "description": _description(codes),
        "type": "object",
        "properties": {
            "actions": {
                "description": "The actions MiniVoice runs, in order.",
                "type": "array",
                "minItems": 1,
                "maxItems": MAX_ACTIONS,
                "items": {"$ref": "#/$defs/action"},
            }
        },
        "required": ["actions"],
        "additionalProperties": False,
        "$defs": {
            "action": _action_item(actions),
            **{info.kind: _action_value(info) for info in actions},
        },
    }


def schema_text(
    catalogue: Iterable[ActionInfo] = CATALOGUE, codes: Mapping[str, CodeInfo] = CODES
) -> str:
    """The schema as JSON text, two-space indented, ending in a newline."""
    return json.dumps(build_schema(catalogue, codes), indent=2, ensure_ascii=False) + "\n"


def schema_files(
    catalogue: Iterable[ActionInfo] = CATALOGUE, codes: Mapping[str, CodeInfo] = CODES
) -> dict[str, str]:
    """``{path: text}`` of the committed copy of the schema."""
    return {SCHEMA_PATH: schema_text(catalogue, codes)}


def _description(codes: Mapping[str, CodeInfo]) -> str:
    rules = [c for c in codes.values() if c.kind == "rule" and c.code not in EXPRESSED_RULES]
    lines = [
        "The JSON an answer_url returns to MiniVoice: one key, actions, an array of 1 to "
        f"{MAX_ACTIONS} action objects, each with exactly one key (the action's name) whose "
        "value holds that action's fields. This schema checks every field. It cannot check "
        "the following, which minivoice-flow's validate() reports:",
        "",
        "Ordering rules over the actions array:",
        *(f"- {c.code} ({c.severity}): {_plain(c.when)}" for c in rules),
        "",
        "Limits on the JSON text itself:",
        *(f"- {codes[code].code} (error): {_plain(codes[code].when)}" for code in TEXT_ONLY_CODES),
    ]
    return "\n".join(lines)


def _plain(text: str) -> str:
    """Docs text without Markdown code marks, for a plain-text description."""
    return text.replace("`", "")


def _action_item(actions: tuple[ActionInfo, ...]) -> dict[str, Any]:
    return {
        "description": "One action: an object with exactly one key, the action's name.",
        "type": "object",
        "minProperties": 1,
        "maxProperties": 1,
        "properties": {info.kind: {"$ref": f"#/$defs/{info.kind}"} for info in actions},
        "additionalProperties": False,
    }


def _action_value(info: ActionInfo) -> dict[str, Any]:
    summary = info.summary
    if info.terminal:
        summary += " Nothing after it in the same array runs."
    return {
        "description": summary,
        "type": "object",
        "properties": {f.name: field_schema(f.spec) for f in info.fields},
        "required": [f.name for f in info.fields if f.required],
        "additionalProperties": False,
    }


def field_schema(spec: FieldSpec) -> dict[str, Any]:
    """The schema of one field's value."""
    schema: dict[str, Any] = {"description": _field_description(spec), "type": spec.json_type}
    if spec.minimum is not None:
        schema["minimum"] = spec.minimum
    if spec.maximum is not None:
        schema["maximum"] = spec.maximum
    if spec.min_length is not None:
        schema["minLength"] = spec.min_length
    if spec.max_length is not None:
        schema["maxLength"] = spec.max_length
    if spec.choices is not None:
        schema["enum"] = list(spec.choices)
    patterns = []
    if spec.alphabet is not None:
        patterns.append(anchored(f"[{character_class(spec.alphabet)}]*"))
    if spec.pattern is not None:
        patterns.append(anchored(spec.pattern))
    if len(patterns) == 1:
        schema["pattern"] = patterns[0]
    elif patterns:
        schema["allOf"] = [{"pattern": p} for p in patterns]
    if spec.default is not None:
        schema["default"] = spec.default
    return schema


def _field_description(spec: FieldSpec) -> str:
    if spec.unit is None:
        return spec.doc
    return f"{spec.doc.rstrip('.')}, in {_UNIT_WORDS.get(spec.unit, spec.unit)}."


def anchored(pattern: str) -> str:
    """A pattern that must match the whole string, in Python's re and in ECMA-262 alike."""
    return f"^(?:{pattern}){_END}"


def character_class(alphabet: str) -> str:
    """The inside of a character class holding exactly ``alphabet``, with runs as ranges."""
    points = sorted({ord(c) for c in alphabet})
    parts: list[str] = []
    start = 0
    while start < len(points):
        end = start
        while end + 1 < len(points) and points[end + 1] == points[end] + 1:
            end += 1
        first, last = _class_char(points[start]), _class_char(points[end])
        if end - start >= 2:
            parts.append(f"{first}-{last}")
        else:
            parts.extend(_class_char(p) for p in points[start : end + 1])
        start = end + 1
    return "".join(parts)


def _class_char(point: int) -> str:
    char = chr(point)
    return f"\\{char}" if char in _CLASS_SPECIALS else char
