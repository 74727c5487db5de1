#!/usr/bin/env python3
"""Benchmarks of minivoice-flow against the floor and its peers.

    python bench/run.py            # the full run (a few minutes)
    python bench/run.py --quick    # fewer, shorter repeats (under a minute)

Every figure is a median over repeats that are interleaved across the cases, and is reported
as a ratio to a baseline measured in the same run, because absolute times on a shared,
noisy machine mean little. Peers (twilio, plivo, vonage-voice, pydantic, msgspec, jsonschema,
fastjsonschema) are measured when installed: ``pip install -e '.[bench]'``.

The call journal's throughput (SQLite and PostgreSQL, 1 to 8 writer processes) is measured
apart, by ``python bench/journal.py``, and the support page with 100,000 calls by ``python
bench/support.py``; each writes its own section of ``bench/results.md``.

Writes a Markdown table to stdout (``--write`` also puts it at the top of
``bench/results.md``, keeping the other sections) and the figures as JSON (``--json``, default
``bench/results.json`` for a full run, ``bench/results-quick.json`` for a quick one).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import timeit
import types
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))  # the working tree's package, installed or not

from minivoice_flow import Flow, parse, validate  # noqa: E402  (after the path is set)

PROMPT = "https://media.example.com/hello.wav"
GOODBYE = "https://media.example.com/bye.wav"
MENU_NEXT = "https://app.example.com/ivr/menu/input"
BUSY = "https://app.example.com/ivr/busy"
AGENT = "+15551230002"


@dataclass
class Case:
    """One thing to time; ``ratio`` is against the case named ``baseline``."""

    name: str
    run: Callable[[], object]
    baseline: str | None = None
    target: float | None = None  # the ratio to stay at or under
    note: str = ""
    samples: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.samples)


@dataclass
class Figure:
    """A derived figure (growth, import time) with its target."""

    name: str
    value: float
    unit: str
    target: float | None
    note: str = ""

    @property
    def met(self) -> bool | None:
        return None if self.target is None else self.value <= self.target


# Three flow shapes, each as the JSON literal (the floor), as our builder, and as each peer
# writes the nearest thing. "4-action": the flow (play, send_digits "1234#" after
# 2000 ms, play, hangup); "menu": play, collect, redirect; "pin": transfer, send_digits.

SHAPES: dict[str, dict[str, Any]] = {
    "4-action": {
        "actions": [
            {"play": {"url": PROMPT}},
            {"send_digits": {"digits": "1234#", "pause_before_ms": 2000}},
            {"play": {"url": GOODBYE}},
            {"hangup": {}},
        ]
    },
    "menu": {
        "actions": [
            {"play": {"url": PROMPT}},
            {"collect": {"variable": "choice", "max_digits": 1, "timeout_ms": 5000}},
            {"redirect": {"url": MENU_NEXT}},
        ]
    },
    "pin": {
        "actions": [
            {"transfer": {"to": AGENT, "fallback_url": BUSY}},
            {"send_digits": {"digits": "1234#", "pause_before_ms": 2000}},
        ]
    },
}


def floor_of(shape: str) -> Callable[[], str]:
    """json.dumps of the payload written as a dict literal: the least any library can do."""
    if shape == "4-action":
        return lambda: json.dumps(
            {
                "actions": [
                    {"play": {"url": PROMPT}},
                    {"send_digits": {"digits": "1234#", "pause_before_ms": 2000}},
                    {"play": {"url": GOODBYE}},
                    {"hangup": {}},
                ]
            },
            separators=(",", ":"),
        )
    if shape == "menu":
        return lambda: json.dumps(
            {
                "actions": [
                    {"play": {"url": PROMPT}},
                    {"collect": {"variable": "choice", "max_digits": 1, "timeout_ms": 5000}},
                    {"redirect": {"url": MENU_NEXT}},
                ]
            },
            separators=(",", ":"),
        )
    return lambda: json.dumps(
        {
            "actions": [
                {"transfer": {"to": AGENT, "fallback_url": BUSY}},
                {"send_digits": {"digits": "1234#", "pause_before_ms": 2000}},
            ]
        },
        separators=(",", ":"),
    )


def ours(shape: str) -> Callable[[], str]:
    if shape == "4-action":
        return lambda: (
            Flow("bench")
            .play(PROMPT)
            .send_digits("1234#", pause_before_ms=2000)
            .play(GOODBYE)
            .hangup()
            .to_json()
        )
    if shape == "menu":
        return lambda: (
            Flow("menu")
            .play(PROMPT)
            .collect("choice", max_digits=1, timeout_ms=5000)
            .redirect(MENU_NEXT)
            .to_json()
        )
    return lambda: (
        Flow("pin")
        .transfer(AGENT, fallback_url=BUSY)
        .send_digits("1234#", pause_before_ms=2000)
        .to_json()
    )


def twilio_case(shape: str) -> Callable[[], object] | None:
    """TwiML: no checks at all; attributes are written as given."""
    try:
        from twilio.twiml.voice_response import VoiceResponse
    except ImportError:
        return None

    def build() -> str:
        response = VoiceResponse()
        if shape == "4-action":
            response.play(PROMPT)
            response.play(digits="wwww1234#")  # w is half a second: 2000 ms, then the digits
            response.play(GOODBYE)
            response.hangup()
        elif shape == "menu":
            response.play(PROMPT)
            response.gather(num_digits=1, timeout=5, action=MENU_NEXT)
            response.redirect(MENU_NEXT)
        else:
            dial = response.dial(action=BUSY)
            dial.number(AGENT, send_digits="wwww1234#")
        return str(response)

    return build


def plivo_case(shape: str) -> Callable[[], object] | None:
    """Plivo XML: each element checks the types and ranges of its attributes."""
    try:
        from plivo import plivoxml
    except ImportError:
        return None

    def build() -> str:
        response = plivoxml.ResponseElement()
        if shape == "4-action":
            response.add(plivoxml.PlayElement(PROMPT))
            response.add(plivoxml.DTMFElement("wwww1234#"))
            response.add(plivoxml.PlayElement(GOODBYE))
            response.add(plivoxml.HangupElement())
        elif shape == "menu":
            response.add(plivoxml.PlayElement(PROMPT))
            response.add(plivoxml.GetDigitsElement(action=MENU_NEXT, num_digits=1, timeout=5))
            response.add(plivoxml.RedirectElement(MENU_NEXT))
        else:
            dial = plivoxml.DialElement(action=BUSY)
            dial.add(plivoxml.NumberElement(AGENT, send_digits="wwww1234#"))
            response.add(dial)
        text: str = response.to_string(False)
        return text

    return build


def vonage_case(shape: str) -> Callable[[], object] | None:
    """Vonage NCCO: pydantic models that check types, ranges and patterns."""
    try:
        from vonage_voice.models import ncco
    except ImportError:
        return None

    def build() -> str:
        actions: list[Any]
        if shape == "4-action":
            # NCCO has no action that sends DTMF or hangs up: the nearest flow streams the
            # two prompts around a two-second wait (the call ends when the NCCO does).
            actions = [
                ncco.Stream(streamUrl=[PROMPT]),
                ncco.Wait(timeout=2),
                ncco.Stream(streamUrl=[GOODBYE]),
            ]
        elif shape == "menu":
            actions = [
                ncco.Stream(streamUrl=[PROMPT]),
                ncco.Input(
                    type=["dtmf"], dtmf=ncco.Dtmf(maxDigits=1, timeOut=5), eventUrl=[MENU_NEXT]
                ),
            ]
        else:
            actions = [
                ncco.Connect(
                    endpoint=[ncco.PhoneEndpoint(number=AGENT[1:], dtmfAnswer="pppp1234#")],
                    randomFromNumber=True,
                    eventUrl=[BUSY],
                )
            ]
        return json.dumps([a.model_dump(by_alias=True, exclude_none=True) for a in actions])

    return build


def pydantic_case(shape: str) -> Callable[[], object] | None:
    """pydantic v2 models with our field limits, checked when each model is made."""
    try:
        import pydantic
    except ImportError:
        return None
    models = _pydantic_models(pydantic)

    def build() -> str:
        m = models
        if shape == "4-action":
            actions = [
                m.Item(play=m.Play(url=PROMPT)),
                m.Item(send_digits=m.SendDigits(digits="1234#", pause_before_ms=2000)),
                m.Item(play=m.Play(url=GOODBYE)),
                m.Item(hangup=m.Hangup()),
            ]
        elif shape == "menu":
            actions = [
                m.Item(play=m.Play(url=PROMPT)),
                m.Item(collect=m.Collect(variable="choice", max_digits=1, timeout_ms=5000)),
                m.Item(redirect=m.Redirect(url=MENU_NEXT)),
            ]
        else:
            actions = [
                m.Item(transfer=m.Transfer(to=AGENT, fallback_url=BUSY)),
                m.Item(send_digits=m.SendDigits(digits="1234#", pause_before_ms=2000)),
            ]
        text: str = m.Payload(actions=actions).model_dump_json(exclude_none=True)
        return text

    return build


def _pydantic_models(pydantic: Any) -> Any:
    from typing import Annotated

    from minivoice_flow._fields import URL_PATTERN

    def text(pattern: str, high: int | None = None) -> Any:
        return Annotated[
            str, pydantic.StringConstraints(pattern=f"^(?:{pattern})$", max_length=high)
        ]

    def number(low: int, high: int) -> Any:
        return Annotated[int, pydantic.Field(ge=low, le=high, strict=True)]

    class Strict(pydantic.BaseModel):
        model_config = pydantic.ConfigDict(extra="forbid", strict=True)

    url = text(URL_PATTERN, 2048)

    class Play(Strict):
        url: url
        loop: number(1, 10) | None = None

    class Collect(Strict):
        variable: text("[a-z][a-z0-9_]{0,31}")
        max_digits: number(1, 32) | None = None
        timeout_ms: number(1000, 60000) | None = None
        finish_on_key: text("[0-9*#]?") | None = None

    class Redirect(Strict):
        url: url
        method: Literal["POST", "GET"] | None = None

    class Transfer(Strict):
        to: text(r"\+[1-9][0-9]{1,14}|sips?:[!-~]+")
        caller_id: text(r"\+[1-9][0-9]{1,14}") | None = None
        timeout_ms: number(5000, 120000) | None = None
        fallback_url: url | None = None

    class SendDigits(Strict):
        digits: text("[0-9*#A-DwW,]{1,50}")
        pause_before_ms: number(0, 60000) | None = None

    class Hangup(Strict):
        pass

    class Item(Strict):
        play: Play | None = None
        collect: Collect | None = None
        redirect: Redirect | None = None
        transfer: Transfer | None = None
        send_digits: SendDigits | None = None
        hangup: Hangup | None = None

    class Payload(Strict):
        actions: list[Item]

    return types.SimpleNamespace(
        **{
            c.__name__: c
            for c in (Play, Collect, Redirect, Transfer, SendDigits, Hangup, Item, Payload)
        }
    )


def msgspec_case(shape: str) -> Callable[[], object] | None:
    """msgspec Structs with our field limits: checked on decoding only, not when made."""
    try:
        import msgspec
    except ImportError:
        return None
    UNSET = msgspec.UNSET
    opt_int = int | msgspec.UnsetType

    class Play(msgspec.Struct, kw_only=True):
        url: str

    class Collect(msgspec.Struct, kw_only=True):
        variable: str
        max_digits: int
        timeout_ms: opt_int = UNSET

    class Redirect(msgspec.Struct, kw_only=True):
        url: str

    class Transfer(msgspec.Struct, kw_only=True):
        to: str
        fallback_url: str | msgspec.UnsetType = UNSET

    class SendDigits(msgspec.Struct, kw_only=True):
        digits: str
        pause_before_ms: opt_int = UNSET

    class Hangup(msgspec.Struct):
        pass

    class item(msgspec.Struct, kw_only=True):
        play: Play | msgspec.UnsetType = UNSET
        collect: Collect | msgspec.UnsetType = UNSET
        redirect: Redirect | msgspec.UnsetType = UNSET
        transfer: Transfer | msgspec.UnsetType = UNSET
        send_digits: SendDigits | msgspec.UnsetType = UNSET
        hangup: Hangup | msgspec.UnsetType = UNSET

    class payload(msgspec.Struct):
        actions: list[item]

    encode = msgspec.json.encode

    def build() -> bytes:
        if shape == "4-action":
            actions = [
                item(play=Play(url=PROMPT)),
                item(send_digits=SendDigits(digits="1234#", pause_before_ms=2000)),
                item(play=Play(url=GOODBYE)),
                item(hangup=Hangup()),
            ]
        elif shape == "menu":
            actions = [
                item(play=Play(url=PROMPT)),
                item(collect=Collect(variable="choice", max_digits=1, timeout_ms=5000)),
                item(redirect=Redirect(url=MENU_NEXT)),
            ]
        else:
            actions = [
                item(transfer=Transfer(to=AGENT, fallback_url=BUSY)),
                item(send_digits=SendDigits(digits="1234#", pause_before_ms=2000)),
            ]
        return encode(payload(actions=actions))

    return build


PEERS = (
    ("twilio: VoiceResponse to TwiML", twilio_case),
    ("plivo: plivoxml to XML", plivo_case),
    ("vonage: NCCO models to JSON", vonage_case),
    ("pydantic: models with our limits to JSON", pydantic_case),
    ("msgspec: Structs (unchecked) to JSON", msgspec_case),
)


def build_cases() -> list[Case]:
    """Build + check + serialise, per shape, against its floor; the peers beside it."""
    cases = []
    for shape in SHAPES:
        floor = f"floor ({shape}): json.dumps of the dict literal"
        cases.append(Case(floor, floor_of(shape)))
        cases.append(
            Case(f"minivoice-flow ({shape}): build + check + to_json", ours(shape), floor, 1.6)
        )
        for name, make in PEERS:
            build = make(shape)
            if build is not None:
                cases.append(Case(f"{name} ({shape})", build, floor))
    prebuilt = ours_prebuilt()
    prebuilt.to_json()
    cases.append(
        Case(
            "minivoice-flow (4-action): to_json() of a flow serialised before",
            prebuilt.to_json,
            "floor (4-action): json.dumps of the dict literal",
            0.2,
        )
    )
    return cases


def ours_prebuilt() -> Any:
    return (
        Flow("bench").play(PROMPT).send_digits("1234#", pause_before_ms=2000).play(GOODBYE).hangup()
    )


def layouts(data: Any) -> dict[str, str]:
    """The layouts people and programs write: compact, json.dumps' default, indented, and
    with every object's keys in reverse order."""

    def reverse(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: reverse(v) for k, v in reversed(value.items())}
        if isinstance(value, list):
            return [reverse(v) for v in value]
        return value

    return {
        "compact": json.dumps(data, separators=(",", ":")),
        "json.dumps default": json.dumps(data),
        "indent=2": json.dumps(data, indent=2),
        "keys reordered": json.dumps(reverse(data)),
    }


