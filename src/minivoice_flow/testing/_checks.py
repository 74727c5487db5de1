"""attrs validators for the simulator's settings, with messages that name owner, field and value."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import attrs

from minivoice_flow._fields import describe

Validator = Any  # attrs validators are plain callables (instance, attribute, value) -> None


def _where(instance: object, attribute: attrs.Attribute[Any]) -> str:
    return f"{type(instance).__name__}.{attribute.name}"


def milliseconds(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """A whole number of milliseconds, 0 or more."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(
            f"{_where(instance, attribute)} must be a whole number of milliseconds, 0 or more; "
            f"got {describe(value)}"
        )


def optional_milliseconds(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None:
        milliseconds(instance, attribute, value)


def one_of(choices: Iterable[str]) -> Validator:
    """One of a few strings."""
    allowed = tuple(choices)

    def check(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if value not in allowed:
            shown = ", ".join(f'"{c}"' for c in allowed)
            raise ValueError(
                f"{_where(instance, attribute)} must be one of {shown}; got {describe(value)}"
            )

    return check


def matching(pattern: str, wording: str) -> Validator:
    """A string that matches ``pattern`` in full; ``wording`` says what that means."""
    regex = re.compile(pattern)

    def check(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if not isinstance(value, str) or regex.fullmatch(value) is None:
            raise ValueError(
                f"{_where(instance, attribute)} must be {wording}; got {describe(value)}"
            )

    return check


def check_keys(where: str, value: object, allowed: str, *, empty_ok: bool = True) -> None:
    """A string made of ``allowed`` characters; the error names the first bad one."""
    if not isinstance(value, str):
        raise TypeError(f"{where} must be a string of keys; got {describe(value)}")
    if not value and not empty_ok:
        raise ValueError(f"{where} must not be empty; give at least one key")
    for position, char in enumerate(value, start=1):
        if char not in allowed:
            raise ValueError(
                f"{where} has {describe(char)} at position {position} of {describe(value)}; "
                f"allowed: {' '.join(allowed)}"
            )
