"""``minivoice-flow calls``: read a call journal (what happened on a call, and how it ended)."""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import sys
from collections.abc import Callable, Iterable
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Final, Literal, TextIO

from minivoice_flow._cli import EXIT_INVALID, EXIT_OK, EXIT_USAGE
from minivoice_flow._support import TOKEN_VARIABLE
from minivoice_flow._text import printable
from minivoice_flow.journal import (
    ENVIRONMENT_VARIABLE,
    CallJournal,
    JournalError,
    LastStep,
    Outcome,
    Pruned,
    Record,
)

if TYPE_CHECKING:
    from minivoice_flow.graph import FlowGraph

DEFAULT_DB: Final = "calls.db"


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
    listing.add_argument(
        "--outcome", choices=[o.value for o in Outcome], help="only calls that ended so"
    )
    listing.add_argument("--number", help="only calls from or to this number")
    unattributed = actions.add_parser(
        "unattributed",
        help="webhooks stored with no call ID",
        description=UNATTRIBUTED_HELP,
    )
    unattributed.add_argument("--limit", type=_positive, default=20, help="how many (default 20)")
    prune = actions.add_parser(
        "prune", help="delete calls last active longer ago than a limit", description=PRUNE_HELP
    )
    prune.add_argument(
        "--older-than",
        type=_age,
        required=True,
        metavar="AGE",
        help="a number and a unit: s, m, h, d or w (30d is thirty days)",
    )
    serve = actions.add_parser(
        "serve",
        help="the support page in a browser: find a call, see what happened",
        description=SERVE_HELP,
    )
    serve.add_argument(
        "--flows",
        action="append",
        metavar="PATH",
        help="show the IVR graph of the flows found here on each call's page (a .py file, a "
        "directory, a package or a dotted module name, as build finds them); repeatable",
    )
    serve.add_argument(
        "--host", default="127.0.0.1", help="the address to listen on (default 127.0.0.1)"
    )
    serve.add_argument(
        "--port", type=_port, default=8080, help="the port to listen on (default 8080)"
    )
    serve.add_argument(
        "--token",
        help=f"the token every visitor must give (default: ${TOKEN_VARIABLE}); required on "
        "any address but loopback. The environment variable keeps it out of the process list",
    )
    for sub in (show, listing, unattributed, prune, serve):
        sub.add_argument(
            "--db",
            metavar="PATH_OR_URL",
            help=f"the journal: a SQLite file or a postgresql:// URL (default: "
            f"${ENVIRONMENT_VARIABLE}, else {DEFAULT_DB})",
        )
    for sub in (show, listing, unattributed, prune):
        sub.add_argument(
            "--format",
            choices=("text", "json"),
            default="text",
            help="text for people (the default), json for programs: one document on stdout",
        )


SHOW_HELP = "Print every response returned and webhook received for a call, then its outcome."
LIST_HELP = "List the most recently active calls, newest first, with their last step and outcome."
UNATTRIBUTED_HELP = "List stored webhooks too malformed to name their call, newest first."
PRUNE_HELP = (
    "Delete every call whose last record is older than --older-than (all of its records: "
    "never part of a call), and unattributed records older than that; say how many."
)

SERVE_HELP = (
    "Serve the support page: recent calls with their outcome, search by call ID or phone "
    "number, each call's records and timeline picture, and JSON twins of each page. It only "
    "reads the journal. It listens on loopback unless --host says otherwise; on any other "
    f"address it needs a token (--token or ${TOKEN_VARIABLE}), which visitors give once on a "
    "login form or as Authorization: Bearer. Runs until stopped (Ctrl-C). Needs jinja2 and "
    "grandalf: pip install 'minivoice-flow[support]'. For production, run "
    "minivoice_flow.support.make_app under a WSGI server such as gunicorn."
)


def run(args: argparse.Namespace) -> int:
    db = args.db if args.db is not None else os.environ.get(ENVIRONMENT_VARIABLE) or DEFAULT_DB
    if args.action == "serve":
        return _serve(args, db)
    action: Callable[[CallJournal, argparse.Namespace, TextIO], int] = _ACTIONS[args.action]
    try:
        with CallJournal(db, create=False) as journal:
            return action(journal, args, sys.stdout)
    except JournalError as error:
        _error(str(error))
        return EXIT_INVALID


def _error(message: str) -> None:
    print(f"minivoice-flow calls: error: {printable(message)}", file=sys.stderr)


