"""The action IR: one frozen class per MiniVoice action, and the catalogue read from them.

Each class is the single definition of its action: field order (which is the wire order),
Python types, what each field accepts (a ``FieldSpec`` in the field's metadata), a one-line
doc, and whether the action ends the actions array. The builder, parser, JSON Schema, docs and
stubs are all derived from these classes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, Final, NamedTuple

import attrs
from attrs import field, frozen

from minivoice_flow import _limits as L
from minivoice_flow._codes import diagnostic
from minivoice_flow._diagnostics import FlowError, fields_repr
from minivoice_flow._fields import (
    E164_PATTERN,
    SIP_PATTERN,
    URL_HEAD_PATTERN,
    URL_PATTERN,
    VARIABLE_PATTERN,
    FieldSpec,
)

SPEC: Final = "minivoice_flow.spec"

_URL_WORDS: Final = (
    f"an absolute http or https URL with a host (and a port from 0 to 65535, if any), in "
    f"printable ASCII with no spaces, at most {L.MAX_URL_LENGTH} characters"
)


def _defined_by(spec: FieldSpec) -> dict[str, Any]:
    """The attrs ``field()`` arguments that make ``spec`` the definition of a field.

    The spec goes in the field's metadata (for the catalogue) and its check becomes the
    field's validator.
    """
    return {"validator": _validator(spec), "metadata": {SPEC: spec}}


def _url(doc: str) -> dict[str, Any]:
    return _defined_by(
        FieldSpec(
            "string",
            doc,
            allowed=_URL_WORDS,
            max_length=L.MAX_URL_LENGTH,
            pattern=URL_PATTERN,
            # After the host, a URL holds any printable ASCII: "/", "?" or "#" must follow it.
            head_pattern=rf"{URL_HEAD_PATTERN}(?:[/?#]|\Z)",
        )
    )


def _validator(spec: FieldSpec) -> Callable[[_Action, attrs.Attribute[Any], object], None]:
    """An attrs validator applying ``spec``; ``None`` means "unset" for an optional field."""
    accepts = spec.accepts

    def validate(instance: _Action, attribute: attrs.Attribute[Any], value: object) -> None:
        if value is None:  # unset, for an optional field
            if attribute.default is None:
                return
        elif accepts(value):
            return
        problem = spec.check(f"{instance.kind}.{attribute.name}", value)
        if problem is not None:
            code, message = problem
            path = f"/{instance.kind}/{attribute.name}"
            raise FlowError(message, [diagnostic(code, path, message)])
        if isinstance(value, float):
            # A whole float (2000.0, as JSON may carry it) is accepted as the int it equals.
            # This is the rare slow path, so it costs the usual int nothing, unlike a
            # converter; the instance is still being built, as in __attrs_post_init__.
            object.__setattr__(instance, attribute.name, int(value))

    return validate


class _Action:
    """Behaviour shared by every action class."""

    __slots__ = ()
    #: The action's name on the wire, e.g. ``"send_digits"``.
    kind: ClassVar[str]
    #: True when nothing after this action in the same array can run.
    terminal: ClassVar[bool] = False

    def given(self, name: str) -> object:
        """The value of field ``name`` as set, or None when it was left unset."""
        return getattr(self, name, None)

    __repr__ = fields_repr  # the action classes are made with repr=False


@frozen(repr=False)
class Play(_Action):
    """Play an audio file to the call, then continue."""

    kind: ClassVar[str] = "play"

    url: str = field(**_url("Address of the audio file (WAV or MP3) to play."))
    loop: int | None = field(
        default=None,
        kw_only=True,
        **_defined_by(
            FieldSpec(
                "integer",
                "How many times to play the file.",
                minimum=L.MIN_PLAY_LOOP,
                maximum=L.MAX_PLAY_LOOP,
                default=1,
            )
        ),
    )


@frozen(repr=False)
class Collect(_Action):
    """Wait for keypad input from the caller and store it in a call variable."""

    kind: ClassVar[str] = "collect"

    variable: str = field(
        **_defined_by(
            FieldSpec(
                "string",
                "Name the keys pressed are stored under in the call's variables.",
                allowed=(
                    f"1 to {L.MAX_VARIABLE_LENGTH} characters: a lower-case ASCII letter, then "
                    "lower-case letters, digits or underscores"
                ),
                pattern=VARIABLE_PATTERN,
            )
        ),
    )
    max_digits: int | None = field(
        default=None,
        kw_only=True,
        **_defined_by(
            FieldSpec(
                "integer",
                "Stop after this many keys.",
                minimum=L.MIN_COLLECT_DIGITS,
                maximum=L.MAX_COLLECT_DIGITS,
            )
        ),
    )
    timeout_ms: int | None = field(
        default=None,
        kw_only=True,
        **_defined_by(
            FieldSpec(
                "integer",
                "Stop when no key is pressed for this long.",
                minimum=L.MIN_COLLECT_TIMEOUT_MS,
                maximum=L.MAX_COLLECT_TIMEOUT_MS,
                default=5000,
                unit="ms",
            )
        ),
    )
    finish_on_key: str | None = field(
        default=None,
        kw_only=True,
        **_defined_by(
            FieldSpec(
                "string",
                "Key that ends the input (it is not stored); empty for none.",
                allowed='one of 0-9, * or #, or "" for no finishing key',
                pattern=f"[{L.FINISH_KEYS}]?",
                default=L.DEFAULT_FINISH_ON_KEY,
            )
        ),
    )


@frozen(repr=False)
class Redirect(_Action):
    """Fetch new actions from a URL and run them instead of the rest of this array."""

    kind: ClassVar[str] = "redirect"
    terminal: ClassVar[bool] = True

    url: str = field(
        **_url("Address to request; it receives the call and its variables."),
    )
    method: str | None = field(
        default=None,
        kw_only=True,
        **_defined_by(
            FieldSpec(
                "string",
                "HTTP method of the request.",
                allowed=" or ".join(L.REDIRECT_METHODS),
                choices=L.REDIRECT_METHODS,
                default=L.DEFAULT_REDIRECT_METHOD,
            )
        ),
    )


@frozen(repr=False)
class Transfer(_Action):
    """Ring another number or SIP address and bridge the caller to it when it answers."""

    kind: ClassVar[str] = "transfer"

    to: str = field(
        **_defined_by(
            FieldSpec(
                "string",
                "Destination to ring.",
                allowed=(
                    "an E.164 number (+ then up to 15 digits, e.g. +15551230002) "
                    "or a sip: or sips: URI with no spaces"
                ),
                pattern=f"(?:{E164_PATTERN}|{SIP_PATTERN})",
            )
        ),
    )
    caller_id: str | None = field(
        default=None,
        kw_only=True,
        **_defined_by(
            FieldSpec(
                "string",
                "Number shown to the destination as the caller.",
                allowed="an E.164 number (+ then up to 15 digits, e.g. +15551230001)",
                pattern=E164_PATTERN,
            )
        ),
    )
    timeout_ms: int | None = field(
        default=None,
        kw_only=True,
        **_defined_by(
            FieldSpec(
                "integer",
                "How long the destination may ring before the transfer counts as no answer.",
                minimum=L.MIN_TRANSFER_TIMEOUT_MS,
                maximum=L.MAX_TRANSFER_TIMEOUT_MS,
                default=L.DEFAULT_TRANSFER_TIMEOUT_MS,
                unit="ms",
            )
        ),
    )
    fallback_url: str | None = field(
        default=None,
        kw_only=True,
        **_url(
            "Address that serves new actions when the destination is busy, does not answer "
            "or fails; without it the call ends."
        ),
    )


@frozen(repr=False)
class SendDigits(_Action):
    """Send DTMF tones to the far end of the call, then continue."""

    kind: ClassVar[str] = "send_digits"

    digits: str = field(
        **_defined_by(
            FieldSpec(
                "string",
                "Tones to send, in order; w and , wait 500 ms, W waits 1000 ms.",
                allowed="0-9 * # A B C D, and w W , for pauses",
                min_length=1,
                max_length=L.MAX_DIGITS_LENGTH,
                alphabet=L.DTMF_CHARACTERS,
            )
        ),
    )
    pause_before_ms: int | None = field(
        default=None,
        kw_only=True,
        **_defined_by(
            FieldSpec(
                "integer",
                "Silence before the first tone, to let the far end get ready.",
                minimum=0,
                maximum=L.MAX_PAUSE_BEFORE_MS,
                unit="ms",
            )
        ),
    )


@frozen(repr=False)
class Hangup(_Action):
    """End the call."""

    kind: ClassVar[str] = "hangup"
    terminal: ClassVar[bool] = True


Action = Play | Collect | Redirect | Transfer | SendDigits | Hangup

#: Every action class, in the order the docs list them.
ACTION_TYPES: Final[tuple[type[Action], ...]] = (
    Play,
    Collect,
    Redirect,
    Transfer,
    SendDigits,
    Hangup,
)
ACTIONS_BY_KIND: Final[dict[str, type[Action]]] = {cls.kind: cls for cls in ACTION_TYPES}


class FieldInfo(NamedTuple):
    """One field of an action as the catalogue describes it."""

    name: str
    required: bool
    annotation: str
    spec: FieldSpec


class ActionInfo(NamedTuple):
    """One action as the catalogue describes it."""

    kind: str
    summary: str
    terminal: bool
    type: type[Action]
    fields: tuple[FieldInfo, ...]

    def field(self, name: str) -> FieldInfo:
        """The field called ``name``."""
        return next(f for f in self.fields if f.name == name)


def _type_name(annotation: object) -> str:
    """``"int | None"`` for a field's type, whether attrs holds it as text or resolved."""
    if isinstance(annotation, str):
        return annotation
    if isinstance(annotation, type):
        return annotation.__name__
    return repr(annotation)


def describe_action(cls: type[Action]) -> ActionInfo:
    fields = tuple(
        FieldInfo(
            name=a.name,
            required=a.default is attrs.NOTHING,
            annotation=_type_name(a.type),
            spec=a.metadata[SPEC],
        )
        for a in attrs.fields(cls)
    )
    summary = (cls.__doc__ or "").strip().splitlines()[0]
    return ActionInfo(cls.kind, summary, cls.terminal, cls, fields)


#: The catalogue: what every action is, derived from the classes above.
CATALOGUE: Final[tuple[ActionInfo, ...]] = tuple(describe_action(cls) for cls in ACTION_TYPES)
CATALOGUE_BY_KIND: Final[dict[str, ActionInfo]] = {info.kind: info for info in CATALOGUE}
