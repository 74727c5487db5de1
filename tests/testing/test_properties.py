"""Properties: any valid flow, caller and far end simulate without error, and time is sound."""

from __future__ import annotations

from datetime import datetime

from hypothesis import assume, given
from hypothesis import strategies as st

from minivoice_flow import Flow, Redirect, Transfer
from minivoice_flow.testing import Caller, KeyPress, SimulationResult, TestIVR, simulate
from minivoice_flow.testing._handlers import Handler, is_loopback_url
from minivoice_flow.testing._payloads import created_at
from tests.strategies import valid_flows

ms = st.integers(0, 20_000)
callers = st.builds(
    Caller,
    keys=st.lists(st.builds(KeyPress, st.sampled_from(list("0123456789*#")), ms), max_size=8),
    replies=st.lists(st.text(alphabet="0123456789#*", max_size=4), max_size=3),
    reply_after_ms=st.integers(0, 3000),
    hangup_at_ms=st.none() | st.integers(0, 120_000),
)
far_ends = st.builds(
    TestIVR,
    expect=st.none() | st.text(alphabet="0123456789#", min_size=1, max_size=6),
    ready_after_ms=st.integers(0, 5000),
    ring_ms=st.integers(0, 40_000),
    outcome=st.sampled_from(["answer", "busy", "no_answer", "failed"]),
)


def targets(flow: Flow) -> set[str]:
    """The URLs a flow can send the call to."""
    found = set()
    for action in flow.actions:
        if isinstance(action, Redirect):
            found.add(action.url)
        elif isinstance(action, Transfer) and action.fallback_url is not None:
            found.add(action.fallback_url)
    return found


@given(valid_flows(), valid_flows(), callers, far_ends)
def test_any_call_runs_and_time_never_goes_backwards(
    first: Flow, second: Flow, caller: Caller, far_end: TestIVR
) -> None:
    urls = targets(first) | targets(second)
    assume(not any(is_loopback_url(url) for url in urls))  # no real HTTP from a property
    handlers: dict[str, Handler] = dict.fromkeys(targets(first), second)
    result = simulate(first, caller=caller, far_end=far_end, handlers=handlers, max_requests=5)
    assert_time_is_sound(result, caller)


def assert_time_is_sound(result: SimulationResult, caller: Caller) -> None:
    previous_end = 0
    for action in result.actions:
        assert action.start_ms == previous_end  # one action after another, no gaps
        assert action.end_ms >= action.start_ms
        previous_end = action.end_ms
    assert result.ended_at_ms == previous_end
    if caller.hangup_at_ms is not None:
        assert result.ended_at_ms <= caller.hangup_at_ms
    tone_times = [t.at_ms for t in result.tones]
    assert tone_times == sorted(tone_times)
    for tone in result.tones:
        action = result.actions[tone.action]
        assert action.start_ms <= tone.at_ms < action.end_ms
        if tone.transfer is not None:
            ready = result.transfers[tone.transfer].ready_at_ms
            assert ready is not None
            assert tone.heard == (tone.at_ms >= ready)
    for key in result.keys:
        assert key.counted_at_ms == key.pressed_at_ms + 200
        assert key.pressed_at_ms < result.ended_at_ms
    stamps = [datetime.fromisoformat(hook["created_at"]) for hook in result.webhooks]
    assert stamps == sorted(stamps)
    if result.status != "in_progress":
        assert result.webhooks[-1]["created_at"] == created_at(result.ended_at_ms)
    completed = [h for h in result.webhooks if h["event"] == "call.completed"]
    assert len(completed) == (0 if result.status == "in_progress" else 1)
    assert result.status in ("in_progress", "completed", "busy", "no_answer", "failed")
