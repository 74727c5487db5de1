"""A simulated call as SVG: tones heard or lost around the ready line, one bar per action,
and hostile names escaped."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from minivoice_flow import Flow
from minivoice_flow.testing import Caller, SimulationResult, TestIVR, simulate

SVG = "{http://www.w3.org/2000/svg}"
IVR = TestIVR(expect="1234#", ready_after_ms=1500)


def pin_entry(pause: int, name: str = "pin_entry") -> Flow:
    return (
        Flow(name)
        .transfer("+15551230002", fallback_url="https://app.example.com/ivr/busy")
        .send_digits("1234#", pause_before_ms=pause)
    )


def picture(result: SimulationResult) -> ET.Element:
    return ET.fromstring(result.to_svg().encode("utf-8"))


def classes(element: ET.Element) -> list[str]:
    return element.get("class", "").split()


def far_end_lane(svg: ET.Element) -> list[ET.Element]:
    """The far end's tones and ready line, in document order."""
    (lane,) = [g for g in svg.iter(f"{SVG}g") if "lane-far-end" in classes(g)]
    return [e for e in lane if {"tone", "ready"} & set(classes(e))]


class TestPin:
    """The too-early PIN at a glance: lost tones before the ready line, heard ones after."""

    def test_pause_0_loses_five_tones_before_the_ready_line(self) -> None:
        """Five tone lost elements come before the ready line, in the document and on screen."""
        elements = far_end_lane(picture(simulate(pin_entry(0), far_end=IVR)))
        assert [classes(e) for e in elements] == [["tone", "lost"]] * 5 + [["ready"]]
        assert [e.get("data-digit") for e in elements[:5]] == list("1234#")
        ready_x = float(elements[5].get("x1", "nan"))
        assert all(float(e.get("x", "nan")) < ready_x for e in elements[:5])
        assert elements[5].get("data-ms") == "3500"

    def test_pause_2000_gets_five_tones_heard_after_the_ready_line(self) -> None:
        """The ready line first, then five tone heard elements to its right."""
        elements = far_end_lane(picture(simulate(pin_entry(2000), far_end=IVR)))
        assert [classes(e) for e in elements] == [["ready"]] + [["tone", "heard"]] * 5
        ready_x = float(elements[0].get("x1", "nan"))
        assert all(float(e.get("x", "nan")) >= ready_x for e in elements[1:])
        assert "".join(e.get("data-digit", "") for e in elements[1:]) == "1234#"

    def test_one_bar_per_action_with_its_kind(self) -> None:
        """Action bars carry data-kind, and their times, in the order they ran."""
        result = simulate(pin_entry(2000), far_end=IVR)
        bars = [g for g in picture(result).iter(f"{SVG}g") if "action" in classes(g)]
        assert [
            (g.get("data-kind"), g.get("data-start-ms"), g.get("data-end-ms")) for g in bars
        ] == [
            ("transfer", "0", "2000"),
            ("send_digits", "2000", "5000"),
        ]

    def test_repr_svg_is_the_picture(self) -> None:
        """Notebooks show the same SVG."""
        result = simulate(pin_entry(0), far_end=IVR)
        assert result._repr_svg_() == result.to_svg()


class TestOtherCalls:
    """Keys, tones to the caller and calls without a far end draw too."""

    def test_keys_and_tones_to_the_caller(self) -> None:
        """Caller keys are drawn with the collect that took them; tones to the caller heard."""
        flow = (
            Flow("menu")
            .send_digits("9")
            .play("https://media.example.com/menu.wav")
            .collect("choice", max_digits=1)
            .redirect("https://app.example.com/choice")
        )
        svg = picture(simulate(flow, caller=Caller.presses("1", at_ms=3500)))
        keys = [e for e in svg.iter(f"{SVG}rect") if "key" in classes(e)]
        assert [k.get("data-key") for k in keys] == ["1"]
        tones = [e for e in svg.iter(f"{SVG}rect") if "tone" in classes(e)]
        assert [(classes(t), t.get("data-digit")) for t in tones] == [(["tone", "heard"], "9")]
        assert not [e for e in svg.iter() if "ready" in classes(e)]

    @pytest.mark.parametrize(
        "name", ["<script>alert(1)</script>", "a]]>b\"c'd&e", "\x00\x1b[2J\ud800"]
    )
    def test_hostile_flow_names_are_escaped(self, name: str) -> None:
        """A flow name from outside is text in the SVG, never markup."""
        svg = picture(simulate(pin_entry(0, name), far_end=IVR))
        assert not [e for e in svg.iter() if e.tag.endswith("script")]
        bars = [g for g in svg.iter(f"{SVG}g") if "action" in classes(g)]
        from minivoice_flow._text import printable

        assert printable(name) in "".join(bars[0].itertext())
