"""The one front door for JSON we read: answer_url payloads and MiniVoice's webhooks alike.

Everything that turns outside bytes or text into data passes here, so the traps are handled
once: the size limit (applied before decoding), strict UTF-8 and no byte order mark, no
``NaN``/``Infinity``, integers too long for ``int()``, nesting too deep to read, and JSON
pointers built with their tokens escaped. A payload that cannot be read becomes one
diagnostic (``malformed_json`` or ``payload_too_large``), never an exception.

Repeated keys are found here too (``duplicate_key``): decoders keep the last value of a
repeated key without a word, so ``repeated_keys`` reads the text again when asked (readers
ask when the text holds more quotes than the data they decoded from it).
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any, Final

from minivoice_flow._codes import diagnostic
from minivoice_flow._diagnostics import Diagnostic
from minivoice_flow._fields import describe

#: Data given to a reader that could not be read (the reason is in the diagnostics).
UNREADABLE: Final = object()

_BOM: Final = "\ufeff"


def token(key: object) -> str:
    """One JSON pointer token (RFC 6901): ``~`` and ``/`` escaped."""
    try:
        text = str(key)
    except ValueError:  # an int key with more digits than Python will print
        text = describe(key)
    return text.replace("~", "~0").replace("/", "~1")


def text_of(
    payload: bytes | bytearray | memoryview | str,
    found: list[Diagnostic],
    *,
    subject: str,
    limit: int | None,
) -> str | None:
    """The text of ``payload`` (bytes must be UTF-8), or None with the reason in ``found``.

    ``limit`` is in bytes of UTF-8; text over it is not decoded at all.
    """
    if isinstance(payload, str):
        size = None if limit is None else utf8_size_over(payload, limit)
        if size is not None:
            found.append(too_large(subject, size, "bytes of UTF-8", limit))  # type: ignore[arg-type]
            return None
        return payload
    raw = bytes(payload)
    if limit is not None and len(raw) > limit:
        found.append(too_large(subject, len(raw), "bytes", limit))
        return None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        found.append(malformed(f"the {subject} is not UTF-8: byte {error.start} cannot be decoded"))
        return None


def loads(text: str, found: list[Diagnostic], *, subject: str) -> Any:
    """Decode JSON text, or give ``UNREADABLE`` with the reason appended to ``found``."""
    # The usual payload is a document that fills the text: raw_decode() reads it without
    # decode()'s scan for trailing white space. Anything else takes the full path.
    try:
        data, end = _DECODER.raw_decode(text)
        if end == len(text):
            return data
    except (ValueError, _Rejected, RecursionError):
        pass  # the full path below says what is wrong
    if text.startswith(_BOM):
        found.append(
            malformed(f"the {subject} starts with a byte order mark; send UTF-8 without one")
        )
        return UNREADABLE
    for decoder in (_DECODER, _DECODER_FOR_HUGE_INTEGERS):
        try:
            return decoder.decode(text)
        except json.JSONDecodeError as error:
            message = (
                f"the {subject} is not valid JSON: {error.msg} "
                f"(line {error.lineno}, column {error.colno})"
            )
        except _Rejected as error:
            message = f"the {subject} is not valid JSON: {error}"
        except RecursionError:
            message = f"the {subject} is nested too deeply to read"
        except ValueError:
            # An integer literal with more digits than int() reads. It is still JSON (and out
            # of every range): read the text again, taking such literals as huge numbers.
            continue
        found.append(malformed(message))
        return UNREADABLE
    raise AssertionError("the second decoder reads every integer")


def utf8_size_over(text: str, limit: int) -> int | None:
    """The UTF-8 size of ``text`` when it is over ``limit`` bytes, else None (cheap if we can)."""
    if len(text) * 4 <= limit:  # a character is at most 4 bytes
        return None
    if text.isascii():  # known without reading the text
        return len(text) if len(text) > limit else None
    size = len(text.encode("utf-8", "surrogatepass"))
    return size if size > limit else None


def malformed(message: str) -> Diagnostic:
    """``malformed_json`` for the whole document."""
    return diagnostic("malformed_json", "", message)


def too_large(subject: str, size: int, unit: str, limit: int) -> Diagnostic:
    """``payload_too_large`` for the whole document."""
    return diagnostic(
        "payload_too_large",
        "",
        f"the {subject} is {size} {unit}; at most {limit} are allowed: split the flow with a "
        "redirect",
    )


class _Rejected(Exception):
    """A reason the text cannot be read as JSON (internal: becomes malformed_json)."""


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


# Repeated keys.


def repeated_keys(text: str) -> list[Diagnostic]:
    """``duplicate_key`` for every key written twice in one object of ``text`` (JSON).

    Reported once per repeated key, at the object that holds it; repeats inside a value that
    a later repeat overwrote have no pointer and are not reported.
    """
    found = []
    stack: list[tuple[Any, str]] = [(_MARKING_DECODER.decode(text), "")]
    while stack:  # iterative: the data may be nested deeper than the recursion limit
        value, path = stack.pop()
        if isinstance(value, _DuplicateKeys):
            for key, count in value.repeated.items():
                found.append(
                    diagnostic(
                        "duplicate_key",
                        path,
                        f"the key {describe(key)} appears {count} times in this object; keep "
                        "only one",
                    )
                )
        if isinstance(value, dict):
            children = [(v, f"{path}/{token(k)}") for k, v in value.items()]
        elif isinstance(value, list):
            children = [(v, f"{path}/{i}") for i, v in enumerate(value)]
        else:
            continue
        stack.extend(reversed(children))
    return found


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
