"""Reading answer_url JSON back: ``validate`` reports every problem, ``parse`` builds a Flow.

Text goes through the JSON front door (``_json``: size limit, UTF-8, NaN, repeated keys) and
is decoded, whatever its layout, by the standard library's C decoder (by msgspec's once the
process has read many texts: see ``_MSGSPEC_AFTER``). Then one walk over the
decoded data finds every field problem, each with its JSON pointer: each action is first put
to its prover, a function written as source from the catalogue that says in a few steps
whether all its fields are valid (the usual answer); only an action it does not prove is
looked at field by field. The ordering rules run over every action whose name is known, even
one with bad fields. Nothing in here raises for bad content: every problem becomes a
diagnostic.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any, Final, cast

from minivoice_flow import _json
from minivoice_flow._actions import CATALOGUE, CATALOGUE_BY_KIND, Action, ActionInfo, FieldInfo
from minivoice_flow._codes import diagnostic
from minivoice_flow._diagnostics import Diagnostic, FlowValidationError, Report, report_of
from minivoice_flow._fields import FieldSpec, describe, quick_test
from minivoice_flow._flow import Flow, check_head, check_strict
from minivoice_flow._json import UNREADABLE, token
from minivoice_flow._limits import MAX_PAYLOAD_BYTES
from minivoice_flow._rules import Direction, check, document_order

_ACTION_NAMES: Final = ", ".join(CATALOGUE_BY_KIND)
_SUBJECT: Final = "payload"
_UNNAMED: Final = Flow()  # flows are immutable: parse() builds on this one when it can
#: Text this short (in characters) is surely within the size limit (4 bytes a character).
_SURELY_SMALL: Final = MAX_PAYLOAD_BYTES // 4


def validate(payload: object, *, direction: Direction | None = None) -> Report:
    """Check an answer_url payload (``bytes``, ``str`` or parsed JSON) and report everything.

    Never raises for bad content. ``direction="inbound"`` enables the digits_to_caller rule;
    a direction that is not ``"inbound"``, ``"outbound"`` or None is a ``FlowError``, as in
    ``parse``.
    """
    if direction is not None:
        check_head("validate()", None, direction)
    return report_of(_diagnose(payload, direction)[0])


def parse(
    payload: object,
    *,
    name: str | None = None,
    direction: Direction | None = None,
    strict: bool = False,
) -> Flow:
    """Read an answer_url payload into a ``Flow``.

    Raises ``FlowValidationError`` with every diagnostic if the payload has an error (or any
    diagnostic, with ``strict=True``). ``name`` and ``direction`` are not part of the JSON.
    """
    check_head("parse()", name, direction)
    if strict is not False:
        check_strict("parse()", strict)
    diagnostics, read = _diagnose(payload, direction)
    report = report_of(diagnostics)
    if not report.passes(strict=strict):
        raise FlowValidationError(report.diagnostics, subject="payload")
    assert read is not None  # a payload that passes was read
    kinds, items, _, proved = read
    names = cast("list[str]", kinds)  # every item is a known action, or it would not pass
    if proved:  # every field as the builders write it: set without checking again
        actions = tuple(map(_build, items, names))
    else:  # a whole float for an int, say: the classes' own checks take it
        actions = tuple(
            CATALOGUE_BY_KIND[kind].type(**item[kind])
            for item, kind in zip(items, names, strict=True)
        )
    flow = _UNNAMED if name is None and direction is None else Flow(name, direction=direction)
    return flow._with_actions(actions)


def _diagnose(
    payload: object, direction: Direction | None
) -> tuple[list[Diagnostic], _Read | None]:
    """All diagnostics of a payload, in document order, and what the walk read (None if
    nothing could be read)."""
    found: list[Diagnostic] = []
    text: str | None
    if type(payload) is str and len(payload) <= _SURELY_SMALL:  # the usual case, in short
        text = payload
    elif isinstance(payload, (str, bytes, bytearray, memoryview)):
        text = _json.text_of(payload, found, subject=_SUBJECT, limit=MAX_PAYLOAD_BYTES)
        if text is None:
            return found, None
    else:
        text = None
    data = _check_parsed(payload, found) if text is None else _decode(text, found)
    if data is UNREADABLE:
        return found, None
    if type(data) is dict and len(data) == 1 and type(actions := data.get("actions")) is list:
        read = _walk_actions(actions, found, 2)  # the usual case, in short
    else:
        read = _walk_payload(data, found)
    kinds, items, quotes, _ = read
    if text is not None and ("\\" in text or text.count('"') != quotes):
        found += _json.repeated_keys(text)  # more quotes written than kept: a repeated key
    if kinds is not None:
        found += check(kinds, items, _given_in, direction)
    if len(found) > 1:
        found.sort(key=document_order)
    return found, read


# Decoding. The standard library's C decoder reads the first texts of a process; msgspec's
# reads JSON two to three times as fast, but importing it takes 5 to 10 ms, more than a
# short-lived process (the CLI, a test, a cold-started handler) would ever win back. So it is
# imported only once a process has shown that it validates many payloads.

#: How many texts the standard library decodes before msgspec takes over.
_MSGSPEC_AFTER: Final = 1000
_standard_reads = 0


def _decode_standard(text: str, found: list[Diagnostic]) -> Any:
    """The data of ``text`` by the standard library (the front door), or ``UNREADABLE`` with
    the reason in ``found``. Counts the texts read, and hands over to msgspec after
    ``_MSGSPEC_AFTER`` of them."""
    global _standard_reads, _decode
    _standard_reads += 1
    if _standard_reads >= _MSGSPEC_AFTER:
        _decode = _msgspec_decode()
    return _json.loads(text, found, subject=_SUBJECT)


def _msgspec_decode() -> Callable[[str, list[Diagnostic]], Any]:
    """A decoder by msgspec: for any text it reads, the data the standard library gives
    (repeated keys too: both keep the last value); the rest (not JSON, NaN, 1e400...) goes
    to the front door, which says why."""
    import msgspec

    read = msgspec.json.Decoder().decode

    def decode(text: str, found: list[Diagnostic]) -> Any:
        try:
            return read(text)
        except (ValueError, RecursionError):
            return _json.loads(text, found, subject=_SUBJECT)

    return decode


_decode: Callable[[str, list[Diagnostic]], Any] = _decode_standard


def _check_parsed(payload: object, found: list[Diagnostic]) -> Any:
    """An already-parsed object: measure it as compact JSON, as MiniVoice would receive it."""
    try:
        text = _compact_text(payload)
    except RecursionError:
        found.append(_malformed_payload("", "the object is nested too deeply to be JSON"))
        return UNREADABLE
    except _Circular:
        found.append(_malformed_payload("", "the object contains a circular reference"))
        return UNREADABLE
    size = _json.utf8_size_over(text, MAX_PAYLOAD_BYTES)
    if size is not None:
        found.append(_json.too_large(_SUBJECT, size, "bytes of compact JSON", MAX_PAYLOAD_BYTES))
        return UNREADABLE
    return payload


class _Circular(Exception):
    """The object holds itself (internal: becomes malformed_payload)."""


def _compact_text(payload: object) -> str:
    """Compact JSON as long as ``payload``'s; raises ``_Circular`` if it holds itself.

    json.dumps() raises ValueError for a cycle, and also for an integer with more digits than
    Python will print (10**5000 is still JSON, and out of every range): the text is then made
    from a copy with each such integer written as a string of the same length.
    """
    try:
        return _dumps_compact(payload)
    except ValueError:
        return _dumps_compact(_with_long_integers_replaced(payload))


def _dumps_compact(payload: object) -> str:
    return json.dumps(
        payload,
        separators=(",", ":"),
        ensure_ascii=False,
        skipkeys=True,
        default=lambda _: None,  # non-JSON values are reported where they stand
    )


_LEAVE: Final = object()


def _with_long_integers_replaced(payload: object) -> object:
    """A copy of ``payload``'s arrays and objects in which each integer too long to print
    is a string of zeros as long in JSON; raises ``_Circular`` if the payload holds itself."""
    root: list[object] = [None]
    on_path: set[int] = set()
    # (value, the container its copy goes into, the slot there). Iterative, as the payload
    # may be nested deeper than the recursion limit; _LEAVE marks the end of a container.
    stack: list[tuple[object, Any, Any]] = [(payload, root, 0)]
    while stack:
        value, into, slot = stack.pop()
        if value is _LEAVE:
            on_path.discard(into)
        elif isinstance(value, (dict, list, tuple)):
            if id(value) in on_path:
                raise _Circular
            on_path.add(id(value))
            stack.append((_LEAVE, id(value), None))
            copy: Any
            if isinstance(value, dict):
                copy = {}
                stack.extend((item, copy, _json_key(key)) for key, item in value.items())
            else:
                copy = [None] * len(value)
                stack.extend((item, copy, index) for index, item in enumerate(value))
            into[slot] = copy
        else:
            digits = _unprintable_digits(value)
            into[slot] = value if digits is None else "0" * (digits - 2)  # +2 quotes
    return root[0]


def _json_key(key: object) -> object:
    digits = _unprintable_digits(key)
    return key if digits is None else "0" * digits


def _unprintable_digits(value: object) -> int | None:
    """For an int with more digits than Python will print: its length in JSON, else None."""
    if not isinstance(value, int) or isinstance(value, bool):
        return None
    try:
        int.__repr__(value)
    except ValueError:
        magnitude = abs(value)
        # log10(2) per bit gives the count or one less; past the size limit, near enough.
        digits = max(1, int(magnitude.bit_length() * 0.30102999566398120))
        if digits <= MAX_PAYLOAD_BYTES:
            while 10**digits <= magnitude:
                digits += 1
        return digits + (value < 0)
    return None


# Walking: decoded data to field diagnostics and what the rules need.

#: What the walk read: the kind of each item of the actions array (None where the item is not
#: an action; the whole list None when the payload has no array of actions to run the rules
#: on) and the items, the quotes the data takes written out (2 for each key and string: more
#: in the text means a repeated key), and whether every action was proved valid by its prover.
_Read = tuple[list[str | None] | None, list[Any], int, bool]

_SPECS: Final = {info.kind: {field.name: field.spec for field in info.fields} for info in CATALOGUE}
_REQUIRED: Final = {
    info.kind: tuple(field.name for field in info.fields if field.required) for info in CATALOGUE
}


def _walk_payload(data: Any, found: list[Diagnostic]) -> _Read:
    """Any decoded data: the payload's shape, then the actions if it has them."""
    quotes = _quotes(data)
    if not isinstance(data, dict):
        found.append(
            _malformed_payload(
                "",
                f'the payload must be an object like {{"actions": [...]}}; got {describe(data)}',
            )
        )
        return None, [], quotes, False
    for key in data:
        if key != "actions":
            found.append(
                diagnostic(
                    "unknown_field",
                    f"/{token(key)}",
                    f'the payload has one key, "actions"; remove {describe(key)}',
                )
            )
    if "actions" not in data:
        found.append(_malformed_payload("", 'the payload has no "actions" key'))
        return None, [], quotes, False
    actions = data["actions"]
    if not isinstance(actions, list):
        found.append(
            _malformed_payload(
                "/actions", f"actions must be an array of actions; got {describe(actions)}"
            )
        )
        return None, [], quotes, False
    kinds, _, _, _ = _walk_actions(actions, found, 0)
    return kinds, actions, quotes, False


