"""``minivoice-flow build PATH... --out DIR``: export named flows as static JSON files."""

from __future__ import annotations

import argparse
import gc
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from minivoice_flow._cli import EXIT_INVALID, EXIT_OK, add_paths
from minivoice_flow._fields import describe

if TYPE_CHECKING:
    from minivoice_flow._cli._discover import Found
    from minivoice_flow._cli._output import NotOwned, Plan
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
files are left alone, and the files an earlier build wrote that no flow produces any more are
removed.

The build owns only what it wrote: DIR/.minivoice-flow-manifest.json lists each file it
wrote with the SHA-256 of its bytes. A file the manifest does not list, or that was changed
after the build wrote it, is never replaced or removed: if a flow needs its name, the build
stops and writes nothing. In a DIR with no manifest yet (an earlier release's output, or
any other directory), only files that already hold exactly what the build would write are
taken as the build's.

An interrupted build (Ctrl-C, SIGTERM) puts back every file it changed before it stops; the
temporary files of a build killed outright are removed by the next build."""

EPILOG = (
    "Exit codes: 0 built (or up to date), 1 a flow or file has a problem, 2 usage error, "
    "130 interrupted (Ctrl-C), 143 terminated (SIGTERM)."
)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.description = DESCRIPTION
    parser.epilog = EPILOG
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    add_paths(parser)
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
    from minivoice_flow._cli._interrupt import Interrupted

    try:
        return _build(args)
    except Interrupted as interrupted:
        if interrupted.note is None:  # stopped before writing began
            interrupted.note = f"nothing was written to {args.out}"
        raise


def _build(args: argparse.Namespace) -> int:
    # The machinery is imported here, not above, so that ``build --help`` stays cheap.
    from minivoice_flow._cli._report import use_safe_streams

    use_safe_streams()
    # Importing and exporting many flows makes many objects and no garbage cycles: the cyclic
    # collector would scan the whole growing heap again and again (at 100,000 flows, the
    # export grew faster than the flow count). It runs again once the files are written.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _build_flows(args)
    finally:
        if collecting:
            gc.enable()


def _build_flows(args: argparse.Namespace) -> int:
    from minivoice_flow._cli._discover import discover
    from minivoice_flow._cli._export import distinct, file_name, select
    from minivoice_flow._cli._report import say, tally
    from minivoice_flow._cli._sources import SourceIndex
    from minivoice_flow._diagnostics import Report

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
        say(f"build failed: {counts}{strict}; nothing was written to {args.out}")
        return EXIT_INVALID
    files = {file_name(name): item.flow.to_json().encode("utf-8") for name, item in flows.items()}
    owners = {file_name(name): name for name in flows}
    return _write(args.out, files, owners, check=args.check, counts=counts)


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
    from minivoice_flow._cli._report import say

    for problem in problems:
        say(str(problem))
        if traceback:
            for line in problem.details:
                say(line)


def _print_diagnostics(flows: Iterable[Found], index: SourceIndex) -> tuple[Diagnostic, ...]:
    """Print every flow's diagnostics, flows in name order; return them all."""
    from minivoice_flow._cli._report import diagnostic_line, say

    every: list[Diagnostic] = []
    for item in sorted(flows, key=lambda item: item.flow.name or ""):
        for diagnostic in item.flow.check().diagnostics:
            where = index.action(item.flow, diagnostic.path) or _binding_place(item, index)
            say(diagnostic_line(f"{where}: flow {describe(item.flow.name)}", diagnostic))
            every.append(diagnostic)
    return tuple(every)


def _binding_place(item: Found, index: SourceIndex) -> str:
    """``file:line`` of the statement that binds the flow (or its bundle), else the file."""
    return str(index.assignment(item.module, item.binding) or item.module)