def _show(journal: CallJournal, args: argparse.Namespace, out: TextIO) -> int:
    last = journal.last_step(args.call_id)
    if last is None:
        _error(f"nothing recorded for call '{args.call_id}' in {journal.path}")
        return EXIT_INVALID
    timeline = journal.timeline(args.call_id)
    if args.svg is not None and not _draw(args.svg, timeline, last):
        return EXIT_INVALID
    if args.format == "json":
        _print_json({"last_step": last, "timeline": timeline}, out)
        return EXIT_OK
    print(f"call {printable(last.call_id)}", file=out)
    numbers = f"from {last.from_ or '(unknown)'} to {last.to or '(unknown)'}"
    print(f"numbers:   {printable(numbers)}", file=out)
    _print_records(timeline, out)
    step = last.step if last.step is not None else "(none recorded)"
    print(f"last step: {printable(step)}", file=out)
    status = f" (call status {last.status})" if last.status is not None else ""
    print(printable(f"outcome:   {last.outcome.value}{status}: {last.describe()}"), file=out)
    if last.unreadable:
        print(f"warning:   {last.unreadable} webhook(s) of this call could not be read", file=out)
    return EXIT_OK


def _list(journal: CallJournal, args: argparse.Namespace, out: TextIO) -> int:
    calls = journal.recent(args.limit, outcome=args.outcome, number=args.number)
    orphans = journal.unattributed_count()
    if args.format == "json":
        _print_json({"calls": calls, "unattributed": orphans}, out)
        return EXIT_OK
    if not calls:
        which = " matching" if args.outcome is not None or args.number is not None else ""
        print(printable(f"no{which} calls recorded in {journal.path}"), file=out)
    else:
        _print_table(calls, out)
    if orphans:
        hint = f"minivoice-flow calls unattributed --db {journal.path}"
        print(f"\n{orphans} webhook(s) stored with no call ID: {printable(hint)}", file=out)
    return EXIT_OK


def _unattributed(journal: CallJournal, args: argparse.Namespace, out: TextIO) -> int:
    records = journal.unattributed(args.limit)
    if args.format == "json":
        _print_json({"records": records}, out)
        return EXIT_OK
    if not records:
        print(printable(f"every record in {journal.path} names its call"), file=out)
    _print_records(records, out)
    return EXIT_OK


def _prune(journal: CallJournal, args: argparse.Namespace, out: TextIO) -> int:
    older_than: timedelta = args.older_than
    pruned = journal.prune(older_than=older_than)
    if args.format == "json":
        _print_json({"pruned": pruned, "older_than_seconds": older_than.total_seconds()}, out)
        return EXIT_OK
    print(
        printable(
            f"pruned {pruned.calls} call(s) ({pruned.records} records) and "
            f"{pruned.unattributed} unattributed record(s) last written before "
            f"{older_than} ago from {journal.path}"
        ),
        file=out,
    )
    return EXIT_OK


def _serve(args: argparse.Namespace, db: str) -> int:
    """Serve the support page until interrupted; refuse a non-loopback address without a
    token, and say what is missing when the page's libraries are not installed."""
    from minivoice_flow._cli._interrupt import Interrupted
    from minivoice_flow.support import make_app
    from minivoice_flow.wsgi import is_loopback, make_server

    token = args.token if args.token is not None else os.environ.get(TOKEN_VARIABLE) or None
    if token is None and not is_loopback(args.host):
        _error(
            f"refusing to serve the journal on {args.host} without a token: anyone who can "
            f"reach that address could read every call. Give --token (or set {TOKEN_VARIABLE}), "
            "or listen on 127.0.0.1"
        )
        return EXIT_USAGE
    flows = _flows(args.flows) if args.flows else None
    if flows is False:
        return EXIT_INVALID
    try:
        journal = CallJournal(db, create=False)
    except JournalError as error:
        _error(str(error))
        return EXIT_INVALID
    with journal:
        try:
            app = make_app(journal, flows or None, token=token)
        except (ImportError, ValueError) as error:
            _error(str(error))
            return EXIT_INVALID if isinstance(error, ImportError) else EXIT_USAGE
        try:
            server = make_server(app, args.host, args.port)
        except OSError as error:
            _error(f"cannot listen on {args.host}:{args.port}: {error.strerror or error}")
            return EXIT_INVALID
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
        host = f"[{args.host}]" if ":" in args.host else args.host
        guarded = "a token is required" if token is not None else "loopback only, no token"
        print(
            printable(
                f"serving the support page for {journal.path} on "
                f"http://{host}:{server.server_port}/ ({guarded}); Ctrl-C stops it"
            ),
            file=sys.stderr,
            flush=True,
        )
        try:
            server.serve_forever()
        except (Interrupted, KeyboardInterrupt) as stop:
            # Stopping is how a server ends: exit 0, unlike a command cut short.
            reason = str(stop) if isinstance(stop, Interrupted) else "interrupted by SIGINT"
            print(f"stopped ({reason.removeprefix('interrupted by ')})", file=sys.stderr)
        finally:
            server.server_close()
    return EXIT_OK


