"""The ``.pyi`` stub of the public API, so every change to the public surface shows in a diff.

The action classes and ``Flow``'s builder methods are generated from the catalogue (the
runtime builds the methods from the classes; the stub spells each signature out). The rest of
the public surface is written in the template; ``mypy.stubtest`` proves the whole stub matches
the package. Needs jinja2.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from minivoice_flow import __all__ as PUBLIC_NAMES
from minivoice_flow._actions import CATALOGUE, ActionInfo
from minivoice_flow._generate import STAMP
from minivoice_flow._generate.signatures import builder_parameters, definition

STUB_PATH: Final = "stubs/minivoice_flow/__init__.pyi"


def stub_files(
    catalogue: Iterable[ActionInfo] = CATALOGUE, public_names: Iterable[str] = PUBLIC_NAMES
) -> dict[str, str]:
    """``{path: text}`` of the stub of ``minivoice_flow``."""
    from minivoice_flow._generate.docs import environment  # one jinja2 set-up for both

    actions = tuple(catalogue)
    text = (
        environment()
        .get_template("stubs/__init__.pyi.j2")
        .render(
            stamp=f"# {STAMP}",
            actions=actions,
            public_names=sorted(public_names),
            init={info.kind: _definition("__init__", info, "None") for info in actions},
            builder={info.kind: _definition(info.kind, info, "Flow") for info in actions},
            match_args={info.kind: _match_args(info) for info in actions},
        )
    )
    return {STUB_PATH: text.rstrip("\n") + "\n"}


def _match_args(info: ActionInfo) -> str:
    """``__match_args__`` as attrs makes it: the positional (required) fields."""
    return repr(tuple(f.name for f in info.fields if f.required)).replace("'", '"')


def _definition(name: str, info: ActionInfo, returns: str) -> str:
    return definition(name, ["self", *builder_parameters(info)], returns)
