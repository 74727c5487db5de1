"""A call from the journal as SVG: each record on a row of its own, against wall-clock time.

A response (the flow returned for a request) is a bar from when it was returned until the
next response or the end of the call: the step the call was in. A webhook is a diamond at
the moment it arrived. Every record has its own row, so the text beside it never overlaps
another, however close in time. The last known step is drawn in the accent colour and
named in the heading, with the outcome. Every value came from outside (the journal stores
what arrived): all of it is made printable and escaped.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Final

from minivoice_flow._draw._svg import Attributes, add, clip, document, label, root
from minivoice_flow._draw.timeline import tick

if TYPE_CHECKING:
    from minivoice_flow.journal import LastStep, Record

LEFT: Final = 16
PLOT: Final = 560
TEXT: Final = 420  # the description column, right of the plot
TOP: Final = 64
ROW: Final = 22
#: Rows drawn at most; a note says how many more there were.
MAX_ROWS: Final = 500
INK: Final = "#263238"
MUTED: Final = "#78909c"
ACCENT: Final = "#e65100"
STEP: Final = "#bbdefb"
WEBHOOK: Final = "#7e57c2"
ERROR: Final = "#c62828"


def draw_recorded_call(records: Sequence[Record], last: LastStep) -> str:
    """A recorded call (its records, in order, and its last step) as an SVG document."""
    shown = list(records[:MAX_ROWS])
    start = shown[0].received_at if shown else last.updated_at
    seconds = [(r.received_at - start).total_seconds() for r in shown]
    longest = max([*seconds, 1.0])
    span = math.ceil(longest / tick(longest)) * tick(longest)
    height = TOP + ROW * (len(shown) + (1 if len(records) > MAX_ROWS else 0)) + 40
    width = LEFT + PLOT + TEXT

    def x(at: float) -> float:
        return LEFT + PLOT * at / span

    svg = root(
        width,
        height,
        "minivoice-recorded-call",
        f"recorded call {last.call_id}: {last.describe()}",
        "Each row is a record of the journal: a response returned (a bar for the step it "
        "started) or a webhook received (a diamond), against seconds from the first record.",
    )
    label(svg, LEFT, 22, clip(f"call {last.call_id}", 140), {"font-size": 14, "fill": INK})
    outcome = f"outcome: {last.describe()}; first record {start.isoformat()}"
    label(svg, LEFT, 40, clip(outcome, 140), {"class": "outcome", "font-size": 11, "fill": MUTED})
    _axis(svg, span, x, TOP + ROW * len(shown))

    last_response = _last_step_record(shown, last)
    responses = [i for i, record in enumerate(shown) if record.kind == "response"]
    for row, (record, at) in enumerate(zip(shown, seconds, strict=True)):
        top = TOP + ROW * row
        if record.kind == "response":
            later = [i for i in responses if i > row]
            until = seconds[later[0]] if later else seconds[-1]
            _response(svg, record, x(at), x(until), top, marked=row == last_response)
        else:
            _webhook(svg, record, x(at), top)
    if len(records) > MAX_ROWS:
        more = f"... {len(records) - MAX_ROWS} more records not drawn"
        label(svg, LEFT, TOP + ROW * len(shown) + 34, more, {"font-size": 11, "fill": MUTED})
    return document(svg)


def _last_step_record(records: Sequence[Record], last: LastStep) -> int | None:
    """The row of the response that made the last known step (the last response)."""
    rows = [i for i, r in enumerate(records) if r.kind == "response"]
    return rows[-1] if rows and last.step is not None else None


def _response(
    svg: ET.Element, record: Record, left: float, right: float, top: float, *, marked: bool
) -> None:
    classes = "record response" + (" last-step" if marked else "")
    group = add(svg, "g", {"class": classes, "data-record": record.id})
    step = record.flow_name or record.url or "(unnamed flow)"
    add(
        group,
        "rect",
        {
            "x": left,
            "y": top + 4,
            "width": max(right - left, 3),
            "height": ROW - 8,
            "fill": "#ffe0b2" if marked else STEP,
            "stroke": ACCENT if marked else INK,
            "stroke-width": 2 if marked else 0.6,
        },
    )
    words = f"response: {step}"
    if record.url is not None and record.flow_name is not None:
        words += f" for {record.url}"
    if record.status is not None:
        words += f" (status {record.status})"
    if record.error is not None:
        words += f"; error: {record.error}"
    if marked:
        words = "last known step: " + words
    add(group, "title", text=f"#{record.id} {record.received_at.isoformat()}: {words}")
    color = ACCENT if marked else (ERROR if record.error is not None else INK)
    label(group, LEFT + PLOT + 12, top + 15, clip(words, 58), {"font-size": 11, "fill": color})


def _webhook(svg: ET.Element, record: Record, at: float, top: float) -> None:
    readable = record.error is None
    group = add(
        svg,
        "g",
        {"class": "record webhook" + ("" if readable else " unreadable"), "data-record": record.id},
    )
    what = f"webhook {record.event} (status {record.status})" if readable else "webhook"
    add(group, "title", text=f"#{record.id} {record.received_at.isoformat()}: {what}")
    middle = top + ROW / 2
    add(
        group,
        "path",
        {
            "d": f"M{at:.1f} {middle - 6:.1f} l6 6 l-6 6 l-6 -6 Z",
            "fill": WEBHOOK if readable else ERROR,
        },
    )
    words = what if readable else f"webhook could not be read: {record.error}"
    color = INK if readable else ERROR
    label(group, LEFT + PLOT + 12, top + 15, clip(words, 58), {"font-size": 11, "fill": color})


def _axis(svg: ET.Element, span: float, x: Callable[[float], float], bottom: float) -> None:
    group = add(svg, "g", {"class": "axis"})
    step = tick(span)
    count = int(span // step)
    for number in range(count + 1):
        at = number * step
        add(
            group,
            "line",
            {"x1": x(at), "y1": TOP, "x2": x(at), "y2": bottom + 4, "stroke": "#cfd8dc"},
        )
        text = f"{at:g} s"
        attributes: Attributes = {"font-size": 10, "text-anchor": "middle", "fill": MUTED}
        label(group, x(at), bottom + 16, text, attributes)
