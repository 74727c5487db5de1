"""The call journal: every response returned and webhook received, per call, in SQLite.

``CallJournal("calls.db")`` records, per MiniVoice call ID, each answer_url response the
application returned (the flow's name and its JSON) and each webhook received (the text as it
arrived, even when it cannot be read), and derives from them the last known step of the call
and how it ended. Each write is its own committed transaction before the method returns, so
several threads and processes of one web application can write at once and nothing is lost.

How the outcome is derived (``last_step``):

- the **step** is the name of the last flow returned for the call (its URL if it had none);
- the call has **ended** once a webhook that could be read has an ending status
  (completed, busy, no_answer, failed, canceled) or is a ``call.completed`` event;
- ``busy``, ``no_answer`` and ``failed`` are outcomes of their own; ``canceled`` means the
  caller hung up;
- ``completed`` is a normal completion, unless the last flow returned ended with a
  ``redirect``: that flow handed over to a request that never came, so the caller hung up
  (or was cut off) during that step;
- no ending webhook yet: in progress.

sqlite3 is imported here only: building and serving flows never loads it.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Final, Literal

from attrs import frozen

from minivoice_flow import Flow, FlowError
from minivoice_flow.webhooks import (
    ENDED_STATUSES,
    CallStatus,
    Event,
    Webhook,
    WebhookError,
    parse_webhook,
)

__all__ = [
    "SCHEMA_VERSION",
    "CallJournal",
    "JournalError",
    "LastStep",
    "Outcome",
    "Received",
    "Record",
]

#: The layout of the journal's tables, kept in the file as ``PRAGMA user_version``.
SCHEMA_VERSION: Final = 1

_SCHEMA: Final = (
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
#: The columns written by each insert, in ``Record``'s order after ``id``.
_WRITTEN: Final = (
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
_COLUMNS: Final = ", ".join(("id", *_WRITTEN))

RecordKind = Literal["response", "webhook"]


class JournalError(Exception):
    """The journal's database cannot be opened, read or written."""


class Outcome(StrEnum):
    """How a call ended, as far as the journal can tell."""

    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    HUNG_UP = "hung_up"
    BUSY = "busy"
    NO_ANSWER = "no_answer"
    FAILED = "failed"
    UNKNOWN = "unknown"


@frozen
class Record:
    """One entry of the journal: a response the application returned, or a webhook received."""

    id: int
    call_id: str | None
    kind: RecordKind
    received_at: datetime
    #: The flow returned (responses).
    flow_name: str | None
    #: The URL MiniVoice requested (responses, when the application gave it).
    url: str | None
    #: The webhook's event (webhooks that could be read).
    event: str | None
    #: The call's status: from the webhook, or from the request a response answered.
    status: str | None
    #: The JSON returned, or the webhook as received (invalid UTF-8 shown escaped).
    body: str
    #: The exact bytes received, kept only when they were not valid UTF-8.
    raw: bytes | None
    #: Why the webhook could not be read (or the flow could not be emitted); None when fine.
    error: str | None

    @property
    def ok(self) -> bool:
        """True when the record was read (webhooks) or emitted (responses) without error."""
        return self.error is None


@frozen
class Received:
    """What ``record_webhook`` did: the record stored, and the webhook or why it is unreadable."""

    record: Record
    webhook: Webhook | None
    error: WebhookError | None


@frozen
class LastStep:
    """The last known step of a call and how it ended."""

    call_id: str
    #: The name of the last flow returned (its URL when it had no name), or None.
    step: str | None
    outcome: Outcome
    #: The status of the webhook that ended the call, if one came.
    status: str | None
    #: When the latest record of the call was written.
    updated_at: datetime
    #: How many webhooks of this call could not be read.
    unreadable: int

    def describe(self) -> str:
        """The outcome in words, for people: ``caller hung up during step 'pin'``."""
        step = f"step {self.step!r}" if self.step is not None else "no step recorded"
        during = f"during {step}" if self.step is not None else f"({step})"
        words = {
            Outcome.IN_PROGRESS: f"in progress, at {step}",
            Outcome.COMPLETED: f"completed, last {step}",
            Outcome.HUNG_UP: f"caller hung up {during}",
            Outcome.BUSY: f"destination busy {during}",
            Outcome.NO_ANSWER: f"no answer {during}",
            Outcome.FAILED: f"failed {during}",
            Outcome.UNKNOWN: f"ended with status {self.status!r} {during}",
        }
        return words[self.outcome]


