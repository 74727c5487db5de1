"""The committed stubs are the package's public surface, as mypy.stubtest proves."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
import types
from pathlib import Path

import pytest

import minivoice_flow
from minivoice_flow import __all__ as public_names
from minivoice_flow._actions import CATALOGUE
from minivoice_flow._generate import stubs
from minivoice_flow._generate.definitions import public_modules
from minivoice_flow._generate.docs import GenerationError
from minivoice_flow._generate.stubs import STUB_PATH, stub_files, stub_path
from minivoice_flow._generate.sync import write
from tests.catalogues import extended_catalogue

pytest.importorskip("mypy.stubtest")

ROOT = Path(__file__).resolve().parents[1]
ALLOWLIST = ROOT / "stubs" / "stubtest-allowlist.txt"
PUBLIC_MODULES = [
    "minivoice_flow",
    "minivoice_flow.fallback",
    "minivoice_flow.graph",
    "minivoice_flow.journal",
    "minivoice_flow.support",
    "minivoice_flow.testing",
    "minivoice_flow.testing.plugin",
    "minivoice_flow.webhooks",
    "minivoice_flow.wsgi",
]


def stubtest(stubs: Path) -> subprocess.CompletedProcess[str]:
    """Run mypy.stubtest on minivoice_flow against the stubs under ``stubs``."""
    return subprocess.run(
        [sys.executable, "-m", "mypy.stubtest", "minivoice_flow", "--allowlist", str(ALLOWLIST)],
        cwd=stubs.parent,
        env={**os.environ, "MYPYPATH": str(stubs)},
        capture_output=True,
        text=True,
        check=False,
    )


class TestStubtest:
    """stubtest accepts the committed stub, and rejects one that no longer matches."""

    def test_committed_stub_matches_the_package(self) -> None:
        result = stubtest(ROOT / "stubs")
        assert result.returncode == 0, result.stdout + result.stderr

    def test_stub_with_an_extra_field_is_rejected(self, tmp_path: Path) -> None:
        write(tmp_path, stub_files(extended_catalogue()))
        result = stubtest(tmp_path / "stubs")
        assert result.returncode == 1
        assert "minivoice_flow.Play.volume" in result.stdout
        assert "minivoice_flow.Flow.play" in result.stdout


class TestContent:
    """The stub spells out what the runtime builds from the catalogue."""

    def test_every_public_name_is_exported(self) -> None:
        stub = stub_files()[STUB_PATH]
        for name in public_names:
            assert f'    "{name}",\n' in stub

    def test_builder_methods_have_explicit_signatures(self) -> None:
        stub = stub_files()[STUB_PATH]
        assert (
            "    def send_digits(self, digits: str, *, pause_before_ms: int | None = None)"
            " -> Flow: ..."
        ) in stub
        assert "    def hangup(self) -> Flow: ...\n" in stub
        for info in CATALOGUE:
            assert f"class {info.type.__name__}:" in stub
            for field in info.fields:
                assert f"    def {field.name}(self) -> {field.annotation}: ...\n" in stub

    def test_long_signatures_are_wrapped(self) -> None:
        lines = stub_files()[STUB_PATH].splitlines()
        assert max(len(line) for line in lines) <= 99
        assert "    def transfer(" in lines


def top_level_names(stub: str) -> list[str]:
    """The names a stub defines at module level, ``__all__`` left out."""
    names = []
    for node in ast.parse(stub).body:
        if isinstance(node, (ast.ClassDef, ast.FunctionDef)):
            names.append(node.name)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.append(node.target.id)
        elif isinstance(node, ast.Assign):
            names.extend(t.id for t in node.targets if isinstance(t, ast.Name))
    return [name for name in names if name != "__all__"]


def stub_all(stub: str) -> list[str]:
    for node in ast.parse(stub).body:
        if isinstance(node, ast.Assign) and ast.unparse(node.targets[0]) == "__all__":
            value: list[str] = ast.literal_eval(node.value)
            return value
    raise AssertionError("the stub has no __all__")


class TestEveryPublicModule:
    """Each public module has a stub defining exactly its ``__all__``, and nothing private."""

    def test_each_public_module_has_a_stub(self) -> None:
        modules = public_modules(minivoice_flow)
        assert [m.__name__ for m in modules] == PUBLIC_MODULES
        assert sorted(stub_files()) == sorted(stub_path(m) for m in modules)
        assert stub_path(modules[5]) == "stubs/minivoice_flow/testing/__init__.pyi"

    @pytest.mark.parametrize("module", public_modules(minivoice_flow), ids=lambda m: m.__name__)
    def test_stub_defines_exactly_the_public_names(self, module: types.ModuleType) -> None:
        stub = stub_files()[stub_path(module)]
        assert stub_all(stub) == list(module.__all__)
        assert sorted(top_level_names(stub)) == sorted(module.__all__)

    @pytest.mark.parametrize("module", public_modules(minivoice_flow), ids=lambda m: m.__name__)
    def test_no_private_member_is_shown(self, module: types.ModuleType) -> None:
        for node in ast.walk(ast.parse(stub_files()[stub_path(module)])):
            if isinstance(node, ast.ClassDef):
                for member in top_level_names(ast.unparse(ast.Module(node.body, []))):
                    dunder = member.startswith("__") and member.endswith("__")
                    assert dunder or not member.startswith("_"), f"{node.name}.{member}"

    def test_a_public_module_without_a_template_is_an_error(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        extra = types.ModuleType("minivoice_flow.extra")
        extra.__all__ = []  # type: ignore[attr-defined]
        monkeypatch.setattr(
            stubs, "public_modules", lambda package: [*public_modules(package), extra]
        )
        with pytest.raises(
            GenerationError,
            match=r"minivoice_flow\.extra .* add "
            r"src/minivoice_flow/_generate/templates/stubs/extra\.pyi\.j2",
        ):
            stub_files()


#: A user's code, type-checked against the stubs alone. Each line marked ``# E: code`` must
#: give exactly that error, and no other line may give one.
USER_CODE = """\
from minivoice_flow import Flow, FlowError, parse
from minivoice_flow.fallback import FlowSet, collect_with_retries, combine, serve
from minivoice_flow.graph import FlowGraph, GraphEdge, flow_graph
from minivoice_flow.journal import CallJournal, LastStep, Outcome
from minivoice_flow.testing import (
    Caller, EndReason, SimulationResult, Simulator, TestIVR, Timing, assert_status, simulate
)
from minivoice_flow.testing.plugin import minivoice_sim
from minivoice_flow.webhooks import CallStatus, Event, Webhook, WebhookError, parse_webhook
from minivoice_flow.support import make_app
from minivoice_flow.wsgi import Server, WSGIApp, make_server

