"""The Markdown reference: one page per action, the diagnostic codes, and an index.

Tables come from the catalogue and the code table; every example is produced here by running
the builder, ``check()`` or ``validate()`` on the sources in ``examples.py``. The prose that
only a person can write (what an action is for, what the platform does with it) lives in the
per-action templates, which extend ``action.md.j2``. Needs jinja2.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final

import jinja2
from attrs import frozen

from minivoice_flow import _actions, _wire
from minivoice_flow._actions import CATALOGUE, ActionInfo, FieldInfo
from minivoice_flow._codes import CODES, CodeInfo
from minivoice_flow._diagnostics import Diagnostic, FlowError
from minivoice_flow._fields import FieldSpec
from minivoice_flow._flow import Flow
from minivoice_flow._generate import STAMP, examples
from minivoice_flow._generate.schema import SCHEMA_PATH
from minivoice_flow._generate.signatures import builder_signature, wrapped
from minivoice_flow._parse import validate

MARKDOWN_STAMP: Final = f"<!-- {STAMP} -->"
_NAMESPACE_TYPES: Final = {cls.__name__: cls for cls in _actions.ACTION_TYPES}
_WIDTH: Final = 80
_SEVERITY_ORDER: Final = {"error": 0, "warning": 1}


class GenerationError(Exception):
    """An example or a definition the generator cannot turn into docs."""


@frozen
class FieldRow:
    """One line of an action's parameter table."""

    name: str
    type: str
    required: bool
    allowed: str
    default: str
    description: str
    codes: tuple[str, ...]


@frozen
class Example:
    """A source that ran, and what it produced."""

    source: str
    output: str
    diagnostics: tuple[str, ...] = ()


def docs_files(
    catalogue: Iterable[ActionInfo] = CATALOGUE,
    codes: Mapping[str, CodeInfo] = CODES,
    *,
    flow_sets: Sequence[str] = (),
) -> dict[str, str]:
    """``{path: text}`` of every generated Markdown page (the index links ``flow_sets``)."""
    actions = tuple(catalogue)
    env = environment()
    rule_examples = {code: _rule_example(code) for code in examples.RULE_FLOWS}
    files = {
        f"docs/actions/{info.kind}.md": _action_page(env, info, codes, rule_examples)
        for info in actions
    }
    files["docs/rules.md"] = _render(
        env,
        "rules.md.j2",
        codes=_by_kind(codes),
        examples={**rule_examples, **_payload_examples()},
    )
    files["docs/index.md"] = _render(
        env,
        "index.md.j2",
        actions=actions,
        codes=_by_kind(codes),
        schema_path=SCHEMA_PATH,
        flow_sets=flow_sets,
    )
    return files


def environment() -> jinja2.Environment:
    """The template environment: templates ship inside the package."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("minivoice_flow._generate", "templates"),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,  # Markdown and Python, not HTML
    )
    env.filters["cell"] = _cell
    return env


def _render(env: jinja2.Environment, template: str, **context: Any) -> str:
    text = env.get_template(template).render(stamp=MARKDOWN_STAMP, **context)
    return re.sub(r"\n{3,}", "\n\n", text).rstrip("\n") + "\n"


def _by_kind(codes: Mapping[str, CodeInfo]) -> dict[str, list[CodeInfo]]:
    grouped: dict[str, list[CodeInfo]] = {"payload": [], "field": [], "rule": []}
    for info in codes.values():
        grouped.setdefault(info.kind, []).append(info)
    return grouped


# One page per action.


def _action_page(
    env: jinja2.Environment,
    info: ActionInfo,
    codes: Mapping[str, CodeInfo],
    rule_examples: Mapping[str, Example],
) -> str:
    specific = f"actions/{info.kind}.md.j2"
    template = specific if specific in env.list_templates() else "action.md.j2"
    rules = sorted(  # errors first, then in the code table's order
        (c for c in codes.values() if c.kind == "rule" and info.kind in c.involves),
        key=lambda c: _SEVERITY_ORDER[c.severity],
    )
    return _render(
        env,
        template,
        info=info,
        signature=builder_signature(info),
        rows=[_row(f) for f in info.fields],
        minimal=_built(_call(info, required_only=True)),
        full=_built(_call(info, required_only=False)) if not _all_required(info) else None,
        in_context=_in_context(info.kind),
        field_error=_field_error(info.kind),
        rules=rules,
        rule_example=_rule_example_for(info.kind, rules, rule_examples),
    )


def _row(field: FieldInfo) -> FieldRow:
    spec = field.spec
    return FieldRow(
        name=field.name,
        type=spec.json_type + (f" ({spec.unit})" if spec.unit else ""),
        required=field.required,
        allowed=_allowed(spec),
        default=_default(spec),
        description=spec.doc,
        codes=(("missing_field",) if field.required else ()) + spec.codes,
    )


def _allowed(spec: FieldSpec) -> str:
    words = spec.description_of_allowed
    if (
        spec.json_type == "string"
        and spec.max_length is not None
        and str(spec.max_length) not in words
    ):
        low = spec.min_length if spec.min_length is not None else 0
        words = f"{low} to {spec.max_length} characters: {words}"
    return words


def _default(spec: FieldSpec) -> str:
    if spec.default is None:
        return "—"
    if isinstance(spec.default, str):
        return f"`{json.dumps(spec.default)}`"
    unit = f" {spec.unit}" if spec.unit else ""
    return f"{spec.default}{unit}"


def _all_required(info: ActionInfo) -> bool:
    return all(f.required for f in info.fields)


# Examples: run the source, show what it gave.


def run_source(source: str) -> Any:
    """Evaluate one example expression with the public builder names in scope."""
    namespace: dict[str, Any] = {"Flow": Flow, **_NAMESPACE_TYPES}
    return eval(compile(source, "<docs example>", "eval"), namespace)  # our own example text


def _flow(source: str) -> Flow:
    flow = run_source(_as_expression(source))
    if not isinstance(flow, Flow):
        raise GenerationError(f"docs example does not build a Flow: {source}")
    return flow


def _as_expression(source: str) -> str:
    """Chained lines as written in the docs, made one expression by parentheses."""
    return f"(\n{source}\n)"


def _built(source: str) -> Example:
    """The flow's JSON; the codes it draws on its own (warnings only) as its diagnostics."""
    flow = _flow(source)
    codes = tuple(d.code for d in flow.check().diagnostics)
    return Example(f"flow = {source}\nflow.to_json(indent=2)", flow.to_json(indent=2), codes)


