"""The journal on PostgreSQL, for applications that run on many machines.

Imported only when a ``postgresql://`` (or ``postgres://``) URL is opened: it needs psycopg 3
and psycopg-pool (``pip install 'minivoice-flow[postgres]'``). The tables live in a schema of
their own, ``minivoice_journal``, so the journal can share the application's database.

Connections come from a pool shared by the journal's threads; each is checked before use, so
after the server restarts the next write gets a fresh connection instead of a dead one. A
write waits at most ``timeout`` seconds for a connection, then fails with ``JournalError``; a
connection attempt gives up after ``connect_timeout`` (10 s unless the URL says otherwise).
Each write is one transaction; a writer killed half-way leaves nothing, since the server rolls
back what was not committed.

The schema version is a row of ``minivoice_journal.schema_version``. Opening takes a
transaction-scoped advisory lock first, so two instances starting at once make or migrate the
schema one after the other.
"""

from __future__ import annotations

import os
import select
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, Final

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg_pool import ConnectionPool, PoolTimeout

from minivoice_flow._journal import (
    SCHEMA_VERSION,
    Entry,
    JournalError,
    RecordRow,
)
from minivoice_flow._journal.sql import Dialect, Reading, Statements, add, outcome_expression

SCHEMA: Final = "minivoice_journal"
#: Seconds a connection attempt may take when the URL gives no connect_timeout.
CONNECT_TIMEOUT: Final = 10
#: The key of the advisory lock held while the schema is made or migrated ("minivoic").
_SCHEMA_LOCK: Final = int.from_bytes(b"minivoic", "big")

DIALECT: Final = Dialect(
    records=f"{SCHEMA}.records",
    calls=f"{SCHEMA}.calls",
    greatest="GREATEST",
    least="LEAST",
    parameter=lambda name: f"%({name})s",
    typed=lambda name, sql_type: f"%({name})s::{sql_type}",
    one_statement=True,
    write_time=lambda moment: moment,
    read_time=lambda moment: moment.astimezone(UTC),
)
STATEMENTS: Final = Statements(DIALECT)

_TABLES: Final = (
    f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}",
    f"CREATE TABLE {SCHEMA}.schema_version (version integer NOT NULL)",
    f"""
    CREATE TABLE {SCHEMA}.records (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        call_id text,
        kind text NOT NULL CHECK (kind IN ('response', 'webhook')),
        received_at timestamptz NOT NULL,
        flow_name text,
        url text,
        event text,
        status text,
        body text NOT NULL,
        raw bytea,
        error text,
        digest bytea UNIQUE
    )
    """,
    f"CREATE INDEX records_by_call ON {SCHEMA}.records (call_id, id)",
    f"CREATE INDEX records_unattributed ON {SCHEMA}.records (id) WHERE call_id IS NULL",
    f"CREATE INDEX records_unattributed_by_age ON {SCHEMA}.records (received_at) "
    "WHERE call_id IS NULL",
    f"""
    CREATE TABLE {SCHEMA}.calls (
        call_id text PRIMARY KEY,
        first_at timestamptz NOT NULL,
        last_at timestamptz NOT NULL,
        last_id bigint NOT NULL,
        records integer NOT NULL,
        unreadable integer NOT NULL,
        from_number text,
        to_number text,
        step text,
        step_id bigint,
        handed_over boolean,
        ending_status text,
        ending_id bigint,
        outcome text GENERATED ALWAYS AS ({outcome_expression()}) STORED
    )
    """,
    f"CREATE INDEX calls_by_activity ON {SCHEMA}.calls (last_id)",
    f"CREATE INDEX calls_by_outcome ON {SCHEMA}.calls (outcome, last_id)",
    f"CREATE INDEX calls_by_from ON {SCHEMA}.calls (from_number, last_id)",
    f"CREATE INDEX calls_by_to ON {SCHEMA}.calls (to_number, last_id)",
    f"CREATE INDEX calls_by_age ON {SCHEMA}.calls (last_at)",
)

#: Migration from version N to N + 1, by N (the first PostgreSQL journals are version 2).
MIGRATIONS: Final[dict[int, Callable[[psycopg.Connection[Any]], None]]] = {}

