"""The library's one cattrs converter (never the global one): made by one factory, once.

It reads webhooks and action requests into their classes (strict where JSON is typed, wire
names such as ``from``, unknown keys kept in ``extra``, every problem found and flattened to a
diagnostic with its JSON pointer), and writes the journal's records and the webhook classes
back as plain JSON-ready data (times in ISO 8601, a webhook's with ``Z`` for UTC as MiniVoice
writes them; bytes in base64).

The core never uses it: building, serialising, validating and parsing a flow do not import
cattrs. It is made on first use, by whatever needs it first.
"""

from __future__ import annotations

import base64
import functools
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from typing import Any, Final, TypeVar

import attrs
import cattrs
from cattrs.cols import is_mapping, mapping_structure_factory
from cattrs.errors import ClassValidationError, IterableValidationError
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from minivoice_flow._codes import diagnostic
from minivoice_flow._diagnostics import Diagnostic
from minivoice_flow._fields import describe
from minivoice_flow._json import token

T = TypeVar("T")

TIMESTAMP_RULE: Final = "an ISO 8601 timestamp with a time zone, like 2026-05-29T12:10:00Z"


def make_converter() -> cattrs.Converter:
    """The converter, configured: every hook the library's classes need."""
    from minivoice_flow import webhooks  # the classes it reads; they import this module

    converter = cattrs.Converter(detailed_validation=True)
    converter.register_structure_hook(str, _string)
    converter.register_structure_hook_func(lambda t: t == webhooks.NonEmptyStr, _non_empty_string)
    converter.register_structure_hook(datetime, _timestamp)
    converter.register_unstructure_hook(datetime, datetime.isoformat)
    converter.register_unstructure_hook(bytes, lambda raw: base64.b64encode(raw).decode())
    converter.register_structure_hook_factory(is_mapping, _mappings)
    converter.register_unstructure_hook_factory(_has_wire_names, _with_wire_names)
    _register_object(converter, webhooks.Call, from_="from")
    # A webhook writes its time as MiniVoice does, with Z for UTC.
    _register_object(converter, webhooks.Webhook, created_at=override(unstruct_hook=timestamp_text))
    _register_object(converter, webhooks.FlowRequest)
    return converter


@functools.cache
def converter() -> cattrs.Converter:
    """The library's converter, made once."""
    return make_converter()


def unstructure(obj: object) -> Any:
    """``obj`` as plain JSON-ready data."""
    return converter().unstructure(obj)


class StructureError(Exception):
    """Data that does not fit the class asked for; ``diagnostics`` holds every problem."""

    def __init__(self, diagnostics: tuple[Diagnostic, ...]) -> None:
        super().__init__(diagnostics)
        self.diagnostics = diagnostics


def structure(data: Mapping[str, Any], cls: type[T], wire_names: Mapping[str, str]) -> T:
    """``data`` as a ``cls``; raises ``StructureError`` with every problem, located by pointer.

    ``wire_names`` maps attribute names to the keys the wire uses, for the pointers.
    """
    try:
        return converter().structure(data, cls)
    except (ClassValidationError, IterableValidationError, Invalid) as error:
        raise StructureError(tuple(_flatten(error, (), wire_names))) from None


def timestamp_text(moment: datetime) -> str:
    """ISO 8601, with ``Z`` for UTC as MiniVoice writes it."""
    text = moment.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


class Invalid(ValueError):
    """Raised by a structure hook: a value of the wrong type or form (becomes a diagnostic)."""

    def __init__(self, code: str, rule: str, value: object, why: str = "") -> None:
        super().__init__(rule)
        self.code = code
        self.rule = rule
        self.value = value
        self.why = why


# Flattening cattrs' grouped errors into diagnostics. cattrs attaches a note to each nested
# error naming the attribute or key it was structuring; the notes make the path.


def _flatten(
    error: BaseException, path: tuple[str, ...], names: Mapping[str, str]
) -> Iterator[Diagnostic]:
    if isinstance(error, (ClassValidationError, IterableValidationError)):
        with_notes, without = error.group_exceptions()
        for inner, note in with_notes:
            if isinstance(error, ClassValidationError):
                name = getattr(note, "name", "")
                step = names.get(name, name)
            else:
                step = str(getattr(note, "index", ""))
            yield from _flatten_one(inner, (*path, step), getattr(note, "type", None), names)
        for inner in without:
            yield from _flatten(inner, path, names)
    else:
        yield from _flatten_one(error, path, None, names)


