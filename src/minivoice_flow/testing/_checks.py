"""The simulator's argument checks, with messages that name owner, field and value.

Every bad argument raises ``SimulationError`` (a ``ValueError``); one of the wrong type is
also a ``TypeError``, so either ``except`` clause catches it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, NoReturn

import attrs

from minivoice_flow._fields import describe

Validator = Any  # attrs validators are plain callables (instance, attribute, value) -> None


class SimulationError(ValueError):
    """An argument the simulator cannot use: the message names it, the value and what is
    allowed."""


class SimulationTypeError(SimulationError, TypeError):
    """A ``SimulationError`` for a value of the wrong type."""


def fail(message: str, *, wrong_type: bool = False) -> NoReturn:
    """Raise the simulator's error for a bad argument."""
    raise (SimulationTypeError if wrong_type else SimulationError)(message)


def _where(instance: object, attribute: attrs.Attribute[Any]) -> str:
    return f"{type(instance).__name__}.{attribute.name}"


def check_milliseconds(where: str, value: object, maximum: int) -> None:
    """A whole number of milliseconds from 0 to ``maximum``."""
    wrong_type = isinstance(value, bool) or not isinstance(value, int)
    if wrong_type or not 0 <= value <= maximum:  # type: ignore[operator]
        fail(
            f"{where} must be a whole number of milliseconds from 0 to {maximum}; "
            f"got {describe(value)}",
            wrong_type=wrong_type,
        )


def milliseconds(maximum: int, *, optional: bool = False) -> Validator:
    """An attrs validator: whole milliseconds from 0 to ``maximum`` (or None if optional)."""

    def check(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if value is None and optional:
            return
        check_milliseconds(_where(instance, attribute), value, maximum)

    return check


def one_of(choices: Iterable[str]) -> Validator:
    """One of a few strings."""
    allowed = tuple(choices)

    def check(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if value not in allowed:
            shown = ", ".join(f'"{c}"' for c in allowed)
            fail(f"{_where(instance, attribute)} must be one of {shown}; got {describe(value)}")

    return check


def matching(pattern: str, wording: str) -> Validator:
    """A string that matches ``pattern`` in full; ``wording`` says what that means."""
    regex = re.compile(pattern)

    def check(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if not isinstance(value, str) or regex.fullmatch(value) is None:
            fail(
                f"{_where(instance, attribute)} must be {wording}; got {describe(value)}",
                wrong_type=not isinstance(value, str),
            )

    return check


def check_keys(where: str, value: object, allowed: str, *, empty_ok: bool = True) -> None:
    """A string made of ``allowed`` characters; the error names the first bad one."""
    if not isinstance(value, str):
        fail(f"{where} must be a string of keys; got {describe(value)}", wrong_type=True)
    if not value and not empty_ok:
        fail(f"{where} must not be empty; give at least one key")
    for position, char in enumerate(value, start=1):
        if char not in allowed:
            fail(
                f"{where} has {describe(char)} at position {position} of {describe(value)}; "
                f"allowed: {' '.join(allowed)}"
            )