def _walk_actions(actions: list[Any], found: list[Diagnostic], quotes: int) -> _Read:
    """Every item of the actions array; ``quotes`` counted so far."""
    provers = _PROVERS
    kinds: list[str | None] = []
    proved = True
    for item in actions:
        # The usual case inline (this loop is validate()'s hot path); every kind of trouble
        # goes to a function of its own.
        if isinstance(item, dict) and len(item) == 1:
            ((kind, fields),) = item.items()
            prove = provers[kind]
            if prove is not None and isinstance(fields, dict):
                count = prove(fields)
                if count < 0:
                    proved = False
                    count = _check_fields(len(kinds), kind, fields, found)
                quotes += count
                kinds.append(kind)
                continue
        proved = False
        quotes += _quotes(item)
        kinds.append(_not_an_action(len(kinds), item, found))
    return kinds, actions, quotes, proved


def _not_an_action(index: int, item: Any, found: list[Diagnostic]) -> str | None:
    """An item of actions that is not a known action holding an object of fields: its kind
    if it names one."""
    if not isinstance(item, dict) or len(item) != 1:
        found.append(diagnostic("malformed_action", f"/actions/{index}", _not_one_key(item)))
        return None
    ((kind, fields),) = item.items()
    if kind not in _SPECS:
        found.append(
            diagnostic(
                "unknown_action",
                f"/actions/{index}/{token(kind)}",
                f"{describe(kind)} is not an action{_suggest(kind, _SPECS)}; "
                f"the actions are {_ACTION_NAMES}",
            )
        )
        return None
    found.append(
        diagnostic(
            "malformed_action",
            f"/actions/{index}/{kind}",
            f"the value of {kind} must be an object of its fields; got {describe(fields)}",
        )
    )
    known: str = kind
    return known


