"""Hypothesis strategies for flows and payloads, written from the platform model.

The valid-value strategies are written out here rather than derived from the library's
catalogue, so a property can catch a catalogue that is too strict.
"""

from __future__ import annotations

import json
from typing import Any, TypeVar

from hypothesis import strategies as st

from minivoice_flow import (
    Action,
    Collect,
    Direction,
    Flow,
    Hangup,
    Play,
    Redirect,
    SendDigits,
    Transfer,
)
from tests.cases import action_data

T = TypeVar("T")

PRINTABLE_NO_SPACE = "".join(chr(c) for c in range(0x21, 0x7F))


def optional(strategy: st.SearchStrategy[T]) -> st.SearchStrategy[T | None]:
    return st.none() | strategy


hosts = st.builds(
    lambda name, port: name if port is None else f"{name}:{port}",
    st.from_regex(r"[a-z0-9]([a-z0-9.-]{0,30}[a-z0-9])?", fullmatch=True)
    | st.sampled_from(["[::1]", "[2001:db8::7]", "127.0.0.1"]),
    optional(st.integers(0, 65535)),
)
url_tails = st.text(alphabet=PRINTABLE_NO_SPACE, max_size=80).map(lambda t: "/" + t)
urls = st.builds(
    lambda scheme, host, tail: f"{scheme}://{host}{tail}",
    st.sampled_from(["http", "https", "HTTPS", "Http"]),
    hosts,
    st.just("") | url_tails,
)
e164 = st.from_regex(r"\+[1-9][0-9]{1,14}", fullmatch=True)
sip_uris = st.builds(
    lambda scheme, rest: f"{scheme}:{rest}",
    st.sampled_from(["sip", "sips"]),
    st.text(alphabet=PRINTABLE_NO_SPACE, min_size=1, max_size=40),
)
digits = st.text(alphabet="0123456789*#ABCDwW,", min_size=1, max_size=50)
variables = st.from_regex(r"[a-z][a-z0-9_]{0,31}", fullmatch=True)

plays = st.builds(Play, urls, loop=optional(st.integers(1, 10)))
collects = st.builds(
    Collect,
    variables,
    max_digits=optional(st.integers(1, 32)),
    timeout_ms=optional(st.integers(1000, 60000)),
    finish_on_key=optional(st.sampled_from([*"0123456789*#", ""])),
)
redirects = st.builds(Redirect, urls, method=optional(st.sampled_from(["POST", "GET"])))
transfers = st.builds(
    Transfer,
    e164 | sip_uris,
    caller_id=optional(e164),
    timeout_ms=optional(st.integers(5000, 120000)),
    fallback_url=optional(urls),
)
send_digits = st.builds(SendDigits, digits, pause_before_ms=optional(st.integers(0, 60000)))
hangups = st.just(Hangup())

continuing_actions: st.SearchStrategy[Action] = st.one_of(plays, collects, transfers, send_digits)
terminal_actions: st.SearchStrategy[Action] = st.one_of(redirects, hangups)
any_actions: st.SearchStrategy[Action] = st.one_of(continuing_actions, terminal_actions)

names = optional(st.from_regex(r"[a-z][a-z0-9_-]{0,20}", fullmatch=True))
_DIRECTIONS: list[Direction | None] = [None, "inbound", "outbound"]
directions = st.sampled_from(_DIRECTIONS)


@st.composite
def valid_flows(draw: st.DrawFn) -> Flow:
    """Flows with no errors (warnings allowed): 1 to 100 actions, a terminal one only last."""
    body = draw(st.lists(continuing_actions, max_size=30))
    end = draw(st.lists(terminal_actions, max_size=1))
    if not body and not end:
        end = [Hangup()]
    flow = Flow(draw(names), direction=draw(directions))
    return flow.then([*body, *end])


@st.composite
def any_flows(draw: st.DrawFn) -> Flow:
    """Flows that may break any ordering rule (empty, unreachable, too many actions)."""
    actions = draw(st.lists(any_actions, max_size=12))
    if actions and draw(st.integers(0, 19)) == 0:  # now and then, over the 100 limit
        actions = actions * (100 // len(actions) + 1)
    return Flow(draw(names), direction=draw(directions)).then(actions)


json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20)
)
json_values: st.SearchStrategy[Any] = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)
field_names = st.sampled_from(
    [
        "url",
        "loop",
        "variable",
        "max_digits",
        "timeout_ms",
        "finish_on_key",
        "method",
        "to",
        "caller_id",
        "fallback_url",
        "digits",
        "pause_before_ms",
        "bogus",
        "",
    ]
)
action_names = st.sampled_from(
    ["play", "collect", "redirect", "transfer", "send_digits", "hangup", "dance", "Play", ""]
)


@st.composite
def near_payloads(draw: st.DrawFn) -> Any:
    """Payloads shaped like answer_url responses, with fields and shapes mutated at random."""
    actions: list[Any] = []
    for _ in range(draw(st.integers(0, 6))):
        shape = draw(st.integers(0, 9))
        if shape == 0:
            actions.append(draw(json_values))
        else:
            fields = draw(st.dictionaries(field_names, json_scalars | json_values, max_size=4))
            actions.append({draw(action_names): fields})
    payload: dict[str, Any] = {"actions": actions}
    if draw(st.integers(0, 9)) == 0:
        payload[draw(st.text(max_size=5))] = draw(json_values)
    return payload


