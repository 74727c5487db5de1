"""The journal in a SQLite file: the embedded default, nothing to set up.

The file runs in WAL mode with ``synchronous = FULL`` (``NORMAL`` only when the journal was
opened with ``durable=False``), so readers never wait for writers and a committed write
survives a power cut. Each write is one ``BEGIN IMMEDIATE`` transaction: writers in other
threads and processes wait their turn (up to the busy timeout), never interleave. Each process
opens its own connection; one connection is shared by a process's threads under a lock.

The schema version is SQLite's ``PRAGMA user_version``. Opening a file made by an older
release runs the migrations to this one in the transaction that checks the version, so two
processes opening it at once cannot both migrate.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, Final

from minivoice_flow._journal import (
    SCHEMA_VERSION,
    Entry,
    JournalError,
    RecordRow,
)
from minivoice_flow._journal.entries import stored_entry
from minivoice_flow._journal.sql import (
    Dialect,
    Reading,
    Statements,
    add,
    outcome_expression,
    summary_parameters,
)


def _write_time(moment: datetime) -> str:
    # One fixed width in UTC, so that comparing the text compares the times.
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def _read_time(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


DIALECT: Final = Dialect(
    records="records",
    calls="calls",
    greatest="max",
    least="min",
    parameter=lambda name: f":{name}",
    typed=lambda name, _: f":{name}",
    one_statement=False,
    write_time=_write_time,
    read_time=_read_time,
)
STATEMENTS: Final = Statements(DIALECT)

#: The tables of schema version 1 (the first release); later versions migrate from here.
SCHEMA_1: Final = (
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
)

_SCHEMA_2: Final = (
    "ALTER TABLE records ADD COLUMN digest BLOB",
    "CREATE UNIQUE INDEX records_by_digest ON records (digest)",
    "CREATE INDEX records_unattributed ON records (id) WHERE call_id IS NULL",
    "CREATE INDEX records_unattributed_by_age ON records (received_at) WHERE call_id IS NULL",
    f"""
    CREATE TABLE calls (
        call_id TEXT PRIMARY KEY,
        first_at TEXT NOT NULL,
        last_at TEXT NOT NULL,
        last_id INTEGER NOT NULL,
        records INTEGER NOT NULL,
        unreadable INTEGER NOT NULL,
        from_number TEXT,
        to_number TEXT,
        step TEXT,
        step_id INTEGER,
        handed_over INTEGER,
        ending_status TEXT,
        ending_id INTEGER,
        outcome TEXT GENERATED ALWAYS AS ({outcome_expression()}) STORED
    )
    """,
    "CREATE INDEX calls_by_activity ON calls (last_id)",
    "CREATE INDEX calls_by_outcome ON calls (outcome, last_id)",
    "CREATE INDEX calls_by_from ON calls (from_number, last_id)",
    "CREATE INDEX calls_by_to ON calls (to_number, last_id)",
    "CREATE INDEX calls_by_age ON calls (last_at)",
)


def _migrate_1_to_2(connection: sqlite3.Connection) -> None:
    """Digests for webhooks (a repeat of earlier bytes keeps none), times in one UTC form,
    and a summary row for every call, rebuilt from its records in the order written."""
    for statement in _SCHEMA_2:
        connection.execute(statement)
    rows = connection.execute(
        f"SELECT {STATEMENTS.record_columns} FROM records ORDER BY id"
    ).fetchall()
    seen: set[bytes] = set()
    run = _runner(connection)
    for row in rows:
        id_, at = row[0], datetime.fromisoformat(row[3])
        if at.utcoffset() is None:
            at = at.replace(tzinfo=UTC)
        record: RecordRow = (*row[:3], at, *row[4:])
        entry = stored_entry(record, first=True)
        if entry.digest is not None and entry.digest in seen:
            entry = stored_entry(record, first=False)
        if entry.digest is not None:
            seen.add(entry.digest)
        connection.execute(
            "UPDATE records SET received_at = ?, digest = ? WHERE id = ?",
            (_write_time(at), entry.digest, id_),
        )
        if entry.call_id is not None:
            summary = summary_parameters(entry, _write_time(at))
            run(STATEMENTS.upsert_call, {**summary, "id": id_})


#: Migration from version N to N + 1, by N.
MIGRATIONS: Final[dict[int, Callable[[sqlite3.Connection], None]]] = {1: _migrate_1_to_2}


def _runner(connection: sqlite3.Connection) -> Callable[[str, Mapping[str, object]], list[Any]]:
    def run(sql: str, parameters: Mapping[str, object]) -> list[Any]:
        return connection.execute(sql, parameters).fetchall()

    return run


class SQLiteStore(Reading):
    """A journal in one SQLite file (or ``:memory:``)."""

    statements = STATEMENTS

    def __init__(self, path: str, *, create: bool, timeout: float, durable: bool = True) -> None:
        self.location = path
        self._memory = path == ":memory:"
        if not create and not self._memory and not os.path.isfile(path):
            raise JournalError(f"there is no call journal at {path}")
        self._create = create
        self._timeout = timeout
        self._synchronous = "FULL" if durable else "NORMAL"
        self._lock = threading.Lock()
        self._connection: sqlite3.Connection | None = None
        self._pid = 0
        with self._lock:
            self._connect()

    # The store interface.

    def add(self, entry: Entry) -> tuple[RecordRow, bool]:
        with self._transaction() as connection:
            return add(_runner(connection), STATEMENTS, entry)

    def prune(self, cutoff: datetime) -> tuple[int, int, int]:
        old = {"cutoff": _write_time(cutoff)}
        with self._transaction() as connection:
            records = connection.execute(
                "DELETE FROM records WHERE call_id IN "
                "(SELECT call_id FROM calls WHERE last_at < :cutoff)",
                old,
            ).rowcount
            calls = connection.execute("DELETE FROM calls WHERE last_at < :cutoff", old).rowcount
            unattributed = connection.execute(
                "DELETE FROM records WHERE call_id IS NULL AND received_at < :cutoff", old
            ).rowcount
        return calls, records, unattributed

    def close(self) -> None:
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None

    # The database.

    def _read(self, sql: str, parameters: Mapping[str, object]) -> list[Sequence[Any]]:
        with self._lock:
            connection = self._connect()
            try:
                return connection.execute(sql, parameters).fetchall()
            except sqlite3.Error as error:
                raise JournalError(f"call journal {self.location}: {error}") from error

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, taken at once (``BEGIN IMMEDIATE``) and committed on exit."""
        with self._lock:
            connection = self._connect()
            try:
                connection.execute("BEGIN IMMEDIATE")
                try:
                    yield connection
                    connection.execute("COMMIT")
                except BaseException:
                    if connection.in_transaction:
                        connection.execute("ROLLBACK")
                    raise
            except sqlite3.Error as error:
                raise JournalError(f"call journal {self.location}: {error}") from error

    def _connect(self) -> sqlite3.Connection:
        """The connection of this process, opened (and the schema made) on first use.

        A connection is never shared across a fork: a child opens its own.
        """
        if self._connection is not None and self._pid == os.getpid():
            return self._connection
        try:
            connection = sqlite3.connect(
                self.location,
                timeout=self._timeout,
                isolation_level=None,
                check_same_thread=False,
            )
        except sqlite3.Error as error:
            raise JournalError(f"cannot open the call journal {self.location}: {error}") from error
        try:
            self._prepare(connection)
        except sqlite3.Error as error:
            connection.close()
            raise JournalError(f"cannot open the call journal {self.location}: {error}") from error
        except BaseException:
            connection.close()
            raise
        self._connection, self._pid = connection, os.getpid()
        return connection

    def _prepare(self, connection: sqlite3.Connection) -> None:
        """WAL mode, and the schema made or brought up to date by whoever gets there first."""
        if not self._memory:
            # Switching a new file to WAL can find it locked by another instance doing the
            # same, and SQLite then answers at once instead of waiting: wait here instead.
            deadline = time.monotonic() + self._timeout
            while True:
                try:
                    connection.execute("PRAGMA journal_mode = WAL")
                    break
                except sqlite3.OperationalError as error:
                    if "locked" not in str(error) or time.monotonic() >= deadline:
                        raise
                    time.sleep(0.005)
        connection.execute(f"PRAGMA synchronous = {self._synchronous}")
        connection.execute("BEGIN IMMEDIATE")
        try:
            (version,) = connection.execute("PRAGMA user_version").fetchone()
            if version == 0:
                (tables,) = connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
                if tables or not self._create:
                    raise JournalError(
                        f"{self.location} is a SQLite database but not a call journal"
                    )
                for statement in SCHEMA_1:
                    connection.execute(statement)
                version = 1
            if version > SCHEMA_VERSION:
                raise JournalError(
                    f"{self.location} is a call journal of schema version {version}, made by "
                    f"a newer minivoice-flow; this release reads versions up to "
                    f"{SCHEMA_VERSION}: upgrade minivoice-flow to open it"
                )
            for step in range(version, SCHEMA_VERSION):
                MIGRATIONS[step](connection)
            connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            connection.execute("COMMIT")
        except BaseException:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            raise