def invalid_payload() -> dict[str, Any]:
    """The 4-action payload with one bad character in its digits."""
    data = json.loads(json.dumps(SHAPES["4-action"]))
    data["actions"][1]["send_digits"]["digits"] = "12x4#"
    return data


def large_payload() -> dict[str, Any]:
    """Just under 64 KiB of valid payload: 31 prompts with 2,000-character URLs, then a hangup."""
    actions: list[dict[str, Any]] = [
        {"play": {"url": f"{PROMPT}?part={i}&token=" + "a1b2c3d4" * 245}} for i in range(31)
    ]
    return {"actions": [*actions, {"hangup": {}}]}


def validate_cases() -> list[Case]:
    """validate() per layout, valid and invalid, and of a 64 KiB payload; parse()."""
    cases = []
    for validity, data, target in (
        ("valid", SHAPES["4-action"], 2.0),
        ("invalid", invalid_payload(), 2.5),
    ):
        for layout, text in layouts(data).items():
            loads = f"json.loads ({validity}, {layout})"
            cases.append(Case(loads, lambda text=text: json.loads(text)))
            cases.append(
                Case(
                    f"minivoice-flow: validate() ({validity}, {layout})",
                    lambda text=text: validate(text),
                    loads,
                    target,
                )
            )
    large = json.dumps(large_payload(), separators=(",", ":"))
    assert 60_000 < len(large) <= 65_536 and validate(large).ok
    cases.append(Case("json.loads (64 KiB)", lambda: json.loads(large)))
    cases.append(
        Case(
            "minivoice-flow: validate() (64 KiB)",
            lambda: validate(large),
            "json.loads (64 KiB)",
            3.0,
        )
    )
    compact = layouts(SHAPES["4-action"])["compact"]
    cases.append(
        Case(
            "minivoice-flow: parse() (valid, compact)",
            lambda: parse(compact),
            "json.loads (valid, compact)",
            3.0,
        )
    )
    cases += schema_validators(compact)
    return cases


