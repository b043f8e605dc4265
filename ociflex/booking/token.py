"""The punch-out session as a signed, time-limited token that travels in the page.

Buyers' systems often frame the catalogue cross-site, where browsers block cookies; so the
session (:class:`~ociflex.booking.session.PunchoutSession`) lives in a hidden form field,
signed with ``SECRET_KEY`` (older keys from ``SECRET_KEY_FALLBACKS`` still verify, so a key
rotation does not break open punch-outs). The token is also the booking form's CSRF
protection: only a page we rendered can carry it.
"""

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from itsdangerous import BadPayload, BadSignature, SignatureExpired, URLSafeTimedSerializer

from ociflex.booking.session import PunchoutSession

#: v2: the protocol-neutral session; a v1 token (OCI's own) is refused as not genuine.
SALT = "ociflex.punchout.v2"
#: How far another server's clock may run ahead before its tokens count as not genuine.
CLOCK_SKEW = timedelta(minutes=5)


class TokenError(Exception):
    """The token is missing, altered or was made with a key we do not hold."""


class TokenExpired(TokenError):
    """The token is genuine but older than the allowed age."""

    def __init__(self, punchout_id: str | None = None) -> None:
        super().__init__()
        #: The punch-out the token was made for (its signature is genuine), for the log.
        self.punchout_id = punchout_id


class SignedData:
    """JSON data signed into a URL-safe token, valid ``max_age`` seconds; ``salt`` keeps the
    tokens of one use from passing for another's."""

    def __init__(self, salt: str, secret_key: str, fallbacks: Sequence[str], max_age: int) -> None:
        # itsdangerous signs with the last key and verifies with all of them.
        self._serializer = URLSafeTimedSerializer([*fallbacks, secret_key], salt=salt)
        self.max_age = max_age

    def dumps(self, data: Any) -> str:
        return self._serializer.dumps(data)

    def loads(self, token: str) -> Any:
        """The data of a genuine token; :class:`TokenExpired` when it is too old (with the id
        it carries, for the log), :class:`TokenError` when it is not genuine."""
        try:
            return self._serializer.loads(token, max_age=self.max_age)
        except SignatureExpired as expired:
            # itsdangerous counts a token from the future as expired; with several servers
            # whose clocks differ a little, a token just signed elsewhere is one.
            if not _from_a_clock_slightly_ahead(expired.date_signed):
                raise TokenExpired(self._id_in(expired.payload)) from None
            return self._serializer.load_payload(expired.payload)
        except BadSignature:
            raise TokenError from None

    def _id_in(self, payload: bytes) -> str | None:
        """The id in the payload of a genuine (expired) token: the payload itself, or its
        ``id``."""
        try:
            data = self._serializer.load_payload(payload)
        except BadPayload:
            return None
        found = data.get("id") if isinstance(data, dict) else data
        return found if isinstance(found, str) else None


class PunchoutTokens:
    """A punch-out session signed into the hidden field of the booking form."""

    def __init__(self, secret_key: str, fallbacks: Sequence[str], max_age: int) -> None:
        self._signed = SignedData(SALT, secret_key, fallbacks, max_age)
        self.max_age = max_age

    def dumps(self, session: PunchoutSession) -> str:
        return self._signed.dumps(session.to_json())

    def loads(self, token: str) -> PunchoutSession:
        data = self._signed.loads(token)
        try:
            return PunchoutSession.from_json(data)
        except (AttributeError, KeyError, TypeError, ValueError):
            raise TokenError from None


def _from_a_clock_slightly_ahead(date_signed: datetime | None) -> bool:
    now = datetime.now(UTC)
    return date_signed is not None and now < date_signed <= now + CLOCK_SKEW
