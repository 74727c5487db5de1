"""The support page (minivoice_flow.support) at the WSGI level: every route on both stores.

The journal holds the example support line's calls (tests/support_calls.py): one per outcome,
an unreadable webhook, unattributed junk, and a call whose every value is an attack on the
page. Pages are parsed as HTML (lxml), pictures as XML, JSON twins as JSON.
"""

from __future__ import annotations

import hmac
import io
import json
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlencode, urlsplit
from wsgiref.util import setup_testing_defaults

import lxml.html
import pytest
from attrs import frozen
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import minivoice_flow._support.app as support_app
from minivoice_flow._cli import main
from minivoice_flow.fallback import FlowSet
from minivoice_flow.journal import CallJournal, JournalError
from minivoice_flow.support import from_environment, make_app
from minivoice_flow.wsgi import WSGIApp
from tests.journal_worker import count_records
from tests.support_calls import (
    ATTRIBUTE,
    HOSTILE_ID,
    IMAGE,
    JAVASCRIPT_URL,
    LINE_NUMBER,
    NEWEST_FIRST,
    OUTCOMES,
    SCRIPT,
    record_calls,
    support_line,
)

TOKEN = "s3cret-token-for-the-tests"
SVG = "{http://www.w3.org/2000/svg}"
#: Every page of the application (the SVGs take a call's ID).
PAGES = ("/", "/calls", "/call", "/call/timeline.svg", "/call/graph.svg", "/unattributed")
ROUTES = (*PAGES, "/login", "/logout", "/static/support.css", "/static/icon.svg", "/favicon.ico")


@frozen
class Reply:
    """A response as the WSGI application gave it."""

    status: int
    headers: Mapping[str, str]
    body: bytes

    def html(self) -> Any:
        assert self.headers["content-type"] == "text/html; charset=utf-8"
        return lxml.html.document_fromstring(self.body)

    def json(self) -> Any:
        assert self.headers["content-type"] == "application/json"
        return json.loads(self.body)

    def svg(self) -> ET.Element:
        assert self.headers["content-type"] == "image/svg+xml; charset=utf-8"
        return ET.fromstring(self.body)


class Client:
    """Calls a WSGI application directly, as a server on loopback would."""

    def __init__(self, app: WSGIApp) -> None:
        self.app = app

    def request(
        self,
        method: str,
        target: str,
        body: bytes = b"",
        *,
        remote: str = "127.0.0.1",
        host: str | None = "localhost:8080",
        **headers: str,
    ) -> Reply:
        path, _, query = target.partition("?")
        environ: dict[str, Any] = {
            "REQUEST_METHOD": method,
            "PATH_INFO": unquote(path, encoding="latin-1"),
            "QUERY_STRING": query,
            "REMOTE_ADDR": remote,
            "CONTENT_LENGTH": str(len(body)) if body else "",
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": io.StringIO(),
        }
        if host is not None:
            environ["HTTP_HOST"] = host
        for name, value in headers.items():
            key = name.upper()
            raw = key in ("CONTENT_TYPE", "CONTENT_LENGTH", "SCRIPT_NAME")
            environ[key if raw else f"HTTP_{key}"] = value
        setup_testing_defaults(environ)
        started: list[tuple[str, list[tuple[str, str]]]] = []
        chunks = self.app(environ, lambda status, given: started.append((status, given)))
        data = b"".join(chunks)
        [(status, given)] = started
        return Reply(int(status.split()[0]), {k.lower(): v for k, v in given}, data)

    def get(self, target: str, **headers: Any) -> Reply:
        return self.request("GET", target, **headers)

    def post_form(self, target: str, fields: Mapping[str, str], **headers: str) -> Reply:
        body = urlencode(fields).encode()
        kind = "application/x-www-form-urlencoded"
        return self.request("POST", target, body, CONTENT_TYPE=kind, **headers)


def call_url(path: str, call_id: str, **more: str) -> str:
    return f"{path}?{urlencode({'id': call_id, **more})}"


@pytest.fixture
def recorded(journal_url: str) -> str:
    """A journal on each store holding the support line's calls; yields where it is."""
    record_calls(journal_url)
    return journal_url


@pytest.fixture
def journal(recorded: str) -> Iterator[CallJournal]:
    with CallJournal(recorded, create=False) as opened:
        yield opened


@pytest.fixture(scope="module")
def line() -> FlowSet:
    return support_line()


@pytest.fixture
def client(journal: CallJournal, line: FlowSet) -> Client:
    return Client(make_app(journal, line))


@pytest.fixture
def guarded(journal: CallJournal) -> Client:
    """The page started with a token."""
    return Client(make_app(journal, token=TOKEN))


def calls_listed(reply: Reply) -> list[tuple[str, str]]:
    """(call ID, outcome sentence) of each row of a calls page; each link's ``id`` parameter
    is checked against the ID shown."""
    rows = []
    for row in reply.html().xpath("//table[@class='calls']/tbody/tr"):
        [link] = row.xpath(".//td[@data-label='Call']/a")
        [call_id] = parse_qs(urlsplit(link.get("href")).query)["id"]
        assert link.text_content() == call_id
        [outcome] = row.xpath(".//span[contains(@class, 'outcome')]")
        rows.append((call_id, outcome.text_content()))
    return rows


