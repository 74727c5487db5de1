"""Test call flows without a phone: a call simulator, scripted parties and assertion helpers.

``simulate(app, caller=..., far_end=...)`` runs a call through a Flow, a Python handler or an
application on loopback HTTP, in simulated milliseconds, and returns a ``SimulationResult``:
every action's start and end, the tones the far end heard, the variables, the webhooks
MiniVoice would send and how the call ended. Not imported by ``import minivoice_flow``.

Each name is imported from its module on first use, so that loading the pytest plugin (which
pytest does in every run, in every project that has minivoice-flow installed) costs nothing
until a test asks for the ``minivoice_sim`` fixture.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from minivoice_flow.testing._assertions import (
        Row,
        assert_far_end_heard,
        assert_status,
        assert_timeline,
    )
    from minivoice_flow.testing._checks import SimulationError
    from minivoice_flow.testing._engine import simulate
    from minivoice_flow.testing._handlers import (
        CallRequest,
        Handler,
        HandlerFunction,
        Response,
    )
    from minivoice_flow.testing._parties import (
        Caller,
        KeyPress,
        TestIVR,
    )
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

#: The module each public name comes from.
_MODULES: dict[str, str] = {
    "ANSWER_URL": "_settings",
    "ActionRecord": "_result",
    "CallRequest": "_handlers",
    "Caller": "_parties",
    "EndReason": "_result",
    "Handler": "_handlers",
    "HandlerFunction": "_handlers",
    "KeyPress": "_parties",
    "KeyRecord": "_result",
    "RequestRecord": "_result",
    "Response": "_handlers",
    "Row": "_assertions",
    "SimulationError": "_checks",
    "SimulationResult": "_result",
    "Simulator": "_simulator",
    "TestIVR": "_parties",
    "TimelineEvent": "_result",
    "Timing": "_timing",
    "ToneRecord": "_result",
    "TransferRecord": "_result",
    "assert_far_end_heard": "_assertions",
    "assert_status": "_assertions",
    "assert_timeline": "_assertions",
    "simulate": "_engine",
}

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


def __getattr__(name: str) -> Any:
    module = _MODULES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # found directly from now on
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
