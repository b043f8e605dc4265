"""The token in a StartPage URL: the id of a stored punch-out session, signed, to be opened
within minutes.

The URL is handed to the buyer's system, which gives it to the employee's browser (a new window,
a popup or a frame): it must refer to the session rather than carry its data (names and e-mail
addresses would end up in logs and histories), be unique per session, and expire soon. Opening
it needs no cookie.
"""

from collections.abc import Sequence

from ociflex.booking.token import SignedData, TokenError

SALT = "ociflex.cxml.start-page.v1"


class StartPageTokens:
    def __init__(self, secret_key: str, fallbacks: Sequence[str], max_age: int) -> None:
        self._signed = SignedData(SALT, secret_key, fallbacks, max_age)

    def dumps(self, session_id: str) -> str:
        return self._signed.dumps(session_id)

    def loads(self, token: str) -> str:
        """The session id of a genuine token; TokenExpired or TokenError otherwise."""
        session_id = self._signed.loads(token)
        if not isinstance(session_id, str):
            raise TokenError
        return session_id
