"""minivoice_flow.wsgi: the small hardened server, over raw sockets on loopback.

Each test serves a recording WSGI application on a free loopback port and sends what a
hostile or broken client can send. The application is never called for a refused request.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from minivoice_flow.wsgi import MAX_BODY_BYTES, MAX_HEADER_BYTES, Server, StartResponse, make_server

BODY = json.dumps({"event": "call.completed", "call": {"id": "call_9"}, "pad": "x" * 300}).encode()


class Recorder:
    """A WSGI application that keeps the environ and body of every request it is given and
    answers with what it read."""

    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, Any], bytes]] = []

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        self.requests.append((environ, body))
        reply = json.dumps({"path": environ["PATH_INFO"], "length": len(body)}).encode()
        start_response("200 OK", [("Content-Type", "application/json")])
        return [reply]

    @property
    def bodies(self) -> list[bytes]:
        return [body for _, body in self.requests]


@pytest.fixture
def app() -> Recorder:
    return Recorder()


@contextmanager
def running(app: Any, **limits: Any) -> Iterator[Server]:
    """``app`` on a real server on a free loopback port, with ``limits``."""
    server = make_server(app, "127.0.0.1", 0, quiet=True, **limits)
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


class TestRequests:
    """What the application is given: the request as PEP 3333 says, framing left out."""

    def test_a_get_with_a_query(self, app: Recorder) -> None:
        """Path (percent-decoded as latin-1), query string as sent, headers as HTTP_*."""
        data = b"GET /calls/a%20b?q=%2B1&x=1 HTTP/1.1\r\nHost: h\r\nX-Thing: 1\r\n\r\n"
        with running(app) as server:
            reply = exchange(server.server_port, data)
        assert reply.status == 200
        [(environ, body)] = app.requests
        assert (environ["PATH_INFO"], environ["QUERY_STRING"]) == ("/calls/a b", "q=%2B1&x=1")
        assert (environ["HTTP_X_THING"], environ["HTTP_HOST"], body) == ("1", "h", b"")
        assert environ["REMOTE_ADDR"] == "127.0.0.1"

    def test_a_header_with_an_underscore_is_dropped(self, app: Recorder) -> None:
        """``X_Forwarded_For`` could pose as ``X-Forwarded-For``: the application never sees it."""
        data = b"GET / HTTP/1.1\r\nX_Forwarded_For: 6.6.6.6\r\n\r\n"
        with running(app) as server:
            exchange(server.server_port, data)
        [(environ, _)] = app.requests
        assert "HTTP_X_FORWARDED_FOR" not in environ

    def test_head_sends_the_headers_only(self, app: Recorder) -> None:
        """HEAD: the status and Content-Length of the answer, and no body."""
        with running(app) as server:
            reply = exchange(server.server_port, b"HEAD /x HTTP/1.1\r\nHost: h\r\n\r\n")
        assert reply.status == 200 and reply.body == b""
        assert int(reply.headers["content-length"]) > 0

    def test_an_application_that_fails_is_a_500_without_details(
        self, caplog: pytest.LogCaptureFixture
    ) -> None:
        """An exception in the application is logged with its traceback; the client gets a
        plain 500 that says nothing of it."""

        def failing(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
            raise RuntimeError("secret detail")

        with caplog.at_level(logging.ERROR, "minivoice_flow.wsgi"), running(failing) as server:
            reply = exchange(server.server_port, b"GET / HTTP/1.1\r\n\r\n")
        assert reply.status == 500 and b"secret" not in reply.body
        assert any(r.exc_info is not None for r in caplog.records)

    def test_an_application_that_never_starts_a_response_is_a_500(self) -> None:
        """Returning a body without start_response is the application's bug: a 500."""

        def silent(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
            return [b"body"]

        with running(silent) as server:
            assert exchange(server.server_port, b"GET / HTTP/1.1\r\n\r\n").status == 500

    @pytest.mark.parametrize(
        ("data", "status"),
        [
            (b"GET\r\n\r\n", 400),
            (b"GET / HTTP/2.0\r\n\r\n", 505),
            (b"GET nowhere HTTP/1.1\r\n\r\n", 400),
            (b"G(T / HTTP/1.1\r\n\r\n", 400),
            (b"GET / HTTP/1.1\r\nno colon here\r\n\r\n", 400),
            (b"GET / HTTP/1.1\r\nExpect: something\r\n\r\n", 417),
            (b"GET / HTTP/1.1\r\nHost: h", 400),
        ],
        ids=["no-target", "http2", "not-a-path", "bad-method", "bad-header", "expect", "cut"],
    )
    def test_a_malformed_request_is_refused(self, app: Recorder, data: bytes, status: int) -> None:
        """A request line or header that is not HTTP/1.x is answered by the server itself."""
        with running(app) as server:
            assert exchange(server.server_port, data).status == status
        assert app.requests == []

    def test_an_absolute_target_is_taken_as_its_path(self, app: Recorder) -> None:
        """``GET http://host/x?y`` (proxy form) reaches the application as ``/x`` and ``y``."""
        with running(app) as server:
            exchange(server.server_port, b"GET http://h.example/x?y=1 HTTP/1.1\r\n\r\n")
        [(environ, _)] = app.requests
        assert (environ["PATH_INFO"], environ["QUERY_STRING"]) == ("/x", "y=1")


class TestLimits:
    """The limits are checked when the server is made."""

    @pytest.mark.parametrize(
        ("limits", "named"),
        [
            ({"timeout": 0}, "timeout"),
            ({"timeout": float("nan")}, "timeout"),
            ({"timeout": True}, "timeout"),
            ({"max_connections": 0}, "max_connections"),
            ({"workers": 1.5}, "workers"),
            ({"max_body_bytes": -1}, "max_body_bytes"),
        ],
    )
    def test_a_bad_limit_is_a_value_error(
        self, app: Recorder, limits: dict[str, Any], named: str
    ) -> None:
        """A limit out of range is refused, naming it, before a socket is opened."""
        with pytest.raises(ValueError, match=named):
            make_server(app, "127.0.0.1", 0, **limits)


class TestChunkedBodies:
    """Transfer-Encoding: chunked is read chunk by chunk, or refused; never passed on cut."""

    @pytest.mark.parametrize("coding", ["chunked", "Chunked", " chunked "])
    def test_a_chunked_body_is_given_whole(self, app: Recorder, coding: str) -> None:
        """The chunks (with an extension and a trailer) are joined into one body."""
        body = chunked(BODY[:10], BODY[10:200], BODY[200:], last=b"0\r\nX-T: 1\r\n\r\n")
        body = body.replace(b"\r\n", b";name=value\r\n", 1)
        with running(app) as server:
            reply = exchange(
                server.server_port,
                post("/webhooks", body, f"Transfer-Encoding:{coding}", length=False),
            )
        assert (reply.status, app.bodies) == (200, [BODY])
        [(environ, _)] = app.requests
        assert environ["CONTENT_LENGTH"] == str(len(BODY))
        assert "HTTP_TRANSFER_ENCODING" not in environ

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
    def test_a_broken_chunked_body_is_a_400(self, app: Recorder, body: bytes, says: str) -> None:
        """Every way a chunked body can be cut short or garbled is refused."""
        with running(app) as server:
            reply = exchange(
                server.server_port,
                post("/webhooks", body, "Transfer-Encoding: chunked", length=False),
            )
        assert reply.status == 400 and says in reply.message
        assert app.requests == []

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
        self, app: Recorder, body: bytes
    ) -> None:
        """The chunk that would pass the limit is refused (413) from its size line."""
        with running(app, max_body_bytes=1000) as server:
            reply = exchange(
                server.server_port,
                post("/webhooks", body, "Transfer-Encoding: chunked", length=False),
            )
        assert reply.status == 413 and app.requests == []

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
        self, app: Recorder, headers: list[str], status: int
    ) -> None:
        """Codings other than chunked are 501; chunked with a Content-Length is 400."""
        with running(app) as server:
            reply = exchange(
                server.server_port, post("/webhooks", chunked(BODY), *headers, length=False)
            )
        assert reply.status == status and app.requests == []

    def test_chunked_on_http_1_0_is_refused(self, app: Recorder) -> None:
        """HTTP/1.0 has no chunked bodies."""
        data = post("/webhooks", chunked(BODY), "Transfer-Encoding: chunked", length=False)
        with running(app) as server:
            reply = exchange(server.server_port, data.replace(b"HTTP/1.1", b"HTTP/1.0", 1))
        assert reply.status == 501 and app.requests == []


