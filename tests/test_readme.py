"""The README cannot rot: every code block in it runs, in order, as a newcomer would run it.

How each block is run, from a scratch copy of the repository (its tracked files), with the
package's command on ``PATH``:

- ``python`` blocks run in order as one session, statement by statement. A statement whose
  first line ends in a comment that starts with an exception's name and a colon
  (``# FlowError: ...``) or with ``raises`` and its name (``# raises JournalError``) must raise
  that exception; an expression whose comment starts with a string in double quotes
  (``# "1234#"``) must have that value; every other statement must not raise. A
  ``def test_...`` function is then called with the real fixtures it names, as pytest would.
- ``sh`` blocks run line by line (``\\`` continues a line) in the same folder and must exit 0,
  or the code a trailing ``# exits N`` names. A line ending in ``# runs until stopped`` (a
  server) must still be running a moment after it starts; it is then stopped with Ctrl-C.
  ``pip install 'minivoice-flow[extra]'`` lines are checked against the extras that
  ``pyproject.toml`` declares instead of being installed again.
- The two set-up commands: ``python3 dev.py build`` runs the build steps ``dev.py`` declares,
  with this interpreter; ``python3 dev.py check`` is what the suite itself is doing, so the
  test holds the claim that CI runs exactly it (``.ci/run``).
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import io
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
import tokenize
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from attrs import frozen

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
FENCE = re.compile(r"^```(\w*)\n(.*?)^```$", re.DOTALL | re.MULTILINE)
RAISES = re.compile(r"^#\s*(?:raises\s+([A-Z]\w*)|([A-Z]\w*(?:Error|Exception)):)")
VALUE = re.compile(r'^#\s*("(?:[^"\\]|\\.)*")')
EXITS = re.compile(r"#\s*exits\s+(\d+)\s*$")
SERVER = re.compile(r"#\s*runs until stopped\s*$")
PIP = re.compile(r"^pip install (?:-e )?'(?:minivoice-flow|\.)\[([\w,-]+)\]'")


@frozen
class Block:
    """A fenced code block of the README: its language, its text and its first line number."""

    language: str
    text: str
    line: int


def blocks() -> list[Block]:
    text = README.read_text(encoding="utf-8")
    return [
        Block(m.group(1), m.group(2), text.count("\n", 0, m.start()) + 2)
        for m in FENCE.finditer(text)
    ]


@pytest.fixture
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the repository's tracked files, where the README's commands may write."""
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.decode()
    folder = tmp_path_factory.mktemp("readme")
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, folder / name)
    return folder


