"""The support page behind ``minivoice_flow.support``.

``web.py`` is the HTTP side (requests read strictly, responses with their security headers,
the token gate); ``app.py`` routes each request to its page, reads the journal and renders
the page from ``templates/`` (jinja2, autoescaped) or its JSON twin; ``static/`` holds the
style sheet, served as a file so the Content-Security-Policy needs no inline style.

The constants here are read by the command line without loading the page itself.
"""

from __future__ import annotations

from typing import Final

#: The environment variable the support page's token is read from.
TOKEN_VARIABLE: Final = "MINIVOICE_SUPPORT_TOKEN"
#: A token must be at least this long (``secrets.token_urlsafe()`` gives 43 characters).
MIN_TOKEN_LENGTH: Final = 16