def link(reply: Reply, text: str) -> str:
    """The href of the link whose text is ``text``."""
    [href] = [a.get("href") for a in reply.html().iter("a") if a.text_content() == text]
    return str(href)


class TestCallsPage:
    """The most recent calls, newest first, paged, searched and filtered."""

    def test_newest_first_with_outcomes_in_words(self, client: Client) -> None:
        """Every call with its outcome sentence, most recently active first."""
        reply = client.get("/calls")
        assert reply.status == 200
        assert calls_listed(reply) == [(c, OUTCOMES[c]) for c in NEWEST_FIRST]

    def test_numbers_and_times(self, client: Client) -> None:
        """Each row shows the time of the last record and both numbers."""
        [row] = client.get("/calls?q=call_7f3a9c01").html().xpath("//tbody/tr")
        cells = {td.get("data-label"): td.text_content().strip() for td in row.iter("td")}
        assert cells["Last activity"] == "2026-05-29 09:00:24 UTC"
        assert (cells["From"], cells["To"]) == ("+15550100000", LINE_NUMBER)

    def test_home_goes_to_the_calls(self, client: Client) -> None:
        """/ redirects to /calls."""
        reply = client.get("/")
        assert (reply.status, reply.headers["location"]) == (303, "/calls")

    def test_search_by_call_id(self, client: Client) -> None:
        """A call ID finds that call, whatever it holds."""
        assert calls_listed(client.get("/calls?q=call_7f3a9c03")) == [
            ("call_7f3a9c03", OUTCOMES["call_7f3a9c03"])
        ]
        hostile = client.get("/calls?" + urlencode({"q": f"  {HOSTILE_ID} "}))
        assert [c for c, _ in calls_listed(hostile)] == [HOSTILE_ID]

    @pytest.mark.parametrize("typed", ["+15550100006", "+1 555 010 0006", "+1 (555) 010-0006"])
    def test_search_by_number(self, client: Client, typed: str) -> None:
        """A phone number finds the calls from or to it, however it is typed."""
        reply = client.get("/calls?" + urlencode({"q": typed}))
        assert [c for c, _ in calls_listed(reply)] == ["call_7f3a9c03"]

    def test_search_by_the_line_number(self, client: Client) -> None:
        """The number every call was made to finds them all, newest first."""
        reply = client.get("/calls?" + urlencode({"q": LINE_NUMBER}))
        assert [c for c, _ in calls_listed(reply)] == list(NEWEST_FIRST[1:])

    def test_nothing_found(self, client: Client) -> None:
        """A search that finds nothing says so, with the search shown as text."""
        page = client.get("/calls?" + urlencode({"q": SCRIPT})).html()
        assert page.xpath("//table") == []
        [empty] = page.find_class("empty")
        assert SCRIPT in empty.text_content()

    def test_filter_by_outcome(self, client: Client) -> None:
        """outcome= keeps the calls that ended so; with a search, both must hold."""
        assert [c for c, _ in calls_listed(client.get("/calls?outcome=busy"))] == ["call_7f3a9c03"]
        assert calls_listed(client.get("/calls?outcome=busy&q=call_7f3a9c01")) == []
        selected = client.get("/calls?outcome=hung_up").html().xpath("//option[@selected]")
        assert [o.get("value") for o in selected] == ["hung_up"]

    def test_pages_follow_each_other(self, client: Client) -> None:
        """Following "Older calls" from a page of two lists every call once, in order."""
        seen: list[str] = []
        reply = client.get("/calls?limit=2")
        while True:
            page = calls_listed(reply)
            assert 0 < len(page) <= 2
            seen += [c for c, _ in page]
            older = [a.get("href") for a in reply.html().iter("a") if a.get("rel") == "next"]
            if not older:
                break
            reply = client.get(older[0])
        assert seen == list(NEWEST_FIRST)
        assert link(reply, "Newest calls") == "/calls?limit=2"

    def test_unattributed_are_counted(self, client: Client) -> None:
        """The page says how many webhooks named no call, with a link to them."""
        page = client.get("/calls").html()
        [notice] = page.find_class("notice")
        assert notice.text_content().startswith("2 webhooks named no call")

    def test_an_empty_journal(self, journal_url: str) -> None:
        """A journal with no calls says so."""
        with CallJournal(journal_url) as empty:
            reply = Client(make_app(empty)).get("/calls")
        assert reply.status == 200
        [note] = reply.html().find_class("empty")
        assert "No calls are recorded" in note.text_content()


