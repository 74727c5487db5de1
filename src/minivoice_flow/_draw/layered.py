"""The IVR graph as SVG, laid out in layers by grandalf's Sugiyama layout.

grandalf places boxes of the sizes we give it, layer under layer, with few crossings, and
routes each edge through the layers it spans; we only measure the boxes and draw. An edge's
label is a box of its own in the middle of the edge (as Graphviz does), so the layout keeps
labels clear of nodes and of each other. Separate parts of the graph are laid out one by one
and set side by side, in the order of their first node.
"""

from __future__ import annotations

import itertools
import math
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Final

from minivoice_flow._draw._svg import (
    Attributes,
    add,
    clip,
    document,
    label,
    number,
    root,
    text_width,
)
from minivoice_flow._text import printable

if TYPE_CHECKING:
    from minivoice_flow.graph import FlowGraph, GraphEdge, GraphNode

TITLE_SIZE: Final = 13
LINE_SIZE: Final = 11
EDGE_SIZE: Final = 11
PAD: Final = 8
TITLE_HEIGHT: Final = 20
LINE_HEIGHT: Final = 15
MIN_WIDTH: Final = 110
#: How many characters of a title or action line a node shows.
NODE_CELLS: Final = 60
MARGIN: Final = 16
GAP: Final = 40  # between separate parts of the graph
ROW_WIDTH: Final = 1400

INK: Final = "#263238"
MUTED: Final = "#546e7a"
ACCENT: Final = "#e65100"
FILLS: Final = {"flow": "#ffffff", "dead_end": "#fdecea", "open": "#f3f3f3"}
STROKES: Final = {"flow": INK, "dead_end": "#c62828", "open": "#757575"}
HEADERS: Final = {"flow": "#e3f2fd", "dead_end": "#f9d6d2", "open": "#e6e6e6"}
ENTRY_HEADER: Final = "#dcedc8"
ENDED_LINE: Final = "call ended here"


class MissingLayoutLibrary(ImportError):
    """grandalf, which lays out the graph's SVG, is not installed."""


class _Box:
    """The view grandalf reads (``w``, ``h``) and writes (``xy``, the centre)."""

    def __init__(self, width: float, height: float) -> None:
        self.w = width
        self.h = height
        self.xy: tuple[float, float] = (0.0, 0.0)


class _Path:
    """The view of an edge: grandalf sets its points."""

    def __init__(self) -> None:
        self.points: list[tuple[float, float]] = []
        self.head_angle = 0.0

    def setpath(self, points: list[tuple[float, float]]) -> None:
        self.points = [(float(x), float(y)) for x, y in points]