# JSON text written by hand, so that keys can repeat and white space can fall anywhere.

json_separators = st.sampled_from(["", " ", "\n  ", "\t"])
awkward_strings = st.text(alphabet='ab"\\:/ é\n', max_size=6)


@st.composite
def json_texts_with_repeats(draw: st.DrawFn, depth: int = 0) -> str:
    """An object or array as JSON text; objects may repeat keys, strings hold quotes and colons."""
    space = draw(json_separators)
    if depth < 3 and draw(st.booleans()):
        keys = draw(
            st.lists(st.sampled_from(["actions", "play", "url", "a", 'q"', "b:"]), max_size=4)
        )
        members = [
            f"{json.dumps(key)}{draw(json_separators)}:{space}"
            f"{draw(json_texts_with_repeats(depth + 1))}"
            for key in keys
        ]
        return "{" + space + ("," + space).join(members) + space + "}"
    if depth < 3 and draw(st.booleans()):
        items = draw(st.lists(json_texts_with_repeats(depth + 1), max_size=3))
        return "[" + ",".join(items) + "]"
    return json.dumps(draw(awkward_strings | st.integers(-5, 5).map(str)))


# Field-level mutations of valid payloads, for comparing validate() with the JSON Schema.

#: Strings that look right to a person but are not: look-alike digits, trailing newlines
#: (Python's "$" matches before one), lone surrogates, lower-case DTMF letters, near misses.
tricky_strings = st.sampled_from(
    [
        "",
        "\u0661\u0662\u0663",  # Arabic-Indic 123
        "\uff11\uff12\uff13",  # full-width 123
        "\u00b2",  # superscript two
        "\ud800",  # a lone surrogate
        "12\udfff#",
        "12a",
        "1234#\n",
        "\n1234#",
        "#\n",
        "POST\n",
        "post",
        "+15551230002\n",
        "+1555123000２",
        "sip:\n",
        "https://a.example/x\n",
        "https://a.example/\u00e9",
        "https://exämple.com/",
        "choice\n",
        "Choice",
        "9" * 50,
        "9" * 51,
        "https://a.example/" + "x" * 2030,
        "https://a.example/" + "x" * 2031,
    ]
)
#: Numbers at and past the edges, and numbers JSON may carry for integers.
tricky_numbers = st.sampled_from(
    [
        0,
        -1,
        1,
        10,
        11,
        32,
        33,
        999,
        1000,
        4999,
        5000,
        60000,
        60001,
        120000,
        120001,
        10**30,
        -(10**30),
        2000.0,
        -0.0,
        1500.5,
        1e300,
        float("inf"),
        float("nan"),
    ]
)
field_values: st.SearchStrategy[Any] = (
    json_scalars
    | json_values
    | tricky_strings
    | tricky_numbers
    | digits
    | urls
    | e164
    | sip_uris
    | variables
    | st.sampled_from(["POST", "GET", "#", "*", "0"])
    | st.text(alphabet="0123456789*#ABCDabcdwW, \n", max_size=52)
)

FIELDS_OF: dict[str, list[str]] = {
    "play": ["url", "loop"],
    "collect": ["variable", "max_digits", "timeout_ms", "finish_on_key"],
    "redirect": ["url", "method"],
    "transfer": ["to", "caller_id", "timeout_ms", "fallback_url"],
    "send_digits": ["digits", "pause_before_ms"],
}


@st.composite
def mutated_payloads(draw: st.DrawFn) -> Any:
    """Valid payloads with a few field-level mutations: bad values, missing or unknown keys."""
    actions: list[Any] = [action_data(a) for a in draw(st.lists(any_actions, max_size=5))]
    for _ in range(draw(st.integers(0, 3))):
        if not actions:
            break
        index = draw(st.integers(0, len(actions) - 1))
        item = actions[index]
        if not (isinstance(item, dict) and len(item) == 1):
            continue  # already mutated past recognition
        ((kind, fields),) = item.items()
        if not isinstance(fields, dict):
            continue
        mutation = draw(st.integers(0, 7))
        if mutation <= 1 and kind in FIELDS_OF:  # a bad (or good) value for one of its fields
            fields[draw(st.sampled_from(FIELDS_OF[kind]))] = draw(field_values)
        elif mutation == 2:  # a field that may belong to another action
            fields[draw(field_names)] = draw(field_values)
        elif mutation == 3 and fields:  # a missing field
            del fields[draw(st.sampled_from(sorted(fields)))]
        elif mutation == 4:  # the whole value replaced
            actions[index] = {kind: draw(field_values)}
        elif mutation == 5:  # a second key, or another name, on the action object
            key = draw(action_names)
            actions[index] = {**actions[index], key: draw(field_values)}
        elif mutation == 6:  # the action itself replaced
            actions[index] = draw(field_values)
        else:  # an unknown field
            fields[draw(st.text(max_size=6))] = draw(field_values)
    if actions and draw(st.integers(0, 19)) == 0:  # around the 100 limit
        actions = (actions * 100)[: draw(st.sampled_from([99, 100, 101, 150]))]
    payload: dict[str, Any] = {"actions": actions}
    shape = draw(st.integers(0, 19))
    if shape == 0:
        payload[draw(st.text(max_size=5))] = draw(json_values)
    elif shape == 1:
        return draw(field_values)
    elif shape == 2:
        del payload["actions"]
    return payload
