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

# The modules above the core.
from minivoice_flow.fallback import FlowSet, collect_with_retries  # noqa: E402
from minivoice_flow.journal import CallJournal, LastStep  # noqa: E402
from minivoice_flow.testing import Caller, SimulationResult, TestIVR, simulate  # noqa: E402
from minivoice_flow.webhooks import Webhook, parse_webhook  # noqa: E402

menu: FlowSet = collect_with_retries(
    "menu",
    prompt="https://a.example/menu.wav",
    base_url="https://a.example/ivr",
    on_input=lambda digits: Flow().hangup(),
    accept={"1", "2"},
)
pin_call: SimulationResult = simulate(
    Flow()
    .transfer("+15551230002", fallback_url="https://a.example/busy")
    .send_digits("1234#", pause_before_ms=2000),
    caller=Caller.silent(),
    far_end=TestIVR(expect="1234#", ready_after_ms=1500),
)
final_status: str = pin_call.status
heard: str = pin_call.far_end_digits
hook: Webhook = parse_webhook(b'{"event": "call.completed"}')
call_id: str = hook.call.id
with CallJournal(":memory:") as journal:
    last: LastStep | None = journal.last_step("call_1")
