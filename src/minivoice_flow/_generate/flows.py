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
        svg = graph.to_svg()
        declaration, _, rest = svg.partition("\n")
        files[f"{FOLDER}/{name}.svg"] = f"{declaration}\n<!-- {STAMP} -->\n{rest}"
    files[f"{FOLDER}/index.md"] = _render(env, "flows/index.md.j2", sets=sets)
    return files
