"""The library's own cattrs converter (never the global one), configured once, made on first use.

Building a converter and its hooks generates code, so it is deferred until something needs
it (``Flow.to_dict()``, ``parse()``, the journal's ``to_dict()``): a handler that only calls
``to_json()`` never pays.
"""

from __future__ import annotations

import base64
import functools
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import cattrs

from minivoice_flow._actions import Action


def make_converter() -> cattrs.Converter:
    """The converter: unset optional fields of the action IR (None) are left out; times are
    written in ISO 8601 and bytes in base64, so what it gives is ready for JSON."""
    converter = cattrs.Converter(omit_if_default=True)
    converter.register_unstructure_hook(datetime, datetime.isoformat)
    converter.register_unstructure_hook(bytes, lambda raw: base64.b64encode(raw).decode())
    return converter


@functools.cache
def converter() -> cattrs.Converter:
    """The library's converter, made once."""
    return make_converter()


_UNSTRUCTURE_HOOKS: dict[type[Any], Callable[[Any], dict[str, Any]]] = {}


def action_fields(action: Action) -> dict[str, Any]:
    """The set fields of an action, in definition order, as JSON-ready values."""
    cls = type(action)
    hook = _UNSTRUCTURE_HOOKS.get(cls)
    if hook is None:
        hook = _UNSTRUCTURE_HOOKS[cls] = converter().get_unstructure_hook(cls)
    return hook(action)


def unstructure(obj: object) -> Any:
    """``obj`` as plain data, ready for JSON."""
    return converter().unstructure(obj)


def structure_action(cls: type[Action], fields: Mapping[str, Any]) -> Action:
    """Build an action from its (already validated) fields."""
    return converter().structure(fields, cls)
