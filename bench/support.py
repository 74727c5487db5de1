#!/usr/bin/env python3
"""The support page with a busy line's journal: 100,000 calls, 1,000,000 records.

    python bench/support.py            # prints a Markdown section
    python bench/support.py --write    # and puts it into bench/results.md

Each store (SQLite, and PostgreSQL on a throwaway server started here with its durable
defaults) is filled with the calls of a support line: ten records each (flows returned and
webhooks, as the example web app writes them, with a summary row per call), every outcome,
callers with a few calls each, all calls made to one line number, and a thousand unattributed
webhooks. Filling is a fixture, not what is measured: it writes the tables directly, in one
transaction (SQLite ``executemany``, PostgreSQL ``COPY``), then lets PostgreSQL analyze as
its autovacuum would.

What is measured is each page as the WSGI application serves it (``make_app(journal)``
called in process, the body read whole): the median of many requests, each for a different
call or number drawn at random. The baseline, measured in the same run on the same store, is
the store's own single indexed lookup: ``journal.last_step(call_id)``.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]  # the working tree's package and test helpers

from tests.postgres import Server, Unavailable  # noqa: E402
from tests.support_calls import LINE_NUMBER, support_line  # noqa: E402

sys.path.insert(0, str(ROOT / "bench"))
from run import machine, replace_section  # noqa: E402  (shared with the main benchmark)

from minivoice_flow import Redirect  # noqa: E402
from minivoice_flow._journal.sql import WRITTEN_COLUMNS  # noqa: E402
from minivoice_flow.journal import CallJournal  # noqa: E402
from minivoice_flow.support import make_app  # noqa: E402

HEADING = "## Support page with 100,000 calls"
START = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
RECORDS_PER_CALL = 10
UNATTRIBUTED = 1000
CALLERS = 20_000
#: How each call ends: the status of its last webhook (None: still in progress), and weight.
ENDINGS = (
    ("completed", 60),
    ("canceled", 12),
    ("busy", 10),
    ("no_answer", 8),
    ("failed", 2),
    (None, 8),
)
#: The columns of a record as the fixture writes them: its id, then what the journal writes.
RECORD_COLUMNS = ("id", *WRITTEN_COLUMNS)
CALL_COLUMNS = (
    "call_id",
    "first_at",
    "last_at",
    "last_id",
    "records",
    "unreadable",
    "from_number",
    "to_number",
    "step",
    "step_id",
    "handed_over",
    "ending_status",
    "ending_id",
)


# The fixture: a busy line's journal, written straight into the tables.


def calls(count: int, seed: int = 7) -> Iterator[tuple[list[tuple[Any, ...]], tuple[Any, ...]]]:
    """Each call's records (in ``RECORD_COLUMNS`` order, ids from 1) and its summary row."""
    rng = random.Random(seed)
    flows = {flow.name: flow for flow in support_line().flows}
    bodies = {name: flow.to_json() for name, flow in flows.items()}
    handed = {name: isinstance(flow.actions[-1], Redirect) for name, flow in flows.items()}
    paths = (
        ("support_menu", "support_menu_retry_1", "account_pin", "pin_accepted"),
        ("support_menu", "support_agent", "support_agent_busy", "support_menu_retry_1"),
        ("support_menu", "account_pin", "account_pin_retry_1", "account_pin_retry_2"),
        ("support_menu", "support_menu_retry_1", "support_menu_retry_2", "support_agent"),
    )
    weights = [w for _, w in ENDINGS]
    record_id = 0
    for number in range(count):
        call_id = f"call_{number:08x}{rng.randrange(16**6):06x}"
        caller = f"+1555{rng.randrange(CALLERS):07d}"
        begun = START + timedelta(seconds=30 * number)
        path = rng.choice(paths)
        (ending,) = rng.choices([e for e, _ in ENDINGS], weights)
        unreadable = rng.random() < 0.02
        rows: list[tuple[Any, ...]] = []
        step = step_id = ending_id = None
        ending_status = None

        events: list[tuple[Any, ...]] = [
            _webhook(call_id, caller, begun, "call.initiated", "ringing")
        ]
        url = "https://app.example.com/ivr/support_menu"
        for index, name in enumerate(path):
            at = begun + timedelta(seconds=1 + 7 * index)
            status = "ringing" if index == 0 else "in_progress"
            events.append(("response", at, name, url, None, status, bodies[name], None, None, None))
            url = f"https://app.example.com/ivr/{name}/input"
            if index == 0:
                events.append(
                    _webhook(
                        call_id, caller, at + timedelta(seconds=0.5), "call.answered", "in_progress"
                    )
                )
        while len(events) < RECORDS_PER_CALL - 1:
            at = begun + timedelta(seconds=30 + len(events))
            events.append(_webhook(call_id, caller, at, "call.answered", "in_progress"))  # resent
        end = begun + timedelta(seconds=60)
        if unreadable:
            body = f'{{"call": {{"id": "{call_id}"}}, "event": 7}}'
            digest = hashlib.sha256(body.encode()).digest()
            events.append(
                ("webhook", end, None, None, None, None, body, None, "unreadable", digest)
            )
        elif ending is None:
            events.append(_webhook(call_id, caller, end, "call.answered", "in_progress"))
        else:
            events.append(_webhook(call_id, caller, end, "call.completed", ending))
        for kind, at, name, url_, event, status, body, raw, error, digest in events:
            record_id += 1
            rows.append(
                (record_id, call_id, kind, at, name, url_, event, status, body, raw, error, digest)
            )
            if kind == "response":
                step, step_id = name, record_id
            elif error is None and event == "call.completed":
                ending_status, ending_id = status, record_id
        summary = (
            call_id,
            begun,
            rows[-1][3],
            record_id,
            len(rows),
            int(unreadable),
            caller,
            LINE_NUMBER,
            step,
            step_id,
            handed[step] if step is not None else None,
            ending_status,
            ending_id,
        )
        yield rows, summary


