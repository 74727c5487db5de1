"""Stub definitions of a module's public objects, read from the running package.

Each stub template lays its module out (imports, order, comments) and calls ``define(name)``
for the names of the module's ``__all__``. The definition comes from the object itself:
signatures with their annotations as written in the source, attrs fields as read-only
properties next to the ``__init__`` attrs made, enum members, constants and type aliases. A
name that an annotation uses but the stub cannot import (a private helper, an alias that no
public module exports) is replaced by what it stands for, spelled out from the object.
Templates add only what the runtime cannot tell: attributes set in ``__init__`` and
decorators. mypy.stubtest then proves the stubs match the package.
"""

from __future__ import annotations

import ast
import builtins
import collections.abc
import enum
import importlib
import inspect
import json
import math
import pkgutil
import sys
import types
import typing
from collections.abc import Callable, Iterator, Mapping
from itertools import takewhile
from typing import Any, Final

import attrs

from minivoice_flow._generate.docs import GenerationError
from minivoice_flow._generate.signatures import definition, wrapped

INDENT: Final = "    "
_PACKAGE: Final = "minivoice_flow"
#: Dunder methods a stub leaves out even though ``object`` lacks them: pickling support.
_PICKLING: Final = frozenset({"__setstate__", "__getnewargs__", "__getnewargs_ex__"})
#: Modules whose names a stub imports as they are (``Any``, ``Mapping``, ``int``).
_STANDARD: Final = (typing, collections.abc, builtins)


def public_modules(package: types.ModuleType) -> list[types.ModuleType]:
    """The package and every module under it with no private part in its name, by name."""
    found = [package]
    for info in pkgutil.iter_modules(package.__path__, f"{package.__name__}."):
        if info.name.rpartition(".")[2].startswith("_"):
            continue
        try:
            module = importlib.import_module(info.name)
        except ImportError as error:  # the pytest plugin needs pytest, for one
            message = f"cannot import {info.name} to write its stub: {error}"
            if isinstance(error, ModuleNotFoundError):
                message += "; pip install 'minivoice-flow[generate]' installs what docs needs"
            raise GenerationError(message) from None
        found.extend(public_modules(module) if info.ispkg else [module])
    return sorted(found, key=lambda m: m.__name__)


def exports(modules: list[types.ModuleType]) -> dict[str, tuple[object, ...]]:
    """Every name in the ``__all__`` of ``modules``, with the objects exported under it."""
    found: dict[str, list[object]] = {}
    for module in modules:
        for name in module.__all__:
            objects = found.setdefault(name, [])
            value = getattr(module, name)
            if not any(value is known for known in objects):
                objects.append(value)
    return {name: tuple(objects) for name, objects in found.items()}


