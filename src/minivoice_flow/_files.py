"""Files written whole or not at all, and the hidden names of their temporary and backup copies.

A file is replaced by writing a temporary copy beside it, flushing it to disk and renaming it
over the old one, so a reader sees the old file or the new one, never half of either. An old
file that may have to be put back is kept under a backup name until the change is complete.

Those temporary and backup names say whose they are: ``.<file name>.minivoice-flow-<16 hex
digits>.tmp`` (or ``.old``). A run killed part-way (SIGKILL, a power cut) cannot delete them,
so the next run finds them by that pattern and removes them; nothing else ever matches it.
The command line's ``build`` and ``docs`` use this module; the core never imports it.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Final, Literal

Kind = Literal["tmp", "old"]

_MARK: Final = "minivoice-flow"
_HIDDEN: Final = re.compile(rf"\.(?P<target>.+)\.{_MARK}-[0-9a-f]{{16}}\.(?:tmp|old)")


def hidden_name(path: Path, kind: Kind) -> Path:
    """A new temporary (``tmp``) or backup (``old``) name beside ``path``, unique to this run."""
    return path.with_name(f".{path.name}.{_MARK}-{secrets.token_hex(8)}.{kind}")


def hidden_target(name: str) -> str | None:
    """The file a temporary or backup name was made for, or None if the name is not one."""
    match = _HIDDEN.fullmatch(name)
    return None if match is None else match["target"]


def write_new(path: Path, content: bytes) -> None:
    """Create ``path`` (it must not exist) holding ``content``, flushed to disk.

    Mode 0o666 before the umask, as for any new file (``tempfile`` would make it private). A
    failure part-way removes what was created.
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    descriptor = os.open(path, flags, 0o666)
    try:
        with os.fdopen(descriptor, "wb") as stream:
            stream.write(content)
            stream.flush()
            os.fsync(stream.fileno())
    except BaseException:
        path.unlink(missing_ok=True)
        raise


def stage(path: Path, content: bytes) -> Path:
    """Write ``content`` to a new temporary file beside ``path``; returns its name."""
    temporary = hidden_name(path, "tmp")
    write_new(temporary, content)
    return temporary


def replace(path: Path, content: bytes) -> None:
    """Replace (or create) ``path`` with ``content`` in one rename; raises OSError naming
    ``path``, never the temporary file."""
    temporary = None
    try:
        temporary = stage(path, content)
        os.replace(temporary, path)
    except OSError as error:
        raise renamed(error, path) from None
    finally:
        if temporary is not None:
            temporary.unlink(missing_ok=True)  # still there only if the rename failed


def renamed(error: OSError, path: Path) -> OSError:
    """``error`` as if it had happened to ``path``: a message must name the user's file."""
    return type(error)(error.errno, error.strerror, str(path))


def remove_leftovers(directory: Path, owned: Callable[[str], bool]) -> list[str]:
    """Remove the temporary and backup files of earlier runs whose target ``owned`` accepts.

    Only regular files are removed (never a link or a directory of that name); returns the
    names removed. A directory that does not exist has none.
    """
    removed = []
    try:
        entries = list(os.scandir(directory))
    except FileNotFoundError:
        return []
    for entry in entries:
        target = hidden_target(entry.name)
        if target is not None and owned(target) and entry.is_file(follow_symlinks=False):
            try:
                os.unlink(entry.path)
            except FileNotFoundError:
                continue
            removed.append(entry.name)
    return removed


def sync_directory(directory: Path) -> None:
    """Flush a directory's entries (its renames) to disk, where the platform allows it."""
    if os.name != "posix":
        return
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
