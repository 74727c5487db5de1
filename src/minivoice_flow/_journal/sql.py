"""The SQL both stores run, written once and rendered for each database's dialect.

The two databases differ here only in how a parameter is written, the names of the
larger/smaller-of functions, the tables' names (PostgreSQL keeps them in a schema of their
own, as the journal may share a database with the application) and the column types of the
schema, which each store writes itself.

A call's summary row is kept by one ``INSERT ... ON CONFLICT DO UPDATE`` per record. Each of
its columns merges by a rule that does not depend on the order in which records commit (the
latest step is the one of the highest record id, and so on), so writers on many machines can
commit in any order and the summary still says what the records say.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, Final

from attrs import frozen

from minivoice_flow._journal import BY_STATUS, CallQuery, CallRow, Entry, Outcome, RecordRow
from minivoice_flow.webhooks import CallStatus

#: The columns of a record, in ``RecordRow`` order.
RECORD_COLUMNS: Final = (
    "id",
    "call_id",
    "kind",
    "received_at",
    "flow_name",
    "url",
    "event",
    "status",
    "body",
    "raw",
    "error",
)
#: The columns an insert writes (the id is the database's).
WRITTEN_COLUMNS: Final = (*RECORD_COLUMNS[1:], "digest")
#: The columns of a summary, in ``CallRow`` order.
CALL_COLUMNS: Final = (
    "call_id",
    "step",
    "outcome",
    "ending_status",
    "first_at",
    "last_at",
    "from_number",
    "to_number",
    "records",
    "unreadable",
    "last_id",
)


def outcome_expression() -> str:
    """The SQL of the ``outcome`` column, from the ending status and the last step."""
    cases = [f"WHEN ending_id IS NULL THEN '{Outcome.IN_PROGRESS}'"]
    cases += [f"WHEN ending_status = '{status}' THEN '{o}'" for status, o in BY_STATUS.items()]
    cases += [
        f"WHEN ending_status = '{CallStatus.COMPLETED}' AND handed_over THEN '{Outcome.HUNG_UP}'",
        f"WHEN ending_status = '{CallStatus.COMPLETED}' THEN '{Outcome.COMPLETED}'",
    ]
    return f"CASE {' '.join(cases)} ELSE '{Outcome.UNKNOWN}' END"


@frozen
class Dialect:
    """How one database spells what the statements need."""

    records: str
    calls: str
    greatest: str
    least: str
    parameter: Callable[[str], str]
    #: A parameter with its SQL type, for where the database cannot infer it.
    typed: Callable[[str, str], str]
    #: True when a record and its summary are written by one statement (a data-modifying
    #: WITH): one round trip to the server instead of two.
    one_statement: bool
    #: A time as the database stores it, and back (always aware, in UTC).
    write_time: Callable[[datetime], object]
    read_time: Callable[[Any], datetime]


class Statements:
    """Every statement of the journal, rendered once for a dialect."""

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        p = dialect.parameter
        records, calls = dialect.records, dialect.calls
        self.record_columns = ", ".join(RECORD_COLUMNS)
        self.call_columns = ", ".join(CALL_COLUMNS)
        self.insert_record = (
            f"INSERT INTO {records} ({', '.join(WRITTEN_COLUMNS)}) "
            f"VALUES ({', '.join(p(c) for c in WRITTEN_COLUMNS)}) "
            f"ON CONFLICT (digest) DO NOTHING RETURNING id"
        )
        self.find_repeat = (
            f"SELECT {self.record_columns} FROM {records} WHERE digest = {p('digest')}"
        )
        self.upsert_call = _upsert_call(dialect, p("id"), "VALUES")
        self.insert_with_summary = (
            f"WITH inserted AS ({self.insert_record}), "
            f"summary AS ({_upsert_call(dialect, 'inserted.id', 'FROM inserted')}) "
            "SELECT id FROM inserted"
        )
        self.timeline = (
            f"SELECT {self.record_columns} FROM {records} "
            f"WHERE call_id = {p('call_id')} ORDER BY id"
        )
        self.timeline_page = f"{self.timeline} LIMIT {p('limit')}"
        self.call = f"SELECT {self.call_columns} FROM {calls} WHERE call_id = {p('call_id')}"
        self.unattributed_count = f"SELECT count(*) FROM {records} WHERE call_id IS NULL"

    def record(self, row: Sequence[Any]) -> RecordRow:
        """A record as read from the database."""
        (id_, call_id, kind, at, flow_name, url, event, status, body, raw, error) = row
        raw = bytes(raw) if raw is not None else None
        at = self.dialect.read_time(at)
        return (id_, call_id, kind, at, flow_name, url, event, status, body, raw, error)

    def summary(self, row: Sequence[Any]) -> CallRow:
        """A call's summary as read from the database."""
        (call_id, step, outcome, status, first_at, last_at, from_, to, count, unread, last) = row
        first_at, last_at = self.dialect.read_time(first_at), self.dialect.read_time(last_at)
        return (call_id, step, outcome, status, first_at, last_at, from_, to, count, unread, last)

    def calls(self, query: CallQuery) -> tuple[str, dict[str, object]]:
        """A page of summaries: the SQL (fixed fragments only) and its parameters.

        Each condition has an index that reads calls newest first, so a page costs its own
        rows, however many calls match. A number is looked up as the calling number and as
        the called number separately (a page of each, by its own index, then merged): an
        ``OR`` of the two would read every call to a busy line's number before sorting.
        """
        p = self.dialect.parameter
        where: list[str] = []
        parameters: dict[str, object] = {"limit": query.limit}
        if query.before is not None:
            where.append(f"last_id < {p('before')}")
            parameters["before"] = query.before
        if query.outcome is not None:
            where.append(f"outcome = {p('outcome')}")
            parameters["outcome"] = str(query.outcome)
        newest = f"ORDER BY last_id DESC LIMIT {p('limit')}"

        def page(conditions: list[str]) -> str:
            condition = f"WHERE {' AND '.join(conditions)} " if conditions else ""
            return f"SELECT {self.call_columns} FROM {self.dialect.calls} {condition}{newest}"

        if query.number is None:
            return page(where), parameters
        parameters["number"] = query.number
        by_caller = page([f"from_number = {p('number')}", *where])
        by_called = page([f"to_number = {p('number')}", *where])
        sql = (
            f"SELECT {self.call_columns} FROM (SELECT * FROM ({by_caller}) AS caller "
            f"UNION SELECT * FROM ({by_called}) AS called) AS found {newest}"
        )
        return sql, parameters

    def unattributed(self, limit: int | None, before: int | None) -> tuple[str, dict[str, object]]:
        p = self.dialect.parameter
        parameters: dict[str, object] = {}
        sql = f"SELECT {self.record_columns} FROM {self.dialect.records} WHERE call_id IS NULL"
        if before is not None:
            sql += f" AND id < {p('before')}"
            parameters["before"] = before
        sql += " ORDER BY id DESC"
        if limit is not None:
            sql += f" LIMIT {p('limit')}"
            parameters["limit"] = limit
        return sql, parameters


