"""Fallback paths: flows that still end well when the caller presses nothing or the
destination of a transfer is busy, does not answer or fails.

Each helper returns a ``FlowSet``: every flow involved, named, and the URL that serves each
one, so the flows can be exported together, served by one web handler, and checked for a
redirect or fallback_url that nothing serves.

How the decisions are made. MiniVoice stores ``""`` in the collect's variable when no key is
pressed, then continues, so the no-input path is chosen where the collect redirects to: the
request there carries the variables, and ``FlowSet.next_flow`` reads them. A transfer that
does not connect makes MiniVoice request the transfer's fallback_url; the call's status in
that request (modelled: ``busy``, ``no_answer`` or ``failed``) chooses the flow.

URLs: a flow named ``n`` is served at ``{base_url}/n``; the decision after a collect at
``{base_url}/n/input``; a transfer's fallback at ``{base_url}/n/fallback``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from typing import Final, NoReturn, TypeVar
from urllib.parse import urlsplit

from attrs import field, frozen

from minivoice_flow import Diagnostic, Flow, FlowError, FlowValidationError, Redirect, Transfer
from minivoice_flow._fields import describe
from minivoice_flow._graph import FlowGraph

__all__ = [
    "Choice",
    "FlowSet",
    "collect_with_retries",
    "combine",
    "serve",
    "transfer_with_fallback",
]

#: Flow names the helpers use in URLs (and the build command in file names).
_NAME_PATTERN: Final = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]{0,63}")

T = TypeVar("T")

_TRANSFER_STATUSES: Final = ("busy", "no_answer", "failed")
#: The most attempts after the first a collect_with_retries makes (each is a flow of its own).
_MAX_RETRIES: Final = 10

#: What follows an input: a Flow, or a function of the digits that returns one.
_OnInput = Flow | Callable[[str], Flow]


@frozen
class Choice:
    """One way a request to a URL of a flow set can go on.

    ``when`` says what leads there: ``None`` for a URL that always serves the same flow (what
    brought the call there decides), else ``"no input"``, ``"give up"``, ``"pressed 1"``,
    ``"input"``, ``"busy"``, ``"no_answer"``, ``"failed"`` or ``"other status"``. ``flow`` is
    None when a function picks the flow at request time and the set cannot tell which.
    """

    when: str | None
    flow: Flow | None


@frozen
class _Serve:
    """Always the same flow."""

    flow: Flow

    def decide(self, variables: Mapping[str, str], status: str | None) -> Flow:
        return self.flow

    def choices(self) -> Iterator[Choice]:
        yield Choice(None, self.flow)


@frozen
class _AfterCollect:
    """After a collect: the retry flow when nothing usable was entered, else the input's."""

    variable: str
    retry: Flow
    on_input: _OnInput
    accept: Callable[[str], bool] | None
    #: The answers ``accept`` allows, when it is a set of them (for drawing the choices).
    answers: frozenset[str] | None = None
    #: True after the last attempt: no input means giving up.
    last: bool = False

    def decide(self, variables: Mapping[str, str], status: str | None) -> Flow:
        value = variables.get(self.variable, "")
        if value == "" or (self.accept is not None and not self.accept(value)):
            return self.retry
        return self._on(value)

    def choices(self) -> Iterator[Choice]:
        yield Choice("give up" if self.last else "no input", self.retry)
        if self.answers is not None:
            for answer in sorted(self.answers):
                yield Choice(f"pressed {answer}", self._on(answer))
        else:
            yield Choice("input", self.on_input if isinstance(self.on_input, Flow) else None)

    def _on(self, value: str) -> Flow:
        if isinstance(self.on_input, Flow):
            return self.on_input
        chosen: object = self.on_input(value)
        if not isinstance(chosen, Flow):
            msg = f"on_input for {self.variable!r} must return a Flow; got {describe(chosen)}"
            raise TypeError(msg)
        return chosen


