"""The IVR graph: nodes are the flows plus the unserved URLs, edges the ways on; Mermaid and
DOT of the example flow sets match their golden files; hostile names cannot break any output."""

from __future__ import annotations

import importlib
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pydot
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minivoice_flow import Flow, FlowError
from minivoice_flow._cli.docs import example_flow_sets
from minivoice_flow.fallback import (
    Choice,
    FlowSet,
    collect_with_retries,
    combine,
    serve,
    transfer_with_fallback,
)
from minivoice_flow.graph import FlowGraph, flow_graph

# pydot (the DOT parser the tests read our DOT back with) still calls pyparsing's old names.
pytestmark = pytest.mark.filterwarnings("ignore:.* deprecated - use :DeprecationWarning")

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = Path(__file__).resolve().parent / "golden" / "graphs"
SVG = "{http://www.w3.org/2000/svg}"
BASE = "https://app.example.com/ivr"
MEDIA = "https://media.example.com"
HOSTILE = [
    "<script>alert(1)</script>",
    "say \"hi\" & 'bye'",
    "]]><!-- -->",
    "a\x00b\x1bc\x7f\u2028d",
    "lone \ud800 surrogate",
    "}; digraph x { y",
    '"] --> evil["',
    "#quot; #35; \\\\ \\n \\l",
    "end",
]


@pytest.fixture(scope="module")
def examples() -> dict[str, FlowGraph]:
    return {name: page.graph for name, page in example_flow_sets(ROOT).items()}


@pytest.fixture(scope="module")
def support_line() -> FlowSet:
    sys.path.insert(0, str(ROOT / "examples" / "flows"))
    try:
        module = importlib.import_module("support_line")
    finally:
        sys.path.pop(0)
    flow_set: FlowSet = module.SUPPORT_LINE
    return flow_set


def edges_by_title(graph: FlowGraph) -> set[tuple[str, str, str]]:
    titles = {node.id: node.title for node in graph.nodes}
    return {(titles[e.source], titles[e.target], e.label) for e in graph.edges}


def parse_svg(text: str) -> ET.Element:
    return ET.fromstring(text.encode("utf-8"))


#: A line of our Mermaid after the first: a node, an edge, or a class.
MERMAID_LINE = re.compile(
    r'    (\w+(\["[^"]*"\]|\(\["[^"]*"\]\))'
    r'|\w+ -->(\|"[^"]*"\|)? \w+|classDef .*|class [\w,]+ \w+)'
)


def _parsed_dot(text: str) -> pydot.Dot:
    """The one graph a DOT text holds, read by pydot."""
    graphs = pydot.graph_from_dot_data(text)
    assert graphs is not None and len(graphs) == 1
    return graphs[0]


