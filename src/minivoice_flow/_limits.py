"""Every limit the library enforces, as a named constant.

Most numbers here are modelled on peer platforms until MiniVoice documents them (see
``docs/rules.md``); keeping them in one module makes a correction a one-line change.
"""

from typing import Final

# The answer_url payload.
MAX_ACTIONS: Final = 100
MAX_PAYLOAD_BYTES: Final = 64 * 1024

# send_digits (the characters come from the vendor page; the length cap is modelled).
DTMF_CHARACTERS: Final = "0123456789*#ABCDwW,"
DTMF_PAUSE_CHARACTERS: Final = "wW,"
MAX_DIGITS_LENGTH: Final = 50
MAX_PAUSE_BEFORE_MS: Final = 60_000

# play
MAX_URL_LENGTH: Final = 2048
MIN_PLAY_LOOP: Final = 1
MAX_PLAY_LOOP: Final = 10

# collect
MAX_VARIABLE_LENGTH: Final = 32
MIN_COLLECT_DIGITS: Final = 1
MAX_COLLECT_DIGITS: Final = 32
MIN_COLLECT_TIMEOUT_MS: Final = 1_000
MAX_COLLECT_TIMEOUT_MS: Final = 60_000
FINISH_KEYS: Final = "0123456789*#"
DEFAULT_FINISH_ON_KEY: Final = "#"

# redirect
REDIRECT_METHODS: Final = ("POST", "GET")
DEFAULT_REDIRECT_METHOD: Final = "POST"

# transfer
MAX_E164_DIGITS: Final = 15
MIN_TRANSFER_TIMEOUT_MS: Final = 5_000
MAX_TRANSFER_TIMEOUT_MS: Final = 120_000
DEFAULT_TRANSFER_TIMEOUT_MS: Final = 30_000
