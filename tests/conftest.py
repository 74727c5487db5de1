"""Fixtures shared across the suite: the example web application, a journal on each store
(SQLite, and PostgreSQL on a throwaway server), the browser tests' screenshot folder, and the
suite's CI policy."""

from __future__ import annotations

import importlib
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from _pytest.reports import CollectReport, TestReport

from minivoice_flow.journal import CallJournal
from tests.postgres import Server, Unavailable

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


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[Server]:
    """A throwaway PostgreSQL server for the whole session, stopped and removed at the end;
    skips (a failure under CI=true) with what to install when there is none."""
    try:
        server = Server.start_new()
    except Unavailable as missing:
        pytest.skip(str(missing))
    try:
        yield server
    finally:
        try:
            server.stop("immediate")
        finally:
            server.remove()


#: The stores every journal test runs on.
STORES = ("sqlite", "postgres")


@pytest.fixture(params=STORES)
def store(request: pytest.FixtureRequest) -> str:
    """The name of the store under test: each test using it runs once per store."""
    name: str = request.param
    return name


@pytest.fixture
def journal_url(store: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where a new, empty journal goes: a SQLite file, or a fresh PostgreSQL database."""
    if store == "sqlite":
        return str(tmp_path / "calls.db")
    server: Server = request.getfixturevalue("postgres_server")
    return server.database()


@pytest.fixture
def any_journal(journal_url: str) -> Iterator[CallJournal]:
    """An open, empty journal on each store in turn."""
    with CallJournal(journal_url) as opened:
        yield opened


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--support-screenshots",
        metavar="DIR",
        default=None,
        help="where the support page's browser tests save their screenshots (default: "
        "support-screenshots/ in pytest's temporary directory)",
    )


@pytest.fixture(scope="session")
def screenshots(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder the browser tests save a screenshot of each page in (test artifacts)."""
    chosen = request.config.getoption("--support-screenshots")
    folder = Path(chosen) if chosen else tmp_path_factory.getbasetemp() / "support-screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    request.config.stash[_SCREENSHOTS] = folder
    return folder


_SCREENSHOTS = pytest.StashKey[Path]()


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    """Say where the screenshots went, when a browser test took some."""
    folder = config.stash.get(_SCREENSHOTS, None)
    if folder is not None and any(folder.iterdir()):
        terminalreporter.write_line(f"support page screenshots: {folder}")


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