def _flows(paths: list[str]) -> FlowGraph | Literal[False]:
    """The graph of the flows found in ``paths`` (as ``build`` finds them), or False when
    they cannot be loaded or drawn, each problem said."""
    from minivoice_flow import Flow
    from minivoice_flow._cli._discover import discover
    from minivoice_flow.fallback import FlowSet
    from minivoice_flow.graph import flow_graph

    found = discover(paths)
    problems = [str(problem) for problem in found.problems]
    if not found.flows and not problems:
        problems.append(f"{' '.join(paths)}: no named flows found for --flows")
    if not problems:
        sets = [bundle for bundle in found.bundles if isinstance(bundle, FlowSet)]
        single = [item.flow for item in found.flows if isinstance(item.flow, Flow)]
        try:
            return flow_graph(*sets, *single)
        except Exception as error:  # two flows with one name, an on_input that fails
            problems.append(f"--flows: cannot draw the graph: {type(error).__name__}: {error}")
    for problem in problems:
        _error(problem)
    return False


def _draw(path: Path, timeline: tuple[Record, ...], last: LastStep) -> bool:
    """Write the picture of a call to ``path`` (atomically); False, said why, when it cannot."""
    from minivoice_flow._cli._report import os_reason
    from minivoice_flow._draw.recorded import draw_recorded_call
    from minivoice_flow._files import replace as replace_file

    try:
        replace_file(path, draw_recorded_call(timeline, last).encode("utf-8"))
    except OSError as error:
        print(
            printable(f"minivoice-flow calls: error: cannot write {path}: {os_reason(error)}"),
            file=sys.stderr,
        )
        return False
    print(printable(f"wrote {path}"), file=sys.stderr)
    return True


_ACTIONS: dict[str, Callable[[CallJournal, argparse.Namespace, TextIO], int]] = {
    "show": _show,
    "list": _list,
    "unattributed": _unattributed,
    "prune": _prune,
}


def _print_json(document: dict[str, object], out: TextIO) -> None:
    """One JSON document: records and calls as objects of their fields (``to_dict()``: times
    in ISO 8601, the bytes of an unreadable webhook in base64, each call's outcome in words)."""
    json.dump({key: _data(value) for key, value in document.items()}, out, indent=2)
    out.write("\n")


def _data(value: object) -> object:
    if isinstance(value, tuple):
        return [_data(item) for item in value]
    if isinstance(value, Record | LastStep | Pruned):
        return value.to_dict()
    return value


def _print_table(calls: Iterable[LastStep], out: TextIO) -> None:
    rows = [["CALL ID", "UPDATED", "FROM", "LAST STEP", "OUTCOME"]]
    for c in calls:
        shown = (c.call_id, c.updated_at.isoformat(), c.from_ or "-", c.step or "-", c.describe())
        rows.append([printable(cell) for cell in shown])
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        print("  ".join([*cells, row[4]]), file=out)


def _print_records(records: Iterable[Record], out: TextIO) -> None:
    for record in records:
        headline = printable(_headline(record))
        print(f"  #{record.id}  {record.received_at.isoformat()}  {headline}", file=out)
        if record.error is not None:
            print(_indented(f"error: {record.error}"), file=out)
        if record.raw is not None:
            print(_indented("(not valid UTF-8: shown with escapes)"), file=out)
        print(f"      {printable(record.body)}", file=out)  # one line, whatever it holds


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
    """Each line of ``text`` indented, with what it holds made safe for a terminal."""
    return "\n".join(f"      {printable(line)}" for line in text.splitlines() or [""])


def _port(text: str) -> int:
    if not (text.isascii() and text.isdigit()) or int(text[:6]) > 65535:
        raise argparse.ArgumentTypeError(f"must be a port number, 0 to 65535; got {text!r}")
    return int(text)


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number, 1 or more; got {text!r}")
    return value


_AGE: Final = re.compile(r"([0-9]{1,9})([smhdw])")
_UNITS: Final = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def _age(text: str) -> timedelta:
    found = _AGE.fullmatch(text.strip())
    if found is None or int(found.group(1)) == 0:
        raise argparse.ArgumentTypeError(
            f"must be a whole number above 0 and a unit (s, m, h, d or w), like 30d; "
            f"got {printable(repr(text))}"
        )
    return timedelta(**{_UNITS[found.group(2)]: int(found.group(1))})