def schema_validators(text: str) -> list[Case]:
    """jsonschema and fastjsonschema with our generated schema, when they are installed."""
    from minivoice_flow._generate.schema import build_schema

    schema = build_schema()
    cases = []
    try:
        import jsonschema

        checker = jsonschema.Draft202012Validator(schema)
        cases.append(
            Case(
                "jsonschema: every error of the same text",
                lambda: list(checker.iter_errors(json.loads(text))),
                baseline="json.loads (valid, compact)",
            )
        )
    except ImportError:
        pass
    try:
        import fastjsonschema

        compiled = fastjsonschema.compile(schema)
        compiled(json.loads(text))  # it must accept the payload it is timed on
        cases.append(
            Case(
                "fastjsonschema: the same text",
                lambda: compiled(json.loads(text)),
                baseline="json.loads (valid, compact)",
            )
        )
    except ImportError:
        pass
    return cases


def flow_of(length: int) -> Any:
    """A valid flow of ``length`` actions: prompts and digits, then a hangup."""
    flow = Flow("long")
    for index in range(length - 1):
        flow = flow.play(PROMPT) if index % 2 else flow.send_digits("1234#", pause_before_ms=500)
    return flow.hangup()


def build_flow_of(length: int) -> Callable[[], str]:
    def build() -> str:
        flow = Flow("long")
        for index in range(length - 1):
            if index % 2:
                flow = flow.play(PROMPT)
            else:
                flow = flow.send_digits("1234#", pause_before_ms=500)
        return flow.hangup().to_json()

    return build


