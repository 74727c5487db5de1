"""Stub definitions are read from the objects: signatures as written, attrs fields, enum
members, constants and aliases; what a stub cannot name is spelled out or refused clearly."""

from __future__ import annotations

import sys
import time
import types
from collections.abc import Callable, Iterable
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Final, Literal, NamedTuple

import pytest
from attrs import field, frozen

import minivoice_flow
from minivoice_flow._generate.definitions import ModuleStub, exports, public_modules
from minivoice_flow._generate.docs import FieldRow, GenerationError

if TYPE_CHECKING:
    from decimal import Decimal

# The subjects: a module's worth of public objects, and the helpers they use.

Kind = Literal["small", "large"]  # not exported: spelled out where it is used
_Pair = tuple[int, int]  # private: spelled out too
Size = int | None  # exported: kept by name
LIMIT: Final = 3
NAMES: Final[frozenset[str]] = frozenset({"a"})


class Colour(StrEnum):
    """A colour."""

    RED = "red"
    DARK_RED = "dark red"


def _tuple_of(value: Iterable[str]) -> tuple[str, ...]:
    return tuple(value)


@frozen
class Box:
    """A box.

    Details that the stub leaves out.
    """

    name: str
    kind: Kind
    corner: _Pair = (0, 0)
    tags: tuple[str, ...] = field(default=(), converter=_tuple_of)
    size: Size = field(default=None, kw_only=True)
    extra: dict[str, int] = field(factory=dict, kw_only=True)
    _secret: int = field(default=0, alias="secret", kw_only=True)

    @property
    def area(self) -> int:
        return 0

    @classmethod
    def empty(cls) -> Box:
        return cls("empty", "small")

    def __contains__(self, item: object) -> bool:
        return False

    def __repr__(self) -> str:
        return "Box"

    def _helper(self) -> None:
        pass


class Counter:
    """Counts."""

    __slots__ = ("_seen", "count")

    def __init__(
        self,
        start: int = 0,
        /,
        *steps: int,
        clock: Callable[[], float] = time.monotonic,
        **options: Any,
    ) -> None:
        self.count = start


class Point(NamedTuple):
    x: int


def measure(box: Box, *, colour: Colour | None = None, unit: str = "cm") -> Size:
    return None


def rows() -> FieldRow:  # a class of a private module that no public module exports
    raise NotImplementedError


def price() -> Decimal:  # a name imported only for type checking
    raise NotImplementedError


PUBLIC = ["Box", "Colour", "Counter", "LIMIT", "NAMES", "Point", "Size", "measure"]


def subjects(*names: str) -> ModuleStub:
    """A stub for a module whose ``__all__`` is ``names`` (by default the PUBLIC ones)."""
    module = types.ModuleType("subjects")
    public = list(names or PUBLIC)
    vars(module).update({name: globals()[name] for name in public})
    vars(module).update(
        __all__=public, __annotations__={"NAMES": "Final[frozenset[str]]"}, Final=Final
    )
    return ModuleStub(module, exports([module]))


