"""The journal's databases: schema versions and migrations, many writers at once, faults.

Tests taking ``journal_url`` run once per store (SQLite, and PostgreSQL on the throwaway
server the session starts); the rest are about one store's own file or server.
"""

from __future__ import annotations

import multiprocessing
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from contextlib import closing
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import psycopg
import pytest

from minivoice_flow import Flow
from minivoice_flow._journal import CallQuery
from minivoice_flow.journal import SCHEMA_VERSION, CallJournal, JournalError, Outcome
from tests import journal_worker
from tests.cli import without_coverage
from tests.journal_worker import count_records, load_call, webhook_for
from tests.postgres import Server, free_port

MENU = (
    Flow("menu")
    .play("https://media.example.com/menu.wav")
    .collect("choice")
    .redirect("https://app.example.com/ivr/menu/input")
)

#: The schema of the first release (version 1), written out as that release made it.
SCHEMA_1 = (
    """
    CREATE TABLE records (
        id INTEGER PRIMARY KEY,
        call_id TEXT,
        kind TEXT NOT NULL CHECK (kind IN ('response', 'webhook')),
        received_at TEXT NOT NULL,
        flow_name TEXT,
        url TEXT,
        event TEXT,
        status TEXT,
        body TEXT NOT NULL,
        raw BLOB,
        error TEXT
    )
    """,
    "CREATE INDEX records_by_call ON records (call_id, id)",
    "PRAGMA user_version = 1",
)


def write_version_1(path: Path) -> None:
    """A journal as the first release left it: two calls, a webhook delivered twice, an
    unreadable one, times in two zones."""
    rows = [
        ("call_1", "response", "2026-05-29T12:00:00+00:00", "menu", None, None, None,
         MENU.to_json(), None, None),
        ("call_1", "webhook", "2026-05-29T14:00:05+02:00", None, None, "call.completed",
         "completed", webhook_for("call_1"), None, None),
        ("call_1", "webhook", "2026-05-29T12:00:06+00:00", None, None, "call.completed",
         "completed", webhook_for("call_1"), None, None),
        ("call_2", "response", "2026-05-29T12:01:00+00:00", "agent", None, None, None,
         Flow("agent").transfer("+15551230002").to_json(), None, None),
        ("call_2", "webhook", "2026-05-29T12:01:30+00:00", None, None, "call.completed",
         "busy", webhook_for("call_2", "busy", to="+15559990000"), None, None),
        (None, "webhook", "2026-05-29T12:02:00+00:00", None, None, None, None, "\\xff",
         b"\xff", "webhook cannot be read (1 problem):\n  error malformed_json ..."),
    ]  # fmt: skip
    with closing(sqlite3.connect(path)) as connection:
        for statement in SCHEMA_1:
            connection.execute(statement)
        connection.executemany(
            "INSERT INTO records (call_id, kind, received_at, flow_name, url, event, status, "
            "body, raw, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        connection.commit()


def user_version(path: Path) -> int:
    with closing(sqlite3.connect(path)) as connection:
        return int(connection.execute("PRAGMA user_version").fetchone()[0])


def at_once(count: int, action: Callable[[], object]) -> list[BaseException | None]:
    """Run ``action`` in ``count`` threads released together; what each raised, or None."""
    start = threading.Barrier(count)
    errors: list[BaseException | None] = [None] * count

    def run(index: int) -> None:
        start.wait()
        try:
            action()
        except BaseException as error:
            errors[index] = error

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return errors


class TestSQLiteFile:
    """The SQLite journal is a versioned file in WAL mode; wrong files are clear errors."""

    def test_records_survive_reopening(self, tmp_path: Path) -> None:
        """A journal reopened read-only finds what was written, at the current version."""
        path = tmp_path / "calls.db"
        with CallJournal(path) as journal:
            written = journal.record_response("call_1", MENU)
        with CallJournal(str(path), create=False) as journal:
            assert journal.timeline("call_1") == (written,)
        assert user_version(path) == SCHEMA_VERSION
        with closing(sqlite3.connect(path)) as connection:
            assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)

    def test_missing_file_without_create(self, tmp_path: Path) -> None:
        """create=False never makes a file."""
        path = tmp_path / "none.db"
        with pytest.raises(JournalError, match="there is no call journal at"):
            CallJournal(path, create=False)
        assert not path.exists()

    def test_not_a_database(self, tmp_path: Path) -> None:
        """A file that is not SQLite is a clear error."""
        path = tmp_path / "notes.txt"
        path.write_text("hello, this is not SQLite" * 100)
        with pytest.raises(JournalError, match="cannot open the call journal"):
            CallJournal(path)

    def test_another_database(self, tmp_path: Path) -> None:
        """Someone else's SQLite database is refused and left alone."""
        path = tmp_path / "other.db"
        with closing(sqlite3.connect(path)) as connection:
            connection.execute("CREATE TABLE customers (id)")
        with pytest.raises(JournalError, match="a SQLite database but not a call journal"):
            CallJournal(path)
        assert user_version(path) == 0

    def test_newer_schema_is_refused(self, tmp_path: Path) -> None:
        """A journal from a newer release is refused with what to do, and left as it is."""
        path = tmp_path / "calls.db"
        CallJournal(path).close()
        with closing(sqlite3.connect(path)) as connection:
            connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
        with pytest.raises(JournalError, match=f"schema version {SCHEMA_VERSION + 1}.*upgrade"):
            CallJournal(path)
        assert user_version(path) == SCHEMA_VERSION + 1

    def test_relaxed_durability_is_an_option(self, tmp_path: Path) -> None:
        """durable=False sets synchronous=NORMAL; the default is FULL."""
        for durable, expected in ((True, 2), (False, 1)):
            journal = CallJournal(tmp_path / f"{durable}.db", durable=durable)
            store: Any = journal._store
            assert store._connect().execute("PRAGMA synchronous").fetchone() == (expected,)
            journal.close()


