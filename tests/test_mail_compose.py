"""The e-mails' content: in the request's language (Dutch by default), plain text and HTML, with
the facts the requester needs and Euromobil's contact details; hostile values stay harmless.

Requests are stored and read back first, so each test runs on SQLite and on PostgreSQL with
the values a worker or the inbox would really have."""

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask, g
from flask_babel import get_locale, gettext

from ociflex import create_app
from ociflex.db import begin_write, session_for
from ociflex.mail import compose, queue_status_mail
from ociflex.models import OutboxMessage, RentalRequest
from tests.support.mail import store_request

CONTACT = {"OCIFLEX_CONTACT_PHONE": "+31 30 123 4567", "OCIFLEX_CONTACT_EMAIL": "flex@em.example"}
NBSP, NNBSP = "\N{NO-BREAK SPACE}", "\N{NARROW NO-BREAK SPACE}"


def english(**changes: Any) -> dict[str, Any]:
    """The same request from the English acme customer."""
    return {
        "customer_id": "acme",
        "language": "en",
        "requester_email": "jane.smith@acme.example",
        "requester_name": "Jane Smith",
        "vehicle_code": "ESTATE",
        "vehicle_name": "Estate car (Škoda Octavia Combi)",
        "day_rate": Decimal("55.00"),
        "currency": "GBP",
        "location": None,
        "pickup_location": "London Heathrow, Bay 4",
        "fields": {"email": "jane.smith@acme.example", "full_name": "Jane Smith"},
        **changes,
    }


@pytest.fixture
def mail_app(environ: dict[str, str]) -> Iterator[Flask]:
    app = create_app(
        {**environ, **CONTACT, "OCIFLEX_PUBLIC_URL": "https://flex.euromobil.example/"}
    )
    yield app
    app.extensions["ociflex.engine"].dispose()


def composed(app: Flask, build: Any, request: RentalRequest, *args: Any) -> compose.Composed:
    with app.app_context():
        return build(request, *args)


def flat(html: str) -> str:
    """HTML with its runs of ASCII whitespace made single spaces, to look for phrases."""
    return re.sub(r"[ \t\r\n]+", " ", html)


# --- Confirmation -------------------------------------------------------------------------------


def test_a_dutch_confirmation_has_the_facts_in_dutch(mail_app: Flask) -> None:
    mail = composed(mail_app, compose.confirmation, store_request(mail_app, status="confirmed"))

    assert mail.kind == "confirmation"
    assert mail.recipient == "jan.jansen@demo.example"
    assert mail.subject == "Bevestigd: uw FlexFleet-reservering FF-000001"
    for body in (mail.text, flat(mail.html)):
        assert "Beste Jan Jansen," in body
        assert "FF-000001" in body
        assert "Compacte auto (VW Polo of gelijkwaardig)" in body
        assert "VW Polo 1.0 TSI" in body
        assert "AB-123-C" in body
        assert "dinsdag 1 december 2026 t/m donderdag 3 december 2026 (3 dagen)" in body
        assert "Utrecht Papendorp" in body
        assert "dinsdag 1 december 2026 om 09:00" in body
        assert "donderdag 3 december 2026 om 17:30" in body
        assert "+31 30 123 4567" in body
        assert "flex@em.example" in body
    assert "Huurperiode: dinsdag 1 december 2026" in mail.text
    assert "Ophalen: dinsdag 1 december 2026 om 09:00" in mail.text
    assert "Kenteken: AB-123-C" in mail.text
    assert '<html lang="nl">' in mail.html
    for english_word in ("Dear", "Rental period", "Pickup", "December", "Kind regards"):
        assert english_word not in mail.text


def test_an_english_confirmation_has_the_facts_in_english(mail_app: Flask) -> None:
    row = store_request(mail_app, **english(status="confirmed"))
    mail = composed(mail_app, compose.confirmation, row)

    assert mail.subject == "Confirmed: your FlexFleet rental FF-000001"
    assert mail.recipient == "jane.smith@acme.example"
    for body in (mail.text, flat(mail.html)):
        assert "Dear Jane Smith," in body
        assert "Estate car (Škoda Octavia Combi)" in body
        assert "Tuesday, December 1, 2026 to Thursday, December 3, 2026 (3 days)" in body
        assert f"Tuesday, December 1, 2026 at 9:00{NNBSP}AM" in body
        assert f"Thursday, December 3, 2026 at 5:30{NNBSP}PM" in body
        assert "London Heathrow, Bay 4" in body
        assert "+31 30 123 4567" in body
        assert "flex@em.example" in body
    assert "Licence plate: AB-123-C" in mail.text
    assert '<html lang="en">' in mail.html
    for dutch_word in ("Beste", "Huurperiode", "Ophalen", "december", "groet"):
        assert dutch_word not in mail.text


