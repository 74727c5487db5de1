"""The public API's types are tested, not hoped for: mypy rejects wrong calls."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

api = pytest.importorskip("mypy.api")

HERE = Path(__file__).parent
MARK = re.compile(r"#\s*E:\s*([a-z-]+)")


def run_mypy(path: Path) -> list[tuple[int, str]]:
    stdout, _, _ = api.run(
        ["--strict", "--no-incremental", "--show-error-codes", "--no-error-summary", str(path)]
    )
    errors = []
    for line in stdout.splitlines():
        match = re.match(rf".*{re.escape(path.name)}:(\d+): error: .*\[([a-z-]+)\]$", line)
        if match:
            errors.append((int(match[1]), match[2]))
    return errors


def test_wrong_calls_are_type_errors() -> None:
    path = HERE / "rejected.py"
    expected = [
        (number, match[1])
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if (match := MARK.search(line))
    ]
    assert len(expected) > 10
    assert run_mypy(path) == expected


def test_right_calls_are_accepted() -> None:
    assert run_mypy(HERE / "accepted.py") == []
