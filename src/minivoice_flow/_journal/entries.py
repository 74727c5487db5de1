"""From what the application hands the journal to an ``Entry`` a store can write, whatever
it holds.

Nothing here raises for bad content. A payload is stored as text that any database can hold
(no lone surrogates, no NUL), and when that text alone would not give back exactly what was
received, the exact bytes are kept beside it. What can be read is read; what cannot is kept
with the reason.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final

from attrs import evolve

from minivoice_flow import Diagnostic
from minivoice_flow._journal import MAX_CALL_ID, MAX_NUMBER, Entry, JournalError, RecordRow
from minivoice_flow.webhooks import ENDED_STATUSES, Event, Webhook, WebhookError, parse_webhook

_NUL: Final = "\x00"


# Payloads to storable text.


def storable(payload: object) -> tuple[str, bytes | None]:
    """Text to store, and the exact bytes when the text alone would not keep them.

    Bytes that are not UTF-8, text with lone surrogates and anything with a NUL character are
    shown with escapes in the text (no database column of text takes them all) and kept
    exactly in the bytes: text with lone surrogates as its UTF-8 with ``surrogatepass``.
    """
    if isinstance(payload, (bytes, bytearray, memoryview)):
        data = bytes(payload)
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            return _escaped(data.decode("utf-8", "backslashreplace")), data
        return (text, None) if _NUL not in text else (_escaped(text), data)
    if isinstance(payload, str):
        try:
            payload.encode("utf-8")
        except UnicodeEncodeError:
            return column_text(payload), payload.encode("utf-8", "surrogatepass")
        return (payload, None) if _NUL not in payload else (_escaped(payload), payload.encode())
    return storable(as_json_text(payload))


def column_text(value: str) -> str:
    """``value`` as text any database stores: lone surrogates and NUL shown as escapes."""
    return _escaped(value.encode("utf-8", "backslashreplace").decode("utf-8"))


def _escaped(text: str) -> str:
    return text.replace(_NUL, "\\x00")


def optional_text(value: str | None) -> str | None:
    return None if value is None else column_text(value)


def as_json_text(payload: object) -> str:
    """Parsed data as JSON text, however deeply nested; what JSON cannot hold, by its repr."""
    try:
        return json.dumps(payload, ensure_ascii=False, default=_shown)
    except (RecursionError, ValueError, TypeError):  # deep, circular, odd keys, huge ints
        pass
    except Exception:  # a mapping of the caller's that fails when read
        return _shown(payload)
    try:
        return _dump_deep(payload)
    except Exception:
        return _shown(payload)


def _shown(value: object) -> str:
    try:
        return repr(value)
    except Exception:  # a repr that fails (or recurses) still leaves a trace
        return f"<unprintable {type(value).__name__}>"


def _dump_deep(payload: object) -> str:
    """JSON text of data ``json.dumps`` refuses, written without recursion: keys that are not
    text by their repr, a container met again as a marker, an integer too long for decimal
    text in hexadecimal (as a string)."""
    parts: list[str] = []
    seen: set[int] = set()
    stack: list[object] = [payload]
    while stack:
        item = stack.pop()
        if isinstance(item, _Literal):
            parts.append(item.text)
        elif isinstance(item, (Mapping, list, tuple)) and id(item) in seen:
            parts.append('"<repeated reference>"')
        elif isinstance(item, Mapping):
            seen.add(id(item))
            pending: list[object] = [_Literal("{")]
            for number, (key, value) in enumerate(item.items()):
                name = key if isinstance(key, str) else _shown(key)
                comma = ", " if number else ""
                pending += [_Literal(f"{comma}{_scalar(name)}: "), value]
            stack.extend(reversed([*pending, _Literal("}")]))
        elif isinstance(item, (list, tuple)):
            seen.add(id(item))
            pending = [_Literal("[")]
            for number, value in enumerate(item):
                pending += [_Literal(", ")] if number else []
                pending.append(value)
            stack.extend(reversed([*pending, _Literal("]")]))
        else:
            parts.append(_scalar(item))
    return "".join(parts)


def _scalar(value: object) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        try:
            return str(value)
        except ValueError:  # more digits than Python converts to decimal text
            return json.dumps(hex(value))
    if value is None or isinstance(value, (bool, float, str)):
        return json.dumps(value, ensure_ascii=False)
    return json.dumps(_shown(value), ensure_ascii=False)


class _Literal:
    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


def digest(text: str, raw: bytes | None) -> bytes:
    """SHA-256 of the exact bytes a payload was stored from."""
    return hashlib.sha256(raw if raw is not None else text.encode("utf-8")).digest()


# Call IDs and numbers.


def call_id_or_none(value: object) -> str | None:
    """``value`` if it can file records under a call: text of 1 to MAX_CALL_ID characters,
    storable as it is (no lone surrogates, no NUL)."""
    if not isinstance(value, str) or not 0 < len(value) <= MAX_CALL_ID or _NUL in value:
        return None
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return None
    return value


def checked_call_id(value: object) -> str:
    """A call ID to look up or file under, or a ``JournalError`` saying what is wrong."""
    found = call_id_or_none(value)
    if found is None:
        shown = _shown(value)
        shown = shown if len(shown) <= 80 else f"{shown[:77]}..."
        raise JournalError(
            f"call_id must be text of 1 to {MAX_CALL_ID} characters with no NUL and no lone "
            f"surrogate; got {column_text(shown)}"
        )
    return found


def _number(value: object) -> str | None:
    if isinstance(value, str) and 0 < len(value) <= MAX_NUMBER:
        return column_text(value)
    return None


def find_call_id(payload: object) -> str | None:
    """The call ID of a webhook that cannot be read as a whole, if one can be found.

    Text and bytes are read as JSON as far as they go: bytes that are not UTF-8 have their
    bad bytes set aside (the ID itself must be clean), and text after the first JSON value is
    ignored.
    """
    data: object = payload
    if isinstance(payload, (bytes, bytearray, memoryview)):
        data = _leading_json(bytes(payload).decode("utf-8", "surrogateescape"))
    elif isinstance(payload, str):
        data = _leading_json(payload)
    try:
        call = data.get("call") if isinstance(data, Mapping) else None
        return call_id_or_none(call.get("id") if isinstance(call, Mapping) else None)
    except Exception:  # a mapping of the caller's whose get() fails
        return None


def _leading_json(text: str) -> object:
    try:
        value, _ = json.JSONDecoder().raw_decode(text.lstrip("\ufeff \t\r\n"))
    except (ValueError, RecursionError):
        return None
    return value


# Entries.


def response_entry(
    call_id: str | None,
    received_at: datetime,
    body: str,
    raw: bytes | None,
    *,
    name: str | None,
    url: str | None,
    status: str | None,
    error: str | None,
) -> Entry:
    """A response the application returned, as a record and a step of its call."""
    name, url = optional_text(name), optional_text(url)
    return Entry(
        call_id=call_id,
        kind="response",
        received_at=received_at,
        flow_name=name,
        url=url,
        event=None,
        status=optional_text(status),
        body=body,
        raw=raw,
        error=optional_text(error),
        digest=None,
        step=name if name is not None else url,
        handed_over=error is None and final_action(body) == "redirect",
    )


def webhook_entry(
    payload: bytes | str | Mapping[str, Any], received_at: datetime
) -> tuple[Entry, Webhook | None, WebhookError | None]:
    """A webhook as received, read if it can be; never raises."""
    text, raw = storable(payload)
    webhook: Webhook | None = None
    error: WebhookError | None = None
    try:
        webhook = parse_webhook(payload)
    except WebhookError as problem:
        error = problem
    except Exception as problem:  # a mapping of the caller's that misbehaves when read
        message = f"the webhook cannot be read: {_shown(problem)}"
        error = WebhookError((Diagnostic.error("malformed_payload", "", message),))
    call_id = call_id_or_none(webhook.call.id) if webhook is not None else find_call_id(payload)
    entry = _webhook(
        call_id,
        received_at,
        text,
        raw,
        webhook.event if webhook is not None else None,
        webhook.call.status if webhook is not None else None,
        None if error is None else str(error),
        webhook,
    )
    return entry, webhook, error


def _webhook(
    call_id: str | None,
    received_at: datetime,
    text: str,
    raw: bytes | None,
    event: str | None,
    status: str | None,
    error: str | None,
    webhook: Webhook | None,
) -> Entry:
    ending = error is None and (status in ENDED_STATUSES or event == Event.COMPLETED)
    return Entry(
        call_id=call_id,
        kind="webhook",
        received_at=received_at,
        flow_name=None,
        url=None,
        event=optional_text(event),
        status=optional_text(status),
        body=text,
        raw=raw,
        error=optional_text(error),
        digest=digest(text, raw),
        ending=ending,
        unreadable=error is not None,
        from_number=_number(webhook.call.from_) if webhook is not None else None,
        to_number=_number(webhook.call.to) if webhook is not None else None,
    )


def stored_entry(row: RecordRow, *, first: bool) -> Entry:
    """A record already stored, as an entry again (migrations rebuild summaries from these);
    ``first`` is False for a webhook whose exact bytes were stored before (it gets no digest).
    """
    (_, call_id, kind, at, flow_name, url, event, status, body, raw, error) = row
    if kind == "response":
        return response_entry(
            call_id, at, body, raw, name=flow_name, url=url, status=status, error=error
        )
    webhook = None
    if error is None:
        try:
            webhook = parse_webhook(raw if raw is not None else body)
        except WebhookError:
            webhook = None
    entry = _webhook(call_id, at, body, raw, event, status, error, webhook)
    return entry if first else evolve(entry, digest=None)


def final_action(body: str) -> str | None:
    """The name of the last action of a response body, if it is an actions payload."""
    try:
        final = json.loads(body)["actions"][-1]
    except (ValueError, KeyError, IndexError, TypeError, RecursionError):
        return None
    if not isinstance(final, dict) or len(final) != 1:
        return None
    (name,) = final
    return str(name)
