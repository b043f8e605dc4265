"""Who sent a cXML request, and whether to believe it (ociflex/cxml/header.py): the buyer's From
credential in any case and padding, the SharedSecret in the Sender or the From; every failure
the same 401 for the buyer, with a reason for Euromobil's log that never holds a secret."""

import pytest
from lxml import etree
from werkzeug.security import check_password_hash

from ociflex.customers import Customer, model
from ociflex.cxml.config import cxml_settings
from ociflex.cxml.documents import parse
from ociflex.cxml.header import NOT_RECOGNISED, Header, SentCredential, authenticate, read_header
from ociflex.cxml.status import CxmlRefusal
from tests.support.cxml import (
    DEMO,
    DEMO_FROM,
    DEMO_SECRET,
    GLOBEX,
    GLOBEX_FROM,
    GLOBEX_SECRET,
    Setup,
    setup_request,
)


def header_of(setup: Setup) -> Header:
    return read_header(parse(setup_request(setup)))


def accepted(setup: Setup, customer: Customer = GLOBEX) -> bool:
    """Whether ``setup``'s credentials are accepted for ``customer``."""
    try:
        authenticate(header_of(setup), cxml_settings(customer))
    except CxmlRefusal:
        return False
    return True


def refusal_of(setup: Setup, customer: Customer = GLOBEX) -> CxmlRefusal:
    with pytest.raises(CxmlRefusal) as raised:
        authenticate(header_of(setup), cxml_settings(customer))
    return raised.value


def status_text(refusal: CxmlRefusal) -> str:
    return refusal.text(lambda text: text)


def without(body: bytes, element: str) -> bytes:
    """``body`` with every ``element`` removed."""
    root = etree.fromstring(body)
    for found in root.iter(element):
        found.getparent().remove(found)
    return etree.tostring(root)


# --- reading the Header -------------------------------------------------------------------------


def test_the_parties_and_the_user_agent_are_read_as_sent() -> None:
    header = header_of(Setup())

    assert header.from_ == (SentCredential("NetworkID", "AN01000099999"),)
    assert header.to == (SentCredential("DUNS", "987654321"),)
    assert header.sender == (SentCredential("NetworkID", "AN01000099999", GLOBEX_SECRET),)
    assert header.user_agent == "Globex Procurement 9.1"


def test_several_from_credentials_are_all_read_in_order() -> None:
    header = header_of(Setup(from_credentials=(("DUNS", "123456789"), GLOBEX_FROM)))

    assert [(c.domain, c.identity) for c in header.from_] == [("DUNS", "123456789"), GLOBEX_FROM]


def test_a_credential_without_a_secret_says_so() -> None:
    header = header_of(Setup())

    assert header.from_[0].shared_secret is None


def test_a_document_without_a_header_is_a_400_that_says_what_to_send() -> None:
    root = parse(without(setup_request(), "Header"))

    with pytest.raises(CxmlRefusal) as raised:
        read_header(root)

    assert raised.value.code == 400
    assert status_text(raised.value) == (
        "The document has no Header: send From, To and Sender credentials."
    )


@pytest.mark.parametrize(
    "body", [without(setup_request(), "From"), setup_request(Setup(from_credentials=()))]
)
def test_a_header_without_a_from_credential_is_a_400(body: bytes) -> None:
    with pytest.raises(CxmlRefusal) as raised:
        read_header(parse(body))

    assert raised.value.code == 400
    assert status_text(raised.value) == (
        "The Header has no From credential: send the credential that identifies you."
    )


def test_an_empty_to_is_read_as_no_supplier_credential() -> None:
    assert header_of(Setup(to_credentials=())).to == ()


# --- authenticate: accepted ---------------------------------------------------------------------


def test_the_correct_from_and_sender_secret_are_accepted() -> None:
    assert accepted(Setup())


@pytest.mark.parametrize(
    "credential",
    [
        ("networkid", "an01000099999"),
        ("NETWORKID", "AN01000099999"),
        ("  NetworkID ", "\n  AN01000099999\t"),
        ("DUNS", "123456789"),
        (" duns", " 123456789 "),
    ],
)
def test_a_from_credential_of_the_customer_is_matched_ignoring_case_and_blanks(
    credential: tuple[str, str],
) -> None:
    assert accepted(Setup(from_credentials=(credential,)))


def test_any_one_of_several_from_credentials_may_be_the_customers() -> None:
    assert accepted(Setup(from_credentials=(("NetworkID", "AN09999999999"), ("DUNS", "123456789"))))


def test_the_shared_secret_in_the_from_credential_is_accepted_instead_of_the_senders() -> None:
    assert accepted(Setup(shared_secret=None, from_secret=GLOBEX_SECRET))


def test_a_hub_sender_with_the_customers_secret_is_accepted() -> None:
    # The Ariba Network forwards with its own Sender identity and the supplier's secret.
    assert accepted(Setup(sender=("NetworkID", "AN01000000001"), shared_secret=GLOBEX_SECRET))


