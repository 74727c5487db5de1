"""Fixtures shared by the tests of the example web application, and the suite's CI policy."""

from __future__ import annotations

import importlib
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from _pytest.reports import CollectReport, TestReport

from minivoice_flow.journal import CallJournal

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@pytest.fixture(scope="module")
def webapp() -> Iterator[ModuleType]:
    """``examples/webapp.py``, imported as its own script would see it."""
    with pytest.MonkeyPatch.context() as patch:
        patch.syspath_prepend(str(EXAMPLES))
        yield importlib.import_module("webapp")


@pytest.fixture
def journal() -> Iterator[CallJournal]:
    with CallJournal(":memory:") as opened:
        yield opened


@pytest.fixture
def served(webapp: ModuleType, journal: CallJournal) -> Iterator[str]:
    """The example app on a real HTTP server on a loopback port; yields its base URL."""
    server = webapp.make_server(webapp.make_app(journal), "127.0.0.1", 0, quiet=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _under_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Under ``CI=true`` a skipped test fails: CI must run the PostgreSQL and browser tests.

    Locally a test whose server or browser is missing skips with a message saying what to
    install; in CI that message becomes the failure.
    """
    outcome = yield
    _fail_skip_under_ci(outcome.get_result())  # type: ignore[attr-defined]


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> Iterator[None]:
    """The same for a whole module skipped at collection (``pytest.importorskip``)."""
    outcome = yield
    _fail_skip_under_ci(outcome.get_result())  # type: ignore[attr-defined]


def _fail_skip_under_ci(report: TestReport | CollectReport) -> None:
    if _under_ci() and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"skipped under CI=true, where every test must run: {reason}"
