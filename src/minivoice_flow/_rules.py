"""The ordering rules: small pure functions from an actions array to diagnostics.

Rules see ``Steps``: the kind of every item of the array (None for an item that is not a
recognisable action: it keeps its index but no rule looks at it) and the values given for
its fields. Built flows and parsed JSON both become ``Steps``, so a payload whose fields are
wrong is still judged by the same rules.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from typing import Any, Final, Literal

from minivoice_flow._actions import CATALOGUE, Action
from minivoice_flow._codes import CODES, diagnostic
from minivoice_flow._diagnostics import Diagnostic
from minivoice_flow._fields import describe
from minivoice_flow._limits import DTMF_PAUSE_CHARACTERS, MAX_ACTIONS

Direction = Literal["inbound", "outbound"]

TERMINAL_KINDS: Final = frozenset(info.kind for info in CATALOGUE if info.terminal)
_KIND: Final = operator.attrgetter("kind")
# An item of the array as the rules read it: an action, or the fields of one from JSON.
_Item = Any


class Steps:
    """What the rules know of an actions array."""

    __slots__ = ("_get", "_items", "direction", "kinds", "reachable")

    def __init__(
        self,
        kinds: Sequence[str | None],
        items: Sequence[_Item],
        get: Callable[[_Item, str], object],
        direction: Direction | None,
        reachable: int | None = None,
    ) -> None:
        #: The action name of each item, or None where the item is not an action.
        self.kinds = kinds
        #: How many items can run: up to and including the first terminal action (given by
        #: the caller when it knows it already).
        self.reachable = _reachable_count(kinds) if reachable is None else reachable
        self.direction = direction
        # get(items[i], name) is the value given for a field, or None (a plain function,
        # not a closure: building Steps and reading a field are both on the request path).
        self._items = items
        self._get = get

    def given(self, index: int, name: str) -> object:
        """The value given for field ``name`` of item ``index`` (None when unset)."""
        return self._get(self._items[index], name)

    def path(self, index: int) -> str:
        """The JSON pointer of an item's value object (or of the item, if not an action)."""
        kind = self.kinds[index]
        return f"/actions/{index}" if kind is None else f"/actions/{index}/{kind}"


Rule = Callable[[Steps], list[Diagnostic]]


def _reachable_count(kinds: Sequence[str | None]) -> int:
    for index, kind in enumerate(kinds):
        if kind in TERMINAL_KINDS:
            return index + 1
    return len(kinds)


def empty_actions(steps: Steps) -> list[Diagnostic]:
    """A call must be given something to do."""
    if steps.kinds:
        return []
    return [
        diagnostic(
            "empty_actions",
            "/actions",
            "the actions array is empty; add at least one action (a flow that only ends the "
            "call is hangup())",
        )
    ]


def too_many_actions(steps: Steps) -> list[Diagnostic]:
    """The platform runs at most MAX_ACTIONS actions from one response."""
    count = len(steps.kinds)
    if count <= MAX_ACTIONS:
        return []
    return [
        diagnostic(
            "too_many_actions",
            "/actions",
            f"the actions array has {count} actions; at most {MAX_ACTIONS} are allowed: "
            "end the first part with a redirect to a URL that serves the rest",
        )
    ]


def unreachable_action(steps: Steps) -> list[Diagnostic]:
    """Actions after the first terminal action never run."""
    end = steps.reachable
    if end == len(steps.kinds):
        return []
    terminal = steps.kinds[end - 1]
    return [
        diagnostic(
            "unreachable_action",
            steps.path(index),
            f"{steps.kinds[index] or 'this action'} never runs: it comes after {terminal} at "
            f"/actions/{end - 1}, which ends the actions array; remove it or move it before "
            f"the {terminal}",
        )
        for index in range(end, len(steps.kinds))
    ]


