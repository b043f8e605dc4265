"""The outbox writes each e-mail's bytes itself (:func:`ociflex.mail.transport.render`) rather
than through Flask-Mail, for speed. These tests keep those bytes the ones Flask-Mail writes: every
kind of e-mail ociflex sends, composed for real in Dutch and English with hard names, subjects,
senders and bodies, is built again with Flask-Mail's own ``Message`` and must come out the same,
byte for byte, so that an upgrade of Flask-Mail or of the ``email`` package cannot make the two
drift apart unseen.

Flask-Mail is set up as the outbox used it before it wrote the bytes itself: text parts in
quoted-printable (Flask-Mail's default is 8bit, and an operator's long line would break SMTP's
limit of 998 characters) and the Subject written by the ``email`` package's current header code
(Flask-Mail's ``sanitize_subject`` uses the legacy ``email.header`` code, which starts a long
subject on a line of its own). Nothing is masked: the Date and the Message-ID are passed to
both sides, and both sides draw the numbers of their MIME boundaries from the same counter
instead of their random numbers, so every byte is compared.
"""

import email.generator
import itertools
import shutil
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from email.charset import QP, Charset
from types import SimpleNamespace
from typing import Any

import pytest
from flask import Flask
from flask_mail import Attachment, Message
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from ociflex import create_app
from ociflex.mail import compose, transport
from ociflex.mail.claims import Claimed
from ociflex.mail.outbox import new_message_id
from ociflex.models import PurchaseOrder, RentalRequest
from ociflex.orders.differences import Difference
from ociflex.orders.findings import Finding
from tests.conftest import ROOT, TEST_CUSTOMERS, make_environ
from tests.support.mail import request_values

OPS = "operations@euromobil.example"
CONTACT = "flex@euromobil.example"
SENDER = "Euromobil FlexFleet <noreply@flexfleet.example>"
#: The Date header of every message here: the night the clocks went back in 2026.
DATE = datetime(2026, 10, 25, 1, 30, tzinfo=UTC).timestamp()
#: Where both sides' boundary numbers start (any number below sys.maxsize would do).
FIRST_BOUNDARY_NUMBER = 4_711_000_000_000_000_000

