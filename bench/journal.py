#!/usr/bin/env python3
"""Throughput of the call journal: SQLite and PostgreSQL, with 1, 4 and 8 writer processes.

    python bench/journal.py            # prints a Markdown section
    python bench/journal.py --write    # and puts it into bench/results.md

Each writer process opens its own journal and, for each of its calls, records a response and
a webhook, as an answer_url handler and its webhook endpoint do: two committed writes per
call. The writers start together; the figure is calls per second over the wall time from the
start to the last writer's end. Every figure is also given as a ratio to the baseline measured
in the same run, one SQLite writer, because absolute rates on a shared machine say little.

PostgreSQL runs on a throwaway server started here (initdb and pg_ctl, as in the tests) with
its durable defaults (fsync on), on the same machine, over TCP on loopback. Both stores use
their default, durable settings; a last row shows SQLite's ``durable=False`` for comparison.
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]  # the working tree's package and test helpers

from tests.journal_worker import webhook_for  # noqa: E402
from tests.postgres import Server, Unavailable  # noqa: E402

sys.path.insert(0, str(ROOT / "bench"))
from run import machine, replace_section  # noqa: E402  (shared with the main benchmark)

from minivoice_flow import Flow  # noqa: E402
from minivoice_flow.journal import CallJournal  # noqa: E402

FLOW = Flow("menu").play("https://media.example.com/menu.wav").hangup()
HEADING = "## Call journal throughput"


def writer(url: str, durable: bool, worker: int, calls: int, start: Any, times: Any) -> None:
    journal = CallJournal(url, durable=durable)
    start.wait()
    began = time.perf_counter()
    for index in range(calls):
        call_id = f"call_{worker}_{index}"
        journal.record_response(call_id, FLOW, url="https://app.example.com/answer")
        journal.record_webhook(webhook_for(call_id))
    times.put((began, time.perf_counter()))
    journal.close()


def measure(url: str, writers: int, total: int, durable: bool = True) -> float:
    """Calls per second with ``writers`` processes sharing ``total`` calls."""
    CallJournal(url).close()  # make the schema before the clock starts
    context = multiprocessing.get_context("spawn")
    start, times = context.Barrier(writers), context.Queue()
    each = total // writers
    processes = [
        context.Process(target=writer, args=(url, durable, w, each, start, times))
        for w in range(writers)
    ]
    for process in processes:
        process.start()
    spans = [times.get(timeout=600) for _ in processes]
    for process in processes:
        process.join()
    elapsed: float = max(end for _, end in spans) - min(began for began, _ in spans)
    return each * writers / elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1200, help="calls per measurement")
    parser.add_argument("--write", action="store_true", help="update bench/results.md")
    args = parser.parse_args(argv)
    rows: list[tuple[str, int, float]] = []
    with tempfile.TemporaryDirectory() as scratch:
        for writers in (1, 4, 8):
            url = str(Path(scratch) / f"sqlite-{writers}.db")
            rows.append(("SQLite", writers, measure(url, writers, args.calls)))
        url = str(Path(scratch) / "relaxed.db")
        rows.append(("SQLite, durable=False", 1, measure(url, 1, args.calls, durable=False)))
    try:
        server = Server.start_new(durable=True)
    except Unavailable as missing:
        print(f"PostgreSQL skipped: {missing}", file=sys.stderr)
    else:
        try:
            for writers in (1, 4, 8):
                rows.append(
                    ("PostgreSQL", writers, measure(server.database(), writers, args.calls))
                )
        finally:
            server.stop()
            server.remove()
    section = report(rows, args.calls)
    print(section)
    if args.write:
        replace_section(HEADING, section)
    return 0


def report(rows: list[tuple[str, int, float]], calls: int) -> str:
    baseline = rows[0][2]
    lines = [
        HEADING,
        "",
        "Machine: " + ", ".join(f"{k} {v}" for k, v in machine().items()) + ". "
        f"`python bench/journal.py --write`: {calls} calls per row (a response and a webhook "
        "each, two committed writes), writers in separate processes, one run per row.",
        "",
        "| store | writers | calls/s | writes/s | ratio to 1 SQLite writer |",
        "|---|---:|---:|---:|---:|",
    ]
    for store, writers, rate in rows:
        lines.append(
            f"| {store} | {writers} | {rate:,.0f} | {2 * rate:,.0f} | {rate / baseline:.2f}x |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