class TestPublicModules:
    """Every module without a private part in its name is found, or the reason it cannot be."""

    def test_modules_under_private_names_are_left_out(self) -> None:
        names = [module.__name__ for module in public_modules(minivoice_flow)]
        assert "minivoice_flow.testing.plugin" in names
        assert not any("._" in name for name in names)

    def test_a_module_that_cannot_be_imported_is_named(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setitem(sys.modules, "minivoice_flow.testing.plugin", None)
        with pytest.raises(GenerationError, match="cannot import minivoice_flow.testing.plugin"):
            public_modules(minivoice_flow)


class TestClasses:
    """attrs classes get their fields as properties and the ``__init__`` attrs made."""

    def test_attrs_class(self) -> None:
        assert (
            subjects().define("Box")
            == '''\
class Box:
    """A box."""

    __attrs_attrs__: ClassVar[tuple[Attribute[Any], ...]]
    __match_args__ = ("name", "kind", "corner", "tags")
    @property
    def name(self) -> str: ...
    @property
    def kind(self) -> Literal["small", "large"]: ...
    @property
    def corner(self) -> tuple[int, int]: ...
    @property
    def tags(self) -> tuple[str, ...]: ...
    @property
    def size(self) -> Size: ...
    @property
    def extra(self) -> dict[str, int]: ...
    def __init__(
        self,
        name: str,
        kind: Literal["small", "large"],
        corner: tuple[int, int] = ...,
        tags: Iterable[str] = (),
        *,
        size: Size = None,
        extra: dict[str, int] = ...,
        secret: int = 0,
    ) -> None: ...
    @property
    def area(self) -> int: ...
    @classmethod
    def empty(cls) -> Box: ...
    def __contains__(self, item: object) -> bool: ...'''
        )

    def test_enum(self) -> None:
        assert (
            subjects().define("Colour")
            == '''\
class Colour(StrEnum):
    """A colour."""

    RED = "red"
    DARK_RED = "dark red"'''
        )

    def test_plain_class_with_every_kind_of_parameter(self) -> None:
        stub = subjects().define("Counter", attributes={"count": "int"})
        assert (
            stub
            == '''\
class Counter:
    """Counts."""

    count: int
    def __init__(
        self,
        start: int = 0,
        /,
        *steps: int,
        clock: Callable[[], float] = ...,
        **options: Any,
    ) -> None: ...'''
        )

    def test_slot_of_unknown_type_must_be_given(self) -> None:
        with pytest.raises(GenerationError, match=r"subjects\.Counter\.count: .*attributes="):
            subjects().define("Counter")

    def test_named_tuple_is_refused(self) -> None:
        with pytest.raises(GenerationError, match=r"subjects\.Point: a NamedTuple"):
            subjects().define("Point")


class TestModuleLevel:
    """Functions, constants, aliases and ``__all__``."""

    def test_function(self) -> None:
        assert subjects().define("measure") == (
            'def measure(box: Box, *, colour: Colour | None = None, unit: str = "cm") -> Size: ...'
        )

    def test_constants(self) -> None:
        stub = subjects()
        assert stub.define("LIMIT") == "LIMIT: Final = 3"
        assert stub.define("NAMES") == "NAMES: Final[frozenset[str]]"

    def test_alias(self) -> None:
        assert subjects().define("Size") == "Size: TypeAlias = int | None"

    def test_all_as_the_module_lists_it(self) -> None:
        assert subjects("measure", "Box").all() == '__all__ = ["measure", "Box"]'

    def test_only_public_names(self) -> None:
        with pytest.raises(GenerationError, match=r"subjects\.Box is not in .*__all__"):
            subjects("measure").define("Box")


class TestNamesAStubCannotUse:
    """A class no public module exports, or a name missing at run time, is an error."""

    def test_unexported_class_of_the_package(self) -> None:
        with pytest.raises(GenerationError, match=r"subjects\.rows return: .*FieldRow"):
            subjects("rows").define("rows")

    def test_name_imported_only_for_type_checking(self) -> None:
        with pytest.raises(GenerationError, match=r"Decimal is not defined .*run"):
            subjects("price").define("price")

    def test_one_name_for_one_object(self, monkeypatch: pytest.MonkeyPatch) -> None:
        elsewhere = types.ModuleType("elsewhere")
        monkeypatch.setitem(sys.modules, "elsewhere", elsewhere)
        source = "from decimal import Decimal as Box\ndef weigh(box: 'Box') -> None: ..."
        exec(compile(source, "elsewhere", "exec", dont_inherit=True), vars(elsewhere))
        monkeypatch.setitem(globals(), "weigh", vars(elsewhere)["weigh"])
        stub = subjects("Box", "weigh")
        stub.define("Box")  # Box.empty() returns Box: this stub's Box is the class above
        with pytest.raises(GenerationError, match="Box stands for two different objects"):
            stub.define("weigh")
