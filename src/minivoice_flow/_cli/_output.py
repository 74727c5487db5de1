"""The out directory of a build: which files there are the build's, and bringing it up to date.

The build owns only what it wrote. Its manifest, ``.minivoice-flow-manifest.json`` in the
out directory, lists every file the last build wrote with the SHA-256 of its bytes. A file is
the build's to replace or remove only when the manifest lists it and it still holds those
bytes; no other file is ever replaced or removed, whatever its name. When a flow's file name
is held by a file that is not the build's (a ``package.json`` in ``--out .``, a file edited
by hand, a directory or a link), the build stops before writing anything and names the file.

A directory with no manifest (made by a release before the manifest, or never a build
output): the build takes as its own only the files that already hold exactly what it would
write. Any other file there is left alone: one with a flow's name stops the build, as above,
and the rest are named once as left alone, since without a record nobody can tell an old
build output from someone else's file.

Bringing the directory up to date is all or nothing. Each new or changed file is written to
a temporary file first; then, with SIGINT and SIGTERM held back, the files are swapped in and
the left-over ones taken out, each old file kept under a backup name until all of it has
worked. A failure or a signal part-way puts every file, and the manifest, back as it was.
While files are being swapped, the manifest on disk lists the old and the new bytes of each
of them, so even a build killed outright (SIGKILL, a power cut) leaves a directory whose
files the next build still recognises; that build also removes the temporary and backup files
the killed one left, found by their names (``minivoice_flow._files``), and nothing else.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import stat
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, Final

from attrs import field, frozen

from minivoice_flow._cli._export import is_flow_file
from minivoice_flow._cli._interrupt import Checkpoint
from minivoice_flow._files import (
    hidden_name,
    hidden_target,
    renamed,
    stage,
    sync_directory,
)

#: The build's record of what it wrote: hidden, and never a flow's file name.
MANIFEST: Final = ".minivoice-flow-manifest.json"
_FORMAT: Final = 1
_ABOUT: Final = (
    "the files minivoice-flow build wrote in this directory, each with the SHA-256 of its "
    "bytes; a build replaces or removes no other file"
)
_DIGEST: Final = re.compile(r"sha256:[0-9a-f]{64}")
#: Temporary and backup files of the releases before the manifest: ``.<file>.<16 hex>.tmp``.
_EARLIER_HIDDEN: Final = re.compile(r"\.(?P<target>.+)\.[0-9a-f]{16}\.(?:tmp|old)")
_CHUNK: Final = 1 << 16
_CHANGED: Final = "it was changed after the build wrote it"
#: What ``_look`` says of a file that holds exactly the bytes wanted (never a digest).
SAME: Final = "same"


class ManifestError(Exception):
    """The manifest cannot be read or is not one; the build will not guess what it owns."""


class Busy(Exception):
    """Another build holds the out directory."""


def digest(content: bytes) -> str:
    return "sha256:" + hashlib.sha256(content).hexdigest()


@frozen
class Manifest:
    """The files a build wrote (name -> digest of their bytes).

    ``replacing`` is set only while a build swaps files in: the digest each changed or
    removed file had before, so that a file is recognised whichever of the two it holds.
    """

    files: Mapping[str, str]
    replacing: Mapping[str, str] = field(factory=dict)

    def owns(self, name: str, found: str) -> bool:
        """Whether a file ``name`` holding bytes of digest ``found`` is the build's."""
        return found == self.files.get(name) or found == self.replacing.get(name)

    def names(self) -> set[str]:
        return {*self.files, *self.replacing}

    def to_bytes(self) -> bytes:
        """The manifest's text, one file to a line: the same files give the same bytes.

        Exactly ``json.dumps(document, indent=2)``, written directly: that encoder is pure
        Python once indenting, and names and digests never need escaping.
        """
        parts = [f'{{\n  "about": {json.dumps(_ABOUT)},\n  "format": {_FORMAT},\n']
        parts.append(f'  "files": {_object(self.files)}')
        if self.replacing:
            parts.append(f',\n  "replacing": {_object(self.replacing)}')
        parts.append("\n}\n")
        return "".join(parts).encode("utf-8")

    @classmethod
    def from_bytes(cls, data: bytes) -> Manifest:
        """Read a manifest; raises ManifestError saying what is wrong with it."""
        try:
            document = json.loads(data)
        except ValueError as error:  # not UTF-8, or not JSON
            raise ManifestError(f"it is not JSON ({error})") from None
        if not isinstance(document, dict) or document.get("format") != _FORMAT:
            raise ManifestError(f'it is not a build manifest of format {_FORMAT} ("format")')
        return cls(_entries(document, "files"), _entries(document, "replacing"))