def _in_context(kind: str) -> Example | None:
    source = examples.IN_CONTEXT.get(kind)
    if source is None:
        return None
    flow = _flow(source)
    if flow.check().diagnostics:
        raise GenerationError(f"the in-context example of {kind} draws diagnostics: {source}")
    return Example(_assigned(source), flow.to_json(indent=2))


def _assigned(source: str) -> str:
    """``flow = (...)`` laid out as a person would write the chain."""
    if "\n" not in source:
        return f"flow = {source}"
    first, *rest = source.splitlines()
    return "flow = (\n    " + "\n    ".join([first, *rest]) + "\n)"


def _field_error(kind: str) -> Example | None:
    source = examples.FIELD_ERRORS.get(kind)
    if source is None:
        return None
    try:
        run_source(source)
    except FlowError as error:
        output = f"FlowError: {error}\n  code: {error.code}\n  path: {error.path}"
        return Example(source, output, _lines(error.diagnostics))
    raise GenerationError(f"the field error example of {kind} raised nothing: {source}")


def _rule_example(code: str) -> Example:
    """The rule's flow as Python, its JSON (not checked, so errors show too) and diagnostics."""
    source = examples.RULE_FLOWS[code]
    flow = _flow(source)
    diagnostics = flow.check().diagnostics
    if code not in {d.code for d in diagnostics}:
        raise GenerationError(f"the example of {code} does not draw it: {source}")
    payload = json.dumps(_wire.payload_dict(flow.actions))
    if validate(payload, direction=flow.direction).diagnostics != diagnostics:
        raise GenerationError(f"check() and validate() disagree on the example of {code}")
    return Example(_assigned(source) + "\nflow.check()", _shorten(payload), _lines(diagnostics))


def _rule_example_for(
    kind: str, rules: Sequence[CodeInfo], rule_examples: Mapping[str, Example]
) -> tuple[CodeInfo, Example] | None:
    """The example to show on an action's page: a rule that points at this action, if any."""
    with_examples = [c for c in rules if c.code in rule_examples]
    for code in with_examples:
        if any(f"/{kind}:" in line for line in rule_examples[code.code].diagnostics):
            return code, rule_examples[code.code]
    return (with_examples[0], rule_examples[with_examples[0].code]) if with_examples else None


def _payload_examples() -> dict[str, Example]:
    found = {code: _validated(code, text, text) for code, text in examples.BAD_PAYLOADS.items()}
    found["payload_too_large"] = _validated("payload_too_large", *examples.large_payload())
    return found


def _validated(code: str, text: str, shown: str) -> Example:
    diagnostics = validate(text).diagnostics
    if code not in {d.code for d in diagnostics}:
        raise GenerationError(f"the example payload of {code} does not draw it: {shown}")
    return Example(shown, "", _lines(diagnostics))


def _lines(diagnostics: Iterable[Diagnostic]) -> tuple[str, ...]:
    return tuple(str(d) for d in diagnostics)


def _shorten(payload: str) -> str:
    """A payload of many repeated actions, shown with the repetition elided."""
    data = json.loads(payload)
    actions = data["actions"]
    if len(actions) <= 10:
        return payload
    shown = ", ".join(json.dumps(a) for a in actions[:2])
    return f'{{"actions": [{shown}, ... {len(actions)} actions in all]}}'


# Builder calls made from sample values.


def _call(info: ActionInfo, *, required_only: bool) -> str:
    arguments = [
        _argument(f, sample_value(info, f)) for f in info.fields if f.required or not required_only
    ]
    return wrapped(f"Flow().{info.kind}", arguments, "", width=_WIDTH)


def _argument(field: FieldInfo, value: object) -> str:
    shown = json.dumps(value) if isinstance(value, str) else repr(value)
    return shown if field.required else f"{field.name}={shown}"


def sample_value(info: ActionInfo, field: FieldInfo) -> object:
    """A value the field accepts: from ``SAMPLE_VALUES``, or derived from its spec."""
    value = examples.SAMPLE_VALUES.get((info.kind, field.name))
    if value is not None:
        return value
    spec = field.spec
    if spec.json_type == "integer" and spec.minimum is not None:
        return spec.default if isinstance(spec.default, int) else spec.minimum
    if spec.choices:
        return spec.choices[-1]
    raise GenerationError(
        f"no sample value for {info.kind}.{field.name}: add one to SAMPLE_VALUES in "
        "minivoice_flow/_generate/examples.py"
    )


def _cell(text: object) -> str:
    """Text safe inside a Markdown table cell."""
    return str(text).replace("|", "\\|").replace("\n", " ")
