"""Who sent a cXML request, and whether to believe it (PROTOCOL.md section 2).

The From credential says which buyer a request is for; the Sender's SharedSecret proves it.
A hub such as the Ariba Network forwards requests with the supplier's own secret in place of
the buyer's, so the secret is the one agreed for this customer, wherever the request passed.
Real buyers differ: some send an empty To, some put the SharedSecret in the From credential
instead of the Sender's (accepted there too); domains come in any case.
"""

from dataclasses import dataclass

from lxml import etree

from ociflex.cxml.config import CxmlSettings
from ociflex.cxml.documents import child, children, text_of
from ociflex.cxml.status import CxmlRefusal
from ociflex.text import N_


@dataclass(frozen=True)
class SentCredential:
    """A ``<Credential>`` as sent; ``shared_secret`` is None where it carries none."""

    domain: str
    identity: str
    shared_secret: str | None = None


@dataclass(frozen=True)
class Header:
    from_: tuple[SentCredential, ...]
    to: tuple[SentCredential, ...]
    sender: tuple[SentCredential, ...]
    user_agent: str = ""


#: What a buyer is told when its credentials are not recognised: the same whichever part was
#: wrong, so that a guesser learns nothing (the transfer log says which).
NOT_RECOGNISED = N_(
    "The credentials are not recognised. Check the From credential (domain and identity) and "
    "the SharedSecret agreed with Euromobil for this address."
)


def read_header(root: etree._Element) -> Header:
    """The parties of a request; a 400 when it has no Header or no From credential."""
    header = child(root, "Header")
    if header is None:
        raise CxmlRefusal(
            400, N_("The document has no Header: send From, To and Sender credentials.")
        )
    parties = {name: _credentials(child(header, name)) for name in ("From", "To", "Sender")}
    if not parties["From"]:
        raise CxmlRefusal(
            400,
            N_("The Header has no From credential: send the credential that identifies you."),
        )
    return Header(
        from_=parties["From"],
        to=parties["To"],
        sender=parties["Sender"],
        user_agent=text_of(child(child(header, "Sender"), "UserAgent")),
    )


def _credentials(party: etree._Element | None) -> tuple[SentCredential, ...]:
    return tuple(
        SentCredential(
            domain=credential.get("domain", "").strip(),
            identity=text_of(child(credential, "Identity")),
            shared_secret=_secret(credential),
        )
        for credential in children(party, "Credential")
    )


def _secret(credential: etree._Element) -> str | None:
    secret = child(credential, "SharedSecret")
    return None if secret is None else text_of(secret)


def authenticate(header: Header, settings: CxmlSettings, secret_required: bool = True) -> None:
    """Refuse (401) a request whose From names no credential of this customer, or whose
    SharedSecret (the Sender's, or the From's) is not the one agreed; without
    ``secret_required``, a request that sends no SharedSecret at all is believed on its From
    alone (an order from a network that authenticated the buyer itself).

    Secrets are compared in constant time, the same ones whatever the From says, so that the
    time taken tells nothing. Only the first secret of the Sender and the first of the From are
    compared: a hash check is slow by design, and a document of a thousand secrets must not buy
    a thousand of them."""
    known = any(settings.identifies(c.domain, c.identity) for c in header.from_)
    secrets = [_first_secret(header.sender), _first_secret(header.from_)]
    matches = [settings.shared_secret.matches(secret) for secret in secrets if secret]
    if not known:
        sent = ", ".join(f"{c.domain}:{c.identity}" for c in header.from_)[:200]
        raise CxmlRefusal(401, NOT_RECOGNISED, reason=f"unknown From credential {sent}")
    if not any(secrets):
        if not secret_required:
            return
        raise CxmlRefusal(401, NOT_RECOGNISED, reason="no SharedSecret in Sender or From")
    if not any(matches):
        raise CxmlRefusal(401, NOT_RECOGNISED, reason="the SharedSecret is not correct")


def _first_secret(credentials: tuple[SentCredential, ...]) -> str | None:
    return next((c.shared_secret for c in credentials if c.shared_secret), None)