def _object(entries: Mapping[str, str]) -> str:
    """Flow file names to digests as an indented JSON object (both need no escaping)."""
    if not entries:
        return "{}"
    lines = ",\n".join(f'    "{name}": "{entries[name]}"' for name in sorted(entries))
    return f"{{\n{lines}\n  }}"


def _entries(document: dict[str, Any], key: str) -> dict[str, str]:
    entries = document.get(key, {})
    if not isinstance(entries, dict):
        raise ManifestError(f'"{key}" is not an object')
    for name, value in entries.items():
        # A name from the manifest becomes a path to remove: only a flow file name will do.
        if not is_flow_file(name) or not isinstance(value, str) or not _DIGEST.fullmatch(value):
            raise ManifestError(f'"{key}" has an entry that is not a flow file and its digest')
    return entries


@frozen
class NotOwned:
    """A file (or directory, or link) the build did not write, where it wanted to work."""

    name: str
    reason: str


@frozen
class Plan:
    """How the out directory differs from what the build produces (file names, sorted)."""

    missing: tuple[str, ...]
    stale: tuple[str, ...]
    unchanged: tuple[str, ...]
    left_over: tuple[str, ...]
    #: Files with a flow's name that are not the build's: nothing may be written.
    conflicts: tuple[NotOwned, ...]
    #: Files the manifest lists, no flow produces, and that are not the build's any more.
    kept: tuple[NotOwned, ...]
    #: With no manifest: files named like flow files that no flow produces, left alone.
    untracked: tuple[str, ...]
    #: Temporary and backup files of an earlier build that was killed.
    leftovers: tuple[str, ...]
    #: The digest of each stale and left-over file as it is now.
    replaced: Mapping[str, str]
    manifest: Manifest
    #: ``manifest.to_bytes()``, made once.
    manifest_text: bytes
    #: The manifest on disk: None when there is none, else whether it is the one wanted.
    manifest_current: bool | None

    @property
    def up_to_date(self) -> bool:
        return not (self.missing or self.stale or self.left_over or self.conflicts) and bool(
            self.manifest_current
        )


def plan(out: Path, files: Mapping[str, bytes]) -> Plan:
    """Compare the wanted ``files`` (name -> content) with ``out``.

    Raises OSError, and ManifestError for a manifest that cannot be trusted.
    """
    present, leftovers = _scan(out)
    found, current_bytes = _load_manifest(out, present)
    missing: list[str] = []
    stale: list[str] = []
    unchanged: list[str] = []
    conflicts: list[NotOwned] = []
    replaced: dict[str, str] = {}
    for name in sorted(files):
        if name not in present:
            missing.append(name)
            continue
        now = _look(out / name, files[name])
        if now is None:
            conflicts.append(NotOwned(name, _not_a_file(out / name)))
        elif now == SAME:
            unchanged.append(name)
        elif found is not None and found.owns(name, now):
            stale.append(name)
            replaced[name] = now
        else:
            conflicts.append(NotOwned(name, _not_written(found, name)))
    left_over: list[str] = []
    kept: list[NotOwned] = []
    recorded = set() if found is None else found.names()
    for name in sorted(recorded - files.keys()):
        if name not in present:
            continue  # removed by someone else: nothing to do
        now = _look(out / name, None)
        if now is not None and found is not None and found.owns(name, now):
            left_over.append(name)
            replaced[name] = now
        else:
            reason = _not_a_file(out / name) if now is None else _CHANGED
            kept.append(NotOwned(name, reason))
    untracked = () if found is not None else tuple(sorted(present - files.keys() - {MANIFEST}))
    manifest = Manifest({name: digest(content) for name, content in files.items()})
    text = manifest.to_bytes()
    return Plan(
        missing=tuple(missing),
        stale=tuple(stale),
        unchanged=tuple(unchanged),
        left_over=tuple(left_over),
        conflicts=tuple(conflicts),
        kept=tuple(kept),
        untracked=untracked,
        leftovers=tuple(leftovers),
        replaced=replaced,
        manifest=manifest,
        manifest_text=text,
        manifest_current=None if current_bytes is None else current_bytes == text,
    )