menu: FlowSet = collect_with_retries(
    "menu",
    prompt="https://app.example.com/menu.wav",
    base_url="https://app.example.com/ivr",
    on_input=lambda digits: Flow().hangup(),
    accept={"1", "2"},
)
both: FlowSet = combine(menu, serve(Flow("bye").hangup(), base_url="https://app.example.com"))
first: Flow = both.next_flow("https://app.example.com/ivr/menu", {"menu": "1"})
unserved: frozenset[str] = both.unserved()
graph: FlowGraph = both.graph()
edges: tuple[GraphEdge, ...] = flow_graph(both, Flow("x").hangup()).edges
mermaid: str = graph.to_mermaid() + graph.to_svg(highlight=["menu"], ended_in="menu")

journal = CallJournal(":memory:", create=True)
journal.record_response("c1", first, url="https://app.example.com/answer")
step: LastStep | None = journal.last_step("c1")
if step is not None:
    words: str = step.describe()
    hung_up: bool = step.outcome is Outcome.HUNG_UP
CallJournal(":memory:").last_step("c").describe()  # E: union-attr

hook: Webhook = parse_webhook(b"{}")
call_id: str = hook.call.id
over: bool = hook.call.ended and hook.event == Event.COMPLETED
busy: bool = hook.call.status == CallStatus.BUSY
problems: int = len(WebhookError(()).diagnostics)

result: SimulationResult = simulate(
    Flow().transfer("+15551230002").send_digits("1234#", pause_before_ms=2000),
    caller=Caller.presses("12", at_ms=0).and_hangs_up(at_ms=9000),
    far_end=TestIVR(expect="1234#", ready_after_ms=1500),
    timing=Timing(tone_ms=80),
)
status: str = simulate(Flow().hangup()).status
reason: EndReason = result.end_reason
heard: str = result.far_end_digits
assert_status(result, "completed", end_reason="hangup_action")


def test_flow(minivoice_sim: Simulator) -> None:
    minivoice_sim.assert_status(minivoice_sim.run(first), "completed")


fixture = minivoice_sim
result.status = "failed"  # E: misc
TestIVR(outcome="maybe")  # E: arg-type
Caller(hangup_at_ms="soon")  # E: arg-type
Timing(100, 100, 500, 1000, 200, 3000, 7)  # E: call-arg
simulate(Flow().hangup(), direction="sideways")  # E: arg-type

app: WSGIApp = lambda environ, start_response: [b""]
server: Server = make_server(app, "127.0.0.1", 0, timeout=5.0, workers=2)
port: int = server.server_port
make_server(app, workers="4")  # E: arg-type
support: WSGIApp = make_app(journal, both, token="a-long-enough-token", page_size=20)
make_app(journal, flows=[both])  # E: arg-type
serve(Flow("x").hangup(), "https://app.example.com")  # E: call-arg
combine()  # E: call-arg
step_text: str = journal.last_step("c1")  # E: assignment
parse_webhook(42)  # E: arg-type
error_code: str | None = FlowError("x").code
reply: Flow = parse("{}", direction="inbound")
"""
USER_CODE_ERROR = re.compile(r"^user\.py:(\d+): error: .*\[([a-z-]+)\]$")


class TestUsable:
    """The stubs alone are enough to type-check a user's code, and catch its mistakes."""

    def test_user_code_checks_against_the_stubs_only(self, tmp_path: Path) -> None:
        (tmp_path / "user.py").write_text(USER_CODE)
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "mypy",
                "--strict",
                "--verbose",
                "--cache-dir",
                str(tmp_path / "cache"),
                "--show-error-codes",
                "--no-error-summary",
                "user.py",
            ],
            cwd=tmp_path,
            env={**os.environ, "MYPYPATH": str(ROOT / "stubs")},
            capture_output=True,
            text=True,
            check=False,
        )
        read = re.findall(r"Parsing (\S+) \((minivoice_flow[\w.]*)\)", result.stderr)
        assert sorted({module for _, module in read}) == PUBLIC_MODULES
        for path, module in read:
            assert Path(path).is_relative_to(ROOT / "stubs"), (module, path)
        expected = [
            (number, match[1])
            for number, line in enumerate(USER_CODE.splitlines(), start=1)
            if (match := re.search(r"#\s*E:\s*([a-z-]+)", line))
        ]
        found = [
            (int(match[1]), match[2])
            for line in result.stdout.splitlines()
            if (match := USER_CODE_ERROR.match(line))
        ]
        assert found == expected, result.stdout