class ModuleStub:
    """What a stub template calls to define the public names of one module."""

    def __init__(
        self, module: types.ModuleType, exported: Mapping[str, tuple[object, ...]]
    ) -> None:
        self.module = module
        self._exported = exported
        #: The names this stub writes, and the one object each stands for.
        self._named: dict[str, object] = {}

    def all(self) -> str:
        """The module's ``__all__`` as it defines it."""
        items = [json.dumps(name) for name in self.module.__all__]
        return wrapped("__all__ = ", items, "", brackets="[]")

    def define(
        self,
        name: str,
        *,
        decorator: str | None = None,
        attributes: Mapping[str, str] | None = None,
        omit: tuple[str, ...] = (),
    ) -> str:
        """The stub of one public name: a class, a function, a type alias or a constant.

        ``decorator`` is written above a decorated function (which is read unwrapped);
        ``attributes`` gives the types of a class's attributes that only ``__init__`` sets;
        ``omit`` leaves out members the stub cannot express.
        """
        where = f"{self.module.__name__}.{name}"
        if name not in self.module.__all__:
            raise GenerationError(f"{where} is not in the module's __all__; stubs are public")
        value = getattr(self.module, name)
        if decorator is not None:
            return f"@{decorator}\n{self._function(name, inspect.unwrap(value), where)}"
        if isinstance(value, type):
            return self._class(value, attributes or {}, omit, where)
        if inspect.isfunction(value):
            return self._function(name, value, where)
        if _is_alias(value):
            return self._alias(name, value, where)
        return self._constant(name, value, where)

    # Module-level definitions.

    def _constant(self, name: str, value: object, where: str) -> str:
        if type(value) in (str, int, bool, float):
            return f"{name}: Final = {_default(value)}"
        annotation = vars(self.module).get("__annotations__", {}).get(name)
        if annotation is None:
            raise GenerationError(f"{where}: annotate it (Final[...]) so its stub says its type")
        return f"{name}: {self._annotation(annotation, self.module, where)}"

    def _alias(self, name: str, value: object, where: str) -> str:
        if typing.get_origin(value) is typing.Literal:
            items = [_literal(item, where) for item in typing.get_args(value)]
            return wrapped(f"{name}: TypeAlias = Literal", items, "", brackets="[]")
        return f"{name}: TypeAlias = {self._spell(value, where, defining=value)}"

    def _function(
        self,
        name: str,
        function: Callable[..., object],
        where: str,
        *,
        indent: str = "",
        method: bool = False,
    ) -> str:
        """A ``def`` line; a method's first parameter (self, cls) is left bare."""
        module = sys.modules[function.__module__]
        signature = inspect.signature(function)
        parameters = _parameters(
            signature,
            lambda p: self._annotation(p.annotation, module, f"{where}({p.name})"),
            bare_first=method,
        )
        returns = self._annotation(signature.return_annotation, module, f"{where} return")
        return definition(name, parameters, returns, indent=indent)

    # Classes.

    def _class(
        self, cls: type, attributes: Mapping[str, str], omit: tuple[str, ...], where: str
    ) -> str:
        if _is_special_class(cls):
            kinds = "a NamedTuple, Protocol or TypedDict"
            raise GenerationError(f"{where}: {kinds}; write it in the stub template by hand")
        bases = [b for b in cls.__bases__ if b is not object and not b.__name__.startswith("_")]
        shown = ", ".join(self._spell(base, where) for base in bases)
        lines = [f"class {cls.__name__}({shown}):" if bases else f"class {cls.__name__}:"]
        doc = _summary(cls)
        if doc:
            lines.append(f'{INDENT}"""{doc}"""')
        members = [f"{INDENT}{n}: {t}" for n, t in attributes.items()]
        members.extend(self._members(cls, set(attributes), omit, where))
        if doc and members:
            lines.append("")
        if not doc and not members:
            lines.append(f"{INDENT}...")
        return "\n".join([*lines, *members])

    def _members(
        self, cls: type, given: set[str], omit: tuple[str, ...], where: str
    ) -> Iterator[str]:
        """Every member of ``cls`` a user can reach, its private base classes' included."""
        module = sys.modules[cls.__module__]
        owners = [cls, *takewhile(_is_private_class, cls.__mro__[1:])]
        fields = {a.name: a for a in attrs.fields(cls)} if attrs.has(cls) else {}
        done = {*given, *omit, *fields}
        if issubclass(cls, enum.Enum):
            for member in cls:
                done.add(member.name)
                yield f"{INDENT}{member.name} = {_literal(member.value, where)}"
        for owner in owners:
            for name, annotation in vars(owner).get("__annotations__", {}).items():
                if name not in done and (_is_dunder(name) or not name.startswith("_")):
                    done.add(name)
                    text = self._annotation(annotation, sys.modules[owner.__module__], where)
                    yield f"{INDENT}{name}: {text}"
        if fields:
            yield from self._fields(cls, fields, module, where)
        for owner in owners:
            # __init__ first, next to the fields it takes; the other members as defined.
            members = sorted(vars(owner).items(), key=lambda item: item[0] != "__init__")
            for name, value in members:
                if name not in done and _is_member(name, value):
                    done.add(name)
                    yield self._member(name, value, f"{where}.{name}")

    def _fields(
        self,
        cls: type,
        fields: Mapping[str, attrs.Attribute[Any]],
        module: types.ModuleType,
        where: str,
    ) -> Iterator[str]:
        """What attrs adds: its bookkeeping, ``__match_args__`` and the fields themselves."""
        yield f"{INDENT}__attrs_attrs__: ClassVar[tuple[Attribute[Any], ...]]"
        if "__match_args__" in vars(cls):
            names = [json.dumps(name) for name in vars(cls)["__match_args__"]]
            if len(names) == 1:
                names[0] += ","
            yield wrapped("__match_args__ = ", names, "", indent=INDENT)
        frozen = getattr(cls.__setattr__, "__name__", "") == "_frozen_setattrs"
        for name, field in fields.items():
            if name.startswith("_"):
                continue
            text = self._annotation(_field_annotation(cls, field), module, f"{where}.{name}")
            if frozen:
                yield f"{INDENT}@property\n{INDENT}def {name}(self) -> {text}: ..."
            else:
                yield f"{INDENT}{name}: {text}"

    def _member(self, name: str, value: object, where: str) -> str:
        if isinstance(value, property):
            getter = value.fget
            if getter is None or value.fset is not None or value.fdel is not None:
                message = f"{where}: not a read-only property; write it in the template by hand"
                raise GenerationError(message)
            returns = inspect.signature(getter).return_annotation
            text = self._annotation(returns, sys.modules[getter.__module__], f"{where} return")
            return f"{INDENT}@property\n{INDENT}def {name}(self) -> {text}: ..."
        if isinstance(value, classmethod):
            method = self._function(name, value.__func__, where, indent=INDENT, method=True)
            return f"{INDENT}@classmethod\n{method}"
        if isinstance(value, staticmethod):
            function = self._function(name, value.__func__, where, indent=INDENT)
            return f"{INDENT}@staticmethod\n{function}"
        if inspect.isfunction(value):
            return self._function(name, value, where, indent=INDENT, method=True)
        raise GenerationError(
            f"{where}: cannot tell the type of this attribute; give it in the template with "
            f'define(..., attributes={{"{name}": "<type>"}})'
        )

    # Annotations.

    def _annotation(self, annotation: object, module: types.ModuleType, where: str) -> str:
        """An annotation as the source writes it, each name the stub cannot use spelled out."""
        if annotation is inspect.Parameter.empty:
            raise GenerationError(f"{where} has no annotation")
        if not isinstance(annotation, str):
            return self._spell(annotation, where)
        replacements = []
        for node in ast.walk(ast.parse(annotation, mode="eval")):
            if isinstance(node, ast.Name):
                value = _resolve(node.id, module, where)
                if not self._can_name(node.id, value, where):
                    replacements.append(
                        (node.col_offset, node.end_col_offset, self._spell(value, where))
                    )
        text = annotation
        for start, end, spelled in sorted(replacements, reverse=True):
            text = text[:start] + spelled + text[end:]
        return text

    def _can_name(self, name: str, value: object, where: str) -> bool:
        """Whether the stub may write ``name`` for ``value`` (its template imports it)."""
        if name.startswith("_"):
            return False
        public = any(value is known for known in self._exported.get(name, ()))
        if not public and not _is_foreign(name, value):
            return False
        if self._named.setdefault(name, value) is not value:
            raise GenerationError(f"{where}: {name} stands for two different objects in one stub")
        return True

    def _spell(self, value: object, where: str, *, defining: object = None) -> str:
        """A type written out from the object, public aliases kept by name."""
        if value is None or value is type(None):
            return "None"
        if value is Ellipsis:
            return "..."
        if _is_alias(value) and value is not defining:
            for name, known in self._exported.items():
                if any(value is k for k in known) and self._can_name(name, value, where):
                    return name
        origin, args = typing.get_origin(value), typing.get_args(value)
        if origin is typing.Literal:
            return f"Literal[{', '.join(_literal(arg, where) for arg in args)}]"
        if origin is typing.Annotated:
            return self._spell(args[0], where)
        if origin in (typing.Union, types.UnionType):
            return " | ".join(self._spell(arg, where) for arg in args)
        if origin is collections.abc.Callable:
            parameters, result = args
            shown = (
                "..."
                if parameters is Ellipsis
                else f"[{', '.join(self._spell(p, where) for p in parameters)}]"
            )
            return f"Callable[{shown}, {self._spell(result, where)}]"
        if origin is not None:
            shown = ", ".join(self._spell(arg, where) for arg in args)
            return f"{self._spell(origin, where)}[{shown}]"
        own_name = getattr(value, "__name__", None)
        if isinstance(own_name, str) and self._can_name(own_name, value, where):
            return own_name
        raise GenerationError(
            f"{where}: the stub cannot name {value!r}: no public module exports it"
        )