class TestMigrationFromVersion1:
    """A journal made by the first release opens in this one, with nothing lost."""

    def test_every_record_kept_and_summarised(self, tmp_path: Path) -> None:
        """Records stay, times are the same instants, summaries and outcomes are right."""
        path = tmp_path / "calls.db"
        write_version_1(path)
        with CallJournal(path, create=False) as journal:
            assert user_version(path) == SCHEMA_VERSION
            timeline = journal.timeline("call_1")
            assert [r.kind for r in timeline] == ["response", "webhook", "webhook"]
            assert timeline[1].received_at == datetime(2026, 5, 29, 12, 0, 5, tzinfo=UTC)
            last = journal.last_step("call_1")
            assert last is not None
            assert (last.step, last.outcome, last.records) == ("menu", Outcome.HUNG_UP, 3)
            assert last.started_at == datetime(2026, 5, 29, 12, tzinfo=UTC)
            assert last.from_ == "+15551230001"
            busy = journal.last_step("call_2")
            assert busy is not None and (busy.outcome, busy.to) == (Outcome.BUSY, "+15559990000")
            assert [c.call_id for c in journal.recent()] == ["call_2", "call_1"]
            (unread,) = journal.unattributed()
            assert unread.raw == b"\xff"
            assert journal.record_webhook(webhook_for("call_1")).repeat
            assert journal.record_webhook(b"\xff").repeat
        assert count_records(str(path)) == 6

    def test_two_instances_opening_it_at_once(self, tmp_path: Path) -> None:
        """Instances starting together migrate once; each then reads the same journal."""
        path = tmp_path / "calls.db"
        write_version_1(path)
        journals: list[CallJournal] = []
        assert at_once(6, lambda: journals.append(CallJournal(path))) == [None] * 6
        for journal in journals:
            last = journal.last_step("call_1")
            assert last is not None and last.records == 3
            journal.close()
        assert count_records(str(path)) == 6

    def test_a_failed_migration_changes_nothing(self, tmp_path: Path) -> None:
        """A migration that fails part-way is rolled back: the file stays version 1."""
        path = tmp_path / "calls.db"
        write_version_1(path)
        with closing(sqlite3.connect(path)) as connection:
            connection.execute("CREATE TABLE calls (in_the_way TEXT)")
            connection.commit()
        with pytest.raises(JournalError, match="cannot open the call journal"):
            CallJournal(path)
        assert user_version(path) == 1
        with closing(sqlite3.connect(path)) as connection:
            columns = [row[1] for row in connection.execute("PRAGMA table_info(records)")]
        assert "digest" not in columns


