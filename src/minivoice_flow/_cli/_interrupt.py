"""Ctrl-C and SIGTERM: the command stops cleanly, after putting back what it was changing.

While a command runs, SIGINT and SIGTERM raise ``Interrupted`` wherever the program is, so
``finally`` blocks and roll-backs run; ``main`` then prints one line and exits with 128 plus
the signal's number (130 for Ctrl-C, 143 for SIGTERM), as a shell reports a killed command.

Code that changes files in several steps runs inside ``deferred()``: there the signals are
held back by the kernel and taken only at the ``checkpoint()``s it chooses, so a roll-back can
never itself be cut short. Where the platform cannot hold signals back (no
``pthread_sigmask``), they are taken immediately, as outside.
"""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Final

#: The signals a command stops for, cleanly.
SIGNALS: Final = tuple(
    s for s in (signal.SIGINT, getattr(signal, "SIGTERM", None)) if isinstance(s, signal.Signals)
)


class Interrupted(BaseException):
    """SIGINT or SIGTERM arrived; ``note`` says what became of the command's work."""

    def __init__(self, signum: int, note: str | None = None) -> None:
        super().__init__(signum, note)
        self.signum = signum
        self.note = note

    @property
    def exit_code(self) -> int:
        return 128 + self.signum

    def __str__(self) -> str:
        name = signal.Signals(self.signum).name
        return f"interrupted by {name}" + (f"; {self.note}" if self.note else "")


def _raise(signum: int, frame: object) -> None:
    raise Interrupted(signum)


@contextmanager
def handled() -> Iterator[None]:
    """While inside, SIGINT and SIGTERM raise ``Interrupted`` (only in the main thread)."""
    try:
        previous = {s: signal.signal(s, _raise) for s in SIGNALS}
    except ValueError:  # not the main thread: signals are the main thread's business
        yield
        return
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


#: Raises ``Interrupted`` if a held-back signal is waiting; otherwise does nothing.
Checkpoint = Callable[[], None]


@contextmanager
def deferred() -> Iterator[Checkpoint]:
    """Hold SIGINT and SIGTERM back while inside; yield the checkpoint that takes them.

    A signal that arrives after the last checkpoint is taken on the way out, by the handler
    in force (``handled``'s, which raises ``Interrupted``).
    """
    import threading

    can_hold = (
        hasattr(signal, "pthread_sigmask")
        and hasattr(signal, "sigtimedwait")
        and threading.current_thread() is threading.main_thread()
    )
    if not can_hold:
        yield _nothing
        return
    before = signal.pthread_sigmask(signal.SIG_BLOCK, SIGNALS)
    try:
        yield _take_pending
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, before)


def _take_pending() -> None:
    if not signal.sigpending().intersection(SIGNALS):
        return  # the usual case: one system call, nothing waiting
    info = signal.sigtimedwait(SIGNALS, 0)
    if info is not None:
        raise Interrupted(info.si_signo)


def _nothing() -> None:
    return None