def collect_without_prompt(steps: Steps) -> list[Diagnostic]:
    """Each collect should be preceded by a play telling the caller what to press."""
    found = []
    prompted = False
    for index in range(steps.reachable):
        kind = steps.kinds[index]
        if kind == "play":
            prompted = True
        elif kind == "collect":
            if not prompted:
                found.append(
                    diagnostic(
                        "collect_without_prompt",
                        steps.path(index),
                        f"collect {_variable(steps, index)} has no play before it, so the "
                        "caller is not told what to press; add a play prompt just before it",
                    )
                )
            prompted = False
    return found


def input_not_forwarded(steps: Steps) -> list[Diagnostic]:
    """Collected digits reach the application only through a later redirect."""
    end = steps.reachable
    if end and steps.kinds[end - 1] == "redirect":
        return []
    return [
        diagnostic(
            "input_not_forwarded",
            steps.path(index),
            f"collect {_variable(steps, index)} stores the caller's keys but no redirect "
            "follows it, so your application never sees them; end the array with a redirect "
            "to the URL that acts on the input",
        )
        for index in range(end)
        if steps.kinds[index] == "collect"
    ]


def transfer_before_decision(steps: Steps) -> list[Diagnostic]:
    """A transfer after a collect was decided before the application saw the input."""
    kinds = steps.kinds
    found = []
    collected = False
    for index in range(steps.reachable):
        if kinds[index] == "collect":
            collected = True
        elif kinds[index] == "transfer" and collected:
            found.append(
                diagnostic(
                    "transfer_before_decision",
                    steps.path(index),
                    f"transfer to {_shown(steps.given(index, 'to'))} comes after a collect in "
                    "the same array, so its destination was fixed before your application saw "
                    "the input; redirect after the collect and return the transfer from that URL",
                )
            )
    return found


def transfer_without_fallback(steps: Steps) -> list[Diagnostic]:
    """Without a fallback_url, a busy or unanswered destination ends the call."""
    # This rule and digits_too_early read field values, so they run on every flow that has
    # a transfer: plain loops, which cost less than comprehensions here.
    kinds = steps.kinds
    found = []
    for index in range(steps.reachable):
        if kinds[index] == "transfer" and steps.given(index, "fallback_url") is None:
            found.append(
                diagnostic(
                    "transfer_without_fallback",
                    steps.path(index),
                    f"transfer to {_shown(steps.given(index, 'to'))} has no fallback_url, so a "
                    "busy, unanswered or failed destination ends the call; set fallback_url to a "
                    "URL that serves what to do instead",
                )
            )
    return found


def digits_too_early(steps: Steps) -> list[Diagnostic]:
    """Digits sent the instant a transfer answers usually arrive before the far end listens."""
    kinds = steps.kinds
    found = []
    for index in range(1, steps.reachable):
        if (
            kinds[index] == "send_digits"
            and kinds[index - 1] == "transfer"
            and not _pauses(steps, index)
        ):
            found.append(
                diagnostic(
                    "digits_too_early",
                    steps.path(index),
                    "send_digits starts the moment the transfer is answered, before most "
                    "systems listen; set pause_before_ms (2000 is a common start) or begin "
                    "the digits with w",
                )
            )
    return found


def digits_to_caller(steps: Steps) -> list[Diagnostic]:
    """In an inbound call, digits before any transfer go to the caller."""
    if steps.direction != "inbound":
        return []
    found = []
    for index in range(steps.reachable):
        kind = steps.kinds[index]
        if kind == "transfer":
            break
        if kind == "send_digits":
            found.append(
                diagnostic(
                    "digits_to_caller",
                    steps.path(index),
                    "in an inbound flow this send_digits comes before any transfer, so the "
                    "tones go to the caller, not to another phone system; move it after the "
                    "transfer",
                )
            )
    return found


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