class TestNodesAndEdges:
    """A node per flow and per unserved URL; an edge per way on, labelled by what moves it."""

    def test_support_line_nodes_are_its_flows_plus_its_unserved_urls(
        self, support_line: FlowSet
    ) -> None:
        """Exactly the set's flows, the entry marked, and no dead end (the set is closed)."""
        graph = support_line.graph()
        flows = [n.name for n in graph.nodes if n.kind == "flow"]
        assert flows == [f.name for f in support_line.flows]
        assert {n.url for n in graph.nodes if n.kind != "flow"} == support_line.unserved()
        assert [n.name for n in graph.nodes if n.entry] == ["support_menu"]
        assert graph.node("support_menu").url == f"{BASE}/support_menu"

    def test_support_line_edges_are_exactly_the_ways_on(self, support_line: FlowSet) -> None:
        """Retries on no input, give up after the last, each key, each transfer status."""
        assert edges_by_title(support_line.graph()) == {
            ("support_menu", "support_menu_retry_1", "no input"),
            ("support_menu", "account_pin", "pressed 1"),
            ("support_menu", "support_agent", "pressed 2"),
            ("support_menu_retry_1", "support_menu_retry_2", "no input"),
            ("support_menu_retry_1", "account_pin", "pressed 1"),
            ("support_menu_retry_1", "support_agent", "pressed 2"),
            ("support_menu_retry_2", "support_agent", "give up, pressed 2"),
            ("support_menu_retry_2", "account_pin", "pressed 1"),
            ("support_agent", "support_agent_busy", "busy"),
            ("support_agent", "support_agent_no_answer", "no_answer"),
            ("support_agent", "support_agent_fallback", "failed"),
            ("account_pin", "account_pin_retry_1", "no input"),
            ("account_pin", "pin_accepted", "input"),
            ("account_pin_retry_1", "account_pin_retry_2", "no input"),
            ("account_pin_retry_1", "pin_accepted", "input"),
            ("account_pin_retry_2", "account_pin_give_up", "give up"),
            ("account_pin_retry_2", "pin_accepted", "input"),
        }

    def test_unserved_urls_are_dead_ends(self) -> None:
        """A redirect and a fallback_url nobody serves each become a dead-end node."""
        flows = serve(
            Flow("menu")
            .play(f"{MEDIA}/menu.wav")
            .transfer("+15551230002", fallback_url=f"{BASE}/nowhere")
            .redirect(f"{BASE}/gone"),
            base_url=BASE,
        )
        graph = flows.graph()
        dead = {n.url for n in graph.nodes if n.kind == "dead_end"}
        assert dead == flows.unserved() == {f"{BASE}/nowhere", f"{BASE}/gone"}
        assert edges_by_title(graph) == {
            ("menu", f"{BASE}/nowhere", "busy, no_answer, failed"),
            ("menu", f"{BASE}/gone", "redirect"),
        }

    def test_a_redirect_to_a_served_flow_is_labelled_redirect(self) -> None:
        """Two flows joined by a plain redirect to the other's URL."""
        second = serve(Flow("second").hangup(), base_url=BASE)
        first = serve(Flow("first").redirect(f"{BASE}/second"), base_url=BASE)
        graph = combine(first, second).graph()
        assert edges_by_title(graph) == {("first", "second", "redirect")}

    def test_catch_all_of_a_transfer_is_reached_by_other_statuses(self) -> None:
        """With a flow for every status, the fallback is what any other status gets."""

        def own(status: str) -> Flow:
            return Flow().play(f"{MEDIA}/{status}.wav").hangup()

        graph = transfer_with_fallback(
            "agent",
            "+15551230002",
            base_url=BASE,
            on_busy=own("busy"),
            on_no_answer=own("no_answer"),
            on_failed=own("failed"),
        ).graph()
        assert edges_by_title(graph) == {
            ("agent", "agent_busy", "busy"),
            ("agent", "agent_no_answer", "no_answer"),
            ("agent", "agent_failed", "failed"),
            ("agent", "agent_fallback", "other status"),
        }

    def test_a_function_without_a_set_of_answers_is_an_open_node(self) -> None:
        """The set cannot tell where a predicate-guarded function leads: drawn as open."""
        done = Flow("done").hangup()
        flows = collect_with_retries(
            "pin",
            prompt=f"{MEDIA}/pin.wav",
            base_url=BASE,
            retries=0,
            on_input=lambda digits: done,
        )
        graph = flows.graph()
        assert [(n.kind, n.url) for n in graph.nodes if n.kind != "flow"] == [
            ("open", f"{BASE}/pin/input")
        ]
        assert edges_by_title(graph) == {
            ("pin", "pin_give_up", "give up"),
            ("pin", f"{BASE}/pin/input", "input"),
        }
        assert flows.choices(f"{BASE}/pin/input") == (
            Choice("give up", flows.flow("pin_give_up")),
            Choice("input", None),
        )

    def test_choices_of_a_url_not_served_raise(self, support_line: FlowSet) -> None:
        """choices() names what is served, like next_flow()."""
        with pytest.raises(LookupError, match="not served by this flow set"):
            support_line.choices(f"{BASE}/nowhere")

    def test_single_flows_and_sets_together(self, support_line: FlowSet) -> None:
        """A flow given on its own joins the set's flows, not marked as an entry."""
        extra = Flow("extra").redirect(f"{BASE}/support_menu")
        graph = flow_graph(support_line, extra)
        assert graph.nodes[-1].name == "extra" and not graph.nodes[-1].entry
        assert ("extra", "support_menu", "redirect") in edges_by_title(graph)

    def test_two_different_flows_with_one_name_are_an_error(self) -> None:
        """The same name for two different flows is refused, naming it."""
        with pytest.raises(FlowError, match="two different flows named 'a'"):
            flow_graph(Flow("a").hangup(), Flow("a").play(f"{MEDIA}/x.wav"))

    def test_output_is_deterministic(self, support_line: FlowSet) -> None:
        """The same flows give byte-identical text, in this process and in another."""
        graph = support_line.graph()
        assert graph.to_mermaid() == support_line.graph().to_mermaid()
        code = (
            "import sys; sys.path.insert(0, 'examples/flows'); import support_line as s; "
            "sys.stdout.write(s.SUPPORT_LINE.graph().to_svg())"
        )
        environment = {**os.environ, "PYTHONHASHSEED": "12345"}
        other = subprocess.run(
            [sys.executable, "-c", code], cwd=ROOT, env=environment, capture_output=True
        )
        assert other.stdout.decode("utf-8") == graph.to_svg()


