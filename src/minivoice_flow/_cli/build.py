"""``minivoice-flow build PATH... --out DIR``: export named flows as static JSON files."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from minivoice_flow._cli import EXIT_INVALID, EXIT_OK
from minivoice_flow._fields import describe

if TYPE_CHECKING:
    from minivoice_flow._cli._discover import Found
    from minivoice_flow._cli._export import Plan
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
    # Imported here rather than above so that ``build --help`` stays cheap.
    from minivoice_flow._cli._discover import discover
    from minivoice_flow._cli._export import apply, distinct, file_name, plan, select
    from minivoice_flow._cli._report import (
        Problem,
        diagnostic_line,
        os_reason,
        plural,
        tally,
        use_safe_streams,
    )
    from minivoice_flow._cli._sources import SourceIndex

    use_safe_streams()
    out: Path = args.out
    found = discover(args.paths)
    index = SourceIndex()
    for loaded in found.modules:
        if loaded.file is not None:
            index.add_module(loaded.file, vars(loaded.module))

    def locate(item: Found) -> str:
        return str(index.assignment(item.module, item.binding) or item.module)

    every = distinct(found.flows)
    flows, naming_problems = select(every, locate)
    problems = [*found.problems, *naming_problems]
    if not every and not found.problems:
        message = "no named flows found (a Flow without a name is not exported)"
        problems.append(Problem(" ".join(args.paths), message))
    if out.exists() and not out.is_dir():
        problems.append(Problem(str(out), "--out must be a directory"))
    for problem in problems:
        print(problem)
        if args.traceback and problem.details:
            print(problem.details, end="")

    diagnostics: list[Diagnostic] = []
    failed = False
    for item in sorted(every, key=lambda item: item.flow.name or ""):
        report = item.flow.check()
        for diagnostic in report.diagnostics:
            print(diagnostic_line(_where(item, diagnostic, index), diagnostic))
        diagnostics.extend(report.diagnostics)
        failed = failed or not report.passes(strict=args.strict)

    counts = tally(diagnostics, problems=len(problems))
    if problems or failed:
        strict = " (--strict: warnings fail the build)" if args.strict else ""
        print(f"build failed: {counts}{strict}; nothing was written to {out}")
        return EXIT_INVALID

    files = {file_name(name): item.flow.to_json().encode("utf-8") for name, item in flows.items()}
    try:
        planned = plan(out, files)
        if not args.check:
            apply(out, files, planned)
    except OSError as error:
        where = error.filename or out
        print(Problem(str(where), f"cannot write the flow files: {os_reason(error)}"))
        return EXIT_INVALID
    if args.check:
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


def _where(item: Found, diagnostic: Diagnostic, index: SourceIndex) -> str:
    """``file:line: flow "name"``: the line that added the action, else the one binding it."""
    location = index.action(item.flow, diagnostic.path) or index.assignment(
        item.module, item.binding
    )
    return f"{location or item.module}: flow {describe(item.flow.name)}"


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