def _check_fields(index: int, kind: str, fields: Mapping[str, Any], found: list[Diagnostic]) -> int:
    """An action its prover did not prove, field by field; the quotes the item takes."""
    specs = _SPECS[kind]
    quotes = 2 + 2 * len(fields)  # the action's name and each key
    for key, value in fields.items():
        if type(value) is not int:
            quotes += 2 if type(value) is str else _quotes(value)
        spec = specs.get(key)
        if spec is None:
            found.append(_unknown_field(index, kind, key, specs))
            continue
        if spec.accepts(value):  # the quick yes
            continue
        problem = spec.check(f"{kind}.{key}", value)
        if problem is not None:
            code, message = problem
            found.append(diagnostic(code, f"/actions/{index}/{kind}/{key}", message))
    for name in _REQUIRED[kind]:
        if name not in fields:
            found.append(
                diagnostic(
                    "missing_field",
                    f"/actions/{index}/{kind}/{name}",
                    f"{kind} needs {name}: {specs[name].description_of_allowed}",
                )
            )
    return quotes


def _quotes(data: Any) -> int:
    """The quotes decoded JSON takes written out: 2 for each key and each string."""
    count, stack = 0, [data]
    while stack:  # iterative: the data may be nested deeper than the recursion limit
        value = stack.pop()
        if type(value) is str:
            count += 2
        elif type(value) is dict:
            count += 2 * len(value)
            stack.extend(value.values())
        elif type(value) is list:
            stack.extend(value)
    return count


