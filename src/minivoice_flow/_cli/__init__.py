"""The ``minivoice-flow`` command.

Each subcommand is a module of this package with ``configure(parser)`` and ``run(args) -> int``.
Only the chosen subcommand's module is imported, so ``--help`` and every command start fast
and never load what they do not use (jinja2 above all).

Exit codes: 0 ok, 1 invalid input or stale output, 2 usage error; 130 after Ctrl-C (SIGINT)
and 143 after SIGTERM, once what the command was changing has been put back.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from typing import Final, Protocol

#: name -> (module, one-line help). Add a subcommand here and in its own module.
COMMANDS: Final[dict[str, tuple[str, str]]] = {
    "build": (
        "minivoice_flow._cli.build",
        "export the named flows of Python modules as static JSON files",
    ),
    "validate": (
        "minivoice_flow._cli.validate",
        "check answer_url JSON files or standard input",
    ),
    "schema": (
        "minivoice_flow._cli.schema",
        "print the JSON Schema (draft 2020-12) of the answer_url payload",
    ),
    "docs": (
        "minivoice_flow._cli.docs",
        "regenerate the reference docs, JSON Schema and stubs (--check: only compare)",
    ),
    "graph": (
        "minivoice_flow._cli.graph",
        "draw the IVR graph of flows and flow sets: Mermaid, Graphviz DOT or SVG",
    ),
    "calls": (
        "minivoice_flow._cli.calls",
        "read a call journal: timelines, last steps and outcomes",
    ),
}

EXIT_OK: Final = 0
EXIT_INVALID: Final = 1
EXIT_USAGE: Final = 2
EXIT_INTERRUPTED: Final = 128 + 2  # 128 + SIGINT, as a shell reports it; SIGTERM gives 143


class Command(Protocol):
    """What a subcommand module provides."""

    def configure(self, parser: argparse.ArgumentParser) -> None: ...

    def run(self, args: argparse.Namespace) -> int: ...


def add_paths(parser: argparse.ArgumentParser) -> None:
    """The PATH... argument of the commands that find flows as ``build`` does."""
    parser.add_argument(
        "paths",
        nargs="+",
        metavar="PATH",
        help="a .py file, a directory of modules, a package directory, or a dotted module name",
    )


def make_parser(chosen: str | None) -> argparse.ArgumentParser:
    """The parser; only ``chosen``'s module is imported to add its arguments."""
    parser = argparse.ArgumentParser(
        prog="minivoice-flow",
        description="Build, check and export MiniVoice call flows.",
        epilog=(
            "Exit codes: 0 ok, 1 invalid input or stale output, 2 usage error, "
            "130 interrupted (Ctrl-C), 143 terminated (SIGTERM)."
        ),
    )
    parser.add_argument("--version", action=_VersionAction)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module_name, summary) in COMMANDS.items():
        sub = subparsers.add_parser(name, help=summary, description=summary)
        if name == chosen:
            module: Command = importlib.import_module(module_name)
            module.configure(sub)
            sub.set_defaults(run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code.

    SIGINT and SIGTERM end any command with one line on stderr and exit code 130 or 143,
    after the command has put back what it was changing (see ``_interrupt``).
    """
    from minivoice_flow._cli._interrupt import Interrupted, handled

    try:
        with handled():
            return _run(list(sys.argv[1:] if argv is None else argv))
    except Interrupted as interrupted:
        _say_interrupted(str(interrupted))
        return interrupted.exit_code
    except KeyboardInterrupt:  # SIGINT before the handler was in place
        _say_interrupted("interrupted by SIGINT")
        return EXIT_INTERRUPTED


def _run(arguments: list[str]) -> int:
    chosen = next((a for a in arguments if not a.startswith("-")), None)
    parser = make_parser(chosen if chosen in COMMANDS else None)
    args = parser.parse_args(arguments)
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    code: int = args.run(args)
    return code


def _say_interrupted(text: str) -> None:
    import contextlib

    with contextlib.suppress(OSError, ValueError):  # a broken stdout must not hide the message
        sys.stdout.flush()
    print(f"minivoice-flow: {text}", file=sys.stderr, flush=True)


class _VersionAction(argparse.Action):
    """``--version``; the version is looked up only when asked (importlib.metadata is slow)."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: object) -> None:
        super().__init__(
            option_strings,
            dest,
            nargs=0,
            default=argparse.SUPPRESS,
            help="show program's version number and exit",
        )

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: object,
        option_string: str | None = None,
    ) -> None:
        print(f"{parser.prog} {_version()}")
        parser.exit()


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("minivoice-flow")
    except PackageNotFoundError:
        return "unknown"
