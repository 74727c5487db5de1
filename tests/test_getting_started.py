"""The hand-written guide cannot rot: its Python blocks run, in order, as one session."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

GUIDE = Path(__file__).resolve().parents[1] / "docs" / "getting-started.md"
BLOCK = re.compile(r"^```python\n(.*?)^```$", re.DOTALL | re.MULTILINE)


def python_blocks() -> list[str]:
    return BLOCK.findall(GUIDE.read_text(encoding="utf-8"))


class TestGettingStarted:
    """docs/getting-started.md shows code that works as shown."""

    def test_has_examples(self) -> None:
        assert len(python_blocks()) >= 8

    def test_blocks_run_in_order(self, capsys: pytest.CaptureFixture[str]) -> None:
        namespace: dict[str, object] = {"__name__": "getting_started"}
        for number, block in enumerate(python_blocks(), start=1):
            exec(compile(block, f"{GUIDE.name}, block {number}", "exec"), namespace)
        printed = capsys.readouterr().out
        assert '"collect": {' in printed  # the first flow, printed with indent=2
        assert "digits_too_early" in printed
