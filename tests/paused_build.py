"""``minivoice-flow`` that stops at a chosen file-system call, so a test can signal it there.

    python -m tests.paused_build FUNCTION N ARGS...      (with the repository on PYTHONPATH)

runs the command line with ARGS; at the Nth call of ``os.FUNCTION`` (``replace``, ``fsync``,
...) it writes ``paused`` and a line break to the descriptor named by $READY_FD, then waits
for one byte on standard input before making the call. The test that started it knows the
build is exactly there, sends its signal (or SIGKILL), and lets it go on: no sleeping, no
guessing.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Any


def pausing(real: Callable[..., Any], at: int, ready: int) -> Callable[..., Any]:
    """``real``, made to pause before its ``at``-th call."""
    calls = 0

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == at:
            os.write(ready, b"paused\n")
            os.read(0, 1)
        return real(*args, **kwargs)

    return wrapper


if __name__ == "__main__":
    from minivoice_flow._cli import main

    function, at, *arguments = sys.argv[1:]
    ready = int(os.environ["READY_FD"])
    setattr(os, function, pausing(getattr(os, function), int(at), ready))
    raise SystemExit(main(arguments))
