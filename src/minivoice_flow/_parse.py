"""Reading answer_url JSON back: ``validate`` reports every problem, ``parse`` builds a Flow.

One pass over the payload finds every field problem, each with its JSON pointer; the ordering
rules then run over every action whose name is known, even one with bad fields. Nothing in
here raises for bad content: every problem becomes a diagnostic. Compact text that
``_compact`` can prove valid in one regular-expression match skips the field-by-field walk.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Mapping
from itertools import chain
from typing import Any, Final

from minivoice_flow import _compact
from minivoice_flow._actions import CATALOGUE, CATALOGUE_BY_KIND
from minivoice_flow._converter import structure_action
from minivoice_flow._diagnostics import Diagnostic, FlowValidationError, Report, report_of
from minivoice_flow._fields import describe
from minivoice_flow._flow import Flow, check_head, check_strict
from minivoice_flow._limits import MAX_PAYLOAD_BYTES
from minivoice_flow._rules import Direction, Steps, check_steps, document_order

_BOM: Final = "\ufeff"
_ACTION_NAMES: Final = ", ".join(CATALOGUE_BY_KIND)


def validate(payload: object, *, direction: Direction | None = None) -> Report:
    """Check an answer_url payload (``bytes``, ``str`` or parsed JSON) and report everything.

    Never raises for bad content. ``direction="inbound"`` enables the digits_to_caller rule;
    a direction that is not ``"inbound"``, ``"outbound"`` or None is a ``FlowError``, as in
    ``parse``.
    """
    if direction is not None:
        check_head("validate()", None, direction)
    diagnostics, _ = _diagnose(payload, direction)
    return report_of(diagnostics)


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
    actions = []
    for item in data["actions"]:
        ((kind, fields),) = item.items()
        actions.append(structure_action(CATALOGUE_BY_KIND[kind].type, fields))
    return Flow(name, direction=direction).then(actions)


def _diagnose(payload: object, direction: Direction | None) -> tuple[list[Diagnostic], Any]:
    """All diagnostics of a payload, in document order, and the decoded data."""
    found: list[Diagnostic] = []
    data, text = _load(payload, found)
    if data is _UNREADABLE:
        return found, None
    steps: Steps | None
    if text is not None and _compact.matches(text):
        # The fast path: the text is compact JSON proved valid field by field and free of
        # repeated keys, so only the rules are left to run.
        steps = _steps_of_valid(data, direction)
    else:
        walk = _Walk(found)
        steps = walk.payload(data, direction)
        if text is not None and not _keys_surely_unique(text, walk):
            found += _duplicates(_decode_marking_repeats(text))
    if steps is not None:
        found += check_steps(steps)
    if len(found) > 1:
        found.sort(key=document_order)
    return found, data


def _steps_of_valid(data: dict[str, Any], direction: Direction | None) -> Steps:
    """The rules' view of a payload known to be valid: each item is {kind: fields}."""
    actions = data["actions"]
    kinds = list(chain.from_iterable(actions))  # iterating {kind: fields} gives its one key
    given = list(chain.from_iterable(map(dict.values, actions)))
    return Steps(kinds, given, dict.get, direction)


# Loading: bytes or text to data, with the size limit and JSON's own traps.


_UNREADABLE: Final = object()


class _Rejected(Exception):
    """A reason the text cannot be read as JSON (internal: becomes malformed_json)."""


def _load(payload: object, found: list[Diagnostic]) -> tuple[Any, str | None]:
    """The decoded data and the text it came from (None for an already-parsed object).

    When the payload cannot be read, appends why and gives ``_UNREADABLE`` as the data.
    """
    if isinstance(payload, str):
        size = _size_over_limit(payload)
        if size is not None:
            found.append(_too_large(size, "bytes of UTF-8"))
            return _UNREADABLE, None
        return _loads(payload, found), payload
    if isinstance(payload, (bytes, bytearray, memoryview)):
        raw = bytes(payload)
        if len(raw) > MAX_PAYLOAD_BYTES:
            found.append(_too_large(len(raw), "bytes"))
            return _UNREADABLE, None
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            found.append(
                _malformed(f"the payload is not UTF-8: byte {error.start} cannot be decoded")
            )
            return _UNREADABLE, None
        return _loads(text, found), text
    return _check_parsed(payload, found), None


def _loads(text: str, found: list[Diagnostic]) -> Any:
    # The usual payload is a compact document that fills the text: raw_decode() reads it
    # without decode()'s scan for trailing white space. Anything else takes the full path.
    try:
        data, end = _DECODER.raw_decode(text)
        if end == len(text):
            return data
    except (ValueError, _Rejected, RecursionError):
        pass  # the full path below says what is wrong
    if text.startswith(_BOM):
        found.append(
            _malformed("the payload starts with a byte order mark; send UTF-8 without one")
        )
        return _UNREADABLE
    for decoder in (_DECODER, _DECODER_FOR_HUGE_INTEGERS):
        try:
            return decoder.decode(text)
        except json.JSONDecodeError as error:
            message = f"not valid JSON: {error.msg} (line {error.lineno}, column {error.colno})"
        except _Rejected as error:
            message = str(error)
        except RecursionError:
            message = "the JSON is nested too deeply to read"
        except ValueError:
            # An integer literal with more digits than int() reads. It is still JSON (and out
            # of every range): read the text again, taking such literals as huge numbers.
            continue
        found.append(_malformed(message))
        return _UNREADABLE
    raise AssertionError("the second decoder reads every integer")


