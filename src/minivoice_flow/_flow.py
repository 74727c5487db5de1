"""The fluent, immutable builder: ``Flow("menu").play(...).collect(...)``."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Concatenate, Final, NoReturn, ParamSpec

from attrs.exceptions import FrozenInstanceError

from minivoice_flow import _wire
from minivoice_flow._actions import (
    ACTION_TYPES,
    Action,
    Collect,
    Hangup,
    Play,
    Redirect,
    SendDigits,
    Transfer,
    describe_action,
)
from minivoice_flow._diagnostics import (
    Diagnostic,
    FlowError,
    FlowValidationError,
    Report,
    report_of,
)
from minivoice_flow._fields import describe, quick_test
from minivoice_flow._rules import Direction, check_actions

P = ParamSpec("P")

DIRECTIONS: Final = ("inbound", "outbound")


def _builder_method(cls: Callable[P, Action]) -> Callable[Concatenate[Flow, P], Flow]:
    """Make ``Flow.<action>(...)``: it takes exactly the action class's arguments.

    The action class is the one definition of its fields, so a new field needs no edit here.
    The method is written as source, as attrs writes ``__init__``: each field's quick test
    inline, then the action filled slot by slot. A value the quick tests do not accept goes
    to the class itself, whose validators raise ``FlowError`` (located at the index the action
    would have taken) or accept it (a whole float).
    """
    action_type: type[Action] = cls  # type: ignore[assignment]
    fields = describe_action(action_type).fields
    names: dict[str, Any] = {
        "_cls": action_type,
        "_new": object.__new__,
        "_slow": _checked_by_class,
    }
    if "_set_actions" in globals():
        names.update(_Flow=Flow, _set_head=_set_head, _set_actions=_set_actions)
    else:  # Flow's own methods: it and its slot setters are filled in once the class exists
        _BUILDER_NAMESPACES.append(names)
    tests, fill, required, optional = [], [], [], []
    for field in fields:
        test = quick_test(field.spec, field.name, names)
        # On the class, a slot's name gives its descriptor (inherited ones included).
        names[f"_set_{field.name}"] = getattr(action_type, field.name).__set__
        fill.append(f"        _set_{field.name}(action, {field.name})")
        if field.required:
            required.append(field.name)
            tests.append(f"({test})")
        else:
            optional.append(field.name)
            tests.append(f"({field.name} is None or {test})")
    parameters = ", ".join(["self", "/", *required, *(["*"] if optional else [])])
    parameters += "".join(f", {name}=None" for name in optional)
    arguments = ", ".join([*required, *(f"{name}={name}" for name in optional)])
    source = "\n".join(
        [
            f"def {action_type.kind}({parameters}):",
            f"    if {' and '.join(tests) or 'True'}:",
            "        action = _new(_cls)",
            *fill,
            "    else:",
            f"        action = _slow(_cls, len(self._actions), {arguments})",
            # _with_actions, inlined: this is the hottest path there is.
            "    new = _new(_Flow)",
            "    _set_head(new, self._head)",
            "    _set_actions(new, self._actions + (action,))",  # quicker than (*..., action)
            "    return new",
        ]
    )
    exec(compile(source, f"<Flow.{action_type.kind}>", "exec"), names)  # our own source
    method: Any = names[action_type.kind]
    method.__qualname__ = f"Flow.{action_type.kind}"
    method.__module__ = __name__
    method.__doc__ = f"{action_type.__doc__}\n\nAppends a ``{action_type.__name__}`` action."
    # The parameters are the class's own, so its annotations complete the signature.
    method.__annotations__ = {**action_type.__init__.__annotations__, "return": "Flow"}
    built: Callable[Concatenate[Flow, P], Flow] = method
    return built


_BUILDER_NAMESPACES: list[dict[str, Any]] = []


def _checked_by_class(cls: Callable[..., Action], index: int, *args: Any, **kwargs: Any) -> Action:
    """The action made by its class, whose validators check every value."""
    try:
        return cls(*args, **kwargs)
    except FlowError as error:
        raise _located(error, index) from None


def _located(error: FlowError, index: int) -> FlowError:
    """The same error, with its pointer made absolute within the flow's actions array."""
    diagnostics = [
        Diagnostic(d.code, d.severity, f"/actions/{index}{d.path}", d.message)
        for d in error.diagnostics
    ]
    return FlowError(str(error), diagnostics)


