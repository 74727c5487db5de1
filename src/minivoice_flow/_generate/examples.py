"""The examples in the reference docs, as Python source that the generator really runs.

Every JSON block and every message in the docs comes from running one of these sources (or a
builder call made from ``SAMPLE_VALUES``) at generation time, so the docs cannot show output
the library would not produce. Sources are kept as text so the page shows exactly what ran.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

#: A realistic value for each field, for the generated "every field" examples. A field not
#: listed gets a value derived from its spec (see ``docs.sample_value``).
SAMPLE_VALUES: Final[Mapping[tuple[str, str], str | int]] = {
    ("play", "url"): "https://media.example.com/welcome.wav",
    ("play", "loop"): 2,
    ("collect", "variable"): "choice",
    ("collect", "max_digits"): 1,
    ("collect", "timeout_ms"): 8000,
    ("collect", "finish_on_key"): "*",
    ("redirect", "url"): "https://app.example.com/ivr/choice",
    ("redirect", "method"): "GET",
    ("transfer", "to"): "+15551230002",
    ("transfer", "caller_id"): "+15551230001",
    ("transfer", "timeout_ms"): 20000,
    ("transfer", "fallback_url"): "https://app.example.com/ivr/busy",
    ("send_digits", "digits"): "1234#",
    ("send_digits", "pause_before_ms"): 2000,
}

#: A flow that uses the action the way it is meant to be used and passes every rule.
IN_CONTEXT: Final[Mapping[str, str]] = {
    "play": """\
Flow("goodbye")
.play("https://media.example.com/thanks.wav", loop=1)
.hangup()""",
    "collect": """\
Flow("main_menu")
.play("https://media.example.com/menu.wav")
.collect("choice", max_digits=1, timeout_ms=8000)
.redirect("https://app.example.com/ivr/choice")""",
    "redirect": """\
Flow("next_step")
.play("https://media.example.com/one-moment.wav")
.redirect("https://app.example.com/ivr/step-2", method="POST")""",
    "transfer": """\
Flow("to_sales")
.play("https://media.example.com/connecting.wav")
.transfer("+15551230002", timeout_ms=20000, fallback_url="https://app.example.com/ivr/busy")""",
    "send_digits": """\
Flow("pin_entry")
.transfer("+15551230002", fallback_url="https://app.example.com/ivr/busy")
.send_digits("1234#", pause_before_ms=2000)""",
    "hangup": """\
Flow("closed")
.play("https://media.example.com/closed.wav")
.hangup()""",
}

#: A builder call with a bad value, for each action that has fields.
FIELD_ERRORS: Final[Mapping[str, str]] = {
    "play": 'Flow().play("https://media.example.com/welcome.wav", loop=0)',
    "collect": 'Flow().collect("Choice")',
    "redirect": 'Flow().redirect("/ivr/choice")',
    "transfer": 'Flow().transfer("+1 555 123 0002")',
    "send_digits": 'Flow().send_digits("12a4#")',
}

#: A flow that draws each ordering-rule diagnostic (and only that one, where possible).
RULE_FLOWS: Final[Mapping[str, str]] = {
    "empty_actions": "Flow()",
    "too_many_actions": """\
Flow().then([Play("https://media.example.com/tick.wav")] * 101)""",
    "unreachable_action": """\
Flow()
.hangup()
.play("https://media.example.com/never.wav")""",
    "collect_without_prompt": """\
Flow()
.collect("choice")
.redirect("https://app.example.com/ivr/choice")""",
    "input_not_forwarded": """\
Flow()
.play("https://media.example.com/menu.wav")
.collect("choice")
.hangup()""",
    "transfer_before_decision": """\
Flow()
.play("https://media.example.com/menu.wav")
.collect("choice")
.transfer("+15551230002", fallback_url="https://app.example.com/ivr/busy")
.redirect("https://app.example.com/ivr/after-call")""",
    "transfer_without_fallback": 'Flow().transfer("+15551230002")',
    "digits_too_early": """\
Flow()
.transfer("+15551230002", fallback_url="https://app.example.com/ivr/busy")
.send_digits("1234#")""",
    "digits_to_caller": 'Flow(direction="inbound").send_digits("1234#")',
}

#: JSON text that draws each payload- and field-level code from ``validate()``.
BAD_PAYLOADS: Final[Mapping[str, str]] = {
    "malformed_json": '{"actions": [{"hangup": {}},]}',
    "malformed_payload": '[{"hangup": {}}]',
    "malformed_action": '{"actions": [{"play": {"url": "https://media.example.com/a.wav"}, '
    '"hangup": {}}]}',
    "unknown_action": '{"actions": [{"hang_up": {}}]}',
    "duplicate_key": '{"actions": [{"send_digits": {"digits": "1234#", "digits": "5678#"}}]}',
    "unknown_field": '{"actions": [{"send_digits": {"digits": "1234#", "pause_ms": 2000}}]}',
    "missing_field": '{"actions": [{"send_digits": {"pause_before_ms": 2000}}]}',
    "invalid_type": '{"actions": [{"send_digits": {"digits": "1234#", '
    '"pause_before_ms": "2000"}}]}',
    "out_of_range": '{"actions": [{"send_digits": {"digits": "1234#", "pause_before_ms": 90000}}]}',
    "invalid_value": '{"actions": [{"send_digits": {"digits": "\\uff11\\uff12\\uff13\\uff14#"}}]}',
}

#: How many play actions, each with a URL of the longest length allowed, make a payload too
#: large to be read (the docs show it shortened).
_LARGE_COUNT: Final = 40


def large_payload() -> tuple[str, str]:
    """JSON text over the size limit, and the shortened form the docs show in its place."""
    url = "https://media.example.com/" + "x" * 2000 + ".wav"
    item = '{"play": {"url": "%s"}}'
    text = '{"actions": [' + ", ".join([item % url] * _LARGE_COUNT) + "]}"
    shown = '{"actions": [%s, ... %d play actions in all, each with a %d-character url]}' % (
        item % "https://media.example.com/xxx...xxx.wav",
        _LARGE_COUNT,
        len(url),
    )
    return text, shown