def growth_cases() -> list[Case]:
    texts = {n: flow_of(n).to_json() for n in (10, 100)}
    over_limit = json.dumps(
        {"actions": [{"play": {"url": PROMPT}}] * 999 + [{"hangup": {}}]}, separators=(",", ":")
    )
    return [
        Case("build + serialise 10 actions", build_flow_of(10)),
        Case(
            "build + serialise 100 actions",
            build_flow_of(100),
            baseline="build + serialise 10 actions",
            target=11.0,
        ),
        Case("validate 10 actions", lambda: validate(texts[10])),
        Case(
            "validate 100 actions",
            lambda: validate(texts[100]),
            baseline="validate 10 actions",
            target=11.0,
        ),
        Case(
            "validate 1000 actions (over the limit)",
            lambda: validate(over_limit),
            baseline="validate 100 actions",
            target=11.0,
        ),
    ]


def measure(cases: list[Case], repeats: int, sample_seconds: float) -> None:
    """Median per-call time of each case, the repeats interleaved across cases."""
    numbers = {}
    for case in cases:
        timer = timeit.Timer(case.run)
        number, took = timer.autorange()
        numbers[case.name] = max(1, int(number * sample_seconds / max(took, 1e-9)))
    for _ in range(repeats):
        for case in cases:
            number = numbers[case.name]
            case.samples.append(timeit.Timer(case.run).timeit(number) / number)


