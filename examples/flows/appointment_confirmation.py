"""Confirm tomorrow's appointments with the clinic's scheduling system, by phone.

The scheduling system has no API, only a phone line with a keypad menu. Every evening the
application places an outbound call to that line and answers it with this flow: wait for the
greeting, press 3 for "confirm appointments", key in the practice's account code, and hand
over to the application, which answers with the digits of each appointment to confirm.
On an outbound call the far end is the number called, so the digits go to the scheduling
system from the first action on.
"""

from minivoice_flow import Flow

ACCOUNT_CODE = "70412#"

appointment_confirmation = (
    Flow("appointment_confirmation", direction="outbound")
    # The greeting lasts about four seconds before the menu listens for keys.
    .send_digits("3", pause_before_ms=4_000)
    # "w" waits half a second for the "enter your account code" prompt.
    .send_digits("ww" + ACCOUNT_CODE)
    .redirect("https://app.example.com/calls/confirm-appointments")
)