@pytest.fixture
def in_scratch(scratch: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.chdir(scratch)
    yield scratch


def shell_environment() -> dict[str, str]:
    """This interpreter's scripts folder first on PATH, so ``minivoice-flow`` is ours."""
    scripts = str(Path(sys.executable).parent)
    return {**os.environ, "PATH": scripts + os.pathsep + os.environ.get("PATH", "")}


def commands(block: Block) -> Iterator[tuple[int, str]]:
    """Each command of a shell block with its line number, continuation lines joined."""
    pending, start = "", 0
    for number, line in enumerate(block.text.splitlines(), start=block.line):
        if not pending:
            start = number
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        command = (pending + line).strip()
        pending = ""
        if command and not command.startswith("#"):
            yield start, command


class TestReadme:
    """Every code block of README.md works as shown."""

    def test_blocks_are_found(self) -> None:
        """The README has Python and shell blocks, and no block in a language we cannot run."""
        found = blocks()
        assert {b.language for b in found} == {"python", "sh"}
        assert sum(b.language == "python" for b in found) >= 6

    def test_blocks_run_in_order(self, in_scratch: Path, request: pytest.FixtureRequest) -> None:
        """Top to bottom, every block works: Python as one session, shell from the repo's top."""
        namespace: dict[str, Any] = {"__name__": "readme"}
        for block in blocks():
            if block.language == "python":
                run_python(block, namespace, request)
            else:
                for line, command in commands(block):
                    run_shell(command, in_scratch, f"README.md:{line}")

    def test_ci_runs_the_readme_check_command(self) -> None:
        """`.ci/run` runs exactly the check command the README gives, from the repository top."""
        setup = [c for b in blocks() if b.language == "sh" for _, c in commands(b)]
        check = next(c.split("#")[0].strip() for c in setup if "dev.py check" in c)
        ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
        assert f"exec {check}" in ci.splitlines()


def run_python(block: Block, namespace: dict[str, Any], request: pytest.FixtureRequest) -> None:
    lines = README.read_text(encoding="utf-8").splitlines()
    tree = ast.increment_lineno(ast.parse(block.text), block.line - 1)
    for statement in tree.body:
        code = compile(ast.Module([statement], type_ignores=[]), "README.md", "exec")
        first = lines[statement.lineno - 1]
        where = f"README.md:{statement.lineno}: {first.strip()}"
        comment = comment_of(first)
        expected = RAISES.search(comment)
        value = VALUE.search(comment)
        if value is not None and isinstance(statement, ast.Expr):
            shown = eval(compile(ast.Expression(statement.value), "README.md", "eval"), namespace)
            assert shown == ast.literal_eval(value.group(1)), where
            continue
        if expected is None:
            exec(code, namespace)
            continue
        name = expected.group(1) or expected.group(2)
        error = exception_named(name, namespace)
        assert error is not None, f"{where}: no exception named {name}"
        with pytest.raises(error):
            exec(code, namespace)
    # Test functions the block defined run as pytest would run them: with real fixtures.
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
            arguments = {a.arg: request.getfixturevalue(a.arg) for a in node.args.args}
            namespace[node.name](**arguments)


def exception_named(name: str, namespace: dict[str, Any]) -> type[BaseException] | None:
    """The exception a comment names: the session's own, a builtin, or one of the library's."""
    places = [namespace, vars(builtins)]
    places += [vars(m) for n, m in sorted(sys.modules.items()) if n.startswith("minivoice_flow")]
    for place in places:
        found = place.get(name)
        if isinstance(found, type) and issubclass(found, BaseException):
            return found
    return None


def comment_of(line: str) -> str:
    """The comment at the end of a line of Python ("" if none), even an unfinished line."""
    tokens: list[tokenize.TokenInfo] = []
    # An open bracket ends tokenizing early: the statement goes on, and the tokens before are
    # all a first line has.
    with contextlib.suppress(tokenize.TokenError):
        tokens.extend(tokenize.generate_tokens(io.StringIO(line + "\n").readline))
    return next((t.string for t in tokens if t.type == tokenize.COMMENT), "")


def run_shell(command: str, folder: Path, where: str) -> None:
    plain = command.split(" #")[0].strip()
    if plain == "python3 dev.py check":
        return  # what this suite is part of: see test_ci_runs_the_readme_check_command
    if plain == "python3 dev.py build":
        sys.path.insert(0, str(ROOT))
        try:
            import dev
        finally:
            sys.path.remove(str(ROOT))
        for step in dev.BUILD:
            run_shell(shlex.join([sys.executable, *step]), folder, where)
        return
    pip = PIP.match(plain)
    if pip is not None:
        declared = tomllib.loads((folder / "pyproject.toml").read_text())["project"]
        for extra in pip.group(1).split(","):
            assert extra in declared["optional-dependencies"], f"{where}: no extra {extra!r}"
        return
    if SERVER.search(command):
        run_server(plain, folder, where)
        return
    exits = EXITS.search(command)
    done = subprocess.run(
        ["bash", "-c", plain],
        cwd=folder,
        env=shell_environment(),
        capture_output=True,
        text=True,
        errors="backslashreplace",
        timeout=300,
    )
    wanted = int(exits.group(1)) if exits else 0
    assert done.returncode == wanted, f"{where}: {plain}\n{done.stdout}\n{done.stderr}"


def run_server(command: str, folder: Path, where: str) -> None:
    server = subprocess.Popen(
        ["bash", "-c", f"exec {command}"],
        cwd=folder,
        env=shell_environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        time.sleep(2)
        assert server.poll() is None, f"{where}: {command} stopped: {server.communicate()[0]}"
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.communicate()
