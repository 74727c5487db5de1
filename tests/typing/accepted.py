"""Calls that mypy must accept (part of the project's own mypy run)."""

from __future__ import annotations

from minivoice_flow import Diagnostic, Flow, Report, parse, validate

flow: Flow = (
    Flow("pin", direction="inbound")
    .transfer("+15551230002", fallback_url="https://a.example/busy", timeout_ms=20000)
    .send_digits("1234#", pause_before_ms=2000)
    .play("https://a.example/p.wav", loop=2)
    .collect("x", max_digits=4, timeout_ms=5000, finish_on_key="#")
    .redirect("https://a.example/next", method="GET")
)
text: str = flow.to_json(indent=2, strict=True)
report: Report = flow.check()
first: Diagnostic = report.diagnostics[0]
code: str = first.code
parsed: Flow = parse(text.encode(), name="pin", direction="inbound")
checked: bool = validate(text).ok
