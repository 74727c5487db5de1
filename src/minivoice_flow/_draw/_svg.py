"""Writing SVG: elements with escaped text, text widths in a monospaced font, numbers.

Text is measured, not rendered: the pictures use a monospaced font, whose characters are
all about 0.6 em wide (wide East Asian characters twice that, combining marks nothing), so a
box sized from the text holds it in any monospaced font the viewer has.
"""

from __future__ import annotations

import unicodedata
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from typing import Final

from minivoice_flow._text import printable

SVG_NS: Final = "http://www.w3.org/2000/svg"
FONT: Final = "DejaVu Sans Mono, Menlo, Consolas, Liberation Mono, monospace"
#: Width of one character cell, in em; a little over the 0.6 of common monospaced fonts.
CELL_EM: Final = 0.62

#: Elements whose content is text: no line breaks are added inside them.
_TEXT: Final = frozenset({"text", "title", "desc", "tspan"})

Attributes = Mapping[str, str | int | float | None]


def number(value: float) -> str:
    """A coordinate as text: one decimal at most, and the same text on every machine."""
    text = f"{round(value, 1):.1f}".removesuffix(".0")
    return "0" if text == "-0" else text


def cells(text: str) -> int:
    """How many character cells ``text`` takes in a monospaced font."""
    total = 0
    for char in text:
        if unicodedata.combining(char):
            continue
        total += 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
    return total


def text_width(text: str, size: float) -> float:
    """The width of ``text`` at font size ``size``, in pixels."""
    return cells(text) * size * CELL_EM


def clip(text: str, width: int) -> str:
    """``text`` made printable and cut to ``width`` cells, ending with ``…`` when cut."""
    text = printable(text)
    if cells(text) <= width:
        return text
    kept = ""
    for char in text:
        if cells(kept + char) > width - 1:
            break
        kept += char
    return kept + "…"


def root(width: float, height: float, kind: str, title: str, description: str) -> ET.Element:
    """The ``<svg>`` element of a drawing, with its accessible title and description."""
    svg = ET.Element(
        "svg",
        _attributes(
            {
                "xmlns": SVG_NS,
                "class": kind,
                "width": number(width),
                "height": number(height),
                "viewBox": f"0 0 {number(width)} {number(height)}",
                "role": "img",
                "font-family": FONT,
                "font-size": 12,
            }
        ),
    )
    add(svg, "title", text=title)
    add(svg, "desc", text=description)
    add(svg, "rect", {"width": "100%", "height": "100%", "fill": "#ffffff"})
    return svg


def add(
    parent: ET.Element, tag: str, attributes: Attributes | None = None, *, text: str | None = None
) -> ET.Element:
    """A child element; ``None`` attributes are left out, text is made printable."""
    element = ET.SubElement(parent, tag, _attributes(attributes or {}))
    if text is not None:
        element.text = printable(text)
    return element


def label(
    parent: ET.Element,
    x: float,
    y: float,
    text: str,
    attributes: Attributes | None = None,
    *,
    tooltip: str | None = None,
) -> ET.Element:
    """A ``<text>`` at (x, y); ``tooltip`` adds a ``<title>`` (the full text of a clipped one)."""
    element = add(parent, "text", {"x": x, "y": y, **(attributes or {})}, text=text)
    if tooltip is not None and printable(tooltip) != element.text:
        add(element, "title", text=tooltip)
    return element


def document(svg: ET.Element) -> str:
    """The SVG as a standalone document, one element per line outside text."""
    for element in svg.iter():
        if element.tag not in _TEXT and len(element):
            element.text = "\n"
            for child in element:
                child.tail = "\n"
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(svg, encoding="unicode") + "\n"


def _attributes(attributes: Attributes) -> dict[str, str]:
    found = {}
    for key, value in attributes.items():
        if value is None:
            continue
        if isinstance(value, float | int) and not isinstance(value, bool):
            found[key] = number(value)
        else:
            found[key] = printable(str(value))
    return found
