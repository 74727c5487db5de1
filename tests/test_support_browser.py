"""The support page in a real browser: headless Chromium (the machine's own, driven by
Playwright) against the page served on a free loopback port, on both stores.

Each test saves a screenshot of every page it opens in the ``screenshots`` folder
(``--support-screenshots DIR``, by default ``support-screenshots/`` in pytest's temporary
directory; the run's summary names it). Without Chromium these tests skip, saying what to
install; under CI=true that skip is a failure.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from minivoice_flow.fallback import FlowSet
from minivoice_flow.journal import CallJournal
from minivoice_flow.support import make_app
from tests.support_calls import (
    ATTRIBUTE,
    HOSTILE_ID,
    IMAGE,
    JAVASCRIPT_URL,
    NEWEST_FIRST,
    OUTCOMES,
    SCRIPT,
    record_calls,
    support_line,
)
from tests.test_wsgi import running

sync_api = pytest.importorskip(
    "playwright.sync_api", reason="the browser tests need Playwright: pip install playwright"
)

#: Where a Chromium may be named, else it is looked for on PATH.
CHROMIUM_VARIABLE = "MINIVOICE_CHROMIUM"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LAPTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
TOKEN = "a-token-for-the-browser-tests"
#: What Chromium logs for a page that answers 404.
FAILED_LOAD = "Failed to load resource: the server responded with a status of 404 (Not Found)"
#: The size in pixels of the smallest text on the page (elements holding text of their own).
SMALLEST_TEXT = """
Math.min(...[...document.querySelectorAll("main *")]
  .filter(e => [...e.childNodes].some(n => n.nodeType === 3 && n.textContent.trim()))
  .map(e => parseFloat(getComputedStyle(e).fontSize)))
"""


def find_chromium() -> str | None:
    named = os.environ.get(CHROMIUM_VARIABLE)
    if named:
        return named
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Headless Chromium for the session: the machine's own, never a downloaded one."""
    executable = find_chromium()
    if executable is None:
        pytest.skip(
            "the browser tests need Chromium: apt-get install chromium (or set "
            f"{CHROMIUM_VARIABLE} to a Chromium or Chrome binary)"
        )
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=executable, args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def recorded(journal_url: str) -> str:
    record_calls(journal_url)
    return journal_url


@pytest.fixture(scope="module")
def line() -> FlowSet:
    return support_line()


@pytest.fixture
def site(recorded: str, line: FlowSet) -> Iterator[str]:
    """The support page, with the support line's graph, on a free loopback port."""
    with (
        CallJournal(recorded, create=False) as journal,
        running(make_app(journal, line)) as server,
    ):
        yield f"http://127.0.0.1:{server.server_port}"


class Watched:
    """A page whose dialogs, console messages and errors are all kept: a page that runs
    nothing shows none of them (a CSP violation is a console error in Chromium)."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.dialogs: list[str] = []
        self.console: list[str] = []
        self.errors: list[str] = []
        page.on("dialog", self._dialog)
        page.on("console", lambda message: self.console.append(f"{message.type}: {message.text}"))
        page.on("pageerror", lambda error: self.errors.append(str(error)))

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def assert_quiet(self, *expected: str) -> None:
        """No dialog, no error, and no console line but the ``expected`` ones."""
        assert (self.dialogs, self.console, self.errors) == ([], list(expected), [])


@pytest.fixture
def open_page(
    browser: Any, screenshots: Path, store: str, request: pytest.FixtureRequest
) -> Iterator[Any]:
    """``open_page(viewport, **context options)``: a watched page in a new context."""
    contexts: list[Any] = []

    def make(viewport: dict[str, int] = LAPTOP, **options: Any) -> Watched:
        context = browser.new_context(viewport=viewport, **options)
        contexts.append(context)
        return Watched(context.new_page())

    yield make
    for context in contexts:
        context.close()


def shoot(watched: Watched, screenshots: Path, name: str, store: str) -> Path:
    """A full-page screenshot of what the page shows now."""
    path = screenshots / f"{name}-{store}.png"
    watched.page.screenshot(path=str(path), full_page=True)
    return path


def no_sideways_scroll(page: Any) -> None:
    """Nothing overflows the window: the page never scrolls sideways."""
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], width


def pictures_loaded(page: Any) -> list[str]:
    """The sources of the page's pictures, each checked to have loaded and drawn."""
    images = page.locator("img")
    sources = []
    for index in range(images.count()):
        image = images.nth(index)
        image.scroll_into_view_if_needed()
        assert image.evaluate("i => i.complete && i.naturalWidth > 100 && i.naturalHeight > 50")
        sources.append(image.get_attribute("src"))
    return sources


