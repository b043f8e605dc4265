"""The signed, time-limited token that carries a punch-out's state in the page."""

from dataclasses import replace

import pytest
from itsdangerous import URLSafeTimedSerializer

from ociflex.booking.session import CartReturn, Operation, PunchoutSession
from ociflex.booking.token import SALT, PunchoutTokens, TokenError, TokenExpired
from tests.conftest import ACME_HOOK_URL, SigningClock

KEY = "current-key-0123456789-0123456789-0123456789"
OLD_KEY = "old-key-0123456789-0123456789-0123456789"
MAX_AGE = 3600


@pytest.fixture
def punchout() -> PunchoutSession:
    return PunchoutSession(
        customer_id="acme",
        protocol="oci",
        fields={"email": "jane.smith@acme.example", "full_name": "Jane Smith", "project": ""},
        cart_return=CartReturn(
            url=ACME_HOOK_URL,
            target="_top",
            charset="iso-8859-1",
            echo={"~OkCode": "ADDI", "~CALLER": "CTLG"},
        ),
        inbound={"parameters": [["loginname", "acme-sap"], ["HOOK_URL", ACME_HOOK_URL]]},
    )


@pytest.fixture
def tokens() -> PunchoutTokens:
    return PunchoutTokens(KEY, [], MAX_AGE)


def test_a_token_gives_back_the_punchout(tokens: PunchoutTokens, punchout: PunchoutSession) -> None:
    assert tokens.loads(tokens.dumps(punchout)) == punchout


def test_a_token_gives_back_an_edit_session_and_the_request_it_opens(
    tokens: PunchoutTokens, punchout: PunchoutSession
) -> None:
    edit = replace(punchout, protocol="cxml", operation=Operation.EDIT, request_id=123)
    assert tokens.loads(tokens.dumps(edit)) == edit


def test_a_token_fits_in_a_hidden_field_unescaped(
    tokens: PunchoutTokens, punchout: PunchoutSession
) -> None:
    token = tokens.dumps(punchout)
    assert token.isascii()
    assert not set(token) & set("\"'<>& +/=")


def _altered(token: str) -> list[str]:
    """The token with one character changed: in its data, and first in its signature.

    (Not the last character: its low bits are base64 padding, which decoding ignores.)
    """
    changed = []
    for position in (len(token) // 3, token.rindex(".") + 1):
        replacement = "A" if token[position] != "A" else "B"
        changed.append(token[:position] + replacement + token[position + 1 :])
    return changed


def test_an_altered_token_is_refused(tokens: PunchoutTokens, punchout: PunchoutSession) -> None:
    for token in _altered(tokens.dumps(punchout)):
        with pytest.raises(TokenError):
            tokens.loads(token)


@pytest.mark.parametrize("token", ["", "punchout", "a.b.c", ".", "é" * 10])
def test_a_token_that_is_no_token_is_refused(tokens: PunchoutTokens, token: str) -> None:
    with pytest.raises(TokenError):
        tokens.loads(token)


def test_a_token_of_another_key_is_refused(
    tokens: PunchoutTokens, punchout: PunchoutSession
) -> None:
    foreign = PunchoutTokens("someone-elses-key-0123456789-0123456789", [], MAX_AGE)
    with pytest.raises(TokenError):
        tokens.loads(foreign.dumps(punchout))


def test_a_value_signed_for_another_purpose_is_refused(
    tokens: PunchoutTokens, punchout: PunchoutSession
) -> None:
    """Same key, other salt: e.g. a Flask session cookie is no punch-out token."""
    other = URLSafeTimedSerializer(KEY, salt="cookie-session").dumps(punchout.to_json())
    with pytest.raises(TokenError):
        tokens.loads(other)


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param({"c": "acme"}, id="keys-missing"),
        pytest.param(["acme"], id="list"),
        pytest.param("acme", id="string"),
        pytest.param(None, id="null"),
    ],
)
def test_a_genuine_token_without_a_punchout_is_refused(
    tokens: PunchoutTokens, payload: object
) -> None:
    token = URLSafeTimedSerializer(KEY, salt=SALT).dumps(payload)
    with pytest.raises(TokenError):
        tokens.loads(token)