def draw_graph(graph: FlowGraph, *, highlight: Sequence[str], ended_in: str | None) -> str:
    """The graph as an SVG document (see ``FlowGraph.to_svg``)."""
    try:
        from grandalf.graphs import Edge, Graph, Vertex
        from grandalf.layouts import SugiyamaLayout
        from grandalf.routing import route_with_lines
    except ModuleNotFoundError as error:
        if error.name != "grandalf":
            raise
        raise MissingLayoutLibrary(
            "drawing a graph as SVG needs grandalf, which lays it out: "
            "pip install 'minivoice-flow[graph]'"
        ) from None

    visited = [step for step in highlight if _has(graph, step)]
    ended = ended_in if ended_in is not None and _has(graph, ended_in) else None
    lines = {node.id: _lines(node, ended == _key(node)) for node in graph.nodes}
    vertices: dict[str, Any] = {}
    for node in graph.nodes:
        vertex = Vertex(node.id)
        vertex.view = _Box(*_node_size(lines[node.id]))
        vertices[node.id] = vertex
    entries = [node.id for node in graph.nodes if node.entry]
    if entries:
        start = vertices["answer_url"] = Vertex("answer_url")
        start.view = _Box(text_width("answer_url", LINE_SIZE) + 2 * PAD, 22)
    pieces: list[tuple[Any, Any]] = []  # (edge, label vertex) per GraphEdge
    edges: list[Any] = []
    for node_id in entries:
        edges.append(Edge(vertices["answer_url"], vertices[node_id]))
    for index, graph_edge in enumerate(graph.edges):
        middle = Vertex(f"label {index}")
        text = clip(graph_edge.label, NODE_CELLS)
        middle.view = _Box(text_width(text, EDGE_SIZE) + 8, EDGE_SIZE + 6)
        vertices[middle.data] = middle
        first = Edge(vertices[graph_edge.source], middle)
        second = Edge(middle, vertices[graph_edge.target])
        edges += [first, second]
        pieces.append((first, second))
    for edge in edges:
        edge.view = _Path()

    layout = Graph(list(vertices.values()), edges)
    order = {vertex: index for index, vertex in enumerate(vertices.values())}
    # Separate parts side by side, in rows no wider than ROW_WIDTH (unless one part is).
    x_offset, y_offset, row_height, width = float(MARGIN), float(MARGIN), 0.0, 0.0
    for part in sorted(layout.C, key=lambda c: min(order[v] for v in c.sV)):
        sugiyama = SugiyamaLayout(part)
        sugiyama.xspace, sugiyama.yspace = 24, 28
        sugiyama.route_edge = route_with_lines
        members = list(part.sV)
        roots = [v for v in members if v.data == "answer_url"] or [
            v for v in members if not v.e_in()
        ]
        sugiyama.init_all(roots=roots or [min(members, key=order.__getitem__)])
        sugiyama.draw(3)
        left = min(v.view.xy[0] - v.view.w / 2 for v in members)
        top = min(v.view.xy[1] - v.view.h / 2 for v in members)
        right = max(v.view.xy[0] + v.view.w / 2 for v in members)
        bottom = max(v.view.xy[1] + v.view.h / 2 for v in members)
        if x_offset > MARGIN and x_offset + right - left > ROW_WIDTH:
            x_offset, y_offset, row_height = float(MARGIN), y_offset + row_height + GAP, 0.0
        _shift(members, part.sE, x_offset - left, y_offset - top)
        x_offset += right - left + GAP
        width = max(width, x_offset - GAP + MARGIN)
        row_height = max(row_height, bottom - top)
    height = y_offset + row_height + MARGIN

    flows = sum(1 for node in graph.nodes if node.kind == "flow")
    dead = sum(1 for node in graph.nodes if node.kind == "dead_end")
    svg = root(
        width,
        height,
        "minivoice-graph",
        f"IVR graph: {flows} flow{'s' if flows != 1 else ''}, "
        f"{dead} dead end{'s' if dead != 1 else ''}",
        "Each box is a flow (its actions in short) or a URL nothing serves; each arrow is a "
        "way a call moves on, labelled with what moves it.",
    )
    steps = list(itertools.pairwise(visited))
    edge_layer = add(svg, "g", {"class": "edges"})
    drawn = []
    for graph_edge, (first, second) in zip(graph.edges, pieces, strict=True):
        source, target = _node(graph, graph_edge.source), _node(graph, graph_edge.target)
        drawn.append(((_key(source), _key(target)) in steps, graph_edge, first, second))
    for walked, graph_edge, first, second in sorted(drawn, key=lambda item: item[0]):
        _draw_edge(edge_layer, graph_edge, first, second, walked=walked)  # the call's on top
    if entries:
        _draw_start(edge_layer, vertices["answer_url"], list(edges[: len(entries)]))
    node_layer = add(svg, "g", {"class": "nodes"})
    for node in graph.nodes:
        _draw_node(
            node_layer,
            node,
            vertices[node.id].view,
            lines[node.id],
            visited=_key(node) in visited,
            ended=_key(node) == ended,
        )
    return document(svg)


def _shift(vertices: list[Any], edges: Any, dx: float, dy: float) -> None:
    for vertex in vertices:
        x, y = vertex.view.xy
        vertex.view.xy = (x + dx, y + dy)
    for edge in edges:
        edge.view.points = [(x + dx, y + dy) for x, y in edge.view.points]


def _key(node: GraphNode) -> str:
    """The name a call's step has for this node: the flow's name, or the URL."""
    return node.name if node.kind == "flow" and node.name is not None else (node.url or "")


def _has(graph: FlowGraph, step: str) -> bool:
    return any(_key(node) == step for node in graph.nodes)


def _node(graph: FlowGraph, node_id: str) -> GraphNode:
    return next(node for node in graph.nodes if node.id == node_id)


def _lines(node: GraphNode, ended: bool) -> list[tuple[str, str, str | None]]:
    """(role, shown text, full text when clipped) for each line of a node, title first."""
    found: list[tuple[str, str, str | None]] = [("title", *_clipped(node.title))]
    if node.note is not None:
        found.append(("note", node.note, None))
    found.extend(("action", *_clipped(action)) for action in node.actions)
    if ended:
        found.append(("ended", ENDED_LINE, None))
    return found


def _clipped(text: str) -> tuple[str, str | None]:
    shown = clip(text, NODE_CELLS)
    return shown, (text if shown != printable(text) else None)


def _node_size(lines: list[tuple[str, str, str | None]]) -> tuple[float, float]:
    widths = [
        text_width(text, TITLE_SIZE if role == "title" else LINE_SIZE) for role, text, _ in lines
    ]
    width = max([MIN_WIDTH, *(w + 2 * PAD for w in widths)])
    return width, TITLE_HEIGHT + LINE_HEIGHT * (len(lines) - 1) + (PAD if len(lines) > 1 else 0)


