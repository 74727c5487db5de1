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
_KIND_OF: Final = {struct: info.kind for struct, info in _BY_STRUCT.items()}
_ACTIONS_OF_ITEM: Final[Callable[[Any], tuple[Any, ...]]] = attrgetter(
    *(info.kind for info in _BY_STRUCT.values())
)
_NO_ACTION: Final = (UNSET,) * len(_BY_STRUCT)
#: Up to this length the kinds are read from the text; past it, from the Structs (a few calls
#: per item beat a few scans of a long text).
_SHORT: Final = 2048


def decode_valid(text: str) -> tuple[list[Any], tuple[str, ...], str] | None:
    """``(items, kinds, compact)`` if ``text`` is a payload whose every field is valid.

    ``items`` are the Structs of the actions array, ``kinds`` the action of each, ``compact``
    the payload written compactly (to compare with ``text``: a repeated key there writes more
    quotes). None only says "not proved": the walk has the last word.
    """
    try:
        payload = _DECODER.decode(text)
    except (msgspec.DecodeError, ValueError):  # ValidationError; a str with a lone surrogate
        return None
    # Every step below is one call into C: no Python code per character.
    written = _ENCODE(payload)  # compact, unset fields left out, strings escaped as JSON needs
    if not written.isascii():
        return None  # a string with a character outside ASCII
    compact = written.decode()
    if " " in compact or "\x7f" in compact:
        return None  # a string with a space or DEL
    escaped = "\\" in compact
    if escaped and "\\" in compact.replace("\\\\", "").replace('\\"', ""):
        return None  # an escape other than \" and \\: a control character
    items = payload.actions
    if len(compact) <= _SHORT and not escaped:
        kinds = kinds_by_text(compact, items)
    else:  # long, or a value holds a quote that could be taken for structure
        kinds = kinds_by_structs(items)
    return None if kinds is None else (items, kinds, compact)


def kinds_by_text(compact: str, items: list[Any]) -> tuple[str, ...] | None:
    """The kind of each item, if each holds exactly one action, read from ``compact``."""
    kinds = _KINDS(compact)
    # A first action for every item, and no item going on after its first action's fields
    # ('},"'): then every item holds exactly one.
    return tuple(kinds) if len(kinds) == len(items) and '},"' not in compact else None


def kinds_by_structs(items: list[Any]) -> tuple[str, ...] | None:
    """The kind of each item, if each holds exactly one action, read from the Structs."""
    rows = list(map(_ACTIONS_OF_ITEM, items))
    actions = list(filter(None, chain.from_iterable(rows)))  # UNSET is false, a Struct true
    if len(actions) != len(rows) or _NO_ACTION in rows:
        return None  # an item with no action, or with two
    return tuple(map(_KIND_OF.__getitem__, map(type, actions)))


_ANY: Final = msgspec.json.Decoder()
#: What ``decode_any`` gives for a text it cannot read.
NOT_READ: Final = object()


def decode_any(text: str) -> Any:
    """The data of JSON ``text`` as ``json.loads`` gives it, or ``NOT_READ`` (then
    ``_json.loads`` says why: its messages are the ones we report)."""
    try:
        return _ANY.decode(text)
    except (msgspec.DecodeError, ValueError, RecursionError):  # NaN, 1e400, lone surrogates...
        return NOT_READ


def quotes_in(data: Any) -> int:
    """How many quotes the keys and strings of decoded JSON take, written compactly; -1 if
    it cannot be written (an integer too long for msgspec, say)."""
    try:
        return _ENCODE(data).count(b'"')
    except (msgspec.EncodeError, ValueError, OverflowError, RecursionError):
        return -1


def _action_of(item: Any) -> Any:
    """The one action Struct an item holds (UNSET is false, a Struct true)."""
    return next(filter(None, astuple(item)))


def given(item: Any, name: str) -> object:
    """The value of field ``name`` of an item's action, None when unset (for the rules)."""
    value = getattr(_action_of(item), name, None)
    return None if value is UNSET else value


def to_actions(items: list[Any], kinds: tuple[str, ...]) -> tuple[Action, ...]:
    """The action IR of items proved valid: the values are known good, so no check runs."""
    return tuple(map(_build, items, kinds))


def _build(item: Any, kind: str) -> Action:
    return _BUILD[kind](getattr(item, kind))


def _builder(info: ActionInfo) -> Callable[[Any], Action]:
    """A function from an action's Struct to its IR object, written as source: each slot
    filled through its descriptor, as attrs' own __init__ fills a frozen instance (unset
    fields are None there, UNSET here)."""
    names: dict[str, Any] = {"_new": object.__new__, "_cls": info.type, "_UNSET": UNSET}
    lines = ["def build(struct):"]
    if info.fields:
        lines.append(f"    {', '.join(f.name for f in info.fields)}, = _astuple(struct)")
        names["_astuple"] = astuple
    lines.append("    action = _new(_cls)")
    for field in info.fields:
        names[f"_set_{field.name}"] = getattr(info.type, field.name).__set__
        value = (
            field.name if field.required else f"None if {field.name} is _UNSET else {field.name}"
        )
        lines.append(f"    _set_{field.name}(action, {value})")
    lines.append("    return action")
    exec(compile("\n".join(lines), f"<build {info.kind}>", "exec"), names)  # our own source
    build: Callable[[Any], Action] = names["build"]
    return build


_BUILD: Final = {info.kind: _builder(info) for info in _BY_STRUCT.values()}