_PRUNE: Final = f"""
    WITH gone AS (
        DELETE FROM {SCHEMA}.calls WHERE last_at < %(cutoff)s RETURNING call_id
    ), went AS (
        DELETE FROM {SCHEMA}.records AS r USING gone WHERE r.call_id = gone.call_id
        RETURNING r.id
    ), loose AS (
        DELETE FROM {SCHEMA}.records WHERE call_id IS NULL AND received_at < %(cutoff)s
        RETURNING id
    )
    SELECT (SELECT count(*) FROM gone), (SELECT count(*) FROM went), (SELECT count(*) FROM loose)
"""


def describe_url(url: str) -> str:
    """The URL as it may be shown: ``postgresql://user@host:port/dbname``, no password."""
    try:
        parts = conninfo_to_dict(url)
    except psycopg.Error:
        return "postgresql://(a URL that cannot be read)"
    user = f"{parts['user']}@" if parts.get("user") else ""
    host = str(parts.get("host") or "")
    port = f":{parts['port']}" if parts.get("port") else ""
    return f"postgresql://{user}{host}{port}/{parts.get('dbname') or ''}"


class PostgresStore(Reading):
    """A journal in a PostgreSQL database, shared by every instance of an application."""

    statements = STATEMENTS

    def __init__(
        self,
        url: str,
        *,
        create: bool,
        timeout: float,
        durable: bool = True,
        max_connections: int = 10,
    ) -> None:
        self.location = describe_url(url)
        try:
            parts = conninfo_to_dict(url)
        except psycopg.Error as error:
            raise JournalError(f"cannot read the PostgreSQL URL {self.location}: {error}") from None
        settings: dict[str, Any] = {}
        if "connect_timeout" not in parts:
            settings["connect_timeout"] = CONNECT_TIMEOUT
        if "application_name" not in parts:
            settings["application_name"] = "minivoice-flow"
        self._conninfo = make_conninfo(url, **settings)
        self._server = _server(parts)
        self._timeout = timeout
        self._durable = durable
        self._max_connections = max_connections
        self._lock = threading.Lock()
        self._pool: ConnectionPool[psycopg.Connection[Any]] | None = None
        self._pid = 0
        self._prepare(create)
        self._pool_of_this_process()

    # The store interface.

    def add(self, entry: Entry) -> tuple[RecordRow, bool]:
        # One statement writes the record and its summary: atomic without a transaction
        # block (which would cost two more round trips). A repeat only reads after it.
        with self._connection() as connection:
            return add(_runner(connection), STATEMENTS, entry)

    def prune(self, cutoff: datetime) -> tuple[int, int, int]:
        ((calls, records, unattributed),) = self._read(_PRUNE, {"cutoff": cutoff})
        return int(calls), int(records), int(unattributed)

    def close(self) -> None:
        with self._lock:
            if self._pool is not None and self._pid == os.getpid():
                self._pool.close()
            self._pool = None

    # The database.

    def _read(self, sql: str, parameters: Mapping[str, object]) -> list[Sequence[Any]]:
        with self._connection() as connection:
            return _runner(connection)(sql, parameters)

    @contextmanager
    def _connection(self) -> Iterator[psycopg.Connection[Any]]:
        """A connection from the pool; when the pool has none to give (it waits between
        attempts to reconnect after an outage), one made now, and a fresh pool after it."""
        pool = self._pool_of_this_process()
        pooled = True
        try:
            try:
                connection = pool.getconn()
            except PoolTimeout:
                connection, pooled = self._reconnect(), False
        except psycopg.Error as error:
            raise JournalError(f"call journal {self.location}: {_first_line(error)}") from error
        try:
            yield connection
        except psycopg.Error as error:
            raise JournalError(f"call journal {self.location}: {_first_line(error)}") from error
        finally:
            if pooled:
                pool.putconn(connection)
            else:
                connection.close()

    def _reconnect(self) -> psycopg.Connection[Any]:
        """Connect directly (raises when the server is still away); on success the pool,
        which may still be waiting out its back-off, is replaced."""
        connection = psycopg.connect(self._conninfo, autocommit=True)
        self._configure(connection)
        with self._lock:
            stale, self._pool = self._pool, None
        if stale is not None and self._pid == os.getpid():
            stale.close(timeout=0)
        return connection

    def _pool_of_this_process(self) -> ConnectionPool[psycopg.Connection[Any]]:
        """The pool of this process: a forked child makes its own (threads do not fork)."""
        with self._lock:
            if self._pool is None or self._pid != os.getpid():
                self._pool = ConnectionPool(
                    self._conninfo,
                    min_size=1,
                    max_size=self._max_connections,
                    kwargs={"autocommit": True},
                    configure=self._configure,
                    check=_check,
                    timeout=self._timeout,
                    name="minivoice-journal",
                    open=False,
                )
                self._pool.open(wait=False)
                self._pid = os.getpid()
            return self._pool

    def _configure(self, connection: psycopg.Connection[Any]) -> None:
        connection.execute("SET TIME ZONE 'UTC'")
        if not self._durable:
            connection.execute("SET synchronous_commit = off")

    def _prepare(self, create: bool) -> None:
        """Connect once (a clear error when the server cannot be reached), then make the
        schema, or check and migrate it, under the advisory lock."""
        try:
            connection = psycopg.connect(self._conninfo, autocommit=True)
        except psycopg.Error as error:
            raise JournalError(
                f"cannot connect to the call journal's PostgreSQL server at {self._server} "
                f"({self.location}): {_first_line(error)}"
            ) from None
        try:
            with connection, connection.transaction():
                connection.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
                self._make_or_migrate(connection, create)
        except psycopg.Error as error:
            raise JournalError(
                f"cannot open the call journal {self.location}: {_first_line(error)}"
            ) from error

    def _make_or_migrate(self, connection: psycopg.Connection[Any], create: bool) -> None:
        found = connection.execute(
            "SELECT to_regnamespace(%s) IS NOT NULL, to_regclass(%s) IS NOT NULL",
            (SCHEMA, f"{SCHEMA}.schema_version"),
        ).fetchone()
        has_schema, has_version = found if found is not None else (False, False)
        if not has_version:
            if has_schema:
                raise JournalError(
                    f"{self.location} has a {SCHEMA} schema that is not a call journal"
                )
            if not create:
                raise JournalError(f"there is no call journal in {self.location}")
            for statement in _TABLES:
                connection.execute(statement)
            connection.execute(
                f"INSERT INTO {SCHEMA}.schema_version VALUES (%s)", (SCHEMA_VERSION,)
            )
            return
        row = connection.execute(f"SELECT max(version) FROM {SCHEMA}.schema_version").fetchone()
        version = int(row[0]) if row is not None and row[0] is not None else 0
        if version > SCHEMA_VERSION:
            raise JournalError(
                f"{self.location} holds a call journal of schema version {version}, made by a "
                f"newer minivoice-flow; this release reads versions up to {SCHEMA_VERSION}: "
                "upgrade minivoice-flow to open it"
            )
        if version < min(MIGRATIONS, default=SCHEMA_VERSION):
            raise JournalError(f"{self.location} has an unknown schema version {version}")
        for step in range(version, SCHEMA_VERSION):
            MIGRATIONS[step](connection)
        connection.execute(f"UPDATE {SCHEMA}.schema_version SET version = %s", (SCHEMA_VERSION,))


def _check(connection: psycopg.Connection[Any]) -> None:
    """Before a pooled connection is used: an idle connection has nothing to read unless the
    server said something, such as that it is shutting down or the socket was closed; only
    then is it checked with a round trip (and dropped by the pool if it is dead)."""
    readable, _, _ = select.select([connection.fileno()], [], [], 0)
    if readable or connection.closed:
        ConnectionPool.check_connection(connection)


def _runner(
    connection: psycopg.Connection[Any],
) -> Callable[[str, Mapping[str, object]], list[Sequence[Any]]]:
    def run(sql: str, parameters: Mapping[str, object]) -> list[Sequence[Any]]:
        cursor = connection.execute(sql, parameters)
        return cursor.fetchall() if cursor.description is not None else []

    return run


def _server(parts: Mapping[str, Any]) -> str:
    host = str(parts.get("host") or os.environ.get("PGHOST") or "localhost")
    port = str(parts.get("port") or os.environ.get("PGPORT") or "5432")
    return f"{host}:{port}"


def _first_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__