class TestPostgresDatabase:
    """The PostgreSQL journal keeps its tables in a schema of its own, with its version."""

    def test_missing_journal_without_create(self, postgres_server: Server) -> None:
        """create=False on a database with no journal is an error and makes nothing."""
        url = postgres_server.database()
        with pytest.raises(JournalError, match="there is no call journal in postgresql://"):
            CallJournal(url, create=False)
        with psycopg.connect(url) as connection:
            found = connection.execute("SELECT to_regnamespace('minivoice_journal')").fetchone()
        assert found == (None,)

    def test_newer_schema_is_refused(self, postgres_server: Server) -> None:
        """A journal from a newer release is refused with what to do."""
        url = postgres_server.database()
        CallJournal(url).close()
        with psycopg.connect(url) as connection:
            connection.execute("UPDATE minivoice_journal.schema_version SET version = 99")
        with pytest.raises(JournalError, match="schema version 99.*upgrade minivoice-flow"):
            CallJournal(url)

    def test_someone_elses_schema(self, postgres_server: Server) -> None:
        """A minivoice_journal schema that is not a journal is refused, not changed."""
        url = postgres_server.database()
        with psycopg.connect(url) as connection:
            connection.execute("CREATE SCHEMA minivoice_journal")
            connection.execute("CREATE TABLE minivoice_journal.records (x int)")
        with pytest.raises(JournalError, match="schema that is not a call journal"):
            CallJournal(url)

    def test_shares_a_database_with_the_application(self, postgres_server: Server) -> None:
        """The application's own tables named records and calls are left alone."""
        url = postgres_server.database()
        with psycopg.connect(url) as connection:
            connection.execute("CREATE TABLE records (x int)")
            connection.execute("CREATE TABLE calls (x int)")
        with CallJournal(url) as journal:
            journal.record_response("call_1", MENU)
        assert count_records(url) == 1

    def test_password_is_never_shown(self, postgres_server: Server) -> None:
        """A password in the URL appears in neither the repr nor the errors."""
        url = postgres_server.database().replace("postgres@", "postgres:s3cret@")
        with CallJournal(url) as journal:
            assert "s3cret" not in repr(journal) and "s3cret" not in journal.path
        with pytest.raises(JournalError) as info:
            CallJournal(url.replace(str(postgres_server.port), str(free_port())))
        assert "s3cret" not in str(info.value)

    def test_relaxed_durability_is_an_option(self, postgres_server: Server) -> None:
        """durable=False turns synchronous_commit off for the journal's connections only."""
        for durable, expected in ((True, "on"), (False, "off")):
            journal = CallJournal(postgres_server.database(), durable=durable)
            store: Any = journal._store
            with store._connection() as connection:
                shown = connection.execute("SHOW synchronous_commit").fetchone()
            assert shown == (expected,)
            journal.close()


def test_two_new_instances_at_once(journal_url: str) -> None:
    """Instances starting together on an empty store make the schema once, and all work."""
    journals: list[CallJournal] = []
    assert at_once(6, lambda: journals.append(CallJournal(journal_url))) == [None] * 6
    for number, journal in enumerate(journals):
        journal.record_response(f"call_{number}", MENU)
        journal.close()
    assert count_records(journal_url) == 6