FUZZ = settings(
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=100,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


@pytest.fixture(scope="module")
def mail_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """One app for the module: composing and rendering read its settings, templates,
    catalogues and customers, never its database."""
    folder = tmp_path_factory.mktemp("mail_transport")
    customers = folder / "customers"
    shutil.copytree(TEST_CUSTOMERS, customers)
    shutil.copy(ROOT / "config" / "customers" / "demo.yaml", customers / "demo.yaml")
    environ = make_environ(folder, f"sqlite:///{folder / 'unused.sqlite3'}", customers)
    app = create_app(
        {
            **environ,
            "MAIL_DEFAULT_SENDER": SENDER,
            "OCIFLEX_CONTACT_EMAIL": CONTACT,
            "OCIFLEX_CONTACT_PHONE": "+31 30 123 4567",
            "OCIFLEX_PUBLIC_URL": "https://flex.euromobil.example",
        }
    )
    with app.app_context():
        yield app
    app.extensions["ociflex.engine"].dispose()


# --- Both sides ---------------------------------------------------------------------------------


def counting_from(first: int) -> Callable[[int], int]:
    """Stands in for ``random.randrange`` and ``secrets.randbelow``: ``first``, ``first + 1``,
    ... whatever the bound."""
    numbers = itertools.count(first)
    return lambda _bound: next(numbers)


#: Flask-Mail's text parts in quoted-printable: its ``charset`` goes to every ``MIMEText``.
QUOTED_PRINTABLE_UTF8 = Charset("utf-8")
QUOTED_PRINTABLE_UTF8.body_encoding = QP


def flask_mail_bytes(app: Flask, message: Claimed) -> bytes:
    """``message`` as Flask-Mail writes it (``Message.as_bytes()``), set up as described above.
    An attachment goes in as UTF-8 bytes (the outbox stores its text, and Flask-Mail would write
    a ``str`` with characters beyond Latin-1 as ``raw-unicode-escape``), and one without a name
    (``""`` in the outbox) as Flask-Mail's ``None``."""
    mail = Message(
        subject=message.subject,
        recipients=[message.recipient],
        body=message.body_text,
        html=message.body_html or None,
        reply_to=None if message.kind == "new_request" else app.config["OCIFLEX_CONTACT_EMAIL"],
        date=DATE,
        charset=QUOTED_PRINTABLE_UTF8,  # type: ignore[arg-type]
        extra_headers={"Auto-Submitted": "auto-generated"},
        attachments=[
            Attachment(a["filename"] or None, a["content_type"], a["data"].encode("utf-8"))
            for a in message.attachments
        ],
    )
    mail.msgId = message.message_id
    mime = mail._message()
    if message.subject:
        mime.replace_header("Subject", message.subject)  # under email.policy.SMTP by now
    return mime.as_bytes()


def written_by_both(
    app: Flask, message: Claimed, monkeypatch: pytest.MonkeyPatch
) -> tuple[bytes, bytes]:
    """``message`` as the outbox writes it and as Flask-Mail writes it, with the same boundary
    numbers on both sides (the ``email`` generator's ``random.randrange``, the outbox's
    ``secrets.randbelow``)."""
    drawn = SimpleNamespace(randbelow=counting_from(FIRST_BOUNDARY_NUMBER))
    monkeypatch.setattr(transport, "secrets", drawn)
    recipient = transport.envelope_recipient(message)
    ours = transport.render(message, transport.Letterhead.of(app), recipient, DATE)
    drawn = SimpleNamespace(randrange=counting_from(FIRST_BOUNDARY_NUMBER))
    monkeypatch.setattr(email.generator, "random", drawn)
    return ours, flask_mail_bytes(app, message)


def claimed(mail: compose.Composed) -> Claimed:
    """``mail`` as the outbox worker has it after claiming its row."""
    return Claimed(
        id=1,
        message_id=new_message_id(),
        request_id=1,
        kind=mail.kind,
        recipient=mail.recipient,
        subject=mail.subject,
        body_text=mail.text,
        body_html=mail.html,
        attachments=list(mail.attachments),
    )


def assert_same_bytes(ours: bytes, theirs: bytes) -> None:
    """Equal bytes; else the first line that differs, which says more than a long repr."""
    if ours == theirs:
        return
    for number, (mine, flask_mails) in enumerate(
        zip(ours.split(b"\r\n"), theirs.split(b"\r\n"), strict=False)
    ):
        assert mine == flask_mails, f"line {number + 1} differs"
    assert ours == theirs


# --- What ociflex sends -------------------------------------------------------------------------


def rental_request(**changes: Any) -> RentalRequest:
    """A request as the worker loads it (reference FF-000001), not stored: composing reads only
    its values."""
    request = RentalRequest(**request_values(**changes))
    request.id = 1
    return request


def english(**changes: Any) -> RentalRequest:
    """The English acme customer's request, with names only UTF-8 can write."""
    values = {
        "customer_id": "acme",
        "language": "en",
        "requester_email": "zoe.aeroskobing@acme.example",
        "requester_name": "Zoë Ærøskøbing-Çelik",
        "vehicle_code": "ESTATE",
        "vehicle_name": "Estate car (Škoda Octavia Combi) 🚗",
        "day_rate": Decimal("55.00"),
        "currency": "GBP",
        "location": None,
        "pickup_location": "Hauptstraße 5, München",
        "remarks": "Winter tyres please — about €20 extra is fine 👍",
        "fields": {"email": "zoe.aeroskobing@acme.example", "full_name": "Zoë Ærøskøbing-Çelik"},
    }
    return rental_request(**{**values, **changes})


#: A reason with one line far longer than SMTP's 998 characters, and non-ASCII on it.
LONG_REASON = "Geen bussen beschikbaar in Utrecht — " + "€ 1.250,00 borg, straße ß " * 60


def purchase_order() -> PurchaseOrder:
    return PurchaseOrder(
        id=7,
        customer_id="demo",
        order_id="4500012345/ß€",
        sender="NetworkID:AN0123456789 (SAP Ariba® „Beschaffung“)",
    )


def order_findings() -> list[Finding]:
    return [
        Finding(
            None,
            "",
            Difference("withdrawn", "The ERP withdrew purchase order %(order)s.", {"order": "X"}),
        ),
        Finding(
            2,
            "FF-000001",
            Difference(
                "unit_price",
                "Day rate: %(ordered)s ordered, %(requested)s requested.",
                {"ordered": "€ 42,00", "requested": "€ 39,50"},
            ),
        ),
    ]


@pytest.fixture(scope="module")
def dutch_confirmation(mail_app: Flask) -> Claimed:
    """The message the generated subjects and bodies go into (composed once)."""
    return claimed(compose.confirmation(rental_request()))


MAILS: dict[str, Callable[[], compose.Composed]] = {
    "Dutch confirmation with a calendar entry": lambda: compose.confirmation(rental_request()),
    "English confirmation, names in UTF-8": lambda: compose.confirmation(english()),
    "confirmation of whole days, to an international domain": lambda: compose.confirmation(
        rental_request(pickup_at=None, return_at=None, requester_email="jan@bücher.example")
    ),
    "Dutch rejection with a line longer than SMTP allows": lambda: compose.rejection(
        rental_request(status="rejected", reason=LONG_REASON)
    ),
    "English rejection": lambda: compose.rejection(
        english(status="rejected", reason="No estates left 😞\nSorry, Zoë.")
    ),
    "Dutch cancellation": lambda: compose.cancellation(
        rental_request(status="cancelled", reason="Auto defect: € 0,00 kosten voor u; Grüße")
    ),
    "English cancellation": lambda: compose.cancellation(
        english(status="cancelled", reason="Flood at the branch 🌊")
    ),
    "new request with a subject folded over lines": lambda: compose.new_request_notification(
        english(vehicle_name="Bestelbus (Citroën ë-Jumpy, " + "lange omschrijving " * 6 + ")"),
        OPS,
    ),
    "order notice": lambda: compose.order_notice(OPS, None, purchase_order(), order_findings()),
}


@pytest.mark.parametrize("mail", MAILS.values(), ids=MAILS.keys())
def test_every_kind_of_mail_is_written_as_flask_mail_writes_it(
    mail_app: Flask, mail: Callable[[], compose.Composed], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert_same_bytes(*written_by_both(mail_app, claimed(mail()), monkeypatch))


def test_the_mails_compared_are_the_hard_ones_they_are_meant_to_be(mail_app: Flask) -> None:
    """Guards the comparison above against cases that lost what made them hard."""
    mails = {name: claimed(build()) for name, build in MAILS.items()}
    assert {mail.kind for mail in mails.values()} == set(compose.KINDS)
    assert all(mail.body_html for mail in mails.values())
    confirmation = mails["English confirmation, names in UTF-8"]
    [calendar] = confirmation.attachments
    assert calendar["content_type"] == "text/calendar"
    assert not calendar["data"].isascii()
    assert "Zoë" in confirmation.body_text
    assert "🚗" in confirmation.body_html
    rejection = mails["Dutch rejection with a line longer than SMTP allows"]
    assert max(map(len, rejection.body_text.splitlines())) > 998
    new_request = mails["new request with a subject folded over lines"]
    assert len(new_request.subject) > 78
    assert not new_request.subject.isascii()


def test_a_long_non_ascii_subject_is_folded_into_encoded_words(
    mail_app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    build = MAILS["new request with a subject folded over lines"]
    ours, theirs = written_by_both(mail_app, claimed(build()), monkeypatch)
    headers = ours.partition(b"\r\n\r\n")[0].decode("ascii")
    subject = headers.partition("\nSubject: ")[2].partition("\nFrom: ")[0]
    assert subject.count("\r\n ") >= 1
    assert "=?utf-8?q?" in subject
    assert max(len(line) for line in headers.split("\r\n")) <= 78
    assert ours == theirs


# --- Structures: text only, text and an attachment ----------------------------------------------


def test_a_text_only_mail_is_one_text_entity_as_flask_mail_writes_it(
    mail_app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    message = replace(claimed(compose.rejection(english(status="rejected"))), body_html="")
    ours, theirs = written_by_both(mail_app, message, monkeypatch)
    assert ours.startswith(b'Content-Type: text/plain; charset="utf-8"\r\n')
    assert_same_bytes(ours, theirs)


def test_text_and_an_attachment_without_html_is_written_as_flask_mail_writes_it(
    mail_app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    message = replace(claimed(compose.confirmation(english())), body_html="")
    ours, theirs = written_by_both(mail_app, message, monkeypatch)
    assert ours.startswith(b"Content-Type: multipart/mixed;")
    assert b"multipart/alternative" not in ours
    assert_same_bytes(ours, theirs)


@pytest.mark.parametrize(
    "filename", ["FF-000001.ics", "", "reservering Müller.ics", 'a "quoted", long name.ics']
)
def test_attachment_names_are_written_as_flask_mail_writes_them(
    mail_app: Flask, filename: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    message = claimed(compose.confirmation(rental_request()))
    [calendar] = message.attachments
    message = replace(message, attachments=[{**calendar, "filename": filename}])
    assert_same_bytes(*written_by_both(mail_app, message, monkeypatch))


# --- Senders and subjects -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "sender",
    [
        SENDER,
        "noreply@flexfleet.example",
        "Euromobil, FlexFleet <noreply@flexfleet.example>",
        '"Euromobil \\"Flex\\" Fleet" <noreply@flexfleet.example>',
        "Euromobil FlexFleet Zürich <noreply@flexfleet.example>",
        "🚗 FlexFleet, Straße & Co. <noreply@flexfleet.example>",
        "Euromobil FlexFleet "
        + "Verhuur en Leasing Nederland " * 4
        + "<noreply@flexfleet.example>",
        "Euromobil FlexFleet <noreply@bücher.example>",
    ],
)
def test_from_headers_are_written_as_flask_mail_writes_them(
    mail_app: Flask, sender: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Letterhead.of and Flask-Mail's ``Message`` both read Flask-Mail's default sender."""
    monkeypatch.setattr(mail_app.extensions["mail"], "default_sender", sender)
    message = claimed(compose.confirmation(english()))
    assert_same_bytes(*written_by_both(mail_app, message, monkeypatch))


@FUZZ
@given(subject=st.text(max_size=compose.SUBJECT_MAX).map(compose.one_line))
@example(subject="Bevestigd: uw reservering — Müller & Söhne, „€ 39,50“ per dag 🚐")
@example(subject='Re: "Jansen, Jan" <jan@demo.example>; (urgent)')
@example(subject="=?utf-8?q?looks_like_an_encoded_word?= and is not one")
@example(subject="Aanvraag " + "Ärmelkanaltunnelfahrzeugvermietungsgesellschaft" * 4)
@example(subject="x" * compose.SUBJECT_MAX)
@example(subject="")
def test_any_subject_ociflex_can_compose_is_written_as_flask_mail_writes_it(
    mail_app: Flask, dutch_confirmation: Claimed, subject: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    message = replace(dutch_confirmation, subject=subject)
    assert_same_bytes(*written_by_both(mail_app, message, monkeypatch))


# --- Bodies -------------------------------------------------------------------------------------

#: Text as templates and people write it: any character but surrogates, with line breaks of
#: every kind, trailing spaces, dots and ``From `` at the start of a line.
BODY = st.lists(
    st.one_of(
        st.characters(exclude_categories=["Cs"]),
        st.sampled_from(["\n", "\r\n", "\r", " \n", "\t\n", ".\n", "From ", "=\n"]),
    ),
    min_size=1,
    max_size=1000,
).map("".join)


@FUZZ
@given(text=BODY, html=st.one_of(st.just(""), BODY), attach=st.booleans())
@example(text="Beste Jan,\n", html="", attach=False)
@example(text="a" * 3000 + "\n", html="<p>" + "ß" * 2000 + "</p>", attach=True)
@example(text="regel met spatie aan het eind \n.\nFrom here\n", html="", attach=True)
@example(text="geen regeleinde aan het eind", html="geen", attach=False)
def test_any_body_is_written_as_flask_mail_writes_it(
    mail_app: Flask,
    dutch_confirmation: Claimed,
    text: str,
    html: str,
    attach: bool,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    message = replace(
        dutch_confirmation,
        body_text=text,
        body_html=html,
        attachments=dutch_confirmation.attachments if attach else [],
    )
    assert_same_bytes(*written_by_both(mail_app, message, monkeypatch))
