"""A simulated call as SVG: lanes for the caller, the application and each far end, on a
time axis in milliseconds from the answer.

Stable hooks for tests and styling: every DTMF tone is a ``rect`` of class ``tone`` plus
``heard`` or ``lost``, with ``data-digit``; every action is a bar of class ``action`` with
``data-kind``; the moment a far end starts listening is a line of class ``ready``. In each
far-end lane the tones and the ready line are written in time order, so the too-early PIN
reads the same in the document as on screen: tones first, then the line.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Final

from minivoice_flow._draw._svg import Attributes, add, cells, clip, document, label, root

if TYPE_CHECKING:
    from minivoice_flow.testing._result import SimulationResult, ToneRecord, TransferRecord

#: Milliseconds to a horizontal position.
Scale = Callable[[float], float]

#: A tone's length as drawn: the simulator's default (the result does not keep its Timing).
TONE_MS: Final = 100
LEFT: Final = 150  # the lane names
PLOT: Final = 900
RIGHT: Final = 24
TOP: Final = 56
LANE: Final = 54
BAR: Final = 22
CELL: Final = 7.0  # one character cell at 11 px, rounded up
INK: Final = "#263238"
MUTED: Final = "#78909c"
HEARD: Final = "#2e7d32"
LOST: Final = "#c62828"
READY: Final = "#1565c0"
ACTION_FILLS: Final = {
    "play": "#bbdefb",
    "collect": "#c8e6c9",
    "redirect": "#e1bee7",
    "transfer": "#ffe0b2",
    "send_digits": "#fff59d",
    "hangup": "#cfd8dc",
}


def draw_timeline(result: SimulationResult) -> str:
    """The call as an SVG document (see ``SimulationResult.to_svg``)."""
    span = _span(result)
    scale = PLOT / span
    lanes = ["caller", "application", *(_far_end_name(t) for t in result.transfers)]
    height = TOP + LANE * len(lanes) + 64

    def x(ms: float) -> float:
        return LEFT + ms * scale

    last = result.last_step
    svg = root(
        LEFT + PLOT + RIGHT,
        height,
        "minivoice-timeline",
        f"simulated call {result.call_id}: {result.status} ({result.end_reason})",
        "Lanes for the caller, the application's actions and each far end, against "
        "milliseconds from the answer; DTMF tones are drawn heard or lost, with the moment "
        "each far end became ready to listen.",
    )
    heading = f"call {result.call_id}: {result.status}, {result.end_reason.replace('_', ' ')}"
    label(svg, 12, 22, clip(heading, 140), {"class": "heading", "font-size": 14, "fill": INK})
    step = f"last step: {last.step}" if last is not None else "no action ran"
    label(svg, 12, 40, clip(step, 140), {"class": "subheading", "font-size": 11, "fill": MUTED})

    _axis(svg, span, x, TOP + LANE * len(lanes))
    for index, name in enumerate(lanes):
        top = TOP + LANE * index
        add(
            svg,
            "rect",
            {
                "x": 0,
                "y": top,
                "width": LEFT + PLOT + RIGHT,
                "height": LANE,
                "fill": "#f7f9fa" if index % 2 == 0 else "#ffffff",
            },
        )
        group = add(svg, "g", {"class": "lane-name"})
        first, _, second = name.partition("\n")
        y = top + LANE / 2 + (4 if not second else -3)
        label(group, 12, y, clip(first, 19), {"fill": INK})
        if second:
            label(group, 12, y + 15, clip(second, 19), {"fill": INK, "font-size": 11})

    _caller(svg, result, x, TOP)
    _application(svg, result, x, scale, TOP + LANE)
    for number, transfer in enumerate(result.transfers):
        _far_end(svg, result, number, transfer, x, scale, TOP + LANE * (2 + number))
    end = x(result.ended_at_ms)
    bottom = TOP + LANE * len(lanes)
    group = add(svg, "g", {"class": "end", "data-ms": result.ended_at_ms})
    add(group, "line", _vertical(end, TOP, bottom, INK, "2 2"))
    _legend(svg, bottom + 40)
    return document(svg)


def _span(result: SimulationResult) -> int:
    """The milliseconds the axis shows: the whole call, and every far end's ready moment."""
    moments = [result.ended_at_ms, 1000]
    moments += [t.ready_at_ms for t in result.transfers if t.ready_at_ms is not None]
    moments += [tone.at_ms + TONE_MS for tone in result.tones]
    moments += [action.end_ms for action in result.actions]
    longest = max(moments)
    step = tick(longest)
    return -(-longest // step) * step


def tick(span: float) -> int:
    """The smallest round step (1, 2 or 5 times a power of ten) giving at most 12 ticks."""
    power = 1
    while True:
        for factor in (1, 2, 5):
            if span / (factor * power) <= 12:
                return factor * power
        power *= 10


def _axis(svg: ET.Element, span: int, x: Scale, bottom: float) -> None:
    group = add(svg, "g", {"class": "axis"})
    step = tick(span)
    for ms in range(0, span + 1, step):
        add(group, "line", _vertical(x(ms), TOP, bottom + 4, "#cfd8dc", None))
        label(
            group,
            x(ms),
            bottom + 16,
            f"{ms}",
            {"font-size": 10, "text-anchor": "middle", "fill": MUTED},
        )
    label(
        group, LEFT - 8, bottom + 16, "ms", {"font-size": 10, "text-anchor": "end", "fill": MUTED}
    )


def _caller(svg: ET.Element, result: SimulationResult, x: Scale, top: float) -> None:
    group = add(svg, "g", {"class": "lane-caller"})
    for key in result.keys:
        left, right = x(key.pressed_at_ms), x(key.counted_at_ms)
        taken = f"into {key.collected_into}" if key.collected_into else "not collected"
        element = add(
            group,
            "rect",
            {
                "class": "key",
                "data-key": key.key,
                "x": left,
                "y": top + 18,
                "width": max(right - left, 2),
                "height": 16,
                "fill": "#90a4ae" if key.collected_into else "#eceff1",
                "stroke": INK,
                "stroke-width": 0.5,
            },
        )
        add(element, "title", text=f"caller presses {key.key} at {key.pressed_at_ms} ms: {taken}")
        label(group, left, top + 14, clip(key.key, 2), {"font-size": 10, "fill": INK})
    _tones(group, [t for t in result.tones if t.transfer is None], x, top, None)


def _application(
    svg: ET.Element, result: SimulationResult, x: Scale, scale: float, top: float
) -> None:
    group = add(svg, "g", {"class": "lane-application"})
    for request in result.requests:
        where = x(request.at_ms)
        marker = add(
            group,
            "path",
            {
                "class": "request",
                "d": f"M{where:.1f} {top + 4:.1f} l-4 -0 l4 8 l4 -8 Z",
                "fill": MUTED,
            },
        )
        add(marker, "title", text=f"{request.reason} {request.url}: {request.outcome}")
    for action in result.actions:
        left = x(action.start_ms)
        width = max((action.end_ms - action.start_ms) * scale, 2)
        bar = add(
            group,
            "g",
            {
                "class": "action",
                "data-kind": action.kind,
                "data-start-ms": action.start_ms,
                "data-end-ms": action.end_ms,
            },
        )
        detail = f" {action.detail}" if action.detail else ""
        add(bar, "title", text=f"{action.step}: {action.kind}{detail} ({action.outcome})")
        add(
            bar,
            "rect",
            {
                "x": left,
                "y": top + (LANE - BAR) / 2,
                "width": width,
                "height": BAR,
                "fill": ACTION_FILLS.get(action.kind, "#eeeeee"),
                "stroke": INK,
                "stroke-width": 0.8,
            },
        )
        room = int((width - 6) // CELL)
        if room >= 3:
            name = clip(f"[{action.index}] {action.kind}", room)
            label(bar, left + 3, top + LANE / 2 + 4, name, {"font-size": 11, "fill": INK})


def _far_end(
    svg: ET.Element,
    result: SimulationResult,
    number: int,
    transfer: TransferRecord,
    x: Scale,
    scale: float,
    top: float,
) -> None:
    group = add(svg, "g", {"class": "lane-far-end", "data-to": transfer.to})
    answered = transfer.answered_at_ms
    ring_end = answered if answered is not None else result.ended_at_ms
    ringing = add(
        group,
        "rect",
        {
            "class": f"ringing {transfer.outcome.replace('_', '-')}",
            "x": x(transfer.start_ms),
            "y": top + LANE / 2 - 3,
            "width": max((ring_end - transfer.start_ms) * scale, 1),
            "height": 6,
            "fill": "#ffcc80" if answered is not None else "#ef9a9a",
        },
    )
    add(ringing, "title", text=f"ringing {transfer.to}: {transfer.outcome}")
    tones = [t for t in result.tones if t.transfer == number]
    _tones(group, tones, x, top, transfer.ready_at_ms)


def _tones(
    group: ET.Element, tones: Sequence[ToneRecord], x: Scale, top: float, ready_at_ms: int | None
) -> None:
    """Tones and the ready line in time order (the line before a tone at the same moment)."""
    items: list[tuple[int, int, ToneRecord | None]] = [(t.at_ms, 1, t) for t in tones]
    if ready_at_ms is not None:
        items.append((ready_at_ms, 0, None))
    last_label = -100.0
    for at_ms, _, tone in sorted(items, key=lambda item: item[:2]):
        if tone is None:
            _ready(group, x(at_ms), top, at_ms)
            continue
        left, right = x(at_ms), x(at_ms + TONE_MS)
        state = "heard" if tone.heard else "lost"
        attributes: Attributes = {
            "class": f"tone {state}",
            "data-digit": tone.char,
            "data-ms": at_ms,
            "x": left,
            "y": top + LANE / 2 - 9,
            "width": max(right - left, 2),
            "height": 18,
            "fill": HEARD if tone.heard else LOST,
        }
        element = add(group, "rect", attributes)
        add(element, "title", text=f"tone {tone.char} at {at_ms} ms to {tone.to}: {state}")
        if left - last_label >= CELL + 2 and cells(tone.char) == 1:
            label(
                group,
                left,
                top + LANE / 2 + 22,
                tone.char,
                {"font-size": 10, "fill": HEARD if tone.heard else LOST, "class": "digit"},
            )
            last_label = left


def _ready(group: ET.Element, where: float, top: float, at_ms: int) -> None:
    line = add(
        group,
        "line",
        {
            "class": "ready",
            "data-ms": at_ms,
            **_vertical(where, top + 2, top + LANE - 2, READY, "4 3"),
        },
    )
    line.set("stroke-width", "2")
    add(line, "title", text=f"far end ready to listen from {at_ms} ms")
    text = f"ready {at_ms} ms"
    if where + 3 + len(text) * CELL > LEFT + PLOT + RIGHT:  # no room on the right: the left
        label(
            group, where - 3, top + 11, text, {"font-size": 10, "fill": READY, "text-anchor": "end"}
        )
    else:
        label(group, where + 3, top + 11, text, {"font-size": 10, "fill": READY})


def _vertical(at: float, top: float, bottom: float, color: str, dashes: str | None) -> Attributes:
    return {
        "x1": at,
        "y1": top,
        "x2": at,
        "y2": bottom,
        "stroke": color,
        "stroke-dasharray": dashes,
    }


def _legend(svg: ET.Element, y: float) -> None:
    group = add(svg, "g", {"class": "legend"})
    x = 12.0
    for color, words in ((HEARD, "tone heard"), (LOST, "tone lost (far end not ready)")):
        add(group, "rect", {"x": x, "y": y - 10, "width": 10, "height": 12, "fill": color})
        label(group, x + 14, y, words, {"font-size": 11, "fill": INK})
        x += 14 + len(words) * CELL + 20
    add(group, "line", _vertical(x + 4, y - 11, y + 3, READY, "4 3"))
    label(group, x + 12, y, "far end ready to listen", {"font-size": 11, "fill": INK})
    x += 12 + 23 * CELL + 20
    add(group, "line", _vertical(x + 4, y - 11, y + 3, INK, "2 2"))
    label(group, x + 12, y, "call ends", {"font-size": 11, "fill": INK})


def _far_end_name(transfer: TransferRecord) -> str:
    return f"far end\n{transfer.to}"
