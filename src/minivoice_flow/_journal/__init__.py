"""What the call journal stores, and the one small interface its databases implement.

``minivoice_flow.journal`` is the public face. Below it a *store* keeps two tables: every
record (each response returned, each webhook received), and a summary row per call (first and
last time, the caller's and the called numbers, the last step, the outcome) that is brought up
to date in the same transaction as each record it summarises. The store knows SQL and its
database; it knows nothing of flows or webhooks beyond the facts handed to it in an ``Entry``.

Two stores implement ``Store``: SQLite (``sqlite.py``, the embedded default) and PostgreSQL
(``postgres.py``, imported only when a ``postgresql://`` URL is opened, so that psycopg is
never loaded otherwise). The SQL they share, and the rule that turns an ending status into an
outcome, are written once in ``sql.py``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum
from typing import Final, Literal, Protocol

from attrs import frozen

from minivoice_flow.webhooks import CallStatus

RecordKind = Literal["response", "webhook"]

#: Schema version 1: records only (the first release). 2: webhook digests (a repeat is
#: stored once) and the per-call summary table with its indexes.
SCHEMA_VERSION: Final = 2

#: The longest call ID the journal files under its call (longer ones are not MiniVoice's).
MAX_CALL_ID: Final = 255
#: The longest phone number or SIP address kept in a call's summary.
MAX_NUMBER: Final = 256


class JournalError(Exception):
    """The journal's database cannot be opened, read or written, or was given a bad value."""


class Outcome(StrEnum):
    """How a call ended, as far as the journal can tell."""

    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    HUNG_UP = "hung_up"
    BUSY = "busy"
    NO_ANSWER = "no_answer"
    FAILED = "failed"
    UNKNOWN = "unknown"


#: Ending statuses that are an outcome of their own. ``completed`` is COMPLETED unless the
#: last flow returned handed over with a redirect that never came (HUNG_UP); any other
#: ending status is UNKNOWN; no ending webhook yet is IN_PROGRESS.
BY_STATUS: Final[dict[str, Outcome]] = {
    CallStatus.BUSY: Outcome.BUSY,
    CallStatus.NO_ANSWER: Outcome.NO_ANSWER,
    CallStatus.FAILED: Outcome.FAILED,
    CallStatus.CANCELED: Outcome.HUNG_UP,
}

#: A record as stored: id, call_id, kind, received_at, flow_name, url, event, status, body,
#: raw, error (the order of ``journal.Record``'s fields).
RecordRow = tuple[
    int,
    str | None,
    RecordKind,
    datetime,
    str | None,
    str | None,
    str | None,
    str | None,
    str,
    bytes | None,
    str | None,
]
#: A call's summary as stored: call_id, step, outcome, ending status, first and last time,
#: from and to numbers, record count, unreadable count, id of the latest record.
CallRow = tuple[
    str,
    str | None,
    str,
    str | None,
    datetime,
    datetime,
    str | None,
    str | None,
    int,
    int,
    int,
]


@frozen
class Entry:
    """One record to write, with what it tells about its call (for the summary row)."""

    call_id: str | None
    kind: RecordKind
    received_at: datetime
    flow_name: str | None
    url: str | None
    event: str | None
    status: str | None
    body: str
    raw: bytes | None
    error: str | None
    #: SHA-256 of the exact bytes of a webhook: a second delivery of them is a repeat.
    digest: bytes | None
    #: A response's step (its flow's name, else the URL requested).
    step: str | None = None
    #: A response whose last action is a redirect: the call was handed to another request.
    handed_over: bool | None = None
    #: A readable webhook whose status or event says the call is over.
    ending: bool = False
    unreadable: bool = False
    from_number: str | None = None
    to_number: str | None = None


@frozen
class CallQuery:
    """Which calls to list: newest activity first, ``limit`` of them, older than ``before``
    (the ``last_record_id`` of the previous page's last call), with this outcome or number."""

    limit: int
    before: int | None = None
    outcome: Outcome | None = None
    number: str | None = None


class Store(Protocol):
    """A database holding a journal. Every write is one transaction, committed on return;
    every failure is a ``JournalError`` whose message names the database (never a password)."""

    #: Where the journal is, for messages.
    location: str

    def add(self, entry: Entry) -> tuple[RecordRow, bool]:
        """Write a record and update its call's summary; a webhook whose digest is stored
        already is not written again: ``(the stored record, True)``."""
        ...

    def timeline(self, call_id: str, limit: int | None = None) -> Sequence[RecordRow]:
        """Every record of a call, in the order written (the first ``limit``)."""
        ...

    def call(self, call_id: str) -> CallRow | None:
        """The summary of one call."""
        ...

    def calls(self, query: CallQuery) -> Sequence[CallRow]:
        """Summaries of calls, newest activity first."""
        ...

    def unattributed(self, limit: int | None, before: int | None) -> Sequence[RecordRow]:
        """Records with no call ID, newest first."""
        ...

    def unattributed_count(self) -> int: ...

    def prune(self, cutoff: datetime) -> tuple[int, int, int]:
        """Delete every call whose last record is older than ``cutoff`` (all its records and
        its summary, in one transaction) and unattributed records older than it; returns
        ``(calls, records of those calls, unattributed records)``."""
        ...

    def close(self) -> None: ...


class OpenStore(Protocol):
    """A store class: opens (and makes or migrates, unless ``create`` is False) a journal."""

    def __call__(
        self, location: str, /, *, create: bool, timeout: float, durable: bool
    ) -> Store: ...


def is_postgres(location: str) -> bool:
    """True for a PostgreSQL URL (``postgresql://`` or ``postgres://``, any case)."""
    return location.lower().startswith(("postgresql://", "postgres://"))
