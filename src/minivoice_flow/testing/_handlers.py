"""How the simulator reaches the application: Python handlers, or HTTP on loopback.

A handler is a ``Flow``, a callable taking a ``CallRequest``, or an http(s) URL on loopback.
Whatever comes back is read as MiniVoice would read it: anything ``parse`` rejects is a
rejected response, carried back as diagnostics, never an exception.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Callable, Mapping
from typing import Any, Final, Literal
from urllib.parse import urlencode, urlsplit

from attrs import frozen

from minivoice_flow._diagnostics import Diagnostic
from minivoice_flow._flow import Flow
from minivoice_flow._limits import MAX_PAYLOAD_BYTES
from minivoice_flow._parse import parse, validate
from minivoice_flow._rules import Direction
from minivoice_flow._text import printable
from minivoice_flow.testing._checks import fail
from minivoice_flow.testing._payloads import query_items

#: Real seconds an HTTP request to a loopback server may take before it counts as failed.
HTTP_TIMEOUT_S: Final = 10.0
#: How much of an error response body a request record keeps.
ERROR_TEXT_LIMIT: Final = 500

Reason = Literal["answer", "redirect", "fallback"]


@frozen
class CallRequest:
    """What a handler receives: the request MiniVoice would make, as plain data.

    ``body`` is ``{"call": {...}, "variables": {...}}``, the JSON a POST would carry.
    """

    url: str
    method: str
    reason: Reason
    at_ms: int
    body: dict[str, Any]

    @property
    def call(self) -> dict[str, Any]:
        """The call object (id, status, direction, from, to, ...)."""
        call: dict[str, Any] = self.body["call"]
        return call

    @property
    def variables(self) -> dict[str, str]:
        """What the call's collects have stored so far."""
        variables: dict[str, str] = self.body["variables"]
        return variables


Response = Flow | str | bytes | dict[str, Any]
HandlerFunction = Callable[[CallRequest], Response]
#: A Flow, a callable, or an http(s) URL on loopback.
Handler = Flow | HandlerFunction | str
Outcome = Literal["ok", "rejected", "failed"]


@frozen
class Answer:
    """What came back from a handler, already judged."""

    via: str
    outcome: Outcome
    flow: Flow | None = None
    status_code: int | None = None
    text: str | None = None
    diagnostics: tuple[Diagnostic, ...] = ()
    error: str = ""


