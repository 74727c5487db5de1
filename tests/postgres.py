"""A throwaway PostgreSQL server for the tests: initdb and pg_ctl on a private directory.

The server listens on 127.0.0.1 on a free port (and on a socket in its own directory), trusts
local connections and keeps nothing: its directory is removed when it stops. PostgreSQL
refuses to run as root, so when the tests run as root (CI does) the server is set up and run
by the ``postgres`` user through ``runuser``, on a directory that user owns (made with
``tempfile.mkdtemp``, not under pytest's tmp dirs, which are private to root).

Each test gets a database of its own from ``Server.database()``.
"""

from __future__ import annotations

import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

import psycopg

#: What to tell someone whose machine has no PostgreSQL server binaries.
INSTALL_HINT = (
    "the PostgreSQL journal tests need a PostgreSQL server's initdb, pg_ctl and postgres on "
    "PATH (or in /usr/lib/postgresql/*/bin): apt-get install postgresql, or your system's "
    "PostgreSQL server package"
)
#: The unprivileged account that runs the server when the tests run as root.
SERVER_USER = "postgres"
_BINARIES = ("initdb", "pg_ctl", "postgres")


class Unavailable(Exception):
    """No PostgreSQL server can be started here; the message says what to install."""


def find_binaries() -> Path | None:
    """The directory holding initdb, pg_ctl and postgres, or None."""
    found = shutil.which("initdb")
    candidates = [Path(found).parent] if found else []
    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
    for directory in candidates:
        if all((directory / name).is_file() for name in _BINARIES):
            return directory
    return None


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class Server:
    """A running throwaway server; ``url(dbname)`` connects to it as its superuser."""

    def __init__(
        self,
        binaries: Path,
        directory: Path,
        port: int,
        as_user: str | None,
        *,
        durable: bool = False,
    ) -> None:
        self.binaries = binaries
        self.directory = directory
        self.data = directory / "data"
        self.log = directory / "server.log"
        self.port = port
        self.host = "127.0.0.1"
        self._as_user = as_user
        self._durable = durable
        self._names = itertools.count(1)

    @classmethod
    def start_new(cls, *, durable: bool = False) -> Server:
        """initdb a private cluster and start it; raises Unavailable when it cannot.

        Tests run it without fsync (quicker, and nothing they check needs the disk);
        ``durable=True`` keeps PostgreSQL's defaults, for benchmarks.
        """
        binaries = find_binaries()
        if binaries is None:
            raise Unavailable(INSTALL_HINT)
        as_user = None
        directory = Path(tempfile.mkdtemp(prefix="minivoice-pg-"))
        if os.geteuid() == 0:
            try:
                account = pwd.getpwnam(SERVER_USER)
            except KeyError:
                shutil.rmtree(directory)
                raise Unavailable(
                    f"the tests run as root and PostgreSQL refuses to: they need a "
                    f"{SERVER_USER!r} system user to run the server (useradd --system "
                    f"{SERVER_USER}); {INSTALL_HINT}"
                ) from None
            os.chown(directory, account.pw_uid, account.pw_gid)
            as_user = SERVER_USER
        server = cls(binaries, directory, free_port(), as_user, durable=durable)
        try:
            server._run(
                "initdb",
                ["-D", str(server.data), "-U", "postgres", "--auth=trust", "-E", "UTF8"],
                "--no-sync",
                "--locale=C",
            )
            server.start()
        except BaseException:
            server.remove()
            raise
        return server

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql://postgres@{self.host}:{self.port}/{dbname}"

    def database(self) -> str:
        """A new, empty database on this server; returns its URL."""
        name = f"journal_{next(self._names)}"
        with psycopg.connect(self.url(), autocommit=True) as admin:
            admin.execute(f"CREATE DATABASE {name}")
        return self.url(name)

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.directory} -c listen_addresses={self.host} "
            "-c max_connections=200"
        )
        if not self._durable:
            options += " -c fsync=off -c full_page_writes=off"
        self._run(
            "pg_ctl", ["-D", str(self.data), "-l", str(self.log), "-o", options], "-w", "start"
        )

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", ["-D", str(self.data), "-m", mode], "-w", "stop")

    def remove(self) -> None:
        shutil.rmtree(self.directory, ignore_errors=True)

    def _run(self, program: str, arguments: Sequence[str], *more: str) -> None:
        command = [str(self.binaries / program), *arguments, *more]
        if self._as_user is not None:
            command = ["runuser", "-u", self._as_user, "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            log = self.log.read_text(errors="replace") if self.log.exists() else ""
            raise RuntimeError(
                f"{' '.join(command)} failed ({done.returncode}):\n{done.stdout}{done.stderr}{log}"
            )
