"""MiniVoice's webhooks and action requests, read into typed, immutable objects.

``parse_webhook`` reads a webhook payload (bytes, text or already-parsed JSON) into a
``Webhook``. ``parse_flow_request`` reads the body MiniVoice sends when it asks the application
for actions: to the answer_url, a redirect's url and a transfer's fallback_url. That body is
modelled (the vendor documents only the webhook) as the call and its variables, in the
webhook's own shapes: ``{"call": {...}, "variables": {...}, "data": {...}}``.

Unknown event names, call statuses and extra keys are kept as they are, never rejected, since
MiniVoice may add them. A payload that cannot be read raises ``WebhookError``, which carries
every problem found, each located by JSON pointer.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Annotated, Any, Final, NoReturn, TypeVar

import cattrs
from attrs import field, frozen
from cattrs.cols import is_mapping, mapping_structure_factory
from cattrs.errors import ClassValidationError, IterableValidationError
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from minivoice_flow import Diagnostic
from minivoice_flow._fields import describe

__all__ = [
    "ENDED_STATUSES",
    "Call",
    "CallStatus",
    "Event",
    "FlowRequest",
    "Webhook",
    "WebhookError",
    "parse_flow_request",
    "parse_webhook",
]

T = TypeVar("T")


class Event(StrEnum):
    """The webhook events MiniVoice is known to send (modelled); others are kept as text."""

    INITIATED = "call.initiated"
    ANSWERED = "call.answered"
    COMPLETED = "call.completed"


class CallStatus(StrEnum):
    """The known values of ``call.status`` (modelled); others are kept as text."""

    QUEUED = "queued"
    RINGING = "ringing"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    BUSY = "busy"
    NO_ANSWER = "no_answer"
    FAILED = "failed"
    CANCELED = "canceled"


#: Statuses after which nothing more happens on the call.
ENDED_STATUSES: Final[frozenset[str]] = frozenset(
    {
        CallStatus.COMPLETED,
        CallStatus.BUSY,
        CallStatus.NO_ANSWER,
        CallStatus.FAILED,
        CallStatus.CANCELED,
    }
)

#: A string with at least one character (the call ID: an empty one correlates nothing).
_NonEmptyStr = Annotated[str, "non-empty"]


def _read_only(value: Mapping[str, Any]) -> Mapping[str, Any]:
    """attrs converter: a read-only copy, so a parsed payload cannot be changed afterwards."""
    return MappingProxyType(dict(value))


def _mapping_field() -> Any:
    return field(factory=dict, converter=_read_only)


class _Model:
    """Behaviour shared by the payload classes: plain data out, and pickling through it."""

    __slots__ = ()

    def to_dict(self) -> dict[str, Any]:
        """The object in its wire shape, as plain JSON-ready data (extra keys included)."""
        data: dict[str, Any] = _CONVERTER.unstructure(self)
        return data

    def to_json(self) -> str:
        """The object as compact JSON text."""
        return json.dumps(self.to_dict(), separators=(",", ":"), ensure_ascii=False)

    def __reduce__(self) -> tuple[Any, ...]:
        # The read-only mappings cannot be pickled; the wire shape can, and reads back equal.
        return (_rebuild, (type(self), self.to_dict()))


def _rebuild(cls: type[T], data: dict[str, Any]) -> T:
    return _CONVERTER.structure(data, cls)


@frozen
class Call(_Model):
    """The call a webhook or an action request is about.

    ``from_`` is the wire key ``from``. Keys this class does not know are kept in ``extra``.
    """

    id: _NonEmptyStr
    customer_id: str
    application_id: str
    #: One of ``CallStatus`` (compare with it), or a newer status kept as given.
    status: str
    #: ``"inbound"`` or ``"outbound"`` as MiniVoice sends it.
    direction: str
    from_: str
    to: str
    extra: Mapping[str, Any] = _mapping_field()

    @property
    def ended(self) -> bool:
        """True when the status says the call is over (completed, busy, failed, ...)."""
        return self.status in ENDED_STATUSES


@frozen
class Webhook(_Model):
    """A webhook payload: an event about a call, when it happened, and the call's variables."""

    #: One of ``Event`` (compare with it), or a newer event name kept as given.
    event: str
    #: When MiniVoice created the event; always timezone-aware.
    created_at: datetime
    call: Call
    #: What ``collect`` actions stored, by variable name.
    variables: Mapping[str, str] = _mapping_field()
    #: Event-specific data, as sent.
    data: Mapping[str, Any] = _mapping_field()
    #: Top-level keys this class does not know, as sent.
    extra: Mapping[str, Any] = _mapping_field()


