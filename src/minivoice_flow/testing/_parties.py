"""The scripted people and machines on a simulated call: the caller and transfer destinations."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar, Final, Literal

import attrs
from attrs import field, frozen

from minivoice_flow._fields import E164_PATTERN, describe
from minivoice_flow.testing._checks import (
    check_keys,
    check_milliseconds,
    fail,
    matching,
    milliseconds,
    one_of,
)
from minivoice_flow.testing._timing import MAX_MS, RING_MS, TONES

#: The caller's number in webhooks when none is given (the vendor example's ``from``).
CALLER_NUMBER: Final = "+15551230001"

#: How a transfer destination responds when it is rung.
Outcome = Literal["answer", "busy", "no_answer", "failed"]
OUTCOMES: Final[tuple[Outcome, ...]] = ("answer", "busy", "no_answer", "failed")


def _one_key(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    check_keys("KeyPress.key", value, TONES, empty_ok=False)
    assert isinstance(value, str)
    if len(value) != 1:
        fail(f"KeyPress.key must be exactly one key; got {describe(value)}")


@frozen
class KeyPress:
    """One key the caller presses, starting at ``at_ms``; it counts when the press ends."""

    key: str = field(validator=_one_key)
    at_ms: int = field(validator=milliseconds(MAX_MS))


def _key_presses(value: Iterable[KeyPress]) -> tuple[KeyPress, ...]:
    presses = tuple(value)
    for press in presses:
        if not isinstance(press, KeyPress):
            fail(f"Caller.keys must hold KeyPress objects; got {press!r}", wrong_type=True)
    return presses


def _tuple_of_replies(value: Iterable[str]) -> tuple[str, ...]:
    return tuple(value)


def _replies(instance: object, attribute: attrs.Attribute[Any], value: tuple[str, ...]) -> None:
    for number, reply in enumerate(value, start=1):
        check_keys(f"Caller reply {number}", reply, TONES)


@frozen
class Caller:
    """A scripted caller: keys pressed at set times, replies to prompts, and a hang-up.

    ``keys`` are pressed at fixed moments, whatever the call is doing. A key starts no earlier
    than the end of the key before it, and counts only when a ``collect`` was listening before
    it was pressed. ``replies`` model a person who waits to be told what to press: when a
    ``collect`` starts and a ``play`` has run since the previous ``collect``, the caller starts
    typing the next reply ``reply_after_ms`` later; an unprompted ``collect`` gets nothing.
    ``hangup_at_ms`` ends the call at that moment.
    """

    keys: tuple[KeyPress, ...] = field(default=(), converter=_key_presses)
    replies: tuple[str, ...] = field(default=(), converter=_tuple_of_replies, validator=_replies)
    reply_after_ms: int = field(default=1000, validator=milliseconds(MAX_MS))
    hangup_at_ms: int | None = field(default=None, validator=milliseconds(MAX_MS, optional=True))
    number: str = field(
        default=CALLER_NUMBER,
        validator=matching(E164_PATTERN, "an E.164 number such as +15551230001"),
    )

    @classmethod
    def silent(cls) -> Caller:
        """A caller who never presses a key and never hangs up."""
        return cls()

    @classmethod
    def presses(cls, keys: str, *, at_ms: int, every_ms: int = 0) -> Caller:
        """A caller who presses ``keys`` from ``at_ms``, one every ``every_ms``.

        With ``every_ms=0`` each key starts the moment the one before it ends.
        """
        return cls().and_presses(keys, at_ms=at_ms, every_ms=every_ms)

    @classmethod
    def hangs_up(cls, *, at_ms: int) -> Caller:
        """A caller who presses nothing and hangs up at ``at_ms``."""
        return cls(hangup_at_ms=at_ms)

    @classmethod
    def answers_prompts(cls, *replies: str, after_ms: int = 1000) -> Caller:
        """A caller who answers each prompted ``collect`` with the next reply ("" for none)."""
        return cls(replies=replies, reply_after_ms=after_ms)

    def and_presses(self, keys: str, *, at_ms: int, every_ms: int = 0) -> Caller:
        """This caller, also pressing ``keys`` from ``at_ms``."""
        check_keys("Caller.presses keys", keys, TONES, empty_ok=False)
        check_milliseconds("Caller.presses at_ms", at_ms, MAX_MS)
        check_milliseconds("Caller.presses every_ms", every_ms, MAX_MS)
        pressed = tuple(KeyPress(key, at_ms + i * every_ms) for i, key in enumerate(keys))
        return attrs.evolve(self, keys=(*self.keys, *pressed))

    def and_hangs_up(self, *, at_ms: int) -> Caller:
        """This caller, hanging up at ``at_ms``."""
        return attrs.evolve(self, hangup_at_ms=at_ms)


def _expected(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None:
        check_keys("TestIVR.expect", value, TONES, empty_ok=False)


@frozen
class TestIVR:
    """A scripted transfer destination, such as a phone menu that expects a PIN.

    When rung it responds after ``ring_ms``: it answers, is busy, or fails; with
    ``outcome="no_answer"`` it rings until the transfer gives up, and any response later than
    the transfer's timeout counts as no answer. Once it has answered it listens from
    ``ready_after_ms`` later: a tone that starts before that moment is lost. It accepts the
    call when the tones it heard are exactly ``expect``.
    """

    __test__: ClassVar[bool] = False  # a helper, not a test class, whatever its name says

    expect: str | None = field(default=None, validator=_expected)
    ready_after_ms: int = field(default=0, validator=milliseconds(MAX_MS))
    ring_ms: int = field(default=RING_MS, validator=milliseconds(MAX_MS))
    outcome: Outcome = field(default="answer", validator=one_of(OUTCOMES))

    @classmethod
    def busy(cls, *, ring_ms: int = RING_MS) -> TestIVR:
        """A destination that reports busy after ``ring_ms``."""
        return cls(ring_ms=ring_ms, outcome="busy")

    @classmethod
    def no_answer(cls) -> TestIVR:
        """A destination that rings until the transfer's timeout."""
        return cls(outcome="no_answer")

    @classmethod
    def failing(cls, *, ring_ms: int = 0) -> TestIVR:
        """A destination the call cannot reach (a bad number, a network error)."""
        return cls(ring_ms=ring_ms, outcome="failed")
