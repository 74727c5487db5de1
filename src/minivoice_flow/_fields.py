"""What a field accepts, as data, and the one check that applies it to any value.

The same ``FieldSpec`` drives the builder's validators, ``validate()`` on JSON, the JSON Schema
and the docs tables, so they cannot disagree. Patterns are written in the subset of regular
expressions that Python and ECMA-262 (JSON Schema) read the same way.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any, Final, Literal

from minivoice_flow import _limits as L

# An absolute http(s) URL with a host (RFC 3986 authority: [userinfo@]host[:port]), in
# printable ASCII only, so no white space or controls. The host is a registered name (letters,
# digits, "-._~", the sub-delimiters and %XX escapes; never empty) or a bracketed IPv6 address;
# the port, if given, is 0 to 65535 (":" alone is the default port). A "\\" or a second "@"
# in the authority is refused: browsers and servers disagree on where such a host starts.
# Written to match without backtracking in the usual case: the userinfo is optional and lazy
# (a URL without one matches on the first try), and each run of characters is unambiguous
# about where an escape starts. ("$" is written \x24: some JSON Schema validators,
# fastjsonschema among them, rewrite every "$" when they translate a pattern.)
_URL_ESCAPE: Final = r"%[0-9A-Fa-f]{2}"
_URL_NAME_CHARACTERS: Final = r"[!\x24&-.0-9;=A-Z_a-z~]"
_URL_USER_CHARACTERS: Final = r"[!\x24&-.0-;=A-Z_a-z~]"  # a name's, and ":"
_URL_USERINFO: Final = f"(?:{_URL_USER_CHARACTERS}*(?:{_URL_ESCAPE}{_URL_USER_CHARACTERS}*)*@)??"
_URL_NAME: Final = (
    f"{_URL_NAME_CHARACTERS}+(?:{_URL_ESCAPE}{_URL_NAME_CHARACTERS}*)*"
    f"|(?:{_URL_ESCAPE}{_URL_NAME_CHARACTERS}*)+"
)
_URL_IPV6: Final = r"\[(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f.]*\]"
_URL_PORT: Final = (
    r"(?::(?:[0-5]?[0-9]{1,4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])?)?"
)
#: The scheme and authority; after them a URL holds any printable ASCII after "/", "?" or "#".
URL_HEAD_PATTERN: Final = (
    f"[Hh][Tt][Tt][Pp][Ss]?://{_URL_USERINFO}(?:{_URL_NAME}|{_URL_IPV6}){_URL_PORT}"
)
URL_PATTERN: Final = URL_HEAD_PATTERN + r"(?:[/?#][!-~]*)?"
E164_PATTERN: Final = r"\+[1-9][0-9]{1,%d}" % (L.MAX_E164_DIGITS - 1)
SIP_PATTERN: Final = r"sips?:[!-~]+"
VARIABLE_PATTERN: Final = r"[a-z][a-z0-9_]{0,%d}" % (L.MAX_VARIABLE_LENGTH - 1)

JsonType = Literal["string", "integer"]


class FieldSpec:
    """What one action field accepts. Read by the validators, the parser, schema and docs.

    A plain class rather than attrs: it is internal and compared by identity (each field has
    its own), and defining an attrs class this wide costs about half a millisecond at import.
    """

    def __init__(
        self,
        json_type: JsonType,
        doc: str,
        *,
        allowed: str = "",
        minimum: int | None = None,
        maximum: int | None = None,
        min_length: int | None = None,
        max_length: int | None = None,
        alphabet: str | None = None,
        pattern: str | None = None,
        choices: tuple[str, ...] | None = None,
        head_pattern: str | None = None,
        default: str | int | None = None,
        unit: str | None = None,
    ) -> None:
        if sum(rule is not None for rule in (alphabet, pattern, choices)) > 1:
            raise ValueError("a FieldSpec takes at most one of alphabet, pattern and choices")
        self.json_type = json_type
        self.doc = doc
        #: Human wording of what is allowed, for messages and docs (integers derive theirs).
        self.allowed = allowed
        self.minimum = minimum
        self.maximum = maximum
        self.min_length = min_length
        self.max_length = max_length
        #: Every character must be one of these (checked before ``pattern``, for a precise
        #: message).
        self.alphabet = alphabet
        #: The whole string must match this (unanchored; anchored where it is used).
        self.pattern = pattern
        self.choices = choices
        #: For a value known to be printable ASCII with no space: a pattern that, matched at
        #: the start, says the same as ``pattern`` matched in full, so a long value is not read
        #: to its end (validate()'s provers scan a long value's characters in C first).
        self.head_pattern = head_pattern
        #: What the platform does when the field is left out (documentation only).
        self.default = default
        self.unit = unit
        #: A quick yes for the common case of a valid value; False means "run check()".
        self.accepts: Callable[[object], bool] = _quick_test(self)

    @property
    def description_of_allowed(self) -> str:
        """What is allowed, in words."""
        if self.json_type == "integer":
            unit = f" {self.unit}" if self.unit else ""
            return f"a whole number from {self.minimum} to {self.maximum}{unit}"
        return self.allowed

    @property
    def codes(self) -> tuple[str, ...]:
        """The codes ``check`` can return for this field, in the order it checks."""
        found = ["invalid_type"]
        if (
            self.json_type == "integer"
            or self.min_length is not None
            or self.max_length is not None
        ):
            found.append("out_of_range")
        if self.alphabet is not None or self.pattern is not None or self.choices is not None:
            found.append("invalid_value")
        return tuple(found)

    def check(self, where: str, value: object) -> tuple[str, str] | None:
        """Return ``(code, message)`` for a value this field does not accept, else None.

        ``value`` may be anything (a builder argument or a decoded JSON value); ``where`` names
        the field in the message, as ``action.field``. Callers on a hot path try the cheaper
        ``accepts(value)`` first.
        """
        if self.json_type == "integer":
            return self._check_integer(where, value)
        return self._check_string(where, value)

    def _check_integer(self, where: str, value: object) -> tuple[str, str] | None:
        # bool is an int subclass; True must not pass for 1.
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return "invalid_type", (
                f"{where} must be {self.description_of_allowed}; got {describe(value)}"
            )
        if isinstance(value, float) and not value.is_integer():  # also NaN and infinities
            return "invalid_type", (
                f"{where} must be {self.description_of_allowed}; "
                f"got {describe(value)}, which is not a whole number"
            )
        assert self.minimum is not None and self.maximum is not None
        if not self.minimum <= value <= self.maximum:
            return "out_of_range", (
                f"{where} must be {self.description_of_allowed}; got {describe(value)}"
            )
        return None

    def _check_string(self, where: str, value: object) -> tuple[str, str] | None:
        if not isinstance(value, str):
            return (
                "invalid_type",
                f"{where} must be a string ({self.allowed}); got {describe(value)}",
            )
        if (self.min_length is not None and len(value) < self.min_length) or (
            self.max_length is not None and len(value) > self.max_length
        ):
            return "out_of_range", f"{where} must be {self._length_wording()}; got {_length(value)}"
        if self.alphabet is not None:
            for position, char in enumerate(value, start=1):
                if char not in self.alphabet:
                    return "invalid_value", (
                        f"{where} has {describe_char(char)} at position {position} of "
                        f"{describe(value)}; allowed characters: {self.allowed}"
                    )
        if self.choices is not None and value not in self.choices:
            choices = ", ".join(json.dumps(c) for c in self.choices)
            return "invalid_value", f"{where} must be one of {choices}; got {describe(value)}"
        if self.pattern is not None and re.fullmatch(self.pattern, value) is None:
            return "invalid_value", f"{where} must be {self.allowed}; got {describe(value)}"
        return None

    def _length_wording(self) -> str:
        if self.min_length is not None and self.max_length is not None:
            return f"{self.min_length} to {self.max_length} characters long"
        return f"at most {self.max_length} characters long"


def quick_test(spec: FieldSpec, name: str, names: dict[str, Any]) -> str:
    """A Python expression true for the usual valid values of ``spec`` held in variable
    ``name`` (a plain int or str); the globals it needs go into ``names`` (``_q_<name>``).

    It may say False for a valid value (a whole float, say): ``check()`` has the last word.
    Written as source so the builder methods can inline it (see ``_flow``).
    """
    if spec.json_type == "integer":
        return f"type({name}) is int and {spec.minimum} <= {name} <= {spec.maximum}"
    if spec.choices is not None:
        names[f"_q_{name}"] = frozenset(spec.choices)
        return f"type({name}) is str and {name} in _q_{name}"
    test = f"type({name}) is str"
    if spec.alphabet is not None:
        # The length limits go into the pattern, so one regex call answers for both.
        low, high = spec.min_length or 0, spec.max_length
        bound = "" if high is None else high
        pattern = f"[{re.escape(spec.alphabet)}]{{{low},{bound}}}"
    else:
        if spec.min_length:
            test += f" and {spec.min_length} <= len({name})"
        if spec.max_length is not None:
            test += f" and len({name}) <= {spec.max_length}"
        pattern = "(?s:.*)" if spec.pattern is None else spec.pattern
    _fullmatch_on_first_use(names, f"_q_{name}", pattern)
    return f"{test} and _q_{name}({name}) is not None"


def _fullmatch_on_first_use(names: dict[str, Any], key: str, pattern: str) -> None:
    """Put at ``names[key]`` a fullmatch of ``pattern`` that compiles it on its first call and
    then puts the compiled one in its place: regexes cost milliseconds at import, and most
    processes use only a few of them."""

    def first_call(value: str) -> re.Match[str] | None:
        names[key] = fullmatch = re.compile(pattern).fullmatch
        return fullmatch(value)

    names[key] = first_call


def _quick_test(spec: FieldSpec) -> Callable[[object], bool]:
    """``quick_test`` as a predicate."""
    names: dict[str, Any] = {}
    expression = quick_test(spec, "value", names)
    test: Callable[[object], bool] = eval(f"lambda value: {expression}", names)  # our own text
    return test


_DISPLAY_LIMIT: Final = 60
#: A string as JSON text, non-ASCII kept: json.dumps(text, ensure_ascii=False), minus its cost.
_json_string: Final = json.encoder.encode_basestring
_JSON_TYPE_NAMES: Final = {
    bool: "a boolean",
    int: "an integer",
    float: "a number",
    str: "a string",
    list: "an array",
    dict: "an object",
    type(None): "null",
}


def describe(value: object) -> str:
    """Show a value in a message: JSON-like, truncated, with its type when that helps."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        try:
            text = repr(value)
        except ValueError:  # more digits than int() will print
            return "an integer too large to print"
        return text if len(text) <= _DISPLAY_LIMIT else f"{text[:_DISPLAY_LIMIT]}... (an integer)"
    if isinstance(value, float):
        import math  # only needed to show a float

        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        return repr(value)
    if isinstance(value, str):
        shown = _json_string(value[:_DISPLAY_LIMIT])
        return shown if len(value) <= _DISPLAY_LIMIT else f'{shown[:-1]}..." (a string)'
    kind = _JSON_TYPE_NAMES.get(type(value), f"a Python {type(value).__name__}")
    return kind


def describe_char(char: str) -> str:
    """Name one character so look-alikes (full-width, Arabic-Indic digits) are plain to see."""
    import unicodedata  # only needed on the error path

    shown = _json_string(char)
    if char.isascii() and char.isprintable():
        hint = ""
        if char in "abcd":
            hint = f' (DTMF letters are upper case: use "{char.upper()}")'
        return f"{shown}{hint}"
    name = unicodedata.name(char, "unnamed character")
    return f"{shown} (U+{ord(char):04X} {name})"


def _length(value: str) -> str:
    if not value:
        return "an empty string"
    return f"{len(value)} characters"