@frozen
class _AfterTransfer:
    """At a transfer's fallback_url: the flow for the status, or the catch-all."""

    by_status: Mapping[str, Flow]
    otherwise: Flow

    def decide(self, variables: Mapping[str, str], status: str | None) -> Flow:
        return self.by_status.get(status or "", self.otherwise)

    def choices(self) -> Iterator[Choice]:
        for status in _TRANSFER_STATUSES:
            yield Choice(status, self.by_status.get(status, self.otherwise))
        if all(status in self.by_status for status in _TRANSFER_STATUSES):
            yield Choice("other status", self.otherwise)


_Route = _Serve | _AfterCollect | _AfterTransfer


@frozen
class FlowSet:
    """Flows that belong together, each served at its own URL, plus the decision points.

    ``entry`` is the first flow (serve it from the answer_url, or point the answer_url at
    ``entry_url``). ``flows`` holds every static flow, entry first, each named once.
    """

    entry: Flow
    entry_url: str
    flows: tuple[Flow, ...]
    _routes: Mapping[str, _Route] = field(alias="routes")

    def next_flow(
        self, url: str, variables: Mapping[str, str] | None = None, status: str | None = None
    ) -> Flow:
        """The flow to return to MiniVoice's request for ``url``.

        ``variables`` and ``status`` come from the request (``FlowRequest.variables`` and
        ``FlowRequest.call.status``). Raises ``LookupError`` for a URL this set does not serve.
        """
        route = self._routes.get(url)
        if route is None:
            served = ", ".join(sorted(self._routes))
            raise LookupError(f"{url!r} is not served by this flow set; it serves: {served}")
        return route.decide(variables or {}, status)

    def choices(self, url: str) -> tuple[Choice, ...]:
        """Every way a request for ``url`` can go on, as far as this set knows, in order.

        After a collect: no input (or give up, after the last attempt), then each answer of
        an ``accept`` set (``on_input`` is called with it when it is a function), else one
        ``"input"`` choice. At a transfer's fallback_url: each status. Raises
        ``LookupError`` for a URL this set does not serve.
        """
        route = self._routes.get(url)
        if route is None:
            self.next_flow(url)  # raises the LookupError that names what is served
        assert route is not None
        return tuple(route.choices())

    def graph(self) -> FlowGraph:
        """The IVR as a graph: a node per flow and unserved URL, an edge per way on.

        See ``minivoice_flow.graph``: ``to_mermaid()``, ``to_dot()`` and ``to_svg()``.
        """
        from minivoice_flow.graph import flow_graph

        return flow_graph(self)

    def urls(self) -> frozenset[str]:
        """Every URL this set answers."""
        return frozenset(self._routes)

    def targets(self) -> frozenset[str]:
        """Every URL its flows send MiniVoice to: redirect urls and transfer fallback_urls.

        Flows that an ``on_input`` function builds at request time are not included.
        """
        found = set()
        for flow in self.flows:
            for action in flow.actions:
                if isinstance(action, Redirect):
                    found.add(action.url)
                elif isinstance(action, Transfer) and action.fallback_url is not None:
                    found.add(action.fallback_url)
        return frozenset(found)

    def unserved(self) -> frozenset[str]:
        """URLs its flows point at that it does not serve: empty once everything is combined."""
        return self.targets() - self.urls()

    def flow(self, name: str) -> Flow:
        """The flow called ``name``; raises ``LookupError`` if there is none."""
        for flow in self.flows:
            if flow.name == name:
                return flow
        names = ", ".join(str(f.name) for f in self.flows)
        raise LookupError(f"no flow named {name!r} in this flow set; it has: {names}")

    def __contains__(self, url: object) -> bool:
        return url in self._routes

    def __minivoice_flows__(self) -> Iterator[Flow]:
        """The flows to export (the build command looks for this method)."""
        return iter(self.flows)


