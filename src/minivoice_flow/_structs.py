"""validate()'s fast path: msgspec Structs made from the catalogue, decoded and checked in C.

For each action the catalogue describes, a Struct whose fields carry the same limits as their
``FieldSpec`` (ranges, lengths, patterns, choices), unknown keys forbidden and ``null`` never
taken for an unset field; an item of ``actions`` is a Struct with one optional field per
action. msgspec decodes a text into these in one pass in C, whatever its layout, so a text it
accepts holds nothing the walk in ``_parse`` would fault, except what msgspec cannot see: a
repeated key (it keeps the last value silently; counting quotes tells) and an item with no
action or more than one (told here). Anything it refuses is left to the walk, which reports
every problem. msgspec is imported when this module is, on the first validate().

Every string a field accepts is printable ASCII with no space. That is proved for the whole
payload at once, on its compact re-encoding (a few C scans), so a field with a
``head_pattern`` (a URL) need not have its pattern read to the end of a long value.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Annotated, Any, Final, Literal

import msgspec
from msgspec.structs import astuple

from minivoice_flow._actions import CATALOGUE, Action, ActionInfo
from minivoice_flow._fields import FieldSpec

UNSET: Final = msgspec.UNSET


def field_type(spec: FieldSpec) -> Any:
    """The msgspec type that accepts exactly the JSON values ``spec`` accepts."""
    if spec.json_type == "integer":
        return Annotated[int, msgspec.Meta(ge=spec.minimum, le=spec.maximum)]
    if spec.choices is not None:
        return Literal[spec.choices]
    pattern = None
    if spec.head_pattern is not None:
        pattern = rf"\A(?:{spec.head_pattern})"  # the characters are proved apart
    elif spec.alphabet is not None:
        # Every character from the alphabet; written as escapes, so no character is special.
        pattern = "\\A[" + "".join(f"\\U{ord(c):08x}" for c in spec.alphabet) + "]*\\Z"
    elif spec.pattern is not None:
        # msgspec searches; anchored at both ends (\Z, not $), this is FieldSpec's fullmatch.
        pattern = rf"\A(?:{spec.pattern})\Z"
    meta = msgspec.Meta(min_length=spec.min_length, max_length=spec.max_length, pattern=pattern)
    return Annotated[str, meta]


def _action_struct(info: ActionInfo) -> type[msgspec.Struct]:
    fields: list[tuple[str, Any] | tuple[str, Any, Any]] = []
    for field in info.fields:
        kind = field_type(field.spec)
        if field.required:
            fields.append((field.name, kind))
        else:
            fields.append((field.name, kind | msgspec.UnsetType, UNSET))
    return msgspec.defstruct(info.type.__name__, fields, forbid_unknown_fields=True, kw_only=True)


def _structs(catalogue: Iterable[ActionInfo]) -> tuple[dict[type[Any], ActionInfo], Any]:
    by_struct = {_action_struct(info): info for info in catalogue}
    item = msgspec.defstruct(
        "Item",
        [(info.kind, struct | msgspec.UnsetType, UNSET) for struct, info in by_struct.items()],
        forbid_unknown_fields=True,
        gc=False,
    )
    payload = msgspec.defstruct(
        "Payload",
        [("actions", list[item])],  # type: ignore[valid-type]
        forbid_unknown_fields=True,
        gc=False,
    )
    return by_struct, payload


_BY_STRUCT, _PAYLOAD = _structs(CATALOGUE)
_DECODER: Final = msgspec.json.Decoder(_PAYLOAD)
_ENCODE: Final = msgspec.json.Encoder().encode
#: The first action of each item of a compact payload, in order: '{"<kind>":{' stands nowhere
#: else (field values are never objects, and quotes inside a value are escaped).
_KINDS: Final = re.compile(
    r'\{"(' + "|".join(re.escape(info.kind) for info in CATALOGUE) + r')":\{'
).findall


def decode_valid(text: str) -> tuple[list[Any], tuple[str, ...], int | None] | None:
    """``(items, kinds, quotes)`` if ``text`` is a payload whose every field is valid.

    ``items`` are the Structs of the actions array, ``kinds`` the action of each, and
    ``quotes`` how many quotes its keys and strings take written compactly (None where a value
    holding a quote hides it): a text with a repeated key writes more. None only says "not
    proved": the walk has the last word. A repeated key is not looked for here.
    """
    try:
        payload = _DECODER.decode(text)
    except (msgspec.DecodeError, ValueError):  # ValidationError; a str with a lone surrogate
        return None
    # Every step below is one call into C: no Python code per item or per character.
    written = _ENCODE(payload)  # compact, unset fields left out, strings escaped as JSON needs
    if not written.isascii():
        return None  # a string with a character outside ASCII
    compact = written.decode()
    if " " in compact or "\x7f" in compact:
        return None  # a string with a space or DEL
    quotes: int | None = None
    if "\\" not in compact:
        quotes = compact.count('"')  # two per key and two per string value
    elif "\\" in compact.replace("\\\\", "").replace('\\"', ""):
        return None  # an escape other than \" and \\: a control character
    items = payload.actions
    kinds = tuple(_KINDS(compact))
    # Each action's fields open with '":{'. As many first actions, actions and items: then
    # every item holds exactly one.
    if not len(kinds) == len(items) == compact.count('":{'):
        return None
    return items, kinds, quotes


def _action_of(item: Any) -> Any:
    """The one action Struct an item holds (UNSET is false, a Struct true)."""
    return next(filter(None, astuple(item)))


def given(item: Any, name: str) -> object:
    """The value of field ``name`` of an item's action, None when unset (for the rules)."""
    value = getattr(_action_of(item), name, None)
    return None if value is UNSET else value


def to_actions(items: Iterable[Any]) -> list[Action]:
    """The action IR of items proved valid: the values are known good, so no check runs."""
    return [_BUILD[type(action)](action) for action in map(_action_of, items)]


def _builder(info: ActionInfo) -> Callable[[Any], Action]:
    names = tuple(field.name for field in info.fields)
    cls = info.type
    new = object.__new__
    setter = object.__setattr__  # as attrs' own __init__ fills a frozen instance

    def build(struct: Any) -> Action:
        action: Action = new(cls)
        for name, value in zip(names, astuple(struct), strict=True):
            setter(action, name, None if value is UNSET else value)
        return action

    return build


_BUILD: Final = {struct: _builder(info) for struct, info in _BY_STRUCT.items()}
