"""cXML status codes (PROTOCOL.md section 1): what ociflex answers, and why.

A 4xx tells the buyer's system not to send the same document again; a 5xx makes it retry the
same payloadID later. Every answer is a cXML document whose ``<Status>`` carries the code, and
the HTTP status is the same code (450 and 560 too: a buyer that reads only the HTTP status must
still tell "do not send again", a 4xx, from "try again later", a 5xx).
"""

from collections.abc import Callable
from typing import Any

from ociflex.booking.fields import on_one_line

#: cXML code -> the ``text`` attribute of ``<Status>`` (the code's name, in English).
STATUS_TEXTS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    406: "Not Acceptable",
    409: "Conflict",
    412: "Precondition Failed",
    413: "Request Entity Too Large",
    450: "Not Implemented",
    500: "Internal Server Error",
    560: "Temporary server error",
}


class CxmlRefusal(Exception):
    """A cXML document ociflex does not take, answered with Status ``code``.

    ``message`` (and ``fix``, when what to do is a text of its own) are catalogue texts with
    ``%(name)s`` parameters: the Status text that tells the buyer's administrator what is wrong
    and what to do, in the customer's language where the customer is known. ``reason`` is the
    English text for the log and the transfer log; it may say more than the buyer is told
    (which of the credentials failed), never a secret.
    """

    def __init__(
        self,
        code: int,
        message: str,
        reason: str | None = None,
        fix: str | None = None,
        **params: Any,
    ) -> None:
        self.code = code
        self.message = message
        self.fix = fix
        self.params = {name: on_one_line(value) for name, value in params.items()}
        self.reason = on_one_line(reason or self.text(lambda text: text))
        super().__init__(self.reason)

    def text(self, gettext: Callable[[str], str]) -> str:
        """The Status text, its catalogue texts translated by ``gettext``."""
        text = gettext(self.message) % self.params
        if self.fix:
            # A message of a shared table (a return URL's) may end without a full stop.
            text = text if text.endswith((".", "?", "!")) else f"{text}."
            text = f"{text} {gettext(self.fix) % self.params}"
        return text