def _scan(out: Path) -> tuple[set[str], list[str]]:
    """One pass over ``out``: the flow file names and manifest present (any kind of entry),
    and the temporary and backup files of earlier builds."""
    present: set[str] = set()
    leftovers: list[str] = []
    try:
        entries = os.scandir(out)
    except FileNotFoundError:
        return present, leftovers
    with entries:
        for entry in entries:
            name = entry.name
            if name == MANIFEST or is_flow_file(name):
                present.add(name)
            elif _is_leftover(name) and entry.is_file(follow_symlinks=False):
                leftovers.append(name)
    return present, sorted(leftovers)


def _is_leftover(name: str) -> bool:
    """A temporary or backup name this build (or one before the manifest) gives its files."""
    target = hidden_target(name)
    if target is not None:
        return target == MANIFEST or is_flow_file(target)
    earlier = _EARLIER_HIDDEN.fullmatch(name)
    return earlier is not None and is_flow_file(earlier["target"])


def _load_manifest(out: Path, present: set[str]) -> tuple[Manifest | None, bytes | None]:
    if MANIFEST not in present:
        return None, None
    looked = _read_regular(out / MANIFEST)
    if looked is None:
        raise ManifestError(_not_a_file(out / MANIFEST))
    return Manifest.from_bytes(looked), looked


def _look(path: Path, wanted: bytes | None) -> str | None:
    """``SAME`` if the regular file at ``path`` holds exactly ``wanted``, else its digest.

    None when it is not a regular file: a link, a directory, a pipe (which is never opened
    for reading, so it cannot block the build). A file of another size than ``wanted`` is
    read in chunks, so a huge one costs no memory.
    """
    opened = _open_regular(path)
    if opened is None:
        return None
    descriptor, size = opened
    try:
        if wanted is not None and size == len(wanted):
            content = _read(descriptor, size)
            return SAME if content == wanted else digest(content)
        hasher = hashlib.sha256()
        while chunk := os.read(descriptor, _CHUNK):
            hasher.update(chunk)
        return "sha256:" + hasher.hexdigest()
    finally:
        os.close(descriptor)


def _read_regular(path: Path) -> bytes | None:
    opened = _open_regular(path)
    if opened is None:
        return None
    descriptor, size = opened
    try:
        return _read(descriptor, size)
    finally:
        os.close(descriptor)


def _read(descriptor: int, size: int) -> bytes:
    """The ``size`` bytes of a regular file (fewer if it shrank meanwhile)."""
    chunks = []
    while size > 0 and (chunk := os.read(descriptor, size)):
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def _open_regular(path: Path) -> tuple[int, int] | None:
    """A descriptor open for reading on the regular file at ``path``, and the file's size;
    None for anything else."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        descriptor = os.open(path, flags | getattr(os, "O_BINARY", 0))
    except OSError as error:
        if error.errno in (errno.ELOOP, errno.ENXIO, errno.EISDIR):  # a link, a socket...
            return None
        raise
    status = os.fstat(descriptor)
    if stat.S_ISREG(status.st_mode):
        return descriptor, status.st_size
    os.close(descriptor)
    return None


def _not_a_file(path: Path) -> str:
    """What is at ``path`` instead of a regular file, in words."""
    try:
        mode = path.lstat().st_mode
    except OSError:
        return "it is not a regular file"
    if stat.S_ISLNK(mode):
        return "it is a symbolic link, which the build never makes"
    if stat.S_ISDIR(mode):
        return "it is a directory"
    return "it is not a regular file"


def _not_written(found: Manifest | None, name: str) -> str:
    if found is None:
        return f"nothing records that the build wrote it (there is no {MANIFEST} beside it)"
    if name in found.names():
        return _CHANGED
    return "the build did not write it (its manifest does not list it)"


@contextmanager
def locked(out: Path) -> Iterator[None]:
    """Hold the out directory for one build at a time; raises Busy if another has it.

    An advisory lock on the directory itself, released when the process ends however it
    ends; where the platform has no ``fcntl``, builds are not kept apart.
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        yield
        return
    descriptor = os.open(out, os.O_RDONLY)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise Busy(str(out)) from None
        yield
    finally:
        os.close(descriptor)


