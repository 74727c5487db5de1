"""What the ``minivoice_sim`` pytest fixture hands a test: simulate() and the assertions."""

from __future__ import annotations

from typing import Any

from minivoice_flow.testing._assertions import (
    Row,
    assert_far_end_heard,
    assert_status,
    assert_timeline,
)
from minivoice_flow.testing._engine import simulate
from minivoice_flow.testing._handlers import Handler
from minivoice_flow.testing._result import SimulationResult


class Simulator:
    """Runs simulated calls for one test and keeps them, so a failure can show them all.

    ``run`` takes exactly ``simulate``'s arguments; ``defaults`` given here apply to every run
    unless a run overrides them.
    """

    __slots__ = ("defaults", "results")

    def __init__(self, **defaults: Any) -> None:
        self.defaults = defaults
        self.results: list[SimulationResult] = []

    def run(self, app: Handler, /, **options: Any) -> SimulationResult:
        """Simulate one call (see ``simulate``) and remember its result."""
        result = simulate(app, **{**self.defaults, **options})
        self.results.append(result)
        return result

    def assert_far_end_heard(self, result: SimulationResult, digits: str) -> None:
        """The transfer destinations heard exactly ``digits`` while they were listening."""
        __tracebackhide__ = True
        assert_far_end_heard(result, digits)

    def assert_status(
        self, result: SimulationResult, status: str, *, end_reason: str | None = None
    ) -> None:
        """The call ended with ``status`` (and ``end_reason``, if given)."""
        __tracebackhide__ = True
        assert_status(result, status, end_reason=end_reason)

    def assert_timeline(self, result: SimulationResult, expected: list[Row]) -> None:
        """The actions ran as ``expected`` rows of (kind, start_ms, end_ms[, outcome])."""
        __tracebackhide__ = True
        assert_timeline(result, expected)

    def report(self) -> str:
        """The timeline of every call this test simulated, for a failure report."""
        return "\n\n".join(result.timeline() for result in self.results)
