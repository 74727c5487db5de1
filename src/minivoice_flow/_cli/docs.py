"""``minivoice-flow docs``: regenerate the reference docs, JSON Schema and stubs.

``--check`` writes nothing: it names every generated file that is stale, missing or no
longer generated, and exits 1 if there is any. Needs jinja2 and pytest (the ``generate``
extra, pytest for the plugin's stub); without jinja2 the command says so and exits 2.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Final

from minivoice_flow._cli import EXIT_INVALID, EXIT_OK, EXIT_USAGE

if TYPE_CHECKING:
    from minivoice_flow._generate.flows import FlowSetPage

#: Where the example flow sets are, under --root: one page per module.
EXAMPLES: Final = "examples/flows"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 and name every file that is not up to date",
    )
    parser.add_argument(
        "--root",
        type=Path,
        default=Path("."),
        help="the project folder holding docs/ and stubs/ (default: the current folder)",
    )
    parser.epilog = (
        "Writes docs/actions/*.md, docs/rules.md, docs/index.md, docs/answer_url.schema.json "
        "and a stub of every public module in stubs/minivoice_flow/. Exit codes: 0 up to date, "
        "1 stale files (with --check), 2 usage error or jinja2 not installed."
    )


def run(args: argparse.Namespace) -> int:
    try:
        from minivoice_flow._generate import sync
    except ModuleNotFoundError as error:
        if error.name != "jinja2":
            raise
        print(
            "minivoice-flow docs needs jinja2, which is not installed; install it with: "
            "pip install 'minivoice-flow[generate]'",
            file=sys.stderr,
        )
        return EXIT_USAGE
    root: Path = args.root
    if not root.is_dir():
        print(f"minivoice-flow docs: --root {str(root)!r} is not a folder", file=sys.stderr)
        return EXIT_USAGE
    from minivoice_flow._generate.docs import GenerationError

    try:
        files = sync.generate_all(flow_sets=example_flow_sets(root))
    except GenerationError as error:  # a broken example or template: say which
        print(f"minivoice-flow docs: cannot generate: {error}", file=sys.stderr)
        return EXIT_INVALID
    if args.check:
        drift = sync.find_drift(root, files)
        for item in drift:
            print(item, file=sys.stderr)
        if drift:
            print(
                f"{len(drift)} generated file(s) out of date: run `minivoice-flow docs` and "
                "commit the result",
                file=sys.stderr,
            )
            return EXIT_INVALID
        print(f"{len(files)} generated files are up to date")
        return EXIT_OK
    changed = sync.write(root, files)
    for item in changed:
        verb = "deleted" if item.problem == "no longer generated" else "wrote"
        print(f"{verb} {item.path}")
    print(f"{len(files)} generated files, {len(changed)} changed")
    return EXIT_OK


def example_flow_sets(root: Path) -> dict[str, FlowSetPage]:
    """One flow set per module of ``examples/flows`` under ``root`` (none if it is missing).

    Each holds the module's flow sets and named flows, found as ``build`` finds them.
    """
    from minivoice_flow import Flow
    from minivoice_flow._cli._discover import discover
    from minivoice_flow._generate.docs import GenerationError
    from minivoice_flow._generate.flows import FlowSetPage
    from minivoice_flow.fallback import FlowSet
    from minivoice_flow.graph import flow_graph

    folder = root / EXAMPLES
    if not folder.is_dir():
        return {}
    found = discover([str(folder)])
    if found.problems:
        raise GenerationError("; ".join(str(problem) for problem in found.problems))
    pages = {}
    for loaded in found.modules:
        if loaded.file is None:
            continue
        values = list(vars(loaded.module).values())
        sets = [v for v in values if isinstance(v, FlowSet)]
        flows = [v for v in values if isinstance(v, Flow) and v.name is not None]
        if not sets and not flows:
            continue
        doc = (loaded.module.__doc__ or "").strip().split("\n\n")[0]
        pages[loaded.file.stem] = FlowSetPage(
            f"{EXAMPLES}/{loaded.file.name}", " ".join(doc.split()), flow_graph(*sets, *flows)
        )
    return dict(sorted(pages.items()))
