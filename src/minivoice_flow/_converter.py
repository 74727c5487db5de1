"""The library's own cattrs converter (never the global one), configured once."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final

import cattrs

from minivoice_flow._actions import ACTION_TYPES, Action


def make_converter() -> cattrs.Converter:
    """A converter for the action IR: unset optional fields (None) are left out."""
    return cattrs.Converter(omit_if_default=True)


CONVERTER: Final = make_converter()

# The converter's hook for each action class, fetched once: the request path calls these.
_UNSTRUCTURE: Final[dict[type[Any], Callable[[Any], dict[str, Any]]]] = {
    cls: CONVERTER.get_unstructure_hook(cls) for cls in ACTION_TYPES
}


def action_fields(action: Action) -> dict[str, Any]:
    """The set fields of an action, in definition order, as JSON-ready values."""
    return _UNSTRUCTURE[type(action)](action)


def structure_action(cls: type[Action], fields: Mapping[str, Any]) -> Action:
    """Build an action from its (already validated) fields."""
    return CONVERTER.structure(fields, cls)
