"""``minivoice-flow build``: which flows are exported, what is written, and when nothing is.

The classes marked "real command" run ``python -m minivoice_flow`` in a subprocess; the
others call the same ``main()`` in this process, which is quicker for the many small cases
of discovery, naming and source lines.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from minivoice_flow import Flow, validate
from minivoice_flow._cli import main
from minivoice_flow._cli._export import file_name, is_safe_name
from minivoice_flow._cli._output import MANIFEST
from tests.cli import (
    EXAMPLES,
    flow_files,
    line_of,
    run_cli,
    snapshot,
    terminal_safe,
    without_coverage,
    write_module,
)

GOOD = """
    from minivoice_flow import Flow

    PROMPT = Flow().play("https://media.example.com/menu.wav")

    MENU = (
        Flow("menu")
        .then(PROMPT)
        .collect("choice", max_digits=1)
        .redirect("https://app.example.com/choice")
    )
    ALSO_MENU = MENU
    GOODBYE = Flow("goodbye").play("https://media.example.com/bye.wav").hangup()
"""

WARNS = """
    from minivoice_flow import Flow

    PIN = (
        Flow("pin")
        .transfer("+15551230002", fallback_url="https://app.example.com/busy")
        .send_digits("1234#")
    )
"""

BROKEN = """
    from minivoice_flow import Flow

    BROKEN = Flow("broken").hangup().play("https://media.example.com/late.wav")
