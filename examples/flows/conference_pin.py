"""Join the weekly all-hands bridge: transfer the caller, then key in the meeting PIN for them.

Callers dial the company's main number and choose "all-hands"; the application answers with
this flow. The conferencing provider's line answers with a greeting and only starts listening
for the PIN about two seconds later, so the digits wait ``pause_before_ms`` first (tones sent
earlier would be lost). After a transfer the far end is the conferencing system, so the
digits reach it, not the caller. If the line is busy or does not answer, MiniVoice fetches
``conference_unavailable`` (see ``busy_fallback.py``).
"""

from minivoice_flow import Flow

CONFERENCE_LINE = "+15551230002"
MEETING_PIN = "482913#"

conference_pin = (
    Flow("conference_pin", direction="inbound")
    .play("https://media.example.com/prompts/joining-all-hands.wav")
    .transfer(
        CONFERENCE_LINE,
        timeout_ms=45_000,
        fallback_url="https://app.example.com/flows/conference_unavailable.json",
    )
    .send_digits(MEETING_PIN, pause_before_ms=2_000)
)
