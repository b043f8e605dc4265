"""The requester's e-mail address in links: a ``mailto:`` link built from data has one recipient,
the address percent-encoded per RFC 6068, so that no character of a local part starts a header;
and the call-up refuses the URL delimiters (``?``, ``&``, ``%``) no real address holds."""

from urllib.parse import unquote, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import given
from hypothesis import strategies as st

from ociflex.booking.fields import URL_DELIMITERS_IN_LOCAL_PART, FieldProblem, field_problem
from ociflex.customers.model import Field
from ociflex.web import mailto
from tests.support.punchout import call_up, count_stored


@pytest.mark.parametrize(
    ("address", "url"),
    [
        ("jan.jansen@example.nl", "mailto:jan.jansen@example.nl"),
        ("a?bcc=attacker@example.com", "mailto:a%3Fbcc%3Dattacker@example.com"),
        ("a&cc=x@example.com", "mailto:a%26cc%3Dx@example.com"),
        ("100%@example.com", "mailto:100%25@example.com"),
        ("a#subject=x@example.com", "mailto:a%23subject%3Dx@example.com"),
        ("o'brien+rental@example.ie", "mailto:o%27brien%2Brental@example.ie"),
        ('"a b"@example.com', "mailto:%22a%20b%22@example.com"),
        ("jörg@exämple.de", "mailto:j%C3%B6rg@ex%C3%A4mple.de"),
    ],
)
def test_a_mail_link_percent_encodes_every_character_that_could_add_a_header(
    address: str, url: str
) -> None:
    assert mailto(address) == url


@given(st.text(min_size=1, max_size=80))
def test_a_mail_link_of_any_text_has_no_header_and_no_fragment_and_decodes_to_the_text(
    address: str,
) -> None:
    url = mailto(address)
    parts = urlsplit(url)
    assert (parts.scheme, parts.query, parts.fragment) == ("mailto", "", "")
    assert unquote(parts.path, errors="strict") == address
    assert not set(url) & set("?&#<>\"' \r\n")


# --- The requester's address at the call-up -----------------------------------------------------


@pytest.mark.parametrize(
    "address",
    [
        "jane?bcc=attacker@acme.example",
        "jane&cc=attacker@acme.example",
        "jane%3Fbcc=attacker@acme.example",
        "jane%attacker@acme.example",
    ],
)
def test_a_call_up_whose_requester_address_holds_a_url_delimiter_is_refused(
    client: FlaskClient, app: Flask, acme_callup: dict[str, str], address: str
) -> None:
    response = client.post("/oci/acme", data={**acme_callup, "user_email": address})
    assert response.status_code == 400
    assert "The e-mail address in user_email is not valid." in response.get_data(as_text=True)
    assert count_stored(app) == 0


@pytest.mark.parametrize(
    "address",
    ["o'brien+rental@acme.example", "jane#fleet@acme.example", "j!ane~s^mith@acme.example"],
)
def test_a_call_up_accepts_the_special_characters_real_addresses_hold(
    client: FlaskClient, acme_callup: dict[str, str], address: str
) -> None:
    assert call_up(client, "acme", {**acme_callup, "user_email": address}).token


@pytest.mark.parametrize("character", sorted(URL_DELIMITERS_IN_LOCAL_PART))
def test_every_protocol_refuses_a_url_delimiter_in_the_requesters_local_part(
    character: str,
) -> None:
    # The check every protocol's reader shares (OCI's call-up, cXML's setup).
    email = Field("email", required=True)
    assert field_problem(email, f"jane{character}x@acme.example") is FieldProblem.NOT_AN_EMAIL
    assert field_problem(email, "jane.smith@acme.example") is None