def is_loopback_url(url: str) -> bool:
    """Whether ``url`` is http(s) to this machine (localhost, 127.0.0.0/8 or ::1)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return False
    if parts.scheme.lower() not in ("http", "https") or not host:
        return False
    try:
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        return False
    return host.lower() == "localhost" or _is_loopback_address(host)


def check_handler(where: str, handler: object) -> None:
    """Fail early, with a clear message, on a handler the simulator cannot use."""
    if isinstance(handler, Flow) or (callable(handler) and not isinstance(handler, str)):
        return
    if isinstance(handler, str):
        if not is_loopback_url(handler):
            fail(
                f"{where} is the URL {handler!r}: the simulator only makes HTTP requests to "
                "this machine (localhost, 127.0.0.1, ::1); map other URLs to a Flow, a "
                "callable or a loopback URL with handlers={...}"
            )
        return
    fail(
        f"{where} must be a Flow, a callable taking a CallRequest, or a loopback http URL; "
        f"got {type(handler).__name__}",
        wrong_type=True,
    )


def resolve(url: str, handlers: Mapping[str, Handler]) -> Handler | None:
    """The handler for ``url``, or None if nothing serves it.

    Exact keys win; a key ending in "/" serves every URL under it (the longest such key), and
    when its handler is a URL ending in "/" the rest of the path is appended to it. A loopback
    URL with no key is requested over HTTP.
    """
    if url in handlers:
        return handlers[url]
    prefixes = [key for key in handlers if key.endswith("/") and url.startswith(key)]
    if prefixes:
        key = max(prefixes, key=len)
        handler = handlers[key]
        if isinstance(handler, str) and handler.endswith("/"):
            handler = handler + url[len(key) :]
        return handler
    return url if is_loopback_url(url) else None


def ask(handler: Handler, request: CallRequest, direction: Direction) -> Answer:
    """Run one request through a handler and judge the response as MiniVoice would."""
    if isinstance(handler, Flow):
        name = "(unnamed)" if handler.name is None else handler.name
        return _judge_flow(f"Flow {name}", handler)
    if isinstance(handler, str):
        return _ask_http(handler, request, direction)
    via = getattr(handler, "__qualname__", None) or type(handler).__name__
    response = handler(request)
    if isinstance(response, Flow):
        return _judge_flow(via, response)
    return _judge_payload(via, response, direction)


def _judge_flow(via: str, flow: Flow) -> Answer:
    report = flow.check()
    if not report.ok:
        return Answer(via, "rejected", diagnostics=report.diagnostics)
    return Answer(via, "ok", flow=flow, text=flow.to_json(), diagnostics=report.diagnostics)


def _judge_payload(
    via: str, payload: object, direction: Direction, status_code: int | None = None
) -> Answer:
    report = validate(payload, direction=direction)
    text = _as_text(payload)
    if not report.ok:
        return Answer(
            via, "rejected", status_code=status_code, text=text, diagnostics=report.diagnostics
        )
    flow = parse(payload, direction=direction)
    return Answer(
        via, "ok", flow=flow, status_code=status_code, text=text, diagnostics=report.diagnostics
    )


def _as_text(payload: object) -> str | None:
    if isinstance(payload, str):
        return payload
    if isinstance(payload, (bytes, bytearray)):
        return bytes(payload).decode("utf-8", "replace")
    try:
        return json.dumps(payload, separators=(",", ":"))
    except (TypeError, ValueError):
        return None


def _ask_http(url: str, request: CallRequest, direction: Direction) -> Answer:
    if request.method == "GET":
        sep = "&" if urlsplit(url).query else "?"
        status, data, error = http_exchange(url + sep + urlencode(query_items(request.body)), None)
    else:
        status, data, error = http_exchange(url, request.body)
    if error:
        return Answer(url, "failed", status_code=status, text=_error_text(data), error=error)
    return _judge_payload(url, data, direction, status)


def http_exchange(url: str, body: object | None) -> tuple[int | None, bytes, str]:
    """POST ``body`` as JSON (or GET when it is None) to a loopback URL.

    Returns the status code, the response body (at most what a payload may hold, plus one
    byte, so an oversized answer is still seen as too large) and an error ("" when the status
    is 2xx). Only this machine is ever contacted: the URL must be on loopback, and so must the
    address actually connected to (a "localhost" that resolves elsewhere is refused).
    Redirects are never followed: a 3xx fails the request, saying where it pointed. Proxies
    from the environment play no part.
    """
    import http.client

    if not is_loopback_url(url):
        return None, b"", f"not requested: {url} is not on this machine"
    parts = urlsplit(url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    headers = {"Accept": "application/json", "User-Agent": "minivoice-flow-simulator"}
    data = None
    if body is not None:
        data = json.dumps(body).encode("utf-8")
        headers["Content-Type"] = "application/json"
    kind = (
        http.client.HTTPSConnection
        if parts.scheme.lower() == "https"
        else http.client.HTTPConnection
    )
    connection = kind(parts.hostname or "", parts.port, timeout=HTTP_TIMEOUT_S)
    try:
        connection.connect()
        peer = connection.sock.getpeername()[0] if connection.sock is not None else ""
        if not _is_loopback_address(peer):
            return None, b"", f"not requested: {url} connected to {peer}, not to this machine"
        connection.request("GET" if data is None else "POST", target, body=data, headers=headers)
        response = connection.getresponse()
        received = response.read(MAX_PAYLOAD_BYTES + 1)
    except (OSError, http.client.HTTPException) as error:
        return None, b"", f"no response from {url}: {error or type(error).__name__}"
    finally:
        connection.close()
    status, reason = response.status, response.reason
    if 300 <= status < 400:
        location = response.getheader("Location")
        where = "" if location is None else f" to {printable(location)[:ERROR_TEXT_LIMIT]}"
        return (
            status,
            received,
            (
                f"HTTP {status} {reason}: a redirect{where}, which the simulator does not follow "
                "(MiniVoice needs the actions in the response itself)"
            ),
        )
    if not 200 <= status < 300:
        return status, received, f"HTTP {status} {reason}"
    return status, received, ""


def _is_loopback_address(address: str) -> bool:
    try:
        return ipaddress.ip_address(address.partition("%")[0]).is_loopback
    except ValueError:
        return False


def _error_text(data: bytes) -> str | None:
    if not data:
        return None
    return data[:ERROR_TEXT_LIMIT].decode("utf-8", "replace")
