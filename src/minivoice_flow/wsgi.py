"""A small, hardened HTTP/1.1 server for WSGI applications, from the standard library.

``make_server(app, host, port)`` serves any WSGI application; it runs the web example
(``examples/webapp.py``) and ``minivoice-flow calls serve``. It is meant for a laptop or a
small deployment, and is safe to leave running: a slow client costs a coroutine, not a
thread, while the application runs in a bounded pool of threads; a request must arrive whole
within a time limit; the number of open connections is bounded; bodies are read by their
Content-Length or in chunks, never past a size limit, and a body that ends early is refused
before the application sees it. For production behind a load balancer, run the same
application under a WSGI server made for it, such as gunicorn or waitress.

One request per connection (every response closes it); no TLS (put a TLS-terminating proxy
in front when the server is reached over a network).
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import ipaddress
import json
import logging
import math
import re
import socket
import sys
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from http import HTTPStatus
from typing import Any, Final, TypeAlias
from urllib.parse import unquote, urlsplit

__all__ = [
    "MAX_BODY_BYTES",
    "MAX_CONNECTIONS",
    "MAX_HEADER_BYTES",
    "TIMEOUT_S",
    "WORKERS",
    "Server",
    "StartResponse",
    "WSGIApp",
    "is_loopback",
    "make_server",
]

#: What a WSGI server passes as ``start_response``.
StartResponse: TypeAlias = Callable[..., Any]
#: A WSGI application (PEP 3333).
WSGIApp: TypeAlias = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

LOG: Final = logging.getLogger("minivoice_flow.wsgi")

#: The largest request body taken; a larger one is refused (413) before it is read.
MAX_BODY_BYTES: Final = 1024 * 1024
#: The request line and headers together may not be longer than this (431).
MAX_HEADER_BYTES: Final = 32 * 1024
#: Seconds a client has to send its whole request, and then to take the whole response.
TIMEOUT_S: Final = 10.0
#: Connections open at once; one more is answered 503 straight away.
MAX_CONNECTIONS: Final = 512
#: Threads running the application.
WORKERS: Final = 8


class _Refused(Exception):
    """A request the server answers itself, without the application."""

    def __init__(self, status: int, message: str, *, headers: Iterable[tuple[str, str]] = ()):
        super().__init__(message)
        self.status = status
        self.headers = list(headers)


_TOKEN = re.compile(rb"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_CHUNK_SIZE = re.compile(rb"([0-9A-Fa-f]{1,16})(?:[ \t]*;[^\r\n]*)?")
#: The request headers that describe the message itself: the server acts on them, and the
#: application sees only the body's true length.
_FRAMING = frozenset({b"content-length", b"transfer-encoding", b"expect", b"connection"})


class Server:
    """Serves a WSGI application over HTTP/1.1 on ``host:port``, safe to leave running.

    Reading a request costs a coroutine, not a thread; the application runs in ``workers``
    threads. A client has ``timeout`` seconds to send its whole request (408 if its head is
    not in by then, 400 if its body is not) and as long to take the response. At most
    ``max_connections`` are open at once; more are answered 503. Bodies come by
    Content-Length or chunked (anything else is 411 or 501), at most ``max_body_bytes`` (413,
    said before any of it is read). Every response closes its connection.
    ``serve_forever()`` runs until ``shutdown()`` is called from another thread.
    """

    def __init__(
        self,
        app: WSGIApp,
        host: str = "127.0.0.1",
        port: int = 8000,
        *,
        timeout: float = TIMEOUT_S,
        max_connections: int = MAX_CONNECTIONS,
        workers: int = WORKERS,
        max_body_bytes: int = MAX_BODY_BYTES,
        quiet: bool = False,
    ) -> None:
        _check_limits(timeout, max_connections, workers, max_body_bytes)
        self.app = app
        self.timeout = timeout
        self.max_connections = max_connections
        self.max_body_bytes = max_body_bytes
        self.quiet = quiet
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.socket = socket.create_server((host, port), family=family, backlog=128)
        self.server_address: tuple[str, int] = self.socket.getsockname()[:2]
        self.server_port: int = self.server_address[1]
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="minivoice-wsgi")
        self._open = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._stopping = threading.Event()
        self._stopped = threading.Event()

    def serve_forever(self) -> None:
        """Serve until ``shutdown()``."""
        try:
            asyncio.run(self._serve_until_stopped())
        finally:
            self._stopped.set()

    def shutdown(self) -> None:
        """Stop ``serve_forever()`` and wait until it has returned."""
        self._stopping.set()
        loop, stop = self._loop, self._stop
        if loop is not None and stop is not None:
            with contextlib.suppress(RuntimeError):  # the loop has already ended
                loop.call_soon_threadsafe(stop.set)
        self._stopped.wait()

    def server_close(self) -> None:
        """Release the listening socket and the application's threads."""
        self.socket.close()
        self._pool.shutdown(wait=True)

    async def _serve_until_stopped(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        if self._stopping.is_set():
            return
        server = await asyncio.start_server(
            self._connection, sock=self.socket, limit=MAX_HEADER_BYTES
        )
        async with server:
            await self._stop.wait()

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self._open >= self.max_connections:
            refusal = _Refused(
                503, "too many connections; try again", headers=[("Retry-After", "1")]
            )
            await self._answer(writer, *_refusal_response(refusal), linger=reader)
            return
        self._open += 1
        try:
            await self._exchange(reader, writer)
        except asyncio.CancelledError:  # the server is shutting down: drop the connection
            writer.transport.abort()
        except Exception:  # a bug here must not stop the server
            LOG.exception("error while serving a connection")
            writer.transport.abort()
        finally:
            self._open -= 1

    async def _exchange(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        request: _Request | None = None
        try:
            async with asyncio.timeout(self.timeout):
                request = await _read_head(reader)
                if request is None:  # the client left without a word
                    writer.transport.abort()
                    return
                self._check_length(request)
                if request.expects_continue:  # the client waits for this before the body
                    writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
                request.body = await _read_body(reader, request)
        except TimeoutError:
            if request is None:
                refusal = _Refused(408, f"the request did not arrive within {self.timeout:g} s")
            else:
                refusal = _Refused(400, request.incomplete(self.timeout))
            await self._refuse(reader, writer, refusal, request)
            return
        except _Refused as refusal:
            await self._refuse(reader, writer, refusal, request)
            return
        loop = asyncio.get_running_loop()
        environ = request.environ(writer, self.server_address)
        status, headers, body = await loop.run_in_executor(self._pool, self._run_app, environ)
        self._log(request, status)
        await self._answer(writer, status, headers, body, head=request.method == "HEAD")

    def _check_length(self, request: _Request) -> None:
        if request.length is not None and request.length > self.max_body_bytes:
            raise _Refused(
                413,
                f"the body may be at most {self.max_body_bytes} bytes; "
                f"Content-Length says {request.length}",
            )
        request.limit = self.max_body_bytes

    def _run_app(self, environ: dict[str, Any]) -> tuple[str, list[tuple[str, str]], bytes]:
        """Call the application (in a worker thread); a failure becomes a logged 500."""
        started: list[tuple[str, list[tuple[str, str]]]] = []

        def start_response(
            status: str, headers: list[tuple[str, str]], exc_info: object = None
        ) -> Callable[[bytes], None]:
            started[:] = [(status, headers)]
            return lambda data: None  # the write() callable; this app never uses it

        try:
            result = self.app(environ, start_response)
            try:
                body = b"".join(result)
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()
            if not started:
                raise RuntimeError("the application did not call start_response")
        except Exception:
            LOG.exception(
                "the application failed on %s %s", environ["REQUEST_METHOD"], environ["PATH_INFO"]
            )
            return _refusal_response(_Refused(500, "internal error; see the server's log"))
        status, headers = started[0]
        return status, headers, body

    async def _refuse(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        refusal: _Refused,
        request: _Request | None,
    ) -> None:
        """Answer a request the server will not pass on, then let the client finish sending,
        so it reads the answer instead of a reset connection."""
        if request is not None:
            self._log(request, f"{refusal.status}")
        await self._answer(writer, *_refusal_response(refusal), linger=reader)

    async def _answer(
        self,
        writer: asyncio.StreamWriter,
        status: str,
        headers: list[tuple[str, str]],
        body: bytes,
        *,
        linger: asyncio.StreamReader | None = None,
        head: bool = False,
    ) -> None:
        """Send a response (its headers only, for HEAD) and close the connection."""
        kept = [(k, v) for k, v in headers if k.lower() not in ("connection", "content-length")]
        lines = [f"HTTP/1.1 {status}", *(f"{k}: {v}" for k, v in kept)]
        lines += [f"Content-Length: {len(body)}", "Connection: close", "", ""]
        try:
            async with asyncio.timeout(self.timeout):
                writer.write("\r\n".join(lines).encode("latin-1") + (b"" if head else body))
                await writer.drain()
                if linger is not None and writer.can_write_eof():
                    writer.write_eof()
                    # Read (and drop) what the client is still sending, for a moment.
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(min(self.timeout, 2.0)):
                            while await linger.read(65536):
                                pass
            writer.close()
            async with asyncio.timeout(self.timeout):
                await writer.wait_closed()
        except (OSError, TimeoutError):
            writer.transport.abort()

    def _log(self, request: _Request, status: str) -> None:
        if not self.quiet:
            LOG.info("%s %r -> %s", request.method, request.target, status.split(" ")[0])


def _check_limits(timeout: float, max_connections: int, workers: int, max_body_bytes: int) -> None:
    """Each limit is a number in its range, or a ValueError names it."""
    if (
        isinstance(timeout, bool)
        or not isinstance(timeout, int | float)
        or not 0 < timeout < math.inf
    ):
        raise ValueError(f"timeout must be a number of seconds above 0; got {timeout!r}")
    for name, value, least in (
        ("max_connections", max_connections, 1),
        ("workers", workers, 1),
        ("max_body_bytes", max_body_bytes, 0),
    ):
        if isinstance(value, bool) or not isinstance(value, int) or value < least:
            raise ValueError(f"{name} must be a whole number, {least} or more; got {value!r}")


def _refusal_response(refusal: _Refused) -> tuple[str, list[tuple[str, str]], bytes]:
    status = f"{refusal.status} {HTTPStatus(refusal.status).phrase}"
    body = json.dumps({"error": {"message": str(refusal)}}).encode()
    return status, [("Content-Type", "application/json"), *refusal.headers], body


class _Request:
    """A request line and headers as read, and then its body."""

    def __init__(self, method: str, target: str, version: str, headers: list[tuple[bytes, bytes]]):
        self.method = method
        self.target = target
        self.version = version
        self.headers = headers
        self.length: int | None = None
        self.chunked = False
        self.expects_continue = False
        self.limit = 0
        self.received = 0
        self.body = b""

    def incomplete(self, timeout: float) -> str:
        expected = "its last chunk" if self.chunked else f"its {self.length} bytes"
        return (
            f"the body stopped arriving after {self.received} bytes, before {expected} "
            f"(waited {timeout:g} s)"
        )

    def environ(self, writer: asyncio.StreamWriter, server: tuple[str, int]) -> dict[str, Any]:
        path, _, query = self.target.partition("?")
        peer = writer.get_extra_info("peername") or ("", 0)
        environ: dict[str, Any] = {
            "REQUEST_METHOD": self.method,
            "SCRIPT_NAME": "",
            "PATH_INFO": unquote(path, encoding="latin-1"),
            "QUERY_STRING": query,
            "CONTENT_LENGTH": str(len(self.body)),
            "SERVER_NAME": server[0],
            "SERVER_PORT": str(server[1]),
            "SERVER_PROTOCOL": self.version,
            "REMOTE_ADDR": peer[0],
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(self.body),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
        }
        for name, value in self.headers:
            if name in _FRAMING or b"_" in name:  # "_" could pose as another header
                continue
            text = value.decode("latin-1")
            key = "CONTENT_TYPE" if name == b"content-type" else None
            key = key or "HTTP_" + name.decode("ascii").upper().replace("-", "_")
            environ[key] = f"{environ[key]},{text}" if key in environ else text
        return environ


async def _read_head(reader: asyncio.StreamReader) -> _Request | None:
    """The request line and headers, checked; None if the client sent nothing at all."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as error:
        if not error.partial.strip():
            return None
        raise _Refused(400, "the connection ended before the end of the headers") from None
    except asyncio.LimitOverrunError:
        raise _Refused(431, f"the headers may be at most {MAX_HEADER_BYTES} bytes") from None
    line, *fields = head[:-4].split(b"\r\n")
    parts = line.split(b" ")
    if len(parts) != 3 or not _TOKEN.fullmatch(parts[0]) or not parts[1]:
        raise _Refused(400, "the request line must be METHOD TARGET HTTP/1.1")
    method, target, version = (part.decode("latin-1") for part in parts)
    if version not in ("HTTP/1.0", "HTTP/1.1"):
        raise _Refused(505, f"only HTTP/1.0 and HTTP/1.1 are served; got {version!r}")
    if target.startswith(("http://", "https://")):
        rest = urlsplit(target)
        target = (rest.path or "/") + (f"?{rest.query}" if rest.query else "")
    if not target.startswith("/") or any(c in target for c in "\x00\r\n"):
        raise _Refused(400, "the request target must be a path such as /answer")
    headers = []
    for field in fields:
        name, colon, value = field.partition(b":")
        if not colon or not _TOKEN.fullmatch(name):
            raise _Refused(400, f"a header line is malformed: {field[:40]!r}")
        headers.append((name.lower(), value.strip(b" \t")))
    request = _Request(method, target, version, headers)
    _framing(request)
    request.expects_continue = request.version == "HTTP/1.1" and _expects_continue(request)
    return request


def _framing(request: _Request) -> None:
    """Work out how the body is sent (Content-Length or chunked), refusing anything else."""
    lengths = [v for n, v in request.headers if n == b"content-length"]
    codings = [v for n, v in request.headers if n == b"transfer-encoding"]
    if codings:
        if lengths:
            raise _Refused(400, "a request may not have both Transfer-Encoding and Content-Length")
        coding = b",".join(codings).strip().lower()
        if request.version == "HTTP/1.0" or coding != b"chunked":
            raise _Refused(
                501,
                f"only Transfer-Encoding: chunked is supported; got {coding.decode('latin-1')!r}",
            )
        request.chunked = True
        return
    values = {v.strip() for joined in lengths for v in joined.split(b",")}
    if len(values) > 1:
        raise _Refused(400, "the request has more than one Content-Length")
    if values:
        (value,) = values
        if not value.isdigit() or len(value) > 20:
            raise _Refused(400, f"Content-Length must be a number of bytes; got {value[:20]!r}")
        request.length = int(value)
    elif request.method in ("POST", "PUT", "PATCH"):
        raise _Refused(411, "send the body with a Content-Length or chunked")


def _expects_continue(request: _Request) -> bool:
    expect = [v.lower() for n, v in request.headers if n == b"expect"]
    if not expect:
        return False
    if expect != [b"100-continue"]:
        raise _Refused(417, "the only expectation served is 100-continue")
    return True


async def _read_body(reader: asyncio.StreamReader, request: _Request) -> bytes:
    """The body, by its Content-Length or its chunks; never more than ``request.limit``."""
    chunks = []
    if not request.chunked:
        length = request.length or 0
        while request.received < length:
            chunk = await reader.read(min(length - request.received, 65536))
            if not chunk:
                raise _Refused(
                    400, f"the body ended after {request.received} of its {length} bytes"
                )
            chunks.append(chunk)
            request.received += len(chunk)
        return b"".join(chunks)
    try:
        while True:
            line = (await reader.readuntil(b"\r\n"))[:-2]
            size = _CHUNK_SIZE.fullmatch(line)
            if size is None:
                raise _Refused(400, f"a chunk must start with its size in hex; got {line[:20]!r}")
            length = int(size[1], 16)
            if request.received + length > request.limit:
                raise _Refused(413, f"the body may be at most {request.limit} bytes")
            if length == 0:
                break
            chunks.append(await reader.readexactly(length))
            request.received += length
            if await reader.readexactly(2) != b"\r\n":
                raise _Refused(400, "a chunk must end with CRLF after its size in bytes")
        trailers = 0
        while (line := await reader.readuntil(b"\r\n")) != b"\r\n":  # trailers: dropped
            trailers += len(line)
            if trailers > MAX_HEADER_BYTES:
                raise _Refused(431, f"the trailers may be at most {MAX_HEADER_BYTES} bytes")
    except asyncio.IncompleteReadError:
        raise _Refused(
            400, f"the chunked body ended after {request.received} bytes, before its last chunk"
        ) from None
    except asyncio.LimitOverrunError:
        raise _Refused(400, "a chunk size line is too long") from None
    return b"".join(chunks)


def make_server(
    app: WSGIApp,
    host: str = "127.0.0.1",
    port: int = 8000,
    *,
    timeout: float = TIMEOUT_S,
    max_connections: int = MAX_CONNECTIONS,
    workers: int = WORKERS,
    max_body_bytes: int = MAX_BODY_BYTES,
    quiet: bool = False,
) -> Server:
    """A server for ``app`` on ``host:port``, listening once this returns (port 0 picks a
    free port: see ``server.server_port``); run it with ``serve_forever()``."""
    return Server(
        app,
        host,
        port,
        timeout=timeout,
        max_connections=max_connections,
        workers=workers,
        max_body_bytes=max_body_bytes,
        quiet=quiet,
    )


def is_loopback(host: str) -> bool:
    """True for a host that only this machine can reach: ``localhost`` (and names under
    ``.localhost``), or a loopback address (``127.0.0.0/8``, ``::1``, bracketed or not)."""
    name = host.strip().lower().rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):
        return True
    if name.startswith("[") and name.endswith("]"):
        name = name[1:-1]
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback
