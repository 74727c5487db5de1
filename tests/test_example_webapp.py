"""The example web handler (examples/webapp.py): in process, and over real HTTP on loopback."""

from __future__ import annotations

import io
import json
import logging
import socket
import sqlite3
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import urlsplit
from wsgiref.util import setup_testing_defaults

import pytest

from minivoice_flow.fallback import FlowSet
from minivoice_flow.journal import CallJournal, Outcome
from tests.journal_worker import webhook_for


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


# Raw HTTP over loopback sockets: what a hostile or broken client can send.


@contextmanager
def running(webapp: ModuleType, journal: CallJournal, **limits: Any) -> Iterator[Any]:
    """The example app on a real server on a free loopback port, with ``limits``."""
    server = webapp.make_server(webapp.make_app(journal), "127.0.0.1", 0, quiet=True, **limits)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


class Reply:
    """An HTTP response as read off the socket."""

    def __init__(self, raw: bytes) -> None:
        head, _, self.body = raw.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        self.status = int(lines[0].split()[1])
        self.headers = {k.lower(): v.strip() for k, _, v in (x.partition(":") for x in lines[1:])}

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def message(self) -> str:
        message: str = self.json()["error"]["message"]
        return message


def exchange(port: int, data: bytes, *, finish: bool = True, timeout: float = 15) -> Reply:
    """Send ``data`` (then half-close unless ``finish`` is False) and read to the end."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        if finish:
            sock.shutdown(socket.SHUT_WR)
        return Reply(read_all(sock))


def read_all(sock: socket.socket) -> bytes:
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


def post(path: str, body: bytes, *headers: str, length: bool = True) -> bytes:
    """The bytes of a POST request; ``headers`` are extra "Name: value" lines."""
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", *headers]
    if length:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def chunked(*pieces: bytes, last: bytes = b"0\r\n\r\n") -> bytes:
    return b"".join(b"%x\r\n%s\r\n" % (len(piece), piece) for piece in pieces) + last


WEBHOOK = webhook_for("call_9").encode()


class TestChunkedBodies:
    """Transfer-Encoding: chunked is read chunk by chunk, or refused; never stored empty."""

    @pytest.mark.parametrize("coding", ["chunked", "Chunked", " chunked "])
    def test_a_chunked_webhook_is_stored_whole(
        self, webapp: ModuleType, journal: CallJournal, coding: str
    ) -> None:
        """The chunks (with an extension and a trailer) are joined into the stored body."""
        body = chunked(WEBHOOK[:10], WEBHOOK[10:200], WEBHOOK[200:], last=b"0\r\nX-T: 1\r\n\r\n")
        body = body.replace(b"\r\n", b";name=value\r\n", 1)
        with running(webapp, journal) as server:
            reply = exchange(
                server.server_port,
                post("/webhooks", body, f"Transfer-Encoding:{coding}", length=False),
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
        ("body", "says"),
        [
            (b"zz\r\nabc\r\n0\r\n\r\n", "size in hex"),
            (b"-3\r\nabc\r\n0\r\n\r\n", "size in hex"),
            (b"0x3\r\nabc\r\n0\r\n\r\n", "size in hex"),
            (b"\r\nabc\r\n0\r\n\r\n", "size in hex"),
            (b"3\r\nabcdef\r\n0\r\n\r\n", "must end with CRLF"),
            (b"10\r\nabc", "before its last chunk"),
            (b"3\r\nabc\r\n", "before its last chunk"),
            (b"3\r\nabc\r\n0\r\n", "before its last chunk"),
            (b"", "before its last chunk"),
        ],
        ids=[
            "hex",
            "negative",
            "0x",
            "empty-size",
            "long-chunk",
            "cut",
            "no-last",
            "no-end",
            "none",
        ],
    )
    def test_a_broken_chunked_body_is_a_400_and_not_stored(
        self, webapp: ModuleType, journal: CallJournal, body: bytes, says: str
    ) -> None:
        """Every way a chunked body can be cut short or garbled is refused, storing nothing."""
        with running(webapp, journal) as server:
            reply = exchange(
                server.server_port,
                post("/webhooks", body, "Transfer-Encoding: chunked", length=False),
            )
        assert reply.status == 400 and says in reply.message
        assert stored(journal) == 0

    @pytest.mark.parametrize(
        "body",
        [
            b"7d1\r\n" + b"a" * 2001 + b"\r\n0\r\n\r\n",
            chunked(b"a" * 600, b"b" * 600),
            b"ffffffffffffffff\r\n",
        ],
        ids=["one-chunk", "two-chunks", "huge-size"],
    )
    def test_a_chunked_body_over_the_limit_is_refused_before_reading(
        self, webapp: ModuleType, journal: CallJournal, body: bytes
    ) -> None:
        """The chunk that would pass the limit is refused (413) from its size line."""
        with running(webapp, journal, max_body_bytes=1000) as server:
            reply = exchange(
                server.server_port,
                post("/webhooks", body, "Transfer-Encoding: chunked", length=False),
            )
        assert reply.status == 413 and stored(journal) == 0

    @pytest.mark.parametrize(
        ("headers", "status"),
        [
            (["Transfer-Encoding: gzip"], 501),
            (["Transfer-Encoding: gzip, chunked"], 501),
            (["Transfer-Encoding: chunked", "Transfer-Encoding: chunked"], 501),
            (["Transfer-Encoding: chunked", "Content-Length: 5"], 400),
        ],
    )
    def test_other_framings_are_refused(
        self, webapp: ModuleType, journal: CallJournal, headers: list[str], status: int
    ) -> None:
        """Codings other than chunked are 501; chunked with a Content-Length is 400."""
        with running(webapp, journal) as server:
            reply = exchange(
                server.server_port, post("/webhooks", chunked(WEBHOOK), *headers, length=False)
            )
        assert reply.status == status and stored(journal) == 0

    def test_chunked_on_http_1_0_is_refused(self, webapp: ModuleType, journal: CallJournal) -> None:
        """HTTP/1.0 has no chunked bodies."""
        data = post("/webhooks", chunked(WEBHOOK), "Transfer-Encoding: chunked", length=False)
        with running(webapp, journal) as server:
            reply = exchange(server.server_port, data.replace(b"HTTP/1.1", b"HTTP/1.0", 1))
        assert reply.status == 501 and stored(journal) == 0


class TestContentLength:
    """A body is exactly its Content-Length, within the limit, or it is refused."""

    @pytest.mark.parametrize("path", ["/webhooks", "/answer"])
    def test_a_body_shorter_than_its_length_is_a_400(
        self, webapp: ModuleType, journal: CallJournal, path: str
    ) -> None:
        """The client stops sending (and half-closes) 10 bytes into 100: 400, not stored."""
        data = post(path, WEBHOOK[:10], "Content-Length: 100", length=False)
        with running(webapp, journal) as server:
            reply = exchange(server.server_port, data)
        assert reply.status == 400
        assert reply.message == "the body ended after 10 of its 100 bytes"
        assert stored(journal) == 0

    def test_a_body_that_stops_arriving_is_a_400_after_the_timeout(
        self, webapp: ModuleType, journal: CallJournal
    ) -> None:
        """A client that keeps the connection open but sends no more gets 400 in time."""
        data = post("/webhooks", WEBHOOK[:10], "Content-Length: 100", length=False)
        with running(webapp, journal, timeout=0.5) as server:
            started = time.monotonic()
            reply = exchange(server.server_port, data, finish=False)
        assert time.monotonic() - started < 5
        assert reply.status == 400 and "after 10 bytes, before its 100 bytes" in reply.message
        assert stored(journal) == 0

    @pytest.mark.parametrize("length", ["1001", "99999999999999999999"])
    def test_a_length_over_the_limit_is_refused_before_the_body(
        self, webapp: ModuleType, journal: CallJournal, length: str
    ) -> None:
        """413 comes back from the headers alone: the client never sends the body."""
        data = post("/webhooks", b"", f"Content-Length: {length}", length=False)
        with running(webapp, journal, max_body_bytes=1000) as server:
            reply = exchange(server.server_port, data)
        assert reply.status == 413 and stored(journal) == 0

    def test_the_default_limit_is_a_mebibyte(
        self, webapp: ModuleType, journal: CallJournal
    ) -> None:
        """Without options, a body over 1 MiB is refused unread."""
        data = post("/webhooks", b"", f"Content-Length: {1024 * 1024 + 1}", length=False)
        with running(webapp, journal) as server:
            assert exchange(server.server_port, data).status == 413

    @pytest.mark.parametrize(
        "headers",
        [
            ["Content-Length: abc"],
            ["Content-Length: -1"],
            ["Content-Length: 1.5"],
            ["Content-Length: +5"],
            ["Content-Length: 5, 6"],
            ["Content-Length: 5", "Content-Length: 6"],
            ["Content-Length : 5"],
            ["Content-Length: \u0665"],
        ],
    )
    def test_a_bad_length_is_a_400(
        self, webapp: ModuleType, journal: CallJournal, headers: list[str]
    ) -> None:
        """A Content-Length that is not one plain number is refused."""
        data = post("/webhooks", b"hello", *headers, length=False)
        with running(webapp, journal) as server:
            reply = exchange(server.server_port, data.replace("\u0665".encode(), b"\xd9\xa5"))
        assert reply.status == 400 and stored(journal) == 0

    def test_no_length_at_all_is_a_411(self, webapp: ModuleType, journal: CallJournal) -> None:
        """A POST that says neither its length nor chunked is refused, not stored empty."""
        with running(webapp, journal) as server:
            reply = exchange(server.server_port, post("/webhooks", b"{}", length=False))
        assert reply.status == 411 and stored(journal) == 0

    def test_expect_100_continue(self, webapp: ModuleType, journal: CallJournal) -> None:
        """A client that asks first gets 100 Continue, then its answer."""
        head = post(
            "/webhooks",
            b"",
            "Expect: 100-continue",
            f"Content-Length: {len(WEBHOOK)}",
            length=False,
        )
        with (
            running(webapp, journal) as server,
            socket.create_connection(("127.0.0.1", server.server_port), timeout=15) as sock,
        ):
            sock.sendall(head)
            assert sock.recv(100) == b"HTTP/1.1 100 Continue\r\n\r\n"
            sock.sendall(WEBHOOK)
            reply = Reply(read_all(sock))
        assert reply.status == 200 and len(journal.timeline("call_9")) == 1

    def test_no_100_continue_for_a_body_over_the_limit(
        self, webapp: ModuleType, journal: CallJournal
    ) -> None:
        """The 413 comes instead of 100 Continue."""
        head = post("/webhooks", b"", "Expect: 100-continue", "Content-Length: 5000", length=False)
        with running(webapp, journal, max_body_bytes=1000) as server:
            assert exchange(server.server_port, head).status == 413


class TestSlowAndManyClients:
    """Slow clients are cut off in time and cost no thread; the server stays up."""

    def test_a_head_that_never_ends_is_a_408(
        self, webapp: ModuleType, journal: CallJournal
    ) -> None:
        """Half a request line, then silence: 408 once the timeout passes."""
        with running(webapp, journal, timeout=0.5) as server:
            started = time.monotonic()
            reply = exchange(
                server.server_port, b"POST /webhooks HTTP/1.1\r\nHost: x", finish=False
            )
        assert reply.status == 408 and time.monotonic() - started < 5

    def test_a_client_that_sends_nothing_is_dropped(
        self, webapp: ModuleType, journal: CallJournal
    ) -> None:
        """An idle connection is closed once the timeout passes."""
        with (
            running(webapp, journal, timeout=0.5) as server,
            socket.create_connection(("127.0.0.1", server.server_port), timeout=15) as sock,
        ):
            started = time.monotonic()
            data = read_all(sock)
        assert time.monotonic() - started < 5
        assert data == b"" or data.startswith(b"HTTP/1.1 408")

    def test_headers_over_the_limit_are_a_431(
        self, webapp: ModuleType, journal: CallJournal
    ) -> None:
        """A head longer than the header limit is refused."""
        data = post("/webhooks", b"{}", "X-Big: " + "a" * (webapp.MAX_HEADER_BYTES + 10))
        with running(webapp, journal) as server:
            assert exchange(server.server_port, data).status == 431

    def test_a_thousand_slow_clients_hold_no_threads(
        self, webapp: ModuleType, journal: CallJournal, line: FlowSet
    ) -> None:
        """1000 connections sending half a request add no thread and are each answered, 408
        at the timeout or 503 past the connection limit; the server serves on meanwhile."""
        with running(webapp, journal, timeout=1.5, max_connections=200, workers=4) as server:
            port = server.server_port
            threads_before = threading.active_count()
            slow = []
            try:
                for _ in range(1000):
                    sock = socket.create_connection(("127.0.0.1", port), timeout=15)
                    sock.sendall(b"POST /webhooks HTTP/1.1\r\nContent-Le")
                    slow.append(sock)
                time.sleep(0.3)
                assert threading.active_count() <= threads_before + 4
                # Meanwhile a request is answered at once: served, or told to come back.
                started = time.monotonic()
                meanwhile = exchange(port, post("/answer", request_body("call_1")))
                assert meanwhile.status in (200, 503) and time.monotonic() - started < 1.0
                statuses = {Reply(read_all(sock)).status for sock in slow}
                assert statuses <= {408, 503} and 408 in statuses
                assert threading.active_count() <= threads_before + 4
            finally:
                for sock in slow:
                    sock.close()
            ok = exchange(port, post("/answer", request_body("call_2")))
            assert (ok.status, ok.json()) == (200, line.entry.to_dict())
        assert stored(journal) == (meanwhile.status == 200) + 1

    def test_past_the_connection_limit_the_answer_is_503(
        self, webapp: ModuleType, journal: CallJournal
    ) -> None:
        """With every connection slot held, one more is told 503 with Retry-After."""
        with running(webapp, journal, timeout=3, max_connections=3) as server:
            port = server.server_port
            held = [socket.create_connection(("127.0.0.1", port), timeout=15) for _ in range(3)]
            try:
                for sock in held:
                    sock.sendall(b"POST /webhooks HTTP/1.1\r\n")
                time.sleep(0.3)  # all three accepted and waiting for the rest of their heads
                busy = exchange(port, post("/webhooks", WEBHOOK))
            finally:
                for sock in held:
                    sock.close()
        assert busy.status == 503 and busy.headers["retry-after"] == "1"
        assert stored(journal) == 0


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