@pytest.mark.parametrize("build", [compose.confirmation, compose.rejection, compose.cancellation])
def test_the_mails_to_the_requester_show_the_day_rate_and_the_total(
    mail_app: Flask, build: Any
) -> None:
    dutch = composed(mail_app, build, store_request(mail_app, day_rate=Decimal("411.50")))
    assert f"Dagprijs: €{NBSP}411,50\nTotaal: €{NBSP}1.234,50\n" in dutch.text
    assert f'Totaal</th><td style="padding:4px 0;">€{NBSP}1.234,50</td>' in dutch.html

    english_mail = composed(mail_app, build, store_request(mail_app, **english()))
    assert "Day rate: £55.00\nTotal: £165.00\n" in english_mail.text
    assert "£165.00" in english_mail.html


def test_the_confirmation_names_the_purchase_order_once_it_is_known(mail_app: Flask) -> None:
    ordered = store_request(mail_app, **english(status="confirmed", erp_po_number="4500012345"))
    unordered = store_request(mail_app, **english(status="confirmed"))

    mail = composed(mail_app, compose.confirmation, ordered)
    without = composed(mail_app, compose.confirmation, unordered)

    assert "Your purchase order: 4500012345" in mail.text
    assert re.search(r"Your purchase order</th><td[^>]*>4500012345</td>", mail.html)
    assert "purchase order" not in without.text


def test_pickup_times_are_shown_in_dutch_summer_time(mail_app: Flask) -> None:
    row = store_request(
        mail_app,
        start_date=date(2026, 7, 1),
        end_date=date(2026, 7, 1),
        days=1,
        pickup_at=datetime(2026, 7, 1, 6, 15, tzinfo=UTC),
        return_at=datetime(2026, 7, 1, 18, 0, tzinfo=UTC),
    )
    mail = composed(mail_app, compose.confirmation, row)
    assert "woensdag 1 juli 2026 om 08:15" in mail.text
    assert "woensdag 1 juli 2026 om 20:00" in mail.text
    assert "(1 dag)" in mail.text


def test_a_language_ociflex_does_not_speak_falls_back_to_dutch(mail_app: Flask) -> None:
    mail = composed(mail_app, compose.confirmation, store_request(mail_app, language="de"))
    assert mail.subject.startswith("Bevestigd")


def test_what_operations_did_not_plan_is_left_out(mail_app: Flask) -> None:
    row = store_request(
        mail_app, planned_vehicle=None, licence_plate=None, pickup_at=None, return_at=None
    )
    mail = composed(mail_app, compose.confirmation, row)
    for absent in ("Gepland voertuig", "Kenteken", "Ophalen:", "Terugbrengen", "None"):
        assert absent not in mail.text
        assert absent not in mail.html
    assert "Ophaallocatie: Utrecht Papendorp" in mail.text


def test_the_confirmation_carries_the_pickup_as_a_calendar_entry(mail_app: Flask) -> None:
    mail = composed(mail_app, compose.confirmation, store_request(mail_app))
    [attachment] = mail.attachments
    assert attachment["filename"] == "FF-000001.ics"
    assert attachment["content_type"] == "text/calendar"
    unfolded = attachment["data"].replace("\r\n ", "")
    assert "UID:FF-000001@flexfleet.euromobil\r\n" in unfolded
    assert "DTSTART:20261201T080000Z\r\n" in unfolded
    assert "DTEND:20261203T163000Z\r\n" in unfolded
    assert "LOCATION:Utrecht Papendorp\r\n" in unfolded
    assert "SUMMARY:Ophalen FlexFleet-reservering FF-000001: VW Polo 1.0 TSI\\, kenteken" in (
        unfolded
    )