def _utc_now() -> datetime:
    return datetime.now(UTC)


class CallJournal:
    """A SQLite call journal: ``CallJournal("calls.db")``, or ``":memory:"`` for tests.

    ``create=False`` refuses to make a new file (a missing file is a ``JournalError``).
    ``clock`` gives the time of each record (UTC now by default; a naive time counts as UTC).
    Safe to share between threads; each process opens its own.
    """

    def __init__(
        self,
        path: str | os.PathLike[str] = "calls.db",
        *,
        create: bool = True,
        clock: Callable[[], datetime] = _utc_now,
        timeout: float = 30.0,
    ) -> None:
        self.path = os.fspath(path)
        self._memory = self.path == ":memory:"
        if not create and not self._memory and not os.path.isfile(self.path):
            raise JournalError(f"there is no call journal at {self.path}")
        self._create = create
        self._clock = clock
        self._timeout = timeout
        self._lock = threading.Lock()
        self._connection: sqlite3.Connection | None = None
        self._pid = 0
        with self._lock:
            self._connect()

    # Writing.

    def record_response(
        self,
        call_id: str | None,
        flow: Flow | str,
        *,
        url: str | None = None,
        status: str | None = None,
        name: str | None = None,
    ) -> Record:
        """Record the response returned for a call: a Flow, or JSON text (give ``name``).

        ``url`` is the URL MiniVoice requested and ``status`` the call status its request
        carried (at a fallback_url it says why the transfer failed). A flow that cannot be
        emitted is recorded with its error rather than lost.
        """
        error = None
        if isinstance(flow, Flow):
            name = flow.name if name is None else name
            try:
                body = flow.to_json()
            except FlowError as problem:
                body = json.dumps(problem.to_payload())
                error = str(problem)
        else:
            body = flow
        text, raw = _storable(body)
        return self._insert(
            call_id=call_id or None,
            kind="response",
            flow_name=name,
            url=url,
            status=status,
            body=text,
            raw=raw,
            error=error,
        )

    def record_webhook(self, payload: bytes | str | Mapping[str, Any] | Webhook) -> Received:
        """Store a webhook as received, then read it; never raises for bad content.

        The text is stored even when it cannot be read (its call ID is then taken from it if
        it can be found, else left empty); ``Received.error`` says what is wrong.
        """
        if isinstance(payload, Webhook):
            payload = payload.to_json()
        text, raw = _storable(payload)
        try:
            webhook: Webhook | None = parse_webhook(payload)
            error = None
        except WebhookError as problem:
            webhook, error = None, problem
        record = self._insert(
            call_id=webhook.call.id if webhook is not None else _find_call_id(payload),
            kind="webhook",
            event=webhook.event if webhook is not None else None,
            status=webhook.call.status if webhook is not None else None,
            body=text,
            raw=raw,
            error=str(error) if error is not None else None,
        )
        return Received(record, webhook, error)

    # Reading.

    def timeline(self, call_id: str) -> tuple[Record, ...]:
        """Every record of a call, in the order written."""
        return self._select(
            f"SELECT {_COLUMNS} FROM records WHERE call_id = ? ORDER BY id", (call_id,)
        )

    def last_step(self, call_id: str) -> LastStep | None:
        """The last known step of a call and how it ended; None if nothing was recorded."""
        return _derive(call_id, self.timeline(call_id))

    def recent(self, limit: int = 20) -> tuple[LastStep, ...]:
        """The most recently active calls, newest first, each with its last step."""
        rows = self._query(
            "SELECT call_id FROM records WHERE call_id IS NOT NULL "
            "GROUP BY call_id ORDER BY MAX(id) DESC LIMIT ?",
            (limit,),
        )
        found = (self.last_step(call_id) for (call_id,) in rows)
        return tuple(step for step in found if step is not None)

    def unattributed(self, limit: int | None = None) -> tuple[Record, ...]:
        """Records with no call ID (webhooks too malformed to name their call), newest first."""
        return self._select(
            f"SELECT {_COLUMNS} FROM records WHERE call_id IS NULL ORDER BY id DESC LIMIT ?",
            (-1 if limit is None else limit,),
        )

    def close(self) -> None:
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None

    def __enter__(self) -> CallJournal:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"CallJournal({self.path!r})"

    # The database.

    def _insert(
        self,
        *,
        call_id: str | None,
        kind: RecordKind,
        body: str,
        raw: bytes | None,
        error: str | None,
        flow_name: str | None = None,
        url: str | None = None,
        event: str | None = None,
        status: str | None = None,
    ) -> Record:
        received_at = self._clock()
        if received_at.utcoffset() is None:
            received_at = received_at.replace(tzinfo=UTC)
        values = (
            call_id,
            kind,
            received_at.isoformat(),
            flow_name,
            url,
            event,
            status,
            body,
            raw,
            error,
        )
        with self._lock:
            cursor = self._execute(
                f"INSERT INTO records ({', '.join(_WRITTEN)}) "
                f"VALUES ({', '.join('?' * len(_WRITTEN))})",
                values,
            )
            row_id = cursor.lastrowid
        assert row_id is not None  # an INSERT into a rowid table always sets it
        return Record(
            row_id, call_id, kind, received_at, flow_name, url, event, status, body, raw, error
        )

    def _select(self, sql: str, parameters: tuple[Any, ...]) -> tuple[Record, ...]:
        return tuple(_record(row) for row in self._query(sql, parameters))

    def _query(self, sql: str, parameters: tuple[Any, ...]) -> list[Any]:
        with self._lock:
            return self._execute(sql, parameters).fetchall()

    def _execute(self, sql: str, parameters: tuple[Any, ...]) -> sqlite3.Cursor:
        """Run one statement (the caller holds the lock); in autocommit mode a write is
        committed when this returns."""
        connection = self._connect()
        try:
            return connection.execute(sql, parameters)
        except sqlite3.Error as error:
            raise JournalError(f"call journal {self.path}: {error}") from error

    def _connect(self) -> sqlite3.Connection:
        """The connection of this process, opened (and the schema made) on first use.

        A connection is never shared across a fork: a child opens its own.
        """
        if self._connection is not None and self._pid == os.getpid():
            return self._connection
        try:
            connection = sqlite3.connect(
                self.path, timeout=self._timeout, isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error as error:
            raise JournalError(f"cannot open the call journal {self.path}: {error}") from error
        try:
            _prepare(connection, self.path, self._memory, self._create)
        except sqlite3.Error as error:
            connection.close()
            raise JournalError(f"cannot open the call journal {self.path}: {error}") from error
        except JournalError:
            connection.close()
            raise
        self._connection, self._pid = connection, os.getpid()
        return connection


def _prepare(connection: sqlite3.Connection, path: str, memory: bool, create: bool) -> None:
    """WAL mode and the schema, made once by whichever process gets there first."""
    if not memory:
        connection.execute("PRAGMA journal_mode = WAL")
    connection.execute("BEGIN IMMEDIATE")
    try:
        (version,) = connection.execute("PRAGMA user_version").fetchone()
        if version == 0:
            (tables,) = connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
            if tables or not create:
                raise JournalError(f"{path} is a SQLite database but not a call journal")
            for statement in _SCHEMA:
                connection.execute(statement)
            connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        elif version != SCHEMA_VERSION:
            raise JournalError(
                f"{path} is a call journal of schema version {version}; this version of "
                f"minivoice-flow reads version {SCHEMA_VERSION}"
            )
        connection.execute("COMMIT")
    except BaseException:
        if connection.in_transaction:
            connection.execute("ROLLBACK")
        raise


def _record(row: tuple[Any, ...]) -> Record:
    (id_, call_id, kind, received_at, flow_name, url, event, status, body, raw, error) = row
    return Record(
        id_,
        call_id,
        kind,
        datetime.fromisoformat(received_at),
        flow_name,
        url,
        event,
        status,
        body,
        raw,
        error,
    )


# Payloads to storable text, whatever they are.


def _storable(payload: object) -> tuple[str, bytes | None]:
    """Text to store, and the exact bytes when the text alone would not keep them.

    Bytes that are not UTF-8 (and text with lone surrogates, which SQLite cannot hold) are
    shown with escapes in the text and kept exactly in the bytes.
    """
    if isinstance(payload, (bytes, bytearray, memoryview)):
        data = bytes(payload)
        try:
            return data.decode("utf-8"), None
        except UnicodeDecodeError:
            return data.decode("utf-8", "backslashreplace"), data
    if isinstance(payload, str):
        try:
            payload.encode("utf-8")
        except UnicodeEncodeError:
            data = payload.encode("utf-8", "surrogatepass")
            return payload.encode("utf-8", "backslashreplace").decode("utf-8"), data
        return payload, None
    return _storable(_as_text(payload))


def _as_text(payload: object) -> str:
    """Parsed data as JSON text; anything JSON cannot hold is shown by its repr."""
    try:
        return json.dumps(payload, ensure_ascii=False, default=repr)
    except (TypeError, ValueError, RecursionError):
        try:
            return repr(payload)
        except Exception:  # a repr that fails (or recurses) still leaves a trace
            return f"<unprintable {type(payload).__name__}>"


def _find_call_id(payload: object) -> str | None:
    """The call ID of a webhook that cannot be read as a whole, if it has a usable one."""
    data: object = payload
    if isinstance(payload, (bytes, bytearray, memoryview, str)):
        try:
            data = json.loads(bytes(payload) if isinstance(payload, memoryview) else payload)
        except (ValueError, RecursionError):
            return None
    call = data.get("call") if isinstance(data, Mapping) else None
    call_id = call.get("id") if isinstance(call, Mapping) else None
    return call_id if isinstance(call_id, str) and call_id else None


# Deriving the last step.


def _derive(call_id: str, records: Iterable[Record]) -> LastStep | None:
    records = tuple(records)
    if not records:
        return None
    responses = [r for r in records if r.kind == "response"]
    last = responses[-1] if responses else None
    ending = next((r for r in reversed(records) if _ends_call(r)), None)
    return LastStep(
        call_id=call_id,
        step=(last.flow_name or last.url) if last is not None else None,
        outcome=_outcome(ending, last),
        status=ending.status if ending is not None else None,
        updated_at=records[-1].received_at,
        unreadable=sum(1 for r in records if r.kind == "webhook" and not r.ok),
    )


def _ends_call(record: Record) -> bool:
    return (
        record.kind == "webhook"
        and record.ok
        and (record.status in ENDED_STATUSES or record.event == Event.COMPLETED)
    )


_BY_STATUS: Final[dict[str, Outcome]] = {
    CallStatus.BUSY: Outcome.BUSY,
    CallStatus.NO_ANSWER: Outcome.NO_ANSWER,
    CallStatus.FAILED: Outcome.FAILED,
    CallStatus.CANCELED: Outcome.HUNG_UP,
}


def _outcome(ending: Record | None, last: Record | None) -> Outcome:
    if ending is None:
        return Outcome.IN_PROGRESS
    if ending.status in _BY_STATUS:
        return _BY_STATUS[ending.status]
    if ending.status != CallStatus.COMPLETED:
        return Outcome.UNKNOWN
    if last is not None and _final_action(last.body) == "redirect":
        return Outcome.HUNG_UP
    return Outcome.COMPLETED


def _final_action(body: str) -> str | None:
    """The name of the last action of a response body, if it is an actions payload."""
    try:
        final = json.loads(body)["actions"][-1]
    except (ValueError, KeyError, IndexError, TypeError, RecursionError):
        return None
    if not isinstance(final, dict) or len(final) != 1:
        return None
    (name,) = final
    return str(name)
