"""The wire format: action IR to the answer_url JSON payload."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from minivoice_flow._actions import Action
from minivoice_flow._converter import action_fields


def payload_dict(actions: Iterable[Action]) -> dict[str, Any]:
    """``{"actions": [{"<kind>": {<set fields>}}, ...]}`` as plain data."""
    return {"actions": [{action.kind: action_fields(action)} for action in actions]}


def encode(payload: dict[str, Any], indent: int | None) -> str:
    """JSON text: compact by default; ``NaN`` can never be written."""
    if indent is None:
        return json.dumps(payload, separators=(",", ":"), allow_nan=False)
    return json.dumps(payload, indent=indent, allow_nan=False)
