"""The HTTP side of the support page: requests read strictly, responses with their security
headers, and the gate that decides who may read the journal.

Everything a request carries is hostile: the query string must be percent-encoded UTF-8 with
each parameter once and none unknown to the page (else 400); a form body is read only up to
its stated length and a small limit; headers are read as text and never trusted beyond what
they prove (a bearer token, a session cookie, a loopback address).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable, Collection, Mapping
from http import HTTPStatus
from typing import Any, Final
from urllib.parse import parse_qsl, urlencode

from attrs import frozen

from minivoice_flow._support import MIN_TOKEN_LENGTH
from minivoice_flow.wsgi import StartResponse, is_loopback

#: No script, no inline style, nothing from elsewhere; the page may not be framed.
CONTENT_SECURITY_POLICY: Final = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS: Final = (
    ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "no-referrer"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
    ("Cross-Origin-Resource-Policy", "same-origin"),
)
#: The longest query string read, in characters.
MAX_QUERY: Final = 4096
#: The most parameters a query string or form may have.
MAX_FIELDS: Final = 16
#: The largest login form read, in bytes.
MAX_FORM_BYTES: Final = 4096
#: The session cookie's name, and how long it lasts (a working day).
COOKIE: Final = "minivoice_support"
SESSION_SECONDS: Final = 12 * 3600
_TOKEN: Final = re.compile(r"[!-~]+")
#: A path within the application to go back to after signing in (what ``Request.here``
#: makes): a path and an encoded query, nothing that could leave the site.
_LOCAL_TARGET: Final = re.compile(r"/(?![/\\])[A-Za-z0-9/._~%?&=+-]*")


class HttpError(Exception):
    """A request the page refuses: its status and a message for the client."""

    def __init__(
        self, status: int, message: str, *, headers: tuple[tuple[str, str], ...] = ()
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers


@frozen
class Response:
    """A whole response: the security headers are added to every one."""

    status: int
    content_type: str
    body: bytes
    headers: tuple[tuple[str, str], ...] = ()
    cache: str = "no-store"

    def send(self, start_response: StartResponse) -> list[bytes]:
        headers = [
            ("Content-Type", self.content_type),
            ("Content-Length", str(len(self.body))),
            ("Cache-Control", self.cache),
            ("Vary", "Accept, Authorization, Cookie"),
            *SECURITY_HEADERS,
            *self.headers,
        ]
        start_response(f"{self.status} {HTTPStatus(self.status).phrase}", headers)
        return [self.body]


def redirect(location: str, *headers: tuple[str, str]) -> Response:
    """303 See Other to a path of this application (``location`` is ASCII, made here)."""
    return Response(303, "text/plain; charset=utf-8", b"", (("Location", location), *headers))


@frozen
class Request:
    """A request as the pages see it: the method, the path within the application, the
    parameters (each once), where the application is mounted, and the format asked for."""

    method: str
    path: str
    params: Mapping[str, str]
    base: str
    json: bool
    environ: Mapping[str, Any]

    def url(self, path: str, **params: object) -> str:
        """A link to ``path`` of this application; parameters that are None are left out."""
        given = {name: str(value) for name, value in params.items() if value is not None}
        return self.base + path + (f"?{urlencode(given)}" if given else "")

    def here(self, **changes: object) -> str:
        """This page's own path and parameters (within the application), with ``changes``."""
        merged: dict[str, object] = {**self.params, **changes}
        given = {name: str(value) for name, value in merged.items() if value is not None}
        return self.path + (f"?{urlencode(given)}" if given else "")


def read_request(environ: Mapping[str, Any]) -> Request:
    """The request, with its query string read strictly (``HttpError`` 400 if it cannot be)."""
    params = query_parameters(environ)
    chosen = params.get("format")
    if chosen not in (None, "html", "json"):
        raise HttpError(400, f"format must be html or json; got {shown(chosen or '')}")
    json_wanted = chosen == "json" or (chosen is None and accepts_json(environ))
    return Request(
        method=str(environ.get("REQUEST_METHOD") or "GET").upper(),
        path=str(environ.get("PATH_INFO") or "/"),
        params=params,
        base=str(environ.get("SCRIPT_NAME") or "").rstrip("/"),
        json=json_wanted,
        environ=environ,
    )