def _parameters(
    signature: inspect.Signature,
    annotate: Callable[[inspect.Parameter], str],
    *,
    bare_first: bool,
) -> list[str]:
    """Parameter texts in stub syntax, with ``/`` and ``*`` where the kinds change."""
    kind = inspect.Parameter
    texts: list[str] = []
    previous = None
    star_written = False
    for index, parameter in enumerate(signature.parameters.values()):
        if previous is kind.POSITIONAL_ONLY and parameter.kind is not kind.POSITIONAL_ONLY:
            texts.append("/")
        if parameter.kind is kind.KEYWORD_ONLY and not star_written:
            texts.append("*")
        star_written = star_written or parameter.kind in (kind.KEYWORD_ONLY, kind.VAR_POSITIONAL)
        text = parameter.name
        if parameter.kind is kind.VAR_POSITIONAL:
            text = f"*{text}"
        elif parameter.kind is kind.VAR_KEYWORD:
            text = f"**{text}"
        if not (bare_first and index == 0):
            text += f": {annotate(parameter)}"
        if parameter.default is not parameter.empty:
            text += f" = {_default(parameter.default)}"
        texts.append(text)
        previous = parameter.kind
    if previous is kind.POSITIONAL_ONLY:
        texts.append("/")
    return texts


def _default(value: object) -> str:
    """A default as a stub shows it: simple literals as they are, anything else ``...``."""
    if value is None or type(value) in (bool, int):
        return repr(value)
    if type(value) is float and math.isfinite(value):
        return repr(value)
    if type(value) is str:
        return json.dumps(value, ensure_ascii=False)
    if value == () and type(value) is tuple:
        return "()"
    return "..."


