"""Reading answer_url JSON back: ``validate`` reports every problem, ``parse`` builds a Flow.

One pass over the payload finds every field problem, each with its JSON pointer; the ordering
rules then run over every action whose name is known, even one with bad fields. Nothing in
here raises for bad content: every problem becomes a diagnostic.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping
from typing import Any, Final

from minivoice_flow._actions import CATALOGUE_BY_KIND, ActionInfo
from minivoice_flow._converter import structure_action
from minivoice_flow._diagnostics import Diagnostic, FlowValidationError, Report
from minivoice_flow._fields import describe
from minivoice_flow._flow import Flow
from minivoice_flow._limits import MAX_PAYLOAD_BYTES
from minivoice_flow._rules import Direction, Step, check_steps, document_order

_BOM: Final = "\ufeff"
_ACTION_NAMES: Final = ", ".join(CATALOGUE_BY_KIND)


def validate(payload: object, *, direction: Direction | None = None) -> Report:
    """Check an answer_url payload (``bytes``, ``str`` or parsed JSON) and report everything.

    Never raises for bad content. ``direction="inbound"`` enables the digits_to_caller rule.
    """
    diagnostics, _ = _diagnose(payload, direction)
    return Report(tuple(diagnostics))


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
    diagnostics, data = _diagnose(payload, direction)
    report = Report(tuple(diagnostics))
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
    data = _load(payload, found)
    if data is _UNREADABLE:
        return found, None
    steps = _walk_payload(data, found)
    if steps is not None:
        found.extend(check_steps(steps, direction))
    found.sort(key=document_order)
    return found, data


# Loading: bytes or text to data, with the size limit and JSON's own traps.


_UNREADABLE: Final = object()


class _Rejected(Exception):
    """A reason the text cannot be read as JSON (internal: becomes malformed_json)."""


class _DuplicateKeys(dict[str, Any]):
    """A decoded JSON object in which some key appeared more than once."""

    repeated: dict[str, int]


def _load(payload: object, found: list[Diagnostic]) -> Any:
    """Decode ``payload`` to JSON data, or append why it cannot be read and return _UNREADABLE.

    A text with repeated keys is still read: its duplicate_key diagnostics are appended and
    the walk goes on.
    """
    if isinstance(payload, (bytes, bytearray, memoryview)):
        raw = bytes(payload)
        if len(raw) > MAX_PAYLOAD_BYTES:
            found.append(_too_large(len(raw), "bytes"))
            return _UNREADABLE
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            found.append(
                _malformed(f"the payload is not UTF-8: byte {error.start} cannot be decoded")
            )
            return _UNREADABLE
        return _loads(text, found)
    if isinstance(payload, str):
        size = _size_over_limit(payload)
        if size is not None:
            found.append(_too_large(size, "bytes of UTF-8"))
            return _UNREADABLE
        return _loads(payload, found)
    return _check_parsed(payload, found)


def _loads(text: str, found: list[Diagnostic]) -> Any:
    if text.startswith(_BOM):
        found.append(_malformed("the payload starts with a byte order mark; send UTF-8 without one"))
        return _UNREADABLE
    repeated: list[_DuplicateKeys] = []

    def pairs_to_dict(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        obj = dict(pairs)
        if len(obj) == len(pairs):
            return obj
        marked = _DuplicateKeys(obj)
        counts = Counter(key for key, _ in pairs)
        marked.repeated = {key: n for key, n in counts.items() if n > 1}
        repeated.append(marked)
        return marked

    try:
        data = json.loads(
            text,
            object_pairs_hook=pairs_to_dict,
            parse_constant=_reject_constant,
            parse_int=_integer,
        )
    except json.JSONDecodeError as error:
        found.append(
            _malformed(f"not valid JSON: {error.msg} (line {error.lineno}, column {error.colno})")
        )
        return _UNREADABLE
    except _Rejected as error:
        found.append(_malformed(str(error)))
        return _UNREADABLE
    except RecursionError:
        found.append(_malformed("the JSON is nested too deeply to read"))
        return _UNREADABLE
    if repeated:
        found.extend(_duplicates(data))
    return data


def _reject_constant(name: str) -> Any:
    raise _Rejected(f"{name} is not allowed in JSON; numbers must be finite")


def _integer(digits: str) -> int:
    """An integer literal; one longer than int() will read is still JSON, and out of range."""
    try:
        return int(digits)
    except ValueError:
        return -(10**4400) if digits.startswith("-") else 10**4400


def _check_parsed(payload: object, found: list[Diagnostic]) -> Any:
    """An already-parsed object: measure it as compact JSON, as MiniVoice would receive it."""
    try:
        text = json.dumps(
            payload,
            separators=(",", ":"),
            ensure_ascii=False,
            skipkeys=True,
            default=lambda _: None,  # non-JSON values are reported where they stand
        )
    except RecursionError:
        found.append(_malformed_payload("", "the object is nested too deeply to be JSON"))
        return _UNREADABLE
    except ValueError:
        found.append(_malformed_payload("", "the object contains a circular reference"))
        return _UNREADABLE
    size = _size_over_limit(text)
    if size is not None:
        found.append(_too_large(size, "bytes of compact JSON"))
        return _UNREADABLE
    return payload


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


class _RawStep:
    """A JSON action for the rules: its kind is known, its fields may be wrong."""

    __slots__ = ("kind", "terminal", "_fields")

    def __init__(self, info: ActionInfo, fields: Mapping[str, Any]) -> None:
        self.kind = info.kind
        self.terminal = info.terminal
        self._fields = fields

    def given(self, name: str, /) -> object:
        return self._fields.get(name)


def _walk_payload(data: Any, found: list[Diagnostic]) -> list[Step | None] | None:
    if not isinstance(data, dict):
        found.append(
            _malformed_payload(
                "", f'the payload must be an object like {{"actions": [...]}}; got {describe(data)}'
            )
        )
        return None
    for key in data:
        if key != "actions":
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
        found.append(
            _malformed_payload(
                "/actions", f"actions must be an array of actions; got {describe(actions)}"
            )
        )
        return None
    return [_walk_action(index, item, found) for index, item in enumerate(actions)]


def _walk_action(index: int, item: Any, found: list[Diagnostic]) -> Step | None:
    path = f"/actions/{index}"
    if not isinstance(item, dict) or len(item) != 1:
        found.append(Diagnostic.error("malformed_action", path, _not_one_key(item)))
        return None
    ((kind, fields),) = item.items()
    info = CATALOGUE_BY_KIND.get(kind)
    if info is None:
        found.append(
            Diagnostic.error(
                "unknown_action",
                f"{path}/{_escape(kind)}",
                f"{describe(kind)} is not an action{_suggest(kind, CATALOGUE_BY_KIND)}; "
                f"the actions are {_ACTION_NAMES}",
            )
        )
        return None
    path = f"{path}/{kind}"
    if not isinstance(fields, dict):
        found.append(
            Diagnostic.error(
                "malformed_action",
                path,
                f"the value of {kind} must be an object of its fields; got {describe(fields)}",
            )
        )
        return _RawStep(info, {})
    _walk_fields(info, path, fields, found)
    return _RawStep(info, fields)


def _walk_fields(
    info: ActionInfo, path: str, fields: dict[str, Any], found: list[Diagnostic]
) -> None:
    specs = {f.name: f for f in info.fields}
    for key, value in fields.items():
        field = specs.get(key)
        if field is None:
            names = ", ".join(specs) or "none"
            found.append(
                Diagnostic.error(
                    "unknown_field",
                    f"{path}/{_escape(key)}",
                    f"{info.kind} has no field {describe(key)}{_suggest(key, specs)}; "
                    f"its fields are: {names}",
                )
            )
            continue
        problem = field.spec.check(f"{info.kind}.{key}", value)
        if problem is not None:
            code, message = problem
            found.append(Diagnostic.error(code, f"{path}/{key}", message))
    for field in info.fields:
        if field.required and field.name not in fields:
            found.append(
                Diagnostic.error(
                    "missing_field",
                    f"{path}/{field.name}",
                    f"{info.kind} needs {field.name}: {field.spec.description_of_allowed}",
                )
            )


# Messages and pointers.


def _escape(key: object) -> str:
    """One JSON pointer token (RFC 6901)."""
    return str(key).replace("~", "~0").replace("/", "~1")


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
