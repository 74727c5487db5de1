"""The example web handler (examples/webapp.py): in process, and over real HTTP on loopback."""

from __future__ import annotations

import io
import json
import logging
import sqlite3
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import urlsplit
from wsgiref.util import setup_testing_defaults

import pytest

import minivoice_flow.wsgi
from minivoice_flow.fallback import FlowSet
from minivoice_flow.journal import CallJournal, Outcome
from tests.journal_worker import webhook_for
from tests.test_wsgi import chunked, exchange, post
from tests.test_wsgi import running as serving


@pytest.fixture
def line(webapp: ModuleType) -> FlowSet:
    flows: FlowSet = webapp.SUPPORT_LINE
    return flows


def request_body(
    call_id: str, variables: dict[str, str] | None = None, status: str = "in_progress"
) -> bytes:
    """MiniVoice's request for actions, as modelled: the call and its variables."""
    call = json.loads(webhook_for(call_id, status))["call"]
    return json.dumps({"call": call, "variables": variables or {}}).encode()


class Client:
    """Calls the WSGI application directly, as a server would."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def post(self, path: str, body: bytes, method: str = "POST", **headers: str) -> tuple[int, Any]:
        environ: dict[str, Any] = {
            "REQUEST_METHOD": method,
            "PATH_INFO": path,
            "CONTENT_LENGTH": str(len(body)),
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": io.StringIO(),
            **headers,
        }
        setup_testing_defaults(environ)
        status: list[str] = []
        chunks = self.app(environ, lambda s, headers: status.append(s))
        return int(status[0].split()[0]), json.loads(b"".join(chunks))


def path_of(url: str) -> str:
    return urlsplit(url).path


def redirect_path(payload: dict[str, Any]) -> str:
    return path_of(payload["actions"][-1]["redirect"]["url"])


@pytest.fixture
def client(webapp: ModuleType, journal: CallJournal) -> Client:
    return Client(webapp.make_app(journal))


class TestSupportLineFlows:
    """The example's flows are complete: every URL they point at is served."""

    def test_closed(self, line: FlowSet) -> None:
        assert line.targets() and line.unserved() == frozenset()

    def test_every_target_is_answered(self, client: Client, line: FlowSet) -> None:
        for url in line.targets():
            code, payload = client.post(path_of(url), request_body("call_1"))
            assert code == 200 and payload["actions"], url


class TestInProcess:
    """The WSGI app serves each step, records it, and stores every webhook."""

    def test_answer_serves_the_menu_and_records_it(
        self, client: Client, line: FlowSet, journal: CallJournal
    ) -> None:
        code, payload = client.post("/answer", request_body("call_1", status="ringing"))
        assert (code, payload) == (200, line.entry.to_dict())
        [record] = journal.timeline("call_1")
        assert (record.flow_name, record.url, record.status) == (
            "support_menu",
            line.entry_url,
            "ringing",
        )

    def test_menu_choice_then_pin(self, client: Client, journal: CallJournal) -> None:
        _, menu = client.post("/answer", request_body("call_1"))
        _, pin = client.post(redirect_path(menu), request_body("call_1", {"support_menu": "1"}))
        _, again = client.post(redirect_path(pin), request_body("call_1", {"account_pin": "12"}))
        _, done = client.post(redirect_path(again), request_body("call_1", {"account_pin": "1234"}))
        assert done["actions"][-1] == {"hangup": {}}
        steps = [r.flow_name for r in journal.timeline("call_1")]
        assert steps == ["support_menu", "account_pin", "account_pin_retry_1", "pin_accepted"]

    def test_no_input_reaches_an_agent_then_busy(
        self, client: Client, journal: CallJournal
    ) -> None:
        _, flow = client.post("/answer", request_body("call_1"))
        while "redirect" in flow["actions"][-1]:
            _, flow = client.post(redirect_path(flow), request_body("call_1"))
        fallback = flow["actions"][1]["transfer"]["fallback_url"]
        _, busy = client.post(path_of(fallback), request_body("call_1", status="busy"))
        client.post("/webhooks", webhook_for("call_1").encode())
        last = journal.last_step("call_1")
        assert last is not None
        assert (last.step, last.outcome) == ("support_agent_busy", Outcome.COMPLETED)
        assert busy["actions"][0]["play"]["url"].endswith("/all-agents-busy.wav")

    def test_a_malformed_webhook_is_stored_and_acknowledged(
        self, client: Client, journal: CallJournal
    ) -> None:
        code, reply = client.post("/webhooks", b'{"event": "call.completed", "call": {"id": 7}}')
        assert code == 200 and reply["read"] is False
        assert {p["path"] for p in reply["problems"]} >= {"/created_at", "/call/id"}
        [stored] = journal.unattributed()
        assert stored.id == reply["stored"] and stored.body.startswith('{"event"')

    def test_a_readable_webhook(self, client: Client, journal: CallJournal) -> None:
        code, reply = client.post("/webhooks", webhook_for("call_1").encode())
        assert (code, reply["read"]) == (200, True)
        assert journal.timeline("call_1")[0].id == reply["stored"]

    def test_unreadable_request_is_a_400_with_details(self, client: Client) -> None:
        code, reply = client.post("/answer", b'{"variables": {}}')
        assert code == 400
        assert reply["error"]["details"][0]["path"] == "/call"

    def test_unknown_path_and_wrong_method(self, client: Client) -> None:
        assert client.post("/nowhere", b"{}")[0] == 404
        assert client.post("/answer", b"", method="GET")[0] == 405


