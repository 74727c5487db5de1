"""What a caller hears when a transfer fails: the destination is busy or does not answer.

MiniVoice fetches a transfer's ``fallback_url`` when the destination is busy, does not answer
in time, or fails. These flows are served there: ``conference_unavailable`` for the transfer
in ``conference_pin.py``, ``agent_busy`` for the application's transfers to the agent queue.
Instead of a dead line, the caller hears what happened and may ask for a call back, which the
application handles at the redirect. The offer is written once, as an unnamed building block.
"""

from minivoice_flow import Flow

OFFER_CALLBACK = (
    Flow()
    .play("https://media.example.com/prompts/press-1-for-a-call-back.wav")
    .collect("callback", max_digits=1, timeout_ms=6_000)
    .redirect("https://app.example.com/ivr/callback-request")
)

conference_unavailable = (
    Flow("conference_unavailable", direction="inbound")
    .play("https://media.example.com/prompts/conference-line-unavailable.wav")
    .then(OFFER_CALLBACK)
)

agent_busy = (
    Flow("agent_busy", direction="inbound")
    .play("https://media.example.com/prompts/all-agents-busy.wav", loop=2)
    .then(OFFER_CALLBACK)
)
