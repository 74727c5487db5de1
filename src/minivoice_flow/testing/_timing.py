"""Every number the simulator assumes, in one place, and the settings object built from them.

The platform limits (collect and transfer timeouts, the finishing key) come from the action
catalogue; the numbers here are the simulator's own model of time (model section 6), so a
correction is a one-line change.
"""

from __future__ import annotations

from typing import Final

from attrs import field, frozen

from minivoice_flow import _limits as L
from minivoice_flow._actions import CATALOGUE_BY_KIND
from minivoice_flow.testing._checks import milliseconds

#: A DTMF tone (0-9 * # A-D) sounds this long ...
TONE_MS: Final = 100
#: ... and is followed by this much silence before the next character.
TONE_GAP_MS: Final = 100
#: ``w`` and ``,`` wait this long.
SHORT_PAUSE_MS: Final = 500
#: ``W`` waits this long.
LONG_PAUSE_MS: Final = 1000
#: A key pressed by the caller: press and release, after which it counts.
KEY_PRESS_MS: Final = 200
#: How long a ``play`` of one URL lasts when no duration was given for it (one loop).
PLAY_MS: Final = 3000
#: How long a transfer destination rings before it answers (or reports busy or failure).
RING_MS: Final = 2000

#: The longest span any one setting may give, in ms (a day): a play's length, a ring, a
#: moment in the caller's script. Together with MAX_SIGNAL_MS and the request limit, it keeps
#: every simulated moment a time that a webhook's created_at can show.
MAX_MS: Final = 24 * 60 * 60 * 1000
#: The longest tone, gap, pause character or key press, in ms (a minute).
MAX_SIGNAL_MS: Final = 60 * 1000

#: The characters a caller's phone or a far end can send (the DTMF tones, no pauses).
TONES: Final = "".join(c for c in L.DTMF_CHARACTERS if c not in L.DTMF_PAUSE_CHARACTERS)

#: Platform defaults, read from the catalogue so the simulator and the docs agree.
COLLECT_TIMEOUT_MS: Final[int] = int(
    CATALOGUE_BY_KIND["collect"].field("timeout_ms").spec.default or 0
)
TRANSFER_TIMEOUT_MS: Final = L.DEFAULT_TRANSFER_TIMEOUT_MS
FINISH_ON_KEY: Final = L.DEFAULT_FINISH_ON_KEY


@frozen
class Timing:
    """How long things take in a simulated call, in whole milliseconds.

    The defaults are the model's; change one to see how a flow copes with, say, slower tones.
    A tone, gap, pause or key press lasts at most a minute, a play at most a day.
    """

    tone_ms: int = field(default=TONE_MS, validator=milliseconds(MAX_SIGNAL_MS))
    tone_gap_ms: int = field(default=TONE_GAP_MS, validator=milliseconds(MAX_SIGNAL_MS))
    short_pause_ms: int = field(default=SHORT_PAUSE_MS, validator=milliseconds(MAX_SIGNAL_MS))
    long_pause_ms: int = field(default=LONG_PAUSE_MS, validator=milliseconds(MAX_SIGNAL_MS))
    key_press_ms: int = field(default=KEY_PRESS_MS, validator=milliseconds(MAX_SIGNAL_MS))
    play_ms: int = field(default=PLAY_MS, validator=milliseconds(MAX_MS))

    def pause_ms(self, char: str) -> int | None:
        """The silence a pause character stands for, or None when ``char`` is a tone."""
        if char == "W":
            return self.long_pause_ms
        if char in L.DTMF_PAUSE_CHARACTERS:
            return self.short_pause_ms
        return None

    def tone_schedule(self, digits: str, start_ms: int) -> tuple[list[tuple[str, int]], int]:
        """Each tone of ``digits`` with the moment it starts, and when the sequence ends."""
        tones = []
        now = start_ms
        for char in digits:
            pause = self.pause_ms(char)
            if pause is None:
                tones.append((char, now))
                now += self.tone_ms + self.tone_gap_ms
            else:
                now += pause
        return tones, now