def _reject_constant(name: str) -> Any:
    raise _Rejected(f"{name} is not allowed in JSON; numbers must be finite")


def _integer(digits: str) -> int:
    """An integer literal; one longer than int() will read is still JSON, and out of range."""
    try:
        return int(digits)
    except ValueError:
        return -(10**4400) if digits.startswith("-") else 10**4400


# Made once: building a decoder costs more than decoding a typical payload.
_DECODER: Final = json.JSONDecoder(parse_constant=_reject_constant)
_DECODER_FOR_HUGE_INTEGERS: Final = json.JSONDecoder(
    parse_constant=_reject_constant, parse_int=_integer
)


# Repeated keys. json keeps the last value of a repeated key without a word, and finding
# repeats means a Python call for every object decoded, which would double the cost of
# validate(). So a cheap test comes first, and proves most texts free of repeats.

_SPACE_BEFORE_COLON: Final = re.compile(r'"[ \t\n\r]+:')


def _keys_surely_unique(text: str, walk: _Walk) -> bool:
    """True when ``text`` cannot hold a repeated key (False means "look closer").

    If the text has no escaped quote and no white space between a key and its colon, each
    '":' in it closes a key, so their count is the number of keys written. The walk counted
    the keys left after decoding in every object; a repeated key makes that count smaller.
    """
    return (
        walk.complete
        and '\\"' not in text
        and _SPACE_BEFORE_COLON.search(text) is None
        and text.count('":') == walk.keys
    )


class _DuplicateKeys(dict[str, Any]):
    """A decoded JSON object in which some key appeared more than once."""

    repeated: dict[str, int]


