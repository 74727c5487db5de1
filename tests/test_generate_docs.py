"""The Markdown reference: complete, correct examples, and links that lead somewhere."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from minivoice_flow import validate
from minivoice_flow._actions import CATALOGUE, CATALOGUE_BY_KIND, FieldInfo
from minivoice_flow._codes import CODES
from minivoice_flow._fields import FieldSpec
from minivoice_flow._generate import examples
from minivoice_flow._generate.docs import (
    GenerationError,
    docs_files,
    environment,
    sample_value,
)
from minivoice_flow._generate.schema import build_schema

jsonschema = pytest.importorskip("jsonschema")

ROOT = Path(__file__).resolve().parents[1]
JSON_BLOCK = re.compile(r"^```json\n(.*?)^```$", re.DOTALL | re.MULTILINE)
LINK = re.compile(r"\]\(([^)#]+)?(?:#([^)]+))?\)")


@pytest.fixture(scope="module")
def files() -> dict[str, str]:
    return docs_files()


def page(files: dict[str, str], kind: str) -> str:
    return files[f"docs/actions/{kind}.md"]


class TestActionPages:
    """Each action has a page with its whole definition on it."""

    def test_one_page_per_action(self, files: dict[str, str]) -> None:
        pages = {p for p in files if p.startswith("docs/actions/")}
        assert pages == {f"docs/actions/{info.kind}.md" for info in CATALOGUE}

    def test_every_field_is_in_the_table(self, files: dict[str, str]) -> None:
        for info in CATALOGUE:
            text = page(files, info.kind)
            for field in info.fields:
                rows = text.splitlines()
                row = next(line for line in rows if line.startswith(f"| `{field.name}` | "))
                assert field.spec.doc in row
                assert ("| yes |" in row) is field.required

    def test_limits_are_in_the_table(self, files: dict[str, str]) -> None:
        text = page(files, "send_digits")
        assert "| `digits` | string | yes | 1 to 50 characters: 0-9 * # A B C D" in text
        pause = "| `pause_before_ms` | integer (ms) | no | a whole number from 0 to 60000 ms |"
        assert pause in text
        finish = '| `finish_on_key` | string | no | one of 0-9, * or #, or "" for no finishing key'
        assert f'{finish} | `"#"` |' in page(files, "collect")

    def test_every_action_has_its_own_prose(self) -> None:
        templates = set(environment().list_templates())
        for info in CATALOGUE:
            assert f"actions/{info.kind}.md.j2" in templates

    def test_rules_involving_the_action_are_listed(self, files: dict[str, str]) -> None:
        assert "[`digits_too_early`]" in page(files, "send_digits")
        assert "[`digits_too_early`]" in page(files, "transfer")
        assert "[`digits_too_early`]" not in page(files, "play")
        assert "[`unreachable_action`]" in page(files, "hangup")
        # The worked example on a page points at that page's action.
        assert "warning digits_too_early at /actions/1/send_digits" in page(files, "send_digits")

    def test_field_error_example_is_the_real_message(self, files: dict[str, str]) -> None:
        text = page(files, "send_digits")
        assert 'FlowError: send_digits.digits has "a" (DTMF letters are upper case' in text
        assert "  code: invalid_value\n  path: /actions/0/send_digits/digits" in text

    def test_vendor_example_appears_verbatim(self, files: dict[str, str]) -> None:
        minimal = '{\n  "actions": [\n    {\n      "send_digits": {\n        "digits": "1234#"\n'
        assert minimal in page(files, "send_digits")


class TestExamples:
    """Every JSON block of an action page is a payload both validate() and the schema accept."""

    def test_action_page_json_is_valid(self, files: dict[str, str]) -> None:
        validator = jsonschema.Draft202012Validator(build_schema())
        for info in CATALOGUE:
            blocks = JSON_BLOCK.findall(page(files, info.kind))
            assert len(blocks) >= 2
            for block in blocks:
                assert validate(block).ok, block
                assert validator.is_valid(json.loads(block)), block

    def test_every_rule_and_payload_code_has_an_example(self, files: dict[str, str]) -> None:
        rules = files["docs/rules.md"]
        for code in CODES:
            section = rules.split(f"### `{code}`", 1)[1].split("\n### ", 1)[0]
            assert f" {code} at " in section, code

    def test_example_that_does_not_draw_its_rule_fails_generation(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        rule_flows = dict(examples.RULE_FLOWS, digits_too_early="Flow().hangup()")
        monkeypatch.setattr(examples, "RULE_FLOWS", rule_flows)
        with pytest.raises(GenerationError, match="does not draw it"):
            docs_files()

    def test_in_context_example_must_pass_every_rule(self, monkeypatch: pytest.MonkeyPatch) -> None:
        in_context = dict(examples.IN_CONTEXT, collect='Flow().collect("x")')
        monkeypatch.setattr(examples, "IN_CONTEXT", in_context)
        with pytest.raises(GenerationError, match="draws diagnostics"):
            docs_files()


class TestSampleValues:
    """A new field gets a sample value from its spec, or a clear request for one."""

    def test_integer_uses_default_then_minimum(self) -> None:
        info = CATALOGUE_BY_KIND["play"]
        spec = FieldSpec("integer", "d", minimum=3, maximum=9)
        with_default = FieldInfo(
            "x", False, "int | None", FieldSpec("integer", "d", minimum=3, maximum=9, default=5)
        )
        without = FieldInfo("x", False, "int | None", spec)
        assert sample_value(info, with_default) == 5
        assert sample_value(info, without) == 3

    def test_string_without_choices_asks_for_a_sample(self) -> None:
        info = CATALOGUE_BY_KIND["play"]
        field = FieldInfo("label", False, "str | None", FieldSpec("string", "d", pattern="[a-z]+"))
        with pytest.raises(GenerationError, match=r"no sample value for play\.label"):
            sample_value(info, field)


class TestLinks:
    """Every relative link in docs/ leads to a file, and every anchor to a heading."""

    def test_links_resolve(self, files: dict[str, str]) -> None:
        on_disk = {
            p.relative_to(ROOT).as_posix(): p.read_text() for p in (ROOT / "docs").rglob("*.md")
        }
        pages = {**on_disk, **files}
        checked = 0
        for path, text in pages.items():
            for target, anchor in LINK.findall(text):
                if target.startswith("http"):
                    continue
                resolved = (Path(path).parent / target).as_posix() if target else path
                resolved = _normalise(resolved)
                assert resolved in pages or (ROOT / resolved).is_file(), (path, target)
                if anchor:
                    assert f"### `{anchor}`" in pages[resolved], (path, anchor)
                checked += 1
        assert checked > 50


def _normalise(path: str) -> str:
    parts: list[str] = []
    for part in path.split("/"):
        if part == "..":
            parts.pop()
        elif part not in ("", "."):
            parts.append(part)
    return "/".join(parts)