def export_figures(quick: bool) -> list[Figure]:
    """Wall time of ``minivoice-flow build`` exporting 1,000 to 100,000 flows, in one module
    and split over 100 modules, and the peak memory of the largest build. Env without
    PYTHONDONTWRITEBYTECODE: the modules' bytecode is kept, as it is for any import."""
    probe = subprocess.run(
        [sys.executable, "-m", "minivoice_flow", "build", "--help"], capture_output=True
    )
    if probe.returncode != 0:
        return [Figure("export: build command", float("nan"), "", None, "not available")]
    layouts = [("one module", n, 1) for n in (1000, 10_000, 100_000)]
    layouts += [("100 modules", n, 100) for n in (10_000, 100_000)]
    times: dict[tuple[str, int], list[float]] = {(name, n): [] for name, n, _ in layouts}
    peaks: dict[tuple[str, int], float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for _, n, modules in layouts:
            source = Path(tmp, f"src-{modules}-{n}")
            source.mkdir()
            per = n // modules
            for m in range(modules):
                lines = _many_flows_module(per, start=m * per)
                Path(source, f"many_{m}.py").write_text(lines)
        first_peak: dict[tuple[str, int], float] = {}
        # The first run of each compiles the modules (bytecode is kept, as for any import)
        # and writes every file; the timed runs find the files up to date, as a CI check
        # or a rebuild after a small edit would.
        for attempt in range(1 + (1 if quick else 2)):
            for name, n, modules in layouts:
                out = Path(tmp, f"out-{modules}-{n}")
                command = [sys.executable, "-m", "minivoice_flow", "build"]
                command += [str(Path(tmp, f"src-{modules}-{n}")), "--out", str(out)]
                start = time.perf_counter()
                peak = _run_measuring_peak(command, _ENV_WITH_BYTECODE)
                took = time.perf_counter() - start
                if attempt == 0:
                    first_peak[name, n] = peak
                else:
                    times[name, n].append(took)
                    peaks[name, n] = max(peaks.get((name, n), 0.0), peak)
    median = {key: statistics.median(t) for key, t in times.items()}
    return [
        Figure(
            "export 1,000 flows (build command, wall time)",
            median["one module", 1000] * 1e3,
            "ms",
            None,
        ),
        Figure("export 10,000 flows", median["one module", 10_000] * 1e3, "ms", None),
        Figure("export 100,000 flows", median["one module", 100_000] * 1e3, "ms", None),
        Figure(
            "export growth: 10,000 / 1,000 flows",
            median["one module", 10_000] / median["one module", 1000],
            "x",
            11.0,
        ),
        Figure(
            "export growth: 100,000 / 10,000 flows, one module",
            median["one module", 100_000] / median["one module", 10_000],
            "x",
            11.0,
        ),
        Figure(
            "export growth: 100,000 / 10,000 flows, 100 modules",
            median["100 modules", 100_000] / median["100 modules", 10_000],
            "x",
            11.0,
        ),
        Figure(
            "export 100,000 flows: peak memory (one module)",
            peaks["one module", 100_000],
            "MB",
            600.0,
            "module bytecode cached",
        ),
        Figure(
            "export 100,000 flows: peak memory, first run (one module)",
            first_peak["one module", 100_000],
            "MB",
            None,
            "CPython compiling the 100,000-line module; every file written",
        ),
    ]


_ENV_WITH_BYTECODE: Final = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def _run_measuring_peak(command: list[str], env: dict[str, str]) -> float:
    """Run ``command`` to the end; its peak resident memory in MB (Linux: ru_maxrss in KiB)."""
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env
    )
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} exited {process.returncode}")
    return usage.ru_maxrss / 1024


