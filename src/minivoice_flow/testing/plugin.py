"""The pytest plugin of minivoice-flow, registered by the ``pytest11`` entry point.

It gives tests the ``minivoice_sim`` fixture (a ``Simulator``). When a test that used it
fails, its report gets the timeline of every call it simulated (those a failed assertion
has not shown already), and a picture (SVG) of each of its calls is written to
``--minivoice-pictures DIR`` (by default ``minivoice-pictures/`` in pytest's own temporary
directory, which pytest keeps for its last three runs); the report names the files.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Generator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import pytest

if TYPE_CHECKING:
    from pluggy import Result

    from minivoice_flow.testing import Simulator

__all__ = ["minivoice_sim"]

SECTION = "minivoice-flow simulated calls"
PICTURES_SECTION = "minivoice-flow pictures"
#: The default folder for pictures, under pytest's temporary directory.
DEFAULT_FOLDER: Final = "minivoice-pictures"

_PICTURES = pytest.StashKey[Path]()
_NOT_IN_FILE_NAME: Final = re.compile(r"[^A-Za-z0-9_.-]+")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("minivoice-flow")
    group.addoption(
        "--minivoice-pictures",
        metavar="DIR",
        default=None,
        help="where to write an SVG of each call simulated by a failed test "
        f"(default: {DEFAULT_FOLDER}/ in pytest's temporary directory)",
    )


@pytest.fixture
def minivoice_sim(request: pytest.FixtureRequest) -> Simulator:
    """Simulate calls in a test: ``minivoice_sim.run(flow, caller=..., far_end=...)``."""
    chosen = request.config.getoption("minivoice_pictures")
    if chosen is not None:
        folder = request.config.invocation_params.dir / chosen
    else:
        factory: pytest.TempPathFactory = request.getfixturevalue("tmp_path_factory")
        folder = factory.getbasetemp() / DEFAULT_FOLDER
    request.node.stash[_PICTURES] = folder
    # Imported here: the simulator loads only for a test that asks for it.
    from minivoice_flow.testing._simulator import Simulator

    return Simulator()


# An old-style wrapper: it works with every pytest this plugin may be loaded into.
@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, Result[pytest.TestReport], None]:
    """Add the timelines and pictures of a failed test's simulated calls to its report."""
    outcome = yield
    report = outcome.get_result()
    simulator = getattr(item, "funcargs", {}).get("minivoice_sim")
    if report.when != "call" or not report.failed or simulator is None:
        return
    from minivoice_flow.testing._simulator import Simulator  # loaded by the fixture already

    if not isinstance(simulator, Simulator):
        return
    unseen = simulator.not_shown()  # a failed assertion helper already showed the others
    if unseen:
        report.sections.append((SECTION, "\n\n".join(r.timeline() for r in unseen)))
    folder = item.stash.get(_PICTURES, None)
    if simulator.results and folder is not None:
        report.sections.append((PICTURES_SECTION, _write_pictures(item, simulator, folder)))


def _write_pictures(item: pytest.Item, simulator: Simulator, folder: Path) -> str:
    """Write an SVG per simulated call; the report's lines naming them (or why not)."""
    stem = _file_stem(item.nodeid)
    lines = []
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for number, result in enumerate(simulator.results, start=1):
            path = folder / f"{stem}-call{number}.svg"
            path.write_text(result.to_svg(), encoding="utf-8")
            lines.append(f"call {number} ({result.call_id}, {result.status}): {path}")
    except OSError as error:
        lines.append(f"could not write the pictures to {folder}: {error.strerror or error}")
    return "\n".join(lines)


def __getattr__(name: str) -> Any:
    # The fixture's annotation names Simulator, loaded only when something asks (the stub
    # generator does); pytest, loading this plugin in every run, does not.
    if name == "Simulator":
        from minivoice_flow.testing._simulator import Simulator

        return Simulator
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _file_stem(nodeid: str) -> str:
    """A file name from a test's node ID: readable, and distinct for distinct tests."""
    readable = _NOT_IN_FILE_NAME.sub("_", nodeid).strip("_.")[:80]
    digest = hashlib.sha256(nodeid.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return f"{readable}-{digest}"
