"""``minivoice-flow docs``: writes every generated file; ``--check`` only names the stale ones."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from minivoice_flow._cli import main
from minivoice_flow._generate import examples
from minivoice_flow._generate.sync import generate_all

ROOT = Path(__file__).resolve().parents[1]


class TestWrite:
    """Without --check the command makes the folder up to date, and says what it changed."""

    def test_writes_then_nothing_to_do(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        assert main(["docs", "--root", str(tmp_path)]) == 0
        out = capsys.readouterr().out
        assert "wrote docs/actions/send_digits.md" in out
        assert (tmp_path / "stubs/minivoice_flow/__init__.pyi").is_file()
        assert main(["docs", "--root", str(tmp_path)]) == 0
        assert capsys.readouterr().out.endswith(", 0 changed\n")


class TestCheck:
    """--check writes nothing, names every stale or missing file and exits 1."""

    def test_repository_passes(self, capsys: pytest.CaptureFixture[str]) -> None:
        assert main(["docs", "--check", "--root", str(ROOT)]) == 0
        assert "up to date" in capsys.readouterr().out

    def test_empty_folder_fails_naming_every_file(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        assert main(["docs", "--check", "--root", str(tmp_path)]) == 1
        err = capsys.readouterr().err
        for path in generate_all():
            assert f"{path}: missing" in err
        assert not any(tmp_path.iterdir())

    @pytest.mark.parametrize(
        ("path", "before", "after"),
        [
            ("docs/answer_url.schema.json", '"maxItems": 100', '"maxItems": 99'),
            ("stubs/minivoice_flow/webhooks.pyi", "def to_json(self) -> str", "def to_json(self)"),
        ],
    )
    def test_stale_file_is_named(
        self,
        path: str,
        before: str,
        after: str,
        tmp_path: Path,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        main(["docs", "--root", str(tmp_path)])
        target = tmp_path / path
        assert before in target.read_text()
        target.write_text(target.read_text().replace(before, after))
        capsys.readouterr()
        assert main(["docs", "--check", "--root", str(tmp_path)]) == 1
        err = capsys.readouterr().err
        assert f"{path}: stale" in err
        assert "1 generated file(s) out of date" in err


class TestUsage:
    """Mistakes and a missing jinja2 are reported in a line, with exit 2, never a traceback."""

    def test_root_must_be_a_folder(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        assert main(["docs", "--root", str(tmp_path / "nope")]) == 2
        assert "is not a folder" in capsys.readouterr().err

    def test_broken_example_is_named(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        monkeypatch.setattr(examples, "FIELD_ERRORS", {"play": 'Flow().play("https://a.b/c")'})
        assert main(["docs", "--check", "--root", str(tmp_path)]) == 1
        assert "cannot generate: the field error example of play raised nothing" in (
            capsys.readouterr().err
        )

    @staticmethod
    def docs_check_without(module: str, root: Path) -> subprocess.CompletedProcess[str]:
        """``docs --check`` in a fresh interpreter where ``module`` cannot be imported."""
        code = (
            "import sys\n"
            f"sys.modules[{module!r}] = None  # as if it were not installed\n"
            "from minivoice_flow._cli import main\n"
            f"sys.exit(main(['docs', '--check', '--root', {str(root)!r}]))\n"
        )
        return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)

    def test_without_pytest(self, tmp_path: Path) -> None:
        result = self.docs_check_without("pytest", tmp_path)
        assert result.returncode == 1
        assert "cannot import minivoice_flow.testing.plugin" in result.stderr
        assert "pip install 'minivoice-flow[generate]'" in result.stderr
        assert "Traceback" not in result.stderr

    def test_without_jinja2(self, tmp_path: Path) -> None:
        result = self.docs_check_without("jinja2", tmp_path)
        assert result.returncode == 2
        assert "needs jinja2" in result.stderr
        assert "pip install 'minivoice-flow[generate]'" in result.stderr
        assert "Traceback" not in result.stderr