@frozen
class FlowRequest(_Model):
    """What MiniVoice sends when it requests actions: the call and its variables (modelled).

    At a transfer's fallback_url, ``call.status`` says why the transfer did not connect
    (``busy``, ``no_answer`` or ``failed``).
    """

    call: Call
    variables: Mapping[str, str] = _mapping_field()
    data: Mapping[str, Any] = _mapping_field()
    extra: Mapping[str, Any] = _mapping_field()


class WebhookError(ValueError):
    """A webhook or action request that cannot be read; ``diagnostics`` holds every problem.

    Each diagnostic has a code (``malformed_json``, ``malformed_payload``, ``missing_field``,
    ``invalid_type``, ``invalid_value``), a JSON pointer and a message naming the field, the
    value given and what is allowed.
    """

    def __init__(self, diagnostics: tuple[Diagnostic, ...], *, subject: str = "webhook") -> None:
        self.diagnostics = diagnostics
        self.subject = subject
        count = "1 problem" if len(diagnostics) == 1 else f"{len(diagnostics)} problems"
        lines = [f"{subject} cannot be read ({count}):"]
        lines.extend(f"  {d}" for d in diagnostics)
        super().__init__("\n".join(lines))

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_error, (self.diagnostics, self.subject))

    @property
    def path(self) -> str:
        """The JSON pointer of the first problem."""
        return self.diagnostics[0].path

    @property
    def code(self) -> str:
        """The code of the first problem."""
        return self.diagnostics[0].code


def _rebuild_error(diagnostics: tuple[Diagnostic, ...], subject: str) -> WebhookError:
    return WebhookError(diagnostics, subject=subject)


def parse_webhook(payload: bytes | str | Mapping[str, Any]) -> Webhook:
    """Read a webhook payload; raises ``WebhookError`` (and nothing else) if it cannot."""
    return _read(payload, Webhook, "webhook")


def parse_flow_request(payload: bytes | str | Mapping[str, Any]) -> FlowRequest:
    """Read the body of MiniVoice's request for actions; raises ``WebhookError`` if it cannot."""
    return _read(payload, FlowRequest, "action request")


# Reading: text to data, then data to objects through the converter.


def _read(payload: object, cls: type[T], subject: str) -> T:
    data = _decode(payload, subject)
    if not isinstance(data, Mapping):
        message = f"the {subject} must be a JSON object; got {describe(data)}"
        raise WebhookError((Diagnostic.error("malformed_payload", "", message),), subject=subject)
    try:
        return _CONVERTER.structure(data, cls)
    except (ClassValidationError, IterableValidationError, _Invalid) as error:
        raise WebhookError(tuple(_flatten(error, ())), subject=subject) from None


def _decode(payload: object, subject: str) -> object:
    """JSON text (or bytes of UTF-8) to data; anything else is taken as already parsed."""
    if isinstance(payload, (bytes, bytearray, memoryview)):
        try:
            payload = bytes(payload).decode("utf-8")
        except UnicodeDecodeError as error:
            _malformed(f"the {subject} is not UTF-8: byte {error.start} cannot be decoded", subject)
    if not isinstance(payload, str):
        return payload
    try:
        return json.loads(payload, parse_constant=_reject_constant)
    except json.JSONDecodeError as error:
        _malformed(
            f"the {subject} is not JSON: {error.msg} (line {error.lineno}, column {error.colno})",
            subject,
        )
    except ValueError as error:  # a NaN/Infinity literal, or an integer too long to read
        _malformed(f"the {subject} is not JSON: {error}", subject)
    except RecursionError:
        _malformed(f"the {subject} is nested too deeply to read", subject)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed; numbers must be finite")


def _malformed(message: str, subject: str) -> NoReturn:
    raise WebhookError((Diagnostic.error("malformed_json", "", message),), subject=subject)


class _Invalid(ValueError):
    """Raised by a structure hook: a value of the wrong type or form (becomes a diagnostic)."""

    def __init__(self, code: str, rule: str, value: object, why: str = "") -> None:
        super().__init__(rule)
        self.code = code
        self.rule = rule
        self.value = value
        self.why = why


# Flattening cattrs' grouped errors into diagnostics. cattrs attaches a note to each nested
# error naming the attribute or key it was structuring; the notes make the path.

_WIRE_NAMES: Final = {"from_": "from"}


def _flatten(error: BaseException, path: tuple[str, ...]) -> Iterator[Diagnostic]:
    if isinstance(error, (ClassValidationError, IterableValidationError)):
        with_notes, without = error.group_exceptions()
        for inner, note in with_notes:
            if isinstance(error, ClassValidationError):
                name = getattr(note, "name", "")
                step = _WIRE_NAMES.get(name, name)
            else:
                step = str(getattr(note, "index", ""))
            yield from _flatten_one(inner, (*path, step), getattr(note, "type", None))
        for inner in without:
            yield from _flatten(inner, path)
    else:
        yield from _flatten_one(error, path, None)