def wants_json(environ: Mapping[str, Any]) -> bool:
    """Whether an error should be answered as JSON, from what can be read of the request."""
    try:
        return read_request(environ).json
    except HttpError:
        return accepts_json(environ)


def accepts_json(environ: Mapping[str, Any]) -> bool:
    """True when the Accept header lists application/json before (or without) text/html."""
    accept = str(environ.get("HTTP_ACCEPT") or "").lower()
    kinds = [part.split(";")[0].strip() for part in accept.split(",")]
    if "application/json" not in kinds:
        return False
    return "text/html" not in kinds or kinds.index("application/json") < kinds.index("text/html")


def query_parameters(environ: Mapping[str, Any]) -> dict[str, str]:
    raw = str(environ.get("QUERY_STRING") or "")
    if len(raw) > MAX_QUERY:
        raise HttpError(400, f"the query string may be at most {MAX_QUERY} characters")
    try:
        text = raw.encode("latin-1").decode("utf-8")
    except UnicodeError:
        raise HttpError(400, "the query string must be UTF-8") from None
    return _fields(text, "the query string")


def read_form(environ: Mapping[str, Any]) -> dict[str, str]:
    """A small urlencoded form body, read exactly to its Content-Length."""
    kind = str(environ.get("CONTENT_TYPE") or "").split(";")[0].strip().lower()
    if kind != "application/x-www-form-urlencoded":
        raise HttpError(415, "send the form as application/x-www-form-urlencoded")
    declared = str(environ.get("CONTENT_LENGTH") or "")
    if not declared:
        raise HttpError(411, "send the form with a Content-Length")
    if not (declared.isascii() and declared.isdigit()):
        raise HttpError(400, f"Content-Length must be a number of bytes; got {shown(declared)}")
    length = int(declared)
    if length > MAX_FORM_BYTES:
        raise HttpError(413, f"the form may be at most {MAX_FORM_BYTES} bytes; got {length}")
    data = environ["wsgi.input"].read(length)
    if len(data) != length:
        raise HttpError(400, f"the form ended after {len(data)} of its {length} bytes")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise HttpError(400, "the form must be UTF-8") from None
    return _fields(text, "the form")


def _fields(text: str, where: str) -> dict[str, str]:
    try:
        pairs = parse_qsl(
            text,
            keep_blank_values=True,
            encoding="utf-8",
            errors="strict",
            max_num_fields=MAX_FIELDS,
        )
    except UnicodeDecodeError:
        raise HttpError(400, f"{where} must be percent-encoded UTF-8") from None
    except ValueError:
        raise HttpError(400, f"{where} may have at most {MAX_FIELDS} fields") from None
    fields: dict[str, str] = {}
    for name, value in pairs:
        if name in fields:
            raise HttpError(400, f"{shown(name)} is given twice in {where}")
        fields[name] = value
    return fields


def only(params: Mapping[str, str], allowed: Collection[str]) -> None:
    """Every parameter is one the page takes, or a 400 names the first that is not."""
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        takes = ", ".join(sorted(allowed)) or "no parameters"
        raise HttpError(400, f"unknown parameter {shown(unknown[0])}; this page takes {takes}")


def whole(
    params: Mapping[str, str], name: str, *, least: int, most: int, default: int | None
) -> int | None:
    """A whole-number parameter in ``least..most``; ``default`` when absent or empty."""
    value = params.get(name, "")
    if value == "":
        return default
    digits = value.isascii() and value.isdigit() and len(value.lstrip("0")) <= len(str(most))
    if not digits or not least <= int(value) <= most:
        rule = f"a whole number from {least} to {most}"
        raise HttpError(400, f"{name} must be {rule}; got {shown(value)}")
    return int(value)


def shown(value: str, width: int = 60) -> str:
    """A value from the request, quoted and cut short, for an error message."""
    quoted = repr(value)
    return quoted if len(quoted) <= width else f"{quoted[: width - 4]}...'"