def _many_flows_module(n: int, start: int = 0) -> str:
    lines = ["from minivoice_flow import Flow", ""]
    for i in range(start, start + n):
        lines.append(
            f'flow_{i} = Flow("flow_{i}").play("{PROMPT}?n={i}")'
            f'.send_digits("{i % 10}#", pause_before_ms=2000).hangup()'
        )
    return "\n".join(lines) + "\n"


def import_figures(quick: bool) -> list[Figure]:
    """Import time in a fresh process: minivoice_flow against attrs alone (its one import
    on the way to building a flow); cattrs and msgspec must wait until something needs them."""
    probe = textwrap.dedent(
        """
        import sys, time
        start = time.perf_counter()
        import {modules}
        took = time.perf_counter() - start
        heavy = ("cattrs", "msgspec", "jinja2", "sqlite3", "http", "argparse")
        loaded = sorted(m for m in heavy if m in sys.modules)
        print(took, ",".join(loaded))
        """
    )
    runs: dict[str, list[float]] = {"attrs": [], "minivoice_flow": []}
    # Measure as deployed: from byte-code caches, which the first (uncounted) run writes.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    loaded = ""
    for attempt in range(1 + (7 if quick else 25)):
        for modules in runs:
            result = subprocess.run(
                [sys.executable, "-c", probe.format(modules=modules)],
                capture_output=True,
                text=True,
                check=True,
                env=env,
            )
            if attempt == 0:
                continue
            took, names = result.stdout.split(" ", 1)
            runs[modules].append(float(took))
            if modules == "minivoice_flow":
                loaded = names.strip()
    base = statistics.median(runs["attrs"]) * 1e3
    ours_ms = statistics.median(runs["minivoice_flow"]) * 1e3
    return [
        Figure("import attrs (fresh process)", base, "ms", None),
        Figure(
            "import minivoice_flow (fresh process)",
            ours_ms,
            "ms",
            None,
            f"also loaded: {loaded or 'none of cattrs, msgspec, jinja2, sqlite3, http, argparse'}",
        ),
        Figure("import minivoice_flow minus attrs", ours_ms - base, "ms", 10.0),
    ]


