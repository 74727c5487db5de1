"""The pytest plugin works in a fresh project that only installs the package.

The inner runs are subprocesses, so the plugin is found through its pytest11 entry point,
exactly as in a user's project, and not because this test session already imported it.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from minivoice_flow import Flow
from minivoice_flow.testing import Simulator, TestIVR
from tests.cli import without_coverage

pytest_plugins = ["pytester"]

USER_TESTS = """
from minivoice_flow import Flow
from minivoice_flow.testing import TestIVR

IVR = TestIVR(expect="1234#", ready_after_ms=1500)


def pin_entry(pause):
    return (
        Flow("pin_entry")
        .transfer("+15551230002", fallback_url="https://app.example.com/busy")
        .send_digits("1234#", pause_before_ms=pause)
    )


def test_waits_long_enough(minivoice_sim):
    result = minivoice_sim.run(pin_entry(2000), far_end=IVR)
    minivoice_sim.assert_far_end_heard(result, "1234#")
    minivoice_sim.assert_timeline(result, [("transfer", 0, 2000), ("send_digits", 2000, 5000)])


def test_sends_at_once(minivoice_sim):
    result = minivoice_sim.run(pin_entry(0), far_end=IVR)
    minivoice_sim.assert_far_end_heard(result, "1234#")
"""


@pytest.fixture
def user_project(pytester: pytest.Pytester) -> pytest.Pytester:
    """A project with its own tests and no conftest: only the installed package."""
    pytester.makepyfile(test_pin=USER_TESTS)
    return pytester


class TestInAFreshProject:
    """A user's tests get the fixture and readable failures without any set-up."""

    def test_one_passes_and_one_fails_with_the_difference(
        self, user_project: pytest.Pytester
    ) -> None:
        result = user_project.runpytest_subprocess("-W", "error")
        result.assert_outcomes(passed=1, failed=1)
        result.stdout.fnmatch_lines(
            [
                '*AssertionError: the far end heard ""; expected "1234#"',
                '*"1234#" started before the far end was listening (from 3500 ms)*',
            ]
        )

    def test_a_plain_assert_gets_the_calls_in_its_report(self, pytester: pytest.Pytester) -> None:
        pytester.makepyfile(
            test_plain="""
            from minivoice_flow import Flow

            def test_plain(minivoice_sim):
                first = minivoice_sim.run(Flow("one").hangup())
                second = minivoice_sim.run(Flow("two").play("https://m.example/a.wav"))
                assert first.ended_at_ms == second.ended_at_ms
            """
        )
        result = pytester.runpytest_subprocess()
        result.assert_outcomes(failed=1)
        result.stdout.fnmatch_lines(
            [
                "*- minivoice-flow simulated calls -*",
                "call call_123, inbound, caller +15551230001*",
                "*end: completed (hangup action); last step: one /actions/0/hangup",
                "call call_123, inbound, caller +15551230001*",
                "*end: completed (actions done); last step: two /actions/0/play",
            ]
        )

    def test_the_report_shows_untrusted_text_escaped(self, pytester: pytest.Pytester) -> None:
        """A flow name full of terminal controls reaches the report as visible escapes."""
        pytester.makepyfile(
            test_hostile="""
            from minivoice_flow import Flow

            def test_hostile(minivoice_sim):
                minivoice_sim.run(Flow("x\\x1b]0;owned\\x07\\x9b\\u2028y").hangup())
                assert False
            """
        )
        result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
        result.assert_outcomes(failed=1)
        report = result.stdout.str()
        assert "last step: x\\x1b]0;owned\\x07\\x9b\\u2028y /actions/0/hangup" in report
        assert not any(c in report for c in "\x1b\x07\x9b\u2028")

    def test_a_call_shown_by_the_failure_is_not_repeated(
        self, user_project: pytest.Pytester
    ) -> None:
        result = user_project.runpytest_subprocess()
        result.assert_outcomes(passed=1, failed=1)
        assert "minivoice-flow simulated calls" not in result.stdout.str()

    def test_the_fixture_is_listed(self, user_project: pytest.Pytester) -> None:
        result = user_project.runpytest_subprocess("--fixtures")
        result.stdout.fnmatch_lines(["minivoice_sim -- *", "*Simulate calls in a test*"])

    def test_test_ivr_is_not_collected(self, pytester: pytest.Pytester) -> None:
        pytester.makepyfile(
            test_ivr="""
            from minivoice_flow.testing import TestIVR

            def test_nothing():
                assert TestIVR().outcome == "answer"
            """
        )
        result = pytester.runpytest_subprocess("-W", "error")
        result.assert_outcomes(passed=1)