def test_a_secret_kept_as_a_hash_and_one_from_the_environment_both_work() -> None:
    demo = Setup(from_credentials=(DEMO_FROM,), sender=DEMO_FROM, shared_secret=DEMO_SECRET)

    assert accepted(Setup(), GLOBEX)  # shared_secret_hash
    assert accepted(demo, DEMO)  # shared_secret_env
    assert refusal_of(demo, GLOBEX).code == 401
    assert refusal_of(Setup(), DEMO).code == 401


# --- authenticate: refused ----------------------------------------------------------------------

REFUSED = {
    "wrong secret": (Setup(shared_secret="globex-secreT"), "the SharedSecret is not correct"),
    "no secret": (Setup(shared_secret=None), "no SharedSecret in Sender or From"),
    "empty secret": (Setup(shared_secret=""), "no SharedSecret in Sender or From"),
    "unknown From": (
        Setup(from_credentials=(("NetworkID", "AN01000012345"),)),
        "unknown From credential NetworkID:AN01000012345",
    ),
    "identity in another domain": (
        Setup(from_credentials=(("DUNS", "AN01000099999"),)),
        "unknown From credential DUNS:AN01000099999",
    ),
}


@pytest.mark.parametrize(("setup", "reason"), REFUSED.values(), ids=REFUSED.keys())
def test_each_failure_is_a_401_with_the_same_text_but_its_own_reason(
    setup: Setup, reason: str
) -> None:
    refusal = refusal_of(setup)

    assert refusal.code == 401
    assert status_text(refusal) == (
        "The credentials are not recognised. Check the From credential (domain and identity) "
        "and the SharedSecret agreed with Euromobil for this address."
    )
    assert refusal.message == NOT_RECOGNISED
    assert refusal.reason == reason


@pytest.mark.parametrize(
    "setup",
    [
        Setup(shared_secret="wrong-secret-4711"),
        Setup(shared_secret=None, from_secret="wrong-secret-4711"),
        Setup(from_credentials=(("NetworkID", "AN0"),), from_secret="wrong-secret-4711"),
        Setup(from_credentials=(("NetworkID", "AN0"),), shared_secret="wrong-secret-4711"),
    ],
)
def test_a_refusal_never_holds_the_secret_that_was_sent(setup: Setup) -> None:
    refusal = refusal_of(setup)

    for told in (refusal.reason, status_text(refusal), str(refusal), repr(refusal.params)):
        assert "wrong-secret-4711" not in told
        assert GLOBEX_SECRET not in told


def test_an_unknown_from_is_refused_even_with_the_correct_secret() -> None:
    refusal = refusal_of(Setup(from_credentials=(("NetworkID", "AN01000012345"),)))

    assert refusal.reason.startswith("unknown From credential")
    assert GLOBEX_SECRET not in refusal.reason


def test_one_correct_secret_is_enough_and_a_wrong_one_alone_is_refused() -> None:
    # Every secret sent is compared: a stale one in the From does not undo a correct Sender.
    assert accepted(Setup(from_secret="something-else"))
    refusal = refusal_of(Setup(shared_secret="something-else", from_secret=None))

    assert refusal.reason == "the SharedSecret is not correct"


def test_a_secret_in_the_to_credential_does_not_count() -> None:
    body = setup_request(Setup(shared_secret=None)).replace(
        b"<Identity>987654321</Identity>",
        f"<Identity>987654321</Identity><SharedSecret>{GLOBEX_SECRET}</SharedSecret>".encode(),
    )

    with pytest.raises(CxmlRefusal) as raised:
        authenticate(read_header(parse(body)), cxml_settings(GLOBEX))

    assert raised.value.reason == "no SharedSecret in Sender or From"


def test_the_reason_names_only_a_bounded_part_of_a_flood_of_from_credentials() -> None:
    flood = tuple(("NetworkID", f"AN{index:011d}") for index in range(500))

    refusal = refusal_of(Setup(from_credentials=flood))

    assert refusal.code == 401
    assert len(refusal.reason) <= 250


def test_a_flood_of_shared_secrets_costs_no_more_than_a_few_hash_checks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A hashed secret costs a werkzeug hash check per comparison (scrypt, werkzeug's default:
    # about 0.1 s). 200 wrong secrets in one document (15,000 fit in MAX_BYTES) must not
    # cost 200 checks: that is seconds to minutes of CPU per request, for anyone with the URL.
    checks: list[str] = []

    def counted(secret_hash: str, given: str) -> bool:
        checks.append(given)
        return check_password_hash(secret_hash, given)

    monkeypatch.setattr(model, "check_password_hash", counted)
    flood = Setup(
        from_credentials=(GLOBEX_FROM,) * 200, shared_secret=None, from_secret="wrong-secret"
    )

    with pytest.raises(CxmlRefusal) as raised:
        authenticate(header_of(flood), cxml_settings(GLOBEX))

    assert raised.value.code in (400, 401)
    assert len(checks) <= 4