def first_call_figures(quick: bool) -> list[Figure]:
    """The first build and the first validate() in a fresh process, after the import; and the
    validate() call that imports msgspec (the 1,000th of a process), once per process."""
    probe = textwrap.dedent(
        """
        import sys, time
        from minivoice_flow import Flow, validate
        start = time.perf_counter()
        text = Flow("x").play("https://a.example/p.wav").hangup().to_json()
        built = time.perf_counter()
        validate(text)
        done = time.perf_counter()
        switch = 0.0
        while "msgspec" not in sys.modules:
            before = time.perf_counter()
            validate(text)
            switch = time.perf_counter() - before
        print(built - start, done - built, switch)
        """
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    builds, validates, switches = [], [], []
    for attempt in range(1 + (5 if quick else 15)):
        result = subprocess.run(
            [sys.executable, "-c", probe], capture_output=True, text=True, check=True, env=env
        )
        if attempt:
            build_s, validate_s, switch_s = map(float, result.stdout.split())
            builds.append(build_s * 1e3)
            validates.append(validate_s * 1e3)
            switches.append(switch_s * 1e3)
    return [
        Figure("first build + to_json() in a fresh process", statistics.median(builds), "ms", None),
        Figure(
            "first validate() in a fresh process",
            statistics.median(validates),
            "ms",
            1.0,
            "includes writing the provers from the catalogue, once",
        ),
        Figure(
            "the validate() call that imports msgspec",
            statistics.median(switches),
            "ms",
            None,
            "the 1,000th of a process, once; later calls decode with msgspec",
        ),
    ]


def machine() -> dict[str, str]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "system": f"{platform.system()} {platform.release()}",
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "date": time.strftime("%Y-%m-%d"),
    }


def replace_section(heading: str, section: str) -> None:
    """Put ``section`` (starting with ``heading``) into bench/results.md in place of the
    section under that heading, keeping every other section."""
    results = ROOT / "bench" / "results.md"
    text = results.read_text()
    pattern = re.compile(rf"\n{re.escape(heading)}\n.*?(?=\n## |\Z)", re.DOTALL)
    text = pattern.sub("", text).rstrip("\n") + "\n\n" + section
    results.write_text(text)


