"""Every diagnostic code, declared once: its severity, when it fires, the fix, and the actions
it involves. The rules, the field checks, the JSON reader and the reference docs all read it.
"""

# No "from __future__ import annotations": NamedTuple would compile each field's annotation.
from typing import Final, NamedTuple

from minivoice_flow._diagnostics import Diagnostic, Severity
from minivoice_flow._limits import MAX_ACTIONS, MAX_PAYLOAD_BYTES


class CodeInfo(NamedTuple):
    """What a diagnostic code means: for the code that raises it and for the docs."""

    code: str
    severity: Severity
    kind: str  # "payload", "field" or "rule"
    when: str
    fix: str
    #: The actions a rule cannot fire without: it is not run on an array missing one.
    requires: tuple[str, ...] = ()
    #: Every action a rule reads (the docs list the rule on each of their pages).
    involves: tuple[str, ...] = ()
    #: The fields whose values decide whether a rule fires. A rule that reads none is decided
    #: by the kinds of the actions alone.
    reads: tuple[str, ...] = ()


def _info(
    code: str,
    severity: Severity,
    kind: str,
    when: str,
    fix: str,
    *,
    requires: tuple[str, ...] = (),
    involves: tuple[str, ...] = (),
    reads: tuple[str, ...] = (),
) -> CodeInfo:
    return CodeInfo(code, severity, kind, when, fix, requires, involves, reads)


def diagnostic(code: str, path: str, message: str) -> Diagnostic:
    """A diagnostic of ``code``, with the severity the table gives it."""
    return Diagnostic(code, CODES[code].severity, path, message)


CODES: Final[dict[str, CodeInfo]] = {
    c.code: c
    for c in (
        # Problems with the document as a whole.
        _info(
            "malformed_json",
            "error",
            "payload",
            "The text is not JSON: a syntax error, bytes that are not UTF-8, a leading byte "
            "order mark, a `NaN` or `Infinity` literal, or nesting too deep to read.",
            "Emit the payload with a JSON encoder (or with `Flow.to_json()`), as UTF-8 "
            "without a BOM.",
        ),
        _info(
            "payload_too_large",
            "error",
            "payload",
            f"The text is over {MAX_PAYLOAD_BYTES} bytes of UTF-8 (for an already-parsed object, "
            "its compact JSON is). Nothing else is checked.",
            "Split the flow: end the first part with a `redirect` to a URL that serves the rest.",
        ),
        _info(
            "malformed_payload",
            "error",
            "payload",
            "The top level is not an object, has no `actions` key, or `actions` is not an array.",
            'Return an object of the form `{"actions": [...]}`.',
        ),
        _info(
            "malformed_action",
            "error",
            "payload",
            "An item of `actions` is not an object with exactly one key, or that key's value is "
            "not an object.",
            'Write each action as `{"<action>": {<fields>}}`, one action per object.',
        ),
        _info(
            "unknown_action",
            "error",
            "payload",
            "An action object's key is not the name of an action.",
            "Check the spelling against the list of actions; names are lower case.",
        ),
        _info(
            "duplicate_key",
            "error",
            "payload",
            "The same key appears twice in one JSON object; which one wins is undefined.",
            "Remove one of the two keys.",
        ),
        # Problems with one field.
        _info(
            "unknown_field",
            "error",
            "field",
            "An object has a key that its action (or the top level) does not define.",
            "Remove the key, or fix its spelling.",
        ),
        _info(
            "missing_field",
            "error",
            "field",
            "A required field is absent.",
            "Add the field.",
        ),
        _info(
            "invalid_type",
            "error",
            "field",
            "A field has the wrong JSON type: `null`, a string where a number is expected, "
            "`true` or `false` for a number, or a fractional or non-finite number where whole "
            "milliseconds are expected.",
            "Give the type the parameter table lists; leave an optional field out rather than "
            "sending `null`.",
        ),
        _info(
            "out_of_range",
            "error",
            "field",
            "A number is outside its range, or a string with a stated length (`digits`, the "
            "URLs) is too short or too long.",
            "Keep the value within the limits in the action's parameter table.",
        ),
        _info(
            "invalid_value",
            "error",
            "field",
            "A string breaks its pattern: a character that is not allowed, a URL that is not "
            "absolute http(s), a number that is not E.164, or a value not in the list.",
            "The message names the character or value and what is allowed.",
        ),
        # Ordering rules over the whole actions array.
        _info(
            "empty_actions",
            "error",
            "rule",
            "The `actions` array is empty, so the call is given nothing to do.",
            "Add at least one action; a flow that only ends the call is `hangup`.",
        ),
        _info(
            "too_many_actions",
            "error",
            "rule",
            f"The `actions` array holds more than {MAX_ACTIONS} actions.",
            "Split the flow with a `redirect` to a second answer_url.",
        ),
        _info(
            "unreachable_action",
            "error",
            "rule",
            "An action comes after a `hangup` or `redirect`, which end the array, so it can "
            "never run. Reported once for each such action.",
            "Remove the action, or move it before the terminal action.",
            involves=("hangup", "redirect"),
        ),
        _info(
            "collect_without_prompt",
            "warning",
            "rule",
            "A `collect` has no `play` before it (since the start, or since the previous "
            "`collect`), so the caller is not told what to press.",
            "Add a `play` prompt just before the `collect`.",
            requires=("collect",),
            involves=("collect", "play"),
        ),
        _info(
            "input_not_forwarded",
            "warning",
            "rule",
            "A `collect` is not followed by a `redirect` in the same array, so the digits are "
            "stored but the application never sees them.",
            "End the array with a `redirect` to the URL that acts on the input.",
            requires=("collect",),
            involves=("collect", "redirect"),
        ),
        _info(
            "transfer_before_decision",
            "warning",
            "rule",
            "A `transfer` comes after a `collect` in the same array: its destination was fixed "
            "before the application could see what the caller chose.",
            "Redirect after the `collect`, and return the `transfer` from that URL.",
            requires=("transfer", "collect"),
            involves=("transfer", "collect"),
        ),
        _info(
            "transfer_without_fallback",
            "warning",
            "rule",
            "A `transfer` has no `fallback_url`: when the destination is busy, does not answer "
            "or fails, the call simply ends.",
            "Set `fallback_url` to a URL that serves what to do instead (a message, a retry, "
            "voicemail).",
            requires=("transfer",),
            involves=("transfer",),
            reads=("fallback_url",),
        ),
        _info(
            "digits_too_early",
            "warning",
            "rule",
            "A `send_digits` directly follows a `transfer` with no `pause_before_ms` (or 0) and "
            "no leading `w`, `W` or `,`: the tones start the moment the far end answers, "
            "usually before its menu listens.",
            "Set `pause_before_ms` (2000 is a common start) or begin the digits with `w`.",
            requires=("send_digits", "transfer"),
            involves=("send_digits", "transfer"),
            reads=("pause_before_ms", "digits"),
        ),
        _info(
            "digits_to_caller",
            "warning",
            "rule",
            "In a flow declared inbound, a `send_digits` comes before any `transfer`, so the "
            "tones go to the caller rather than to another phone system.",
            "Move the `send_digits` after the `transfer` that reaches the system expecting them.",
            requires=("send_digits",),
            involves=("send_digits", "transfer"),
        ),
    )
}