def _flatten_one(
    error: BaseException, path: tuple[str, ...], kind: Any, names: Mapping[str, str]
) -> Iterator[Diagnostic]:
    if isinstance(error, (ClassValidationError, IterableValidationError)):
        yield from _flatten(error, path, names)
        return
    pointer = "".join("/" + token(step) for step in path)
    where = ".".join(path) or "the payload"
    if isinstance(error, KeyError):
        message = f"{where} is missing; it must be {_allowed(kind)}"
        yield diagnostic("missing_field", pointer, message)
    elif isinstance(error, Invalid):
        message = f"{where} must be {error.rule}; got {describe(error.value)}{error.why}"
        yield diagnostic(error.code, pointer, message)
    else:  # not expected from our hooks; still reported where it stands
        yield diagnostic("invalid_value", pointer, f"{where} cannot be read: {error}")


def _allowed(kind: Any) -> str:
    from minivoice_flow import webhooks

    words: dict[Any, str] = {
        str: "a string",
        webhooks.NonEmptyStr: "a non-empty string",
        datetime: TIMESTAMP_RULE,
        webhooks.Call: "an object describing the call",
    }
    return words.get(kind, "given")


# Structure hooks: strict where JSON is typed (no str(42) == "42"), lenient on unknown keys.


def _string(value: object, _: object) -> str:
    if not isinstance(value, str):
        raise Invalid("invalid_type", "a string", value)
    return value


def _non_empty_string(value: object, _: object) -> str:
    if not isinstance(value, str):
        raise Invalid("invalid_type", "a non-empty string", value)
    if not value:
        raise Invalid("invalid_value", "a non-empty string", value)
    return value


def _timestamp(value: object, _: object) -> datetime:
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise Invalid("invalid_value", TIMESTAMP_RULE, value) from None
    else:
        raise Invalid("invalid_type", TIMESTAMP_RULE, value)
    if moment.utcoffset() is None:
        raise Invalid("invalid_value", TIMESTAMP_RULE, value, ", which has no time zone")
    return moment


def _mappings(kind: Any, converter: cattrs.Converter) -> Callable[[object, object], Any]:
    """Hook factory for ``Mapping[str, X]`` fields: an object first, then cattrs' own hook."""
    structure_items = mapping_structure_factory(kind, converter)

    def structure(value: object, _: object) -> Any:
        if not isinstance(value, Mapping):
            raise Invalid("invalid_type", "an object", value)
        return structure_items(value, kind)

    return structure


def _has_wire_names(cls: Any) -> bool:
    """An attrs class with a field named for a Python keyword (``from_``)."""
    return attrs.has(cls) and any(a.name.endswith("_") for a in attrs.fields(cls))


def _with_wire_names(cls: Any, converter: cattrs.Converter) -> Callable[[Any], dict[str, Any]]:
    """Unstructure with each such field under its wire name (``from``)."""
    renames = {
        a.name: override(rename=a.name[:-1]) for a in attrs.fields(cls) if a.name.endswith("_")
    }
    return make_dict_unstructure_fn(cls, converter, **renames)  # type: ignore[arg-type]


def _register_object(converter: cattrs.Converter, cls: type[Any], **renames: Any) -> None:
    """Hooks for a payload class: wire names (or other overrides), unknown keys kept in
    ``extra``, a clear error when the value is not an object at all."""
    overrides = {
        name: override(rename=wire) if isinstance(wire, str) else wire
        for name, wire in renames.items()
    }
    structure_fields = make_dict_structure_fn(cls, converter, **overrides)  # type: ignore[arg-type]
    unstructure_fields = make_dict_unstructure_fn(
        cls,
        converter,
        extra=override(omit=True),
        **overrides,  # type: ignore[arg-type]
    )
    known = frozenset(
        (overrides[a.name].rename or a.name) if a.name in overrides else a.name
        for a in cls.__attrs_attrs__
        if a.name != "extra"
    )

    def structure(value: object, _: object) -> Any:
        if not isinstance(value, Mapping):
            raise Invalid("invalid_type", "an object", value)
        for key in value:
            if not isinstance(key, str):
                raise Invalid("invalid_value", "an object whose keys are strings", key)
        extra = {k: v for k, v in value.items() if k not in known}
        return structure_fields({**value, "extra": extra}, cls)

    def unstructure(obj: Any) -> dict[str, Any]:
        data = unstructure_fields(obj)
        data.update((k, v) for k, v in obj.extra.items() if k not in data)
        return data

    converter.register_structure_hook(cls, structure)
    converter.register_unstructure_hook(cls, unstructure)