def _marking_repeats(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """object_pairs_hook: a dict, marked when a key was repeated."""
    obj = dict(pairs)
    if len(obj) == len(pairs):
        return obj
    marked = _DuplicateKeys(obj)
    counts = Counter(key for key, _ in pairs)
    marked.repeated = {key: n for key, n in counts.items() if n > 1}
    return marked


_MARKING_DECODER: Final = json.JSONDecoder(
    object_pairs_hook=_marking_repeats, parse_constant=_reject_constant, parse_int=_integer
)


def _decode_marking_repeats(text: str) -> Any:
    """Decode again (the text is known to be JSON), marking the objects with repeated keys."""
    return _MARKING_DECODER.decode(text)


def _check_parsed(payload: object, found: list[Diagnostic]) -> Any:
    """An already-parsed object: measure it as compact JSON, as MiniVoice would receive it."""
    try:
        text = _compact_text(payload)
    except RecursionError:
        found.append(_malformed_payload("", "the object is nested too deeply to be JSON"))
        return _UNREADABLE
    except _Circular:
        found.append(_malformed_payload("", "the object contains a circular reference"))
        return _UNREADABLE
    size = _size_over_limit(text)
    if size is not None:
        found.append(_too_large(size, "bytes of compact JSON"))
        return _UNREADABLE
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


def _size_over_limit(text: str) -> int | None:
    """The UTF-8 size of ``text`` when it is over the limit, else None (cheaply when we can)."""
    if len(text) * 4 <= MAX_PAYLOAD_BYTES:  # a character is at most 4 bytes
        return None
    size = len(text.encode("utf-8", "surrogatepass"))
    return size if size > MAX_PAYLOAD_BYTES else None


def _duplicates(data: Any) -> list[Diagnostic]:
    """duplicate_key for every repeated key, wherever it is (iterative: data may be deep)."""
    found = []
    stack: list[tuple[Any, str]] = [(data, "")]
    while stack:
        value, path = stack.pop()
        if isinstance(value, _DuplicateKeys):
            for key, count in value.repeated.items():
                found.append(
                    Diagnostic.error(
                        "duplicate_key",
                        path,
                        f"the key {describe(key)} appears {count} times in this object; keep "
                        "only one",
                    )
                )
        if isinstance(value, dict):
            children = [(v, f"{path}/{_escape(k)}") for k, v in value.items()]
        elif isinstance(value, list):
            children = [(v, f"{path}/{i}") for i, v in enumerate(value)]
        else:
            continue
        stack.extend(reversed(children))
    return found


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
    """One pass over decoded JSON: field diagnostics, the rules' steps, and a count of keys.

    ``keys`` counts the entries of every object the walk looked inside; ``complete`` says
    whether that was every object in the data (what the repeated-key test needs).
    """

    __slots__ = ("complete", "found", "keys")

    def __init__(self, found: list[Diagnostic]) -> None:
        self.found = found
        self.keys = 0
        self.complete = True

    def payload(self, data: Any, direction: Direction | None) -> Steps | None:
        """Check the payload's shape and every field; return what the rules need, if possible."""
        found = self.found
        if not isinstance(data, dict):
            self.complete = not isinstance(data, list)
            found.append(
                _malformed_payload(
                    "",
                    'the payload must be an object like {"actions": [...]}; '
                    f"got {describe(data)}",
                )
            )
            return None
        self.keys += len(data)
        if len(data) != 1:
            for key, value in data.items():
                if key != "actions":
                    self._not_looked_into(value)
                    found.append(
                        Diagnostic.error(
                            "unknown_field",
                            f"/{_escape(key)}",
                            f'the payload has one key, "actions"; remove {describe(key)}',
                        )
                    )
        if "actions" not in data:
            found.append(_malformed_payload("", 'the payload has no "actions" key'))
            return None
        actions = data["actions"]
        if not isinstance(actions, list):
            self._not_looked_into(actions)
            found.append(
                _malformed_payload(
                    "/actions", f"actions must be an array of actions; got {describe(actions)}"
                )
            )
            return None
        kinds: list[str | None] = []
        given: list[Mapping[str, Any]] = []
        keys = 0
        for index, item in enumerate(actions):
            # The usual case inline (this loop is validate()'s hot path); every kind of
            # trouble goes to a method of its own.
            if isinstance(item, dict) and len(item) == 1:
                ((kind, fields),) = item.items()
                accepts = _ACCEPTS.get(kind)
                if accepts is not None and isinstance(fields, dict):
                    keys += 1 + len(fields)
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
        self.keys += keys
        return Steps(kinds, given, _given, direction)

    def _not_an_action(self, index: int, item: Any) -> tuple[str | None, Mapping[str, Any]]:
        """An item of actions that is not a known action holding an object of fields."""
        if not isinstance(item, dict) or len(item) != 1:
            self._not_looked_into(item)
            self.found.append(
                Diagnostic.error("malformed_action", f"/actions/{index}", _not_one_key(item))
            )
            return None, _NO_FIELDS
        ((kind, fields),) = item.items()
        self.keys += 1
        self._not_looked_into(fields)
        if kind not in _ACCEPTS:
            self.found.append(
                Diagnostic.error(
                    "unknown_action",
                    f"/actions/{index}/{_escape(kind)}",
                    f"{describe(kind)} is not an action{_suggest(kind, _ACCEPTS)}; "
                    f"the actions are {_ACTION_NAMES}",
                )
            )
            return None, _NO_FIELDS
        self.found.append(
            Diagnostic.error(
                "malformed_action",
                f"/actions/{index}/{kind}",
                f"the value of {kind} must be an object of its fields; got {describe(fields)}",
            )
        )
        return kind, _NO_FIELDS

    def _field(self, index: int, kind: str, key: Any, value: Any) -> None:
        """The slow path for one field: unknown, or a value its quick test did not accept."""
        self._not_looked_into(value)
        specs = _SPECS[kind]
        spec = specs.get(key)
        if spec is None:
            self.found.append(_unknown_field(index, kind, key, specs))
            return
        problem = spec.check(f"{kind}.{key}", value)
        if problem is not None:
            code, message = problem
            self.found.append(Diagnostic.error(code, f"/actions/{index}/{kind}/{key}", message))

    def _missing(self, index: int, kind: str, name: str) -> None:
        allowed = _SPECS[kind][name].description_of_allowed
        self.found.append(
            Diagnostic.error(
                "missing_field",
                f"/actions/{index}/{kind}/{name}",
                f"{kind} needs {name}: {allowed}",
            )
        )

    def _not_looked_into(self, value: Any) -> None:
        if isinstance(value, (dict, list)):
            self.complete = False


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
    return Diagnostic.error(
        "unknown_field",
        f"/actions/{index}/{kind}/{_escape(key)}",
        f"{kind} has no field {describe(key)}{_suggest(key, specs)}; its fields are: {names}",
    )


# Messages and pointers.


def _escape(key: object) -> str:
    """One JSON pointer token (RFC 6901)."""
    try:
        text = str(key)
    except ValueError:  # an int key with more digits than Python will print
        text = describe(key)
    return text.replace("~", "~0").replace("/", "~1")


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


def _malformed(message: str) -> Diagnostic:
    return Diagnostic.error("malformed_json", "", message)


def _malformed_payload(path: str, message: str) -> Diagnostic:
    return Diagnostic.error("malformed_payload", path, message)


def _too_large(size: int, unit: str) -> Diagnostic:
    return Diagnostic.error(
        "payload_too_large",
        "",
        f"the payload is {size} {unit}; at most {MAX_PAYLOAD_BYTES} are allowed: split the flow "
        "with a redirect",
    )
