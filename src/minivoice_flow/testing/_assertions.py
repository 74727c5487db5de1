"""Assertions over a simulated call, whose failure messages show expected against actual.

Each raises ``AssertionError`` with the difference first and the call's whole timeline after
it, so a failing test says what went wrong without a debugger.
"""

from __future__ import annotations

from collections.abc import Sequence

from minivoice_flow.testing._checks import fail
from minivoice_flow.testing._result import (
    SimulationResult,
    ToneRecord,
    printable_lines,
    shown,
)

#: A row of an expected timeline: (kind, start_ms, end_ms) or (kind, start_ms, end_ms, outcome).
Row = tuple[str, int, int] | tuple[str, int, int, str]


def assert_far_end_heard(result: SimulationResult, digits: str) -> None:
    """The far end (transfer destinations, while ready) heard exactly ``digits``."""
    __tracebackhide__ = True
    if result.far_end_digits == digits:
        return
    lines = [f"the far end heard {shown(result.far_end_digits)}; expected {shown(digits)}"]
    lines.extend(_why_tones_were_missed(result))
    raise AssertionError(_with_timeline(lines, result))


def _why_tones_were_missed(result: SimulationResult) -> list[str]:
    lost = [t for t in result.tones if t.transfer is not None and not t.heard]
    to_caller = [t for t in result.tones if t.transfer is None]
    reasons = []
    if lost:
        reasons.append(_lost_tones(lost, result))
    if to_caller:
        sent = "".join(t.char for t in to_caller)
        reasons.append(
            f"{shown(sent)} went to the caller: no transfer had been answered when it was sent"
        )
    if not any(t.answered_at_ms is not None for t in result.transfers):
        outcomes = ", ".join(f"{t.to} {t.outcome}" for t in result.transfers) or "none made"
        reasons.append(f"no transfer was answered ({outcomes})")
    return reasons


def _lost_tones(lost: list[ToneRecord], result: SimulationResult) -> str:
    first = lost[0]
    assert first.transfer is not None
    ready = result.transfers[first.transfer].ready_at_ms
    assert ready is not None
    chars = shown("".join(t.char for t in lost))
    return (
        f"{chars} started before the far end was listening (from {ready} ms) and were lost; "
        f"the first started at {first.at_ms} ms, so a pause_before_ms {ready - first.at_ms} ms "
        "longer would have let them all be heard"
    )


def assert_status(result: SimulationResult, status: str, *, end_reason: str | None = None) -> None:
    """The call ended with ``status`` (and, if given, for ``end_reason``)."""
    __tracebackhide__ = True
    problems = []
    if result.status != status:
        problems.append(
            f"the call ended with status {shown(result.status)}; expected {shown(status)}"
        )
    if end_reason is not None and result.end_reason != end_reason:
        problems.append(
            f"the call ended because of {shown(result.end_reason)}; expected {shown(end_reason)}"
        )
    if problems:
        raise AssertionError(_with_timeline(problems, result))


def assert_timeline(result: SimulationResult, expected: Sequence[Row]) -> None:
    """The actions ran as ``expected``: one row per action, in order.

    A row is ``(kind, start_ms, end_ms)`` or ``(kind, start_ms, end_ms, outcome)``; only the
    items a row gives are compared.
    """
    __tracebackhide__ = True
    for number, row in enumerate(expected):
        if not isinstance(row, tuple) or len(row) not in (3, 4):
            fail(
                f"expected row {number} must be (kind, start_ms, end_ms) or "
                f"(kind, start_ms, end_ms, outcome); got {row!r}",
                wrong_type=True,
            )
    actual = result.rows()
    if len(actual) == len(expected) and all(
        a[: len(e)] == e for a, e in zip(actual, expected, strict=True)
    ):
        return
    lines = ["the simulated actions differ from the expected timeline:"]
    lines.extend(side_by_side(expected, actual))
    raise AssertionError(_with_timeline(lines, result))


def side_by_side(expected: Sequence[Row], actual: Sequence[Row]) -> list[str]:
    """Expected and actual rows in two columns; ``>`` marks the rows that differ."""
    left = [_row_text(row) for row in expected]
    right = [_row_text(row) for row in actual]
    width = max([len("expected"), *map(len, left)])
    lines = [f"     #  {'expected':<{width}}  | actual"]
    for number in range(max(len(left), len(right))):
        want = expected[number] if number < len(expected) else None
        got = actual[number] if number < len(actual) else None
        same = want is not None and got is not None and got[: len(want)] == want
        mark = " " if same else ">"
        shown_left = left[number] if want is not None else "(nothing)"
        shown_right = right[number] if got is not None else "(nothing)"
        lines.append(f"  {mark} {number:>2}  {shown_left:<{width}}  | {shown_right}")
    return lines


def _row_text(row: Row) -> str:
    kind, start, end = row[0], row[1], row[2]
    outcome = f" {row[3]}" if len(row) == 4 else ""
    return f"{kind} {start}..{end}{outcome}"


def _with_timeline(lines: list[str], result: SimulationResult) -> str:
    """The message of a failed assertion: ``lines`` (made safe for a terminal, as values from
    the call are in them), then the call's timeline."""
    return "\n".join([printable_lines(lines), "", "the simulated call:", result.timeline()])