def _webhook(call_id: str, caller: str, at: datetime, event: str, status: str) -> tuple[Any, ...]:
    """A webhook record (from ``kind`` on), as the journal stores one it could read."""
    body = json.dumps(
        {
            "event": event,
            "created_at": at.isoformat().replace("+00:00", "Z"),
            "call": {
                "id": call_id,
                "customer_id": "cust_1",
                "application_id": "app_support",
                "status": status,
                "direction": "inbound",
                "from": caller,
                "to": LINE_NUMBER,
            },
            "variables": {"support_menu": "1"},
            "data": {},
        }
    )
    digest = hashlib.sha256(body.encode()).digest()
    return ("webhook", at, None, None, event, status, body, None, None, digest)


def unattributed(first_id: int) -> Iterator[tuple[Any, ...]]:
    for number in range(UNATTRIBUTED):
        body = f"not json {number}"
        at = START + timedelta(seconds=17 * number)
        digest = hashlib.sha256(body.encode()).digest()
        yield (
            first_id + number,
            None,
            "webhook",
            at,
            None,
            None,
            None,
            None,
            body,
            None,
            "unreadable",
            digest,
        )


def fill_sqlite(path: str, count: int) -> None:
    CallJournal(path).close()  # the schema, made by the journal itself
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA synchronous = OFF")
    summaries: list[tuple[Any, ...]] = []

    def records() -> Iterator[tuple[Any, ...]]:
        for rows, summary in calls(count):
            summaries.append(_sqlite_times(summary, (1, 2)))
            for row in rows:
                yield _sqlite_times(row, (3,))

    connection.execute("BEGIN")
    marks = ", ".join("?" * len(RECORD_COLUMNS))
    insert = f"INSERT INTO records ({', '.join(RECORD_COLUMNS)}) VALUES ({marks})"
    connection.executemany(insert, records())
    connection.executemany(
        insert, (_sqlite_times(r, (3,)) for r in unattributed(count * RECORDS_PER_CALL + 1))
    )
    marks = ", ".join("?" * len(CALL_COLUMNS))
    connection.executemany(
        f"INSERT INTO calls ({', '.join(CALL_COLUMNS)}) VALUES ({marks})", summaries
    )
    connection.execute("COMMIT")
    connection.close()


