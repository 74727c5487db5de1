"""The library's own cattrs converter (never the global one), configured once, made on first use.

Building a converter and its hooks generates code, so it is deferred until something needs
it (``Flow.to_dict()``, ``parse()``): a handler that only calls ``to_json()`` never pays.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any

import cattrs

from minivoice_flow._actions import Action


def make_converter() -> cattrs.Converter:
    """A converter for the action IR: unset optional fields (None) are left out."""
    return cattrs.Converter(omit_if_default=True)


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


def structure_action(cls: type[Action], fields: Mapping[str, Any]) -> Action:
    """Build an action from its (already validated) fields."""
    return converter().structure(fields, cls)
