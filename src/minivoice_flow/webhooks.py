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
from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Annotated, Any, Final, TypeVar

from attrs import field, frozen

from minivoice_flow import _converter, _json
from minivoice_flow._codes import diagnostic
from minivoice_flow._diagnostics import Diagnostic, DiagnosticError
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
NonEmptyStr = Annotated[str, "non-empty"]


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
        data: dict[str, Any] = _converter.unstructure(self)
        return data

    def to_json(self) -> str:
        """The object as compact JSON text."""
        return json.dumps(self.to_dict(), separators=(",", ":"), ensure_ascii=False)

    def __reduce__(self) -> tuple[Any, ...]:
        # The read-only mappings cannot be pickled; the wire shape can, and reads back equal.
        return (_rebuild, (type(self), self.to_dict()))


def _rebuild(cls: type[T], data: dict[str, Any]) -> T:
    return _converter.converter().structure(data, cls)


@frozen
class Call(_Model):
    """The call a webhook or an action request is about.

    ``from_`` is the wire key ``from``. Keys this class does not know are kept in ``extra``.
    """

    id: NonEmptyStr
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


class WebhookError(DiagnosticError):
    """A webhook or action request that cannot be read; ``diagnostics`` holds every problem.

    Each diagnostic has a code (``malformed_json``, ``malformed_payload``, ``missing_field``,
    ``invalid_type``, ``invalid_value``), a JSON pointer and a message naming the field, the
    value given and what is allowed.
    """

    def __init__(self, diagnostics: tuple[Diagnostic, ...], *, subject: str = "webhook") -> None:
        count = "1 problem" if len(diagnostics) == 1 else f"{len(diagnostics)} problems"
        super().__init__(f"{subject} cannot be read ({count})", diagnostics, subject=subject)

    @property
    def path(self) -> str:
        """The JSON pointer of the first problem."""
        return self.diagnostics[0].path

    @property
    def code(self) -> str:
        """The code of the first problem."""
        return self.diagnostics[0].code


def parse_webhook(payload: bytes | str | Mapping[str, Any]) -> Webhook:
    """Read a webhook payload; raises ``WebhookError`` (and nothing else) if it cannot."""
    return _read(payload, Webhook, "webhook")


def parse_flow_request(payload: bytes | str | Mapping[str, Any]) -> FlowRequest:
    """Read the body of MiniVoice's request for actions; raises ``WebhookError`` if it cannot."""
    return _read(payload, FlowRequest, "action request")


# Reading: through the JSON front door, then to objects through the library's converter.

_WIRE_NAMES: Final = {"from_": "from"}


def _read(payload: object, cls: type[T], subject: str) -> T:
    found: list[Diagnostic] = []
    data: object = payload
    if isinstance(payload, (bytes, bytearray, memoryview, str)):
        text = _json.text_of(payload, found, subject=subject, limit=None)
        data = _json.UNREADABLE if text is None else _json.loads(text, found, subject=subject)
        if data is _json.UNREADABLE:
            raise WebhookError(tuple(found), subject=subject)
    if not isinstance(data, Mapping):
        message = f"the {subject} must be a JSON object; got {describe(data)}"
        raise WebhookError((diagnostic("malformed_payload", "", message),), subject=subject)
    try:
        return _converter.structure(data, cls, _WIRE_NAMES)
    except _converter.StructureError as error:
        raise WebhookError(error.diagnostics, subject=subject) from None
