"""From named flows to files: one ``<name>.json`` per flow in the out directory.

The out directory belongs to the build. Its flow files are the files directly in it whose
name is a safe flow name followed by ``.json``; a build leaves it holding exactly the flows it
exported: it writes the missing and stale ones (each to a temporary file first, then renamed
over the old one, so a reader never sees half a file), leaves the unchanged ones alone (their
modification times too), and removes flow files that no flow produced any more. If any of that
fails, every file is put back as it was. Nothing else in the directory is touched: no
subdirectory, no file with another suffix or name.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import secrets
import shutil
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Final

from attrs import frozen

from minivoice_flow._cli._discover import Found
from minivoice_flow._cli._report import Problem
from minivoice_flow._fields import describe
from minivoice_flow._flow import Flow

#: A flow's name as a file name: portable, no path separators, no hidden files, no "..".
SAFE_NAME: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
SAFE_NAME_RULE: Final = (
    'a name must start with a letter or digit and hold only letters, digits, ".", "_" and '
    '"-", at most 100 characters, with no ".."'
)
SUFFIX: Final = ".json"


def is_safe_name(name: str) -> bool:
    return SAFE_NAME.fullmatch(name) is not None and ".." not in name


def distinct(found: Iterable[Found]) -> list[Found]:
    """Each flow once, where it was first found.

    A flow bound to several module-level names, or equal flows made in several modules (a
    module imported by a sibling as well as by the build), is one flow.
    """
    first: dict[Flow, Found] = {}
    for item in found:
        first.setdefault(item.flow, item)
    return list(first.values())


def select(
    flows: Iterable[Found], locate: Callable[[Found], str]
) -> tuple[dict[str, Found], list[Problem]]:
    """The flows that get a file, by name, and a problem for each name that cannot have one.

    ``flows`` are distinct. Two of them with one name, a name that is not a safe file name,
    and names that differ only in case (one file on a case-insensitive file system) are
    problems, located with ``locate``.
    """
    by_name: dict[str, list[Found]] = {}
    for item in flows:
        assert item.flow.name is not None  # discovery keeps only named flows
        by_name.setdefault(item.flow.name, []).append(item)
    chosen: dict[str, Found] = {}
    problems = []
    for name, group in by_name.items():
        if len(group) > 1:
            message = (
                f"{len(group)} different flows are named {describe(name)}: "
                f"{_places(group, locate)}; give each its own name"
            )
            problems.append(Problem(locate(group[0]), message))
        elif not is_safe_name(name):
            message = (
                f"the flow name {describe(name)} ({group[0].attribute}) cannot be a file name: "
                f"{SAFE_NAME_RULE}"
            )
            problems.append(Problem(locate(group[0]), message))
        else:
            chosen[name] = group[0]
    problems.extend(_case_clashes(chosen, locate))
    return chosen, problems


def _case_clashes(chosen: dict[str, Found], locate: Callable[[Found], str]) -> list[Problem]:
    """Names that differ only in case; they are removed from ``chosen``."""
    folded: dict[str, list[str]] = {}
    for name in chosen:
        folded.setdefault(name.casefold(), []).append(name)
    problems = []
    for names in folded.values():
        if len(names) > 1:
            group = [chosen.pop(name) for name in names]
            shown = ", ".join(describe(name) for name in names)
            message = (
                f"the flow names {shown} differ only in case, so they would be one file on a "
                f"case-insensitive file system: {_places(group, locate)}"
            )
            problems.append(Problem(locate(group[0]), message))
    return problems


def _places(group: Iterable[Found], locate: Callable[[Found], str]) -> str:
    return ", ".join(f"{item.attribute} ({locate(item)})" for item in group)


def file_name(flow_name: str) -> str:
    return flow_name + SUFFIX


@frozen
class Plan:
    """How the out directory differs from what the build produces (file names, sorted)."""

    missing: tuple[str, ...]
    stale: tuple[str, ...]
    unchanged: tuple[str, ...]
    left_over: tuple[str, ...]

    @property
    def up_to_date(self) -> bool:
        return not (self.missing or self.stale or self.left_over)


def plan(out: Path, files: Mapping[str, bytes]) -> Plan:
    """Compare the wanted ``files`` (name -> content) with ``out``; raises OSError."""
    missing: list[str] = []
    stale: list[str] = []
    unchanged: list[str] = []
    for name, content in sorted(files.items()):
        try:
            current = (out / name).read_bytes()
        except FileNotFoundError:
            missing.append(name)
            continue
        except OSError:
            current = None  # unreadable, or a directory of that name: it must be replaced
        (unchanged if current == content else stale).append(name)
    left_over = sorted(name for name in flow_files(out) if name not in files)
    return Plan(tuple(missing), tuple(stale), tuple(unchanged), tuple(left_over))


def flow_files(out: Path) -> list[str]:
    """The names of the regular files in ``out`` that a build could have written."""
    if not out.is_dir():
        return []
    with os.scandir(out) as entries:
        return [
            entry.name
            for entry in entries
            if entry.name.endswith(SUFFIX)
            and is_safe_name(entry.name.removesuffix(SUFFIX))
            and entry.is_file(follow_symlinks=False)
        ]


def apply(out: Path, files: Mapping[str, bytes], planned: Plan) -> None:
    """Make ``out`` hold exactly ``files``; raises OSError, and then ``out`` is as it was.

    Every new file is written in full first. Only then are the files swapped in and the
    left-over ones taken out, each old file kept under a hidden name until all of that has
    worked, so a failure part-way (a directory in the way, a file that cannot be replaced)
    puts every file back.
    """
    out.mkdir(parents=True, exist_ok=True)
    changed = (*planned.missing, *planned.stale)
    for name in changed:
        if (out / name).is_dir():
            raise IsADirectoryError(errno.EISDIR, "a directory is in the way", str(out / name))
    staged: list[tuple[Path, Path]] = []
    try:
        for name in changed:
            staged.append((_stage(out, name, files[name]), out / name))
        _swap(staged, [out / name for name in planned.left_over])
    finally:
        for temporary, _ in staged:
            temporary.unlink(missing_ok=True)  # still there only if it was never swapped in
    _sync(out)


def _swap(staged: list[tuple[Path, Path]], removed: list[Path]) -> None:
    """Rename each staged file to its final name and take out ``removed``, all or nothing."""
    done: list[tuple[Path, Path | None]] = []  # (path, where its old file is kept, if any)
    try:
        for temporary, final in staged:
            done.append((final, _keep(final)))
            os.replace(temporary, final)
        for path in removed:
            hidden = _hidden(path, "old")
            os.replace(path, hidden)
            done.append((path, hidden))
    except BaseException:
        for path, old in reversed(done):
            # Best effort for each file, so one that cannot be put back does not stop the
            # rest; the error raised is the one that started it.
            with contextlib.suppress(OSError):
                if old is None:
                    path.unlink(missing_ok=True)  # it did not exist before the build
                else:
                    os.replace(old, path)
                    # A rename between two links to one file does nothing (POSIX): that is
                    # the case when the failure came before this path was replaced.
                    old.unlink(missing_ok=True)
        raise
    for _, old in done:
        if old is not None:
            with contextlib.suppress(OSError):  # a hidden left-over is no harm to readers
                old.unlink()


def _keep(path: Path) -> Path | None:
    """Keep the current file at ``path`` under a hidden name (a hard link where the file
    system has them, else a copy); None when there is no file there."""
    if not path.exists():
        return None
    kept = _hidden(path, "old")
    try:
        os.link(path, kept)
    except OSError:
        shutil.copy2(path, kept)
    return kept


def _hidden(path: Path, suffix: str) -> Path:
    """A new hidden name beside ``path``: never a flow file, so a build never reads it."""
    return path.with_name(f".{path.name}.{secrets.token_hex(8)}.{suffix}")


def _stage(out: Path, name: str, content: bytes) -> Path:
    """Write ``content`` to a new hidden temporary file beside ``name`` and flush it to disk.

    Created with ``os.open`` and mode 0o666 so the umask applies, as for any new file
    (``tempfile`` would make it private to the owner).
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    temporary = _hidden(out / name, "tmp")
    descriptor = os.open(temporary, flags, 0o666)
    try:
        with os.fdopen(descriptor, "wb") as stream:
            stream.write(content)
            stream.flush()
            os.fsync(stream.fileno())
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return temporary


def _sync(directory: Path) -> None:
    """Flush the directory's entries (the renames) to disk, where the platform allows it."""
    if os.name != "posix":
        return
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def replace_file(path: Path, content: bytes) -> None:
    """Write one file atomically: a temporary file beside it, flushed, renamed over it.

    A failure leaves whatever was at ``path`` as it was.
    """
    temporary = _stage(path.parent, path.name, content)
    try:
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
