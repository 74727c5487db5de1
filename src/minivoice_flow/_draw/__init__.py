"""Pictures as SVG: the IVR graph, a simulated call's timeline and a recorded call.

Each drawing is a self-contained SVG document: presentation attributes instead of a style
sheet (so an HTML page that inlines it is not restyled by it, and can restyle it), generic
font families, no scripts, no links, no element ids. Every piece of text that came from
outside (flow names, URLs, digits, journal rows) is made printable and then escaped by the
XML serialiser, and the documents are written deterministically: the same input gives the
same bytes. Imported only when a picture is asked for.
"""
