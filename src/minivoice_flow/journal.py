"""The call journal: every response returned and webhook received, per call, in SQLite or
PostgreSQL.

``CallJournal("calls.db")`` records, per MiniVoice call ID, each answer_url response the
application returned (the flow's name and its JSON) and each webhook received (exactly as it
arrived, even when it cannot be read), and keeps for each call a summary: its first and last
time, its numbers, the last known step and how it ended. ``CallJournal("postgresql://...")``
does the same on a PostgreSQL server shared by an application's instances on many machines.
Each write is its own committed transaction before the method returns, so threads and
processes (and machines, on PostgreSQL) can write at once and nothing is lost or doubled: a
webhook delivered twice with the same bytes is stored once.

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

sqlite3 is imported here only, and psycopg only when a PostgreSQL URL is opened: building and
serving flows loads neither.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from attrs import frozen

from minivoice_flow import Flow, FlowError, _converter
from minivoice_flow._journal import (
    MAX_NUMBER,
    SCHEMA_VERSION,
    CallQuery,
    CallRow,
    JournalError,
    OpenStore,
    Outcome,
    RecordKind,
    is_postgres,
)
from minivoice_flow._journal.entries import (
    checked_call_id,
    column_text,
    response_entry,
    storable,
    webhook_entry,
)
from minivoice_flow._journal.sqlite import SQLiteStore
from minivoice_flow.webhooks import Webhook, WebhookError

__all__ = [
    "ENVIRONMENT_VARIABLE",
    "SCHEMA_VERSION",
    "CallJournal",
    "JournalError",
    "LastStep",
    "Outcome",
    "Pruned",
    "Received",
    "Record",
]

#: The environment variable ``minivoice-flow calls`` reads the journal's path or URL from.
ENVIRONMENT_VARIABLE: Final = "MINIVOICE_JOURNAL"


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
    #: The JSON returned, or the webhook as received (what text cannot hold shown escaped).
    body: str
    #: The exact bytes received, kept when the text does not give them back: bytes that are
    #: not UTF-8, text with a NUL or a lone surrogate (as UTF-8 with ``surrogatepass``).
    raw: bytes | None
    #: Why the webhook could not be read (or the flow could not be emitted); None when fine.
    error: str | None

    @property
    def ok(self) -> bool:
        """True when the record was read (webhooks) or emitted (responses) without error."""
        return self.error is None

    def to_dict(self) -> dict[str, Any]:
        """Every field as JSON-ready data: the time in ISO 8601, ``raw`` in base64."""
        data: dict[str, Any] = _converter.unstructure(self)
        return data


@frozen
class Received:
    """What ``record_webhook`` did: the record stored, and the webhook or why it is unreadable.

    ``repeat`` is True when the same bytes had been stored before (a platform's retry): then
    nothing new was written and ``record`` is the record stored the first time.
    """

    record: Record
    webhook: Webhook | None
    error: WebhookError | None
    repeat: bool


@frozen
class LastStep:
    """A call in brief: its last known step, how it ended, its numbers and times."""

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
    #: When the first record of the call was written.
    started_at: datetime
    #: The calling and the called number, from the first webhook that could be read.
    from_: str | None
    to: str | None
    #: How many records the call has.
    records: int
    #: The id of the call's latest record: pass it as ``recent(before=...)`` for the next page.
    last_record_id: int

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

    def to_dict(self) -> dict[str, Any]:
        """Every field as JSON-ready data (``from_`` as ``from``, times in ISO 8601), and the
        outcome in words under ``description``."""
        fields: dict[str, Any] = _converter.unstructure(self)
        data = {("from" if name == "from_" else name): value for name, value in fields.items()}
        data["description"] = self.describe()
        return data


@frozen
class Pruned:
    """What ``prune`` deleted: whole calls, their records, and unattributed records."""

    calls: int
    records: int
    unattributed: int

    def to_dict(self) -> dict[str, Any]:
        """The three counts as JSON-ready data."""
        data: dict[str, Any] = _converter.unstructure(self)
        return data


def _utc_now() -> datetime:
    return datetime.now(UTC)


class CallJournal:
    """A call journal: a SQLite file (``CallJournal("calls.db")``, or ``":memory:"`` for
    tests), or a PostgreSQL database (``CallJournal("postgresql://user@host/dbname")``).

    ``create=False`` refuses to make a new journal (a missing one is a ``JournalError``).
    ``clock`` gives the time of each record (UTC now by default; a naive time counts as UTC).
    ``timeout`` is how long a write may wait for the database (SQLite's lock, a PostgreSQL
    connection) before it fails with ``JournalError``. ``durable=False`` trades the last
    moments of writes before a power cut or a server crash for speed (SQLite
    ``synchronous=NORMAL``, PostgreSQL ``synchronous_commit=off``); the default never loses a
    committed write. Safe to share between threads; a forked process opens its own
    connections.
    """

    def __init__(
        self,
        path: str | os.PathLike[str] = "calls.db",
        *,
        create: bool = True,
        clock: Callable[[], datetime] = _utc_now,
        timeout: float = 10.0,
        durable: bool = True,
    ) -> None:
        try:
            location: str | bytes = os.fspath(path)
        except TypeError:
            location = b""
        if not isinstance(location, str):
            raise JournalError(f"path must be a file path or a URL as text; got {path!r}")
        if location == "":
            raise JournalError(
                "path is empty: SQLite would keep the journal in a temporary file that is "
                'deleted on close; give a file path, a postgresql:// URL, or ":memory:" for '
                "a journal that is meant to vanish"
            )
        self._clock = clock
        kind: OpenStore = _postgres_store() if is_postgres(location) else SQLiteStore
        self._store = kind(location, create=create, timeout=timeout, durable=durable)
        #: Where the journal is: the file path, or the URL without its password.
        self.path: str = self._store.location

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
        emitted is recorded with its error rather than lost. No call ID (None or ``""``)
        files the record as unattributed; a call ID the journal cannot file under (not text,
        over 255 characters, a NUL or a lone surrogate) is a ``JournalError``.
        """
        if call_id is not None and call_id != "":
            call_id = checked_call_id(call_id)
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
        text, raw = storable(body)
        entry = response_entry(
            call_id or None,
            self._now(),
            text,
            raw,
            name=name,
            url=url,
            status=status,
            error=error,
        )
        row, _ = self._store.add(entry)
        return Record(*row)

    def record_webhook(self, payload: bytes | str | Mapping[str, Any] | Webhook) -> Received:
        """Store a webhook exactly as received, then read it; never raises for bad content.

        The payload is stored even when it cannot be read (its call ID is then taken from it
        if one can be found, else it is filed as unattributed); ``Received.error`` says what
        is wrong. The same bytes delivered again are not stored twice: ``Received.repeat``.
        Only a database failure raises (``JournalError``).
        """
        if isinstance(payload, Webhook):
            payload = payload.to_json()
        entry, webhook, error = webhook_entry(payload, self._now())
        row, repeat = self._store.add(entry)
        return Received(Record(*row), webhook, error, repeat)

    # Reading.

    def timeline(self, call_id: str, *, limit: int | None = None) -> tuple[Record, ...]:
        """Every record of a call, in the order written (the first ``limit`` of them)."""
        if limit is not None:
            _check_limit(limit)
        rows = self._store.timeline(checked_call_id(call_id), limit)
        return tuple(Record(*row) for row in rows)

    def last_step(self, call_id: str) -> LastStep | None:
        """The last known step of a call and how it ended; None if nothing was recorded."""
        row = self._store.call(checked_call_id(call_id))
        return None if row is None else _last_step(row)

    def recent(
        self,
        limit: int = 20,
        *,
        before: int | None = None,
        outcome: Outcome | str | None = None,
        number: str | None = None,
    ) -> tuple[LastStep, ...]:
        """The most recently active calls, newest first, each with its last step.

        A page at a time: ``before`` is the ``last_record_id`` of the last call of the
        previous page. ``outcome`` keeps the calls that ended so; ``number`` the calls from
        or to that number.
        """
        _check_limit(limit)
        if outcome is not None:
            try:
                outcome = Outcome(outcome)
            except ValueError:
                allowed = ", ".join(o.value for o in Outcome)
                raise JournalError(f"outcome must be one of {allowed}; got {outcome!r}") from None
        if number is not None:
            if not isinstance(number, str) or not 0 < len(number) <= MAX_NUMBER:
                return ()  # no call has such a number
            number = column_text(number)
        query = CallQuery(limit=limit, before=before, outcome=outcome, number=number)
        return tuple(_last_step(row) for row in self._store.calls(query))

    def unattributed(
        self, limit: int | None = None, *, before: int | None = None
    ) -> tuple[Record, ...]:
        """Records with no call ID (webhooks too malformed to name their call), newest first;
        ``before`` is the id of the last record of the previous page."""
        return tuple(Record(*row) for row in self._store.unattributed(limit, before))

    def unattributed_count(self) -> int:
        """How many records have no call ID."""
        return self._store.unattributed_count()

    # Retention.

    def prune(self, *, older_than: timedelta) -> Pruned:
        """Delete every call whose last record is older than ``older_than`` (all of it, never
        part of a call), and unattributed records older than that; says how many."""
        if not isinstance(older_than, timedelta) or older_than <= timedelta(0):
            raise JournalError(f"older_than must be a positive timedelta; got {older_than!r}")
        return Pruned(*self._store.prune(self._now() - older_than))

    def close(self) -> None:
        self._store.close()

    def __enter__(self) -> CallJournal:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"CallJournal({self.path!r})"

    def _now(self) -> datetime:
        moment = self._clock()
        return moment if moment.utcoffset() is not None else moment.replace(tzinfo=UTC)


def _check_limit(limit: object) -> None:
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise JournalError(f"limit must be a whole number, 1 or more; got {limit!r}")


def _postgres_store() -> OpenStore:
    """The PostgreSQL store, imported now: only a PostgreSQL URL loads psycopg."""
    try:
        from minivoice_flow._journal.postgres import PostgresStore
    except ImportError as error:
        missing = error.name or "psycopg"
        raise JournalError(
            f"a PostgreSQL journal needs psycopg 3 and psycopg-pool ({missing} is not "
            "installed): pip install 'minivoice-flow[postgres]'"
        ) from None
    return PostgresStore


def _last_step(row: CallRow) -> LastStep:
    (call_id, step, outcome, status, first_at, last_at, from_, to, records, unreadable, last) = row
    return LastStep(
        call_id=call_id,
        step=step,
        outcome=Outcome(outcome),
        status=status,
        updated_at=last_at,
        unreadable=unreadable,
        started_at=first_at,
        from_=from_,
        to=to,
        records=records,
        last_record_id=last,
    )
