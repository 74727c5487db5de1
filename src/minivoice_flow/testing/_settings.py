"""simulate()'s arguments, checked once, each error naming the argument and the value given."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from attrs import frozen

from minivoice_flow._fields import describe
from minivoice_flow._flow import Flow
from minivoice_flow._rules import Direction
from minivoice_flow.testing._checks import check_milliseconds, fail
from minivoice_flow.testing._handlers import Handler, check_handler
from minivoice_flow.testing._parties import Caller, TestIVR
from minivoice_flow.testing._timing import MAX_MS, Timing

#: The answer_url shown in requests when the application is a Flow or a callable.
ANSWER_URL: Final = "https://app.example.com/answer"
#: More requests than this in one call end the simulation (a redirect loop never ends).
MAX_REQUESTS: Final = 100
#: The largest max_requests a run may ask for.
MAX_REQUESTS_LIMIT: Final = 1000

FarEnd = TestIVR | Mapping[str, TestIVR]


@frozen
class Settings:
    """Everything one simulated call needs besides the application, defaults filled in."""

    caller: Caller
    far_end: FarEnd | None
    handlers: Mapping[str, Handler]
    webhook_url: str | None
    direction: Direction
    answer_url: str
    audio_ms: Mapping[str, int]
    timing: Timing
    call_id: str
    max_requests: int

    @classmethod
    def checked(
        cls,
        *,
        app: Handler,
        caller: Caller | None,
        far_end: FarEnd | None,
        handlers: Mapping[str, Handler] | None,
        webhook_url: str | None,
        direction: Direction | None,
        answer_url: str | None,
        audio_ms: Mapping[str, int] | None,
        timing: Timing | None,
        call_id: str,
        max_requests: int,
    ) -> Settings:
        """The settings of one run, every argument checked with a message naming it."""
        check_handler("simulate()'s application", app)
        handlers = dict(handlers or {})
        for url, handler in handlers.items():
            if not isinstance(url, str):
                fail(f"handlers keys must be URLs (strings); got {_shown(url)}", wrong_type=True)
            check_handler(f"handlers[{url!r}]", handler)
        if webhook_url is not None:
            check_handler("webhook_url", webhook_url)
        _expect(caller is None or isinstance(caller, Caller), "caller", "a Caller", caller)
        _check_far_end(far_end)
        _expect(
            direction in (None, "inbound", "outbound"),
            "direction",
            '"inbound", "outbound" or None',
            direction,
            wrong_type=direction is not None and not isinstance(direction, str),
        )
        _expect(timing is None or isinstance(timing, Timing), "timing", "a Timing", timing)
        _expect(isinstance(call_id, str), "call_id", "a string", call_id)
        _expect(call_id != "", "call_id", "a non-empty string", call_id, wrong_type=False)
        wrong_type = isinstance(max_requests, bool) or not isinstance(max_requests, int)
        _expect(
            not wrong_type and 1 <= max_requests <= MAX_REQUESTS_LIMIT,
            "max_requests",
            f"a whole number from 1 to {MAX_REQUESTS_LIMIT}",
            max_requests,
            wrong_type=wrong_type,
        )
        _expect(
            audio_ms is None or isinstance(audio_ms, Mapping),
            "audio_ms",
            "a mapping of audio URL to milliseconds",
            audio_ms,
        )
        durations = dict(audio_ms or {})
        for url, ms in durations.items():
            check_milliseconds(f"simulate() argument audio_ms[{url!r}]", ms, MAX_MS)
        if isinstance(app, str):
            answer_url = app
        if direction is None:
            direction = app.direction if isinstance(app, Flow) else None
        return cls(
            caller=caller or Caller.silent(),
            far_end=far_end,
            handlers=handlers,
            webhook_url=webhook_url,
            direction=direction or "inbound",
            answer_url=answer_url or ANSWER_URL,
            audio_ms=durations,
            timing=timing or Timing(),
            call_id=call_id,
            max_requests=max_requests,
        )


def _expect(ok: bool, name: str, wanted: str, value: object, *, wrong_type: bool = True) -> None:
    if not ok:
        fail(
            f"simulate() argument {name} must be {wanted}; got {_shown(value)}",
            wrong_type=wrong_type,
        )


def _shown(value: object) -> str:
    """A value in a message: JSON-like for plain data (an int too long to print included)."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return describe(value)
    return repr(value)


def _check_far_end(far_end: object) -> None:
    if far_end is None or isinstance(far_end, TestIVR):
        return
    if isinstance(far_end, Mapping) and all(isinstance(v, TestIVR) for v in far_end.values()):
        return
    _expect(False, "far_end", "a TestIVR or a mapping of destination to TestIVR", far_end)