class TestSimulator:
    """The fixture's object runs calls, keeps them, and applies its defaults."""

    def test_defaults_apply_unless_overridden(self) -> None:
        flow = Flow().transfer("+15551230002").send_digits("1", pause_before_ms=100)
        simulator = Simulator(far_end=TestIVR(ready_after_ms=500))
        assert simulator.run(flow).far_end_digits == ""
        assert simulator.run(flow, far_end=TestIVR()).far_end_digits == "1"
        assert [r.far_end_digits for r in simulator.results] == ["", "1"]


def test_importing_the_library_does_not_load_the_simulator() -> None:
    code = (
        "import sys, minivoice_flow; "
        "print(any(m.startswith('minivoice_flow.testing') for m in sys.modules))"
    )
    output = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert output.stdout.strip() == "False"


class TestPictures:
    """A failed test's simulated calls are drawn as SVG files that its report names."""

    def test_written_to_the_chosen_folder_and_named(self, user_project: pytest.Pytester) -> None:
        """--minivoice-pictures DIR: one SVG per call of the failed test, none for the passed."""
        result = user_project.runpytest_subprocess("--minivoice-pictures", "pics")
        result.assert_outcomes(passed=1, failed=1)
        files = sorted((user_project.path / "pics").iterdir())
        assert [f.name.split("-")[0] for f in files] == ["test_pin.py_test_sends_at_once"]
        assert files[0].name.endswith("-call1.svg")
        result.stdout.fnmatch_lines(
            ["*- minivoice-flow pictures -*", f"call 1 (call_123, completed): {files[0]}"]
        )
        import xml.etree.ElementTree as ET

        svg = ET.parse(files[0]).getroot()
        lost = [e for e in svg.iter() if e.get("class") == "tone lost"]
        assert len(lost) == 5

    def test_default_folder_is_under_pytests_temporary_directory(
        self, user_project: pytest.Pytester
    ) -> None:
        """Without the option the pictures go to minivoice-pictures/ in pytest's basetemp."""
        base = user_project.path / "base"
        result = user_project.runpytest_subprocess("--basetemp", str(base))
        result.assert_outcomes(passed=1, failed=1)
        (picture,) = (base / "minivoice-pictures").iterdir()
        result.stdout.fnmatch_lines([f"call 1 (call_123, completed): {picture}"])

    def test_passing_tests_write_nothing(self, user_project: pytest.Pytester) -> None:
        """Only failures are drawn."""
        result = user_project.runpytest_subprocess(
            "--minivoice-pictures", "pics", "-k", "waits_long_enough"
        )
        result.assert_outcomes(passed=1)
        assert not (user_project.path / "pics").exists()


def test_loading_the_plugin_loads_no_simulator() -> None:
    """pytest loads the plugin in every run: the simulator waits for a test that asks."""
    code = (
        "import sys, minivoice_flow.testing.plugin\n"
        "loaded = [m for m in sys.modules if m.startswith('minivoice_flow.testing._')]\n"
        "assert loaded == [], loaded\n"
        "assert 'http.client' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, env=without_coverage())


def test_every_public_name_of_testing_is_its_module_s_object() -> None:
    """The package imports its names on first use; each is the object its module defines."""
    import importlib

    import minivoice_flow.testing as testing

    assert sorted(testing._MODULES) == sorted(testing.__all__)
    for name, module in testing._MODULES.items():
        defined = getattr(importlib.import_module(f"minivoice_flow.testing.{module}"), name)
        assert getattr(testing, name) is defined
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        testing.nothing  # noqa: B018
