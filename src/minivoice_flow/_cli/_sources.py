"""Where each action of a flow was written, read back from its module's source with ``ast``.

Nothing is recorded while a flow is built (the request path must not pay for it): after the
modules are imported, the build parses their source and matches module-level assignments of
builder chains to the flows now bound to those names::

    MENU = Flow("menu").then(GREETING).collect("choice").redirect(URL)

gives each ``collect``/``redirect`` action the line of its method call, and GREETING's actions
their own lines when GREETING is itself such an assignment. A flow made any other way (by a
function, in a loop, by rebinding a name) has no action lines; the build then points at the
line that binds it, or just its module.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Final

from attrs import frozen

from minivoice_flow._actions import ACTIONS_BY_KIND
from minivoice_flow._cli._report import shown_path
from minivoice_flow._flow import Flow

_ACTION_INDEX: Final = re.compile(r"/actions/(\d+)(?:/|$)")


@frozen
class Location:
    """A line of a source file, shown as ``file:line``."""

    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


#: One entry per action of a flow.
Lines = tuple[Location | None, ...]


@frozen
class _Binding:
    """A module-level ``NAME = <builder chain>`` whose NAME is bound to a Flow."""

    flow: Flow  # held, so that the id the binding is filed under stays this flow's
    chain: ast.expr
    file: str
    scope: Mapping[str, object]


class SourceIndex:
    """Locations of flows and of their actions, from the source of the modules added."""

    def __init__(self) -> None:
        # Every binding of a flow, in source order: by identity, and by value as a fallback
        # for an equal flow made by a second import of the same module.
        self._by_identity: dict[int, list[_Binding]] = {}
        self._by_value: dict[Flow, list[_Binding]] = {}
        self._assignments: dict[tuple[str, str], Location] = {}
        self._lines: dict[int, tuple[Flow, Lines]] = {}  # the flow is kept so its id is its own
        self._busy: set[int] = set()
        # Modules are read only when a location is first asked for: a build with nothing to
        # report never parses its sources (at 100,000 flows that is most of its time).
        self._unread: list[tuple[Path, Mapping[str, object]]] = []

    def add_module(self, file: Path, scope: Mapping[str, object]) -> None:
        """Note one module (``scope`` is its namespace after import), to be read when asked."""
        self._unread.append((file, scope))

    def _read_all(self) -> None:
        unread, self._unread = self._unread, []
        for file, scope in unread:
            self._read(file, scope)

    def _read(self, file: Path, scope: Mapping[str, object]) -> None:
        """Read one module's source."""
        try:
            tree = ast.parse(file.read_bytes(), filename=str(file))
        except (OSError, SyntaxError, ValueError):
            return  # it was imported, so this is rare (the file changed); go without lines
        shown = shown_path(file)
        for statement in tree.body:
            for name, chain in _assignments(statement):
                # The last binding of a name is the one its value came from.
                self._assignments[shown, name] = Location(shown, statement.lineno)
                value = scope.get(name)
                if isinstance(value, Flow):
                    binding = _Binding(value, chain, shown, scope)
                    self._by_identity.setdefault(id(value), []).append(binding)
                    self._by_value.setdefault(value, []).append(binding)

    def assignment(self, file: str, name: str) -> Location | None:
        """The line of the module-level statement that last binds ``name`` in ``file``."""
        self._read_all()
        return self._assignments.get((file, name))

    def action(self, flow: Flow, pointer: str) -> Location | None:
        """The line that added the action a JSON pointer (``/actions/3/...``) is in."""
        match = _ACTION_INDEX.match(pointer)
        if match is None:
            return None
        index = int(match[1])
        lines = self.lines(flow)
        return lines[index] if index < len(lines) else None

    def lines(self, flow: Flow) -> Lines:
        """The location of each action of ``flow``; None where it cannot be found."""
        self._read_all()
        found = self._resolve(flow)
        return (None,) * len(flow.actions) if found is None else found

    def _resolve(self, flow: Flow) -> Lines | None:
        """Like ``lines``, but None while ``flow`` is itself being worked out.

        A chain that reaches its own flow (``M = M.play(...)``, ``ALIAS = MENU``) cannot say
        how many actions it adds; the next binding is tried instead. A chain that does not
        add up to the flow's actions was misread and is not trusted.
        """
        key = id(flow)
        known = self._lines.get(key)
        if known is not None:
            return known[1]
        if key in self._busy:
            return None
        bindings = self._by_identity.get(key) or self._by_value.get(flow, [])
        self._busy.add(key)
        try:
            for binding in reversed(bindings):
                found = self._chain(binding.chain, binding)
                if found is not None and len(found) == len(flow.actions):
                    self._lines[key] = (flow, found)
                    return found
        finally:
            self._busy.discard(key)
        return (None,) * len(flow.actions)

    def _chain(self, node: ast.expr, binding: _Binding) -> Lines | None:
        """The lines of the actions a builder expression produces, or None if it is no chain."""
        scope = binding.scope
        if isinstance(node, ast.Name):
            value = scope.get(node.id)
            return self._resolve(value) if isinstance(value, Flow) else None
        if not isinstance(node, ast.Call):
            return None
        if _names_flow_class(node.func, scope):
            return ()
        if not isinstance(node.func, ast.Attribute):
            return None
        method = node.func.attr
        before = self._chain(node.func.value, binding)
        if before is None:
            return None
        if method in ACTIONS_BY_KIND:
            line = node.func.end_lineno or node.lineno
            return (*before, Location(binding.file, line))
        if method == "named":
            return before
        if method == "then" and len(node.args) == 1 and not node.keywords:
            added = self._operand(node.args[0], binding)
            return None if added is None else (*before, *added)
        return None

    def _operand(self, node: ast.expr, binding: _Binding) -> Lines | None:
        """The lines of what ``.then(...)`` appends: a flow, or a sequence of actions."""
        if isinstance(node, ast.Name):
            value = binding.scope.get(node.id)
            if isinstance(value, Flow):
                return self._resolve(value)
            if isinstance(value, (tuple, list)):
                return (None,) * len(value)
            return None
        return self._chain(node, binding)


def _assignments(statement: ast.stmt) -> list[tuple[str, ast.expr]]:
    """``(name, value)`` for each plain name a module-level assignment binds."""
    if isinstance(statement, ast.Assign):
        return [(t.id, statement.value) for t in statement.targets if isinstance(t, ast.Name)]
    if (
        isinstance(statement, ast.AnnAssign)
        and isinstance(statement.target, ast.Name)
        and statement.value is not None
    ):
        return [(statement.target.id, statement.value)]
    return []


def _names_flow_class(node: ast.expr, scope: Mapping[str, object]) -> bool:
    """``Flow`` or ``module.Flow``, as bound in the module."""
    if isinstance(node, ast.Name):
        return scope.get(node.id) is Flow
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
        return getattr(scope.get(node.value.id), node.attr, None) is Flow
    return False