def _sqlite_times(row: tuple[Any, ...], columns: tuple[int, ...]) -> tuple[Any, ...]:
    return tuple(
        value.astimezone(UTC).isoformat(timespec="microseconds") if i in columns else value
        for i, value in enumerate(row)
    )


def fill_postgres(url: str, count: int) -> None:
    import psycopg

    CallJournal(url).close()  # the schema, made by the journal itself
    summaries: list[tuple[Any, ...]] = []
    schema = "minivoice_journal"
    with psycopg.connect(url) as connection:
        connection.execute("SET synchronous_commit = off")
        with connection.cursor() as cursor:
            columns = ", ".join(RECORD_COLUMNS)
            with cursor.copy(f"COPY {schema}.records ({columns}) FROM STDIN") as copy:
                for rows, summary in calls(count):
                    summaries.append(summary)
                    for row in rows:
                        copy.write_row(row)
                for row in unattributed(count * RECORDS_PER_CALL + 1):
                    copy.write_row(row)
            with cursor.copy(f"COPY {schema}.calls ({', '.join(CALL_COLUMNS)}) FROM STDIN") as copy:
                for summary in summaries:
                    copy.write_row(summary)
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{schema}.records', 'id'), "
                f"(SELECT max(id) FROM {schema}.records))"
            )
        connection.commit()
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(f"VACUUM ANALYZE {schema}.records")
        connection.execute(f"VACUUM ANALYZE {schema}.calls")


# What is measured.