def test_without_planned_times_the_calendar_entry_covers_the_rental_days(mail_app: Flask) -> None:
    row = store_request(mail_app, pickup_at=None, return_at=None)
    [attachment] = composed(mail_app, compose.confirmation, row).attachments
    assert "DTSTART;VALUE=DATE:20261201\r\n" in attachment["data"]
    assert "DTEND;VALUE=DATE:20261204\r\n" in attachment["data"]


# --- Rejection and cancellation -----------------------------------------------------------------


def test_a_rejection_says_why_in_both_languages(mail_app: Flask) -> None:
    reason = "Geen bestelbus beschikbaar in deze periode.\nProbeer een week later."
    dutch = composed(
        mail_app, compose.rejection, store_request(mail_app, status="rejected", reason=reason)
    )
    assert dutch.subject == "Uw FlexFleet-aanvraag FF-000001 is afgewezen"
    assert "Helaas kunnen wij uw aanvraag FF-000001 voor een huurvoertuig niet accepteren." in (
        dutch.text
    )
    assert f"Reden:\n{reason}\n" in dutch.text
    assert "Geen bestelbus beschikbaar in deze periode.<br>Probeer een week later." in dutch.html
    assert "+31 30 123 4567" in dutch.text
    assert dutch.attachments == ()

    row = store_request(mail_app, **english(status="rejected", reason="No estate cars left."))
    mail = composed(mail_app, compose.rejection, row)
    assert mail.subject == "Your FlexFleet request FF-000002 has been declined"
    assert "Unfortunately we cannot accept your request FF-000002" in mail.text
    assert "Reason:\nNo estate cars left.\n" in mail.text
    assert "No estate cars left." in mail.html


def test_a_cancellation_says_why_in_both_languages(mail_app: Flask) -> None:
    dutch = composed(
        mail_app,
        compose.cancellation,
        store_request(mail_app, status="cancelled", reason="Op verzoek van de aanvrager."),
    )
    assert dutch.subject == "Uw FlexFleet-reservering FF-000001 is geannuleerd"
    assert "Uw reservering FF-000001 is geannuleerd." in dutch.text
    assert "Reden:\nOp verzoek van de aanvrager." in dutch.text
    assert "dinsdag 1 december 2026 t/m donderdag 3 december 2026" in dutch.text

    row = store_request(mail_app, **english(status="cancelled", reason="Duplicate request."))
    mail = composed(mail_app, compose.cancellation, row)
    assert mail.subject == "Your FlexFleet rental FF-000002 has been cancelled"
    assert "Your rental FF-000002 has been cancelled." in mail.text
    assert "Reason:\nDuplicate request." in mail.text
    assert "flex@em.example" in mail.html


def test_without_a_reason_there_is_no_reason_line(mail_app: Flask) -> None:
    mail = composed(mail_app, compose.cancellation, store_request(mail_app, reason=""))
    assert "Reden" not in mail.text
    assert "Reden" not in mail.html


# --- Hostile values -----------------------------------------------------------------------------

HOSTILE_NAME = 'Eve <script>alert("x")</script>\r\nBcc: victim@evil.example'


def test_html_escapes_a_hostile_name_and_text_keeps_it_on_one_line(mail_app: Flask) -> None:
    row = store_request(
        mail_app,
        requester_name=HOSTILE_NAME,
        planned_vehicle="<b>Polo</b>",
        reason="<img src=x onerror=alert(1)>",
    )
    for build in (compose.confirmation, compose.rejection, compose.cancellation):
        mail = composed(mail_app, build, row)
        assert "<script>" not in mail.html
        assert "&lt;script&gt;" in mail.html
        assert "<img" not in mail.html
        assert "<b>Polo</b>" not in mail.html
        greeting = mail.text.splitlines()[0]
        assert greeting == 'Beste Eve <script>alert("x")</script> Bcc: victim@evil.example,'
        assert not any(line.startswith("Bcc") for line in mail.text.splitlines())
        assert "\r" not in mail.subject
        assert "\n" not in mail.subject


def test_a_hostile_name_in_the_operations_subject_stays_on_one_line(mail_app: Flask) -> None:
    row = store_request(mail_app, vehicle_name="Bus\r\nBcc: victim@evil.example")
    with mail_app.app_context():
        mail = compose.new_request_notification(row, "ops@euromobil.example")
    assert "\n" not in mail.subject
    assert "\r" not in mail.subject
    assert "Bus Bcc: victim@evil.example" in mail.subject