"""


def expected_files(source: str) -> dict[str, bytes]:
    """``<name>.json -> flow.to_json()`` for the named flows a module source defines."""
    import textwrap

    namespace: dict[str, object] = {}
    exec(textwrap.dedent(source), namespace)
    return {
        f"{value.name}.json": value.to_json().encode()
        for value in namespace.values()
        if isinstance(value, Flow) and value.name is not None
    }


def build(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str]:
    """Run ``build`` in this process; its exit code and what it printed."""
    code = main(["build", *map(str, args)])
    return code, capsys.readouterr().out


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty project directory, made the working directory."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


class TestCleanBuild:
    """Real command: a build writes one file per named flow, exactly ``to_json()``, repeatably."""

    def test_writes_each_named_flow_once_and_nothing_else(self, tmp_path: Path) -> None:
        write_module(tmp_path / "flows", "menu", GOOD)
        ran = run_cli("build", "flows", "--out", "out", cwd=tmp_path)
        assert ran.code == 0, ran
        written = {p.name: p.read_bytes() for p in (tmp_path / "out").iterdir()}
        assert written.pop(MANIFEST)  # the build's record of what it wrote
        assert written == expected_files(GOOD)
        assert set(written) == {"menu.json", "goodbye.json"}  # PROMPT is a building block
        assert "built 2 flows" in ran.out
        assert ran.err == ""

    def test_building_again_gives_the_same_bytes_and_rewrites_nothing(self, tmp_path: Path) -> None:
        write_module(tmp_path / "flows", "menu", GOOD)
        assert run_cli("build", "flows", "--out", "one", cwd=tmp_path).code == 0
        first = snapshot(tmp_path / "one")
        again = run_cli("build", "flows", "--out", "one", cwd=tmp_path)
        assert run_cli("build", "flows", "--out", "two", cwd=tmp_path).code == 0
        assert again.code == 0
        assert snapshot(tmp_path / "one") == first  # same bytes, same modification times
        assert "0 written, 2 unchanged" in again.out
        two = snapshot(tmp_path / "two")
        assert {name: data for name, (data, _) in two.items()} == {
            name: data for name, (data, _) in first.items()
        }


def earlier_build_to_change(project: Path) -> Path:
    """out/ from an earlier build, which a build now would change in every way it can: a
    missing file (menu.json, deleted), a stale one (goodbye.json, whose flow changed) and a
    left-over one (retired.json, whose flow is gone)."""
    flows = project / "flows"
    write_module(flows, "menu", GOOD)
    write_module(
        flows, "retired", 'from minivoice_flow import Flow\nR = Flow("retired").hangup()\n'
    )
    out = project / "out"
    assert run_cli("build", "flows", "--out", out, cwd=project).code == 0
    (flows / "retired.py").unlink()
    write_module(flows, "menu", GOOD.replace("bye.wav", "farewell.wav"))
    (out / "menu.json").unlink()
    return out


class TestCheck:
    """Real command: ``--check`` writes nothing and lists every file a build would change."""

    def test_fresh_output_passes(self, tmp_path: Path) -> None:
        write_module(tmp_path / "flows", "menu", GOOD)
        assert run_cli("build", "flows", "--out", "out", cwd=tmp_path).code == 0
        ran = run_cli("build", "flows", "--out", "out", "--check", cwd=tmp_path)
        assert ran.code == 0, ran
        assert "2 up to date" in ran.out

    def test_missing_stale_and_left_over_files_are_each_listed(self, tmp_path: Path) -> None:
        out = earlier_build_to_change(tmp_path)
        (out / "notes.txt").write_text("not a flow file")
        (out / "other.json").write_text("{}")  # not the build's: never listed
        before = snapshot(out)
        ran = run_cli("build", "flows", "--out", out, "--check", cwd=tmp_path)
        assert ran.code == 1
        assert f"{out / 'menu.json'}: missing" in ran.out
        assert f"{out / 'goodbye.json'}: stale" in ran.out
        assert f"{out / 'retired.json'}: left over" in ran.out
        assert f"{out / MANIFEST}: stale" in ran.out
        assert "notes.txt" not in ran.out
        assert "other.json" not in ran.out
        assert "3 out of date (1 missing, 1 stale, 1 left over)" in ran.out
        assert snapshot(out) == before

    def test_an_out_directory_not_yet_built_is_all_missing(self, tmp_path: Path) -> None:
        write_module(tmp_path / "flows", "menu", GOOD)
        ran = run_cli("build", "flows", "--out", "out", "--check", cwd=tmp_path)
        assert ran.code == 1
        assert "2 out of date (2 missing, 0 stale, 0 left over)" in ran.out
        assert not (tmp_path / "out").exists()


class TestFailedBuildChangesNothing:
    """Real command: with any error (or warning under --strict) nothing is written or removed."""

    def test_one_bad_flow_leaves_earlier_output_byte_for_byte(self, tmp_path: Path) -> None:
        out = earlier_build_to_change(tmp_path)
        before = snapshot(out)
        bad = write_module(tmp_path / "flows", "broken", BROKEN)
        ran = run_cli("build", "flows", "--out", out, cwd=tmp_path)
        assert ran.code == 1
        where = f'flows/broken.py:{line_of(bad, ".play(")}: flow "broken"'
        assert f"{where}: error unreachable_action at /actions/1/play" in ran.out
        assert "nothing was written" in ran.out
        assert snapshot(out) == before  # names, bytes and mtimes; no temporary files either

    def test_strict_makes_a_warning_fail_the_build(self, tmp_path: Path) -> None:
        module = write_module(tmp_path / "flows", "pin", WARNS)
        where = f"flows/pin.py:{line_of(module, '.send_digits(')}"
        lenient = run_cli("build", "flows", "--out", "lenient", cwd=tmp_path)
        strict = run_cli("build", "flows", "--out", "strict", "--strict", cwd=tmp_path)
        assert lenient.code == 0
        assert strict.code == 1
        for ran in (lenient, strict):
            assert f'{where}: flow "pin": warning digits_too_early at /actions/1/send_digits' in (
                ran.out
            )
        assert (tmp_path / "lenient" / "pin.json").exists()
        assert not (tmp_path / "strict").exists()


class TestFailedWriteChangesNothing:
    """In process: when the file system refuses part-way, every file is put back."""

    @pytest.mark.parametrize("failing_call", [1, 2, 3, 4, 5])
    def test_a_rename_that_fails_puts_every_file_back(
        self,
        project: Path,
        capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch,
        failing_call: int,
    ) -> None:
        """Renames: the interim manifest, menu.json, goodbye.json, retired.json out, the
        manifest; whichever of them fails, the directory is as it was."""
        out = earlier_build_to_change(project)
        before = snapshot(out)
        real_replace = os.replace
        calls: list[str] = []

        def replace(source: str | Path, target: str | Path) -> None:
            calls.append(str(target))
            # The renames that bring files in and take them out are counted; putting an old
            # file back after the failure is let through.
            if len(calls) == failing_call and not Path(source).name.endswith(".old"):
                raise PermissionError(13, "Permission denied", str(target))
            real_replace(source, target)

        monkeypatch.setattr(os, "replace", replace)
        code, printed = build(capsys, "flows", "--out", "out")
        assert code == 1
        assert "cannot write the flow files: permission denied" in printed.lower()
        assert snapshot(out) == before  # names, bytes and modification times; nothing hidden

    def test_a_directory_in_the_way_is_reported_before_anything_changes(
        self, project: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        out = earlier_build_to_change(project)
        (out / "menu.json").mkdir()
        before = snapshot(out)
        code, printed = build(capsys, "flows", "--out", "out")
        assert code == 1
        assert (
            f'{Path("out") / "menu.json"}: error: not replaced: flow "menu" needs this file name, '
            "but it is a directory"
        ) in printed
        assert snapshot(out) == before


class TestExitCodes:
    """Real command: 2 for a wrong command line, 1 for a module that cannot be imported."""

    @pytest.mark.parametrize(
        "args",
        [
            ["build", "flows"],
            ["build", "--out", "out"],
            ["build", "flows", "--out", "o", "--bogus"],
        ],
        ids=["no --out", "no PATH", "unknown option"],
    )
    def test_usage_errors_exit_2(self, tmp_path: Path, args: list[str]) -> None:
        ran = run_cli(*args, cwd=tmp_path)
        assert ran.code == 2
        assert "usage: minivoice-flow" in ran.err
        assert "error:" in ran.err
        assert ran.out == ""

    def test_import_error_names_file_and_line_without_a_traceback(self, tmp_path: Path) -> None:
        module = write_module(
            tmp_path / "flows",
            "typo",
            """
            from minivoice_flow import Flow

            PIN = Flow("pin").send_digits("12x4")
            """,
        )
        ran = run_cli("build", "flows", "--out", "out", cwd=tmp_path)
        assert ran.code == 1
        line = line_of(module, "send_digits")
        assert f"flows/typo.py:{line}: error: importing flows/typo.py failed: FlowError:" in ran.out
        assert 'has "x" at position 3' in ran.out
        assert "Traceback" not in ran.out + ran.err
        assert not (tmp_path / "out").exists()


class TestExamples:
    """Real command: every example builds, and every file it writes is a valid payload."""

    def test_examples_build_to_valid_json(self, tmp_path: Path) -> None:
        ran = run_cli("build", EXAMPLES, "--out", tmp_path / "out", cwd=tmp_path)
        assert ran.code == 0, ran
        assert "; 0 errors, 0 warnings" in ran.out
        files = [tmp_path / "out" / name for name in flow_files(tmp_path / "out")]
        assert len(files) >= 4  # one per scenario at least
        for path in files:
            report = validate(path.read_bytes())
            assert report.diagnostics == (), (path.name, report)
        check = run_cli("build", EXAMPLES, "--out", tmp_path / "out", "--check", cwd=tmp_path)
        assert check.code == 0, check


PROBE = """
import atexit, os, sys, runpy