def apply(out: Path, files: Mapping[str, bytes], planned: Plan, checkpoint: Checkpoint) -> None:
    """Make ``out`` hold exactly ``files`` and their manifest, all or nothing.

    ``planned`` has no conflicts and was made while holding ``locked(out)``. Raises OSError
    naming the flow file (never a temporary one), or ``Interrupted`` from ``checkpoint``;
    either way every file and the manifest are as they were. Run it inside
    ``_interrupt.deferred()``, whose checkpoint it calls between files.
    """
    for name in planned.leftovers:
        (out / name).unlink(missing_ok=True)
    changed = {name: files[name] for name in (*planned.missing, *planned.stale)}
    final = planned.manifest_text
    if changed or planned.left_over:
        interim = Manifest(planned.manifest.files, planned.replaced).to_bytes()
        _swap(out, changed, planned.left_over, interim, final, checkpoint)
    elif not planned.manifest_current:
        _swap(out, {}, (), None, final, checkpoint)


def _swap(
    out: Path,
    changed: Mapping[str, bytes],
    removed: Iterable[str],
    interim: bytes | None,
    final: bytes,
    checkpoint: Checkpoint,
) -> None:
    """Write the ``changed`` files, take out the ``removed`` ones and write the manifest, all
    or nothing: the ``interim`` manifest goes in before any file changes, the ``final`` one
    after all of them."""
    staged: dict[str, Path] = {}
    done: list[tuple[Path, Path | None]] = []  # (path, where its old file is kept, if any)
    manifest = target = out / MANIFEST
    try:
        for name, content in changed.items():
            target = out / name
            staged[name] = stage(target, content)
            checkpoint()
        target = manifest
        if interim is not None:
            _swap_in(manifest, stage(manifest, interim), done)
            checkpoint()
        for name in changed:
            target = out / name
            _swap_in(target, staged.pop(name), done)
            checkpoint()
        for name in removed:
            target = out / name
            hidden = hidden_name(target, "old")
            os.replace(target, hidden)
            done.append((target, hidden))
            checkpoint()
        target = manifest
        _swap_in(manifest, stage(manifest, final), done)
    except BaseException as error:
        _put_back(done)
        for temporary in staged.values():
            with suppress(OSError):
                temporary.unlink(missing_ok=True)
        if isinstance(error, OSError):
            raise renamed(error, target) from error
        raise
    for _, old in done:
        if old is not None:
            with suppress(OSError):  # a backup left here is removed by the next build
                old.unlink()
    try:
        sync_directory(out)
    except OSError as error:
        raise renamed(error, out) from error


def _swap_in(path: Path, temporary: Path, done: list[tuple[Path, Path | None]]) -> None:
    """Rename ``temporary`` over ``path``, keeping the old file for ``_put_back``."""
    try:
        done.append((path, _keep(path)))
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def _put_back(done: list[tuple[Path, Path | None]]) -> None:
    """Undo ``done``, last first. Best effort for each file, so one that cannot be put back
    does not stop the rest; the error raised is the one that started it."""
    for path, old in reversed(done):
        with suppress(OSError):
            if old is None:
                path.unlink(missing_ok=True)  # it did not exist before the build
            else:
                os.replace(old, path)
                # A rename between two links to one file does nothing (POSIX): that is the
                # case when the failure came before this path was replaced.
                old.unlink(missing_ok=True)


def _keep(path: Path) -> Path | None:
    """Keep the current file at ``path`` under a backup name (a hard link where the file
    system has them, else a copy); None when there is no file there."""
    if not path.exists():
        return None
    kept = hidden_name(path, "old")
    try:
        os.link(path, kept)
    except OSError:
        import shutil

        shutil.copy2(path, kept)
    return kept
