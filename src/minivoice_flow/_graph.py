"""The graph of an IVR as data, written as Mermaid or DOT text (and SVG, by ``_draw``).

Kept apart from ``graph`` (which builds graphs from flow sets) so that ``fallback`` can name
``FlowGraph`` as ``FlowSet.graph()``'s type without importing the builder, which imports it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Final, Literal
from urllib.parse import urlsplit

from attrs import frozen

from minivoice_flow._actions import Action, Collect, Play, Redirect, SendDigits, Transfer
from minivoice_flow._text import printable

#: ``flow``: a flow; ``dead_end``: a URL nothing in the graph serves; ``open``: a URL where a
#: function chooses the flow at request time, so the graph cannot tell which.
NodeKind = Literal["flow", "dead_end", "open"]

#: Characters Mermaid and DOT labels may hold as they are; the rest are escaped.
_PLAIN: Final = re.compile(r"[A-Za-z0-9 ,.:/_+=?@~()\[\]*!-]")
#: How many characters of a URL or action a label shows before it is shortened.
LABEL_WIDTH: Final = 60


@frozen
class GraphNode:
    """A flow, or a URL that leads nowhere the graph knows.

    ``id`` names the node in the Mermaid and DOT text (``flow_menu``, ``url_1``). A flow
    node has the flow's ``name`` and, when a flow set serves it, its ``url``; a dead end or
    open node has only the ``url``. ``actions`` are the flow's actions in short.
    """

    id: str
    kind: NodeKind
    name: str | None
    url: str | None
    entry: bool
    actions: tuple[str, ...]

    @property
    def title(self) -> str:
        """What the node is called in pictures: the flow's name, or the URL."""
        if self.kind == "flow":
            return self.name if self.name is not None else "(unnamed flow)"
        return self.url or ""

    @property
    def note(self) -> str | None:
        """The line that explains a URL node: why the call goes no further here."""
        return {
            "flow": None,
            "dead_end": "dead end: nothing serves this URL",
            "open": "chosen at request time",
        }[self.kind]


@frozen
class GraphEdge:
    """A way from one node to another; ``conditions`` are what move the call along it."""

    source: str
    target: str
    conditions: tuple[str, ...]

    @property
    def label(self) -> str:
        """The conditions in words: ``no input``, ``pressed 1, 2``, ``busy, failed``."""
        pressed = [c.removeprefix("pressed ") for c in self.conditions if c.startswith("pressed ")]
        others = [c for c in self.conditions if not c.startswith("pressed ")]
        parts = [*others, *([f"pressed {', '.join(pressed)}"] if pressed else [])]
        return ", ".join(parts)


