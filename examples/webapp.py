"""The support line's web handler: answer_url, redirect targets and webhooks, stdlib only.

    python examples/webapp.py --port 8000 --db calls.db
    minivoice-flow calls list --db calls.db

Every endpoint takes POST with a JSON body:

- ``/answer`` (the answer_url): the support line's first flow.
- every path of the flow set (``/ivr/support_menu/input``, ``/ivr/support_agent/fallback``,
  ...): the next flow, chosen by the fallback helpers from the request's variables and status.
- ``/webhooks``: the webhook is stored in the call journal. The reply is 200 once it is
  stored, even when it cannot be read (the journal keeps it and says why), since sending it
  again would not make it readable; 503 when it could not be stored, so it is sent again.

MiniVoice's request for actions is modelled as ``{"call": {...}, "variables": {...}}`` (the
webhook's shapes). Each flow returned is recorded in the journal under the request's call ID.
If the journal fails (the database is down, say), the failure is logged and the caller is
still answered.

The application is plain WSGI (``make_app``), so any WSGI server can run it. Here it runs on
``minivoice_flow.wsgi.make_server``, the library's small server on asyncio, which is safe to
leave running: a slow client costs a coroutine, not a thread, and the application runs in a
small pool of threads; a request must arrive whole within a time limit; bodies are read by
their Content-Length or in chunks, never past a size limit, and a body that ends early is
refused, never stored.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Iterable
from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit

from flows.support_line import SUPPORT_LINE

from minivoice_flow.fallback import FlowSet
from minivoice_flow.journal import CallJournal
from minivoice_flow.webhooks import WebhookError, parse_flow_request
from minivoice_flow.wsgi import (
    MAX_BODY_BYTES,
    MAX_CONNECTIONS,
    TIMEOUT_S,
    WORKERS,
    StartResponse,
    WSGIApp,
    make_server,
)

LOG = logging.getLogger("webapp")

# The application.


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
            return _reply(start_response, 404, f"nothing is served at {path}")
        if environ["REQUEST_METHOD"] != "POST":
            return _reply(start_response, 405, "use POST", headers=[("Allow", "POST")])
        body = _body(environ)
        if isinstance(body, tuple):
            return _reply(start_response, *body)
        if path == webhook_path:
            return _webhook(journal, body, start_response)
        try:
            request = parse_flow_request(body)
        except WebhookError as error:
            details = [d.to_dict() for d in error.diagnostics]
            return _reply(start_response, 400, str(error), details)
        if path == answer_path:
            flow, url = flows.entry, flows.entry_url
        else:
            flow = flows.next_flow(url, request.variables, request.call.status)
        try:
            journal.record_response(request.call.id, flow, url=url, status=request.call.status)
        except Exception:  # whatever the journal's trouble, the caller still gets the flow
            LOG.exception("could not record the response to call %r", request.call.id)
        return _reply_json(start_response, 200, flow.to_json())

    return app


def _webhook(journal: CallJournal, body: bytes, start_response: StartResponse) -> Iterable[bytes]:
    try:
        received = journal.record_webhook(body)
    except Exception:
        LOG.exception("could not store a webhook of %d bytes", len(body))
        return _reply(
            start_response,
            503,
            "the webhook could not be stored; send it again",
            headers=[("Retry-After", "5")],
        )
    reply: dict[str, Any] = {"stored": received.record.id, "read": received.error is None}
    if received.error is not None:
        reply["problems"] = [d.to_dict() for d in received.error.diagnostics]
    return _reply_json(start_response, 200, json.dumps(reply))


def _body(environ: dict[str, Any]) -> bytes | tuple[int, str]:
    """The request body, or (status, message) when it cannot be taken.

    The server below always gives the body's exact length; these checks also keep the app
    safe behind a server that passes the client's headers through.
    """
    if environ.get("HTTP_TRANSFER_ENCODING"):
        return 411, "send the body with a Content-Length"
    declared = environ.get("CONTENT_LENGTH") or ""
    if not declared:
        return 411, "send the body with a Content-Length"
    if not declared.isdigit() or not declared.isascii():
        return 400, f"Content-Length must be a number of bytes; got {declared[:20]!r}"
    length = int(declared)
    if length > MAX_BODY_BYTES:
        return 413, f"the body may be at most {MAX_BODY_BYTES} bytes; got {length}"
    data: bytes = environ["wsgi.input"].read(length)
    if len(data) != length:
        return 400, f"the body ended after {len(data)} of its {length} bytes"
    return data


def _reply(
    start_response: StartResponse,
    status: int,
    message: str,
    details: list[dict[str, str]] | None = None,
    *,
    headers: list[tuple[str, str]] | None = None,
) -> list[bytes]:
    error: dict[str, Any] = {"message": message}
    if details is not None:
        error["details"] = details
    return _reply_json(start_response, status, json.dumps({"error": error}), headers)


def _reply_json(
    start_response: StartResponse,
    status: int,
    text: str,
    headers: list[tuple[str, str]] | None = None,
) -> list[bytes]:
    body = text.encode("utf-8")
    start_response(
        f"{status} {HTTPStatus(status).phrase}",
        [
            ("Content-Type", "application/json"),
            ("Content-Length", str(len(body))),
            *(headers or []),
        ],
    )
    return [body]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Serve the support line example.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--db", default="calls.db", help="the call journal (created if needed)")
    parser.add_argument("--timeout", type=float, default=TIMEOUT_S, help="seconds per request")
    parser.add_argument("--max-connections", type=int, default=MAX_CONNECTIONS)
    parser.add_argument("--workers", type=int, default=WORKERS)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    with CallJournal(args.db) as journal:
        server = make_server(
            make_app(journal),
            args.host,
            args.port,
            timeout=args.timeout,
            max_connections=args.max_connections,
            workers=args.workers,
        )
        LOG.info("serving the support line on http://%s:%s/answer", args.host, server.server_port)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