class TestManyWriters:
    """Threads and processes writing at once lose nothing and double nothing."""

    def test_threads(self, journal_url: str) -> None:
        """Six threads sharing one journal: every record there once."""
        journal = CallJournal(journal_url)

        def write(worker: int) -> None:
            for index in range(40):
                journal.record_response(f"call_{worker}_{index}", MENU)
                journal.record_webhook(webhook_for(f"call_{worker}_{index}"))

        workers = [threading.Thread(target=write, args=(w,)) for w in range(6)]
        for thread in workers:
            thread.start()
        for thread in workers:
            thread.join()
        assert_all_written(journal, workers=6, count=40, unreadable_each=0)
        journal.close()

    def test_processes(self, journal_url: str) -> None:
        """Four processes, each with its own journal object: every record there once."""
        context = multiprocessing.get_context("spawn")
        workers, count = 4, 30
        start = context.Barrier(workers)
        processes = [
            context.Process(target=journal_worker.write, args=(journal_url, w, count, start))
            for w in range(workers)
        ]
        run_all(processes)
        with CallJournal(journal_url) as journal:
            assert_all_written(journal, workers=workers, count=count, unreadable_each=1)

    def test_eight_processes_every_webhook_twice(self, journal_url: str) -> None:
        """8 processes x 300 calls, each webhook also delivered by another process: exactly
        2,400 responses and 2,400 webhooks, and the right last step for every call."""
        context = multiprocessing.get_context("spawn")
        workers, count = 8, 300
        start = context.Barrier(workers)
        processes = [
            context.Process(
                target=journal_worker.deliver, args=(journal_url, w, workers, count, start)
            )
            for w in range(workers)
        ]
        run_all(processes)
        assert count_records(journal_url) == 4_800
        with CallJournal(journal_url) as journal:
            seen: dict[str, int] = {}
            page = journal.recent(limit=500)
            while page:
                seen.update((c.call_id, c.records) for c in page)
                page = journal.recent(limit=500, before=page[-1].last_record_id)
            assert len(seen) == 2_400 and set(seen.values()) == {2}
            for worker in range(workers):
                for index in range(count):
                    call_id, _, flow, outcome = load_call(worker, index)
                    last = journal.last_step(call_id)
                    assert last is not None, call_id
                    assert (last.step, last.outcome) == (flow.name, outcome), call_id
                    # A retry from another process may land before the response.
                    kinds = sorted(r.kind for r in journal.timeline(call_id))
                    assert kinds == ["response", "webhook"], call_id


def run_all(processes: list[Any]) -> None:
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=300)
    assert [p.exitcode for p in processes] == [0] * len(processes)


def assert_all_written(
    journal: CallJournal, *, workers: int, count: int, unreadable_each: int
) -> None:
    """Every call has exactly its response and webhook; every unreadable webhook is there."""
    expected = {f"call_{w}_{i}" for w in range(workers) for i in range(count)}
    assert {s.call_id for s in journal.recent(limit=len(expected) + 1)} == expected
    ids: set[int] = set()
    for call_id in expected:
        timeline = journal.timeline(call_id)
        assert [r.kind for r in timeline] == ["response", "webhook"]
        ids.update(r.id for r in timeline)
    unread = journal.unattributed()
    assert len(unread) == len(expected) * unreadable_each
    assert sorted(r.body for r in unread) == sorted(
        f"not json from {c}" for c in expected for _ in range(unreadable_each)
    )
    assert len(ids | {r.id for r in unread}) == len(expected) * (2 + unreadable_each)