#: The actions each rule cannot fire without (from the code table).
_REQUIRES: Final[dict[Rule, frozenset[str]]] = {
    rule: frozenset(CODES[rule.__name__].requires) for rule in RULES
}
#: The rules decided by the kinds of the actions alone (they read no field's value).
_BY_KINDS: Final = frozenset(rule for rule in RULES if not CODES[rule.__name__].reads)
#: For each array of kinds (and direction) seen, the rules worth running on it (those that
#: read field values, and those decided by kinds that fired: a rule decided by kinds that did
#: not fire never will on the same kinds), and its reachable count. Bounded: past the bound,
#: arrays are judged afresh.
_PLANS: Final[
    dict[tuple[tuple[str | None, ...], Direction | None], tuple[tuple[Rule, ...], int]]
] = {}
_MAX_PLANS: Final = 4096


def check_actions(actions: Sequence[Action], direction: Direction | None) -> list[Diagnostic]:
    """Every rule's diagnostics for a built flow's actions."""
    # check(), inlined for the usual case: an array of kinds seen before.
    kinds = tuple(map(_KIND, actions))
    planned = _PLANS.get((kinds, direction))
    if planned is None:
        # A rule reads only fields its action has, so the plain built-in getattr will do.
        return check(kinds, actions, getattr, direction)
    plan, reachable = planned
    return _run(plan, Steps(kinds, actions, getattr, direction, reachable)) if plan else []


def check(
    kinds: Sequence[str | None],
    items: Sequence[_Item],
    get: Callable[[_Item, str], object],
    direction: Direction | None,
) -> list[Diagnostic]:
    """``check_steps`` of these steps, made only if some rule is worth running on them."""
    key = (kinds if type(kinds) is tuple else tuple(kinds), direction)
    planned = _PLANS.get(key)
    if planned is None:
        return _first_check(Steps(kinds, items, get, direction), key)
    plan, reachable = planned
    return _run(plan, Steps(kinds, items, get, direction, reachable)) if plan else []


def check_steps(steps: Steps) -> list[Diagnostic]:
    """Run every rule; diagnostics come whole-document first, then by action index."""
    kinds = steps.kinds
    key = (kinds if type(kinds) is tuple else tuple(kinds), steps.direction)
    planned = _PLANS.get(key)
    if planned is None:
        return _first_check(steps, key)
    return _run(planned[0], steps) if planned[0] else []


def _run(plan: tuple[Rule, ...], steps: Steps) -> list[Diagnostic]:
    found: list[Diagnostic] = []
    for rule in plan:
        found += rule(steps)
    if len(found) > 1:
        found.sort(key=document_order)
    return found


def _first_check(
    steps: Steps, key: tuple[tuple[str | None, ...], Direction | None]
) -> list[Diagnostic]:
    present = frozenset(key[0])
    found: list[Diagnostic] = []
    plan = []
    for rule in RULES:
        if not _REQUIRES[rule] <= present:
            continue
        fired = rule(steps)
        if fired or rule not in _BY_KINDS:
            plan.append(rule)
        found += fired
    if len(_PLANS) < _MAX_PLANS:
        _PLANS[key] = (tuple(plan), steps.reachable)
    if len(found) > 1:
        found.sort(key=document_order)
    return found


def document_order(diagnostic: Diagnostic) -> int:
    """Sort key: -1 for the whole document or the actions array, else the action index."""
    path = diagnostic.path
    if not path.startswith("/actions/"):
        return -1
    index, _, _ = path[len("/actions/") :].partition("/")
    return int(index) if index.isascii() and index.isdigit() else -1


def _pauses(steps: Steps, index: int) -> bool:
    """Whether a send_digits waits before its first tone (a bad value counts as set)."""
    pause = steps.given(index, "pause_before_ms")
    if pause is not None and not (type(pause) in (int, float) and pause == 0):
        return True
    digits = steps.given(index, "digits")
    return isinstance(digits, str) and digits != "" and digits[0] in DTMF_PAUSE_CHARACTERS


def _variable(steps: Steps, index: int) -> str:
    return _shown(steps.given(index, "variable"))


def _shown(value: object) -> str:
    return describe(value) if isinstance(value, str) else "(an invalid value)"
