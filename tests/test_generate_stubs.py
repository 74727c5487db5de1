"""The committed stub is the package's public surface, as mypy.stubtest proves."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from minivoice_flow import __all__ as public_names
from minivoice_flow._actions import CATALOGUE
from minivoice_flow._generate.stubs import STUB_PATH, stub_files
from minivoice_flow._generate.sync import write
from tests.catalogues import extended_catalogue

pytest.importorskip("mypy.stubtest")

ROOT = Path(__file__).resolve().parents[1]
ALLOWLIST = ROOT / "stubs" / "stubtest-allowlist.txt"


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