def _draw_node(
    parent: ET.Element,
    node: GraphNode,
    box: _Box,
    lines: list[tuple[str, str, str | None]],
    *,
    visited: bool,
    ended: bool,
) -> None:
    classes = ["node", node.kind.replace("_", "-")]
    classes += [name for name, on in (("entry", node.entry), ("visited", visited)) if on]
    classes += ["ended"] if ended else []
    group = add(
        parent,
        "g",
        {"class": " ".join(classes), "data-node": node.id, "data-step": _key(node)},
    )
    add(group, "title", text=node.title)
    left, top = box.xy[0] - box.w / 2, box.xy[1] - box.h / 2
    stroke = ACCENT if visited or ended else STROKES[node.kind]
    dashed = "5 3" if node.kind != "flow" else None
    header = ENTRY_HEADER if node.entry else HEADERS[node.kind]
    frame = {"x": left, "y": top, "width": box.w, "rx": 6}
    add(group, "rect", {**frame, "height": box.h, "fill": FILLS[node.kind]})
    add(group, "rect", {**frame, "height": TITLE_HEIGHT, "fill": header})
    if len(lines) > 1:
        add(group, "rect", {"x": left, "y": top + 10, "width": box.w, "height": 10, "fill": header})
    width = 3 if visited or ended else (2 if node.entry else 1)
    add(
        group,
        "rect",
        {
            **frame,
            "height": box.h,
            "fill": "none",
            "stroke": stroke,
            "stroke-width": width,
            "stroke-dasharray": dashed,
        },
    )
    y = top + 14
    for role, text, full in lines:
        style: dict[str, str | int | None] = {"font-size": LINE_SIZE, "fill": INK}
        if role == "title":
            style = {"font-size": TITLE_SIZE, "font-weight": "bold", "fill": INK}
        elif role in ("note", "ended"):
            style = {"font-size": LINE_SIZE, "font-style": "italic"}
            style["fill"] = ACCENT if role == "ended" else STROKES[node.kind]
        label(group, left + PAD, y, text, {"class": role, **style}, tooltip=full)
        y += TITLE_HEIGHT + PAD - 4 if role == "title" else LINE_HEIGHT


def _draw_edge(
    parent: ET.Element, edge: GraphEdge, first: Any, second: Any, *, walked: bool
) -> None:
    classes = "edge visited" if walked else "edge"
    group = add(
        parent,
        "g",
        {
            "class": classes,
            "data-source": edge.source,
            "data-target": edge.target,
            "data-label": edge.label,
        },
    )
    color = ACCENT if walked else MUTED
    stroke: Attributes = {"fill": "none", "stroke": color, "stroke-width": 2.5 if walked else 1.3}
    for piece in (first, second):
        add(group, "path", {"d": _line(piece.view.points), **stroke})
    _arrowhead(group, second.view.points, color)
    middle = second.v[0].view
    text = clip(edge.label, NODE_CELLS)
    add(
        group,
        "rect",
        {
            "x": middle.xy[0] - middle.w / 2,
            "y": middle.xy[1] - middle.h / 2,
            "width": middle.w,
            "height": middle.h,
            "rx": 3,
            "fill": "#ffffff",
            "stroke": color,
            "stroke-width": 0.6,
        },
    )
    label(
        group,
        middle.xy[0],
        middle.xy[1] + EDGE_SIZE * 0.35,
        text,
        {"class": "label", "font-size": EDGE_SIZE, "text-anchor": "middle", "fill": INK},
        tooltip=edge.label,
    )


def _draw_start(parent: ET.Element, start: Any, edges: list[Any]) -> None:
    group = add(parent, "g", {"class": "start"})
    box = start.view
    for edge in edges:
        add(group, "path", {"d": _line(edge.view.points), "fill": "none", "stroke": INK})
        _arrowhead(group, edge.view.points, INK)
    add(
        group,
        "rect",
        {
            "x": box.xy[0] - box.w / 2,
            "y": box.xy[1] - box.h / 2,
            "width": box.w,
            "height": box.h,
            "rx": box.h / 2,
            "fill": "#dcedc8",
            "stroke": INK,
        },
    )
    attributes: Attributes = {"font-size": LINE_SIZE, "text-anchor": "middle", "fill": INK}
    label(group, box.xy[0], box.xy[1] + 4, "answer_url", attributes)


def _line(points: list[tuple[float, float]]) -> str:
    return "M" + " L".join(f"{number(x)} {number(y)}" for x, y in points)


def _arrowhead(parent: ET.Element, points: list[tuple[float, float]], color: str) -> None:
    """A filled triangle at the end of ``points``, pointing along the last segment."""
    (x0, y0), (x1, y1) = points[-2], points[-1]
    angle = math.atan2(y1 - y0, x1 - x0)
    size, spread = 9.0, 0.4
    corners = [
        (x1, y1),
        (x1 - size * math.cos(angle - spread), y1 - size * math.sin(angle - spread)),
        (x1 - size * math.cos(angle + spread), y1 - size * math.sin(angle + spread)),
    ]
    add(parent, "path", {"d": _line(corners) + " Z", "fill": color, "class": "arrow"})
