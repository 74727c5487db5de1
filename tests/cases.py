"""Field cases shared by the builder and parser tests: one table, checked both ways.

The bounds here are written out from the platform model on purpose, not read from the
library's catalogue, so that a wrong limit in the catalogue makes these tests fail.
"""

from __future__ import annotations

from typing import Any

import attrs

from minivoice_flow import Action

#: A valid value for every required field, so one field at a time can be varied.
REQUIRED: dict[str, dict[str, Any]] = {
    "play": {"url": "https://media.example.com/hello.wav"},
    "collect": {"variable": "choice"},
    "redirect": {"url": "https://app.example.com/next"},
    "transfer": {"to": "+15551230002"},
    "send_digits": {"digits": "1234#"},
    "hangup": {},
}

HOST = "https://a.example/"


def url_of_length(n: int) -> str:
    return HOST + "x" * (n - len(HOST))


NAN = float("nan")
INF = float("inf")

# (action, field, value, code or None when valid). ``None`` as a value is JSON null here.
OK = None
URL_CASES: list[tuple[Any, str | None]] = [
    ("https://media.example.com/a.wav", OK),
    ("http://h", OK),
    ("HTTPS://Media.Example.com/A.wav?x=1#frag", OK),
    ("https://user:pw@h.example:8443/p", OK),
    (url_of_length(2048), OK),
    (url_of_length(2049), "out_of_range"),
    ("", "invalid_value"),
    ("ftp://h.example/a.wav", "invalid_value"),
    ("/relative/path.wav", "invalid_value"),
    ("media.example.com/a.wav", "invalid_value"),
    ("https://", "invalid_value"),
    ("https:///no-host", "invalid_value"),
    ("https://h.example/a b.wav", "invalid_value"),
    ("https://h.example/\ta.wav", "invalid_value"),
    ("https://h.example/a.wav\n", "invalid_value"),
    ("https://exämple.com/a.wav", "invalid_value"),
    # A URL has a host: an authority of only userinfo, a port or nothing is refused.
    ("http://[::1]:8000/answer", OK),
    ("https://h.example:/a.wav", OK),
    ("https://%61pp.example/a", OK),
    ("https://:@h.example/a", OK),
    ("https://@", "invalid_value"),
    ("https://@/a.wav", "invalid_value"),
    ("https://:80/x", "invalid_value"),
    ("https://:80", "invalid_value"),
    ("http://user:pw@", "invalid_value"),
    ("http://user:pw@/a.wav", "invalid_value"),
    ("https://user@:443/a.wav", "invalid_value"),
    ("https:///x", "invalid_value"),
    ("https://?q=1", "invalid_value"),
    ("https://#f", "invalid_value"),
    ("HTTP://:", "invalid_value"),
    ("https://[]/a.wav", "invalid_value"),
    ("https://[::1/a.wav", "invalid_value"),
    # ... and the host ends where browsers and servers agree it does.
    ("https://a@b@h.example/", "invalid_value"),
    ("https://h.example\\evil.example/", "invalid_value"),
    ("https://h.example:8o/", "invalid_value"),
    ("https://h.example:65536/", "invalid_value"),
    ("https://h.example:1:2/", "invalid_value"),
    ("https://%zz.example/", "invalid_value"),
    ('https://h"x.example/', "invalid_value"),
    (42, "invalid_type"),
    (None, "invalid_type"),
]

