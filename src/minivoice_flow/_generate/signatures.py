"""Builder signatures as text, from the catalogue: shared by the docs and the stubs."""

from __future__ import annotations

from typing import Final

from minivoice_flow._actions import ActionInfo, FieldInfo

_WIDTH: Final = 99


def builder_parameters(info: ActionInfo, *, typed: bool = True) -> list[str]:
    """The parameters of ``Flow.<kind>`` after ``self``: required ones positional, the rest
    keyword-only with ``None`` meaning "leave it out of the JSON"."""
    required = [_parameter(f, typed) for f in info.fields if f.required]
    optional = [_parameter(f, typed) for f in info.fields if not f.required]
    return [*required, "*", *optional] if optional else required


def builder_signature(info: ActionInfo) -> str:
    """``Flow.send_digits(digits: str, *, pause_before_ms: int | None = None) -> Flow``."""
    return f"Flow.{info.kind}({', '.join(builder_parameters(info))}) -> Flow"


def definition(name: str, parameters: list[str], returns: str, *, indent: str = "    ") -> str:
    """A stub ``def`` line, wrapped one parameter per line when it is too long to read."""
    line = f"{indent}def {name}({', '.join(parameters)}) -> {returns}: ..."
    if len(line) <= _WIDTH:
        return line
    inner = "".join(f"{indent}    {p},\n" for p in parameters)
    return f"{indent}def {name}(\n{inner}{indent}) -> {returns}: ..."


def _parameter(field: FieldInfo, typed: bool) -> str:
    text = f"{field.name}: {field.annotation}" if typed else field.name
    if not field.required:
        text += " = None"
    return text
