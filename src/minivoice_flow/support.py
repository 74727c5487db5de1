"""The support page: find a call in the journal, and see what happened on it, in a browser.

``make_app(journal)`` is a WSGI application, so it runs under any WSGI server (gunicorn,
waitress, uWSGI) as well as on its own (``minivoice-flow calls serve``). Its pages:

- ``/calls``: the most recently active calls, newest first, paged, each with its outcome in
  words, its time and numbers; a search box that finds a call by its ID or by a phone number,
  and a filter by outcome;
- ``/call?id=...``: one call: the outcome in a sentence, the timeline picture, every record
  with its raw body shown as text, unreadable webhooks flagged with the reason, and (with
  ``flows``) the IVR graph with the steps the call went through highlighted;
- ``/unattributed``: webhooks stored with no call ID.

Each page has a JSON twin (``?format=json``, or ``Accept: application/json``) with the fields
of ``minivoice-flow calls ... --format json``.

Safe by default: no route writes to the journal; every value from the journal is escaped
wherever it is shown (HTML text and attributes, URLs, SVG); the Content-Security-Policy
allows no script at all. Without a ``token`` the application answers only clients on
loopback that address it by a loopback name (so a web page elsewhere cannot read it through
DNS rebinding); with one, every request must carry it as ``Authorization: Bearer <token>``
or sign in once on the login form, which sets an HttpOnly, SameSite=Strict cookie.

Needs jinja2 (the page templates) and, for the graph, grandalf: ``pip install
'minivoice-flow[support]'``.
"""

from __future__ import annotations

import os
from typing import Final

from minivoice_flow._support import MIN_TOKEN_LENGTH, TOKEN_VARIABLE
from minivoice_flow.fallback import FlowSet
from minivoice_flow.graph import FlowGraph
from minivoice_flow.journal import ENVIRONMENT_VARIABLE, CallJournal
from minivoice_flow.wsgi import WSGIApp

__all__ = [
    "DEFAULT_PAGE_SIZE",
    "MIN_TOKEN_LENGTH",
    "TOKEN_VARIABLE",
    "from_environment",
    "make_app",
]

#: Calls (or unattributed records) per page, unless a request asks for another number.
DEFAULT_PAGE_SIZE: Final = 50


def make_app(
    journal: CallJournal,
    flows: FlowSet | FlowGraph | None = None,
    *,
    token: str | None = None,
    page_size: int = DEFAULT_PAGE_SIZE,
) -> WSGIApp:
    """The support page for ``journal``, as a WSGI application.

    ``flows`` (a flow set, or the graph of several) adds the IVR graph to each call's page.
    ``token`` (visible ASCII, at least ``MIN_TOKEN_LENGTH`` characters) is required of every
    request; without one only loopback clients are answered. The journal is only read.
    Raises ``ImportError`` saying what to install when jinja2 (or grandalf, for ``flows``) is
    missing, and ``ValueError`` for a bad token or page size.
    """
    from minivoice_flow._support.app import SupportApp

    return SupportApp(journal, flows, token=token, page_size=page_size)


def from_environment() -> WSGIApp:
    """The support page for the journal named by ``MINIVOICE_JOURNAL`` (never created), with
    the token of ``MINIVOICE_SUPPORT_TOKEN`` if set: for a WSGI server's command line, such as
    ``gunicorn 'minivoice_flow.support:from_environment()'``."""
    location = os.environ.get(ENVIRONMENT_VARIABLE)
    if not location:
        raise ValueError(f"set {ENVIRONMENT_VARIABLE} to the journal's path or URL")
    token = os.environ.get(TOKEN_VARIABLE) or None
    return make_app(CallJournal(location, create=False), token=token)