#: The SQL type of each parameter of the summary merge (PostgreSQL cannot guess them in a
#: SELECT list).
_SUMMARY_TYPES: Final = {
    "call_id": "text",
    "at": "timestamptz",
    "unreadable": "integer",
    "from_number": "text",
    "to_number": "text",
    "step": "text",
    "handed_over": "boolean",
    "ending_status": "text",
    "response": "boolean",
    "ending": "boolean",
}


def _upsert_call(dialect: Dialect, record_id: str, source: str) -> str:
    """Create a call's summary from its first record, or merge the next record into it.

    ``record_id`` is the SQL of the record's id; ``source`` says where the row comes from:
    ``VALUES`` (the id is a parameter) or ``FROM inserted`` (the id of the row just written,
    in the same statement).
    """
    greatest, least = dialect.greatest, dialect.least

    def value(name: str) -> str:
        return dialect.typed(name, _SUMMARY_TYPES[name])

    def newer(id_column: str, column: str) -> str:
        return (
            f"CASE WHEN excluded.{id_column} > COALESCE(c.{id_column}, 0) "
            f"THEN excluded.{column} ELSE c.{column} END"
        )

    values = {
        "call_id": value("call_id"),
        "first_at": value("at"),
        "last_at": value("at"),
        "last_id": record_id,
        "records": "1",
        "unreadable": value("unreadable"),
        "from_number": value("from_number"),
        "to_number": value("to_number"),
        "step": value("step"),
        "step_id": f"CASE WHEN {value('response')} THEN {record_id} END",
        "handed_over": value("handed_over"),
        "ending_status": value("ending_status"),
        "ending_id": f"CASE WHEN {value('ending')} THEN {record_id} END",
    }
    merged = {
        "first_at": f"{least}(c.first_at, excluded.first_at)",
        "last_at": f"{greatest}(c.last_at, excluded.last_at)",
        "last_id": f"{greatest}(c.last_id, excluded.last_id)",
        "records": "c.records + 1",
        "unreadable": "c.unreadable + excluded.unreadable",
        "from_number": "COALESCE(c.from_number, excluded.from_number)",
        "to_number": "COALESCE(c.to_number, excluded.to_number)",
        "step": newer("step_id", "step"),
        "handed_over": newer("step_id", "handed_over"),
        "step_id": newer("step_id", "step_id"),
        "ending_status": newer("ending_id", "ending_status"),
        "ending_id": newer("ending_id", "ending_id"),
    }
    selected = ", ".join(values.values())
    rows = f"VALUES ({selected})" if source == "VALUES" else f"SELECT {selected} {source}"
    return (
        f"INSERT INTO {dialect.calls} AS c ({', '.join(values)}) {rows} "
        f"ON CONFLICT (call_id) DO UPDATE SET "
        + ", ".join(f"{column} = {rule}" for column, rule in merged.items())
    )