class TestFindACall:
    """What support staff do: open the calls, search a call ID, click through."""

    def test_search_click_through_and_see_what_happened(
        self, open_page: Any, site: str, screenshots: Path, store: str
    ) -> None:
        """Calls page, search by ID, the call: its outcome sentence and both pictures."""
        watched = open_page()
        page = watched.page
        page.goto(f"{site}/calls")
        rows = page.locator("table.calls tbody tr")
        assert rows.count() == len(NEWEST_FIRST)
        no_sideways_scroll(page)
        shoot(watched, screenshots, "calls-laptop", store)

        page.get_by_label("Find a call by its ID or a phone number").fill("call_7f3a9c03")
        page.get_by_role("button", name="Find").click()
        page.wait_for_url("**/calls?q=call_7f3a9c03*")
        assert rows.count() == 1
        shoot(watched, screenshots, "search-laptop", store)

        page.get_by_role("link", name="call_7f3a9c03").click()
        page.wait_for_url("**/call?id=call_7f3a9c03")
        assert page.locator("h1").inner_text() == "Call call_7f3a9c03"
        verdict = page.locator(".verdict")
        assert verdict.inner_text().lower() == OUTCOMES["call_7f3a9c03"].lower()
        assert verdict.is_visible()
        assert pictures_loaded(page) == [
            "/call/timeline.svg?id=call_7f3a9c03",
            "/call/graph.svg?id=call_7f3a9c03",
        ]
        assert page.locator("ol.records > li").count() == 4
        no_sideways_scroll(page)
        shoot(watched, screenshots, "call-laptop", store)
        watched.assert_quiet()

    def test_search_by_number_without_javascript(
        self, open_page: Any, site: str, screenshots: Path, store: str
    ) -> None:
        """The page needs no JavaScript: search by a number as typed, then open the call."""
        watched = open_page(java_script_enabled=False)
        page = watched.page
        page.goto(f"{site}/calls")
        page.get_by_label("Find a call by its ID or a phone number").fill("+1 555 010 0003")
        page.get_by_label("Outcome").select_option("hung_up")
        page.get_by_role("button", name="Find").click()
        page.get_by_role("link", name="call_7f3a9c02").click()
        assert page.locator(".verdict").inner_text().lower() == OUTCOMES["call_7f3a9c02"]
        flagged = page.locator("li.record.unreadable")
        assert flagged.count() == 1 and "could not be read" in flagged.inner_text()
        shoot(watched, screenshots, "call-unreadable-laptop", store)
        watched.assert_quiet()

    def test_unattributed(self, open_page: Any, site: str, screenshots: Path, store: str) -> None:
        """The notice on the calls page leads to the webhooks that named no call."""
        watched = open_page()
        page = watched.page
        page.goto(f"{site}/calls")
        page.get_by_role("link", name="see them").click()
        assert page.locator("ol.records > li").count() == 2
        no_sideways_scroll(page)
        shoot(watched, screenshots, "unattributed-laptop", store)
        watched.assert_quiet()


