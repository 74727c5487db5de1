"""The IVR as a graph: flows joined by the URLs of their redirects and transfer fallbacks.

``flow_set.graph()`` (or ``flow_graph(*flow_sets_and_flows)``) gives a ``FlowGraph``: one node
per flow, with its actions in short, and one per URL that nothing in the graph serves (a dead
end); one edge per way a call can move on, labelled with what moves it (``redirect``,
``no input``, ``pressed 1``, ``busy``, ``give up``...), as far as the flow sets know. The
same graph is written as Mermaid, Graphviz DOT or SVG; the same flows always give the same
text, byte for byte.

Every name and URL is untrusted text: each output quotes and escapes it for its own syntax,
so no flow name can break or inject into the Mermaid, the DOT or the SVG. The SVG is laid
out by grandalf (pure Python, imported only by ``to_svg``: ``pip install
'minivoice-flow[graph]'``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Final

from minivoice_flow import Diagnostic, Flow, FlowError, Redirect, Transfer
from minivoice_flow._graph import FlowGraph, GraphEdge, GraphNode, NodeKind, summary
from minivoice_flow.fallback import FlowSet, combine

__all__ = ["FlowGraph", "GraphEdge", "GraphNode", "NodeKind", "flow_graph"]

#: What moves a call on at a transfer's fallback_url.
_TRANSFER_FAILED: Final = ("busy", "no_answer", "failed")
_NOT_IN_ID: Final = re.compile(r"[^A-Za-z0-9_]")


def flow_graph(*sources: FlowSet | Flow) -> FlowGraph:
    """The graph of flow sets and single named flows, in the order given.

    Each flow set's entry is marked as an entry (where the answer_url leads). A flow given
    on its own is a node with its ways on; the URLs they lead to are followed only where a
    flow set given serves them. Two different flows with one name, or two sets serving one
    URL differently, raise ``FlowError``.
    """
    sets = [source for source in sources if isinstance(source, FlowSet)]
    merged = combine(*sets) if sets else None
    builder = _Builder(merged)
    for source in sources:
        if isinstance(source, FlowSet):
            builder.add_flows(source.flows)
        elif isinstance(source, Flow):
            builder.add_flows([source])
        else:
            raise TypeError(f"flow_graph() takes FlowSet and Flow objects; got {source!r}")
    return builder.build(entries=[s.entry for s in sets])


class _Builder:
    """Nodes in the order found: the flows given, flows reached through choices, then URLs."""

    def __init__(self, merged: FlowSet | None) -> None:
        self._merged = merged
        self._flows: dict[str, Flow] = {}
        self._ids: dict[object, str] = {}  # a flow's name (or the flow), or ("url", url)
        self._nodes: list[tuple[str, NodeKind, Flow | None, str | None]] = []
        self._urls: list[str] = []
        self._edges: dict[tuple[str, str], list[str]] = {}
        #: The URL serving each flow of the sets, by the flow's name.
        self._served_at: dict[str, str] = {}
        if merged is not None:
            for url in sorted(merged.urls()):
                first = merged.choices(url)[0]
                if first.when is None and first.flow is not None and first.flow.name is not None:
                    self._served_at.setdefault(first.flow.name, url)

    def add_flows(self, flows: Iterable[Flow]) -> None:
        for flow in flows:
            self._flow_id(flow)

    def build(self, entries: Sequence[Flow]) -> FlowGraph:
        done = 0
        while done < len(self._nodes):  # flows reached through choices join as they are found
            node_id, _kind, flow, _ = self._nodes[done]
            done += 1
            if flow is not None:
                for url, trigger in _exits(flow):
                    self._follow(node_id, url, trigger)
        entry_ids = {self._flow_id(flow) for flow in entries}
        nodes = tuple(
            GraphNode(
                node_id,
                kind,
                flow.name if flow is not None else None,
                self._served_at.get(str(flow.name)) if flow is not None else url,
                node_id in entry_ids,
                tuple(summary(action) for action in flow.actions) if flow is not None else (),
            )
            for node_id, kind, flow, url in self._nodes
        )
        edges = tuple(GraphEdge(s, t, tuple(c)) for (s, t), c in self._edges.items())
        return FlowGraph(nodes, edges)

    def _follow(self, source: str, url: str, trigger: tuple[str, ...]) -> None:
        if self._merged is None or url not in self._merged:
            self._edge(source, self._url_id(url, "dead_end"), trigger)
            return
        for choice in self._merged.choices(url):
            conditions = trigger if choice.when is None else (choice.when,)
            if choice.flow is None:
                self._edge(source, self._url_id(url, "open"), conditions)
            else:
                self._edge(source, self._flow_id(choice.flow), conditions)

    def _edge(self, source: str, target: str, conditions: Iterable[str]) -> None:
        known = self._edges.setdefault((source, target), [])
        known.extend(c for c in conditions if c not in known)

    def _flow_id(self, flow: Flow) -> str:
        key: object = flow.name if flow.name is not None else flow
        known = self._ids.get(key)
        if known is not None:
            if flow.name is not None and self._flows[flow.name] != flow:
                message = f"two different flows named {flow.name!r}: give one another name"
                raise FlowError(message, [Diagnostic.error("invalid_value", "", message)])
            return known
        node_id = self._new_id("flow_" + _NOT_IN_ID.sub("_", flow.name or "unnamed"))
        self._ids[key] = node_id
        if flow.name is not None:
            self._flows[flow.name] = flow
        self._nodes.append((node_id, "flow", flow, None))
        return node_id

    def _url_id(self, url: str, kind: NodeKind) -> str:
        known = self._ids.get(("url", url))
        if known is None:
            self._urls.append(url)
            known = self._ids[("url", url)] = self._new_id(f"url_{len(self._urls)}")
            self._nodes.append((known, kind, None, url))
        return known

    def _new_id(self, wanted: str) -> str:
        taken = set(self._ids.values())
        node_id, number = wanted, 1
        while node_id in taken:
            number += 1
            node_id = f"{wanted}_{number}"
        return node_id


def _exits(flow: Flow) -> Iterable[tuple[str, tuple[str, ...]]]:
    """Where a flow sends MiniVoice next, and what sends it there."""
    for action in flow.actions:
        if isinstance(action, Redirect):
            yield action.url, ("redirect",)
        elif isinstance(action, Transfer) and action.fallback_url is not None:
            yield action.fallback_url, _TRANSFER_FAILED
