"""A tiny WSGI application served on 127.0.0.1 in a thread, for the simulator's HTTP tests.

Routes map a path to a function of the request that returns (status code, body); every
request received is kept, so a test can see exactly what the simulator sent.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from attrs import frozen


@frozen
class Received:
    """One request as the server saw it."""

    method: str
    path: str
    query: dict[str, str]
    body: bytes
    content_type: str

    def json(self) -> Any:
        return json.loads(self.body)


#: A route answers (status, body), or (status, body, extra headers).
Route = Callable[
    [Received], tuple[int, bytes | str] | tuple[int, bytes | str, list[tuple[str, str]]]
]


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


class Server:
    """The running server: its base URL and everything it received."""

    def __init__(self, routes: Mapping[str, Route]) -> None:
        self.routes = routes
        self.received: list[Received] = []
        self.base_url = ""

    def url(self, path: str) -> str:
        return self.base_url + path

    def paths(self) -> list[str]:
        return [r.path for r in self.received]

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        request = Received(
            method=environ["REQUEST_METHOD"],
            path=environ["PATH_INFO"],
            query=dict(parse_qsl(environ.get("QUERY_STRING", ""))),
            body=environ["wsgi.input"].read(length),
            content_type=environ.get("CONTENT_TYPE", ""),
        )
        self.received.append(request)
        route = self.routes.get(request.path)
        answer = route(request) if route else (404, b"not found")
        status, body = answer[0], answer[1]
        extra: list[tuple[str, str]] = answer[2] if len(answer) == 3 else []
        data = body.encode() if isinstance(body, str) else body
        reason = _reason(status)
        start_response(
            f"{status} {reason}",
            [("Content-Type", "application/json"), ("Content-Length", str(len(data))), *extra],
        )
        return [data]


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Other"


@contextmanager
def serving(routes: Mapping[str, Route]) -> Iterator[Server]:
    """Serve ``routes`` on 127.0.0.1 (a free port) for the duration of the block."""
    app = Server(routes)
    server: WSGIServer = make_server("127.0.0.1", 0, app, handler_class=_QuietHandler)
    app.base_url = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield app
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def flow_json(text: str) -> Route:
    """A route that always answers with the same JSON text."""
    return lambda request: (200, text)