class TestOverHttp:
    """The same app behind a real HTTP server on a loopback port."""

    @pytest.fixture
    def base(self, served: str) -> str:
        return served

    def post(self, url: str, body: bytes) -> tuple[int, Any]:
        request = urllib.request.Request(
            url, data=body, headers={"Content-Type": "application/json"}, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    def test_a_call_where_the_caller_hangs_up(self, base: str, journal: CallJournal) -> None:
        code, menu = self.post(f"{base}/answer", request_body("call_7"))
        assert code == 200 and menu["actions"][1] == {
            "collect": {"variable": "support_menu", "max_digits": 1, "timeout_ms": 6000}
        }
        code, _retry = self.post(base + redirect_path(menu), request_body("call_7"))
        assert code == 200
        code, reply = self.post(f"{base}/webhooks", webhook_for("call_7").encode())
        assert (code, reply["read"]) == (200, True)
        last = journal.last_step("call_7")
        assert last is not None
        assert last.describe() == "caller hung up during step 'support_menu_retry_1'"

    def test_malformed_webhook_over_http(self, base: str, journal: CallJournal) -> None:
        code, reply = self.post(f"{base}/webhooks", b"\xff\xfe garbage")
        assert (code, reply["read"]) == (200, False)
        assert journal.unattributed()[0].raw == b"\xff\xfe garbage"

    def test_errors_over_http(self, base: str) -> None:
        assert self.post(f"{base}/nowhere", b"{}")[0] == 404
        assert self.post(f"{base}/answer", b"not json")[0] == 400


def stored(journal: CallJournal) -> int:
    """How many records the journal holds, attributed or not."""
    calls = journal.recent(limit=10_000)
    return len(journal.unattributed()) + sum(len(journal.timeline(c.call_id)) for c in calls)


class TestBodiesInProcess:
    """Behind any WSGI server, the app takes only a whole body of a stated length."""

    def test_a_body_shorter_than_its_length_is_refused(
        self, client: Client, journal: CallJournal
    ) -> None:
        """wsgi.input ending before CONTENT_LENGTH is a 400, and nothing is stored."""
        code, reply = client.post("/webhooks", b"{}", CONTENT_LENGTH="100")
        assert code == 400 and "ended after 2 of its 100 bytes" in reply["error"]["message"]
        assert stored(journal) == 0

    @pytest.mark.parametrize(
        "headers",
        [{"HTTP_TRANSFER_ENCODING": "chunked"}, {"CONTENT_LENGTH": ""}],
        ids=["chunked", "no-length"],
    )
    def test_a_body_of_unknown_length_is_refused(
        self, client: Client, journal: CallJournal, headers: dict[str, str]
    ) -> None:
        """A server passing chunked framing through, or no length, gets 411, never storage."""
        assert client.post("/webhooks", b"", **headers)[0] == 411
        assert stored(journal) == 0

    def test_a_body_over_the_limit_is_refused_unread(
        self, webapp: ModuleType, client: Client, journal: CallJournal
    ) -> None:
        """A Content-Length over the limit is a 413 without reading the body."""
        code, _ = client.post("/webhooks", b"", CONTENT_LENGTH=str(webapp.MAX_BODY_BYTES + 1))
        assert code == 413 and stored(journal) == 0


# Raw HTTP over loopback sockets: the server's refusals (tests/test_wsgi.py) hold for the
# example, and what is refused is never stored.


def running(webapp: ModuleType, journal: CallJournal, **limits: Any) -> Any:
    """The example app on the library's server on a free loopback port, with ``limits``."""
    return serving(webapp.make_app(journal), **limits)


WEBHOOK = webhook_for("call_9").encode()


class TestOverRawHttp:
    """Chunked bodies are stored whole; bodies cut short or too long are never stored."""

    def test_the_example_runs_on_the_library_server(self, webapp: ModuleType) -> None:
        """The example keeps its app and takes the server from minivoice_flow.wsgi."""
        assert webapp.make_server is minivoice_flow.wsgi.make_server

    def test_a_chunked_webhook_is_stored_whole(
        self, webapp: ModuleType, journal: CallJournal
    ) -> None:
        """The chunks are joined into the stored body."""
        body = chunked(WEBHOOK[:10], WEBHOOK[10:200], WEBHOOK[200:])
        with running(webapp, journal) as server:
            reply = exchange(
                server.server_port,
                post("/webhooks", body, "Transfer-Encoding: chunked", length=False),
            )
        assert (reply.status, reply.json()["read"]) == (200, True)
        [record] = journal.timeline("call_9")
        assert record.body == WEBHOOK.decode()

    def test_a_chunked_request_for_actions_is_answered(
        self, webapp: ModuleType, journal: CallJournal, line: FlowSet
    ) -> None:
        """The answer_url takes a chunked body like any other."""
        body = request_body("call_3")
        data = post(
            "/answer", chunked(body[:7], body[7:]), "Transfer-Encoding: chunked", length=False
        )
        with running(webapp, journal) as server:
            reply = exchange(server.server_port, data)
        assert (reply.status, reply.json()) == (200, line.entry.to_dict())

    @pytest.mark.parametrize(
        ("data", "status"),
        [
            (post("/webhooks", WEBHOOK[:10], "Content-Length: 100", length=False), 400),
            (post("/webhooks", b"3\r\nabc\r\n", "Transfer-Encoding: chunked", length=False), 400),
            (post("/webhooks", b"", "Content-Length: 2000000", length=False), 413),
            (post("/webhooks", b"{}", length=False), 411),
            (post("/webhooks", chunked(WEBHOOK), "Transfer-Encoding: gzip", length=False), 501),
        ],
        ids=["short", "chunks-cut", "too-long", "no-length", "gzip"],
    )
    def test_a_refused_body_is_never_stored(
        self, webapp: ModuleType, journal: CallJournal, data: bytes, status: int
    ) -> None:
        """Short, cut, oversized, unframed or oddly coded: refused, and the journal is empty."""
        with running(webapp, journal) as server:
            assert exchange(server.server_port, data).status == status
        assert stored(journal) == 0

    def test_a_slow_client_is_cut_off(self, webapp: ModuleType, journal: CallJournal) -> None:
        """A body that stops arriving is a 400 after --timeout, and nothing is stored."""
        data = post("/webhooks", WEBHOOK[:10], "Content-Length: 100", length=False)
        with running(webapp, journal, timeout=0.5) as server:
            reply = exchange(server.server_port, data, finish=False)
        assert reply.status == 400 and stored(journal) == 0


class TestJournalFailures:
    """When the journal fails, the failure is logged and the caller is still answered."""

    @pytest.fixture
    def locked(self, tmp_path: Path) -> Iterator[CallJournal]:
        """A file journal whose database another connection holds locked for writing."""
        path = tmp_path / "calls.db"
        with CallJournal(path, timeout=0.05) as journal:
            journal.record_webhook(webhook_for("call_0"))
            blocker = sqlite3.connect(path, isolation_level=None)
            blocker.execute("BEGIN EXCLUSIVE")
            try:
                yield journal
            finally:
                blocker.execute("ROLLBACK")
                blocker.close()

    def test_the_caller_still_gets_the_flow(
        self,
        webapp: ModuleType,
        locked: CallJournal,
        line: FlowSet,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        """A journal that cannot be written costs a log line, not the caller's answer."""
        with caplog.at_level(logging.ERROR, logger="webapp"), running(webapp, locked) as server:
            reply = exchange(server.server_port, post("/answer", request_body("call_5")))
        assert (reply.status, reply.json()) == (200, line.entry.to_dict())
        assert any(
            "could not record the response to call 'call_5'" in r.getMessage()
            for r in caplog.records
        )

    def test_a_webhook_that_cannot_be_stored_is_a_503_to_send_again(
        self, webapp: ModuleType, locked: CallJournal, caplog: pytest.LogCaptureFixture
    ) -> None:
        """MiniVoice is told to retry (503, Retry-After), and the failure is logged."""
        with caplog.at_level(logging.ERROR, logger="webapp"), running(webapp, locked) as server:
            reply = exchange(server.server_port, post("/webhooks", WEBHOOK))
        assert reply.status == 503 and reply.headers["retry-after"] == "5"
        assert "send it again" in reply.message
        assert any("could not store a webhook" in r.getMessage() for r in caplog.records)

    def test_a_journal_that_cannot_be_reopened_is_handled_the_same(
        self, webapp: ModuleType, tmp_path: Path, line: FlowSet, caplog: pytest.LogCaptureFixture
    ) -> None:
        """A database gone (a directory now stands at its path): logged, the caller answered."""
        path = tmp_path / "calls.db"
        with CallJournal(path) as journal:
            journal.close()
            for leftover in tmp_path.iterdir():
                leftover.unlink()
            path.mkdir()
            with (
                caplog.at_level(logging.ERROR, logger="webapp"),
                running(webapp, journal) as server,
            ):
                answer = exchange(server.server_port, post("/answer", request_body("call_6")))
                hook = exchange(server.server_port, post("/webhooks", WEBHOOK))
        assert (answer.status, answer.json()) == (200, line.entry.to_dict())
        assert hook.status == 503
        assert len(caplog.records) == 2