@frozen
class FlowGraph:
    """Nodes and edges of an IVR, in a fixed order; written as Mermaid, DOT or SVG."""

    nodes: tuple[GraphNode, ...]
    edges: tuple[GraphEdge, ...]

    def node(self, key: str) -> GraphNode:
        """The node of the flow named ``key``, or of the URL ``key``."""
        for node in self.nodes:
            if (node.kind == "flow" and node.name == key) or (
                node.kind != "flow" and node.url == key
            ):
                return node
        raise LookupError(f"no flow or URL {key!r} in this graph")

    def to_mermaid(self) -> str:
        """A Mermaid flowchart (renders on GitHub and in most Markdown viewers)."""
        lines = ["flowchart TD"]
        for node in self.nodes:
            text = "<br>".join(_mermaid(line) for line in _node_lines(node))
            lines.append(f'    {node.id}["{text}"]')
        entries = [node for node in self.nodes if node.entry]
        if entries:
            lines.append('    answer_url(["answer_url"])')
            lines.extend(f"    answer_url --> {node.id}" for node in entries)
        for edge in self.edges:
            lines.append(f'    {edge.source} -->|"{_mermaid(edge.label)}"| {edge.target}')
        lines.append("    classDef entry stroke-width:3px")
        lines.append("    classDef dead_end fill:#fdecea,stroke:#c62828,stroke-dasharray:5 3")
        lines.append("    classDef open fill:#f3f3f3,stroke:#777,stroke-dasharray:5 3")
        for kind in ("entry", "dead_end", "open"):
            chosen = [n.id for n in self.nodes if (n.entry if kind == "entry" else n.kind == kind)]
            if chosen:
                lines.append(f"    class {','.join(chosen)} {kind}")
        return "\n".join(lines) + "\n"

    def to_dot(self) -> str:
        """A Graphviz DOT digraph (``dot -Tsvg`` draws it)."""
        lines = [
            "digraph flows {",
            '    graph [rankdir=TB, fontname="monospace"];',
            '    node [shape=box, style=rounded, fontname="monospace", fontsize=11];',
            '    edge [fontname="monospace", fontsize=10];',
        ]
        for node in self.nodes:
            label = "".join(_dot(line) + "\\l" for line in _node_lines(node))
            lines.append(f'    "{node.id}" [label="{label}"{_DOT_STYLE[node.kind, node.entry]}];')
        entries = [node for node in self.nodes if node.entry]
        if entries:
            lines.append('    "answer_url" [label="answer_url", shape=oval, style=solid];')
            lines.extend(f'    "answer_url" -> "{node.id}";' for node in entries)
        for edge in self.edges:
            lines.append(f'    "{edge.source}" -> "{edge.target}" [label="{_dot(edge.label)}"];')
        lines.append("}")
        return "\n".join(lines) + "\n"

    def to_svg(self, *, highlight: Sequence[str] = (), ended_in: str | None = None) -> str:
        """The graph drawn as a self-contained SVG document (no scripts, no external files).

        ``highlight`` names steps of a call in order (flow names, or URLs): their nodes, and
        the edges between consecutive ones, are drawn highlighted. ``ended_in`` marks the
        step the call ended in. Names the graph does not have are ignored. Needs grandalf.
        """
        from minivoice_flow._draw.layered import draw_graph

        return draw_graph(self, highlight=tuple(highlight), ended_in=ended_in)

    def _repr_svg_(self) -> str:
        """The SVG, for notebooks."""
        return self.to_svg()


_DOT_STYLE: Final = {
    ("flow", False): "",
    ("flow", True): ', style="rounded,bold", penwidth=2',
    ("dead_end", False): ', style="rounded,dashed,filled", color="#c62828", fillcolor="#fdecea"',
    ("open", False): ', style="rounded,dashed,filled", color="#777777", fillcolor="#f3f3f3"',
}


# Text of the nodes, and escaping for each output.


def summary(action: Action) -> str:
    """An action in a few words: ``play menu.wav``, ``collect choice (1 digit)``."""
    if isinstance(action, Play):
        loop = f" x{action.loop}" if action.loop is not None else ""
        return f"play {_file(action.url)}{loop}"
    if isinstance(action, Collect):
        digits = action.max_digits
        limit = "" if digits is None else f" ({digits} digit{'s' if digits != 1 else ''})"
        return f"collect {action.variable}{limit}"
    if isinstance(action, Redirect):
        return f"redirect {_path(action.url)}"
    if isinstance(action, Transfer):
        return f"transfer {action.to}"
    if isinstance(action, SendDigits):
        pause = action.pause_before_ms
        return f"send_digits {action.digits}" + (f" after {pause} ms" if pause else "")
    return action.kind


def _file(url: str) -> str:
    """The last part of a URL's path (the file of a recording), or the URL."""
    tail = urlsplit(url).path.rstrip("/").rpartition("/")[2]
    return tail or url


def _path(url: str) -> str:
    """A URL without its scheme and host, which a graph of one app repeats everywhere."""
    parts = urlsplit(url)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def clipped(text: str, width: int = LABEL_WIDTH) -> str:
    """``text`` made printable and cut to ``width`` characters, with ``…`` in the middle."""
    text = printable(text)
    if len(text) <= width:
        return text
    head = (width - 1) // 2
    return text[:head] + "…" + text[len(text) - (width - 1 - head) :]


def _node_lines(node: GraphNode) -> list[str]:
    """The lines of a node's label: its title, then its note or its actions."""
    lines = [clipped(node.title)]
    if node.note is not None:
        lines.insert(0, node.note)
    lines.extend(clipped(action) for action in node.actions)
    return lines


def _mermaid(text: str) -> str:
    """Text for a quoted Mermaid label: anything but plain characters as ``#code;``."""
    return "".join(c if _PLAIN.fullmatch(c) else f"#{ord(c)};" for c in printable(text))


def _dot(text: str) -> str:
    """Text for a quoted DOT string: backslashes and quotes escaped."""
    return printable(text).replace("\\", "\\\\").replace('"', '\\"')