def test_a_token_up_to_its_maximum_age_is_accepted(
    tokens: PunchoutTokens, punchout: PunchoutSession, signing_clock: SigningClock
) -> None:
    token = tokens.dumps(punchout)
    signing_clock.advance(MAX_AGE)
    assert tokens.loads(token) == punchout


def test_a_token_older_than_its_maximum_age_has_expired(
    tokens: PunchoutTokens, punchout: PunchoutSession, signing_clock: SigningClock
) -> None:
    token = tokens.dumps(punchout)
    signing_clock.advance(MAX_AGE + 1)
    with pytest.raises(TokenExpired):
        tokens.loads(token)


def test_an_expired_token_is_also_a_token_error() -> None:
    """Callers that only care whether the token is usable can catch TokenError alone."""
    assert issubclass(TokenExpired, TokenError)


def test_an_altered_old_token_is_refused_as_altered_not_as_expired(
    tokens: PunchoutTokens, punchout: PunchoutSession, signing_clock: SigningClock
) -> None:
    token = _altered(tokens.dumps(punchout))[0]
    signing_clock.advance(MAX_AGE + 1)
    with pytest.raises(TokenError) as refused:
        tokens.loads(token)
    assert not isinstance(refused.value, TokenExpired)


def test_a_token_signed_by_a_server_whose_clock_is_a_little_ahead_is_accepted(
    tokens: PunchoutTokens, punchout: PunchoutSession, signing_clock: SigningClock
) -> None:
    signing_clock.advance(2)
    token = tokens.dumps(punchout)
    signing_clock.advance(-2)
    assert tokens.loads(token) == punchout


def test_a_token_dated_far_in_the_future_is_refused(
    tokens: PunchoutTokens, punchout: PunchoutSession, signing_clock: SigningClock
) -> None:
    signing_clock.advance(3600)
    token = tokens.dumps(punchout)
    signing_clock.advance(-3600)
    with pytest.raises(TokenExpired):
        tokens.loads(token)


# --- key rotation -------------------------------------------------------------------------------


def test_a_token_of_the_old_key_loads_while_that_key_is_a_fallback(
    punchout: PunchoutSession,
) -> None:
    before_rotation = PunchoutTokens(OLD_KEY, [], MAX_AGE)
    after_rotation = PunchoutTokens(KEY, [OLD_KEY], MAX_AGE)
    assert after_rotation.loads(before_rotation.dumps(punchout)) == punchout


def test_new_tokens_are_signed_with_the_new_key(punchout: PunchoutSession) -> None:
    token = PunchoutTokens(KEY, [OLD_KEY], MAX_AGE).dumps(punchout)
    assert PunchoutTokens(KEY, [], MAX_AGE).loads(token) == punchout
    with pytest.raises(TokenError):
        PunchoutTokens(OLD_KEY, [], MAX_AGE).loads(token)


def test_any_of_several_fallbacks_verifies(punchout: PunchoutSession) -> None:
    oldest = PunchoutTokens("oldest-key-0123456789-0123456789", [], MAX_AGE)
    rotated = PunchoutTokens(KEY, ["oldest-key-0123456789-0123456789", OLD_KEY], MAX_AGE)
    assert rotated.loads(oldest.dumps(punchout)) == punchout


def test_a_token_of_a_key_dropped_from_the_fallbacks_is_refused(punchout: PunchoutSession) -> None:
    before_rotation = PunchoutTokens(OLD_KEY, [], MAX_AGE)
    with pytest.raises(TokenError):
        PunchoutTokens(KEY, [], MAX_AGE).loads(before_rotation.dumps(punchout))


def test_an_old_key_token_still_expires(
    punchout: PunchoutSession, signing_clock: SigningClock
) -> None:
    token = PunchoutTokens(OLD_KEY, [], MAX_AGE).dumps(punchout)
    signing_clock.advance(MAX_AGE + 1)
    with pytest.raises(TokenExpired):
        PunchoutTokens(KEY, [OLD_KEY], MAX_AGE).loads(token)
