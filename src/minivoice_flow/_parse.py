"""Reading answer_url JSON back: ``validate`` reports every problem, ``parse`` builds a Flow.

Text goes through the JSON front door (``_json``: size limit, UTF-8, NaN, repeated keys), then
through msgspec Structs made from the catalogue (``_structs``), which prove most payloads valid
in one pass in C whatever their layout; only the ordering rules are then left to run. A
payload they do not prove valid, and an already-parsed object, get the walk: one pass over the
decoded data that finds every field problem, each with its JSON pointer. The ordering rules run
over every action whose name is known, even one with bad fields. Nothing in here raises for
bad content: every problem becomes a diagnostic.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any, Final

from minivoice_flow import _json
from minivoice_flow._actions import CATALOGUE, CATALOGUE_BY_KIND, Action
from minivoice_flow._codes import diagnostic
from minivoice_flow._diagnostics import Diagnostic, FlowValidationError, Report, report_of
from minivoice_flow._fields import describe
from minivoice_flow._flow import Flow, check_head, check_strict
from minivoice_flow._json import UNREADABLE, token
from minivoice_flow._limits import MAX_PAYLOAD_BYTES
from minivoice_flow._rules import Direction, Steps, check, check_steps, document_order

#: What the Structs make of a payload they prove valid: the items, their kinds, the payload
#: written compactly.
Decoded = tuple[list[Any], tuple[str, ...], str]

_ACTION_NAMES: Final = ", ".join(CATALOGUE_BY_KIND)
_SUBJECT: Final = "payload"


def validate(payload: object, *, direction: Direction | None = None) -> Report:
    """Check an answer_url payload (``bytes``, ``str`` or parsed JSON) and report everything.

    Never raises for bad content. ``direction="inbound"`` enables the digits_to_caller rule;
    a direction that is not ``"inbound"``, ``"outbound"`` or None is a ``FlowError``, as in
    ``parse``.
    """
    if direction is not None:
        check_head("validate()", None, direction)
    if type(payload) is str and len(payload) <= _SURELY_SMALL:  # the usual case, in short
        proved = _proved(payload, direction)
        if proved is not None:
            return report_of(proved[0])
        return report_of(_diagnose(payload, direction, proof_tried=True)[0])
    return report_of(_diagnose(payload, direction)[0])


def _proved(text: str, direction: Direction | None) -> tuple[list[Diagnostic], Any] | None:
    """The diagnostics of a text the Structs prove valid field by field, or None if they do
    not: then only repeated keys and the rules are left to look at."""
    decoded = _decode_valid(text)
    if decoded is None:
        return None
    items, kinds, compact = decoded
    if text == compact or (
        "\\" not in text and "\\" not in compact and text.count('"') == compact.count('"')
    ):
        found = []  # every key written was kept: none was repeated
    else:
        found = _json.repeated_keys(text)
    found += check(kinds, items, _given_in_item, direction)
    if len(found) > 1:
        found.sort(key=document_order)
    return found, (items, kinds)


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
    diagnostics, data = _diagnose(payload, direction)
    report = report_of(diagnostics)
    if not report.passes(strict=strict):
        raise FlowValidationError(report.diagnostics, subject="payload")
    flow = Flow(name, direction=direction)
    if isinstance(data, dict):  # read by the walk: fields checked, so the classes accept them
        actions = []
        for item in data["actions"]:
            ((kind, fields),) = item.items()
            actions.append(CATALOGUE_BY_KIND[kind].type(**fields))
        return flow.then(actions)
    return flow._with_actions(_to_actions(*data))


def _diagnose(
    payload: object, direction: Direction | None, *, proof_tried: bool = False
) -> tuple[list[Diagnostic], Any]:
    """All diagnostics of a payload, in document order, and what was read: the decoded data
    (a dict), the items and kinds of a payload the Structs proved valid, or None."""
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
    if text is not None:
        proved = None if proof_tried else _proved(text, direction)
        if proved is not None:
            return proved
        fast = _fast()
        data = fast.decode_any(text)
        if data is fast.NOT_READ:
            data = _json.loads(text, found, subject=_SUBJECT)
    else:
        data = _check_parsed(payload, found)
    if data is UNREADABLE:
        return found, None
    walk = _Walk(found)
    steps = walk.payload(data, direction)
    if text is not None and ("\\" in text or text.count('"') != _fast().quotes_in(data)):
        found += _json.repeated_keys(text)  # more quotes written than kept: a repeated key
    if steps is not None:
        found += check_steps(steps)
    if len(found) > 1:
        found.sort(key=document_order)
    return found, data


# The fast path, loaded on first use: it imports msgspec and builds its Structs, which a
# handler that only builds flows should not pay for at import.

#: Text this short (in characters) is surely within the size limit (4 bytes a character).
_SURELY_SMALL: Final = MAX_PAYLOAD_BYTES // 4


def _fast() -> Any:
    from minivoice_flow import _structs

    return _structs


def _load_fast_path(text: str) -> Decoded | None:
    global _decode_valid, _given_in_item, _to_actions
    _decode_valid = _fast().decode_valid
    _given_in_item = _fast().given
    _to_actions = _fast().to_actions
    return _decode_valid(text)


_decode_valid: Callable[[str], Decoded | None] = _load_fast_path
_given_in_item: Callable[[Any, str], object]
_to_actions: Callable[[list[Any], tuple[str, ...]], tuple[Action, ...]]


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


# Walking: decoded data to field diagnostics and rule steps.


_SPECS: Final = {info.kind: {field.name: field.spec for field in info.fields} for info in CATALOGUE}
#: Per action: each field's quick test (see FieldSpec.accepts), and the required names.
_ACCEPTS: Final = {
    info.kind: {field.name: field.spec.accepts for field in info.fields} for info in CATALOGUE
}
_REQUIRED: Final = {
    info.kind: tuple(field.name for field in info.fields if field.required) for info in CATALOGUE
}
_NO_FIELDS: Final[Mapping[str, Any]] = {}


class _Walk:
    """One pass over decoded JSON: field diagnostics, and the rules' steps."""

    __slots__ = ("found",)

    def __init__(self, found: list[Diagnostic]) -> None:
        self.found = found

    def payload(self, data: Any, direction: Direction | None) -> Steps | None:
        """Check the payload's shape and every field; return what the rules need, if possible."""
        found = self.found
        if not isinstance(data, dict):
            found.append(
                _malformed_payload(
                    "",
                    'the payload must be an object like {"actions": [...]}; '
                    f"got {describe(data)}",
                )
            )
            return None
        if len(data) != 1:
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
            return None
        actions = data["actions"]
        if not isinstance(actions, list):
            found.append(
                _malformed_payload(
                    "/actions", f"actions must be an array of actions; got {describe(actions)}"
                )
            )
            return None
        kinds: list[str | None] = []
        given: list[Mapping[str, Any]] = []
        for index, item in enumerate(actions):
            # The usual case inline (this loop is validate()'s hot path); every kind of
            # trouble goes to a method of its own.
            if isinstance(item, dict) and len(item) == 1:
                ((kind, fields),) = item.items()
                accepts = _ACCEPTS.get(kind)
                if accepts is not None and isinstance(fields, dict):
                    for key, value in fields.items():
                        test = accepts.get(key)
                        if test is None or not test(value):
                            self._field(index, kind, key, value)
                    for name in _REQUIRED[kind]:
                        if name not in fields:
                            self._missing(index, kind, name)
                    kinds.append(kind)
                    given.append(fields)
                    continue
            kind, fields = self._not_an_action(index, item)
            kinds.append(kind)
            given.append(fields)
        return Steps(kinds, given, _given, direction)

    def _not_an_action(self, index: int, item: Any) -> tuple[str | None, Mapping[str, Any]]:
        """An item of actions that is not a known action holding an object of fields."""
        if not isinstance(item, dict) or len(item) != 1:
            self.found.append(
                diagnostic("malformed_action", f"/actions/{index}", _not_one_key(item))
            )
            return None, _NO_FIELDS
        ((kind, fields),) = item.items()
        if kind not in _ACCEPTS:
            self.found.append(
                diagnostic(
                    "unknown_action",
                    f"/actions/{index}/{token(kind)}",
                    f"{describe(kind)} is not an action{_suggest(kind, _ACCEPTS)}; "
                    f"the actions are {_ACTION_NAMES}",
                )
            )
            return None, _NO_FIELDS
        self.found.append(
            diagnostic(
                "malformed_action",
                f"/actions/{index}/{kind}",
                f"the value of {kind} must be an object of its fields; got {describe(fields)}",
            )
        )
        return kind, _NO_FIELDS

    def _field(self, index: int, kind: str, key: Any, value: Any) -> None:
        """The slow path for one field: unknown, or a value its quick test did not accept."""
        specs = _SPECS[kind]
        spec = specs.get(key)
        if spec is None:
            self.found.append(_unknown_field(index, kind, key, specs))
            return
        problem = spec.check(f"{kind}.{key}", value)
        if problem is not None:
            code, message = problem
            self.found.append(diagnostic(code, f"/actions/{index}/{kind}/{key}", message))

    def _missing(self, index: int, kind: str, name: str) -> None:
        allowed = _SPECS[kind][name].description_of_allowed
        self.found.append(
            diagnostic(
                "missing_field",
                f"/actions/{index}/{kind}/{name}",
                f"{kind} needs {name}: {allowed}",
            )
        )


class _NullGiven:
    """What the rules see for a field given as ``null``: a bad value, so the field is set."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "null"


_NULL_GIVEN: Final = _NullGiven()


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