def collect_with_retries(
    name: str,
    *,
    prompt: str | Flow,
    base_url: str,
    on_input: _OnInput,
    variable: str | None = None,
    retries: int = 2,
    reprompt: str | Flow | None = None,
    give_up: Flow | None = None,
    accept: Collection[str] | Callable[[str], bool] | None = None,
    max_digits: int | None = None,
    timeout_ms: int | None = None,
    finish_on_key: str | None = None,
) -> FlowSet:
    """A collect that asks again when the caller presses nothing, then gives up safely.

    Flows: ``name`` (``prompt``, then the collect), ``name_retry_1`` .. ``name_retry_N``
    (N is ``retries``, at most 10; each plays ``reprompt``, default the prompt, then
    collects again) and the ``give_up`` flow (default: hang up; named ``name_give_up``
    unless it has a name). ``prompt`` and ``reprompt`` are an audio URL to play or a Flow of
    actions to run first.

    When the caller entered something (and ``accept``, a set of answers or a predicate,
    allows it), ``on_input`` gives the next flow: a Flow, or a function of the digits. An
    input ``accept`` refuses counts as no input. ``variable`` defaults to ``name``.
    """
    _checked_name(name)
    base = _base(base_url)
    variable = name if variable is None else variable
    wrong_type = isinstance(retries, bool) or not isinstance(retries, int)
    if wrong_type or not 0 <= retries <= _MAX_RETRIES:
        allowed = f"a whole number from 0 to {_MAX_RETRIES}"
        message = f"retries must be {allowed}; got {describe(retries)}"
        _fail("invalid_type" if wrong_type else "invalid_value", message)
    final = _named(give_up if give_up is not None else Flow().hangup(), f"{name}_give_up")
    static_input = _named(on_input, f"{name}_done") if isinstance(on_input, Flow) else None
    names = [name] + [f"{name}_retry_{k}" for k in range(1, retries + 1)]
    leads = [_prefix(prompt)] + [_prefix(prompt if reprompt is None else reprompt)] * retries
    asks = [
        Flow(ask_name)
        .then(lead)
        .collect(
            variable, max_digits=max_digits, timeout_ms=timeout_ms, finish_on_key=finish_on_key
        )
        .redirect(f"{base}/{ask_name}/input")
        for ask_name, lead in zip(names, leads, strict=True)
    ]
    # After each attempt: the next attempt when nothing usable was entered, the final flow
    # after the last one.
    checker = _acceptor(accept)
    answers = None if accept is None or callable(accept) else frozenset(accept)
    routes: dict[str, _Route] = {
        f"{base}/{ask.name}/input": _AfterCollect(
            variable,
            retry,
            on_input if static_input is None else static_input,
            checker,
            answers,
            last=retry is final,
        )
        for ask, retry in zip(asks, [*asks[1:], final], strict=True)
    }
    extra = [static_input] if static_input is not None else []
    return _flow_set(base, [*asks, final, *extra], routes)


def transfer_with_fallback(
    name: str,
    to: str,
    *,
    base_url: str,
    fallback: Flow | None = None,
    on_busy: Flow | None = None,
    on_no_answer: Flow | None = None,
    on_failed: Flow | None = None,
    before: Flow | None = None,
    after: Flow | None = None,
    caller_id: str | None = None,
    timeout_ms: int | None = None,
) -> FlowSet:
    """A transfer whose busy, no-answer and failed cases each lead somewhere.

    Flows: ``name`` (``before``, the transfer with its fallback_url set, ``after``, which runs
    on the bridged call), one flow for each of ``on_busy``, ``on_no_answer``, ``on_failed``
    given (named ``name_busy`` and so on unless they have a name) and ``fallback`` (default:
    hang up; named ``name_fallback``) for every other case.
    """
    _checked_name(name)
    base = _base(base_url)
    fallback_url = f"{base}/{name}/fallback"
    entry = (
        Flow(name)
        .then(before if before is not None else ())
        .transfer(to, caller_id=caller_id, timeout_ms=timeout_ms, fallback_url=fallback_url)
        .then(after if after is not None else ())
    )
    otherwise = _named(fallback if fallback is not None else Flow().hangup(), f"{name}_fallback")
    by_status = {
        status: _named(flow, f"{name}_{status}")
        for status, flow in zip(_TRANSFER_STATUSES, (on_busy, on_no_answer, on_failed), strict=True)
        if flow is not None
    }
    routes: dict[str, _Route] = {fallback_url: _AfterTransfer(by_status, otherwise)}
    return _flow_set(base, [entry, *by_status.values(), otherwise], routes)