class TestContentLength:
    """A body is exactly its Content-Length, within the limit, or it is refused."""

    def test_a_body_shorter_than_its_length_is_a_400(self, app: Recorder) -> None:
        """The client stops sending (and half-closes) 10 bytes into 100: 400."""
        data = post("/webhooks", BODY[:10], "Content-Length: 100", length=False)
        with running(app) as server:
            reply = exchange(server.server_port, data)
        assert reply.status == 400
        assert reply.message == "the body ended after 10 of its 100 bytes"
        assert app.requests == []

    def test_a_body_that_stops_arriving_is_a_400_after_the_timeout(self, app: Recorder) -> None:
        """A client that keeps the connection open but sends no more gets 400 in time."""
        data = post("/webhooks", BODY[:10], "Content-Length: 100", length=False)
        with running(app, timeout=0.5) as server:
            started = time.monotonic()
            reply = exchange(server.server_port, data, finish=False)
        assert time.monotonic() - started < 5
        assert reply.status == 400 and "after 10 bytes, before its 100 bytes" in reply.message
        assert app.requests == []

    @pytest.mark.parametrize("length", ["1001", "99999999999999999999"])
    def test_a_length_over_the_limit_is_refused_before_the_body(
        self, app: Recorder, length: str
    ) -> None:
        """413 comes back from the headers alone: the client never sends the body."""
        data = post("/webhooks", b"", f"Content-Length: {length}", length=False)
        with running(app, max_body_bytes=1000) as server:
            reply = exchange(server.server_port, data)
        assert reply.status == 413 and app.requests == []

    def test_the_default_limit_is_a_mebibyte(self, app: Recorder) -> None:
        """Without options, a body over 1 MiB is refused unread."""
        assert MAX_BODY_BYTES == 1024 * 1024
        data = post("/webhooks", b"", f"Content-Length: {MAX_BODY_BYTES + 1}", length=False)
        with running(app) as server:
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
    def test_a_bad_length_is_a_400(self, app: Recorder, headers: list[str]) -> None:
        """A Content-Length that is not one plain number is refused."""
        data = post("/webhooks", b"hello", *headers, length=False)
        with running(app) as server:
            reply = exchange(server.server_port, data.replace("\u0665".encode(), b"\xd9\xa5"))
        assert reply.status == 400 and app.requests == []

    def test_no_length_at_all_is_a_411(self, app: Recorder) -> None:
        """A POST that says neither its length nor chunked is refused, not passed on empty."""
        with running(app) as server:
            reply = exchange(server.server_port, post("/webhooks", b"{}", length=False))
        assert reply.status == 411 and app.requests == []

    def test_expect_100_continue(self, app: Recorder) -> None:
        """A client that asks first gets 100 Continue, then its answer."""
        head = post(
            "/webhooks", b"", "Expect: 100-continue", f"Content-Length: {len(BODY)}", length=False
        )
        with (
            running(app) as server,
            socket.create_connection(("127.0.0.1", server.server_port), timeout=15) as sock,
        ):
            sock.sendall(head)
            assert sock.recv(100) == b"HTTP/1.1 100 Continue\r\n\r\n"
            sock.sendall(BODY)
            reply = Reply(read_all(sock))
        assert reply.status == 200 and app.bodies == [BODY]

    def test_no_100_continue_for_a_body_over_the_limit(self, app: Recorder) -> None:
        """The 413 comes instead of 100 Continue."""
        head = post("/webhooks", b"", "Expect: 100-continue", "Content-Length: 5000", length=False)
        with running(app, max_body_bytes=1000) as server:
            assert exchange(server.server_port, head).status == 413


