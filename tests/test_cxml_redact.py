"""A buyer's document as ociflex keeps it (ociflex/cxml/redact.py): the transfer log and the
request keep it for diagnosis, so every SharedSecret and CredentialMac is gone from it, whether
the document parsed or not, while everything else an operator needs stays as received."""

import codecs

import pytest
from lxml import etree

from ociflex.cxml.documents import parse
from ociflex.cxml.redact import REMOVED, text_without_secrets, without_secrets
from tests.support.cxml import GLOBEX_SECRET, Setup, setup_request

FROM_SECRET = "from-secret-0815"


def secrets_in(text: str) -> list[str]:
    """The known secrets still readable in ``text``."""
    return [
        secret for secret in (GLOBEX_SECRET, FROM_SECRET, "s3cret", "mac-value") if secret in text
    ]


# --- a parsed document --------------------------------------------------------------------------


def test_the_senders_and_the_froms_shared_secret_are_removed_and_the_rest_stays() -> None:
    root = parse(setup_request(Setup(from_secret=FROM_SECRET, buyer_cookie="c<&>1")))

    kept = without_secrets(root)

    assert secrets_in(kept) == []
    assert kept.count(f"<SharedSecret>{REMOVED}</SharedSecret>") == 2
    again = etree.fromstring(kept.encode())
    assert again.findtext("Request/PunchOutSetupRequest/BuyerCookie") == "c<&>1"
    assert again.findtext("Header/From/Credential/Identity") == "AN01000099999"
    assert again.findtext("Header/Sender/UserAgent") == "Globex Procurement 9.1"
    assert [e.get("name") for e in again.iter("Extrinsic")] == [
        "UserEmail",
        "FirstName",
        "LastName",
        "CostCenter",
        "Project",
    ]


def test_the_parsed_document_itself_keeps_its_secret_for_authentication() -> None:
    root = parse(setup_request())

    without_secrets(root)

    assert root.findtext("Header/Sender/Credential/SharedSecret") == GLOBEX_SECRET


def test_a_credential_mac_and_its_attributes_are_removed() -> None:
    body = setup_request(Setup(shared_secret=None)).replace(
        b"<UserAgent>",
        b'<CredentialMac type="FromSenderCredentials" algorithm="HMAC-SHA1-96" '
        b'creationDate="2026-12-02T10:15:00+01:00" expirationDate="2026-12-03T10:15:00+01:00"'
        b' nonce="bm9uY2U=">mac-value</CredentialMac><UserAgent>',
    )

    kept = without_secrets(parse(body))

    assert secrets_in(kept) == []
    assert "nonce" not in kept
    assert f"<CredentialMac>{REMOVED}</CredentialMac>" in kept


def test_a_secret_with_markup_inside_is_removed_whole() -> None:
    body = setup_request(Setup(shared_secret="SECRET")).replace(
        b"SECRET", b"s3<b>cr</b>et<![CDATA[s3cret]]>"
    )

    kept = without_secrets(parse(body))

    assert f"<SharedSecret>{REMOVED}</SharedSecret>" in kept
    assert "<b>" not in kept
    assert secrets_in(kept) == []


def test_secrets_in_a_namespace_are_removed_as_well() -> None:
    body = (
        b'<c:cXML xmlns:c="urn:example:cxml"><c:Header><c:Sender><c:Credential domain="x">'
        b"<c:Identity>AN1</c:Identity><c:SharedSecret>s3cret</c:SharedSecret></c:Credential>"
        b"</c:Sender></c:Header></c:cXML>"
    )

    kept = without_secrets(parse(body))

    assert secrets_in(kept) == []
    assert "AN1" in kept


def test_a_secret_element_in_another_case_is_removed_from_a_parsed_document_too() -> None:
    # XML is case-sensitive, so ociflex does not authenticate with <sharedSecret>; but it is the
    # buyer's secret all the same, and it must not end up in the transfer log.
    body = setup_request(Setup(shared_secret="s3cret")).replace(b"SharedSecret", b"sharedSecret")

    kept = without_secrets(parse(body))

    assert secrets_in(kept) == []


