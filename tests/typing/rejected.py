# Calls that mypy must reject. Each line marked with an expected error code must give
# exactly that error, and no other line may give one. Checked by tests/typing/test_typing.py;
# excluded from the project's own mypy run, since every marked line is an error on purpose.
from minivoice_flow import Flow, parse, validate

Flow().send_digits(1234)  # E: arg-type
Flow().send_digits("1", pause_before_ms="2000")  # E: arg-type
Flow().send_digits("1", 2000)  # E: call-arg
Flow().send_digits("1", pause=2000)  # E: call-arg
Flow().send_digits()  # E: call-arg
Flow().play(url=None)  # E: arg-type
Flow().collect("x", max_digits="4")  # E: arg-type
Flow().transfer(15551230002)  # E: arg-type
Flow().hangup("now")  # E: call-arg
Flow(direction="sideways")  # E: arg-type
Flow(7)  # E: arg-type
Flow().to_json(strict="yes")  # E: arg-type
Flow().wait(5)  # E: attr-defined
parse("{}", direction="up")  # E: arg-type
validate(b"{}", direct="inbound")  # E: call-arg
length: int = Flow().to_json()  # E: assignment

from minivoice_flow.journal import CallJournal  # noqa: E402
from minivoice_flow.testing import TestIVR, simulate  # noqa: E402

TestIVR(expect=1234)  # E: arg-type
TestIVR(ready_after_ms="1500")  # E: arg-type
simulate(Flow(), caller="silent")  # E: arg-type
CallJournal(":memory:").last_step(42)  # E: arg-type
