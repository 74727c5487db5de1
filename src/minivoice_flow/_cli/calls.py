"""``minivoice-flow calls``: read a call journal (what happened on a call, and how it ended)."""

from __future__ import annotations

import argparse
import base64
import json
import sys
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import TextIO

import cattrs
import cattrs.gen

from minivoice_flow._cli import EXIT_INVALID, EXIT_OK
from minivoice_flow.journal import CallJournal, JournalError, LastStep, Record


def configure(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    show = actions.add_parser(
        "show", help="one call's timeline, last step and outcome", description=SHOW_HELP
    )
    show.add_argument("call_id", metavar="CALL_ID", help="the MiniVoice call ID")
    show.add_argument(
        "--svg",
        type=Path,
        metavar="FILE",
        help="also draw the call (requests, flows returned, webhooks, last step) as SVG here",
    )
    listing = actions.add_parser(
        "list", help="recent calls with their outcome", description=LIST_HELP
    )
    listing.add_argument("--limit", type=_positive, default=20, help="how many (default 20)")
    unattributed = actions.add_parser(
        "unattributed",
        help="webhooks stored with no call ID",
        description=UNATTRIBUTED_HELP,
    )
    unattributed.add_argument("--limit", type=_positive, default=20, help="how many (default 20)")
    for sub in (show, listing, unattributed):
        sub.add_argument(
            "--db", default="calls.db", metavar="PATH", help="the journal (default calls.db)"
        )
        sub.add_argument(
            "--format",
            choices=("text", "json"),
            default="text",
            help="text for people (the default), json for programs: one document on stdout",
        )


SHOW_HELP = "Print every response returned and webhook received for a call, then its outcome."
LIST_HELP = "List the most recently active calls, newest first, with their last step and outcome."
UNATTRIBUTED_HELP = "List stored webhooks too malformed to name their call, newest first."


def run(args: argparse.Namespace) -> int:
    action: Callable[[CallJournal, argparse.Namespace, TextIO], int] = _ACTIONS[args.action]
    try:
        with CallJournal(args.db, create=False) as journal:
            return action(journal, args, sys.stdout)
    except JournalError as error:
        print(f"minivoice-flow calls: error: {error}", file=sys.stderr)
        return EXIT_INVALID


def _show(journal: CallJournal, args: argparse.Namespace, out: TextIO) -> int:
    last = journal.last_step(args.call_id)
    if last is None:
        print(
            f"minivoice-flow calls: error: nothing recorded for call {args.call_id!r} "
            f"in {journal.path}",
            file=sys.stderr,
        )
        return EXIT_INVALID
    timeline = journal.timeline(args.call_id)
    if args.svg is not None and not _draw(args.svg, timeline, last):
        return EXIT_INVALID
    if args.format == "json":
        _print_json({"last_step": last, "timeline": timeline}, out)
        return EXIT_OK
    print(f"call {last.call_id}", file=out)
    _print_records(timeline, out)
    print(f"last step: {last.step if last.step is not None else '(none recorded)'}", file=out)
    status = f" (call status {last.status})" if last.status is not None else ""
    print(f"outcome:   {last.outcome.value}{status}: {last.describe()}", file=out)
    if last.unreadable:
        print(f"warning:   {last.unreadable} webhook(s) of this call could not be read", file=out)
    return EXIT_OK


def _list(journal: CallJournal, args: argparse.Namespace, out: TextIO) -> int:
    calls = journal.recent(args.limit)
    if args.format == "json":
        _print_json({"calls": calls, "unattributed": len(journal.unattributed())}, out)
        return EXIT_OK
    if not calls:
        print(f"no calls recorded in {journal.path}", file=out)
    else:
        _print_table(calls, out)
    orphans = len(journal.unattributed())
    if orphans:
        print(
            f"\n{orphans} webhook(s) stored with no call ID: "
            f"minivoice-flow calls unattributed --db {journal.path}",
            file=out,
        )
    return EXIT_OK


def _unattributed(journal: CallJournal, args: argparse.Namespace, out: TextIO) -> int:
    records = journal.unattributed(args.limit)
    if args.format == "json":
        _print_json({"records": records}, out)
        return EXIT_OK
    if not records:
        print(f"every record in {journal.path} names its call", file=out)
    _print_records(records, out)
    return EXIT_OK


def _draw(path: Path, timeline: tuple[Record, ...], last: LastStep) -> bool:
    """Write the picture of a call to ``path`` (atomically); False, said why, when it cannot."""
    from minivoice_flow._cli._report import os_reason
    from minivoice_flow._draw.recorded import draw_recorded_call
    from minivoice_flow._files import replace as replace_file

    try:
        replace_file(path, draw_recorded_call(timeline, last).encode("utf-8"))
    except OSError as error:
        print(
            f"minivoice-flow calls: error: cannot write {path}: {os_reason(error)}",
            file=sys.stderr,
        )
        return False
    print(f"wrote {path}", file=sys.stderr)
    return True


_ACTIONS: dict[str, Callable[[CallJournal, argparse.Namespace, TextIO], int]] = {
    "show": _show,
    "list": _list,
    "unattributed": _unattributed,
}


def _print_json(document: dict[str, object], out: TextIO) -> None:
    """One JSON document: records and calls as objects of their fields (times in ISO 8601,
    the bytes of an unreadable webhook in base64), with each call's outcome in words too."""
    converter = cattrs.Converter()
    converter.register_unstructure_hook(datetime, datetime.isoformat)
    converter.register_unstructure_hook(bytes, lambda raw: base64.b64encode(raw).decode())
    converter.register_unstructure_hook(
        LastStep,
        lambda last: {
            **cattrs.gen.make_dict_unstructure_fn(LastStep, converter)(last),
            "description": last.describe(),
        },
    )
    json.dump(converter.unstructure(document), out, indent=2)
    out.write("\n")


def _print_table(calls: Iterable[LastStep], out: TextIO) -> None:
    rows = [("CALL ID", "UPDATED", "LAST STEP", "OUTCOME")]
    rows += [(c.call_id, c.updated_at.isoformat(), c.step or "-", c.describe()) for c in calls]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        print("  ".join([*cells, row[3]]), file=out)


def _print_records(records: Iterable[Record], out: TextIO) -> None:
    for record in records:
        print(f"  #{record.id}  {record.received_at.isoformat()}  {_headline(record)}", file=out)
        if record.error is not None:
            print(_indented(f"error: {record.error}"), file=out)
        if record.raw is not None:
            print(_indented("(not valid UTF-8: shown with escapes)"), file=out)
        print(_indented(record.body), file=out)


def _headline(record: Record) -> str:
    if record.kind == "response":
        parts = [f"response {record.flow_name or '(unnamed flow)'}"]
        if record.url is not None:
            parts.append(f"for {record.url}")
        if record.status is not None:
            parts.append(f"(call status {record.status})")
        return " ".join(parts)
    if not record.ok:
        return "webhook (could not be read)"
    return f"webhook {record.event} (call status {record.status})"


def _indented(text: str) -> str:
    return "\n".join(f"      {line}" for line in text.splitlines() or [""])


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number, 1 or more; got {text!r}")
    return value
