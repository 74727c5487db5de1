"""validate()'s fast path: msgspec Structs made from the catalogue, decoded and checked in C.

For each action the catalogue describes, a Struct whose fields carry the same limits as their
``FieldSpec`` (ranges, lengths, patterns, choices), unknown keys forbidden and ``null`` never
taken for an unset field; an item of ``actions`` is a Struct with one optional field per
action. msgspec decodes a text into these in one pass in C, whatever its layout, so a text it
accepts holds nothing the walk in ``_parse`` would fault, except what msgspec cannot see: a
repeated key (it keeps the last value silently; ``_json.keys_written`` tells) and an item with
no action or more than one (told here). Anything it refuses is left to the walk, which
reports every problem. msgspec is imported when this module is, on the first validate().
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from itertools import chain
from operator import attrgetter
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
    if spec.alphabet is not None:
        # Every character from the alphabet; written as escapes, so no character is special.
        pattern = "[" + "".join(f"\\U{ord(c):08x}" for c in spec.alphabet) + "]*"
    elif spec.pattern is not None:
        pattern = spec.pattern
    meta = msgspec.Meta(
        min_length=spec.min_length,
        max_length=spec.max_length,
        # msgspec searches; anchored at both ends (\Z, not $), this is FieldSpec's fullmatch.
        pattern=None if pattern is None else rf"\A(?:{pattern})\Z",
    )
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
    )
    payload = msgspec.defstruct("Payload", [("actions", list[item])], forbid_unknown_fields=True)  # type: ignore[valid-type]
    return by_struct, payload


_BY_STRUCT, _PAYLOAD = _structs(CATALOGUE)
_DECODER: Final = msgspec.json.Decoder(_PAYLOAD)
_KIND_OF: Final = {struct: info.kind for struct, info in _BY_STRUCT.items()}
_ACTIONS_OF_ITEM: Final[Callable[[Any], tuple[Any, ...]]] = attrgetter(
    *(info.kind for info in _BY_STRUCT.values())
)
_NO_ACTION: Final = (UNSET,) * len(_BY_STRUCT)


class Decoded:
    """A payload proved valid field by field: each action as a Struct, and its kind."""

    __slots__ = ("actions", "keys", "kinds")

    def __init__(self, actions: list[Any], kinds: list[str], keys: int) -> None:
        self.actions = actions
        self.kinds = kinds
        #: How many object keys the decoded payload holds (a repeated key in the text makes
        #: the text hold more).
        self.keys = keys


def decode_valid(text: str) -> Decoded | None:
    """The actions of ``text`` if it is a payload whose every field is valid, else None.

    None only says "not proved": the walk has the last word. A repeated key is not looked
    for here.
    """
    try:
        items = _DECODER.decode(text).actions
    except msgspec.DecodeError:  # ValidationError included
        return None
    # Every step below runs in C: no Python code per item.
    rows = list(map(_ACTIONS_OF_ITEM, items))
    actions = list(filter(None, chain.from_iterable(rows)))  # UNSET is false, a Struct true
    if len(actions) != len(rows) or _NO_ACTION in rows:
        return None  # an item with no action, or with two
    kinds = list(map(_KIND_OF.__getitem__, map(type, actions)))
    values = list(chain.from_iterable(map(astuple, actions)))
    # The top-level key, one key per item, and each field that was given.
    keys = 1 + len(actions) + len(values) - values.count(UNSET)
    return Decoded(actions, kinds, keys)


def given(action: Any, name: str) -> object:
    """The value of field ``name`` of an action Struct, None when unset (for the rules)."""
    value = getattr(action, name, None)
    return None if value is UNSET else value


def to_actions(decoded: Decoded) -> list[Action]:
    """The action IR of a payload proved valid: the values are known good, so no check runs."""
    return [_BUILD[type(struct)](struct) for struct in decoded.actions]


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