class TestGolden:
    """Mermaid and DOT of every example flow set are committed and current."""

    @pytest.mark.parametrize("extension", ["mmd", "dot"])
    def test_examples_match_golden_files(
        self, examples: dict[str, FlowGraph], extension: str
    ) -> None:
        """Set MINIVOICE_UPDATE_GOLDEN=1 to rewrite them after a deliberate change."""
        assert examples, "the example flow sets are found"
        for name, graph in examples.items():
            text = graph.to_mermaid() if extension == "mmd" else graph.to_dot()
            path = GOLDEN / f"{name}.{extension}"
            if os.environ.get("MINIVOICE_UPDATE_GOLDEN"):
                path.write_text(text, encoding="utf-8")
            assert path.read_text(encoding="utf-8") == text, path
        assert {p.stem for p in GOLDEN.glob(f"*.{extension}")} == set(examples)

    def test_dot_parses_with_the_nodes_and_edges_of_the_graph(
        self, examples: dict[str, FlowGraph]
    ) -> None:
        """A DOT parser reads every example back to the same nodes and edges."""
        for graph in examples.values():
            parsed = _parsed_dot(graph.to_dot())
            nodes = {n.get_name().strip('"') for n in parsed.get_nodes()} - {
                "node",
                "edge",
                "graph",
            }
            assert nodes == {n.id for n in graph.nodes} | (
                {"answer_url"} if any(n.entry for n in graph.nodes) else set()
            )
            edges = {
                (str(e.get_source()).strip('"'), str(e.get_destination()).strip('"'))
                for e in parsed.get_edges()
            }
            assert {(e.source, e.target) for e in graph.edges} <= edges


