"""Whole calls, end to end: the simulator rings the example web app over real HTTP.

The app (examples/webapp.py) serves the support line's flows and records every answer and
webhook in its call journal; the simulator plays MiniVoice, a scripted caller and the agent's
line. Each test checks what the caller went through and what the journal says happened.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from minivoice_flow.journal import CallJournal, Outcome
from minivoice_flow.testing import Caller, SimulationResult, TestIVR, simulate

PUBLIC_BASE = "https://app.example.com/"  # where the support line's flows say they live

Call = Callable[..., SimulationResult]  # (call_id, caller, far_end=None)


@pytest.fixture
def call(served: str) -> Call:
    """Run one simulated call against the served app; its URLs are mapped to loopback."""

    def run(call_id: str, caller: Caller, far_end: TestIVR | None = None) -> SimulationResult:
        return simulate(
            f"{served}/answer",
            webhook_url=f"{served}/webhooks",
            handlers={PUBLIC_BASE: f"{served}/"},
            caller=caller,
            far_end=far_end,
            call_id=call_id,
        )

    return run


class TestSupportLine:
    def test_pin_accepted(self, call: Call, journal: CallJournal) -> None:
        """Menu 1, then a four-digit PIN: the caller hears the confirmation and the call ends."""
        result = call("call_pin", Caller.answers_prompts("1", "1234#"))
        assert result.status == "completed"
        assert result.variables["account_pin"] == "1234"
        last = journal.last_step("call_pin")
        assert last is not None
        assert (last.step, last.outcome) == ("pin_accepted", Outcome.COMPLETED)
        assert [r.url.rsplit("/", 2)[-2:] for r in result.requests][1:] == [
            ["support_menu", "input"],
            ["account_pin", "input"],
        ]

    def test_agent_busy(self, call: Call, journal: CallJournal) -> None:
        """Menu 2 rings the agent; busy plays its own message and ends the call normally."""
        result = call("call_busy", Caller.answers_prompts("2"), far_end=TestIVR.busy())
        assert result.status == "completed"
        last = journal.last_step("call_busy")
        assert last is not None
        assert last.describe() == "completed, last step 'support_agent_busy'"

    def test_no_input_reprompts_then_hands_over_to_an_agent(
        self, call: Call, journal: CallJournal
    ) -> None:
        """A silent caller is asked three times, then put through to a person."""
        result = call("call_silent", Caller.silent(), far_end=TestIVR())
        flows_served = [r.url.rsplit("/", 2)[-2] for r in result.requests[1:]]
        assert flows_served == ["support_menu", "support_menu_retry_1", "support_menu_retry_2"]
        assert [t.to for t in result.transfers] == ["+15551230002"]
        last = journal.last_step("call_silent")
        assert last is not None and last.step == "support_agent"

    def test_hang_up_during_pin_entry(self, call: Call, journal: CallJournal) -> None:
        """The journal names the step the caller left during."""
        caller = Caller.answers_prompts("1").and_hangs_up(at_ms=9000)
        result = call("call_gone", caller)
        assert result.status == "completed"
        last = journal.last_step("call_gone")
        assert last is not None
        assert last.describe() == "caller hung up during step 'account_pin'"

    def test_journal_holds_every_webhook_the_simulator_sent(
        self, call: Call, journal: CallJournal
    ) -> None:
        result = call("call_log", Caller.answers_prompts("2"), far_end=TestIVR())
        received = [
            entry.event for entry in journal.timeline("call_log") if entry.kind == "webhook"
        ]
        assert received == [webhook["event"] for webhook in result.webhooks]
        assert received[-1] == "call.completed"
