"""validate()'s fast path: one regular expression that recognises compact JSON known to be valid.

Most payloads that reach ``validate()`` were written by a program (often this library): compact or
with ``json.dumps``'s default spacing, fields in definition order, no escaped characters. For such
a text one match of the expression built here, from the catalogue, proves everything the walk in
``_parse`` checks item by item: the payload's shape, that each item is one known action, and that
each field is known, written once, present when required, and holds a value its ``FieldSpec``
accepts. A text it does not match gets the full walk, so the expression only has to be right in one
direction: a match means valid. Where a spec has a feature this module does not translate, that
field (or, if it is required, its action) is left out of the expression, which only sends more
texts to the walk.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Final

from minivoice_flow._actions import CATALOGUE, ActionInfo
from minivoice_flow._fields import FieldSpec

# Inside a JSON string these two must be escaped; every other printable ASCII character
# stands for itself. Values with neither are written in the text exactly as they are.
_NEEDS_ESCAPE: Final = frozenset('"\\')
_PLAIN_ASCII: Final = frozenset(map(chr, range(0x20, 0x7F))) - _NEEDS_ESCAPE
# Between a key and its value, and between members: nothing, as compact JSON has it, or one
# space, as json.dumps() writes by default. (Other white space is left to the walk.)
_COLON: Final = ": ?"
_COMMA: Final = ", ?"


def matches(text: str) -> bool:
    """Whether ``text`` is a compact payload that this module can prove valid."""
    global _match
    if _match is None:  # compiled on first use: it takes a millisecond or two
        _match = re.compile(payload_pattern()).fullmatch
    return _match(text) is not None


_match: Callable[[str], re.Match[str] | None] | None = None


def payload_pattern() -> str:
    """The expression for a whole compact payload whose every action is valid."""
    actions = [pattern for pattern in map(_action_pattern, CATALOGUE) if pattern is not None]
    # Each action is followed by a comma and another action, or by the closing bracket
    # (written so the long alternation appears once, which halves the compile time).
    # An atomic group: once an action has matched, a later failure never retries it, so a
    # text that is not matched is given up on in one pass.
    action = "(?>" + "|".join(actions) + ")"
    return r'\{"actions"' + _COLON + r"\[(?:" + action + f"(?:{_COMMA}(?=\\{{)|(?=\\]))" + r")*\]\}"


def _action_pattern(info: ActionInfo) -> str | None:
    """``{"kind":{...}}`` with its fields in definition order, or None if not expressible."""
    if not _PLAIN_ASCII.issuperset(info.kind):
        return None  # a name JSON would escape
    parts = []
    for position, field in enumerate(info.fields):
        if position == 0 and not field.required:
            return None  # its text could start with a comma: not expressed here
        value = value_pattern(field.spec) if _PLAIN_ASCII.issuperset(field.name) else None
        if value is None:
            if field.required:
                return None
            continue  # texts that use this field go to the walk
        key = ("" if position == 0 else _COMMA) + re.escape(f'"{field.name}"') + _COLON
        parts.append(key + value if field.required else f"(?:{key}{value})?")
    return re.escape(f'{{"{info.kind}"') + _COLON + r"\{" + "".join(parts) + r"\}\}"


def value_pattern(spec: FieldSpec) -> str | None:
    """The JSON text of a value ``spec`` accepts, or None where this module cannot say."""
    if spec.json_type == "integer":
        assert spec.minimum is not None and spec.maximum is not None
        return integer_range_pattern(max(spec.minimum, 0), spec.maximum)
    if spec.choices is not None:
        plain = [re.escape(c) for c in spec.choices if _PLAIN_ASCII.issuperset(c)]
        return f'"(?:{"|".join(plain)})"' if plain else None
    low, high = spec.min_length or 0, spec.max_length
    if spec.alphabet is not None:
        allowed = _class(set(spec.alphabet) & _PLAIN_ASCII)
        return f'"{allowed}{_repeat(low, high)}"'
    if spec.pattern is None:
        return f'"{_class(_PLAIN_ASCII)}{_repeat(low, high)}"'
    body = without_escaped_characters(spec.pattern)
    if body is None:
        return None
    if low or high is not None:
        # The pattern says which characters; the length is checked ahead of it, up to the
        # closing quote (which the body cannot match, so that quote ends the value).
        body = f'(?=[^"\\\\]{_repeat(low, high)}")(?:{body})'
    return f'"(?:{body})"'


def _repeat(low: int, high: int | None) -> str:
    """The quantifier for ``low`` to ``high`` repeats (no upper bound when ``high`` is None)."""
    return f"{{{low},{'' if high is None else high}}}"


def integer_range_pattern(low: int, high: int) -> str | None:
    """JSON integers from ``low`` to ``high`` (both >= 0), and no others; None if none."""
    if high < low:
        return None
    spans = []
    for digits in range(len(str(low)), len(str(high)) + 1):
        first = max(low, 10 ** (digits - 1) if digits > 1 else 0)
        last = min(high, 10**digits - 1)
        spans.append(_same_length(str(first), str(last)))
    return "(?:" + "|".join(reversed(spans)) + ")"  # longest first: less backtracking


def _same_length(first: str, last: str) -> str:
    """Digit strings of one length from ``first`` to ``last``."""
    if first == last:
        return first
    if first == "0" * len(first) and last == "9" * len(last):
        return f"[0-9]{{{len(first)}}}"
    if len(first) == 1:
        return f"[{first}-{last}]"
    head, tail = first[0], first[1:]
    if head == last[0]:
        return head + _same_length(tail, last[1:])
    rest = len(tail)
    parts = [head + _same_length(tail, "9" * rest)]
    if int(last[0]) - int(head) > 1:
        parts.append(f"[{int(head) + 1}-{int(last[0]) - 1}][0-9]{{{rest}}}")
    parts.append(last[0] + _same_length("0" * rest, last[1:]))
    return "(?:" + "|".join(parts) + ")"


# Rewriting a FieldSpec pattern so it can be matched against JSON text.

_SIMPLE_ESCAPE: Final = re.compile(r"\\x([0-9A-Fa-f]{2})|\\([^A-Za-z0-9])")


def without_escaped_characters(pattern: str) -> str | None:
    """``pattern`` with '"' and '\\\\' taken out of every character it can match.

    Understands literal characters, escaped punctuation, ``\\xNN``, groups, alternation,
    quantifiers and positive character classes; gives None for anything else (``.``, ``\\d``,
    negated classes...), so an unfamiliar pattern is never matched wrongly, only not at all.
    """
    out = []
    tokens = _tokens(pattern)
    for kind, text, chars in tokens:
        if kind == "syntax":
            out.append(text)
        elif kind == "class":
            out.append(_class(chars - _NEEDS_ESCAPE))
        elif kind == "char":
            if chars & _NEEDS_ESCAPE:
                return None
            out.append(text)
        else:
            return None
    return "".join(out)


def _tokens(pattern: str) -> Iterator[tuple[str, str, frozenset[str]]]:
    """(kind, text, characters): kind is "char", "class", "syntax" or "unknown"."""
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "[":
            end = pattern.find("]", index + 2)
            chars = _class_characters(pattern[index + 1 : end]) if end > 0 else None
            if chars is None:
                yield "unknown", char, frozenset()
                return
            yield "class", pattern[index : end + 1], chars
            index = end + 1
        elif char == "\\":
            escape = _SIMPLE_ESCAPE.match(pattern, index)
            if escape is None:
                yield "unknown", char, frozenset()
                return
            literal = chr(int(escape[1], 16)) if escape[1] else escape[2]
            yield "char", escape[0], frozenset(literal)
            index = escape.end()
        elif char == "{":
            end = pattern.find("}", index)
            if end < 0:
                yield "unknown", char, frozenset()
                return
            yield "syntax", pattern[index : end + 1], frozenset()
            index = end + 1
        elif pattern.startswith(("(?:", "(?="), index):
            # Positive groups only: in a negative lookahead, matching fewer characters would
            # make the whole pattern match more.
            yield "syntax", pattern[index : index + 3], frozenset()
            index += 3
        elif pattern.startswith("(?", index):
            yield "unknown", char, frozenset()
            return
        elif char in "()|?*+":
            yield "syntax", char, frozenset()
            index += 1
        elif char in _PLAIN_ASCII and char not in ".^$":
            yield "char", char, frozenset(char)
            index += 1
        else:
            yield "unknown", char, frozenset()
            return


def _class_characters(body: str) -> frozenset[str] | None:
    """The characters of a class body such as ``!"\\x24-.0->@-~``; None if not understood."""
    if not body or body.startswith("^"):
        return None
    if any(pair in body for pair in ("[", "--", "&&", "~~", "||")):
        return None  # nested sets and what Python may one day read as set operations
    # Each element: (character, whether it is an unescaped "-", which may make a range).
    elements: list[tuple[str, bool]] = []
    index = 0
    while index < len(body):
        if body[index] == "\\":
            escape = _SIMPLE_ESCAPE.match(body, index)
            if escape is None:
                return None
            elements.append((chr(int(escape[1], 16)) if escape[1] else escape[2], False))
            index = escape.end()
        else:
            elements.append((body[index], body[index] == "-"))
            index += 1
    chars: set[str] = set()
    index = 0
    while index < len(elements):
        char = elements[index][0]
        if index + 2 < len(elements) and elements[index + 1][1]:
            chars.update(map(chr, range(ord(char), ord(elements[index + 2][0]) + 1)))
            index += 3
        else:
            chars.add(char)
            index += 1
    return frozenset(chars)


def _class(chars: set[str] | frozenset[str]) -> str:
    """A character class of exactly ``chars``, every member written as an escape."""
    if not chars:
        return "(?!)"  # matches nothing
    codes = sorted(map(ord, chars))
    ranges = []
    start = previous = codes[0]
    for code in codes[1:]:
        if code != previous + 1:
            ranges.append((start, previous))
            start = code
        previous = code
    ranges.append((start, previous))
    return (
        "["
        + "".join(_escaped(a) if a == b else f"{_escaped(a)}-{_escaped(b)}" for a, b in ranges)
        + "]"
    )


def _escaped(code: int) -> str:
    return f"\\x{code:02x}" if code <= 0xFF else f"\\U{code:08x}"