# Provers and builders: written as source from the catalogue, each when its action is first
# met (compiling one takes about 0.1 ms), so neither the import nor the first call pays for
# the actions it does not meet.


class _WrittenOnUse(dict[object, Any]):
    """Per action name, the function ``write`` makes of its ``ActionInfo``; None for a key
    that names no action."""

    def __init__(self, write: Callable[[ActionInfo], Any]) -> None:
        super().__init__()
        self.write = write

    def __missing__(self, kind: object) -> Any:
        info = CATALOGUE_BY_KIND.get(kind)  # type: ignore[call-overload]
        if info is None:
            return None
        function = self[kind] = self.write(info)
        return function


def _prover(info: ActionInfo) -> Callable[[Mapping[str, Any]], int]:
    """The prover of one action (see ``_PROVERS``), written as source: each field fetched and
    tested in turn, the counts for the required fields known in advance."""
    names: dict[str, Any] = {}
    required = [field for field in info.fields if field.required]
    quotes = 2 + sum(map(_quotes_of, required))  # the action's name takes 2
    lines = ["def prove(fields):", f"    given, quotes = {len(required)}, {quotes}"]
    for field in info.fields:
        name = field.name
        test = _valid_test(field.spec, name, names)
        lines.append(f"    {name} = fields.get({name!r})")
        if field.required:  # None (absent) fails the test, which starts with a type check
            lines += [f"    if not ({test}):", "        return -1"]
        else:
            lines += [
                f"    if {name} is not None:",
                f"        if not ({test}):",
                "            return -1",
                f"        given += 1; quotes += {_quotes_of(field)}",
            ]
    # Every key was a field proved valid when the count of them is the count of keys.
    lines.append("    return quotes if given == len(fields) else -1")
    exec(compile("\n".join(lines), f"<prove {info.kind}>", "exec"), names)  # our own source
    prove: Callable[[Mapping[str, Any]], int] = names["prove"]
    return prove


def _quotes_of(field: FieldInfo) -> int:
    """The quotes a field takes written out when valid: its key, and its value if a string."""
    return 4 if field.spec.json_type == "string" else 2


