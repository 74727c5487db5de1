"""``minivoice-flow schema`` prints the schema, and never loads jinja2."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from minivoice_flow._cli import main
from minivoice_flow._generate.schema import build_schema


class TestSchemaCommand:
    """The command prints exactly the generated schema."""

    def test_prints_the_schema(self, capsys: pytest.CaptureFixture[str]) -> None:
        assert main(["schema"]) == 0
        assert json.loads(capsys.readouterr().out) == build_schema()

    def test_does_not_import_jinja2(self) -> None:
        code = (
            "import sys, io, contextlib\n"
            "from minivoice_flow._cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            "    status = main(['schema'])\n"
            "print(status, 'jinja2' in sys.modules)\n"
        )
        result = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        )
        assert result.stdout.split() == ["0", "False"]
