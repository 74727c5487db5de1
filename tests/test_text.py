"""The one helper that makes untrusted text safe for a terminal."""

from __future__ import annotations

import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from minivoice_flow._text import printable


class TestPrintable:
    def test_plain_text_is_unchanged(self) -> None:
        """Ordinary text, including non-ASCII letters and symbols, prints as it is."""
        for text in ("call_123", "café ☎ +15551230002", "/actions/0/play/url", ""):
            assert printable(text) == text

    def test_terminal_controls_are_escaped(self) -> None:
        """ESC, a line break, a carriage return, DEL and a C1 control become visible escapes."""
        assert printable("\x1b]0;owned\x07") == "\\x1b]0;owned\\x07"
        assert printable("ok\nFAKE: all good\r") == "ok\\x0aFAKE: all good\\x0d"
        assert printable("\x7f\x9b31m") == "\\x7f\\x9b31m"

    def test_separators_bidi_and_surrogates_are_escaped(self) -> None:
        """Unicode line separators, bidi overrides and lone surrogates are shown as code points."""
        assert printable("a\u2028b\u202eevil\u2066") == "a\\u2028b\\u202eevil\\u2066"
        assert printable("\ud800x") == "\\ud800x"

    @given(st.text(st.characters(codec=None, categories=None)))
    def test_output_is_one_clean_line(self, text: str) -> None:
        """Whatever the input, the output has no control character and encodes as UTF-8."""
        shown = printable(text)
        shown.encode("utf-8")
        assert not any(unicodedata.category(c) in ("Cc", "Cs", "Zl", "Zp") for c in shown)