def test_one_line_removes_every_kind_of_line_break_and_control_character() -> None:
    text = "a\r\nb\nc\rd\x0be\x0cf\x85g\u2028h\u2029i\x00j\tk\u202el"
    assert compose.one_line(text) == "a b c d e f g h i j k l"


# --- To operations ------------------------------------------------------------------------------


def test_operations_are_told_about_a_new_request_in_dutch(mail_app: Flask) -> None:
    row = store_request(
        mail_app, **english(status="new", remarks="Child seat\nplease", fields={"project": "P-1"})
    )
    with mail_app.app_context():
        mail = compose.new_request_notification(row, "ops@euromobil.example")

    assert mail.kind == "new_request"
    assert mail.recipient == "ops@euromobil.example"
    assert mail.subject == (
        "Nieuwe aanvraag FF-000001: ACME Procurement Ltd, Estate car (Škoda Octavia Combi)"
    )
    assert "Er is een nieuwe aanvraag binnengekomen via de punch-out." in mail.text
    assert "Klant: ACME Procurement Ltd" in mail.text
    assert "Aanvrager: Jane Smith" in mail.text
    assert "E-mail: jane.smith@acme.example" in mail.text
    assert f"£{NBSP}55,00 per dag" in mail.text
    assert f"Totaal: £{NBSP}165,00\n" in mail.text
    assert f"£{NBSP}165,00</td>" in mail.html
    assert "Huurperiode: dinsdag 1 december 2026 t/m donderdag 3 december 2026 (3 dagen)" in (
        mail.text
    )
    assert "Project: P-1" in mail.text  # the customer's own label, in Dutch
    assert "Opmerkingen:\nChild seat\nplease" in mail.text
    assert "Open de aanvraag: https://flex.euromobil.example/ops/requests/1" in mail.text
    assert 'href="https://flex.euromobil.example/ops/requests/1"' in mail.html
    assert '<html lang="nl">' in mail.html


def test_the_dutch_customers_fields_carry_their_labels(mail_app: Flask) -> None:
    with mail_app.app_context():
        mail = compose.new_request_notification(store_request(mail_app), "ops@euromobil.example")
    assert "Kostenplaats: 4100" in mail.text
    assert "Inkoopnummer: 4500012345" in mail.text
    assert f"€{NBSP}39,50 per dag" in mail.text
    assert "Klant: Demo Inkoop B.V." in mail.text


def test_without_a_public_url_there_is_no_link(environ: dict[str, str]) -> None:
    app = create_app(environ)
    try:
        with app.app_context():
            mail = compose.new_request_notification(store_request(app), "ops@euromobil.example")
    finally:
        app.extensions["ociflex.engine"].dispose()
    assert "http" not in mail.text
    assert "<a " not in mail.html


# --- The page's own language is left alone ------------------------------------------------------


def test_composing_does_not_change_the_language_of_the_page_being_served(mail_app: Flask) -> None:
    row = store_request(mail_app)
    with mail_app.test_request_context("/oci/acme"):
        g.language = "en"
        assert gettext("Vehicle") == "Vehicle"
        mail = compose.confirmation(row)  # Dutch
        assert mail.subject.startswith("Bevestigd")
        assert str(get_locale()) == "en"
        assert gettext("Vehicle") == "Vehicle"


# --- Which e-mail a status change queues --------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        ("confirmed", "confirmation"),
        ("rejected", "rejection"),
        ("cancelled", "cancellation"),
        ("new", None),
        ("in_progress", None),
        ("scheduled", None),
    ],
)
def test_a_status_change_queues_the_matching_e_mail(
    mail_app: Flask, status: str, kind: str | None
) -> None:
    row = store_request(mail_app)
    with mail_app.app_context(), session_for(mail_app) as session:
        begin_write(session)
        request = session.get(RentalRequest, row.id)
        assert request is not None
        request.status = status
        request.reason = "Reden"
        queued = queue_status_mail(session, request)
        session.commit()
        messages = session.query(OutboxMessage).all()
    if kind is None:
        assert queued is None
        assert messages == []
    else:
        assert queued is not None
        [message] = messages
        assert (message.kind, message.request_id, message.status) == (kind, row.id, "pending")
        assert message.recipient == "jan.jansen@demo.example"