class Client:
    """Calls the WSGI application in process, as a server would, and reads the whole body."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def get(self, target: str) -> int:
        path, _, query = target.partition("?")
        environ = {
            "REQUEST_METHOD": "GET",
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "REMOTE_ADDR": "127.0.0.1",
            "HTTP_HOST": "localhost",
            "SCRIPT_NAME": "",
            "wsgi.input": io.BytesIO(),
            "wsgi.url_scheme": "http",
        }
        statuses: list[str] = []
        body = b"".join(self.app(environ, lambda status, headers: statuses.append(status)))
        assert statuses[0].startswith("200"), (target, statuses, body[:300])
        return len(body)


def median_ms(run: Callable[[int], object], repeats: int) -> float:
    """The median time of ``run(i)`` over ``repeats`` calls (after two to warm up), in ms."""
    run(-1)
    run(-2)
    times = []
    for index in range(repeats):
        began = time.perf_counter()
        run(index)
        times.append((time.perf_counter() - began) * 1000)
    return statistics.median(times)


def measure(url: str, count: int, repeats: int) -> dict[str, float]:
    rng = random.Random(11)
    with CallJournal(url, create=False) as journal:
        sample = _sample_ids(journal, count, rng)
        callers = [journal.last_step(i).from_ for i in sample]  # type: ignore[union-attr]
        middle = journal.recent(1, before=count * RECORDS_PER_CALL // 2)[0].last_record_id
        line = support_line()
        plain = Client(make_app(journal))
        with_flows = Client(make_app(journal, line))
        pick = lambda items: lambda i: items[i % len(items)]  # noqa: E731
        call_id, caller = pick(sample), pick(callers)
        cases: dict[str, Callable[[int], object]] = {
            "baseline: journal.last_step(call_id)": lambda i: journal.last_step(call_id(i)),
            "calls page (first 50)": lambda i: plain.get("/calls"),
            "calls page, JSON twin": lambda i: plain.get("/calls?format=json"),
            "calls page half-way back (before=)": lambda i: plain.get(f"/calls?before={middle}"),
            "search by call ID": lambda i: plain.get(f"/calls?q={call_id(i)}"),
            "search by a caller's number": lambda i: plain.get(f"/calls?q=%2B{caller(i)[1:]}"),
            "search by the line's number (every call)": lambda i: plain.get(
                f"/calls?q=%2B{LINE_NUMBER[1:]}"
            ),
            "outcome filter: busy": lambda i: plain.get("/calls?outcome=busy"),
            "outcome filter: failed (2% of calls)": lambda i: plain.get("/calls?outcome=failed"),
            "line's number and failed": lambda i: plain.get(
                f"/calls?q=%2B{LINE_NUMBER[1:]}&outcome=failed"
            ),
            "call page": lambda i: plain.get(f"/call?id={call_id(i)}"),
            "call page, JSON twin": lambda i: plain.get(f"/call?id={call_id(i)}&format=json"),
            "call timeline picture": lambda i: plain.get(f"/call/timeline.svg?id={call_id(i)}"),
            "call page with --flows": lambda i: with_flows.get(f"/call?id={call_id(i)}"),
            "IVR graph picture, drawn anew (laid out by grandalf)": lambda i: (
                with_flows.app._graph_svg.cache_clear(),
                with_flows.get(f"/call/graph.svg?id={call_id(i)}"),
            ),
            "IVR graph picture, a path drawn before (kept)": lambda i: with_flows.get(
                f"/call/graph.svg?id={call_id(i)}"
            ),
            "unattributed page": lambda i: plain.get("/unattributed"),
        }
        return {name: median_ms(case, repeats) for name, case in cases.items()}


def _sample_ids(journal: CallJournal, count: int, rng: random.Random) -> list[str]:
    """Call IDs from all over the journal: each page's first call, at random places."""
    ids = []
    for _ in range(50):
        before = rng.randrange(RECORDS_PER_CALL + 1, count * RECORDS_PER_CALL)
        ids.append(journal.recent(1, before=before)[0].call_id)
    return ids


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=100_000, help="calls in each journal")
    parser.add_argument("--repeats", type=int, default=40, help="requests timed per page")
    parser.add_argument("--write", action="store_true", help="update bench/results.md")
    args = parser.parse_args(argv)
    results: dict[str, dict[str, float]] = {}
    fills: dict[str, float] = {}

    def run(store: str, fill: Callable[[str, int], None], location: str) -> None:
        began = time.perf_counter()
        fill(location, args.calls)
        fills[store] = time.perf_counter() - began
        print(f"{store} filled in {fills[store]:.0f} s", file=sys.stderr)
        results[store] = measure(location, args.calls, args.repeats)

    with tempfile.TemporaryDirectory() as scratch:
        run("SQLite", fill_sqlite, str(Path(scratch) / "calls.db"))
    try:
        server = Server.start_new(durable=True)
    except Unavailable as missing:
        print(f"PostgreSQL skipped: {missing}", file=sys.stderr)
    else:
        try:
            run("PostgreSQL", fill_postgres, server.database())
        finally:
            server.stop()
            server.remove()
    section = report(results, fills, args.calls, args.repeats)
    print(section)
    if args.write:
        replace_section(HEADING, section)
    return 0


def report(
    results: dict[str, dict[str, float]], fills: dict[str, float], count: int, repeats: int
) -> str:
    stores = list(results)
    lines = [
        HEADING,
        "",
        "Machine: " + ", ".join(f"{k} {v}" for k, v in machine().items()) + ". "
        f"`python bench/support.py --write`: each store holds {count:,} calls "
        f"({count * RECORDS_PER_CALL:,} records, and {UNATTRIBUTED:,} unattributed); each "
        f"figure is the median of {repeats} requests served by `make_app(journal)` in process "
        "(the page rendered and its body read), a different call or number each time. The "
        "ratio is to the baseline on the same store in the same run: one "
        "`journal.last_step(call_id)`. Filling (the fixture, not measured): "
        + ", ".join(f"{store} {seconds:.0f} s" for store, seconds in fills.items())
        + ".",
        "",
        "| request | " + " | ".join(f"{s} ms | {s} ratio" for s in stores) + " |",
        "|---|" + "---:|---:|" * len(stores),
    ]
    names = list(results[stores[0]])
    for name in names:
        cells = []
        for store in stores:
            value = results[store][name]
            baseline = results[store][names[0]]
            cells += [f"{value:.2f}", f"{value / baseline:.1f}x"]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
