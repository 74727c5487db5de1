"""Builder signatures as text, from the catalogue: shared by the docs and the stubs."""

from __future__ import annotations

from typing import Final

from minivoice_flow._actions import ActionInfo, FieldInfo

_WIDTH: Final = 99


def builder_parameters(info: ActionInfo) -> list[str]:
    """The parameters of ``Flow.<kind>`` after ``self``: required ones positional, the rest
    keyword-only with ``None`` meaning "leave it out of the JSON"."""
    required = [_parameter(f) for f in info.fields if f.required]
    optional = [_parameter(f) for f in info.fields if not f.required]
    return [*required, "*", *optional] if optional else required


def builder_signature(info: ActionInfo) -> str:
    """``Flow.send_digits(digits: str, *, pause_before_ms: int | None = None) -> Flow``."""
    return f"Flow.{info.kind}({', '.join(builder_parameters(info))}) -> Flow"


def definition(name: str, parameters: list[str], returns: str, *, indent: str = "    ") -> str:
    """A stub ``def`` line, wrapped one parameter per line when it is too long to read."""
    return wrapped(f"def {name}", parameters, f" -> {returns}: ...", indent=indent)


def wrapped(
    head: str,
    items: list[str],
    tail: str,
    *,
    indent: str = "",
    width: int = _WIDTH,
    brackets: str = "()",
) -> str:
    """``head(items)tail`` on one line, or one item per line (as black lays it out) if too long."""
    opening, closing = brackets[0], brackets[1]
    line = f"{indent}{head}{opening}{', '.join(items)}{closing}{tail}"
    if len(line) <= width:
        return line
    inner = "".join(f"{indent}    {item},\n" for item in items)
    return f"{indent}{head}{opening}\n{inner}{indent}{closing}{tail}"


def _parameter(field: FieldInfo) -> str:
    text = f"{field.name}: {field.annotation}"
    if not field.required:
        text += " = None"
    return text