def record():
    with open(os.environ["MODULES_FILE"], "w") as f:
        f.write("\\n".join(sorted(sys.modules)))

atexit.register(record)
sys.argv = ["minivoice-flow", *sys.argv[1:]]
runpy.run_module("minivoice_flow", run_name="__main__", alter_sys=True)
"""

NEVER_AT_START = {"jinja2", "sqlite3", "http", "hypothesis", "importlib.metadata", "pkgutil"}


class TestStartUp:
    """Real command: ``--help`` loads only what it needs, never jinja2 or the build machinery."""

    @pytest.mark.parametrize(
        ("args", "unwanted"),
        [
            (["--help"], {"minivoice_flow._cli.build", "minivoice_flow._cli.validate"}),
            (
                ["build", "--help"],
                {"minivoice_flow._cli.validate", "minivoice_flow._cli._discover"},
            ),
            (["validate", "--help"], {"minivoice_flow._cli.build", "minivoice_flow._cli._report"}),
        ],
    )
    def test_help_imports_nothing_it_does_not_need(
        self, tmp_path: Path, args: list[str], unwanted: set[str]
    ) -> None:
        import subprocess
        import sys

        record = tmp_path / "modules.txt"
        done = subprocess.run(
            [sys.executable, "-c", PROBE, *args],
            capture_output=True,
            env={**without_coverage(), "MODULES_FILE": str(record)},
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        assert b"usage: minivoice-flow" in done.stdout
        loaded = set(record.read_text().split())
        assert "minivoice_flow._cli" in loaded  # the probe saw the command run
        if args[0] != "--help":
            assert f"minivoice_flow._cli.{args[0]}" in loaded
        assert loaded & (NEVER_AT_START | unwanted) == set()


class TestDiscovery:
    """PATH may be a file, a directory of modules, a package or a module name; imports are
    isolated, and failures are reported by file and line."""

    def test_a_single_file(self, project: Path, capsys: pytest.CaptureFixture[str]) -> None:
        write_module(project / "flows", "menu", GOOD)
        code, _ = build(capsys, "flows/menu.py", "--out", "out")
        assert code == 0
        assert flow_files(project / "out") == ["goodbye.json", "menu.json"]

    def test_siblings_import_each_other_and_same_names_in_two_directories_do_not_clash(
        self, project: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        for team, url in [
            ("sales", "https://m.example/sales.wav"),
            ("help", "https://m.example/help.wav"),
        ]:
            write_module(
                project / team,
                "_shared",
                f"from minivoice_flow import Flow\nHELLO = Flow().play({url!r})\n",
            )
            write_module(
                project / team,
                "entry",
                f"""
                from minivoice_flow import Flow
                from _shared import HELLO

                ENTRY = Flow({team!r}).then(HELLO).hangup()
                """,
            )
        code, out = build(capsys, "sales", "help", "--out", "out")
        assert code == 0, out
        assert b"sales.wav" in (project / "out" / "sales.json").read_bytes()
        assert b"help.wav" in (project / "out" / "help.json").read_bytes()

    def test_a_package_directory_with_relative_imports(
        self, project: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        package = project / "ivrflows"
        write_module(package, "__init__", "from .menus import MENU\n")
        write_module(package, "menus", GOOD)
        write_module(package / "sub", "__init__", "")
        write_module(
            package / "sub",
            "late",
            """
            from ..menus import PROMPT
            from minivoice_flow import Flow

            LATE = Flow("late").then(PROMPT).hangup()
            """,
        )
        code, out = build(capsys, "ivrflows", "--out", "out")
        assert code == 0, out
        names = flow_files(project / "out")
        assert names == ["goodbye.json", "late.json", "menu.json"]

    def test_a_dotted_module_name_from_the_working_directory(
        self, project: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        write_module(project / "app_flows_for_test", "__init__", "")
        write_module(project / "app_flows_for_test", "menu", GOOD)
        code, out = build(capsys, "app_flows_for_test.menu", "--out", "out")
        assert code == 0, out
        assert (project / "out" / "menu.json").exists()

    def test_paths_that_are_not_there_or_not_python(
        self, project: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        (project / "notes.txt").write_text("hello")
        (project / "empty").mkdir()
        code, out = build(
            capsys, "missing.py", "notes.txt", "empty", "no.such.module", "--out", "o"
        )
        assert code == 1
        assert "missing.py: error: no such file or directory" in out
        assert "notes.txt: error: not a Python file" in out
        assert "empty: error: the directory holds no Python modules" in out
        assert "no.such.module: error: no such file, directory or module" in out

    def test_the_same_file_given_twice_is_imported_once(
        self, project: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        write_module(project / "flows", "menu", GOOD + "    print('imported')\n")
        code, out = build(capsys, "flows", "flows/menu.py", "--out", "out")
        assert code == 0
        assert out.count("imported") == 1

    def test_a_module_that_exits_is_an_import_error(
        self, project: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        write_module(project / "flows", "quits", "import sys\nsys.exit(3)\n")
        code, out = build(capsys, "flows", "--out", "out")
        assert code == 1
        assert "flows/quits.py:2: error: importing flows/quits.py failed: SystemExit: 3" in out

    def test_traceback_option_shows_the_traceback(
        self, project: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        write_module(project / "flows", "bad", "x = 1 / 0\n")
        code, plain = build(capsys, "flows", "--out", "out")
        code_tb, verbose = build(capsys, "flows", "--out", "out", "--traceback")
        assert (code, code_tb) == (1, 1)
        assert "flows/bad.py:1: error: importing flows/bad.py failed: ZeroDivisionError" in plain
        assert "Traceback" not in plain
        assert "Traceback (most recent call last)" in verbose

    def test_nothing_named_is_an_error_not_an_empty_build(
        self, project: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        write_module(
            project / "flows", "prefix", "from minivoice_flow import Flow\nP = Flow().hangup()\n"
        )
        (project / "out").mkdir()
        (project / "out" / "keep.json").write_text("{}")
        code, out = build(capsys, "flows", "--out", "out")
        assert code == 1
        assert "no named flows found" in out
        assert (project / "out" / "keep.json").exists()


BUNDLE = """
    from minivoice_flow import Flow

    class Paths:
        def __init__(self, *flows):
            self.flows = flows

        def __minivoice_flows__(self):
            return iter(self.flows)

    BUSY = Flow("busy").play("https://m.example/busy.wav").hangup()
    PATHS = Paths(
        BUSY,
        Flow("no_answer").play("https://m.example/na.wav").hangup(),
        Flow().hangup(),
    )