class TestFaults:
    """A writer killed mid-write, a database that restarts, a server that cannot be reached."""

    def test_a_killed_writer_leaves_no_half_written_record(self, journal_url: str) -> None:
        """SIGKILL at any moment: every record is whole and every summary agrees with them."""
        context = multiprocessing.get_context("spawn")
        for delay in (0.2, 0.45, 0.7):
            ready = context.Event()
            writer = context.Process(target=journal_worker.write_forever, args=(journal_url, ready))
            writer.start()
            assert ready.wait(timeout=60)
            time.sleep(delay)
            assert writer.pid is not None
            os.kill(writer.pid, signal.SIGKILL)
            writer.join(timeout=60)
        with CallJournal(journal_url) as journal:
            calls = journal.recent(limit=100_000)
            assert calls, "the writer wrote nothing before it was killed"
            total = journal.unattributed_count()
            for call in calls:
                timeline = journal.timeline(call.call_id)
                assert len(timeline) == call.records
                assert timeline[0].kind == "response" and timeline[0].flow_name == "menu"
                total += call.records
            assert count_records(journal_url) == total

    def test_database_restart(self, postgres_server: Server) -> None:
        """Writes during an outage raise JournalError; the first write after it succeeds,
        with the same journal object; opening one meanwhile names the server."""
        url = postgres_server.database()
        journal = CallJournal(url, timeout=2)
        journal.record_response("call_1", MENU)
        postgres_server.stop()
        try:
            with pytest.raises(JournalError, match="call journal postgresql://"):
                journal.record_webhook(webhook_for("call_1"))
            with pytest.raises(JournalError, match="call journal postgresql://"):
                journal.timeline("call_1")
            host = f"127.0.0.1:{postgres_server.port}"
            with pytest.raises(JournalError, match=f"PostgreSQL server at {host}"):
                CallJournal(url)
        finally:
            postgres_server.start()
        assert not journal.record_webhook(webhook_for("call_1")).repeat
        last = journal.last_step("call_1")
        assert last is not None and (last.records, last.outcome) == (2, Outcome.HUNG_UP)
        journal.close()

    def test_a_server_that_never_answers(self) -> None:
        """A server that accepts the connection but never speaks: an error after the
        connect timeout, naming the host, not a hang."""
        with socket.socket() as silent:
            silent.bind(("127.0.0.1", 0))
            silent.listen(8)
            port = silent.getsockname()[1]
            url = f"postgresql://someone@127.0.0.1:{port}/calls?connect_timeout=2"
            errors = at_once(1, lambda: CallJournal(url))
        assert isinstance(errors[0], JournalError)
        assert f"PostgreSQL server at 127.0.0.1:{port}" in str(errors[0])

    def test_nothing_listening(self) -> None:
        """No server on the port: a clear error naming it."""
        port = free_port()
        with pytest.raises(JournalError, match=f"server at 127.0.0.1:{port}.*refused"):
            CallJournal(f"postgres://someone@127.0.0.1:{port}/calls")


class TestImports:
    """psycopg is loaded only for a PostgreSQL URL; without it, the error says what to do."""

    def test_sqlite_never_loads_psycopg(self, tmp_path: Path) -> None:
        """Importing the journal and using SQLite loads no psycopg; the core no sqlite3."""
        code = (
            "import sys, minivoice_flow, minivoice_flow.webhooks, minivoice_flow.fallback\n"
            "assert 'sqlite3' not in sys.modules\n"
            "from minivoice_flow.journal import CallJournal\n"
            f"CallJournal({str(tmp_path / 'x.db')!r}).record_response('call_1', '{{}}')\n"
            "assert not [m for m in sys.modules if m.startswith('psycopg')]\n"
        )
        subprocess.run([sys.executable, "-c", code], check=True, env=without_coverage())

    def test_without_the_extra(self) -> None:
        """A PostgreSQL URL without psycopg installed names the extra to install."""
        code = (
            "import sys\n"
            "sys.modules['psycopg'] = None\n"
            "from minivoice_flow.journal import CallJournal, JournalError\n"
            "try:\n"
            "    CallJournal('postgresql://app@db.example/calls')\n"
            "except JournalError as error:\n"
            "    print(error)\n"
        )
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        assert "pip install 'minivoice-flow[postgres]'" in done.stdout


def test_times_in_any_zone_compare_as_instants(journal_url: str) -> None:
    """Prune compares instants, whatever zone the clock gave."""
    moments = iter(
        [
            datetime(2026, 1, 1, 12, tzinfo=timezone(timedelta(hours=-8))),  # 20:00 UTC
            datetime(2026, 1, 1, 19, tzinfo=UTC),
            datetime(2026, 1, 1, 21, 30, tzinfo=timezone(timedelta(hours=1))),  # 20:30 UTC
        ]
    )
    with CallJournal(journal_url, clock=lambda: next(moments)) as journal:
        journal.record_response("late", MENU)
        journal.record_response("early", MENU)
        assert journal.prune(older_than=timedelta(minutes=60)).calls == 1
        assert [c.call_id for c in journal.recent()] == ["late"]


