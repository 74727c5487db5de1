#!/usr/bin/env python3
"""Benchmarks of minivoice-flow against the floor and its peers.

    python bench/run.py            # the full run (a few minutes)
    python bench/run.py --quick    # fewer, shorter repeats (under a minute)

Every figure is a median over repeats that are interleaved across the cases, and is reported
as a ratio to a baseline measured in the same run, because absolute times on a shared,
noisy machine mean little. Peers (twilio, plivo, vonage-voice, jsonschema, fastjsonschema)
are measured when installed: ``pip install -e '.[bench]'``.

The call journal's throughput (SQLite and PostgreSQL, 1 to 8 writer processes) is measured
apart, by ``python bench/journal.py``, and the support page with 100,000 calls by ``python
bench/support.py``; each writes its own section of ``bench/results.md``.

Writes a Markdown table to stdout and the figures as JSON (``--json``, default
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
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))  # the working tree's package, installed or not

from minivoice_flow import Flow, validate  # noqa: E402  (after the path is set)

PROMPT = "https://media.example.com/hello.wav"
GOODBYE = "https://media.example.com/bye.wav"


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


# The 4-action flow of the issue: play, send_digits "1234#" after 2000 ms, play, hangup.


def floor() -> str:
    payload = {
        "actions": [
            {"play": {"url": PROMPT}},
            {"send_digits": {"digits": "1234#", "pause_before_ms": 2000}},
            {"play": {"url": GOODBYE}},
            {"hangup": {}},
        ]
    }
    return json.dumps(payload, separators=(",", ":"))


def ours() -> str:
    return (
        Flow("bench")
        .play(PROMPT)
        .send_digits("1234#", pause_before_ms=2000)
        .play(GOODBYE)
        .hangup()
        .to_json()
    )


def twilio_case() -> Callable[[], object] | None:
    try:
        from twilio.twiml.voice_response import VoiceResponse
    except ImportError:
        return None

    def build() -> str:
        response = VoiceResponse()
        response.play(PROMPT)
        response.play(digits="wwww1234#")  # w is half a second: 2000 ms, then the digits
        response.play(GOODBYE)
        response.hangup()
        return str(response)

    return build


def plivo_case() -> Callable[[], object] | None:
    try:
        from plivo import plivoxml
    except ImportError:
        return None

    def build() -> str:
        response = plivoxml.ResponseElement()
        response.add(plivoxml.PlayElement(PROMPT))
        response.add(plivoxml.DTMFElement("wwww1234#"))
        response.add(plivoxml.PlayElement(GOODBYE))
        response.add(plivoxml.HangupElement())
        text: str = response.to_string(False)
        return text

    return build


def vonage_case() -> Callable[[], object] | None:
    try:
        from vonage_voice.models import ncco
    except ImportError:
        return None

    def build() -> str:
        # NCCO has no action that sends DTMF or hangs up: the nearest flow streams the two
        # prompts around a two-second wait (the call ends when the NCCO does).
        actions = [
            ncco.Stream(streamUrl=[PROMPT]),
            ncco.Wait(timeout=2),
            ncco.Stream(streamUrl=[GOODBYE]),
        ]
        return json.dumps([a.model_dump(by_alias=True, exclude_none=True) for a in actions])

    return build


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
                baseline="json.loads of the same text",
                note="measured elsewhere: about 56x",
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
                baseline="json.loads of the same text",
                note="measured elsewhere: about 4x",
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


def request_path_cases() -> list[Case]:
    from_json = ours()
    prebuilt = _prebuilt()
    prebuilt.to_json()
    cases = [
        Case("floor: json.dumps of the dict literal", floor),
        Case(
            "minivoice-flow: build + check + serialise",
            ours,
            baseline="floor: json.dumps of the dict literal",
            target=2.0,
        ),
        Case(
            "minivoice-flow: to_json() of a flow serialised before",
            prebuilt.to_json,
            baseline="floor: json.dumps of the dict literal",
            target=0.2,
        ),
    ]
    for name, make, seen in (
        ("twilio: VoiceResponse to TwiML", twilio_case, "about 6x"),
        ("plivo: plivoxml to XML", plivo_case, "about 3.5x"),
        ("vonage: NCCO models to JSON", vonage_case, "about 3.3x"),
    ):
        build = make()
        if build is not None:
            cases.append(
                Case(
                    name,
                    build,
                    baseline="floor: json.dumps of the dict literal",
                    note=f"measured elsewhere: {seen}",
                )
            )
    cases += [
        Case("json.loads of the same text", lambda: json.loads(from_json)),
        Case(
            "minivoice-flow: validate() with every diagnostic",
            lambda: validate(from_json),
            baseline="json.loads of the same text",
            target=3.0,
        ),
    ]
    # validate()'s fast path takes compact text written in definition order; any other
    # layout gets the full walk, timed here on the same payload, indented.
    indented = json.dumps(json.loads(from_json), indent=2)
    cases += [
        Case("json.loads of the indented text", lambda: json.loads(indented)),
        Case(
            "minivoice-flow: validate() of the indented text (the full walk)",
            lambda: validate(indented),
            baseline="json.loads of the indented text",
        ),
    ]
    cases += schema_validators(from_json)
    return cases


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


def _prebuilt() -> Any:
    return (
        Flow("bench").play(PROMPT).send_digits("1234#", pause_before_ms=2000).play(GOODBYE).hangup()
    )


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
    """Wall time of ``minivoice-flow build`` exporting 100, 1,000 and 10,000 flows."""
    probe = subprocess.run(
        [sys.executable, "-m", "minivoice_flow", "build", "--help"], capture_output=True
    )
    if probe.returncode != 0:
        return [Figure("export: build command", float("nan"), "", None, "not available")]
    sizes = (100, 1000, 10000)
    times: dict[int, list[float]] = {n: [] for n in sizes}
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            module = Path(tmp, f"src{n}", "many.py")
            module.parent.mkdir()
            module.write_text(_many_flows_module(n))
        for _ in range(1 if quick else 3):
            for n in sizes:
                out = Path(tmp, f"out{n}")
                start = time.perf_counter()
                subprocess.run(
                    [
                        sys.executable,
                        "-m",
                        "minivoice_flow",
                        "build",
                        str(Path(tmp, f"src{n}")),
                        "--out",
                        str(out),
                    ],
                    check=True,
                    capture_output=True,
                )
                times[n].append(time.perf_counter() - start)
    medians = {n: statistics.median(t) for n, t in times.items()}
    return [
        Figure("export 100 flows (build command, wall time)", medians[100] * 1e3, "ms", None),
        Figure("export 1,000 flows", medians[1000] * 1e3, "ms", None),
        Figure("export 10,000 flows", medians[10000] * 1e3, "ms", None),
        Figure(
            "export growth: 10,000 flows / 1,000 flows", medians[10000] / medians[1000], "x", 11.0
        ),
    ]


def _many_flows_module(n: int) -> str:
    lines = ["from minivoice_flow import Flow", ""]
    for i in range(n):
        lines.append(
            f'flow_{i} = Flow("flow_{i}").play("{PROMPT}?n={i}")'
            f'.send_digits("{i % 10}#", pause_before_ms=2000).hangup()'
        )
    return "\n".join(lines) + "\n"


def import_figures(quick: bool) -> list[Figure]:
    """Import time in a fresh process: minivoice_flow against attrs + cattrs alone."""
    probe = textwrap.dedent(
        """
        import sys, time
        start = time.perf_counter()
        import {modules}
        took = time.perf_counter() - start
        loaded = sorted(m for m in ("jinja2", "sqlite3", "http", "argparse") if m in sys.modules)
        print(took, ",".join(loaded))
        """
    )
    runs: dict[str, list[float]] = {"attrs, cattrs": [], "minivoice_flow": []}
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
    base = statistics.median(runs["attrs, cattrs"]) * 1e3
    ours_ms = statistics.median(runs["minivoice_flow"]) * 1e3
    return [
        Figure("import attrs, cattrs (fresh process)", base, "ms", None),
        Figure(
            "import minivoice_flow (fresh process)",
            ours_ms,
            "ms",
            None,
            f"also loaded: {loaded or 'none of jinja2, sqlite3, http, argparse'}",
        ),
        Figure("import minivoice_flow minus attrs + cattrs", ours_ms - base, "ms", 10.0),
    ]


def first_call_figures(quick: bool) -> list[Figure]:
    """The first build and the first validate() in a fresh process, after the import.

    validate() compiles its fast-path expression on first use; this is what that costs a
    cold-started handler, once.
    """
    probe = textwrap.dedent(
        """
        import time
        from minivoice_flow import Flow, validate
        start = time.perf_counter()
        text = Flow("x").play("https://a.example/p.wav").hangup().to_json()
        built = time.perf_counter()
        validate(text)
        done = time.perf_counter()
        print(built - start, done - built)
        """
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    builds, validates = [], []
    for attempt in range(1 + (5 if quick else 15)):
        result = subprocess.run(
            [sys.executable, "-c", probe], capture_output=True, text=True, check=True, env=env
        )
        if attempt:
            build_s, validate_s = map(float, result.stdout.split())
            builds.append(build_s * 1e3)
            validates.append(validate_s * 1e3)
    return [
        Figure("first build + to_json() in a fresh process", statistics.median(builds), "ms", None),
        Figure(
            "first validate() in a fresh process",
            statistics.median(validates),
            "ms",
            None,
            "includes compiling the fast-path expression, once",
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
    args = parser.parse_args(argv)
    repeats, sample = (5, 0.02) if args.quick else (21, 0.1)

    cases = request_path_cases() + growth_cases()
    measure(cases, repeats, sample)
    by_name = {case.name: case for case in cases}
    figures = [
        Figure(
            "growth: build + serialise 100 / 10 actions",
            ratio(by_name["build + serialise 100 actions"], by_name) or 0,
            "x",
            11.0,
        ),
    ]
    figures += export_figures(args.quick)
    figures += import_figures(args.quick)
    figures += first_call_figures(args.quick)
    info = machine()
    print(report(cases, figures, info, args.quick))

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