def ratio(case: Case, by_name: dict[str, Case]) -> float | None:
    if case.baseline is None:
        return None
    return case.median / by_name[case.baseline].median


def report(cases: list[Case], figures: list[Figure], info: dict[str, str], quick: bool) -> str:
    by_name = {case.name: case for case in cases}
    lines = [
        f"## minivoice-flow benchmark ({'quick' if quick else 'full'} run)",
        "",
        "Machine: " + ", ".join(f"{k} {v}" for k, v in info.items()),
        "",
        "| case | median | ratio | target | met | note |",
        "|---|---:|---:|---:|:---:|---|",
    ]
    for case in cases:
        value = ratio(case, by_name)
        shown = "baseline" if value is None else f"{value:.2f}x of {case.baseline}"
        met = (
            ""
            if case.target is None or value is None
            else ("yes" if value <= case.target else "NO")
        )
        target = "" if case.target is None else f"<= {case.target}x"
        lines.append(
            f"| {case.name} | {case.median * 1e6:.2f} us | {shown} | {target} | {met} "
            f"| {case.note} |"
        )
    lines += ["", "| figure | value | target | met | note |", "|---|---:|---:|:---:|---|"]
    for figure in figures:
        met = "" if figure.met is None else ("yes" if figure.met else "NO")
        target = "" if figure.target is None else f"<= {figure.target} {figure.unit}"
        lines.append(
            f"| {figure.name} | {figure.value:.2f} {figure.unit} | {target} | {met} "
            f"| {figure.note} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer, shorter repeats")
    parser.add_argument("--json", type=Path, help="where to write the figures as JSON")
    parser.add_argument(
        "--write", action="store_true", help="put the table at the top of bench/results.md"
    )
    parser.add_argument(
        "--only",
        choices=("build", "validate", "growth", "figures"),
        action="append",
        help="run only these sections (repeatable); for quick looks while working",
    )
    args = parser.parse_args(argv)
    repeats, sample = (5, 0.02) if args.quick else (21, 0.1)

    only = set(args.only or ("build", "validate", "growth", "figures"))
    cases = []
    for section, make in (
        ("build", build_cases),
        ("validate", validate_cases),
        ("growth", growth_cases),
    ):
        if section in only:
            cases += make()
    measure(cases, repeats, sample)
    by_name = {case.name: case for case in cases}
    figures = []
    if "growth" in only:
        figures.append(
            Figure(
                "growth: build + serialise 100 / 10 actions",
                ratio(by_name["build + serialise 100 actions"], by_name) or 0,
                "x",
                11.0,
            )
        )
    if "figures" in only:
        figures += export_figures(args.quick)
        figures += import_figures(args.quick)
        figures += first_call_figures(args.quick)
    info = machine()
    table = report(cases, figures, info, args.quick)
    print(table)
    if args.write:
        results = ROOT / "bench" / "results.md"
        old = results.read_text() if results.exists() else ""
        others = old[old.index("\n## ", 1) :] if "\n## " in old[1:] else ""
        results.write_text(table + "\n" + others)

    out = args.json or ROOT / "bench" / ("results-quick.json" if args.quick else "results.json")
    out.write_text(
        json.dumps(
            {
                "machine": info,
                "quick": args.quick,
                "cases": [
                    {
                        "name": c.name,
                        "median_s": c.median,
                        "baseline": c.baseline,
                        "ratio": ratio(c, by_name),
                        "target": c.target,
                        "note": c.note,
                    }
                    for c in cases
                ],
                "figures": [
                    {
                        "name": f.name,
                        "value": f.value,
                        "unit": f.unit,
                        "target": f.target,
                        "met": f.met,
                        "note": f.note,
                    }
                    for f in figures
                ],
            },
            indent=2,
        )
        + "\n"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