def local_target(target: str | None, fallback: str) -> str:
    """``target`` if it is a path within this application, else ``fallback``."""
    if target is not None and _LOCAL_TARGET.fullmatch(target):
        return target
    return fallback


class Gate:
    """Who may read the journal: with a token, whoever presents it (bearer header or session
    cookie); without one, only a client on loopback that addresses the server by a loopback
    name, so that a page on another site cannot reach it through DNS rebinding."""

    def __init__(self, token: str | None) -> None:
        if token is not None:
            check_token(token)
        self._token = None if token is None else token.encode("ascii")
        self._session = (
            None
            if self._token is None
            else hmac.new(self._token, b"minivoice-flow support session", hashlib.sha256)
            .hexdigest()
            .encode("ascii")
        )

    @property
    def has_token(self) -> bool:
        return self._token is not None

    def admits(self, environ: Mapping[str, Any]) -> bool:
        if self._token is None:
            return _on_loopback(environ)
        return self._bearer(environ) or self.signed_in(environ)

    def signed_in(self, environ: Mapping[str, Any]) -> bool:
        """True when the request carries the session cookie the login form sets."""
        if self._session is None:
            return False
        for part in str(environ.get("HTTP_COOKIE") or "").split(";"):
            name, _, value = part.strip().partition("=")
            if name == COOKIE and hmac.compare_digest(_latin(value.strip()), self._session):
                return True
        return False

    def accepts(self, given: str) -> bool:
        """True when ``given`` is the token (compared in constant time)."""
        if self._token is None:
            return False
        return hmac.compare_digest(given.encode("utf-8", "replace"), self._token)

    def session_cookie(self, path: str, *, secure: bool) -> str:
        """The Set-Cookie value that signs a browser in."""
        assert self._session is not None
        value = self._session.decode("ascii")
        return _cookie(f"{COOKIE}={value}; Max-Age={SESSION_SECONDS}", path, secure)

    def signed_out_cookie(self, path: str, *, secure: bool) -> str:
        return _cookie(f"{COOKIE}=; Max-Age=0", path, secure)

    def _bearer(self, environ: Mapping[str, Any]) -> bool:
        scheme, _, credentials = str(environ.get("HTTP_AUTHORIZATION") or "").strip().partition(" ")
        if scheme.lower() != "bearer" or self._token is None:
            return False
        return hmac.compare_digest(_latin(credentials.strip()), self._token)


def check_token(token: object) -> None:
    """A token is visible ASCII (no spaces), at least MIN_TOKEN_LENGTH characters."""
    if not isinstance(token, str) or not _TOKEN.fullmatch(token) or len(token) < MIN_TOKEN_LENGTH:
        got = f"{len(token)} characters" if isinstance(token, str) else type(token).__name__
        raise ValueError(
            f"token must be at least {MIN_TOKEN_LENGTH} characters of visible ASCII with no "
            f"spaces (got {got}); make one with: python -c 'import secrets; "
            "print(secrets.token_urlsafe())'"
        )


def _cookie(value: str, path: str, secure: bool) -> str:
    return f"{value}; Path={path or '/'}; HttpOnly; SameSite=Strict" + (
        "; Secure" if secure else ""
    )


def _latin(text: str) -> bytes:
    # WSGI gives header values as latin-1 text: this is the bytes that were sent.
    return text.encode("latin-1", "replace")


def _on_loopback(environ: Mapping[str, Any]) -> bool:
    if not is_loopback(str(environ.get("REMOTE_ADDR") or "")):
        return False
    host = environ.get("HTTP_HOST")
    return host is None or is_loopback(_host_name(str(host)))


def _host_name(host: str) -> str:
    """The name of a Host header, without its port (``[::1]:8080`` -> ``[::1]``)."""
    if host.startswith("["):
        end = host.find("]")
        return host[: end + 1] if end >= 0 else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


#: A page of the application: reads the request, returns the response.
Handler = Callable[[Request], Response]
