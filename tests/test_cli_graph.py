"""``minivoice-flow graph``: finds flows as build does, writes Mermaid, DOT or SVG, and fails
cleanly, writing nothing."""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from tests.cli import EXAMPLES, ROOT, run_cli, without_coverage, write_module

GOLDEN = ROOT / "tests" / "golden" / "graphs"


class TestOutput:
    """Each format of one graph, to standard output or a file."""

    def test_mermaid_by_default(self, tmp_path: Path) -> None:
        """A module with a FlowSet gives its golden Mermaid, byte for byte."""
        ran = run_cli("graph", EXAMPLES / "support_line.py", cwd=tmp_path)
        assert (ran.code, ran.err) == (0, "")
        assert ran.out == (GOLDEN / "support_line.mmd").read_text(encoding="utf-8")

    def test_dot(self, tmp_path: Path) -> None:
        """--format dot gives the golden DOT."""
        ran = run_cli("graph", EXAMPLES / "conference_pin.py", "--format", "dot", cwd=tmp_path)
        assert ran.code == 0
        assert ran.out == (GOLDEN / "conference_pin.dot").read_text(encoding="utf-8")

    def test_svg_to_a_file_chosen_by_its_extension(self, tmp_path: Path) -> None:
        """--out x.svg writes the SVG of every flow found in a directory."""
        out = tmp_path / "ivr.svg"
        ran = run_cli("graph", EXAMPLES, "--out", out, cwd=tmp_path)
        assert (ran.code, ran.out) == (0, "")
        assert f"wrote {out}" in ran.err
        svg = ET.parse(out).getroot()
        steps = {g.get("data-step") for g in svg.iter("{http://www.w3.org/2000/svg}g")}
        assert {"support_menu", "main_menu", "conference_pin"} <= steps
        assert "https://app.example.com/ivr/menu-choice" in steps  # a dead end

    def test_a_module_name_is_found_like_build(self, tmp_path: Path) -> None:
        """A dotted module name, with a bundle and a loose flow, is drawn as one graph."""
        write_module(
            tmp_path / "app",
            "__init__",
            """
            from minivoice_flow import Flow
            from minivoice_flow.fallback import serve

            SET = serve(Flow("start").redirect("https://a.example/ivr/end"), base_url="https://a.example/ivr")
            end = Flow("end").hangup()
            """,
        )
        ran = run_cli("graph", "app", cwd=tmp_path)
        assert ran.code == 0, ran.err
        assert 'flow_start -->|"redirect"| url_1' in ran.out
        assert 'flow_end["end<br>hangup"]' in ran.out


class TestFailures:
    """Problems are named; nothing is written; exit 1."""

    def test_import_error_writes_nothing(self, tmp_path: Path) -> None:
        """A module that fails to import leaves --out untouched."""
        write_module(tmp_path, "broken", "raise RuntimeError('no')\n")
        out = tmp_path / "graph.mmd"
        out.write_text("before")
        ran = run_cli("graph", tmp_path / "broken.py", "--out", out, cwd=tmp_path)
        assert ran.code == 1
        assert "RuntimeError: no" in ran.err
        assert "nothing was written" in ran.err
        assert out.read_text() == "before"

    def test_no_flows(self, tmp_path: Path) -> None:
        """A module without a named flow is an error, not an empty graph."""
        write_module(tmp_path, "empty", "X = 1\n")
        ran = run_cli("graph", tmp_path / "empty.py", cwd=tmp_path)
        assert ran.code == 1 and "no named flows found" in ran.err and ran.out == ""

    def test_two_flows_with_one_name(self, tmp_path: Path) -> None:
        """Different flows with one name cannot be one node."""
        write_module(
            tmp_path,
            "clash",
            """
            from minivoice_flow import Flow
            A = Flow("menu").hangup()
            B = Flow("menu").play("https://m.example/a.wav")
            """,
        )
        ran = run_cli("graph", tmp_path / "clash.py", cwd=tmp_path)
        assert ran.code == 1 and "two different flows named 'menu'" in ran.err

    def test_hostile_name_is_escaped_on_the_terminal_too(self, tmp_path: Path) -> None:
        """A flow name with an escape sequence is shown escaped in Mermaid, never raw."""
        write_module(
            tmp_path,
            "evil",
            """
            from minivoice_flow import Flow
            A = Flow("x\\x1b[2J\\"]; end").hangup()
            """,
        )
        ran = run_cli("graph", tmp_path / "evil.py", cwd=tmp_path)
        assert ran.code == 0
        assert "\x1b" not in ran.out
        assert "#92;x1b[2J#34;]#59; end" in ran.out

    def test_usage_error(self, tmp_path: Path) -> None:
        """An unknown format is a usage error."""
        ran = run_cli("graph", EXAMPLES, "--format", "png", cwd=tmp_path)
        assert ran.code == 2 and "invalid choice" in ran.err


def test_importing_the_library_loads_neither_graph_nor_layout() -> None:
    """``import minivoice_flow`` stays small: no graph module, no grandalf, no XML writer."""
    code = (
        "import sys, minivoice_flow; "
        "print(sorted(m for m in sys.modules if m.startswith(('grandalf', 'minivoice_flow.graph',"
        " 'minivoice_flow._graph', 'minivoice_flow._draw', 'xml'))))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env=without_coverage(),
    )
    assert done.stdout.strip() == "[]"


def test_the_graph_does_not_load_grandalf_until_drawn() -> None:
    """Mermaid and DOT need no layout library; only to_svg() imports it."""
    code = (
        "import sys; sys.path.insert(0, 'examples/flows'); import support_line as s; "
        "g = s.SUPPORT_LINE.graph(); g.to_mermaid(); g.to_dot(); "
        "print('grandalf' in sys.modules); g.to_svg(); print('grandalf' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.split() == ["False", "True"]