def _flatten_one(error: BaseException, path: tuple[str, ...], kind: Any) -> Iterator[Diagnostic]:
    if isinstance(error, (ClassValidationError, IterableValidationError)):
        yield from _flatten(error, path)
        return
    pointer = "".join("/" + step.replace("~", "~0").replace("/", "~1") for step in path)
    where = ".".join(path) or "the payload"
    if isinstance(error, KeyError):
        message = f"{where} is missing; it must be {_ALLOWED.get(kind, 'given')}"
        yield Diagnostic.error("missing_field", pointer, message)
    elif isinstance(error, _Invalid):
        message = f"{where} must be {error.rule}; got {describe(error.value)}{error.why}"
        yield Diagnostic.error(error.code, pointer, message)
    else:  # not expected from our hooks; still reported where it stands
        yield Diagnostic.error("invalid_value", pointer, f"{where} cannot be read: {error}")


_TIMESTAMP_RULE: Final = "an ISO 8601 timestamp with a time zone, like 2026-05-29T12:10:00Z"
_ALLOWED: Final[dict[Any, str]] = {
    str: "a string",
    _NonEmptyStr: "a non-empty string",
    datetime: _TIMESTAMP_RULE,
    Call: "an object describing the call",
}


# Structure hooks: strict where JSON is typed (no str(42) == "42"), lenient on unknown keys.


def _string(value: object, _: object) -> str:
    if not isinstance(value, str):
        raise _Invalid("invalid_type", "a string", value)
    return value


def _non_empty_string(value: object, _: object) -> str:
    if not isinstance(value, str):
        raise _Invalid("invalid_type", "a non-empty string", value)
    if not value:
        raise _Invalid("invalid_value", "a non-empty string", value)
    return value


def _timestamp(value: object, _: object) -> datetime:
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise _Invalid("invalid_value", _TIMESTAMP_RULE, value) from None
    else:
        raise _Invalid("invalid_type", _TIMESTAMP_RULE, value)
    if moment.utcoffset() is None:
        raise _Invalid("invalid_value", _TIMESTAMP_RULE, value, ", which has no time zone")
    return moment


def _timestamp_text(moment: datetime) -> str:
    text = moment.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _mappings(kind: Any, converter: cattrs.Converter) -> Callable[[object, object], Any]:
    """Hook factory for ``Mapping[str, X]`` fields: an object first, then cattrs' own hook."""
    structure_items = mapping_structure_factory(kind, converter)

    def structure(value: object, _: object) -> Any:
        if not isinstance(value, Mapping):
            raise _Invalid("invalid_type", "an object", value)
        return structure_items(value, kind)

    return structure


def _register_object(converter: cattrs.Converter, cls: type[Any], **renames: str) -> None:
    """Hooks for a payload class: wire names, unknown keys kept in ``extra``, a clear error
    when the value is not an object at all."""
    overrides = {name: override(rename=wire) for name, wire in renames.items()}
    structure_fields = make_dict_structure_fn(cls, converter, **overrides)  # type: ignore[arg-type]
    unstructure_fields = make_dict_unstructure_fn(
        cls,
        converter,
        extra=override(omit=True),
        **overrides,  # type: ignore[arg-type]
    )
    known = frozenset(renames.get(a.name, a.name) for a in cls.__attrs_attrs__ if a.name != "extra")

    def structure(value: object, _: object) -> Any:
        if not isinstance(value, Mapping):
            raise _Invalid("invalid_type", "an object", value)
        for key in value:
            if not isinstance(key, str):
                raise _Invalid("invalid_value", "an object whose keys are strings", key)
        extra = {k: v for k, v in value.items() if k not in known}
        return structure_fields({**value, "extra": extra}, cls)

    def unstructure(obj: Any) -> dict[str, Any]:
        data = unstructure_fields(obj)
        data.update((k, v) for k, v in obj.extra.items() if k not in data)
        return data

    converter.register_structure_hook(cls, structure)
    converter.register_unstructure_hook(cls, unstructure)


def _make_converter() -> cattrs.Converter:
    """The converter for webhook payloads: detailed errors, strict strings, kept extras."""
    converter = cattrs.Converter(detailed_validation=True)
    converter.register_structure_hook(str, _string)
    converter.register_structure_hook_func(lambda t: t == _NonEmptyStr, _non_empty_string)
    converter.register_structure_hook(datetime, _timestamp)
    converter.register_unstructure_hook(datetime, _timestamp_text)
    converter.register_structure_hook_factory(is_mapping, _mappings)
    _register_object(converter, Call, from_="from")
    _register_object(converter, Webhook)
    _register_object(converter, FlowRequest)
    return converter


_CONVERTER: Final = _make_converter()
