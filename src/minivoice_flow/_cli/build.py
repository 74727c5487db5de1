"""``minivoice-flow build PATH... --out DIR``: export named flows as static JSON files."""

from __future__ import annotations

import argparse
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from minivoice_flow._cli import EXIT_INVALID, EXIT_OK
from minivoice_flow._fields import describe

if TYPE_CHECKING:
    from minivoice_flow._cli._discover import Found
    from minivoice_flow._cli._export import Plan
    from minivoice_flow._cli._report import Problem
    from minivoice_flow._cli._sources import SourceIndex
    from minivoice_flow._diagnostics import Diagnostic

DESCRIPTION = """\
Export the flows defined in Python modules as static answer_url JSON: one <name>.json per
flow in DIR, holding exactly flow.to_json().

Exported: every module-level Flow that has a name, and the named flows returned by
__minivoice_flows__() of any other module-level object. A Flow without a name (a shared
prefix) is not exported. The same flow bound to several names is written once; two different
flows with one name are an error. A name must start with a letter or digit and hold only
letters, digits, ".", "_" and "-" (at most 100 characters, no "..").

Every flow is checked first. If any has an error (or a warning, with --strict), nothing is
written, replaced or removed. Otherwise each changed file is replaced atomically, unchanged
files are left alone, and files in DIR named like a flow's file (<safe name>.json) that no
flow produces any more are removed. Nothing else in DIR is touched."""

EPILOG = "Exit codes: 0 built (or up to date), 1 a flow or file has a problem, 2 usage error."


def configure(parser: argparse.ArgumentParser) -> None:
    parser.description = DESCRIPTION
    parser.epilog = EPILOG
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument(
        "paths",
        nargs="+",
        metavar="PATH",
        help="a .py file, a directory of modules, a package directory, or a dotted module name",
    )
    parser.add_argument(
        "--out", required=True, type=Path, metavar="DIR", help="where the JSON files go"
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 listing every file that is missing, stale or left over",
    )
    parser.add_argument("--strict", action="store_true", help="fail on warnings too")
    parser.add_argument(
        "--traceback", action="store_true", help="show the full traceback of an import error"
    )


def run(args: argparse.Namespace) -> int:
    # The machinery is imported here, not above, so that ``build --help`` stays cheap.
    from minivoice_flow._cli._discover import discover
    from minivoice_flow._cli._export import distinct, file_name, select
    from minivoice_flow._cli._report import tally, use_safe_streams
    from minivoice_flow._cli._sources import SourceIndex
    from minivoice_flow._diagnostics import Report

    use_safe_streams()
    found = discover(args.paths)
    index = SourceIndex()
    for loaded in found.modules:
        if loaded.file is not None:
            index.add_module(loaded.file, vars(loaded.module))
    every = distinct(found.flows)
    flows, naming_problems = select(every, lambda item: _binding_place(item, index))
    problems = [*found.problems, *naming_problems, *_setup_problems(args, found.problems, every)]
    _print_problems(problems, traceback=args.traceback)
    diagnostics = _print_diagnostics(every, index)

    counts = tally(diagnostics, problems=len(problems))
    if problems or not Report(diagnostics).passes(strict=args.strict):
        strict = " (--strict: warnings fail the build)" if args.strict else ""
        print(f"build failed: {counts}{strict}; nothing was written to {args.out}")
        return EXIT_INVALID
    files = {file_name(name): item.flow.to_json().encode("utf-8") for name, item in flows.items()}
    return _write(args.out, files, check=args.check, counts=counts)


def _setup_problems(
    args: argparse.Namespace, import_problems: Sequence[Problem], flows: Sequence[Found]
) -> list[Problem]:
    """Problems with the command as a whole: nothing to export, an --out that is a file."""
    from minivoice_flow._cli._report import Problem

    problems = []
    if not flows and not import_problems:
        message = "no named flows found (a Flow without a name is not exported)"
        problems.append(Problem(" ".join(args.paths), message))
    if args.out.exists() and not args.out.is_dir():
        problems.append(Problem(str(args.out), "--out must be a directory"))
    return problems


def _print_problems(problems: Iterable[Problem], *, traceback: bool) -> None:
    for problem in problems:
        print(problem)
        if traceback and problem.details:
            print(problem.details, end="")


def _print_diagnostics(flows: Iterable[Found], index: SourceIndex) -> tuple[Diagnostic, ...]:
    """Print every flow's diagnostics, flows in name order; return them all."""
    from minivoice_flow._cli._report import diagnostic_line

    every: list[Diagnostic] = []
    for item in sorted(flows, key=lambda item: item.flow.name or ""):
        for diagnostic in item.flow.check().diagnostics:
            where = index.action(item.flow, diagnostic.path) or _binding_place(item, index)
            print(diagnostic_line(f"{where}: flow {describe(item.flow.name)}", diagnostic))
            every.append(diagnostic)
    return tuple(every)


def _binding_place(item: Found, index: SourceIndex) -> str:
    """``file:line`` of the statement that binds the flow (or its bundle), else the file."""
    return str(index.assignment(item.module, item.binding) or item.module)


def _write(out: Path, files: Mapping[str, bytes], *, check: bool, counts: str) -> int:
    """Bring ``out`` up to date with ``files`` (or, with ``check``, only say what differs)."""
    from minivoice_flow._cli._export import apply, plan
    from minivoice_flow._cli._report import Problem, os_reason, plural

    try:
        planned = plan(out, files)
        if not check:
            apply(out, files, planned)
    except OSError as error:
        where = error.filename or out
        print(Problem(str(where), f"cannot write the flow files: {os_reason(error)}"))
        return EXIT_INVALID
    if check:
        return _report_check(out, planned)
    changed = (*planned.missing, *planned.stale)
    for name in changed:
        print(f"wrote {out / name}")
    for name in planned.left_over:
        print(f"removed {out / name}")
    print(
        f"built {plural(len(files), 'flow')} into {out}: {len(changed)} written, "
        f"{len(planned.unchanged)} unchanged, {len(planned.left_over)} removed; {counts}"
    )
    return EXIT_OK


def _report_check(out: Path, planned: Plan) -> int:
    """List what a build would change; 0 when nothing."""
    for name in planned.missing:
        print(f"{out / name}: missing")
    for name in planned.stale:
        print(f"{out / name}: stale")
    for name in planned.left_over:
        print(f"{out / name}: left over (no flow of that name)")
    if planned.up_to_date:
        print(f"{out}: {len(planned.unchanged)} up to date")
        return EXIT_OK
    outdated = len(planned.missing) + len(planned.stale) + len(planned.left_over)
    print(
        f"{out}: {outdated} out of date ({len(planned.missing)} missing, "
        f"{len(planned.stale)} stale, {len(planned.left_over)} left over); "
        "run the build without --check"
    )
    return EXIT_INVALID
