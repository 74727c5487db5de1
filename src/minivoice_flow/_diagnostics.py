"""Diagnostics are data (code, severity, JSON pointer, message); exceptions carry them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Final, Literal

import attrs
from attrs import frozen

Severity = Literal["error", "warning"]

#: The error shape MiniVoice itself uses when it rejects an answer_url response.
PAYLOAD_ERROR_CODE: Final = "answer_url_error"
PAYLOAD_ERROR_MESSAGE: Final = "invalid action payload"


def fields_repr(self: object) -> str:
    """``Name(field=value, ...)`` of an attrs instance, as attrs writes it. For the classes
    made at import with repr=False: attrs would write and compile a ``__repr__`` for each,
    which costs about as much as the rest of the class."""
    fields = attrs.fields(type(self))  # type: ignore[arg-type]
    shown = ", ".join(f"{a.name}={getattr(self, a.name)!r}" for a in fields)
    return f"{type(self).__name__}({shown})"


@frozen(repr=False)
class Diagnostic:
    """One problem found in a flow or a payload, located by a JSON pointer."""

    code: str
    severity: Severity
    path: str
    message: str

    @classmethod
    def error(cls, code: str, path: str, message: str) -> Diagnostic:
        return cls(code, "error", path, message)

    @classmethod
    def warning(cls, code: str, path: str, message: str) -> Diagnostic:
        return cls(code, "warning", path, message)

    def to_dict(self) -> dict[str, str]:
        """The diagnostic as plain JSON-ready data."""
        return {
            "code": self.code,
            "severity": self.severity,
            "path": self.path,
            "message": self.message,
        }

    __repr__ = fields_repr

    def __str__(self) -> str:
        return f"{self.severity} {self.code} at {self.path or '(document)'}: {self.message}"


@frozen(repr=False)
class Report:
    """Every diagnostic of a flow or payload, in document order."""

    diagnostics: tuple[Diagnostic, ...] = ()

    __repr__ = fields_repr

    @property
    def ok(self) -> bool:
        """True when nothing is an error (warnings allowed)."""
        return not any(d.severity == "error" for d in self.diagnostics)

    @property
    def errors(self) -> tuple[Diagnostic, ...]:
        return tuple(d for d in self.diagnostics if d.severity == "error")

    @property
    def warnings(self) -> tuple[Diagnostic, ...]:
        return tuple(d for d in self.diagnostics if d.severity == "warning")

    @property
    def codes(self) -> tuple[str, ...]:
        """The codes of every diagnostic, in order: handy in tests and logs."""
        return tuple(d.code for d in self.diagnostics)

    def passes(self, *, strict: bool = False) -> bool:
        """Whether the flow may be emitted: no errors, and no warnings either if ``strict``."""
        if not self.diagnostics:  # the usual case, answered without looking further
            return True
        return False if strict else self.ok

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "diagnostics": [d.to_dict() for d in self.diagnostics]}


_EMPTY_REPORT: Final = Report()


def report_of(diagnostics: Sequence[Diagnostic]) -> Report:
    """A Report of ``diagnostics``; the clean one is shared, as most reports are clean."""
    return Report(tuple(diagnostics)) if diagnostics else _EMPTY_REPORT


class DiagnosticError(ValueError):
    """The base of the library's errors that carry their problems as diagnostics.

    ``FlowError`` (and so ``FlowValidationError``) and ``webhooks.WebhookError`` share it:
    ``diagnostics`` holds the problems as data, ``code`` and ``path`` name the first one, and
    ``subject`` (when given) says what was read: ``"payload"``, ``"webhook"``...
    """

    def __init__(
        self, message: str, diagnostics: Iterable[Diagnostic] = (), *, subject: str | None = None
    ) -> None:
        found = tuple(diagnostics)
        if subject is not None:  # the headline, then one line per diagnostic
            message = "\n".join([f"{message}:", *(f"  {d}" for d in found)])
        super().__init__(message)
        self.diagnostics: tuple[Diagnostic, ...] = found
        self.subject = subject

    def __reduce__(self) -> tuple[Any, ...]:
        # Rebuilt without calling __init__ (whose arguments differ between subclasses).
        return (_restore, (type(self), self.args), self.__dict__)

    @property
    def code(self) -> str | None:
        """The code of the first diagnostic, if any."""
        return self.diagnostics[0].code if self.diagnostics else None

    @property
    def path(self) -> str | None:
        """The JSON pointer of the first diagnostic, if any."""
        return self.diagnostics[0].path if self.diagnostics else None


def _restore(cls: type[DiagnosticError], args: tuple[Any, ...]) -> DiagnosticError:
    error = cls.__new__(cls)
    error.args = args
    return error


class FlowError(DiagnosticError):
    """A value or flow the platform would reject.

    Raised by a builder call for the field it set, and (as ``FlowValidationError``) when a flow
    or payload breaks the rules. ``diagnostics`` holds the problems as data.
    """

    def to_payload(self) -> dict[str, Any]:
        """MiniVoice's error shape, with our diagnostics under ``details``."""
        return {
            "error": {
                "code": PAYLOAD_ERROR_CODE,
                "message": PAYLOAD_ERROR_MESSAGE,
                "details": [d.to_dict() for d in self.diagnostics],
            }
        }


class FlowValidationError(FlowError):
    """A flow or payload with errors (or, in strict mode, warnings); carries all of them."""

    subject: str

    def __init__(self, diagnostics: Iterable[Diagnostic], *, subject: str = "flow") -> None:
        found = tuple(diagnostics)
        errors = sum(d.severity == "error" for d in found)
        counts = f"{_plural(errors, 'error')}, {_plural(len(found) - errors, 'warning')}"
        super().__init__(f"{subject} is not valid ({counts})", found, subject=subject)

    @property
    def report(self) -> Report:
        return Report(self.diagnostics)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"
