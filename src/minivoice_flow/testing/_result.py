"""What a simulated call returns: every action, tone, key, transfer and request, with times."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any, Final, Literal

from attrs import field, frozen

from minivoice_flow._actions import Action
from minivoice_flow._diagnostics import Diagnostic
from minivoice_flow._flow import Flow
from minivoice_flow._text import printable

#: Why the simulation stopped.
EndReason = Literal[
    "hangup_action",  # the flow's own hangup
    "actions_done",  # the last actions array ran out
    "caller_hung_up",  # the caller's script hung up
    "transfer_not_connected",  # busy, no answer or failed, with no fallback_url
    "response_rejected",  # an answer_url, redirect or fallback response was not valid
    "request_failed",  # a request got an HTTP error or no response at all
    "not_followed",  # a redirect or fallback_url with no handler: the call goes on unseen
    "request_limit",  # more requests than allowed: probably a redirect loop
]

#: Who heard tones sent before any transfer.
CALLER: Final = "caller"


@frozen
class ActionRecord:
    """One action as it ran: where it came from, when it started and ended, and how."""

    index: int  # position in its actions array
    kind: str
    url: str  # the URL whose response held the action
    flow: str | None  # the Flow's name, when the handler returned a named Flow
    start_ms: int
    end_ms: int
    #: played, max_digits, finish_key, timeout, sent, answered, busy, no_answer, failed,
    #: followed, not_followed, rejected, request_failed, hung_up, or caller_hung_up
    outcome: str
    action: Action = field(eq=False, repr=False)  # the action object itself
    detail: str = ""

    @property
    def pointer(self) -> str:
        """The action's JSON pointer in its actions array, as diagnostics write it."""
        return f"/actions/{self.index}/{self.kind}"

    @property
    def step(self) -> str:
        """A label for the step: the flow's name (or URL) and the action's pointer."""
        source = self.url if self.flow is None else self.flow
        return f"{source} {self.pointer}"

    def row(self) -> tuple[str, int, int, str]:
        """``(kind, start_ms, end_ms, outcome)``: what ``assert_timeline`` compares."""
        return (self.kind, self.start_ms, self.end_ms, self.outcome)


@frozen
class ToneRecord:
    """One DTMF tone sent by ``send_digits``: when it started, to whom, and whether it was heard."""

    char: str
    at_ms: int
    to: str  # "caller" before any transfer, else the transfer destination
    heard: bool
    action: int  # index of the send_digits in ``SimulationResult.actions``
    transfer: int | None  # index in ``SimulationResult.transfers``, None for the caller


@frozen
class KeyRecord:
    """One key the caller pressed, and the collect that took it (None: nobody was listening)."""

    key: str
    pressed_at_ms: int
    counted_at_ms: int
    collected_into: str | None


@frozen
class TransferRecord:
    """One transfer: how the destination responded and what it heard once it listened."""

    to: str
    start_ms: int
    outcome: str  # answered, busy, no_answer, failed, or caller_hung_up while ringing
    answered_at_ms: int | None
    ready_at_ms: int | None
    expect: str | None
    heard: str  # the tones it heard while ready, in order

    @property
    def accepted(self) -> bool | None:
        """Whether it heard exactly what it expects; None when it expects nothing."""
        return None if self.expect is None else self.heard == self.expect


@frozen
class RequestRecord:
    """One request to the application and what came back: a flow, a rejection or an error.

    ``reason`` is answer, redirect or fallback; a webhook delivery has reason webhook.
    """

    reason: str  # answer, redirect, fallback or webhook
    method: str
    url: str  # the URL as the flow (or simulate's caller) named it
    via: str  # what served it: a callable's name, a Flow, or the URL requested over HTTP
    at_ms: int
    body: dict[str, Any] = field(eq=False)
    outcome: str  # ok, rejected, failed or not_followed
    status_code: int | None = None
    response_text: str | None = None
    flow: Flow | None = field(default=None, eq=False, repr=False)
    diagnostics: tuple[Diagnostic, ...] = ()
    error: str = ""


@frozen
class TimelineEvent:
    """One line of the timeline: when it happened (and ended), in words."""

    at_ms: int
    end_ms: int | None
    text: str


