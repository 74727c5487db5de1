"""What the ``minivoice_sim`` pytest fixture hands a test: simulate() and the assertions."""

from __future__ import annotations

from collections.abc import Callable
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
    unless a run overrides them. The ``assert_*`` methods are the module's assertions.
    """

    __slots__ = ("_shown", "defaults", "results")

    def __init__(self, **defaults: Any) -> None:
        self.defaults = defaults
        self.results: list[SimulationResult] = []
        self._shown: set[int] = set()

    def run(self, app: Handler, /, **options: Any) -> SimulationResult:
        """Simulate one call (see ``simulate``) and remember its result."""
        result = simulate(app, **{**self.defaults, **options})
        self.results.append(result)
        return result

    def assert_far_end_heard(self, result: SimulationResult, digits: str) -> None:
        """The transfer destinations heard exactly ``digits`` while they were listening."""
        __tracebackhide__ = True
        self._check(assert_far_end_heard, result, digits)

    def assert_status(
        self, result: SimulationResult, status: str, *, end_reason: str | None = None
    ) -> None:
        """The call ended with ``status`` (and ``end_reason``, if given)."""
        __tracebackhide__ = True
        self._check(assert_status, result, status, end_reason=end_reason)

    def assert_timeline(self, result: SimulationResult, expected: list[Row]) -> None:
        """The actions ran as ``expected`` rows of (kind, start_ms, end_ms[, outcome])."""
        __tracebackhide__ = True
        self._check(assert_timeline, result, expected)

    def __repr__(self) -> str:
        return f"<Simulator: {len(self.results)} simulated call(s)>"

    def not_shown(self) -> list[SimulationResult]:
        """The calls whose timeline no failed assertion of this object has shown yet."""
        return [r for r in self.results if id(r) not in self._shown]

    def _check(
        self, assertion: Callable[..., None], result: SimulationResult, *args: Any, **kwargs: Any
    ) -> None:
        __tracebackhide__ = True
        try:
            assertion(result, *args, **kwargs)
        except AssertionError:
            self._shown.add(id(result))
            raise
