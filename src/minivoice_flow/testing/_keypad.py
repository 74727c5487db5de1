"""The caller's keypad during a call: scripted presses, in the order they can happen."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from attrs import frozen

from minivoice_flow.testing._parties import KeyPress
from minivoice_flow.testing._result import KeyRecord


@frozen
class Press:
    """A key as it happens: when it starts and when it counts."""

    seq: int
    key: str
    start_ms: int
    counted_ms: int


class Keypad:
    """The caller's presses in the order they happen; a key starts once the one before ends."""

    def __init__(self, press_ms: int, keys: Iterable[KeyPress]) -> None:
        self._press_ms = press_ms
        self._wanted: list[tuple[int, int, str]] = []
        self._taken: dict[int, str] = {}
        self._presses: list[Press] = []
        for press in keys:
            self._wanted.append((press.at_ms, len(self._wanted), press.key))
        self._schedule()

    def add(self, keys: str, at_ms: int) -> None:
        """Press ``keys`` one after another from ``at_ms``."""
        for key in keys:
            self._wanted.append((at_ms, len(self._wanted), key))
        self._schedule()

    def _schedule(self) -> None:
        free = 0
        self._presses = []
        for at_ms, seq, key in sorted(self._wanted):
            start = max(at_ms, free)
            free = start + self._press_ms
            self._presses.append(Press(seq, key, start, free))

    def from_(self, since_ms: int) -> Iterator[Press]:
        """Presses not yet collected that start at or after ``since_ms``, in order."""
        for press in self._presses:
            if press.start_ms >= since_ms and press.seq not in self._taken:
                yield press

    def take(self, press: Press, variable: str) -> None:
        self._taken[press.seq] = variable

    def records(self, until_ms: int) -> tuple[KeyRecord, ...]:
        """Every key pressed before ``until_ms`` and the variable it went into."""
        return tuple(
            KeyRecord(p.key, p.start_ms, p.counted_ms, self._taken.get(p.seq))
            for p in self._presses
            if p.start_ms < until_ms
        )