def test_a_document_with_non_ascii_element_and_attribute_names_is_kept_as_well() -> None:
    # XML names may be in any script (a buyer's own extension: <Größe>, kostenträger="...").
    body = setup_request(Setup(shared_secret="s3cret")).replace(
        b"<BuyerCookie>",
        '<Extrinsic name="Size" kostenträger="4711"><Größe>XL</Größe></Extrinsic>'.encode()
        + b"<BuyerCookie>",
    )
    root = parse(body)

    kept = without_secrets(root)

    assert secrets_in(kept) == []
    assert "<Größe>XL</Größe>" in kept
    assert 'kostenträger="4711"' in kept


# --- text that could not be parsed --------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "kept"),
    [
        (
            b"<cXML><SharedSecret>s3cret</SharedSecret><Identity>AN1</Identity></Broken>",
            f"<cXML><SharedSecret>{REMOVED}</SharedSecret><Identity>AN1</Identity></Broken>",
        ),
        (
            b"<a><sharedsecret>s3cret</SHAREDSECRET>rest",
            f"<a><sharedsecret>{REMOVED}</SHAREDSECRET>rest",
        ),
        (
            b'<a><c:SharedSecret xmlns:c="u">s3cret</c:SharedSecret >rest',
            f'<a><c:SharedSecret xmlns:c="u">{REMOVED}</c:SharedSecret >rest',
        ),
        (
            b'<a><CredentialMac type="x">mac-value</CredentialMac>rest<b>',
            f'<a><CredentialMac type="x">{REMOVED}</CredentialMac>rest<b>',
        ),
        (
            b"<a><SharedSecret>s3cret</SharedSecret><SharedSecret>"
            + GLOBEX_SECRET.encode()
            + b"</SharedSecret>rest",
            f"<a><SharedSecret>{REMOVED}</SharedSecret><SharedSecret>{REMOVED}</SharedSecret>rest",
        ),
    ],
)
def test_the_secrets_of_unparsable_text_are_removed_and_the_rest_stays(
    body: bytes, kept: str
) -> None:
    assert text_without_secrets(body) == kept


def test_everything_after_a_secret_that_is_never_closed_is_dropped() -> None:
    kept = text_without_secrets(b"<cXML><Identity>AN1</Identity><SharedSecret>s3cret and more")

    assert kept == f"<cXML><Identity>AN1</Identity><SharedSecret>{REMOVED}"


def test_a_secret_closed_with_the_wrong_prefix_counts_as_never_closed() -> None:
    kept = text_without_secrets(b"<a><x:SharedSecret>s3cret</y:SharedSecret>more s3cret")

    assert secrets_in(kept) == []


def test_an_element_that_only_starts_like_a_secret_stays() -> None:
    body = b"<a><SharedSecretHint>ask Olga</SharedSecretHint><Secret>x</Secret></a"

    assert text_without_secrets(body) == body.decode()


def test_bytes_that_are_not_utf8_do_not_stop_the_removal() -> None:
    kept = text_without_secrets(b"<a>\xff\xfe<SharedSecret>s3cret</SharedSecret>Zo\xeb</a>")

    assert secrets_in(kept) == []
    assert kept.endswith("</SharedSecret>Zo\ufffd</a>")


def test_a_setup_request_too_broken_to_parse_keeps_no_secret() -> None:
    body = setup_request(Setup(from_secret=FROM_SECRET)).replace(b"</Header>", b"</Heder>")

    kept = text_without_secrets(body)

    assert secrets_in(kept) == []
    assert "1J3YVWU9QWMTB" in kept


def test_a_utf16_document_that_does_not_parse_keeps_no_secret_either() -> None:
    # ociflex reads UTF-16 with a byte order mark; such a document that is refused (another
    # root, an entity declaration, a typo) goes to the transfer log through this function.
    text = setup_request(Setup(shared_secret="s3cret")).decode().replace("</Header>", "</Heder>")
    body = codecs.BOM_UTF16_LE + text.replace('encoding="UTF-8"', 'encoding="UTF-16"').encode(
        "utf-16-le"
    )

    kept = text_without_secrets(body)

    assert secrets_in(kept.replace("\x00", "")) == []
