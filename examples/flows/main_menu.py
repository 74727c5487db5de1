"""The main menu of the support line: greet, offer the choices, hand the key to the app.

Both the menu and the after-hours message start with the same greeting, kept once as an
unnamed flow: a building block that ``.then()`` copies in, and that the build does not
export. The application serves ``main_menu.json`` as the answer_url response during opening
hours and ``after_hours.json`` outside them; the key the caller pressed arrives at the
redirect URL in the call's ``variables`` under ``choice``.
"""

from minivoice_flow import Flow

GREETING = Flow().play("https://media.example.com/prompts/welcome-to-example-support.wav")

main_menu = (
    Flow("main_menu", direction="inbound")
    .then(GREETING)
    .play("https://media.example.com/prompts/menu-billing-1-outages-2-agent-0.wav")
    .collect("choice", max_digits=1, timeout_ms=8_000)
    .redirect("https://app.example.com/ivr/menu-choice")
)

after_hours = (
    Flow("after_hours", direction="inbound")
    .then(GREETING)
    .play("https://media.example.com/prompts/closed-open-8-to-18.wav")
    .hangup()
)