class Flow:
    """An immutable call flow: an optional name, a direction, and a tuple of actions.

    Every builder method returns a new ``Flow``, so a shared prefix can be extended by many
    flows. Field values are checked by the method that sets them; the ordering rules are
    checked by ``check()`` and when the flow is emitted (``to_dict``, ``to_json``).
    """

    # _head is (name, direction), shared by every flow derived from this one; _report and
    # _json are caches, left unset until first needed.
    __slots__ = ("_actions", "_head", "_json", "_report")

    _head: tuple[str | None, Direction | None]
    _actions: tuple[Action, ...]
    _report: Report
    _json: str

    def __init__(self, name: str | None = None, *, direction: Direction | None = None) -> None:
        if direction is not None or not (name is None or type(name) is str):
            check_head("Flow", name, direction)
        _set_head(self, (name, direction))
        _set_actions(self, ())

    def _with_actions(self, actions: tuple[Action, ...]) -> Flow:
        new = _new_flow(Flow)
        _set_head(new, self._head)
        _set_actions(new, actions)
        return new

    @property
    def name(self) -> str | None:
        """The flow's name: the file name on export and the step name in the journal."""
        return self._head[0]

    @property
    def direction(self) -> Direction | None:
        """``"inbound"``, ``"outbound"`` or None; inbound enables the digits_to_caller rule."""
        return self._head[1]

    @property
    def actions(self) -> tuple[Action, ...]:
        """The actions, as immutable IR objects."""
        return self._actions

    # One method per action, generated from the action classes.
    play = _builder_method(Play)
    collect = _builder_method(Collect)
    redirect = _builder_method(Redirect)
    transfer = _builder_method(Transfer)
    send_digits = _builder_method(SendDigits)
    hangup = _builder_method(Hangup)

    def then(self, other: Flow | Iterable[Action]) -> Flow:
        """A new flow: these actions followed by ``other``'s (a Flow or action objects).

        The name and direction stay this flow's, so an unnamed shared prefix can be reused:
        ``Flow("menu").then(GREETING).collect("choice")``.
        """
        extra = other._actions if isinstance(other, Flow) else tuple(other)
        for offset, action in enumerate(extra):
            if not isinstance(action, ACTION_TYPES):
                path = f"/actions/{len(self._actions) + offset}"
                message = f"Flow.then() takes a Flow or action objects; got {describe(action)}"
                raise FlowError(message, [Diagnostic.error("invalid_type", path, message)])
        return self._with_actions(self._actions + extra)

    def named(self, name: str) -> Flow:
        """The same flow under another name (the name is not part of the JSON)."""
        return Flow(name, direction=self.direction)._with_actions(self._actions)

    def check(self) -> Report:
        """Every ordering-rule diagnostic of this flow, errors and warnings, in order."""
        report: Report | None = getattr(self, "_report", None)
        return self._run_rules() if report is None else report

    def _run_rules(self) -> Report:
        report = report_of(check_actions(self._actions, self._head[1]))
        _set_report(self, report)
        return report

    def to_dict(self, *, strict: bool = False) -> dict[str, Any]:
        """The answer_url payload as plain dicts and lists; raises if the flow is invalid."""
        if strict is not False:
            check_strict("to_dict()", strict)
        self._raise_unless_valid(strict)
        return _wire.payload_dict(self._actions)

    def to_json(self, indent: int | None = None, *, strict: bool = False) -> str:
        """The answer_url payload as JSON text (compact unless ``indent`` is given).

        Raises ``FlowValidationError`` carrying every diagnostic when the flow has an error,
        or any diagnostic at all with ``strict=True``.
        """
        if strict is not False:
            check_strict("to_json()", strict)
        # check(), inlined: the JSON is only ever kept once the rules have run.
        report: Report | None = getattr(self, "_report", None)
        text: str | None = None
        if report is None:
            report = self._run_rules()
        else:
            text = getattr(self, "_json", None)
        if report.diagnostics and not report.passes(strict=strict):
            self._raise(report)
        if indent is not None:
            if isinstance(indent, bool) or not isinstance(indent, int) or not 0 <= indent <= 16:
                _fail(
                    "invalid_value",
                    "to_json() indent must be None (compact) or a whole number of spaces from 0 "
                    f"to 16; got {describe(indent)}",
                )
            return _wire.encode(_wire.payload_dict(self._actions), indent)
        if text is None:  # a Flow never changes, so its JSON can be kept
            text = _wire.payload_json(self._actions)
            _set_json(self, text)
        return text

    def _raise_unless_valid(self, strict: bool) -> None:
        report = self.check()
        if not report.passes(strict=strict):
            self._raise(report)

    def _raise(self, report: Report) -> NoReturn:
        name = self.name
        subject = f"flow {name!r}" if name is not None else "flow"
        raise FlowValidationError(report.diagnostics, subject=subject)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Flow):
            return NotImplemented
        return self._head == other._head and self._actions == other._actions

    def __hash__(self) -> int:
        return hash((self._head, self._actions))

    def __repr__(self) -> str:
        name, direction = self._head
        shown = f", direction={direction!r}" if direction else ""
        return f"Flow({name!r}{shown}, actions={self._actions!r})"

    def __setattr__(self, name: str, value: object) -> NoReturn:
        raise FrozenInstanceError()

    def __delattr__(self, name: str) -> NoReturn:
        raise FrozenInstanceError()


# Flow forbids attribute assignment; its own slots are filled through their descriptors,
# which is also the quickest way (this runs for every builder call).
def _slot_setter(name: str) -> Callable[[Flow, Any], None]:
    descriptor: Any = vars(Flow)[name]
    setter: Callable[[Flow, Any], None] = descriptor.__set__
    return setter


_new_flow = object.__new__
_set_head = _slot_setter("_head")
_set_actions = _slot_setter("_actions")
_set_report = _slot_setter("_report")
_set_json = _slot_setter("_json")
for _names in _BUILDER_NAMESPACES:
    _names.update(_Flow=Flow, _set_head=_set_head, _set_actions=_set_actions)


def check_head(where: str, name: object, direction: object) -> None:
    """Raise FlowError for a flow name or direction that is not allowed.

    ``where`` names the caller (``Flow``, ``parse()``...): ``parse`` and ``validate`` take the
    same two arguments and refuse the same values, before they look at the payload.
    """
    if name is not None and not isinstance(name, str):
        _fail("invalid_type", f"{where} name must be a string or None; got {describe(name)}")
    if direction is not None and direction not in DIRECTIONS:
        _fail(
            "invalid_value",
            f'{where} direction must be "inbound", "outbound" or None; got {describe(direction)}',
        )


def check_strict(where: str, strict: object) -> None:
    """Raise FlowError unless ``strict`` is True or False (a truthy "no" must not pass)."""
    if strict is not True and strict is not False:
        _fail("invalid_type", f"{where} strict must be True or False; got {describe(strict)}")


def _fail(code: str, message: str) -> NoReturn:
    # The name and direction are not part of the JSON, so the pointer is the document's.
    raise FlowError(message, [Diagnostic.error(code, "", message)])
