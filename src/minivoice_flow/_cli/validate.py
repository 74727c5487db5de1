"""``minivoice-flow validate FILE... | -``: check answer_url JSON files or standard input."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any, Literal

from attrs import frozen

from minivoice_flow._cli import EXIT_INVALID, EXIT_OK, EXIT_USAGE

if TYPE_CHECKING:
    from minivoice_flow._diagnostics import Diagnostic, Report

STDIN = "-"

DESCRIPTION = """\
Check answer_url JSON files (or standard input, given as "-") against the MiniVoice model:
every problem of every file is reported with its JSON pointer and code, then a summary.
A file that cannot be read (missing, a directory, no permission) is reported and counts as
invalid; the other files are still checked. At most 64 KiB + 1 byte of each input is read:
anything longer is payload_too_large, however long it is (even endless)."""

EPILOG = (
    "Exit codes: 0 every file is valid, 1 a file is invalid or unreadable "
    "(or has a warning, with --strict), 2 usage error."
)

Status = Literal["valid", "invalid", "unreadable"]


def configure(parser: argparse.ArgumentParser) -> None:
    parser.description = DESCRIPTION
    parser.epilog = EPILOG
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument(
        "files", nargs="+", metavar="FILE", help='a JSON file; "-" reads standard input'
    )
    parser.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="text for people (the default), json for programs: one document on stdout",
    )
    parser.add_argument("--strict", action="store_true", help="count warnings as failures")
    parser.add_argument(
        "--direction",
        choices=("inbound", "outbound"),
        help="the calls' direction (inbound enables the digits_to_caller rule)",
    )


def run(args: argparse.Namespace) -> int:
    from minivoice_flow._cli._report import use_safe_streams

    use_safe_streams()
    if args.files.count(STDIN) > 1:
        print(
            'minivoice-flow validate: error: standard input ("-") can be given only once',
            file=sys.stderr,
        )
        return EXIT_USAGE
    results = [_check(name, args) for name in args.files]
    if args.format == "json":
        _print_json(results, args.strict)
    else:
        _print_text(results)
    return EXIT_OK if all(r.status == "valid" for r in results) else EXIT_INVALID


@frozen
class _Result:
    """One file's outcome: its report, or why it could not be read."""

    name: str
    report: Report | None
    reason: str | None = None
    strict: bool = False

    @property
    def shown(self) -> str:
        return "<stdin>" if self.name == STDIN else self.name

    @property
    def diagnostics(self) -> tuple[Diagnostic, ...]:
        return () if self.report is None else self.report.diagnostics

    @property
    def status(self) -> Status:
        if self.report is None:
            return "unreadable"
        return "valid" if self.report.passes(strict=self.strict) else "invalid"


def _check(name: str, args: argparse.Namespace) -> _Result:
    from minivoice_flow import validate
    from minivoice_flow._cli._report import os_reason
    from minivoice_flow._limits import MAX_PAYLOAD_BYTES

    # One byte over the limit is enough for validate() to say payload_too_large, and reading
    # no more keeps memory small whatever the input: /dev/zero, a huge file, an endless pipe.
    try:
        if name == STDIN:
            if sys.stdin is None:
                return _Result(name, None, "standard input is closed")
            content, size = _read_stdin(MAX_PAYLOAD_BYTES + 1)
        else:
            with open(name, "rb") as stream:
                content, size = _read(stream.fileno(), MAX_PAYLOAD_BYTES + 1)
    except OSError as error:
        return _Result(name, None, os_reason(error))
    report = validate(content, direction=args.direction)
    if len(content) > MAX_PAYLOAD_BYTES:
        report = _cut_short(report, size)
    return _Result(name, report, strict=args.strict)


def _read_stdin(limit: int) -> tuple[bytes, int | None]:
    """Standard input, bounded; a stand-in stream without a descriptor is read the same way."""
    try:
        descriptor = sys.stdin.fileno()
    except (OSError, ValueError):  # io.UnsupportedOperation: a stream in memory
        return sys.stdin.buffer.read(limit), None
    return _read(descriptor, limit)


def _read(descriptor: int, limit: int) -> tuple[bytes, int | None]:
    """At most ``limit`` bytes, and the whole input's size when it is a file that has one."""
    import os
    import stat

    content = read_at_most(descriptor, limit)
    if len(content) < limit:
        return content, len(content)
    status = os.fstat(descriptor)
    return content, status.st_size if stat.S_ISREG(status.st_mode) else None


def read_at_most(descriptor: int, limit: int) -> bytes:
    """Up to ``limit`` bytes from a file descriptor, and not one byte more taken from it.

    Unbuffered ``os.read`` calls, so no read-ahead buffer takes more from a pipe than asked.
    """
    import os

    chunks: list[bytes] = []
    left = limit
    while left > 0:
        chunk = os.read(descriptor, left)
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _cut_short(report: Report, size: int | None) -> Report:
    """The report of an input read only up to the limit: its size said as it is known."""
    from attrs import evolve

    from minivoice_flow._diagnostics import Report
    from minivoice_flow._limits import MAX_PAYLOAD_BYTES

    shown = f"{size} bytes" if size is not None else f"over {MAX_PAYLOAD_BYTES} bytes"
    message = (
        f"the payload is {shown}; at most {MAX_PAYLOAD_BYTES} are allowed (the rest was not "
        "read): split the flow with a redirect"
    )
    return Report(
        tuple(
            evolve(d, message=message) if d.code == "payload_too_large" else d
            for d in report.diagnostics
        )
    )


def _summary(results: list[_Result]) -> dict[str, int]:
    statuses = [r.status for r in results]
    severities = [d.severity for r in results for d in r.diagnostics]
    return {
        "files": len(results),
        "valid": statuses.count("valid"),
        "invalid": statuses.count("invalid"),
        "unreadable": statuses.count("unreadable"),
        "errors": severities.count("error"),
        "warnings": severities.count("warning"),
    }


def _print_text(results: list[_Result]) -> None:
    from minivoice_flow._cli._report import Problem, diagnostic_line, plural, say

    for result in results:
        if result.reason is not None:
            say(str(Problem(result.shown, f"cannot read: {result.reason}")))
        for diagnostic in result.diagnostics:
            say(diagnostic_line(result.shown, diagnostic))
    n = _summary(results)
    print(
        f"checked {plural(n['files'], 'file')}: {n['valid']} valid, {n['invalid']} invalid, "
        f"{n['unreadable']} unreadable; {plural(n['errors'], 'error')}, "
        f"{plural(n['warnings'], 'warning')}"
    )


def _print_json(results: list[_Result], strict: bool) -> None:
    import json

    files: list[dict[str, Any]] = []
    for result in results:
        entry: dict[str, Any] = {"file": result.name, "status": result.status}
        if result.reason is not None:
            entry["reason"] = result.reason
        entry["diagnostics"] = [d.to_dict() for d in result.diagnostics]
        files.append(entry)
    summary = _summary(results)
    document = {
        "ok": summary["valid"] == summary["files"],
        "strict": strict,
        "files": files,
        "summary": summary,
    }
    print(json.dumps(document, indent=2))