FIELD_CASES: list[tuple[str, str, Any, str | None]] = [
    # send_digits.digits: 1 to 50 of 0-9 * # A-D w W , (ASCII only).
    ("send_digits", "digits", "1", OK),
    ("send_digits", "digits", "0123456789*#ABCDwW,", OK),
    ("send_digits", "digits", "9" * 50, OK),
    ("send_digits", "digits", "9" * 51, "out_of_range"),
    ("send_digits", "digits", "", "out_of_range"),
    ("send_digits", "digits", "12x", "invalid_value"),
    ("send_digits", "digits", "12a", "invalid_value"),
    ("send_digits", "digits", "1 2", "invalid_value"),
    ("send_digits", "digits", "\u0661\u0662\u0663", "invalid_value"),  # Arabic-Indic 123
    ("send_digits", "digits", "\uff11\uff12\uff13", "invalid_value"),  # full-width 123
    ("send_digits", "digits", "\u00b2", "invalid_value"),  # superscript two: isdigit() is True
    ("send_digits", "digits", 1234, "invalid_type"),
    ("send_digits", "digits", ["1"], "invalid_type"),
    ("send_digits", "digits", None, "invalid_type"),
    # send_digits.pause_before_ms: whole ms, 0 to 60000.
    ("send_digits", "pause_before_ms", 0, OK),
    ("send_digits", "pause_before_ms", 60000, OK),
    ("send_digits", "pause_before_ms", 2000.0, OK),
    ("send_digits", "pause_before_ms", -1, "out_of_range"),
    ("send_digits", "pause_before_ms", 60001, "out_of_range"),
    ("send_digits", "pause_before_ms", 10**30, "out_of_range"),
    ("send_digits", "pause_before_ms", 1500.5, "invalid_type"),
    ("send_digits", "pause_before_ms", True, "invalid_type"),
    ("send_digits", "pause_before_ms", False, "invalid_type"),
    ("send_digits", "pause_before_ms", "2000", "invalid_type"),
    ("send_digits", "pause_before_ms", NAN, "invalid_type"),
    ("send_digits", "pause_before_ms", INF, "invalid_type"),
    ("send_digits", "pause_before_ms", -INF, "invalid_type"),
    # play
    *[("play", "url", value, code) for value, code in URL_CASES],
    ("play", "loop", 1, OK),
    ("play", "loop", 10, OK),
    ("play", "loop", 0, "out_of_range"),
    ("play", "loop", 11, "out_of_range"),
    ("play", "loop", True, "invalid_type"),
    ("play", "loop", 2.5, "invalid_type"),
    # collect
    ("collect", "variable", "a", OK),
    ("collect", "variable", "pin_2", OK),
    ("collect", "variable", "a" * 32, OK),
    ("collect", "variable", "a" * 33, "invalid_value"),
    ("collect", "variable", "", "invalid_value"),
    ("collect", "variable", "Choice", "invalid_value"),
    ("collect", "variable", "1st", "invalid_value"),
    ("collect", "variable", "_x", "invalid_value"),
    ("collect", "variable", "my-choice", "invalid_value"),
    ("collect", "variable", "caf\u00e9", "invalid_value"),
    ("collect", "variable", 7, "invalid_type"),
    ("collect", "max_digits", 1, OK),
    ("collect", "max_digits", 32, OK),
    ("collect", "max_digits", 0, "out_of_range"),
    ("collect", "max_digits", 33, "out_of_range"),
    ("collect", "max_digits", "4", "invalid_type"),
    ("collect", "timeout_ms", 1000, OK),
    ("collect", "timeout_ms", 60000, OK),
    ("collect", "timeout_ms", 999, "out_of_range"),
    ("collect", "timeout_ms", 60001, "out_of_range"),
    ("collect", "finish_on_key", "#", OK),
    ("collect", "finish_on_key", "*", OK),
    ("collect", "finish_on_key", "0", OK),
    ("collect", "finish_on_key", "9", OK),
    ("collect", "finish_on_key", "", OK),
    ("collect", "finish_on_key", "##", "invalid_value"),
    ("collect", "finish_on_key", "A", "invalid_value"),
    ("collect", "finish_on_key", "w", "invalid_value"),
    ("collect", "finish_on_key", 1, "invalid_type"),
    # redirect
    *[("redirect", "url", value, code) for value, code in URL_CASES],
    ("redirect", "method", "POST", OK),
    ("redirect", "method", "GET", OK),
    ("redirect", "method", "post", "invalid_value"),
    ("redirect", "method", "PUT", "invalid_value"),
    ("redirect", "method", "", "invalid_value"),
    # transfer
    ("transfer", "to", "+15551230002", OK),
    ("transfer", "to", "+12", OK),
    ("transfer", "to", "+1" + "2" * 14, OK),
    ("transfer", "to", "+1" + "2" * 15, "invalid_value"),
    ("transfer", "to", "+1", "invalid_value"),
    ("transfer", "to", "+05551230002", "invalid_value"),
    ("transfer", "to", "15551230002", "invalid_value"),
    ("transfer", "to", "+1 555 123 0002", "invalid_value"),
    ("transfer", "to", "sip:alice@pbx.example.com", OK),
    ("transfer", "to", "sips:bob@pbx.example.com;transport=tls", OK),
    ("transfer", "to", "sip:", "invalid_value"),
    ("transfer", "to", "sip:alice @pbx.example.com", "invalid_value"),
    ("transfer", "to", "tel:+15551230002", "invalid_value"),
    ("transfer", "to", "", "invalid_value"),
    ("transfer", "to", 15551230002, "invalid_type"),
    ("transfer", "caller_id", "+15551230001", OK),
    ("transfer", "caller_id", "sip:alice@pbx.example.com", "invalid_value"),
    ("transfer", "caller_id", "+1" + "2" * 15, "invalid_value"),
    ("transfer", "timeout_ms", 5000, OK),
    ("transfer", "timeout_ms", 120000, OK),
    ("transfer", "timeout_ms", 4999, "out_of_range"),
    ("transfer", "timeout_ms", 120001, "out_of_range"),
    *[("transfer", "fallback_url", value, code) for value, code in URL_CASES],
]


def case_id(case: tuple[str, str, Any, str | None]) -> str:
    kind, field, value, code = case
    shown = repr(value)
    if len(shown) > 24:
        shown = shown[:21] + "..."
    return f"{kind}.{field}={shown}->{code or 'ok'}"


def action_data(action: Action) -> dict[str, dict[str, Any]]:
    """An IR action as JSON data, written here with attrs rather than the library's wire code."""
    fields = attrs.asdict(action, filter=lambda _, value: value is not None)
    return {action.kind: fields}


def payload_of(actions: tuple[Action, ...] | list[Action]) -> dict[str, Any]:
    return {"actions": [action_data(a) for a in actions]}
