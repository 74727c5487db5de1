"""Untrusted text made safe to show on a terminal: one helper for every human-readable output.

Values that came from outside (a webhook's call ID, an unknown key in a payload, a file name)
may hold control characters: ESC starts terminal escape sequences that can retitle a window
or hide text, and a line break forges a line of output. ``printable`` shows each such
character as a visible escape, so what is printed is always exactly one line per value and
never an instruction to the terminal. JSON output is left to the JSON encoder.
"""

from __future__ import annotations

import re
from typing import Final

# C0 controls (tab and newline included), DEL, C1 controls, the Unicode line and paragraph
# separators, the bidirectional overrides and isolates (which reorder what a reader sees), and
# lone surrogates (which cannot be encoded for the terminal at all).
_UNSAFE: Final = re.compile(
    "[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def printable(text: str) -> str:
    """``text`` with every control, separator, bidi override and lone surrogate escaped."""
    return _UNSAFE.sub(_escape, text)