class TestSlowAndManyClients:
    """Slow clients are cut off in time and cost no thread; the server stays up."""

    def test_a_head_that_never_ends_is_a_408(self, app: Recorder) -> None:
        """Half a request line, then silence: 408 once the timeout passes."""
        with running(app, timeout=0.5) as server:
            started = time.monotonic()
            reply = exchange(
                server.server_port, b"POST /webhooks HTTP/1.1\r\nHost: x", finish=False
            )
        assert reply.status == 408 and time.monotonic() - started < 5

    def test_a_client_that_sends_nothing_is_dropped(self, app: Recorder) -> None:
        """An idle connection is closed once the timeout passes."""
        with (
            running(app, timeout=0.5) as server,
            socket.create_connection(("127.0.0.1", server.server_port), timeout=15) as sock,
        ):
            started = time.monotonic()
            data = read_all(sock)
        assert time.monotonic() - started < 5
        assert data == b"" or data.startswith(b"HTTP/1.1 408")

    def test_headers_over_the_limit_are_a_431(self, app: Recorder) -> None:
        """A head longer than the header limit is refused."""
        data = post("/webhooks", b"{}", "X-Big: " + "a" * (MAX_HEADER_BYTES + 10))
        with running(app) as server:
            assert exchange(server.server_port, data).status == 431

    def test_a_thousand_slow_clients_hold_no_threads(self, app: Recorder) -> None:
        """1000 connections sending half a request add no thread and are each answered, 408
        at the timeout or 503 past the connection limit; the server serves on meanwhile."""
        with running(app, timeout=1.5, max_connections=200, workers=4) as server:
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
                meanwhile = exchange(port, post("/answer", BODY))
                assert meanwhile.status in (200, 503) and time.monotonic() - started < 1.0
                statuses = {Reply(read_all(sock)).status for sock in slow}
                assert statuses <= {408, 503} and 408 in statuses
                assert threading.active_count() <= threads_before + 4
            finally:
                for sock in slow:
                    sock.close()
            ok = exchange(port, post("/answer", BODY))
            assert (ok.status, ok.json()) == (200, {"path": "/answer", "length": len(BODY)})
        assert len(app.requests) == (meanwhile.status == 200) + 1

    def test_past_the_connection_limit_the_answer_is_503(self, app: Recorder) -> None:
        """With every connection slot held, one more is told 503 with Retry-After."""
        with running(app, timeout=3, max_connections=3) as server:
            port = server.server_port
            held = [socket.create_connection(("127.0.0.1", port), timeout=15) for _ in range(3)]
            try:
                for sock in held:
                    sock.sendall(b"POST /webhooks HTTP/1.1\r\n")
                time.sleep(0.3)  # all three accepted and waiting for the rest of their heads
                busy = exchange(port, post("/webhooks", BODY))
            finally:
                for sock in held:
                    sock.close()
        assert busy.status == 503 and busy.headers["retry-after"] == "1"
        assert app.requests == []

    def test_the_application_runs_in_at_most_workers_threads(self) -> None:
        """Requests beyond ``workers`` wait for a thread: never more run at once."""
        lock = threading.Lock()
        running_now = [0]
        most = [0]

        def slow(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
            with lock:
                running_now[0] += 1
                most[0] = max(most[0], running_now[0])
            time.sleep(0.2)
            with lock:
                running_now[0] -= 1
            start_response("200 OK", [])
            return [b""]

        with running(slow, workers=2) as server:
            clients = [
                threading.Thread(
                    target=exchange, args=(server.server_port, b"GET / HTTP/1.1\r\n\r\n")
                )
                for _ in range(6)
            ]
            for client in clients:
                client.start()
            for client in clients:
                client.join()
        assert most[0] == 2
