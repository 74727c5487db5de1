"""Fixtures shared by the tests of the example web application."""

from __future__ import annotations

import importlib
import threading
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

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