def _write(
    out: Path,
    files: Mapping[str, bytes],
    owners: Mapping[str, str],
    *,
    check: bool,
    counts: str,
) -> int:
    """Bring ``out`` up to date with ``files`` (or, with ``check``, only say what differs).

    ``owners`` maps each file name to its flow's name, for the messages.
    """
    from minivoice_flow._cli._interrupt import Interrupted, deferred
    from minivoice_flow._cli._output import Busy, ManifestError, apply, locked, plan
    from minivoice_flow._cli._report import Problem, os_reason, say

    finished = False
    try:
        if check:
            return _report_check(out, plan(out, files), owners)
        out.mkdir(parents=True, exist_ok=True)
        with locked(out):
            planned = plan(out, files)
            if planned.conflicts:
                return _report_conflicts(out, planned, owners)
            with deferred() as checkpoint:
                apply(out, files, planned, checkpoint)
                finished = True
    except Interrupted as interrupted:
        interrupted.note = (
            f"the build had finished: {out} is up to date"
            if finished
            else f"every file in {out} is as it was before the build"
        )
        raise
    except Busy:
        message = "another minivoice-flow build is writing into this directory; try again later"
        say(str(Problem(str(out), message)))
        return EXIT_INVALID
    except ManifestError as error:
        say(str(Problem(str(out / _manifest_name()), _unreadable_manifest(error))))
        return EXIT_INVALID
    except OSError as error:
        where = error.filename or out
        say(str(Problem(str(where), f"cannot write the flow files: {os_reason(error)}")))
        return EXIT_INVALID
    _report_written(out, planned, counts)
    return EXIT_OK


def _manifest_name() -> str:
    from minivoice_flow._cli._output import MANIFEST

    return MANIFEST


def _unreadable_manifest(error: Exception) -> str:
    return (
        f"the build manifest cannot be read: {error}; nothing was written. The build does not "
        "guess which files are its own: if every flow file here is build output, delete the "
        "manifest and build again"
    )


def _report_conflicts(out: Path, planned: Plan, owners: Mapping[str, str]) -> int:
    from minivoice_flow._cli._report import Problem, say

    for item in planned.conflicts:
        say(str(Problem(str(out / item.name), _conflict_message(item, owners))))
    say(
        f"build failed: {len(planned.conflicts)} of the flows' file names are taken by files "
        f"the build did not write; nothing was written to {out}"
    )
    return EXIT_INVALID


def _conflict_message(item: NotOwned, owners: Mapping[str, str]) -> str:
    flow = describe(owners.get(item.name, item.name))
    return (
        f"not replaced: flow {flow} needs this file name, but {item.reason}; rename the flow, "
        "or move the file away (if it is an old build output, delete it)"
    )


def _report_written(out: Path, planned: Plan, counts: str) -> None:
    from minivoice_flow._cli._output import MANIFEST
    from minivoice_flow._cli._report import plural, say

    if planned.leftovers:
        say(
            f"removed {plural(len(planned.leftovers), 'temporary file')} left in {out} by an "
            "interrupted build"
        )
    changed = (*planned.missing, *planned.stale)
    for name in changed:
        say(f"wrote {out / name}")
    for name in planned.left_over:
        say(f"removed {out / name}")
    for item in planned.kept:
        say(f"kept {out / item.name}: no flow produces it now, but {item.reason}")
    if planned.manifest_current is None:
        say(f"wrote {out / MANIFEST} (the list of files this build owns)")
        for name in planned.untracked:
            say(f"left alone {out / name}: the build did not write it")
    total = len(planned.missing) + len(planned.stale) + len(planned.unchanged)
    say(
        f"built {plural(total, 'flow')} into {out}: {len(changed)} written, "
        f"{len(planned.unchanged)} unchanged, {len(planned.left_over)} removed; {counts}"
    )


def _report_check(out: Path, planned: Plan, owners: Mapping[str, str]) -> int:
    """List what a build would change; 0 when nothing."""
    from minivoice_flow._cli._output import MANIFEST
    from minivoice_flow._cli._report import Problem, say

    for name in planned.missing:
        say(f"{out / name}: missing")
    for name in planned.stale:
        say(f"{out / name}: stale")
    for name in planned.left_over:
        say(f"{out / name}: left over (no flow of that name)")
    for item in planned.conflicts:
        say(str(Problem(str(out / item.name), _conflict_message(item, owners))))
    for item in planned.kept:
        say(f"{out / item.name}: to be kept (no flow produces it now, but {item.reason})")
    if not planned.manifest_current:
        state = "missing" if planned.manifest_current is None else "stale"
        say(f"{out / MANIFEST}: {state} (the list of files the build owns)")
    if planned.up_to_date:
        say(f"{out}: {len(planned.unchanged)} up to date")
        return EXIT_OK
    outdated = len(planned.missing) + len(planned.stale) + len(planned.left_over)
    taken = f", {len(planned.conflicts)} taken by other files" if planned.conflicts else ""
    say(
        f"{out}: {outdated} out of date ({len(planned.missing)} missing, "
        f"{len(planned.stale)} stale, {len(planned.left_over)} left over{taken}); "
        "run the build without --check"
    )
    return EXIT_INVALID