def _literal(value: object, where: str) -> str:
    if type(value) is str:
        return json.dumps(value, ensure_ascii=False)
    if value is None or type(value) in (bool, int):
        return repr(value)
    raise GenerationError(f"{where}: cannot write {value!r} as a literal in a stub")


def _resolve(name: str, module: types.ModuleType, where: str) -> object:
    namespace = vars(module)
    if name in namespace:
        return namespace[name]
    if "__getattr__" in namespace and name not in vars(builtins):  # a name made on first use
        try:
            return getattr(module, name)
        except AttributeError:
            pass
    if hasattr(builtins, name):
        return getattr(builtins, name)
    raise GenerationError(
        f"{where}: {name} is not defined in {module.__name__} when it runs (imported only "
        "for type checking?), so its stub cannot be written"
    )


def _is_foreign(name: str, value: object) -> bool:
    """Whether ``value`` comes from outside this package (the stub imports it by name)."""
    if isinstance(value, types.ModuleType):
        return not value.__name__.startswith(_PACKAGE)
    if isinstance(value, type) or inspect.isfunction(value):
        return not value.__module__.startswith(_PACKAGE)
    return any(getattr(module, name, None) is value for module in _STANDARD)


def _is_alias(value: object) -> bool:
    return isinstance(value, types.UnionType) or typing.get_origin(value) is not None


def _is_private_class(cls: type) -> bool:
    return cls.__name__.startswith("_") and cls.__module__.startswith(_PACKAGE)


def _is_special_class(cls: type) -> bool:
    named_tuple = issubclass(cls, tuple) and hasattr(cls, "_fields")
    protocol = bool(getattr(cls, "_is_protocol", False))
    return named_tuple or protocol or typing.is_typeddict(cls)


def _is_dunder(name: str) -> bool:
    return name.startswith("__") and name.endswith("__")


def _is_member(name: str, value: object) -> bool:
    """Whether a class attribute belongs in the stub: public, or a dunder users call."""
    if not _is_dunder(name):
        return not name.startswith("_")
    if name == "__init__":
        return True
    callable_ = isinstance(value, (property, classmethod, staticmethod)) or inspect.isfunction(
        value
    )
    return callable_ and not hasattr(object, name) and name not in _PICKLING


def _field_annotation(cls: type, field: attrs.Attribute[Any]) -> object:
    """The field's annotation as the source wrote it: ``attrs.resolve_types`` (which cattrs
    calls) replaces ``field.type`` with the evaluated type, losing the aliases' names."""
    for owner in cls.__mro__:
        annotations = vars(owner).get("__annotations__", {})
        if field.name in annotations:
            return annotations[field.name]
    return field.type


def _summary(cls: type) -> str:
    """The first paragraph of the class's own docstring."""
    doc = vars(cls).get("__doc__")
    if not isinstance(doc, str):
        return ""
    paragraph = inspect.cleandoc(doc).split("\n\n")[0]
    return paragraph.replace("\n", f"\n{INDENT}")
