"""The support page's WSGI application: routes, the journal reads behind each page, and the
rendering of each page as HTML (jinja2, autoescaped) or as its JSON twin.

Only the journal's reading methods are called here. Each page reads what it shows through
the journal's indexed queries (a page of summaries, one summary, one call's records) and
never more than a page's worth of rows.
"""

from __future__ import annotations

import functools
import json
import logging
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from importlib import resources
from typing import Any, Final

from attrs import frozen

from minivoice_flow._support.web import (
    Gate,
    Handler,
    HttpError,
    Request,
    Response,
    local_target,
    only,
    read_form,
    read_request,
    redirect,
    shown,
    wants_json,
    whole,
)
from minivoice_flow._text import printable
from minivoice_flow.fallback import FlowSet
from minivoice_flow.graph import FlowGraph
from minivoice_flow.journal import CallJournal, JournalError, LastStep, Outcome, Record
from minivoice_flow.wsgi import StartResponse

try:
    import jinja2
except ImportError:  # pragma: no cover - exercised in a subprocess without jinja2
    raise ImportError(
        "the support page needs jinja2 to render its pages: pip install 'minivoice-flow[support]'",
        name="jinja2",
    ) from None

LOG: Final = logging.getLogger("minivoice_flow.support")

#: The most records of one call shown (and drawn); the page says how many more there are.
MAX_RECORDS: Final = 500
#: The most characters of a record's body shown on the page (the JSON twin has all).
MAX_BODY_SHOWN: Final = 16 * 1024
#: The most calls or records a request may ask for in one page.
MAX_PAGE: Final = 200
#: The longest search text: the longest call ID or phone number the journal keeps.
MAX_SEARCH: Final = 256
#: The longest call ID the journal files under (``minivoice_flow.journal``'s own limit).
MAX_CALL_ID: Final = 255
_LARGEST_ID: Final = 2**63 - 1
#: A phone number as people type it: separators are dropped before it is looked up.
_PHONE: Final = re.compile(r"\+?[0-9][0-9 ().-]*")
_SEPARATORS: Final = re.compile(r"[ ().-]")

#: Each outcome in a few words, for the filter and the badges.
OUTCOME_LABELS: Final = {
    Outcome.IN_PROGRESS: "in progress",
    Outcome.COMPLETED: "completed",
    Outcome.HUNG_UP: "caller hung up",
    Outcome.BUSY: "busy",
    Outcome.NO_ANSWER: "no answer",
    Outcome.FAILED: "failed",
    Outcome.UNKNOWN: "other ending",
}

_WRONG_TOKEN: Final = "That token is not the one this page was started with."
#: The part of the site each page belongs to, for the navigation bar.
_SECTIONS: Final = {
    "calls.html.j2": "calls",
    "call.html.j2": "calls",
    "unattributed.html.j2": "unattributed",
}

_STATIC: Final = {
    "/static/support.css": ("support.css", "text/css; charset=utf-8"),
    "/static/icon.svg": ("icon.svg", "image/svg+xml"),
    # Asked for by a browser showing one of the pictures on its own.
    "/favicon.ico": ("icon.svg", "image/svg+xml"),
}


@frozen
class Route:
    """A path of the application: its handler, methods, parameters, and whether it needs the
    visitor to be let in (everything but the login form and the style sheet does)."""

    handler: Handler
    methods: tuple[str, ...] = ("GET", "HEAD")
    params: tuple[str, ...] = ()
    guarded: bool = True


