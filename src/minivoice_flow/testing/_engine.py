"""The simulated call: runs an application's flows in simulated time, by the platform model.

Time is whole milliseconds from the moment the call is answered; nothing sleeps and nothing is
random, so the same inputs always give the same result. A caller's hang-up at ``H`` cuts
whatever is running at ``H``: what ends at or before ``H`` completes, nothing starts at or
after it.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Final

from attrs import define, frozen

from minivoice_flow._actions import Action, Collect, Hangup, Play, Redirect, SendDigits, Transfer
from minivoice_flow._flow import Flow
from minivoice_flow._rules import Direction
from minivoice_flow.testing._handlers import (
    CallRequest,
    Handler,
    Reason,
    ask,
    http_exchange,
    resolve,
)
from minivoice_flow.testing._keypad import Keypad
from minivoice_flow.testing._parties import Caller, TestIVR
from minivoice_flow.testing._payloads import (
    ANSWERED,
    CALL_ID,
    COMPLETED,
    INITIATED,
    call_object,
    request_body,
    webhook,
)
from minivoice_flow.testing._result import (
    CALLER,
    ActionRecord,
    EndReason,
    RequestRecord,
    SimulationResult,
    TimelineEvent,
    ToneRecord,
    TransferRecord,
    action_line,
    key_line,
    request_line,
    shown,
    tone_line,
    webhook_line,
)
from minivoice_flow.testing._settings import MAX_REQUESTS, FarEnd, Settings
from minivoice_flow.testing._timing import (
    COLLECT_TIMEOUT_MS,
    FINISH_ON_KEY,
    TRANSFER_TIMEOUT_MS,
    Timing,
)


def simulate(
    app: Handler,
    *,
    caller: Caller | None = None,
    far_end: FarEnd | None = None,
    handlers: Mapping[str, Handler] | None = None,
    webhook_url: str | None = None,
    direction: Direction | None = None,
    answer_url: str | None = None,
    audio_ms: Mapping[str, int] | None = None,
    timing: Timing | None = None,
    call_id: str = CALL_ID,
    max_requests: int = MAX_REQUESTS,
) -> SimulationResult:
    """Run one call through an application in simulated time and report what happened.

    ``app`` answers the call: a ``Flow``, a callable taking a ``CallRequest`` and returning a
    Flow or answer_url JSON (text, bytes or a dict), or an http(s) URL on loopback. Redirects
    and fallback URLs are looked up in ``handlers`` (URL -> handler; a key ending in "/" serves
    every URL under it); loopback URLs with no entry are requested over HTTP, and any other
    URL is not followed: the simulation stops there with status ``in_progress``.

    ``caller`` scripts the caller (default: silent). ``far_end`` answers transfers: one
    ``TestIVR`` for every destination, or a mapping from destination to ``TestIVR`` (an
    unlisted destination fails); by default every transfer is answered and ready at once.
    ``webhook_url`` (loopback) receives each webhook as a JSON POST at its moment.
    ``audio_ms`` gives the length of one play of a URL (default ``timing.play_ms``).
    """
    settings = Settings.checked(
        app=app,
        caller=caller,
        far_end=far_end,
        handlers=handlers,
        webhook_url=webhook_url,
        direction=direction,
        answer_url=answer_url,
        audio_ms=audio_ms,
        timing=timing,
        call_id=call_id,
        max_requests=max_requests,
    )
    return _Call(settings).run(app)


@define
class _Leg:
    """A transfer in progress or done; becomes a ``TransferRecord`` at the end."""

    to: str
    start_ms: int
    outcome: str
    answered_at_ms: int | None = None
    ready_at_ms: int | None = None
    expect: str | None = None


@frozen
class _Step:
    """The action about to run and where it came from."""

    index: int
    url: str
    flow: str | None
    action: Action


class _Stop(enum.Enum):
    STOP = "stop"


_STOP: Final = _Stop.STOP
#: What running an action leads to: the next actions array, the end, or (None) the next action.
_Next = tuple[Flow, str] | _Stop | None

_DEFAULT_IVR: Final = TestIVR()
#: A redirect's outcome, from its request's.
_REDIRECT_OUTCOMES: Final = {
    "ok": "followed",
    "rejected": "rejected",
    "failed": "request_failed",
    "not_followed": "not_followed",
}


class _Call:
    """One simulated call's state, advanced action by action."""

    def __init__(self, settings: Settings) -> None:
        self.s = settings
        self.timing = settings.timing
        self.hangup_at = settings.caller.hangup_at_ms
        self.keypad = Keypad(self.timing.key_press_ms, settings.caller.keys)
        self.now = 0
        self.variables: dict[str, str] = {}
        self.actions: list[ActionRecord] = []
        self.tones: list[ToneRecord] = []
        self.legs: list[_Leg] = []
        self.requests: list[RequestRecord] = []
        self.deliveries: list[RequestRecord] = []
        self.events: list[TimelineEvent] = []
        self.slot = 0  # the event that the running action's line will fill
        self.webhooks: list[dict[str, object]] = []
        self.bridge: int | None = None  # index in legs of the destination now on the call
        self.prompted = False
        self.replies_used = 0
        self.status = "in_progress"
        self.end_reason: EndReason = "actions_done"
        self.not_followed: str | None = None

    def run(self, app: Handler) -> SimulationResult:
        self._webhook(*INITIATED)
        self._webhook(*ANSWERED)
        going = self._request(self.s.answer_url, "POST", "answer", handler=app)
        while isinstance(going, tuple):
            going = self._run_actions(*going)
        return self._result()

    # Running actions.

    def _run_actions(self, flow: Flow, url: str) -> _Next:
        for index, action in enumerate(flow.actions):
            if self._hung_up_by(self.now):
                return self._end("completed", "caller_hung_up")
            step = _Step(index, url, flow.name, action)
            self.slot = self._log(self.now, "")
            going = self._run(step)
            if going is not None:
                return going
        return self._end("completed", "actions_done")

    def _run(self, step: _Step) -> _Next:
        action = step.action
        if isinstance(action, Play):
            return self._play(step, action)
        if isinstance(action, Collect):
            return self._collect(step, action)
        if isinstance(action, SendDigits):
            return self._send_digits(step, action)
        if isinstance(action, Transfer):
            return self._transfer(step, action)
        if isinstance(action, Redirect):
            return self._redirect(step, action)
        assert isinstance(action, Hangup)
        self._record(step, self.now, "hung_up")
        return self._end("completed", "hangup_action")

    def _play(self, step: _Step, action: Play) -> _Next:
        once = self.s.audio_ms.get(action.url, self.timing.play_ms)
        loops = 1 if action.loop is None else action.loop
        self.prompted = True
        detail = action.url if loops == 1 else f"{action.url} x{loops}"
        return self._finish(step, self.now + once * loops, "played", detail)

    def _collect(self, step: _Step, action: Collect) -> _Next:
        start = self.now
        replies = self.s.caller.replies
        if self.prompted and self.replies_used < len(replies):
            self.keypad.add(replies[self.replies_used], start + self.s.caller.reply_after_ms)
            self.replies_used += 1
        self.prompted = False
        timeout = COLLECT_TIMEOUT_MS if action.timeout_ms is None else action.timeout_ms
        finish = FINISH_ON_KEY if action.finish_on_key is None else action.finish_on_key
        digits, last, outcome = "", start, "timeout"
        for press in self.keypad.from_(start):
            if press.counted_ms > last + timeout or self._hung_up_before(press.counted_ms):
                break
            self.keypad.take(press, action.variable)
            last = press.counted_ms
            if finish and press.key == finish:
                outcome = "finish_key"
                break
            digits += press.key
            if action.max_digits is not None and len(digits) >= action.max_digits:
                outcome = "max_digits"
                break
        end = last + timeout if outcome == "timeout" else last
        if not self._hung_up_before(end):
            self.variables[action.variable] = digits
        return self._finish(step, end, outcome, f"{action.variable}={shown(digits)}")

    def _send_digits(self, step: _Step, action: SendDigits) -> _Next:
        pause = 0 if action.pause_before_ms is None else action.pause_before_ms
        schedule, end = self.timing.tone_schedule(action.digits, self.now + pause)
        leg = None if self.bridge is None else self.legs[self.bridge]
        number = len(self.actions)
        for char, at_ms in schedule:
            if self._hung_up_by(at_ms):
                break
            if leg is None:
                tone = ToneRecord(char, at_ms, CALLER, True, number, None)
            else:
                assert leg.ready_at_ms is not None
                heard = at_ms >= leg.ready_at_ms
                tone = ToneRecord(char, at_ms, leg.to, heard, number, self.bridge)
            self.tones.append(tone)
            self._log(at_ms, tone_line(tone, None if leg is None else leg.ready_at_ms))
        to = "the caller" if leg is None else leg.to
        detail = f"{shown(action.digits)} after {pause} ms to {to}"
        return self._finish(step, end, "sent", detail)

    def _transfer(self, step: _Step, action: Transfer) -> _Next:
        start = self.now
        self.bridge = None  # ringing someone new drops whoever was bridged
        ivr = self._destination(action.to)
        timeout = TRANSFER_TIMEOUT_MS if action.timeout_ms is None else action.timeout_ms
        if ivr is None:
            outcome, responds_at = "failed", start
        elif ivr.outcome == "no_answer" or ivr.ring_ms > timeout:
            outcome, responds_at = "no_answer", start + timeout
        else:
            outcome = "answered" if ivr.outcome == "answer" else ivr.outcome
            responds_at = start + ivr.ring_ms
        leg = _Leg(action.to, start, outcome, expect=None if ivr is None else ivr.expect)
        self.legs.append(leg)
        if self._hung_up_before(responds_at):
            leg.outcome = "caller_hung_up"
            return self._finish(step, responds_at, outcome, action.to)
        if outcome == "answered":
            assert ivr is not None
            leg.answered_at_ms = responds_at
            leg.ready_at_ms = responds_at + ivr.ready_after_ms
            self.bridge = len(self.legs) - 1
            detail = f"{action.to}, listening from {leg.ready_at_ms}"
            return self._finish(step, responds_at, outcome, detail)
        self._finish(step, responds_at, outcome, action.to)
        if action.fallback_url is None:
            return self._end(outcome, "transfer_not_connected")
        return self._request(action.fallback_url, "POST", "fallback", status=outcome)

    def _destination(self, to: str) -> TestIVR | None:
        far_end = self.s.far_end
        if far_end is None:
            return _DEFAULT_IVR
        if isinstance(far_end, TestIVR):
            return far_end
        return far_end.get(to)

    def _redirect(self, step: _Step, action: Redirect) -> _Next:
        method = "POST" if action.method is None else action.method
        going = self._request(action.url, method, "redirect")
        outcome = _REDIRECT_OUTCOMES[self.requests[-1].outcome]
        self._record(step, self.now, outcome, action.url)
        return going

    # Time and the caller's hang-up.

    def _hung_up_by(self, ms: int) -> bool:
        """Whether the caller has hung up by ``ms``: nothing starts then."""
        return self.hangup_at is not None and self.hangup_at <= ms

    def _hung_up_before(self, ms: int) -> bool:
        """Whether the caller hangs up before ``ms``: what would end then is cut."""
        return self.hangup_at is not None and self.hangup_at < ms

    def _finish(self, step: _Step, end: int, outcome: str, detail: str = "") -> _Next:
        """Record an action ending at ``end``, or cut at the hang-up if that comes first."""
        if self.hangup_at is not None and self._hung_up_before(end):
            self._record(step, self.hangup_at, "caller_hung_up", detail)
            self.now = self.hangup_at
            return self._end("completed", "caller_hung_up")
        self._record(step, end, outcome, detail)
        self.now = end
        return None

    def _record(self, step: _Step, end: int, outcome: str, detail: str = "") -> None:
        record = ActionRecord(
            index=step.index,
            kind=step.action.kind,
            url=step.url,
            flow=step.flow,
            start_ms=self.now,
            end_ms=end,
            outcome=outcome,
            detail=detail,
            action=step.action,
        )
        self.actions.append(record)
        self.events[self.slot] = TimelineEvent(record.start_ms, end, action_line(record))

    # Requests, webhooks and the end.

    def _request(
        self,
        url: str,
        method: str,
        reason: Reason,
        *,
        status: str = "in_progress",
        handler: Handler | None = None,
    ) -> _Next:
        if reason != "answer" and self._hung_up_by(self.now):
            return self._end("completed", "caller_hung_up")
        call = call_object(self.s.call_id, status, self.s.direction, self.s.caller.number)
        body = request_body(call, self.variables)
        if handler is None:
            if len(self.requests) >= self.s.max_requests:
                why = f"more than {self.s.max_requests} requests in one call (a redirect loop?)"
                self._not_followed(reason, method, url, body, why)
                return self._end("in_progress", "request_limit")
            handler = resolve(url, self.s.handlers)
            if handler is None:
                why = "no handler for this URL, and it is not on loopback"
                self._not_followed(reason, method, url, body, why)
                self.not_followed = url
                return self._end("in_progress", "not_followed")
        request = CallRequest(url=url, method=method, reason=reason, at_ms=self.now, body=body)
        answer = ask(handler, request, self.s.direction)
        self._add_request(
            RequestRecord(
                reason=reason,
                method=method,
                url=url,
                via=answer.via,
                at_ms=self.now,
                body=body,
                outcome=answer.outcome,
                status_code=answer.status_code,
                response_text=answer.text,
                flow=answer.flow,
                diagnostics=answer.diagnostics,
                error=answer.error,
            )
        )
        if answer.outcome == "rejected":
            return self._end("failed", "response_rejected")
        if answer.flow is None:
            return self._end("failed", "request_failed")
        return answer.flow, url

    def _not_followed(
        self, reason: str, method: str, url: str, body: dict[str, object], why: str
    ) -> None:
        record = RequestRecord(
            reason=reason,
            method=method,
            url=url,
            via=url,
            at_ms=self.now,
            body=body,
            outcome="not_followed",
            error=why,
        )
        self._add_request(record)

    def _add_request(self, record: RequestRecord) -> None:
        self.requests.append(record)
        self._log(self.now, request_line(record))

    def _log(self, at_ms: int, text: str, end_ms: int | None = None) -> int:
        self.events.append(TimelineEvent(at_ms, end_ms, text))
        return len(self.events) - 1

    def _webhook(self, event: str, status: str) -> None:
        call = call_object(self.s.call_id, status, self.s.direction, self.s.caller.number)
        payload = webhook(event, self.now, call, self.variables)
        self.webhooks.append(payload)
        self._log(self.now, webhook_line(payload))
        url = self.s.webhook_url
        if url is None:
            return
        status_code, data, error = http_exchange(url, payload)
        delivery = RequestRecord(
            reason="webhook",
            method="POST",
            url=url,
            via=url,
            at_ms=self.now,
            body=payload,
            outcome="failed" if error else "ok",
            status_code=status_code,
            response_text=data.decode("utf-8", "replace") if data else None,
            error=error,
        )
        self.deliveries.append(delivery)
        if error:
            self._log(self.now, request_line(delivery))

    def _end(self, status: str, reason: EndReason) -> _Stop:
        self.status = status
        self.end_reason = reason
        if status != "in_progress":
            self._webhook(COMPLETED, status)
        return _STOP

    def _result(self) -> SimulationResult:
        keys = self.keypad.records(self.now)
        for key in keys:
            self._log(key.pressed_at_ms, key_line(key))
        transfers = tuple(
            TransferRecord(
                to=leg.to,
                start_ms=leg.start_ms,
                outcome=leg.outcome,
                answered_at_ms=leg.answered_at_ms,
                ready_at_ms=leg.ready_at_ms,
                expect=leg.expect,
                heard="".join(t.char for t in self.tones if t.transfer == number and t.heard),
            )
            for number, leg in enumerate(self.legs)
        )
        return SimulationResult(
            call_id=self.s.call_id,
            direction=self.s.direction,
            caller=self.s.caller.number,
            status=self.status,
            end_reason=self.end_reason,
            ended_at_ms=self.now,
            actions=tuple(self.actions),
            tones=tuple(self.tones),
            keys=keys,
            transfers=transfers,
            requests=tuple(self.requests),
            deliveries=tuple(self.deliveries),
            webhooks=tuple(self.webhooks),
            variables=dict(self.variables),
            events=tuple(self.events),
            not_followed=self.not_followed,
        )