"""


class TestExportRule:
    """Named module-level flows and bundles are exported; each flow once; names must not clash."""

    def test_bundles_contribute_their_named_flows_once(
        self, project: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        write_module(project / "flows", "paths", BUNDLE)
        code, out = build(capsys, "flows", "--out", "out")
        assert code == 0, out
        assert flow_files(project / "out") == [
            "busy.json",
            "no_answer.json",
        ]

    @pytest.mark.parametrize(
        ("method", "message"),
        [
            ("return [1]", "PATHS.__minivoice_flows__() gave int at position 0; expected Flow"),
            ("raise KeyError('x')", "PATHS.__minivoice_flows__() failed: KeyError: 'x'"),
        ],
    )
    def test_a_broken_bundle_is_reported(
        self, project: Path, capsys: pytest.CaptureFixture[str], method: str, message: str
    ) -> None:
        source = BUNDLE.replace("return iter(self.flows)", method)
        write_module(project / "flows", "paths", source)
        code, out = build(capsys, "flows", "--out", "out")
        assert code == 1
        assert f"flows/paths.py: error: {message}" in out

    def test_equal_flows_from_two_modules_are_one_flow(
        self, project: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        write_module(project / "flows", "a", GOOD)
        write_module(project / "flows", "b", GOOD)
        code, out = build(capsys, "flows", "--out", "out")
        assert code == 0, out

    def test_two_different_flows_with_one_name_are_an_error_naming_both(
        self, project: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        a = write_module(project / "flows", "a", GOOD)
        b = write_module(project / "flows", "b", GOOD.replace("bye.wav", "ciao.wav"))
        code, out = build(capsys, "flows", "--out", "out")
        assert code == 1
        first, second = (f"flows/{m.name}:{line_of(m, 'GOODBYE =')}" for m in (a, b))
        assert (
            f'{first}: error: 2 different flows are named "goodbye": GOODBYE ({first}), '
            f"GOODBYE ({second}); give each its own name"
        ) in out
        assert not (project / "out").exists()

    @pytest.mark.parametrize(
        "name", ["", "../etc", "a/b", ".hidden", "two..dots", "with space", "x" * 101, "é"]
    )
    def test_unsafe_names_are_refused_naming_the_rule(
        self, project: Path, capsys: pytest.CaptureFixture[str], name: str
    ) -> None:
        write_module(
            project / "flows",
            "m",
            f"from minivoice_flow import Flow\nF = Flow({name!r}).hangup()\n",
        )
        code, out = build(capsys, "flows", "--out", "out")
        assert code == 1
        assert "flows/m.py:2: error: the flow name" in out
        assert "(F) cannot be a file name: a name must start with a letter or digit" in out
        assert not (project / "out").exists()

    def test_names_differing_only_in_case_are_refused(
        self, project: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        source = """
            from minivoice_flow import Flow
            A = Flow("Menu").hangup()
            B = Flow("menu").hangup()
        """
        write_module(project / "flows", "m", source)
        code, out = build(capsys, "flows", "--out", "out")
        assert code == 1
        assert 'the flow names "Menu", "menu" differ only in case' in out

    @pytest.mark.parametrize("name", ["main_menu", "v2.menu-EN", "0", "x" * 100, "a.b.c"])
    def test_ordinary_names_are_safe(self, name: str) -> None:
        assert is_safe_name(name)

    @given(st.text(alphabet="aZ09._-/\\: ", max_size=110) | st.text(max_size=20))
    def test_a_safe_name_always_stays_inside_the_out_directory(self, name: str) -> None:
        out = Path("/srv/out")
        target = Path(os.path.normpath(out / file_name(name)))
        if is_safe_name(name):
            assert target.parent == out
            assert not target.name.startswith(".")
            assert name.isascii() and len(name) <= 100


class TestSourceLines:
    """Diagnostics point at the line of the builder call that added the action, when it can."""

    def test_lines_follow_chains_prefixes_and_other_modules(
        self, project: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        write_module(
            project / "flows",
            "_prompts",
            """
            from minivoice_flow import Flow

            ASK = Flow().collect("choice")
            """,
        )
        module = write_module(
            project / "flows",
            "menu",
            """
            import minivoice_flow
            from minivoice_flow import Flow
            from _prompts import ASK

            LOCAL = Flow().transfer(
                "+15551230002"
            )

            A = Flow("a").then(LOCAL).send_digits("1")
            ALIAS = A
            B = minivoice_flow.Flow("b").then(ASK).play("https://m.example/a.wav").redirect(
                "https://app.example.com/x"
            )

            def make():
                return Flow("c").transfer("+15551230002")

            C = make()
            """,
        )
        code, out = build(capsys, "flows", "--out", "out")
        assert code == 0, out
        prompts = project / "flows" / "_prompts.py"
        expected = [
            (module, "LOCAL = ", 'flow "a": warning transfer_without_fallback'),
            (module, "send_digits", 'flow "a": warning digits_too_early'),
            (prompts, "collect", 'flow "b": warning collect_without_prompt'),
            (module, "C = make()", 'flow "c": warning transfer_without_fallback'),
        ]
        for path, text, warning in expected:
            line = f"flows/{path.name}:{line_of(path, text)}: {warning}"
            assert line in out

    def test_a_rebound_name_falls_back_to_the_binding_line(
        self, project: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        module = write_module(
            project / "flows",
            "menu",
            """
            from minivoice_flow import Flow

            M = Flow("m").play("https://m.example/a.wav")
            M = M.transfer("+15551230002")
            """,
        )
        code, out = build(capsys, "flows", "--out", "out")
        assert code == 0
        line = line_of(module, "M = M.")
        assert f'flows/menu.py:{line}: flow "m": warning transfer_without_fallback' in out


class TestOutDirectory:
    """The build owns flow files in --out and nothing else there."""

    def test_only_files_the_build_wrote_are_removed(self, project: Path) -> None:
        out = earlier_build_to_change(project)
        (out / "kept.json").mkdir(parents=True)  # a directory, even if named like a flow file
        for name in ["other.json", "notes.txt", ".editor.json", "has space.json"]:
            (out / name).write_text("{}")
        ran = run_cli("build", "flows", "--out", "out", cwd=project)
        assert ran.code == 0, ran
        assert f"removed {Path('out') / 'retired.json'}" in ran.out
        names = sorted(p.name for p in out.iterdir())
        assert names == [
            ".editor.json",
            MANIFEST,
            "goodbye.json",
            "has space.json",
            "kept.json",
            "menu.json",
            "notes.txt",
            "other.json",
        ]

    def test_new_files_get_the_usual_permissions(
        self, project: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        write_module(project / "flows", "menu", GOOD)
        old = os.umask(0o022)
        try:
            code, _ = build(capsys, "flows", "--out", "out")
        finally:
            os.umask(old)
        assert code == 0
        assert stat.S_IMODE((project / "out" / "menu.json").stat().st_mode) == 0o644

    @pytest.mark.parametrize(
        ("out", "message"),
        [
            ("afile", "afile: error: --out must be a directory"),
            ("afile/out", "afile/out: error: cannot write the flow files: a part of the path is"),
        ],
    )
    def test_an_out_directory_that_cannot_be_used_is_reported(
        self, project: Path, capsys: pytest.CaptureFixture[str], out: str, message: str
    ) -> None:
        write_module(project / "flows", "menu", GOOD)
        (project / "afile").write_text("a file")
        code, printed = build(capsys, "flows", "--out", out)
        assert code == 1
        assert message in printed
        assert "Traceback" not in printed
        assert (project / "afile").read_text() == "a file"


class TestControlCharactersAreEscaped:
    """Flow names and import errors come from user code: they reach the terminal escaped,
    one line each, whatever control characters they hold (tracebacks too)."""

    def test_names_messages_and_tracebacks(
        self, project: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        write_module(
            project / "flows",
            "named",
            """
            from minivoice_flow import Flow

            A = Flow("x\\x1b]0;owned\\x07\\x9b\\u2028y").transfer("+15551230002")
            """,
        )
        write_module(
            project / "flows", "raises", 'raise ValueError("\\x1b[2J\\nforged: ok\\x85\\u202e")\n'
        )
        code, out = build(capsys, "flows", "--out", "out", "--traceback")
        assert code == 1
        assert terminal_safe(out)
        assert "ValueError: \\x1b[2J\\x0aforged: ok\\x85\\u202e" in out
        assert "\\x9b\\u2028y" in out  # the name, in its problem and its warning
        assert not any(line.startswith("forged") for line in out.splitlines())