def serve(flow: Flow, *, base_url: str) -> FlowSet:
    """One named flow, served at ``{base_url}/{name}``: to combine with the helpers' sets."""
    if flow.name is None:
        _fail("invalid_value", "serve() needs a named flow: use Flow(name) or flow.named(name)")
    return _flow_set(_base(base_url), [flow], {})


def combine(first: FlowSet, *others: FlowSet) -> FlowSet:
    """One set serving every URL of the given sets; its entry is ``first``'s.

    The same flow or route may appear in several sets; two different flows with one name, or
    two different routes for one URL, are an error.
    """
    flows: dict[str, Flow] = {}
    routes: dict[str, _Route] = {}
    for flow_set in (first, *others):
        for flow in flow_set.flows:
            _add(flows, str(flow.name), flow, "flows named")
        for url, route in flow_set._routes.items():
            _add(routes, url, route, "ways to answer")
    return FlowSet(first.entry, first.entry_url, tuple(flows.values()), routes=routes)


# Building blocks.


def _flow_set(base: str, flows: Iterable[Flow], routes: dict[str, _Route]) -> FlowSet:
    """A set serving each flow at ``{base}/{name}`` besides ``routes``; every flow checked."""
    unique: dict[str, Flow] = {}
    for flow in flows:
        name = _checked_name(str(flow.name))
        _add(unique, name, flow, "flows named")
        report = flow.check()
        if not report.ok:
            raise FlowValidationError(report.diagnostics, subject=f"flow {name!r}")
        routes[f"{base}/{name}"] = _Serve(flow)
    ordered = tuple(unique.values())
    return FlowSet(ordered[0], f"{base}/{ordered[0].name}", ordered, routes=routes)


def _add(found: dict[str, T], key: str, value: T, what: str) -> None:
    if key in found and found[key] != value:
        _fail("invalid_value", f"two different {what} {key!r}: give one of them another name")
    found[key] = value


def _named(flow: Flow, default: str) -> Flow:
    """The flow under its own name, or under ``default`` when it has none."""
    return flow if flow.name is not None else flow.named(default)


def _prefix(lead: str | Flow) -> Flow:
    return Flow().play(lead) if isinstance(lead, str) else lead


def _acceptor(
    accept: Collection[str] | Callable[[str], bool] | None,
) -> Callable[[str], bool] | None:
    if accept is None or callable(accept):
        return accept
    if isinstance(accept, str):
        _fail(
            "invalid_type",
            f'accept takes a set of answers, such as {{"1", "2"}}, or a function; got '
            f"the string {describe(accept)}",
        )
    answers = frozenset(accept)
    return answers.__contains__


def _checked_name(name: str) -> str:
    if not isinstance(name, str) or _NAME_PATTERN.fullmatch(name) is None:
        _fail(
            "invalid_value",
            f"a flow name in a flow set must be 1 to 64 letters, digits, _ or - (not starting "
            f"with -), as it is part of a URL; got {describe(name)}",
        )
    return name


def _base(base_url: str) -> str:
    """``base_url`` without a trailing slash, checked as the redirect url it will prefix."""
    try:
        Redirect(base_url)
    except FlowError as error:
        _fail(error.code or "invalid_value", f"base_url: {error}")
    parts = urlsplit(base_url)
    if parts.query or parts.fragment:
        _fail(
            "invalid_value",
            f"base_url must not have a query or fragment, since paths are added to it; "
            f"got {describe(base_url)}",
        )
    return base_url.rstrip("/")


def _fail(code: str, message: str) -> NoReturn:
    # Arguments of a helper, not fields of the JSON: the pointer is the document's.
    raise FlowError(message, [Diagnostic.error(code, "", message)])