class TestCallPage:
    """One call: the outcome sentence, the pictures, every record in order."""

    @pytest.mark.parametrize("call_id", list(OUTCOMES))
    def test_outcome_sentence_first(self, client: Client, call_id: str) -> None:
        """The page opens with the call's ID and its outcome in a sentence."""
        page = client.get(call_url("/call", call_id)).html()
        assert page.xpath("//h1/span")[0].text_content() == call_id
        [verdict] = page.find_class("verdict")
        assert verdict.text_content() == OUTCOMES[call_id]

    def test_every_record_in_order_with_its_body_as_text(
        self, client: Client, journal: CallJournal
    ) -> None:
        """Each flow returned and each webhook, in the order written, bodies verbatim."""
        page = client.get(call_url("/call", "call_7f3a9c01")).html()
        shown = page.xpath("//ol[@class='records']/li")
        records = journal.timeline("call_7f3a9c01")
        assert len(shown) == len(records) == 5
        for item, record in zip(shown, records, strict=True):
            assert item.get("class").split()[:2] == ["record", record.kind]
            [body] = item.find_class("body")
            assert body.text_content() == record.body
            assert f"#{record.id}" in item.text_content()
        heads = [" ".join(item.find_class("head")[0].text_content().split()) for item in shown]
        assert (
            "flow returned account_pin for https://app.example.com/ivr/support_menu/input"
            in (heads[2])
        )
        assert heads[1].endswith("webhook call.answered call status in_progress")

    def test_facts(self, client: Client) -> None:
        """Last step, outcome, numbers and times, each under its name."""
        page = client.get(call_url("/call", "call_7f3a9c03")).html()
        facts = {
            div.find("dt").text_content(): div.find("dd").text_content()
            for div in page.xpath("//dl[@class='facts']/div")
        }
        assert facts["Last known step"] == "support_agent"
        assert facts["Outcome"] == "busy"
        assert (facts["From"], facts["To"]) == ("+15550100006", LINE_NUMBER)
        assert facts["Last record"] == "2026-05-29 09:06:37 UTC (37 s later)"

    def test_unreadable_webhooks_are_flagged_with_the_reason(self, client: Client) -> None:
        """A webhook that could not be read is marked, and says why."""
        page = client.get(call_url("/call", "call_7f3a9c02")).html()
        [warning] = page.find_class("warning")
        assert warning.text_content().startswith("1 webhook of this call could not be read")
        [flagged] = page.find_class("unreadable")
        assert "could not be read" in flagged.find_class("flag")[0].text_content()
        [problem] = flagged.find_class("problem")
        assert "/call/status" in problem.text_content()

    def test_the_timeline_picture(self, client: Client) -> None:
        """The page shows the call's timeline picture, drawn from its records."""
        page = client.get(call_url("/call", "call_7f3a9c01")).html()
        sources = [img.get("src") for img in page.iter("img")]
        assert sources[0] == call_url("/call/timeline.svg", "call_7f3a9c01")
        svg = client.get(sources[0]).svg()
        assert svg.get("class") == "minivoice-recorded-call"
        rows = [g for g in svg.iter(f"{SVG}g") if "record" in g.get("class", "").split()]
        assert len(rows) == 5
        assert next(g for g in rows if "last-step" in g.get("class", "")).get("data-record")

    def test_the_graph_with_the_call_highlighted(self, client: Client) -> None:
        """With flows, the IVR graph highlights the call's steps and marks where it ended."""
        page = client.get(call_url("/call", "call_7f3a9c03")).html()
        graph = [img.get("src") for img in page.iter("img") if "graph.svg" in img.get("src")]
        svg = client.get(graph[0]).svg()
        classes = [(g.get("class", "").split(), g.get("data-step")) for g in svg.iter(f"{SVG}g")]
        visited = [step for kind, step in classes if "visited" in kind and "node" in kind]
        assert visited == ["support_menu", "support_agent"]
        assert [step for kind, step in classes if "ended" in kind] == ["support_agent"]

    def test_a_call_still_in_progress_has_no_end_marked(self, client: Client) -> None:
        """In progress: its steps are highlighted, none is marked as the end."""
        svg = client.get(call_url("/call/graph.svg", "call_7f3a9c05")).svg()
        assert not [g for g in svg.iter(f"{SVG}g") if "ended" in g.get("class", "").split()]

    def test_without_flows_there_is_no_graph(self, journal: CallJournal) -> None:
        """The graph is shown only when the page was given the flows."""
        plain = Client(make_app(journal))
        page = plain.get(call_url("/call", "call_7f3a9c01")).html()
        assert [img.get("src") for img in page.iter("img")] == [
            call_url("/call/timeline.svg", "call_7f3a9c01")
        ]
        assert plain.get(call_url("/call/graph.svg", "call_7f3a9c01")).status == 404

    def test_a_long_call_is_cut_short_and_says_so(
        self, client: Client, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Past MAX_RECORDS records, the page shows the first ones and how many more."""
        monkeypatch.setattr(support_app, "MAX_RECORDS", 3)
        page = client.get(call_url("/call", "call_7f3a9c01")).html()
        assert len(page.xpath("//ol[@class='records']/li")) == 3
        assert "2 later records are not shown" in page.text_content()

    def test_a_long_body_is_cut_short_and_says_so(
        self, journal: CallJournal, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A body longer than MAX_BODY_SHOWN shows its start and how much more there is."""
        monkeypatch.setattr(support_app, "MAX_BODY_SHOWN", 40)
        page = Client(make_app(journal)).get(call_url("/call", "call_7f3a9c01")).html()
        first = page.xpath("//ol[@class='records']/li")[0]
        assert len(first.find_class("body")[0].text_content()) == 40
        assert "more characters" in first.text_content()

    @pytest.mark.parametrize(
        ("query", "status"),
        [
            ("", 400),
            ("id=", 400),
            ("id=%00", 400),
            ("id=" + "x" * 256, 400),
            ("id=call_nobody", 404),
            ("id=a&id=b", 400),
            ("id=call_7f3a9c01&extra=1", 400),
            ("id=%ED%A0%80", 400),
        ],
        ids=["none", "empty", "nul", "long", "unknown", "twice", "extra", "surrogate"],
    )
    def test_bad_and_unknown_ids(self, client: Client, query: str, status: int) -> None:
        """A missing or unusable ID is a 400; an ID with nothing recorded a 404."""
        for path in ("/call", "/call/timeline.svg", "/call/graph.svg"):
            reply = client.get(f"{path}?{query}")
            assert reply.status == status, path
            if path == "/call":
                assert reply.html().xpath("//h1")[0].text_content() == str(status)


class TestUnattributedPage:
    """Webhooks that named no call, newest first, each with its reason."""

    def test_listed_newest_first_with_reasons(self, client: Client, journal: CallJournal) -> None:
        """Each is shown with its body as text and why it could not be read."""
        page = client.get("/unattributed").html()
        items = page.xpath("//ol[@class='records']/li")
        stored = journal.unattributed()
        assert [i.find_class("body")[0].text_content() for i in items] == [r.body for r in stored]
        assert all(i.find_class("problem") for i in items)
        assert "not valid UTF-8" in items[1].text_content()

    def test_paged(self, client: Client) -> None:
        """limit=1 gives one at a time, with a link to the older one."""
        first = client.get("/unattributed?limit=1")
        assert len(first.html().xpath("//ol[@class='records']/li")) == 1
        second = client.get(link(first, "Older"))
        assert len(second.html().xpath("//ol[@class='records']/li")) == 1
        assert not [a for a in second.html().iter("a") if a.get("rel") == "next"]


class TestJsonTwins:
    """Each page as JSON, with the fields of ``minivoice-flow calls ... --format json``."""

    def cli(self, capsys: pytest.CaptureFixture[str], *argv: str) -> Any:
        assert main(list(argv)) == 0
        return json.loads(capsys.readouterr().out)

    def test_calls(self, client: Client, recorded: str, capsys: pytest.CaptureFixture[str]) -> None:
        """The calls page's twin holds what ``calls list --format json`` prints."""
        twin = client.get("/calls?format=json").json()
        listed = self.cli(capsys, "calls", "list", "--db", recorded, "--format", "json")
        assert twin == {**listed, "next_before": None}
        assert [c["call_id"] for c in twin["calls"]] == list(NEWEST_FIRST)

    def test_call(self, client: Client, recorded: str, capsys: pytest.CaptureFixture[str]) -> None:
        """The call page's twin holds what ``calls show --format json`` prints."""
        twin = client.get(call_url("/call", HOSTILE_ID, format="json")).json()
        shown = self.cli(capsys, "calls", "show", HOSTILE_ID, "--db", recorded, "--format", "json")
        assert twin == {**shown, "more_records": 0}
        assert twin["last_step"]["description"] == OUTCOMES[HOSTILE_ID]

    def test_unattributed(
        self, client: Client, recorded: str, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """The unattributed page's twin holds what ``calls unattributed`` prints."""
        twin = client.get("/unattributed?format=json").json()
        listed = self.cli(capsys, "calls", "unattributed", "--db", recorded, "--format", "json")
        assert twin == {**listed, "unattributed": 2, "next_before": None}

    def test_accept_header(self, client: Client) -> None:
        """Accept: application/json asks for the twin; a browser's Accept gets HTML."""
        asked = client.get("/calls", ACCEPT="application/json")
        assert asked.json() == client.get("/calls?format=json").json()
        browser = "text/html,application/xhtml+xml,application/json;q=0.9,*/*;q=0.8"
        assert client.get("/calls", ACCEPT=browser).html() is not None
        assert client.get("/calls?format=html", ACCEPT="application/json").html() is not None

    def test_paging(self, client: Client) -> None:
        """next_before continues the list."""
        first = client.get("/calls?format=json&limit=4").json()
        rest = client.get(f"/calls?format=json&limit=4&before={first['next_before']}").json()
        assert [c["call_id"] for c in first["calls"] + rest["calls"]] == list(NEWEST_FIRST)
        assert rest["next_before"] is None

    def test_errors(self, client: Client) -> None:
        """An error is JSON too: its status and message."""
        reply = client.get("/call?id=call_nobody&format=json")
        assert reply.status == 404
        assert reply.json() == {
            "error": {"status": 404, "message": "nothing is recorded for the call 'call_nobody'"}
        }
        assert client.get("/nowhere", ACCEPT="application/json").json()["error"]["status"] == 404


class TestBadRequests:
    """Unknown routes are 404, bad parameters 400, wrong methods 405; never a traceback."""

    @pytest.mark.parametrize(
        "target",
        [
            "/calls?before=0",
            "/calls?before=abc",
            "/calls?before=99999999999999999999",
            "/calls?before=" + "9" * 5000,
            "/calls?limit=201",
            "/calls?limit=-1",
            "/calls?outcome=exploded",
            "/calls?format=xml",
            "/calls?q=" + "x" * 257,
            "/calls?q=%ff",
            "/calls?q=\xff",
            "/calls?q=a&q=b",
            "/calls?page=2",
            "/calls?" + "&".join(f"f{n}=1" for n in range(20)),
            "/calls?q=" + "a" * 5000,
            "/unattributed?before=x",
            "/static/support.css?v=1",
        ],
    )
    def test_bad_parameters_are_400(self, client: Client, target: str) -> None:
        """Each is refused with a message, as a page."""
        reply = client.get(target)
        assert reply.status == 400
        [message] = reply.html().find_class("warning")
        assert message.text_content()

    @pytest.mark.parametrize("path", ["/nowhere", "/calls/", "/CALLS", "/call/x", "/static/"])
    def test_unknown_routes_are_404(self, client: Client, path: str) -> None:
        assert client.get(path).status == 404

    @pytest.mark.parametrize(
        ("method", "path"), [("POST", "/calls"), ("DELETE", "/call"), ("GET", "/logout")]
    )
    def test_wrong_methods_are_405(self, client: Client, method: str, path: str) -> None:
        reply = client.request(method, path)
        assert reply.status == 405 and reply.headers["allow"]

    def test_head_is_served_like_get(self, client: Client) -> None:
        """HEAD answers as GET would (the server drops the body)."""
        assert client.request("HEAD", "/calls").status == 200

    def test_a_journal_that_fails_is_a_503(
        self, client: Client, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
    ) -> None:
        """A database that cannot be read is a 503 page saying so, and a log line."""

        def broken(*args: object, **kwargs: object) -> None:
            raise JournalError("call journal x: the database is locked")

        app = client.app
        assert isinstance(app, support_app.SupportApp)
        monkeypatch.setattr(app.journal, "recent", broken)
        reply = client.get("/calls")
        assert reply.status == 503
        assert "the database is locked" in reply.html().text_content()

    def test_a_bug_is_a_500_without_details(
        self, client: Client, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Any other exception is logged; the page says only that it failed."""

        def broken(*args: object, **kwargs: object) -> None:
            raise RuntimeError("secret detail")

        app = client.app
        assert isinstance(app, support_app.SupportApp)
        monkeypatch.setattr(app.journal, "last_step", broken)
        reply = client.get(call_url("/call", "call_7f3a9c01"))
        assert reply.status == 500
        assert b"secret" not in reply.body and b"Traceback" not in reply.body


def assert_inert(reply: Reply) -> None:
    """An HTML page that can run nothing: no script, no event handler, no inline style, and
    every link, source and form action a path of the application."""
    page = reply.html()
    assert b"<script" not in reply.body.lower()
    assert not page.xpath("//script | //style | //iframe | //object | //embed | //base")
    for element in page.iter():
        for name, value in element.attrib.items():
            assert not name.lower().startswith("on"), (element.tag, name)
            assert name.lower() != "style", element.tag
            if name in ("href", "src", "action"):
                assert value.startswith("/") and not value.startswith("//"), value
                assert urlsplit(value).scheme == "", value


def assert_inert_svg(svg: ET.Element) -> None:
    """A picture that can run nothing and link nowhere."""
    for element in svg.iter():
        assert element.tag.split("}")[-1] not in ("script", "foreignObject", "style", "a")
        for name in element.attrib:
            local = name.split("}")[-1].lower()
            assert not local.startswith("on") and local not in ("href", "style"), name


class TestHostileValues:
    """Every value that came from a webhook is shown as text, wherever it appears."""

    def test_the_calls_page(self, client: Client) -> None:
        """The hostile call's ID, numbers and step are text; its link carries the ID encoded."""
        reply = client.get("/calls")
        assert_inert(reply)
        text = reply.html().text_content()
        for value in (HOSTILE_ID, JAVASCRIPT_URL, ATTRIBUTE):
            assert value in text
        href = link(reply, HOSTILE_ID)
        assert href == "/call?" + urlencode({"id": HOSTILE_ID})

    def test_the_call_page(self, client: Client) -> None:
        """Bodies, errors, URLs, statuses and the flow's name: all text, none a link."""
        reply = client.get(call_url("/call", HOSTILE_ID))
        assert_inert(reply)
        text = reply.html().text_content()
        for value in (SCRIPT, IMAGE, JAVASCRIPT_URL, ATTRIBUTE, SCRIPT + IMAGE):
            assert value in text
        assert f"<code>{JAVASCRIPT_URL}</code>".encode() in reply.body
        assert next(img.get("alt") for img in reply.html().iter("img")).endswith(
            OUTCOMES[HOSTILE_ID]
        )

    def test_the_pictures(self, client: Client) -> None:
        """The timeline and the graph of the hostile call are inert and hold it as text."""
        timeline = client.get(call_url("/call/timeline.svg", HOSTILE_ID)).svg()
        assert_inert_svg(timeline)
        assert HOSTILE_ID in "".join(timeline.itertext())
        assert_inert_svg(client.get(call_url("/call/graph.svg", HOSTILE_ID)).svg())

    def test_the_unattributed_page_and_the_json(self, client: Client) -> None:
        """Junk bytes and hostile markup in unattributed webhooks are text; JSON is JSON."""
        reply = client.get("/unattributed")
        assert_inert(reply)
        assert IMAGE in reply.html().text_content()
        twin = client.get("/unattributed?format=json")
        assert b"<" not in twin.body and twin.json()["records"]

    def test_messages_with_hostile_parameters(self, client: Client) -> None:
        """A 400 or 404 naming what was asked for shows it as text."""
        for target in (call_url("/call", SCRIPT), "/calls?" + urlencode({SCRIPT: "1"})):
            reply = client.get(target)
            assert reply.status in (400, 404)
            assert_inert(reply)
            assert SCRIPT in reply.html().text_content()


class TestSecurityHeaders:
    """Every response forbids script, framing, sniffing and referrers."""

    @pytest.mark.parametrize(
        "target",
        [
            "/calls",
            call_url("/call", "call_7f3a9c01"),
            call_url("/call/timeline.svg", "call_7f3a9c01"),
            call_url("/call/graph.svg", "call_7f3a9c01"),
            "/unattributed",
            "/login",
            "/static/support.css",
            "/static/icon.svg",
            "/nowhere",
            "/calls?before=x",
            "/calls?format=json",
        ],
    )
    def test_on_every_route(self, client: Client, target: str) -> None:
        headers = client.get(target).headers
        policy = dict(
            ([*part.split(" ", 1), ""])[:2]
            for part in (p.strip() for p in headers["content-security-policy"].split(";"))
        )
        assert policy["default-src"] == "'none'" and policy["frame-ancestors"] == "'none'"
        assert policy["style-src"] == "'self'" and "script-src" not in policy
        assert "unsafe-inline" not in headers["content-security-policy"]
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["x-frame-options"] == "DENY"
        assert headers["referrer-policy"] == "no-referrer"

    def test_pages_are_not_cached(self, client: Client) -> None:
        """Call data is never kept by a browser or a proxy; the style sheet may be."""
        assert client.get("/calls").headers["cache-control"] == "no-store"
        assert "max-age" in client.get("/static/support.css").headers["cache-control"]


class TestReadOnly:
    """No route writes to the journal, whatever it is sent."""

    def test_every_route(self, guarded: Client, client: Client, recorded: str) -> None:
        """Every route, every method, signed in and not: the record count does not move."""
        before = count_records(recorded)
        for app in (client, guarded):
            for path in ROUTES:
                for method in ("GET", "HEAD", "POST", "PUT", "DELETE"):
                    for query in ("", "id=call_7f3a9c01", "q=call_7f3a9c01&format=json"):
                        reply = app.request(method, f"{path}?{query}", b"token=x")
                        assert reply.status < 500
            app.post_form("/login", {"token": TOKEN})
            app.request("POST", "/logout")
        assert count_records(recorded) == before


latin1 = st.text(st.characters(max_codepoint=255), max_size=60)
queries = st.one_of(
    latin1,
    st.lists(
        st.tuples(
            st.sampled_from(["id", "q", "outcome", "before", "limit", "format", "next", "x"]),
            st.text(max_size=30),
        ),
        max_size=5,
    ).map(lambda pairs: "&".join(f"{quote(k)}={quote(v)}" for k, v in pairs)),
)
header_names = st.sampled_from(
    ["ACCEPT", "COOKIE", "AUTHORIZATION", "CONTENT_TYPE", "CONTENT_LENGTH", "X_FORWARDED_FOR"]
)


class TestHostileRequests:
    """Whatever arrives (paths, query strings, headers, bodies), the answer is a page or a
    refusal, with the security headers, never a 500 or a traceback, and nothing is written."""

    @settings(
        max_examples=150,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(
        path=st.one_of(st.sampled_from(ROUTES), latin1.map(lambda text: "/" + text)),
        query=queries,
        method=st.sampled_from(["GET", "HEAD", "POST", "PUT", "OPTIONS", "GeT", "X"]),
        headers=st.dictionaries(header_names, latin1, max_size=4),
        body=st.binary(max_size=200),
        remote=st.sampled_from(["127.0.0.1", "::1", "10.0.0.7", "", "not an address"]),
        host=st.one_of(st.none(), latin1, st.sampled_from(["localhost", "[::1]:80", "evil.test"])),
        with_token=st.booleans(),
    )
    def test_never_a_traceback(
        self,
        client: Client,
        guarded: Client,
        recorded: str,
        path: str,
        query: str,
        method: str,
        headers: dict[str, str],
        body: bytes,
        remote: str,
        host: str | None,
        with_token: bool,
    ) -> None:
        before = count_records(recorded)
        app = guarded if with_token else client
        reply = app.request(
            method, f"{quote(path, safe='/')}?{query}", body, remote=remote, host=host, **headers
        )
        assert reply.status in {200, 303, 400, 401, 403, 404, 405, 411, 413, 415}, reply.status
        assert b"Traceback" not in reply.body
        assert reply.headers["x-content-type-options"] == "nosniff"
        assert "script-src" not in reply.headers["content-security-policy"]
        if reply.headers["content-type"].startswith("text/html"):
            assert_inert(reply)
        assert count_records(recorded) == before


class TestGate:
    """Loopback only without a token; with one, a bearer header or a signed-in browser."""

    @pytest.mark.parametrize(
        ("remote", "host", "status"),
        [
            ("127.0.0.1", "localhost:8080", 200),
            ("127.0.0.1", "127.0.0.1:8080", 200),
            ("::1", "[::1]:8080", 200),
            ("::ffff:127.0.0.1", "localhost", 200),
            ("127.0.0.1", None, 200),
            ("10.0.0.7", "localhost:8080", 403),
            ("", "localhost:8080", 403),
            ("127.0.0.1", "evil.example:8080", 403),
            ("127.0.0.1", "calls.example.com", 403),
        ],
    )
    def test_without_a_token_only_loopback(
        self, client: Client, remote: str, host: str | None, status: int
    ) -> None:
        """A client elsewhere, or a page reaching loopback through DNS rebinding (a Host
        header that is not a loopback name), is refused."""
        assert client.request("GET", "/calls", remote=remote, host=host).status == status

    def test_the_style_sheet_is_always_served(self, client: Client) -> None:
        """The login form needs its style sheet before anyone is let in."""
        assert client.request("GET", "/static/support.css", remote="10.0.0.7").status == 200

    def test_a_browser_is_sent_to_sign_in(self, guarded: Client) -> None:
        """No credentials: a page request goes to the login form, which comes back after."""
        reply = guarded.get("/calls?q=call_7f3a9c01", remote="10.0.0.7")
        assert reply.status == 303
        assert reply.headers["location"] == "/login?" + urlencode(
            {"next": "/calls?q=call_7f3a9c01"}
        )
        form = guarded.get(reply.headers["location"]).html()
        assert form.xpath("//input[@name='next']")[0].get("value") == "/calls?q=call_7f3a9c01"
        assert form.xpath("//input[@name='token']")[0].get("type") == "password"

    def test_a_program_is_told_to_send_the_token(self, guarded: Client) -> None:
        """No credentials on a JSON request: 401 with WWW-Authenticate."""
        reply = guarded.get("/calls?format=json")
        assert reply.status == 401 and reply.headers["www-authenticate"].startswith("Bearer")

    @pytest.mark.parametrize(
        ("authorization", "status"),
        [
            (f"Bearer {TOKEN}", 200),
            (f"bearer   {TOKEN} ", 200),
            (f"Bearer {TOKEN}x", 401),
            (f"Bearer {TOKEN[:-1]}", 401),
            (f"Basic {TOKEN}", 401),
            (TOKEN, 401),
            ("Bearer ", 401),
        ],
    )
    def test_bearer(self, guarded: Client, authorization: str, status: int) -> None:
        reply = guarded.get("/calls?format=json", AUTHORIZATION=authorization, remote="10.0.0.7")
        assert reply.status == status

    def test_signing_in_sets_a_strict_cookie(self, guarded: Client) -> None:
        """The right token: a session cookie (HttpOnly, SameSite=Strict), then the page."""
        reply = guarded.post_form("/login", {"token": TOKEN, "next": "/calls?q=x"})
        assert (reply.status, reply.headers["location"]) == (303, "/calls?q=x")
        cookie = reply.headers["set-cookie"]
        attributes = [part.strip() for part in cookie.split(";")]
        assert {"HttpOnly", "SameSite=Strict", "Path=/"} <= set(attributes)
        assert TOKEN not in cookie and "Secure" not in attributes
        session = attributes[0]
        page = guarded.get("/calls", COOKIE=f"other=1; {session}", remote="10.0.0.7")
        assert page.status == 200
        assert page.html().find_class("signout")
        assert guarded.get("/calls", COOKIE=session + "0").status == 303

    def test_over_https_the_cookie_is_secure(self, guarded: Client) -> None:
        reply = guarded.request(
            "POST",
            "/login",
            urlencode({"token": TOKEN}).encode(),
            CONTENT_TYPE="application/x-www-form-urlencoded",
        )
        assert "Secure" not in reply.headers["set-cookie"]
        body = urlencode({"token": TOKEN}).encode()
        app = guarded.app
        environ: dict[str, Any] = {
            "REQUEST_METHOD": "POST",
            "PATH_INFO": "/login",
            "CONTENT_TYPE": "application/x-www-form-urlencoded",
            "CONTENT_LENGTH": str(len(body)),
            "wsgi.input": io.BytesIO(body),
            "wsgi.url_scheme": "https",
        }
        setup_testing_defaults(environ)
        started: list[Any] = []
        app(environ, lambda status, headers: started.append(dict(headers)))
        assert "; Secure" in started[0]["Set-Cookie"]

    def test_a_wrong_token_is_refused(self, guarded: Client) -> None:
        """403 and the form again, with no cookie."""
        reply = guarded.post_form("/login", {"token": TOKEN + "!", "next": "/calls"})
        assert reply.status == 403 and "set-cookie" not in reply.headers
        assert "not the one" in reply.html().find_class("warning")[0].text_content()

    @pytest.mark.parametrize(
        "target",
        ["//evil.example/", "https://evil.example/", "javascript:alert(1)", "/\\evil", "calls"],
    )
    def test_signing_in_never_leaves_the_site(self, guarded: Client, target: str) -> None:
        """A ``next`` that is not a path of this application goes to the calls instead."""
        reply = guarded.post_form("/login", {"token": TOKEN, "next": target})
        assert reply.headers["location"] == "/calls"

    def test_the_token_is_compared_in_constant_time(
        self, guarded: Client, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Bearer headers, cookies and the form go through hmac.compare_digest."""
        compared: list[tuple[bytes, bytes]] = []
        real = hmac.compare_digest

        def spy(a: bytes, b: bytes) -> bool:
            compared.append((a, b))
            return real(a, b)

        monkeypatch.setattr(hmac, "compare_digest", spy)
        guarded.get("/calls", AUTHORIZATION=f"Bearer {TOKEN}")
        guarded.post_form("/login", {"token": "wrong-token-of-some-length"})
        assert (TOKEN.encode(), TOKEN.encode()) in compared
        assert (b"wrong-token-of-some-length", TOKEN.encode()) in compared

    def test_signing_out(self, guarded: Client) -> None:
        """Sign out clears the cookie and goes to the form."""
        reply = guarded.request("POST", "/logout")
        assert reply.status == 303 and reply.headers["location"] == "/login"
        assert "Max-Age=0" in reply.headers["set-cookie"]

    def test_login_without_a_token_goes_to_the_calls(self, client: Client) -> None:
        assert client.get("/login").headers["location"] == "/calls"

    @pytest.mark.parametrize(
        ("body", "headers", "status"),
        [
            (b"token=" + b"x" * 5000, {"CONTENT_TYPE": "application/x-www-form-urlencoded"}, 413),
            (b"token=x", {"CONTENT_TYPE": "text/plain"}, 415),
            (b"token=%ff", {"CONTENT_TYPE": "application/x-www-form-urlencoded"}, 400),
            (b"token=\xff", {"CONTENT_TYPE": "application/x-www-form-urlencoded"}, 400),
            (b"token=a&token=b", {"CONTENT_TYPE": "application/x-www-form-urlencoded"}, 400),
            (b"user=a", {"CONTENT_TYPE": "application/x-www-form-urlencoded"}, 400),
            (
                b"token=x",
                {"CONTENT_TYPE": "application/x-www-form-urlencoded", "CONTENT_LENGTH": "99"},
                400,
            ),
        ],
        ids=["too-big", "not-a-form", "bad-escape", "not-utf8", "twice", "unknown", "short"],
    )
    def test_bad_forms(
        self, guarded: Client, body: bytes, headers: dict[str, str], status: int
    ) -> None:
        """The login form is read strictly: small, urlencoded UTF-8, its own fields once."""
        assert guarded.request("POST", "/login", body, **headers).status == status

    @pytest.mark.parametrize(
        "token", ["short", "has spaces in it, long", "tab\tinside-the-token", "ünïcode-token-long"]
    )
    def test_a_weak_token_is_refused(self, journal: CallJournal, token: str) -> None:
        with pytest.raises(ValueError, match="token must be at least 16 characters"):
            make_app(journal, token=token)


class TestMakeApp:
    """make_app and from_environment check what they are given."""

    @pytest.mark.parametrize("size", [0, 201, True, 1.5])
    def test_page_size(self, journal: CallJournal, size: Any) -> None:
        with pytest.raises(ValueError, match="page_size"):
            make_app(journal, page_size=size)

    def test_flows_of_the_wrong_kind(self, journal: CallJournal) -> None:
        with pytest.raises(ValueError, match="flows must be a FlowSet or a FlowGraph"):
            make_app(journal, flows=[support_line()])  # type: ignore[arg-type]

    def test_a_graph_is_taken_as_it_is(self, journal: CallJournal, line: FlowSet) -> None:
        app = Client(make_app(journal, line.graph()))
        assert app.get(call_url("/call/graph.svg", "call_7f3a9c01")).status == 200

    def test_mounted_under_a_prefix(self, journal: CallJournal) -> None:
        """Under a WSGI server that mounts it at /support, every link, redirect and cookie
        path carries the prefix."""
        mounted = Client(make_app(journal, token=TOKEN))
        reply = mounted.get("/calls", SCRIPT_NAME="/support", host="x")
        assert reply.headers["location"] == "/support/login?next=%2Fcalls"
        signed = mounted.post_form("/login", {"token": TOKEN}, SCRIPT_NAME="/support")
        assert signed.headers["location"] == "/support/calls"
        assert "Path=/support/" in signed.headers["set-cookie"]
        page = mounted.get("/calls", SCRIPT_NAME="/support", AUTHORIZATION=f"Bearer {TOKEN}")
        links = [a.get("href") for a in page.html().iter("a")]
        assert links and all(href.startswith("/support/") for href in links)
        assert "/support/call?id=call_7f3a9c01" in links

    def test_page_size_is_the_default_limit(self, journal: CallJournal) -> None:
        reply = Client(make_app(journal, page_size=3)).get("/calls")
        assert len(calls_listed(reply)) == 3

    def test_from_environment(self, recorded: str, monkeypatch: pytest.MonkeyPatch) -> None:
        """The journal from MINIVOICE_JOURNAL (never created), the token from its variable."""
        monkeypatch.setenv("MINIVOICE_JOURNAL", recorded)
        monkeypatch.setenv("MINIVOICE_SUPPORT_TOKEN", TOKEN)
        made = from_environment()
        assert isinstance(made, support_app.SupportApp)
        app = Client(made)
        try:
            assert app.get("/calls?format=json").status == 401
            assert app.get("/calls", AUTHORIZATION=f"Bearer {TOKEN}").status == 200
        finally:
            made.journal.close()
        monkeypatch.delenv("MINIVOICE_JOURNAL")
        with pytest.raises(ValueError, match="MINIVOICE_JOURNAL"):
            from_environment()


@given(st.text(max_size=300))
def test_the_pages_take_the_call_ids_the_journal_takes(text: str) -> None:
    """A call page refuses an ID (400) exactly when the journal would refuse to look it up."""
    with CallJournal(":memory:") as journal:
        try:
            journal.last_step(text)
        except JournalError:
            journal_takes = False
        else:
            journal_takes = True
    assert support_app._usable_call_id(text) == journal_takes or not _utf8(text)


def _utf8(text: str) -> bool:
    """Text a query string can carry (strict UTF-8 has no lone surrogates)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
