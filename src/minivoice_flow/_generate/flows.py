"""A page per example flow set: its graph in Mermaid, the same graph as SVG beside it, and
every way on as a table; plus an index of the sets.

The flow sets come from the caller (the ``docs`` command imports ``examples/flows`` the way
``build`` does, one set per module); this module only writes pages, so generating the rest
of the docs never imports user code. Needs jinja2 and grandalf (for the SVG).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from attrs import frozen

from minivoice_flow._generate import STAMP
from minivoice_flow._generate.docs import _render, environment
from minivoice_flow._graph import FlowGraph
from minivoice_flow._text import printable

FOLDER: Final = "docs/flows"
#: The README's pictures of the PIN example, one per pause_before_ms.
PIN_PICTURES: Final = "docs/pictures/pin-pause-{pause}.svg"


@frozen
class FlowSetPage:
    """One example flow set: where it is defined, what it is for, and its graph."""

    source: str  # the module's path in the repository, e.g. examples/flows/support_line.py
    summary: str  # the first paragraph of the module's docstring
    graph: FlowGraph


def flow_files(sets: Mapping[str, FlowSetPage]) -> dict[str, str]:
    """``{path: text}``: ``docs/flows/<name>.md`` and ``.svg`` per set, and the index."""
    if not sets:
        return {}
    env = environment()
    env.filters["printable"] = printable
    files = {}
    for name, page in sets.items():
        graph = page.graph
        files[f"{FOLDER}/{name}.md"] = _render(
            env,
            "flows/page.md.j2",
            name=name,
            page=page,
            mermaid=graph.to_mermaid().rstrip("\n"),
            titles={node.id: node.title for node in graph.nodes},
            depth="../" * FOLDER.count("/") + "../",
        )
        files[f"{FOLDER}/{name}.svg"] = stamped(graph.to_svg())
    files[f"{FOLDER}/index.md"] = _render(env, "flows/index.md.j2", sets=sets)
    return files


def pin_pictures() -> dict[str, str]:
    """The README's PIN example simulated with pause_before_ms 0 and 2000, as SVG."""
    from minivoice_flow import Flow
    from minivoice_flow.testing import TestIVR, simulate

    ivr = TestIVR(expect="1234#", ready_after_ms=1500)
    files = {}
    for pause in (0, 2000):
        flow = (
            Flow("pin_entry")
            .transfer("+15551230002", fallback_url="https://app.example.com/ivr/busy")
            .send_digits("1234#", pause_before_ms=pause)
        )
        files[PIN_PICTURES.format(pause=pause)] = stamped(simulate(flow, far_end=ivr).to_svg())
    return files


def stamped(svg: str) -> str:
    """An SVG document with the generated-file stamp after its XML declaration."""
    declaration, _, rest = svg.partition("\n")
    return f"{declaration}\n<!-- {STAMP} -->\n{rest}"