class TestSvg:
    """The SVG parses as XML and holds a group per node and per edge, with stable hooks."""

    def test_structure(self, support_line: FlowSet) -> None:
        """Every node and edge is there, once, with its data attributes; no script, no ids."""
        graph = support_line.graph()
        svg = parse_svg(graph.to_svg())
        groups = list(svg.iter(f"{SVG}g"))
        nodes = [g for g in groups if "node" in g.get("class", "").split()]
        edges = [g for g in groups if "edge" in g.get("class", "").split()]
        assert sorted(str(g.get("data-node")) for g in nodes) == sorted(n.id for n in graph.nodes)
        assert sorted(
            (str(g.get("data-source")), str(g.get("data-target"))) for g in edges
        ) == sorted((e.source, e.target) for e in graph.edges)
        assert [g.get("data-step") for g in nodes if "entry" in g.get("class", "")] == [
            "support_menu"
        ]
        assert not [e for e in svg.iter() if e.tag in (f"{SVG}script", f"{SVG}foreignObject")]
        assert not [
            e
            for e in svg.iter()
            if "id" in e.attrib or any(k.startswith("on") or "href" in k for k in e.attrib)
        ]

    def test_nodes_do_not_overlap_and_labels_fit(self, examples: dict[str, FlowGraph]) -> None:
        """In every example, node boxes and edge labels are apart; text fits its box."""
        for graph in examples.values():
            svg = parse_svg(graph.to_svg())
            boxes = []
            for group in svg.iter(f"{SVG}g"):
                classes = group.get("class", "").split()
                if "node" in classes or "edge" in classes:
                    rect = group.find(f"{SVG}rect")
                    assert rect is not None
                    x, y = float(rect.get("x", 0)), float(rect.get("y", 0))
                    w, h = float(rect.get("width", 0)), float(rect.get("height", 0))
                    boxes.append((x, y, x + w, y + h))
                    for text in group.iter(f"{SVG}text"):
                        anchor = text.get("text-anchor")
                        size = float(text.get("font-size", 12))
                        width = len(text.text or "") * size * 0.62
                        left = float(text.get("x", 0)) - (width / 2 if anchor == "middle" else 0)
                        assert x - 0.5 <= left and left + width <= x + w + 0.5, text.text
            for i, a in enumerate(boxes):
                for b in boxes[i + 1 :]:
                    apart = a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1]
                    assert apart, (a, b)

    def test_highlight_and_ended_in(self, support_line: FlowSet) -> None:
        """A call's steps are highlighted, with the edges between them; the last is marked."""
        steps = ["support_menu", "support_agent", "support_agent_busy", "not a step"]
        svg = parse_svg(support_line.graph().to_svg(highlight=steps, ended_in="support_agent_busy"))
        groups = list(svg.iter(f"{SVG}g"))
        visited = [
            g.get("data-step")
            for g in groups
            if "visited" in g.get("class", "").split() and "node" in g.get("class", "").split()
        ]
        assert visited == ["support_menu", "support_agent", "support_agent_busy"]
        walked = [
            (g.get("data-source"), g.get("data-target"))
            for g in groups
            if g.get("class") == "edge visited"
        ]
        assert walked == [
            ("flow_support_menu", "flow_support_agent"),
            ("flow_support_agent", "flow_support_agent_busy"),
        ]
        (ended,) = [g for g in groups if "ended" in g.get("class", "").split()]
        assert ended.get("data-step") == "support_agent_busy"
        assert "call ended here" in "".join(ended.itertext())

    def test_repr_svg_is_the_svg(self, support_line: FlowSet) -> None:
        """Notebooks show the same picture."""
        graph = support_line.graph()
        assert graph._repr_svg_() == graph.to_svg()


class TestHostileText:
    """Names and URLs from outside cannot break or inject into any output."""

    @pytest.mark.parametrize("name", HOSTILE)
    def test_flow_name_in_every_output(self, name: str) -> None:
        """The SVG parses with the name as text; Mermaid and DOT keep their syntax."""
        flow = Flow(name).play(f"{MEDIA}/a.wav").redirect('https://app.example.com/x?a=<b>&c="d"')
        graph = flow_graph(flow)
        _check_all(graph, name)

    @settings(max_examples=60, deadline=None)
    @given(st.text(max_size=30))
    def test_any_name_never_breaks_the_outputs(self, name: str) -> None:
        """Whatever the name, the three outputs stay well-formed."""
        _check_all(flow_graph(Flow(name).hangup()), name)


def _check_all(graph: FlowGraph, name: str) -> None:
    from minivoice_flow._text import printable

    svg = parse_svg(graph.to_svg())
    assert not [e for e in svg.iter() if e.tag.endswith("script")]
    texts = "".join(svg.itertext())
    shown = printable(name)
    if len(shown) <= 60:
        assert shown in texts
    mermaid = graph.to_mermaid()
    for line in mermaid.splitlines()[1:]:
        # every quoted label holds no quote, newline, or markup but our own <br>
        for label in re.findall(r'"([^"]*)"', line):
            assert "<" not in label.replace("<br>", "")
        assert line.count('"') % 2 == 0
        assert MERMAID_LINE.fullmatch(line), line
    parsed = _parsed_dot(graph.to_dot())
    labels = [
        n.get("label") for n in parsed.get_nodes() if n.get_name().strip('"').startswith("flow_")
    ]
    assert len(labels) == 1
    assert labels[0].startswith('"') and labels[0].endswith('"')
