"""``minivoice-flow graph PATH...``: the IVR graph of the flows found, as Mermaid, DOT or SVG."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Final

from minivoice_flow._cli import EXIT_INVALID, EXIT_OK, add_paths

DESCRIPTION = """\
Draw the IVR graph of the flows in Python modules, found as `build` finds them: every
module-level Flow that has a name, and the flows of objects with __minivoice_flows__() (such
as a FlowSet). One node per flow and per URL that nothing found serves (a dead end); one
edge per way a call moves on (redirect, no input, pressed 1, busy, give up...), as far as
the flow sets know. The same flows always give the same text, byte for byte.

Output goes to standard output, or to --out FILE, which is replaced only once the whole
graph is drawn. Without --format, the format is read from the extension of --out (.svg,
.dot or .gv, anything else Mermaid), and is Mermaid on standard output. SVG needs grandalf:
pip install 'minivoice-flow[graph]'."""

EPILOG = "Exit codes: 0 drawn, 1 a module, flow or file has a problem, 2 usage error."
FORMATS: Final = ("mermaid", "dot", "svg")
_BY_SUFFIX: Final = {".svg": "svg", ".dot": "dot", ".gv": "dot"}


def configure(parser: argparse.ArgumentParser) -> None:
    parser.description = DESCRIPTION
    parser.epilog = EPILOG
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    add_paths(parser)
    parser.add_argument(
        "--format", choices=FORMATS, default=None, help="mermaid (the default), dot or svg"
    )
    parser.add_argument(
        "--out", type=Path, metavar="FILE", help="write here instead of to standard output"
    )


def run(args: argparse.Namespace) -> int:
    from minivoice_flow._cli._discover import discover
    from minivoice_flow._cli._report import Problem, use_safe_streams
    from minivoice_flow._text import printable

    use_safe_streams()
    chosen: str = args.format or _BY_SUFFIX.get(args.out.suffix.lower() if args.out else "", "")
    chosen = chosen or "mermaid"
    found = discover(args.paths)
    problems = list(found.problems)
    if not found.flows and not problems:
        message = "no named flows found (a Flow without a name is not drawn)"
        problems.append(Problem(" ".join(args.paths), message))
    text = None
    if not problems:
        try:
            text = _draw(found.bundles, [item.flow for item in found.flows], chosen)
        except ImportError as error:  # grandalf, for SVG
            problems.append(Problem("graph", str(error)))
        except Exception as error:  # two flows with one name, an on_input function that fails
            reason = f"{type(error).__name__}: {error}"
            problems.append(Problem("graph", f"cannot draw the graph: {reason}"))
    for problem in problems:
        print(printable(str(problem)), file=sys.stderr)
    if text is None:
        target = args.out if args.out is not None else "standard output"
        print(f"graph failed: nothing was written to {target}", file=sys.stderr)
        return EXIT_INVALID
    return _write(text, args.out)


def _draw(bundles: list[object], flows: list[object], chosen: str) -> str:
    from minivoice_flow import Flow
    from minivoice_flow.fallback import FlowSet
    from minivoice_flow.graph import flow_graph

    sets = [bundle for bundle in bundles if isinstance(bundle, FlowSet)]
    graph = flow_graph(*sets, *(flow for flow in flows if isinstance(flow, Flow)))
    if chosen == "svg":
        return graph.to_svg()
    return graph.to_dot() if chosen == "dot" else graph.to_mermaid()


def _write(text: str, out: Path | None) -> int:
    from minivoice_flow._cli._report import Problem, os_reason
    from minivoice_flow._files import replace as replace_file

    if out is None:
        sys.stdout.write(text)
        return EXIT_OK
    try:
        replace_file(out, text.encode("utf-8"))
    except OSError as error:
        print(Problem(str(out), f"cannot write the graph: {os_reason(error)}"), file=sys.stderr)
        return EXIT_INVALID
    print(f"wrote {out}", file=sys.stderr)
    return EXIT_OK
