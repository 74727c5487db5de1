"""The support line's web handler: answer_url, redirect targets and webhooks, stdlib only.

    python examples/webapp.py --port 8000 --db calls.db
    minivoice-flow calls list --db calls.db

Every endpoint takes POST with a JSON body:

- ``/answer`` (the answer_url): the support line's first flow.
- every path of the flow set (``/ivr/support_menu/input``, ``/ivr/support_agent/fallback``,
  ...): the next flow, chosen by the fallback helpers from the request's variables and status.
- ``/webhooks``: the webhook is stored in the call journal. The reply is 200 once it is
  stored, even when it cannot be read (the journal keeps it and says why), since sending it
  again would not make it readable; 500 only when it could not be stored.

MiniVoice's request for actions is modelled as ``{"call": {...}, "variables": {...}}`` (the
webhook's shapes). Each flow returned is recorded in the journal under the request's call ID.
If the journal cannot be written, the caller is still answered and the failure is logged.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterable
from socketserver import ThreadingMixIn
from typing import Any
from urllib.parse import urlsplit
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer
from wsgiref.simple_server import make_server as _wsgi_server

from flows.support_line import SUPPORT_LINE

from minivoice_flow.fallback import FlowSet
from minivoice_flow.journal import CallJournal, JournalError
from minivoice_flow.webhooks import WebhookError, parse_flow_request

StartResponse = Callable[[str, list[tuple[str, str]]], Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

MAX_BODY_BYTES = 1024 * 1024


def make_app(
    journal: CallJournal,
    flows: FlowSet = SUPPORT_LINE,
    *,
    answer_path: str = "/answer",
    webhook_path: str = "/webhooks",
) -> WSGIApp:
    """A WSGI application serving ``flows`` and recording everything in ``journal``."""
    public = urlsplit(flows.entry_url)

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO") or "/"
        url = f"{public.scheme}://{public.netloc}{path}"
        if path != webhook_path and path != answer_path and url not in flows:
            return _reply(start_response, "404 Not Found", _error(f"nothing is served at {path}"))
        if environ["REQUEST_METHOD"] != "POST":
            return _reply(
                start_response, "405 Method Not Allowed", _error("use POST"), [("Allow", "POST")]
            )
        body = _body(environ)
        if body is None:
            return _reply(start_response, "413 Content Too Large", _error("body too large"))
        if path == webhook_path:
            return _webhook(journal, body, environ, start_response)
        try:
            request = parse_flow_request(body)
        except WebhookError as error:
            details = [d.to_dict() for d in error.diagnostics]
            return _reply(start_response, "400 Bad Request", _error(str(error), details))
        if path == answer_path:
            flow, url = flows.entry, flows.entry_url
        else:
            flow = flows.next_flow(url, request.variables, request.call.status)
        try:
            journal.record_response(request.call.id, flow, url=url, status=request.call.status)
        except JournalError as error:
            print(f"webapp: could not record the response: {error}", file=environ["wsgi.errors"])
        return _reply(start_response, "200 OK", flow.to_json())

    return app


def _webhook(
    journal: CallJournal, body: bytes, environ: dict[str, Any], start_response: StartResponse
) -> Iterable[bytes]:
    try:
        received = journal.record_webhook(body)
    except JournalError as error:
        print(f"webapp: could not store a webhook: {error}", file=environ["wsgi.errors"])
        return _reply(start_response, "500 Internal Server Error", _error("not stored"))
    reply: dict[str, Any] = {"stored": received.record.id, "read": received.error is None}
    if received.error is not None:
        reply["problems"] = [d.to_dict() for d in received.error.diagnostics]
    return _reply(start_response, "200 OK", json.dumps(reply))


def _body(environ: dict[str, Any]) -> bytes | None:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > MAX_BODY_BYTES:
        return None
    data: bytes = environ["wsgi.input"].read(length) if length > 0 else b""
    return data


def _error(message: str, details: list[dict[str, str]] | None = None) -> str:
    error: dict[str, Any] = {"message": message}
    if details is not None:
        error["details"] = details
    return json.dumps({"error": error})


def _reply(
    start_response: StartResponse,
    status: str,
    text: str,
    headers: list[tuple[str, str]] | None = None,
) -> list[bytes]:
    body = text.encode("utf-8")
    start_response(
        status,
        [
            ("Content-Type", "application/json"),
            ("Content-Length", str(len(body))),
            *(headers or []),
        ],
    )
    return [body]


class ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    """One thread per request, as a production server would run the handler."""

    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def make_server(
    app: WSGIApp, host: str = "127.0.0.1", port: int = 8000, *, quiet: bool = False
) -> WSGIServer:
    """An HTTP server for ``app`` (port 0 picks a free port: see ``server.server_port``)."""
    handler = _QuietHandler if quiet else WSGIRequestHandler
    return _wsgi_server(host, port, app, server_class=ThreadingWSGIServer, handler_class=handler)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Serve the support line example.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--db", default="calls.db", help="the call journal (created if needed)")
    args = parser.parse_args(argv)
    with CallJournal(args.db) as journal:
        server = make_server(make_app(journal), args.host, args.port)
        print(f"serving the support line on http://{args.host}:{server.server_port}/answer")
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