#: Runs one statement in the open transaction and returns the rows it gives (none for most).
Run = Callable[[str, Mapping[str, object]], Sequence[Sequence[Any]]]


def add(run: Run, statements: Statements, entry: Entry) -> tuple[RecordRow, bool]:
    """Write one record and merge it into its call's summary (in one statement where the
    database can; the caller commits), or find the record a repeated webhook was stored as."""
    at = statements.dialect.write_time(entry.received_at)
    values = {name: getattr(entry, name) for name in WRITTEN_COLUMNS if name != "received_at"}
    values["received_at"] = at
    summary = summary_parameters(entry, at) if entry.call_id is not None else None
    if summary is not None and statements.dialect.one_statement:
        inserted = run(statements.insert_with_summary, {**values, **summary})
    else:
        inserted = run(statements.insert_record, values)
    if not inserted:
        (stored,) = run(statements.find_repeat, {"digest": entry.digest})
        return statements.record(stored), True
    ((record_id,),) = inserted
    if summary is not None and not statements.dialect.one_statement:
        run(statements.upsert_call, {**summary, "id": record_id})
    record = (
        record_id,
        entry.call_id,
        entry.kind,
        statements.dialect.read_time(at),
        entry.flow_name,
        entry.url,
        entry.event,
        entry.status,
        entry.body,
        entry.raw,
        entry.error,
    )
    return record, False


def summary_parameters(entry: Entry, at: object) -> dict[str, object]:
    """What ``upsert_call`` merges into a call's summary for one record (``at``: its time as
    the database stores it)."""
    return {
        "call_id": entry.call_id,
        "at": at,
        "unreadable": int(entry.unreadable),
        "from_number": entry.from_number,
        "to_number": entry.to_number,
        "step": entry.step,
        "handed_over": entry.handed_over,
        "ending_status": entry.status if entry.ending else None,
        "response": entry.kind == "response",
        "ending": entry.ending,
    }


class Reading:
    """The reading half of the store interface, the same on every database: a store gives
    its ``statements`` and a ``_read`` that runs one query and returns its rows."""

    statements: Statements

    def _read(self, sql: str, parameters: Mapping[str, object]) -> Sequence[Sequence[Any]]:
        raise NotImplementedError

    def timeline(self, call_id: str, limit: int | None = None) -> list[RecordRow]:
        if limit is None:
            rows = self._read(self.statements.timeline, {"call_id": call_id})
        else:
            rows = self._read(self.statements.timeline_page, {"call_id": call_id, "limit": limit})
        return [self.statements.record(row) for row in rows]

    def call(self, call_id: str) -> CallRow | None:
        rows = self._read(self.statements.call, {"call_id": call_id})
        return self.statements.summary(rows[0]) if rows else None

    def calls(self, query: CallQuery) -> list[CallRow]:
        rows = self._read(*self.statements.calls(query))
        return [self.statements.summary(row) for row in rows]

    def unattributed(self, limit: int | None, before: int | None) -> list[RecordRow]:
        rows = self._read(*self.statements.unattributed(limit, before))
        return [self.statements.record(row) for row in rows]

    def unattributed_count(self) -> int:
        ((count,),) = self._read(self.statements.unattributed_count, {})
        return int(count)
