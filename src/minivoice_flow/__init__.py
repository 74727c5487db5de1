"""minivoice-flow: build MiniVoice call flows in typed Python, checked before they ship.

``Flow`` builds an immutable list of actions, checking each field as it is set; ``check()``
applies the ordering rules; ``to_json()`` emits the answer_url payload. ``parse`` and
``validate`` read existing JSON back with every problem reported by JSON pointer.
"""

from minivoice_flow._actions import (
    Action,
    Collect,
    Hangup,
    Play,
    Redirect,
    SendDigits,
    Transfer,
)
from minivoice_flow._diagnostics import (
    Diagnostic,
    DiagnosticError,
    FlowError,
    FlowValidationError,
    Report,
    Severity,
)
from minivoice_flow._flow import Flow
from minivoice_flow._parse import parse, validate
from minivoice_flow._rules import Direction

__all__ = [
    "Action",
    "Collect",
    "Diagnostic",
    "DiagnosticError",
    "Direction",
    "Flow",
    "FlowError",
    "FlowValidationError",
    "Hangup",
    "Play",
    "Redirect",
    "Report",
    "SendDigits",
    "Severity",
    "Transfer",
    "parse",
    "validate",
]