class TestQueryPlans:
    """Every read the support page makes is an index lookup or an index read in order: no
    query reads a whole table, so a page costs its own rows whatever the journal holds."""

    QUERIES = (
        CallQuery(50),
        CallQuery(50, before=10),
        CallQuery(50, outcome=Outcome.BUSY),
        CallQuery(50, outcome=Outcome.BUSY, before=10),
        CallQuery(50, number="+15551230002"),
        CallQuery(50, number="+15551230002", outcome=Outcome.FAILED, before=10),
    )

    def statements(self, store: str) -> list[tuple[str, Mapping[str, object]]]:
        from minivoice_flow._journal.sql import Statements

        chosen: Statements
        if store == "sqlite":
            from minivoice_flow._journal.sqlite import STATEMENTS as chosen
        else:
            from minivoice_flow._journal.postgres import STATEMENTS as chosen
        return [
            *(chosen.calls(query) for query in self.QUERIES),
            (chosen.call, {"call_id": "call_1"}),
            (chosen.timeline, {"call_id": "call_1"}),
            (chosen.timeline_page, {"call_id": "call_1", "limit": 500}),
            chosen.unattributed(50, None),
            chosen.unattributed(50, 10),
            (chosen.unattributed_count, {}),
        ]

    def test_no_full_scans(self, store: str, journal_url: str) -> None:
        """No step reads a whole table, and nothing is sorted but pages already cut to their
        length (the merge of a number's calling and called pages).

        SQLite: each step on a table searches or walks an index. PostgreSQL, told to avoid
        sequential and bitmap scans (as it does on tables of any size, for a short page): no
        Seq Scan, no number or call ID filtered row by row, every Sort above a Limit."""
        CallJournal(journal_url).close()
        for sql, parameters in self.statements(store):
            if store == "sqlite":
                with closing(sqlite3.connect(journal_url)) as connection:
                    explained = connection.execute(f"EXPLAIN QUERY PLAN {sql}", parameters)
                    plan = [row[3] for row in explained]
                steps = [line for line in plan if re.search(r"\b(calls|records)\b", line)]
                assert steps and all("INDEX" in line for line in steps), (sql, plan)
                for at, line in enumerate(plan):
                    if "TEMP B-TREE FOR ORDER BY" in line:
                        assert plan[at - 1] == "SCAN found", (sql, plan)
            else:
                with psycopg.connect(journal_url) as connection:
                    connection.execute("SET enable_seqscan = off")
                    connection.execute("SET enable_bitmapscan = off")
                    plan = [row[0] for row in connection.execute(f"EXPLAIN {sql}", parameters)]
                assert not any("Seq Scan" in line for line in plan), (sql, plan)
                # A number or a call ID is looked up in its index, never filtered row by row.
                filters = [line for line in plan if "Filter:" in line]
                assert not any(re.search(r"_number|call_id", f) for f in filters), (sql, plan)
                for at, line in enumerate(plan):
                    if line.lstrip(" ->").startswith("Sort "):
                        depth = len(line) - len(line.lstrip(" ->"))
                        below = []
                        for deeper in plan[at + 1 :]:
                            if len(deeper) - len(deeper.lstrip(" ->")) <= depth:
                                break
                            below.append(deeper)
                        assert any("Limit" in b for b in below), (sql, plan)

    def test_a_number_both_calling_and_called(self, journal_url: str) -> None:
        """A call from a number to itself is found once."""
        with CallJournal(journal_url) as journal:
            journal.record_webhook(webhook_for("call_1", from_="+15550001111", to="+15550001111"))
            journal.record_webhook(webhook_for("call_2"))
            assert [c.call_id for c in journal.recent(number="+15550001111")] == ["call_1"]