class SupportApp:
    """The support page for one journal (see ``minivoice_flow.support``)."""

    def __init__(
        self,
        journal: CallJournal,
        flows: FlowSet | FlowGraph | None,
        *,
        token: str | None,
        page_size: int,
    ) -> None:
        if isinstance(page_size, bool) or not isinstance(page_size, int):
            raise ValueError(f"page_size must be a whole number; got {page_size!r}")
        if not 1 <= page_size <= MAX_PAGE:
            raise ValueError(f"page_size must be from 1 to {MAX_PAGE}; got {page_size}")
        if flows is not None and not isinstance(flows, FlowSet | FlowGraph):
            raise ValueError(f"flows must be a FlowSet or a FlowGraph; got {flows!r}")
        self.journal = journal
        self.gate = Gate(token)
        self.page_size = page_size
        self.graph = flows.graph() if isinstance(flows, FlowSet) else flows
        if self.graph is not None:
            _check_layout(self.graph)
        self._graph_svg = functools.lru_cache(maxsize=256)(self._draw_graph)
        self._templates = _environment()
        folder = resources.files("minivoice_flow._support") / "static"
        self._static = {
            path: (folder.joinpath(name).read_bytes(), kind)
            for path, (name, kind) in _STATIC.items()
        }
        page = ("format",)
        self.routes: dict[str, Route] = {
            "/": Route(self._home),
            "/calls": Route(self._calls, params=("q", "outcome", "before", "limit", *page)),
            "/call": Route(self._call, params=("id", *page)),
            "/call/timeline.svg": Route(self._timeline_svg, params=("id",)),
            "/call/graph.svg": Route(self._graph_page_svg, params=("id",)),
            "/unattributed": Route(self._unattributed, params=("before", "limit", *page)),
            "/login": Route(self._login, ("GET", "HEAD", "POST"), ("next",), guarded=False),
            "/logout": Route(self._logout, ("POST",), guarded=False),
            **{path: Route(self._file, guarded=False) for path in _STATIC},
        }

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> list[bytes]:
        try:
            response = self._respond(environ)
        except HttpError as error:
            response = self._error(environ, error)
        except JournalError as error:
            LOG.warning("the journal could not be read: %s", error)
            refusal = HttpError(503, f"the journal cannot be read right now: {error}")
            response = self._error(environ, refusal)
        except Exception:
            LOG.exception(
                "the support page failed on %r %r",
                environ.get("REQUEST_METHOD"),
                environ.get("PATH_INFO"),
            )
            response = self._error(environ, HttpError(500, "internal error; see the server's log"))
        return response.send(start_response)

    def _respond(self, environ: Mapping[str, Any]) -> Response:
        path = str(environ.get("PATH_INFO") or "/")
        route = self.routes.get(path)
        if route is None:
            raise HttpError(404, "there is no such page")
        method = str(environ.get("REQUEST_METHOD") or "").upper()
        if method not in route.methods:
            allowed = ", ".join(route.methods)
            raise HttpError(405, f"use {allowed}", headers=(("Allow", allowed),))
        request = read_request(environ)
        only(request.params, route.params)
        if route.guarded and not self.gate.admits(environ):
            return self._turned_away(request)
        return route.handler(request)

    # Pages.

    def _home(self, request: Request) -> Response:
        return redirect(request.url("/calls"))

    def _calls(self, request: Request) -> Response:
        params = request.params
        search = params.get("q", "").strip()
        if len(search) > MAX_SEARCH:
            raise HttpError(400, f"q may be at most {MAX_SEARCH} characters")
        outcome = _outcome(params.get("outcome", ""))
        before, limit = self._paging(params)
        found: list[LastStep] = []
        if search and before is None and _usable_call_id(search):
            call = self.journal.last_step(search)
            if call is not None and outcome in (None, call.outcome):
                found.append(call)
        number = _number(search) if search else None
        page = self.journal.recent(limit + 1, before=before, outcome=outcome, number=number)
        calls = found + [c for c in page[:limit] if c not in found]
        next_before = page[limit - 1].last_record_id if len(page) > limit else None
        unattributed = self.journal.unattributed_count()
        document = {
            "calls": [c.to_dict() for c in calls],
            "unattributed": unattributed,
            "next_before": next_before,
        }
        context = {
            "calls": calls,
            "search": search,
            "outcome": outcome,
            "before": before,
            "next_before": next_before,
            "unattributed": unattributed,
            "filtered": bool(search) or outcome is not None,
        }
        return self._page(request, "calls.html.j2", context, document)

    def _call(self, request: Request) -> Response:
        last, records = self._recorded_call(request)
        document = {
            "last_step": last.to_dict(),
            "timeline": [r.to_dict() for r in records],
            "more_records": last.records - len(records),
        }
        context = {
            "call": last,
            "records": records,
            "more_records": last.records - len(records),
            "graph": self.graph is not None,
            "steps_in_graph": self._steps_in_graph(records),
            "span": _span(last.updated_at - last.started_at),
        }
        return self._page(request, "call.html.j2", context, document)

    def _timeline_svg(self, request: Request) -> Response:
        from minivoice_flow._draw.recorded import draw_recorded_call

        last, records = self._recorded_call(request)
        return _svg(draw_recorded_call(records, last))

    def _graph_page_svg(self, request: Request) -> Response:
        if self.graph is None:
            raise HttpError(404, "no flow set was given to the support page")
        last, records = self._recorded_call(request)
        steps = tuple(_steps(records))
        ended_in = last.step if last.outcome is not Outcome.IN_PROGRESS else None
        return _svg(self._graph_svg(steps, ended_in))

    def _unattributed(self, request: Request) -> Response:
        before, limit = self._paging(request.params)
        page = self.journal.unattributed(limit + 1, before=before)
        records = page[:limit]
        next_before = records[-1].id if len(page) > limit else None
        count = self.journal.unattributed_count()
        document = {
            "records": [r.to_dict() for r in records],
            "unattributed": count,
            "next_before": next_before,
        }
        context = {
            "records": records,
            "unattributed": count,
            "before": before,
            "next_before": next_before,
        }
        return self._page(request, "unattributed.html.j2", context, document)

    def _login(self, request: Request) -> Response:
        home = request.url("/calls")
        if not self.gate.has_token:
            return redirect(home)
        if request.method != "POST":
            target = local_target(request.params.get("next"), "/calls")
            return self._login_form(request, target, None)
        form = read_form(request.environ)
        only(form, ("token", "next", "username"))  # the name only helps password managers
        target = local_target(form.get("next"), "/calls")
        if not self.gate.accepts(form.get("token", "")):
            return self._login_form(
                request, target, "That token is not the one this page was started with."
            )
        cookie = self.gate.session_cookie(request.base + "/", secure=_https(request))
        return redirect(request.base + target, ("Set-Cookie", cookie))

    def _logout(self, request: Request) -> Response:
        cookie = self.gate.signed_out_cookie(request.base + "/", secure=_https(request))
        return redirect(request.url("/login"), ("Set-Cookie", cookie))

    def _file(self, request: Request) -> Response:
        body, kind = self._static[request.path]
        return Response(200, kind, body, cache="public, max-age=3600")

    # Reading the journal.

    def _paging(self, params: Mapping[str, str]) -> tuple[int | None, int]:
        """``before`` (where the previous page ended, if anywhere) and ``limit``."""
        before = whole(params, "before", least=1, most=_LARGEST_ID, default=None)
        limit = whole(params, "limit", least=1, most=MAX_PAGE, default=self.page_size)
        assert limit is not None
        return before, limit

    def _recorded_call(self, request: Request) -> tuple[LastStep, tuple[Record, ...]]:
        call_id = request.params.get("id")
        if call_id is None:
            raise HttpError(400, "give the call's ID: ?id=...")
        if not _usable_call_id(call_id):
            raise HttpError(
                400,
                f"id must be a call ID: 1 to {MAX_CALL_ID} characters with no NUL; "
                f"got {shown(call_id)}",
            )
        last = self.journal.last_step(call_id)
        if last is None:
            raise HttpError(404, f"nothing is recorded for the call {shown(call_id)}")
        return last, self.journal.timeline(call_id, limit=MAX_RECORDS)

    def _steps_in_graph(self, records: Sequence[Record]) -> bool:
        if self.graph is None:
            return False
        known = {n.name for n in self.graph.nodes} | {n.url for n in self.graph.nodes}
        return any(step in known for step in _steps(records))

    def _draw_graph(self, steps: tuple[str, ...], ended_in: str | None) -> str:
        assert self.graph is not None
        return self.graph.to_svg(highlight=steps, ended_in=ended_in)

    # Responses.

    def _page(
        self,
        request: Request,
        template: str,
        context: dict[str, Any],
        document: Mapping[str, Any],
        *,
        status: int = 200,
    ) -> Response:
        if request.json:
            return _json(status, document)
        return self._html(request, template, context, status)

    def _html(
        self, request: Request, template: str, context: dict[str, Any], status: int = 200
    ) -> Response:
        common = {
            "url": request.url,
            "here": lambda **changes: request.base + request.here(**changes),
            "json_url": request.base + request.here(format="json"),
            "section": _SECTIONS.get(template),
            # Where the journal is, only for a visitor let in (not on the login form).
            "journal": printable(self.journal.path) if self.gate.admits(request.environ) else None,
            "signed_in": self.gate.signed_in(request.environ),
            "outcomes": OUTCOME_LABELS,
        }
        text = self._templates.get_template(template).render(**common, **context)
        return Response(status, "text/html; charset=utf-8", text.encode("utf-8"))

    def _login_form(self, request: Request, target: str, problem: str | None) -> Response:
        context = {"target": target, "problem": problem}
        return self._html(request, "login.html.j2", context, 403 if problem else 200)

    def _turned_away(self, request: Request) -> Response:
        """A visitor the gate does not admit: told how to get in."""
        if not self.gate.has_token:
            raise HttpError(
                403,
                "without a token this page answers only on loopback (127.0.0.1 or localhost); "
                "start it with a token to reach it from elsewhere",
            )
        if request.json or request.method != "GET":
            raise HttpError(
                401,
                "send the token as Authorization: Bearer <token>",
                headers=(("WWW-Authenticate", 'Bearer realm="minivoice-flow support"'),),
            )
        return redirect(request.url("/login", next=request.here()))

    def _error(self, environ: Mapping[str, Any], error: HttpError) -> Response:
        document = {"error": {"status": error.status, "message": error.message}}
        if wants_json(environ):
            return _json(error.status, document, error.headers)
        try:
            request = read_request(environ)
        except HttpError:
            request = Request("GET", "/", {}, str(environ.get("SCRIPT_NAME") or ""), False, environ)
        try:
            context = {"status": error.status, "message": error.message}
            page = self._html(request, "error.html.j2", context, error.status)
        except Exception:
            LOG.exception("the error page could not be rendered")
            body = f"{error.status}: {printable(error.message)}\n".encode()
            return Response(error.status, "text/plain; charset=utf-8", body, error.headers)
        return Response(page.status, page.content_type, page.body, error.headers)


