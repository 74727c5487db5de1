"""What the commands print: one line per diagnostic or problem, then a summary.

``build`` and ``validate`` share these formats, so a line from either reads the same way:
``<where>: <severity> <code> at <JSON pointer>: <message>`` for a diagnostic, and
``<where>: error: <message>`` for a problem that is not about a payload (a file that cannot be
read, a module that cannot be imported, two flows with one name).

Every line goes out through ``say``, which passes it through ``printable``: file names, flow
names, JSON pointers and messages may hold text from the input, and a control character in
them must never reach the terminal as itself.
"""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TextIO

from attrs import frozen

from minivoice_flow._diagnostics import Diagnostic
from minivoice_flow._text import printable


@frozen
class Problem:
    """Something that stops a command other than a payload diagnostic, and where it is."""

    where: str
    message: str
    #: More detail (a traceback), line by line, printed only on request.
    details: tuple[str, ...] = ()

    def __str__(self) -> str:
        return f"{self.where}: error: {self.message}"


def use_safe_streams() -> None:
    """Never fail to print: characters the terminal cannot show become backslash escapes."""
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors="backslashreplace")


def say(line: str, *, file: TextIO | None = None) -> None:
    """Print one line for a person, its control characters (line breaks too) escaped."""
    print(printable(line), file=sys.stdout if file is None else file)


def diagnostic_line(where: str, diagnostic: Diagnostic) -> str:
    """``<where>: <severity> <code> at <pointer>: <message>``."""
    return f"{where}: {diagnostic}"


def tally(diagnostics: Iterable[Diagnostic], *, problems: int = 0) -> str:
    """``"2 errors, 1 warning"``; each problem counts as an error."""
    severities = [d.severity for d in diagnostics]
    errors = severities.count("error") + problems
    warnings = len(severities) - severities.count("error")
    return f"{plural(errors, 'error')}, {plural(warnings, 'warning')}"


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def shown_path(path: Path) -> str:
    """A path as the user would type it: relative to the working directory when inside it."""
    if not path.is_absolute():
        return str(path)
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def os_reason(error: OSError) -> str:
    """A short, stable reason for an I/O error, such as ``"permission denied"``."""
    if isinstance(error, FileNotFoundError):
        return "no such file or directory"
    if isinstance(error, IsADirectoryError):
        return "is a directory, not a file"
    if isinstance(error, NotADirectoryError):
        return "a part of the path is not a directory"
    if isinstance(error, PermissionError):
        return "permission denied"
    return error.strerror or os.strerror(error.errno or 0) or type(error).__name__
