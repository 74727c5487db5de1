"""The pytest plugin of minivoice-flow, registered by the ``pytest11`` entry point.

It gives tests the ``minivoice_sim`` fixture (a ``Simulator``), and adds the timeline of
every call a failing test simulated to that test's report.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING

import pytest

from minivoice_flow.testing._simulator import Simulator

if TYPE_CHECKING:
    from pluggy import Result

__all__ = ["minivoice_sim"]

SECTION = "minivoice-flow simulated calls"


@pytest.fixture
def minivoice_sim() -> Simulator:
    """Simulate calls in a test: ``minivoice_sim.run(flow, caller=..., far_end=...)``."""
    return Simulator()


# An old-style wrapper: it works with every pytest this plugin may be loaded into.
@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, Result[pytest.TestReport], None]:
    """Add the timelines of a failed test's simulated calls to its report."""
    outcome = yield
    report = outcome.get_result()
    simulator = getattr(item, "funcargs", {}).get("minivoice_sim")
    if report.when == "call" and report.failed and isinstance(simulator, Simulator):
        unseen = simulator.not_shown()  # a failed assertion helper already showed the others
        if unseen:
            report.sections.append((SECTION, "\n\n".join(r.timeline() for r in unseen)))
