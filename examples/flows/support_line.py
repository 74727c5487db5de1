"""A support line with a fallback path at every step.

- Menu: press 1 to enter an account PIN, 2 for an agent. With no key (or another key) it asks
  twice more, then hands the caller to an agent rather than hanging up.
- Account PIN: four digits, asked up to three times, then an apology and goodbye.
- Agent: a transfer whose busy, no-answer and failed cases each play a message of their own.

``SUPPORT_LINE`` holds every flow and the URL serving it: ``minivoice-flow build`` exports
its flows, and ``examples/webapp.py`` serves them.
"""

from __future__ import annotations

from minivoice_flow import Flow
from minivoice_flow.fallback import (
    FlowSet,
    collect_with_retries,
    combine,
    transfer_with_fallback,
)

BASE_URL = "https://app.example.com/ivr"
MEDIA = "https://media.example.com/support"
AGENT_NUMBER = "+15551230002"


def _goodbye(recording: str) -> Flow:
    return Flow().play(f"{MEDIA}/{recording}.wav").hangup()


def _support_line() -> FlowSet:
    agent = transfer_with_fallback(
        "support_agent",
        AGENT_NUMBER,
        base_url=BASE_URL,
        before=Flow().play(f"{MEDIA}/connecting.wav"),
        on_busy=_goodbye("all-agents-busy"),
        on_no_answer=_goodbye("no-agent-free"),
        fallback=_goodbye("cannot-connect"),
    )
    pin = collect_with_retries(
        "account_pin",
        prompt=f"{MEDIA}/enter-pin.wav",
        reprompt=f"{MEDIA}/pin-again.wav",
        base_url=BASE_URL,
        max_digits=4,
        timeout_ms=8000,
        accept=lambda digits: len(digits) == 4,
        on_input=Flow("pin_accepted").play(f"{MEDIA}/pin-ok.wav").hangup(),
        give_up=_goodbye("sorry-goodbye"),
    )
    menu = collect_with_retries(
        "support_menu",
        prompt=f"{MEDIA}/menu.wav",
        base_url=BASE_URL,
        max_digits=1,
        timeout_ms=6000,
        accept={"1", "2"},
        on_input=lambda choice: pin.entry if choice == "1" else agent.entry,
        give_up=agent.entry,
    )
    return combine(menu, pin, agent)


SUPPORT_LINE = _support_line()
