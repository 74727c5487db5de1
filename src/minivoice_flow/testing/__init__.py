"""Test call flows without a phone: a call simulator, scripted parties and assertion helpers.

``simulate(app, caller=..., far_end=...)`` runs a call through a Flow, a Python handler or an
application on loopback HTTP, in simulated milliseconds, and returns a ``SimulationResult``:
every action's start and end, the tones the far end heard, the variables, the webhooks
MiniVoice would send and how the call ended. Not imported by ``import minivoice_flow``.
"""

from minivoice_flow.testing._assertions import (
    Row,
    assert_far_end_heard,
    assert_status,
    assert_timeline,
)
from minivoice_flow.testing._checks import SimulationError
from minivoice_flow.testing._engine import simulate
from minivoice_flow.testing._handlers import CallRequest, Handler, HandlerFunction, Response
from minivoice_flow.testing._parties import Caller, KeyPress, TestIVR
from minivoice_flow.testing._result import (
    ActionRecord,
    EndReason,
    KeyRecord,
    RequestRecord,
    SimulationResult,
    TimelineEvent,
    ToneRecord,
    TransferRecord,
)
from minivoice_flow.testing._settings import ANSWER_URL
from minivoice_flow.testing._simulator import Simulator
from minivoice_flow.testing._timing import Timing

__all__ = [
    "ANSWER_URL",
    "ActionRecord",
    "CallRequest",
    "Caller",
    "EndReason",
    "Handler",
    "HandlerFunction",
    "KeyPress",
    "KeyRecord",
    "RequestRecord",
    "Response",
    "Row",
    "SimulationError",
    "SimulationResult",
    "Simulator",
    "TestIVR",
    "TimelineEvent",
    "Timing",
    "ToneRecord",
    "TransferRecord",
    "assert_far_end_heard",
    "assert_status",
    "assert_timeline",
    "simulate",
]
