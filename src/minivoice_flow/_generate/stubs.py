"""The ``.pyi`` stubs of every public module, so every change to the public surface shows in a
diff.

Each public module has a template in ``templates/stubs/`` at the stub's own path
(``journal.pyi.j2`` for ``stubs/minivoice_flow/journal.pyi``). A template lays the module out
and writes its imports; ``define(name)`` (``_generate.definitions``) writes each public name
from the running object. In ``minivoice_flow`` itself the action classes and ``Flow``'s builder
methods come from the catalogue instead (the runtime builds the methods from the classes; the
stub spells each signature out). ``mypy.stubtest`` proves the stubs match the package. Needs
jinja2.
"""

from __future__ import annotations

import re
import types
from collections.abc import Iterable
from typing import Final

import jinja2

import minivoice_flow
from minivoice_flow import __all__ as PUBLIC_NAMES
from minivoice_flow._actions import CATALOGUE, ActionInfo
from minivoice_flow._generate import STAMP
from minivoice_flow._generate.definitions import ModuleStub, exports, public_modules
from minivoice_flow._generate.docs import GenerationError, environment
from minivoice_flow._generate.signatures import builder_parameters, definition

STUB_PATH: Final = "stubs/minivoice_flow/__init__.pyi"


def stub_files(
    catalogue: Iterable[ActionInfo] = CATALOGUE, public_names: Iterable[str] = PUBLIC_NAMES
) -> dict[str, str]:
    """``{path: text}`` of the stub of every public module of ``minivoice_flow``."""
    env = environment()
    modules = public_modules(minivoice_flow)
    exported = exports(modules)
    files = {}
    for module in modules:
        stub = ModuleStub(module, exported)
        context = {"stamp": f"# {STAMP}", "define": stub.define, "all": stub.all()}
        if module is minivoice_flow:
            context.update(_catalogue_context(catalogue, public_names))
        path, template = stub_path(module), _template(env, module)
        text = template.render(**context)
        files[path] = re.sub(r"\n{3,}", "\n\n", text).rstrip("\n") + "\n"
    return files


def stub_path(module: types.ModuleType) -> str:
    """``stubs/minivoice_flow/journal.pyi``, or ``.../testing/__init__.pyi`` for a package."""
    parts = module.__name__.split(".")
    if hasattr(module, "__path__"):
        parts.append("__init__")
    return "stubs/" + "/".join(parts) + ".pyi"


def _template(env: jinja2.Environment, module: types.ModuleType) -> jinja2.Template:
    name = stub_path(module).replace("stubs/minivoice_flow/", "stubs/", 1) + ".j2"
    try:
        return env.get_template(name)
    except jinja2.TemplateNotFound:
        raise GenerationError(
            f"{module.__name__} is a public module with no stub template: add "
            f"src/minivoice_flow/_generate/templates/{name}"
        ) from None


def _catalogue_context(
    catalogue: Iterable[ActionInfo], public_names: Iterable[str]
) -> dict[str, object]:
    """What the template of ``minivoice_flow`` reads from the catalogue."""
    actions = tuple(catalogue)
    return {
        "actions": actions,
        "public_names": sorted(public_names),
        "init": {info.kind: _definition("__init__", info, "None") for info in actions},
        "builder": {info.kind: _definition(info.kind, info, "Flow") for info in actions},
        "match_args": {info.kind: _match_args(info) for info in actions},
    }


def _match_args(info: ActionInfo) -> str:
    """``__match_args__`` as attrs makes it: the positional (required) fields."""
    return repr(tuple(f.name for f in info.fields if f.required)).replace("'", '"')


def _definition(name: str, info: ActionInfo, returns: str) -> str:
    return definition(name, ["self", *builder_parameters(info)], returns)