def _environment() -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("minivoice_flow._support", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["line"] = lambda text: "" if text is None else printable(text)
    environment.filters["block"] = _block
    environment.filters["when"] = _when
    environment.filters["body"] = _body
    environment.filters["label"] = lambda outcome: OUTCOME_LABELS[outcome]
    environment.globals["MAX_BODY_SHOWN"] = MAX_BODY_SHOWN
    return environment


def _check_layout(graph: FlowGraph) -> None:
    """The graph can be drawn here (grandalf is installed), or an ImportError says so."""
    try:
        graph.to_svg()
    except ImportError:
        raise ImportError(
            "the support page draws the IVR graph with grandalf: "
            "pip install 'minivoice-flow[support]'",
            name="grandalf",
        ) from None


def _json(
    status: int, document: Mapping[str, Any], headers: tuple[tuple[str, str], ...] = ()
) -> Response:
    # <, > and & escaped too: the same JSON, and inert even where something sniffs for HTML.
    text = json.dumps(document, ensure_ascii=True)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Response(status, "application/json", text.encode("ascii"), headers)


def _svg(text: str) -> Response:
    return Response(200, "image/svg+xml; charset=utf-8", text.encode("utf-8"))


def _https(request: Request) -> bool:
    return request.environ.get("wsgi.url_scheme") == "https"


def _outcome(value: str) -> Outcome | None:
    if value == "":
        return None
    try:
        return Outcome(value)
    except ValueError:
        allowed = ", ".join(o.value for o in Outcome)
        raise HttpError(400, f"outcome must be one of {allowed}; got {shown(value)}") from None


def _usable_call_id(value: str) -> bool:
    """A text the journal files calls under: 1 to 255 characters with no NUL (the query was
    read as strict UTF-8, so it holds no lone surrogate)."""
    return 0 < len(value) <= MAX_CALL_ID and "\x00" not in value


def _number(search: str) -> str:
    """The number to look up: a phone number as typed, separators dropped; else as given."""
    return _SEPARATORS.sub("", search) if _PHONE.fullmatch(search) else search


def _steps(records: Sequence[Record]) -> list[str]:
    """The steps of a call in order (each response's flow name, else its URL), repeats of the
    same step in a row counted once."""
    steps: list[str] = []
    for record in records:
        step = record.flow_name or record.url
        if record.kind == "response" and step is not None and (not steps or steps[-1] != step):
            steps.append(step)
    return steps


def _block(text: str) -> str:
    """Text shown on several lines: each line made printable, the line breaks kept."""
    return "\n".join(printable(line) for line in text.split("\n"))


def _body(text: str) -> str:
    return _block(text[:MAX_BODY_SHOWN])


def _when(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _span(length: timedelta) -> str:
    seconds = max(int(length.total_seconds()), 0)
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min {seconds} s" if minutes else f"{seconds} s"