class TestHostileCall:
    """A call whose ID, numbers, step, URL and webhooks carry script shows it all as text
    and runs none of it."""

    def test_shown_as_text_and_runs_nothing(
        self, open_page: Any, site: str, screenshots: Path, store: str
    ) -> None:
        watched = open_page()
        page = watched.page
        page.goto(f"{site}/calls")
        page.get_by_role("link", name=HOSTILE_ID).click()
        page.wait_for_load_state("load")
        assert page.locator("h1 .id").inner_text() == HOSTILE_ID
        body = page.locator("body").inner_text()
        for value in (SCRIPT, IMAGE, JAVASCRIPT_URL, ATTRIBUTE):
            assert value in body
        assert page.locator("script").count() == 0
        hrefs = page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)")
        assert hrefs and all(href.startswith(site + "/") for href in hrefs), hrefs
        pictures_loaded(page)
        shoot(watched, screenshots, "call-hostile-laptop", store)
        for picture in ("timeline", "graph"):
            page.goto(f"{site}/call/{picture}.svg?{urlencode({'id': HOSTILE_ID})}")
            assert page.locator("script").count() == 0
        page.goto(f"{site}/unattributed")
        assert IMAGE in page.locator("body").inner_text()
        watched.assert_quiet()


class TestLayout:
    """Clean on a laptop, readable on a phone: nothing runs off the side of the window."""

    @pytest.mark.parametrize(("size", "viewport"), [("laptop", LAPTOP), ("phone", PHONE)])
    def test_every_page(
        self,
        open_page: Any,
        site: str,
        screenshots: Path,
        store: str,
        size: str,
        viewport: dict[str, int],
    ) -> None:
        watched = open_page(viewport, is_mobile=size == "phone")
        page = watched.page
        pages = {
            "calls": "/calls",
            "call": "/call?id=call_7f3a9c01",
            "hostile": "/call?" + urlencode({"id": HOSTILE_ID}),
            "unattributed": "/unattributed",
            "error": "/call?id=nobody",  # last: a 404 is the one console line expected
        }
        for name, path in pages.items():
            page.goto(site + path)
            no_sideways_scroll(page)
            # The text stays readable: nothing smaller than 11 px.
            smallest = page.evaluate(SMALLEST_TEXT)
            assert smallest >= 11, (name, smallest)
            shoot(watched, screenshots, f"{name}-{size}", store)
            if name != "error":
                watched.assert_quiet()
        assert watched.console == ["error: " + FAILED_LOAD]


class TestSignIn:
    """With a token, a browser signs in once on the form and keeps an HttpOnly cookie."""

    def test_sign_in_once(
        self, open_page: Any, recorded: str, screenshots: Path, store: str
    ) -> None:
        with (
            CallJournal(recorded, create=False) as journal,
            running(make_app(journal, token=TOKEN)) as server,
        ):
            site = f"http://127.0.0.1:{server.server_port}"
            watched = open_page()
            page = watched.page
            page.goto(f"{site}/call?id=call_7f3a9c01")
            assert "/login?next=" in page.url
            shoot(watched, screenshots, "login-laptop", store)
            page.get_by_label("Token").fill("not-the-token-at-all")
            page.get_by_role("button", name="Sign in").click()
            assert "not the one" in page.locator(".warning").inner_text()
            page.get_by_label("Token").fill(TOKEN)
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_url(f"{site}/call?id=call_7f3a9c01")
            assert page.locator(".verdict").inner_text().lower() == OUTCOMES["call_7f3a9c01"]
            [cookie] = page.context.cookies()
            assert (cookie["httpOnly"], cookie["sameSite"]) == (True, "Strict")
            assert TOKEN not in cookie["value"]
            page.goto(f"{site}/calls")
            assert page.locator("table.calls tbody tr").count() == len(NEWEST_FIRST)
            page.get_by_role("button", name="Sign out").click()
            page.wait_for_url(f"{site}/login")
            page.goto(f"{site}/calls")
            assert "/login" in page.url
            # The wrong token's 403 is the one console line expected.
            watched.assert_quiet(
                "error: " + FAILED_LOAD.replace("404 (Not Found)", "403 (Forbidden)")
            )