def _valid_test(spec: FieldSpec, name: str, names: dict[str, Any]) -> str:
    """An expression true only for valid values of ``spec`` in variable ``name`` (usually
    true for them: ``check()`` has the last word); the globals it needs go into ``names``."""
    test = quick_test(spec, name, names)
    if spec.head_pattern is None:
        return test
    # A short value is matched in full; a long one (a URL with a long query) is shown to be
    # printable ASCII without space by two scans in C, and then the head matched at its start
    # is the full match, three times as fast as reading it to its end by regular expression.
    names[f"_long_{name}"] = _long_test(spec)
    return f"type({name}) is str and ({test} if len({name}) <= 256 else _long_{name}({name}))"


_PRINTABLE: Final = bytes(range(0x21, 0x7F))


def _long_test(spec: FieldSpec) -> Callable[[str], bool]:
    assert spec.head_pattern is not None and spec.max_length is not None
    # Compiled (and cached) by re on the first long value, not when the provers are written:
    # compiling it costs more than the first validate() may.
    head, longest = spec.head_pattern, spec.max_length

    def test(value: str) -> bool:
        return (
            len(value) <= longest
            and value.isascii()
            and not value.encode().translate(None, _PRINTABLE)
            and re.match(head, value) is not None
        )

    return test


def _builder(info: ActionInfo) -> Callable[[Mapping[str, Any]], Action]:
    """A function from proved fields to the action's IR object, written as source: each slot
    filled through its descriptor, as attrs' own __init__ fills a frozen instance (the values
    are known good, so no check runs; an absent field is None)."""
    names: dict[str, Any] = {"_new": object.__new__, "_cls": info.type}
    lines = ["def build(fields):", "    action = _new(_cls)"]
    for field in info.fields:
        names[f"_set_{field.name}"] = getattr(info.type, field.name).__set__
        lines.append(f"    _set_{field.name}(action, fields.get({field.name!r}))")
    lines.append("    return action")
    exec(compile("\n".join(lines), f"<build {info.kind}>", "exec"), names)  # our own source
    build: Callable[[Mapping[str, Any]], Action] = names["build"]
    return build


#: Per action: a function of its fields (a dict) giving the quotes they take written out
#: (with the action's name) if every field is known, valid and there when required, else -1.
_PROVERS: Final = _WrittenOnUse(_prover)
#: Per action: a function from fields its prover proved to the action's IR object.
_BUILDERS: Final = _WrittenOnUse(_builder)


def _build(item: Mapping[str, Any], kind: str) -> Action:
    build: Callable[[Mapping[str, Any]], Action] = _BUILDERS[kind]
    return build(item[kind])


class _NullGiven:
    """What the rules see for a field given as ``null``: a bad value, so the field is set."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "null"


_NULL_GIVEN: Final = _NullGiven()


def _given_in(item: Mapping[str, Any], name: str) -> object:
    """``_given`` of the fields of an item's one action (None if they are not an object)."""
    for fields in item.values():
        if isinstance(fields, dict):
            return _given(fields, name)
    return None


def _given(fields: Mapping[str, Any], name: str) -> object:
    """The value given for a field, for the rules: None only when the field is absent.

    An optional field given with a bad value counts as set (an explicit ``null`` too), so a
    rule about the field being left out does not fire on top of the field's own error.
    """
    value = fields.get(name)
    if value is None and name in fields:
        return _NULL_GIVEN
    return value


def _unknown_field(index: int, kind: str, key: object, specs: Mapping[str, object]) -> Diagnostic:
    names = ", ".join(specs) or "none"
    return diagnostic(
        "unknown_field",
        f"/actions/{index}/{kind}/{token(key)}",
        f"{kind} has no field {describe(key)}{_suggest(key, specs)}; its fields are: {names}",
    )


# Messages and pointers.


def _suggest(word: object, choices: Mapping[str, object]) -> str:
    import difflib  # only on the error path

    if not isinstance(word, str):
        return ""
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean {describe(close[0])}?)" if close else ""


def _not_one_key(item: Any) -> str:
    shape = 'an object with exactly one key, the action\'s name, as in {"hangup": {}}'
    if isinstance(item, dict):
        keys = ", ".join(describe(k) for k in item)
        got = "an empty object" if not item else f"an object with {len(item)} keys ({keys})"
        return f"an action must be {shape}; got {got}: put each action in its own object"
    return f"an action must be {shape}; got {describe(item)}"


def _malformed_payload(path: str, message: str) -> Diagnostic:
    return diagnostic("malformed_payload", path, message)
