"""The ordering rules: small pure functions from a sequence of actions to diagnostics.

Rules see "steps": anything with a ``kind``, a ``terminal`` flag and ``given(field)``. An
action of the IR is a step; so is a raw JSON action with field errors, because the rules must
still judge a payload whose fields are wrong. ``None`` stands for an item that is not a
recognisable action: it keeps its index but no rule looks at it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Final, Literal, Protocol

from minivoice_flow._codes import CODES
from minivoice_flow._diagnostics import Diagnostic
from minivoice_flow._fields import describe
from minivoice_flow._limits import DTMF_PAUSE_CHARACTERS, MAX_ACTIONS

Direction = Literal["inbound", "outbound"]


class Step(Protocol):
    """What a rule needs to know of an action."""

    @property
    def kind(self) -> str: ...

    @property
    def terminal(self) -> bool: ...

    def given(self, name: str, /) -> object: ...


Steps = Sequence[Step | None]
Rule = Callable[[Steps, Direction | None], Iterator[Diagnostic]]


def _diagnostic(code: str, path: str, message: str) -> Diagnostic:
    return Diagnostic(code, CODES[code].severity, path, message)


def _at(index: int, step: Step) -> str:
    return f"/actions/{index}/{step.kind}"


def reachable_count(steps: Steps) -> int:
    """How many steps can run: all of them up to and including the first terminal one."""
    for index, step in enumerate(steps):
        if step is not None and step.terminal:
            return index + 1
    return len(steps)


def _reachable(steps: Steps) -> Iterator[tuple[int, Step]]:
    for index in range(reachable_count(steps)):
        step = steps[index]
        if step is not None:
            yield index, step


def empty_actions(steps: Steps, direction: Direction | None) -> Iterator[Diagnostic]:
    """A call must be given something to do."""
    if not steps:
        yield _diagnostic(
            "empty_actions",
            "/actions",
            "the actions array is empty; add at least one action (a flow that only ends the "
            "call is hangup())",
        )


def too_many_actions(steps: Steps, direction: Direction | None) -> Iterator[Diagnostic]:
    """The platform runs at most MAX_ACTIONS actions from one response."""
    if len(steps) > MAX_ACTIONS:
        yield _diagnostic(
            "too_many_actions",
            "/actions",
            f"the actions array has {len(steps)} actions; at most {MAX_ACTIONS} are allowed: "
            "end the first part with a redirect to a URL that serves the rest",
        )


def unreachable_action(steps: Steps, direction: Direction | None) -> Iterator[Diagnostic]:
    """Actions after the first terminal action never run."""
    end = reachable_count(steps)
    if end == len(steps):
        return
    terminal = steps[end - 1]
    assert terminal is not None
    for index in range(end, len(steps)):
        step = steps[index]
        path = f"/actions/{index}" if step is None else _at(index, step)
        what = "this action" if step is None else step.kind
        yield _diagnostic(
            "unreachable_action",
            path,
            f"{what} never runs: it comes after {terminal.kind} at /actions/{end - 1}, which "
            f"ends the actions array; remove it or move it before the {terminal.kind}",
        )


def collect_without_prompt(steps: Steps, direction: Direction | None) -> Iterator[Diagnostic]:
    """Each collect should be preceded by a play telling the caller what to press."""
    prompted = False
    for index, step in _reachable(steps):
        if step.kind == "play":
            prompted = True
        elif step.kind == "collect":
            if not prompted:
                yield _diagnostic(
                    "collect_without_prompt",
                    _at(index, step),
                    f"collect {_variable(step)} has no play before it, so the caller is not "
                    "told what to press; add a play prompt just before it",
                )
            prompted = False


def input_not_forwarded(steps: Steps, direction: Direction | None) -> Iterator[Diagnostic]:
    """Collected digits reach the application only through a later redirect."""
    end = reachable_count(steps)
    last = steps[end - 1] if end else None
    if last is not None and last.kind == "redirect":
        return
    for index, step in _reachable(steps):
        if step.kind == "collect":
            yield _diagnostic(
                "input_not_forwarded",
                _at(index, step),
                f"collect {_variable(step)} stores the caller's keys but no redirect follows "
                "it, so your application never sees them; end the array with a redirect to "
                "the URL that acts on the input",
            )


def transfer_before_decision(steps: Steps, direction: Direction | None) -> Iterator[Diagnostic]:
    """A transfer after a collect was decided before the application saw the input."""
    collected = False
    for index, step in _reachable(steps):
        if step.kind == "collect":
            collected = True
        elif step.kind == "transfer" and collected:
            yield _diagnostic(
                "transfer_before_decision",
                _at(index, step),
                f"transfer to {_shown(step.given('to'))} comes after a collect in the same "
                "array, so its destination was fixed before your application saw the input; "
                "redirect after the collect and return the transfer from that URL",
            )


def transfer_without_fallback(
    steps: Steps, direction: Direction | None
) -> Iterator[Diagnostic]:
    """Without a fallback_url, a busy or unanswered destination ends the call."""
    for index, step in _reachable(steps):
        if step.kind == "transfer" and step.given("fallback_url") is None:
            yield _diagnostic(
                "transfer_without_fallback",
                _at(index, step),
                f"transfer to {_shown(step.given('to'))} has no fallback_url, so a busy, "
                "unanswered or failed destination ends the call; set fallback_url to a URL "
                "that serves what to do instead",
            )


def digits_too_early(steps: Steps, direction: Direction | None) -> Iterator[Diagnostic]:
    """Digits sent the instant a transfer answers usually arrive before the far end listens."""
    previous: Step | None = None
    for index in range(reachable_count(steps)):
        step = steps[index]
        if (
            step is not None
            and step.kind == "send_digits"
            and previous is not None
            and previous.kind == "transfer"
            and not _pauses(step)
        ):
            yield _diagnostic(
                "digits_too_early",
                _at(index, step),
                "send_digits starts the moment the transfer is answered, before most systems "
                "listen; set pause_before_ms (2000 is a common start) or begin the digits "
                "with w",
            )
        previous = step


def digits_to_caller(steps: Steps, direction: Direction | None) -> Iterator[Diagnostic]:
    """In an inbound call, digits before any transfer go to the caller."""
    if direction != "inbound":
        return
    for index, step in _reachable(steps):
        if step.kind == "transfer":
            return
        if step.kind == "send_digits":
            yield _diagnostic(
                "digits_to_caller",
                _at(index, step),
                "in an inbound flow this send_digits comes before any transfer, so the tones "
                "go to the caller, not to another phone system; move it after the transfer",
            )


#: Every rule, in the order their diagnostics are listed for one action.
RULES: Final[tuple[Rule, ...]] = (
    empty_actions,
    too_many_actions,
    unreachable_action,
    collect_without_prompt,
    input_not_forwarded,
    transfer_before_decision,
    transfer_without_fallback,
    digits_too_early,
    digits_to_caller,
)


def check_steps(steps: Steps, direction: Direction | None) -> list[Diagnostic]:
    """Run every rule; diagnostics come whole-document first, then by action index."""
    found = [d for rule in RULES for d in rule(steps, direction)]
    found.sort(key=document_order)
    return found


def document_order(diagnostic: Diagnostic) -> int:
    """Sort key: -1 for the whole document or the actions array, else the action index."""
    path = diagnostic.path
    if not path.startswith("/actions/"):
        return -1
    index, _, _ = path[len("/actions/") :].partition("/")
    return int(index)


def _pauses(step: Step) -> bool:
    """Whether a send_digits waits before its first tone (a bad value counts as set)."""
    pause = step.given("pause_before_ms")
    if pause is not None and not (type(pause) in (int, float) and pause == 0):
        return True
    digits = step.given("digits")
    return isinstance(digits, str) and digits != "" and digits[0] in DTMF_PAUSE_CHARACTERS


def _variable(step: Step) -> str:
    return _shown(step.given("variable"))


def _shown(value: object) -> str:
    return describe(value) if isinstance(value, str) else "(an invalid value)"