@frozen
class SimulationResult:
    """Everything a simulated call did, in simulated milliseconds from the answer."""

    call_id: str
    direction: str
    caller: str
    status: str  # the call's final status; in_progress when a URL was not followed
    end_reason: EndReason
    ended_at_ms: int
    actions: tuple[ActionRecord, ...]
    tones: tuple[ToneRecord, ...]
    keys: tuple[KeyRecord, ...]
    transfers: tuple[TransferRecord, ...]
    requests: tuple[RequestRecord, ...]
    deliveries: tuple[RequestRecord, ...]  # webhook POSTs to webhook_url, if one was given
    webhooks: tuple[dict[str, Any], ...] = field(eq=False)
    variables: Mapping[str, str]
    events: tuple[TimelineEvent, ...] = field(eq=False, repr=False)
    not_followed: str | None = None

    @property
    def last_step(self) -> ActionRecord | None:
        """The last action that started (None if the call ended before any)."""
        return self.actions[-1] if self.actions else None

    @property
    def far_end_digits(self) -> str:
        """The tones transfer destinations heard while they were ready, as one string."""
        return "".join(t.char for t in self.tones if t.transfer is not None and t.heard)

    @property
    def far_end_accepted(self) -> bool:
        """True when some destination that expects digits heard exactly them."""
        return any(t.accepted for t in self.transfers)

    @property
    def diagnostics(self) -> tuple[Diagnostic, ...]:
        """The diagnostics of a rejected response, when that is how the call ended."""
        rejected = [r for r in self.requests if r.outcome == "rejected"]
        return rejected[-1].diagnostics if rejected else ()

    def rows(self) -> list[tuple[str, int, int, str]]:
        """Every action as ``(kind, start_ms, end_ms, outcome)``."""
        return [a.row() for a in self.actions]

    def timeline(self) -> str:
        """The call as lines of text, in time order: what a failing test prints."""
        return render_timeline(self)

    def to_svg(self) -> str:
        """The call as a picture (SVG): the caller's keys, each action as a bar, and each far
        end's tones, heard or lost, against the moment it became ready to listen.

        Hooks for tests and styling: tones are ``rect.tone.heard`` or ``rect.tone.lost``
        with ``data-digit``; action bars are ``g.action`` with ``data-kind``; the moment a
        far end starts listening is ``line.ready``.
        """
        from minivoice_flow._draw.timeline import draw_timeline

        return draw_timeline(self)

    def _repr_svg_(self) -> str:
        """The picture, for notebooks."""
        return self.to_svg()

    def __str__(self) -> str:
        return self.timeline()


# Rendering: one line per event, written by the engine as things happen.


def action_line(action: ActionRecord) -> str:
    detail = f" {action.detail}" if action.detail else ""
    return f"[{action.index}] {action.kind}{detail}: {action.outcome}"


def tone_line(tone: ToneRecord, ready_at_ms: int | None) -> str:
    if tone.transfer is None:
        return f"  tone {shown(tone.char)} to the caller"
    if tone.heard:
        return f"  tone {shown(tone.char)} to {tone.to}: heard"
    return f"  tone {shown(tone.char)} to {tone.to}: lost (listening from {ready_at_ms})"


def key_line(key: KeyRecord) -> str:
    taken = f"into {key.collected_into}" if key.collected_into else "not collected"
    return f"  caller presses {shown(key.key)}: {taken} (counts at {key.counted_at_ms})"


def request_line(request: RequestRecord) -> str:
    start = f"{request.reason} {request.method} {request.url}"
    if request.via != request.url:
        start += f" (via {request.via})"
    if request.outcome == "ok":
        if request.flow is None:
            return f"{start} -> delivered"
        name = f" {shown(request.flow.name)}" if request.flow.name else ""
        count = len(request.flow.actions)
        return f"{start} -> flow{name}, {count} action{'s' if count != 1 else ''}"
    if request.outcome == "rejected":
        found = "; ".join(f"{d.code} at {d.path or '(document)'}" for d in request.diagnostics)
        return f"{start} -> rejected: {found}"
    if request.outcome == "not_followed":
        return f"{start} -> not followed: {request.error}"
    return f"{start} -> failed: {request.error}"


def webhook_line(hook: Mapping[str, Any]) -> str:
    return f"webhook {hook['event']} (status {hook['call']['status']})"


def end_line(result: SimulationResult) -> str:
    last = result.last_step
    text = f"end: {result.status} ({result.end_reason.replace('_', ' ')})"
    if result.not_followed:
        text += f"; not followed: {result.not_followed}"
    return f"{text}; last step: {last.step if last else 'none'}"


def render_timeline(result: SimulationResult) -> str:
    """The timeline as text: one line per event, each made safe for a terminal.

    Call IDs, URLs, flow names, JSON pointers and error texts may come from the application
    under test (or its HTTP responses); ``printable`` escapes any control character in a line,
    so a value can neither forge a line of the timeline nor drive the terminal.
    """
    header = (
        f"call {result.call_id}, {result.direction}, caller {result.caller}; "
        "ms from the answer (start, end)"
    )
    lines = [header]
    for event in sorted(result.events, key=lambda e: e.at_ms):  # stable: causal order kept
        end = "" if event.end_ms is None else event.end_ms
        lines.append(f"{event.at_ms:>7} {end:>7}  {event.text}")
    lines.append(f"{result.ended_at_ms:>7} {'':>7}  {end_line(result)}")
    return printable_lines(lines)


def printable_lines(lines: Iterable[str]) -> str:
    """``lines`` joined by line breaks, each with its control characters escaped."""
    return "\n".join(map(printable, lines))


def shown(value: str) -> str:
    """A string as it appears in timelines and messages."""
    return json.dumps(value, ensure_ascii=False)
