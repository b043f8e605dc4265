"""The workflow actions over HTTP, as operators use them, on SQLite and PostgreSQL: each request
is booked through the real punch-out (the other requests planned on a licence plate are seeded
into the database), each action is sent from the forms of ``templates/ops/_actions.html`` with
the session's CSRF token, and the e-mails go to a real SMTP server (aiosmtpd on 127.0.0.1).

Every legal transition stores what it should (planned data, history event, status counts,
e-mail); every illegal one, a stale form, a form with errors, a plate planned twice that the
operator did not confirm, a missing CSRF token or a missing login changes nothing. The
operations pages are Dutch, so the texts asserted are Dutch (those not in the catalogue yet
are left out).
"""

import html
import logging
import re
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from time import monotonic, sleep
from typing import Any

import pytest
from flask import Flask, abort, current_app, render_template_string
from flask.testing import FlaskClient
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from ociflex import create_app
from ociflex.db import begin_write, get_session, session_for
from ociflex.mail.compose import LOCAL_TIME
from ociflex.mail.delivery import send_due
from ociflex.models import OutboxMessage, RentalRequest, RequestEvent, StatusCount
from ociflex.ops import actions
from ociflex.ops.auth import login_required
from ociflex.ops.conflicts import Plan
from ociflex.ops.operators import add_operator
from ociflex.ops.workflow import STATUS_LABELS, TRANSITIONS
from tests.conftest import OPERATOR_USERNAME, csrf_token_in, log_in
from tests.support.html import text_of
from tests.support.inbox import seed
from tests.support.punchout import Page, book_acme, book_demo
from tests.support.smtp import SmtpSink, _free_port
from tests.support.workflow import LEGAL

PROBE = "/ops/probe/requests/<int:request_id>"
PROBE_PAGE = """{% extends "ops/base.html" %}
{% block ops_content %}{% include "ops/_actions.html" %}{% endblock %}"""

SECOND_OPERATOR = ("piet", "piet-correct-horse-43", "Piet de Boer")
VEHICLE = "VW Polo 1.0 TSI"

NOTHING_CHANGED_422 = "Er is niets gewijzigd: verbeter de gemarkeerde velden hieronder."
REQUIRED = "Vul dit veld in."
SKIPPED_HOUR = "Deze tijd bestaat niet op die dag: de klok gaat dan vooruit."
DUTCH_LABELS = {
    "new": "Nieuw",
    "in_progress": "In behandeling",
    "scheduled": "Ingepland",
    "confirmed": "Bevestigd",
    "rejected": "Afgewezen",
    "cancelled": "Geannuleerd",
}
MAIL_KINDS = {"confirm": "confirmation", "reject": "rejection", "cancel": "cancellation"}
#: The actions that bring a new request into each status.
PATHS: dict[str, list[str]] = {
    "new": [],
    "in_progress": ["start"],
    "scheduled": ["start", "schedule"],
    "confirmed": ["start", "schedule", "confirm"],
    "rejected": ["reject"],
    "cancelled": ["start", "schedule", "cancel"],
}


# --- Fixtures -----------------------------------------------------------------------------------


def _probe(request_id: int) -> str:
    """The actions of a request as the request page shows them (the inbox, which owns that
    page, is built separately: this keeps these tests to the actions' own template)."""
    rental = get_session().get(RentalRequest, request_id)
    if rental is None:
        abort(404)
    customer = current_app.extensions["ociflex.customers"].get(rental.customer_id)
    return render_template_string(PROBE_PAGE, rental=rental, customer=customer)


@pytest.fixture
def smtp_port() -> int:
    return _free_port()


@pytest.fixture
def environ(environ: dict[str, str], smtp_port: int) -> dict[str, str]:
    """Mail goes to 127.0.0.1:smtp_port, where a test that sends starts the ``sink``."""
    return {
        **environ,
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": str(smtp_port),
        "MAIL_TIMEOUT": "2",
        "MAIL_DEFAULT_SENDER": "Euromobil FlexFleet <noreply@flexfleet.example>",
    }


@pytest.fixture
def app(environ: dict[str, str]) -> Iterator[Flask]:
    app = create_app(environ)
    app.add_url_rule(PROBE, endpoint="ops.probe_actions", view_func=login_required(_probe))
    yield app
    app.extensions["ociflex.engine"].dispose()


@pytest.fixture
def sink(smtp_port: int) -> Iterator[SmtpSink]:
    with SmtpSink(smtp_port) as server:
        yield server


@pytest.fixture
def request_id(client: FlaskClient, app: Flask, demo_callup: dict[str, str]) -> int:
    """A new request of the Dutch demo customer, booked through the punch-out."""
    book_demo(client, demo_callup)
    return _only_request_id(app)


@pytest.fixture
def acme_request_id(client: FlaskClient, app: Flask, acme_callup: dict[str, str]) -> int:
    """A new request of the English acme customer (no pickup locations)."""
    book_acme(client, acme_callup)
    return _only_request_id(app)


@pytest.fixture
def second_client(app: Flask) -> FlaskClient:
    """Another operator, logged in on another client."""
    username, password, name = SECOND_OPERATOR
    with session_for(app) as session:
        add_operator(session, username, password, name)
    client = app.test_client()
    assert log_in(client, username, password).status_code == 303
    return client


def _only_request_id(app: Flask) -> int:
    with session_for(app) as session:
        [found] = session.scalars(select(RentalRequest.id))
        return found


# --- Helpers ------------------------------------------------------------------------------------


def actions_page(client: FlaskClient, request_id: int) -> Page:
    response = client.get(f"/ops/probe/requests/{request_id}")
    assert response.status_code == 200, response.get_data(as_text=True)
    return Page(response)


def notices(response: TestResponse) -> list[str]:
    found = re.findall(
        r'<p class="notice" role="status">(.*?)</p>', response.get_data(as_text=True)
    )
    return [html.unescape(" ".join(text.split())) for text in found]


def shown_notices(client: FlaskClient, request_id: int) -> list[str]:
    """The messages the next page shows (flashed by the last action)."""
    return notices(client.get(f"/ops/probe/requests/{request_id}"))


def submit(
    client: FlaskClient, request_id: int, action: str, page: Page | None = None, **changes: Any
) -> TestResponse:
    """Send the form of ``action`` as a browser would: what the page filled in, with
    ``changes`` typed over it (None leaves a field out)."""
    page = page or actions_page(client, request_id)
    form = page.forms[f"action-{action}"]
    data = {**dict(form.hidden), **form.values, **changes}
    return client.post(form.attrs["action"], data={k: v for k, v in data.items() if v is not None})


def post_action(client: FlaskClient, request_id: int, action: str, **data: Any) -> TestResponse:
    """POST ``action`` with the session's CSRF token and the current version, whether or not
    the page offers it (as a crafted request or an old tab would)."""
    page = actions_page(client, request_id)
    hidden = dict(page.forms["action-po_number"].hidden)
    fields = {"csrf_token": hidden["csrf_token"], "version": hidden["version"], **data}
    return client.post(
        f"/ops/requests/{request_id}/{action}",
        data={k: v for k, v in fields.items() if v is not None},
    )


def valid_data(action: str) -> dict[str, str]:
    """What an operator adds to the page's form for ``action`` to be accepted."""
    if action in ("reject", "cancel"):
        return {"reason": "Er is die week geen auto beschikbaar."}
    if action == "schedule":
        return {"licence_plate": "ab 123 c", "planned_vehicle": VEHICLE}
    return {}


def advance(client: FlaskClient, request_id: int, actions_: list[str]) -> None:
    for action in actions_:
        response = submit(client, request_id, action, **valid_data(action))
        assert response.status_code == 303, response.get_data(as_text=True)


def load(app: Flask, request_id: int) -> RentalRequest:
    with session_for(app) as session:
        found = session.get(RentalRequest, request_id)
        assert found is not None
        return found


def events(app: Flask, request_id: int) -> list[RequestEvent]:
    with session_for(app) as session:
        return list(
            session.scalars(
                select(RequestEvent)
                .where(RequestEvent.request_id == request_id)
                .order_by(RequestEvent.id)
            )
        )


def outbox(app: Flask) -> list[OutboxMessage]:
    with session_for(app) as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def status_counts(app: Flask) -> dict[tuple[str, str], int]:
    with session_for(app) as session:
        rows = session.scalars(select(StatusCount))
        return {(row.customer_id, row.status): row.count for row in rows if row.count}


_STATE_FIELDS = (
    "status",
    "version",
    "updated_at",
    "planned_vehicle",
    "licence_plate",
    "pickup_at",
    "return_at",
    "pickup_location",
    "ops_notes",
    "erp_po_number",
    "reason",
)


def state(app: Flask, request_id: int) -> dict[str, Any]:
    """Everything an action may change: the request, its history, the counts, the outbox."""
    rental = load(app, request_id)
    return {
        **{name: getattr(rental, name) for name in _STATE_FIELDS},
        "events": len(events(app, request_id)),
        "outbox": len(outbox(app)),
        "counts": status_counts(app),
    }


def local(day: date, at: time) -> datetime:
    return datetime.combine(day, at, tzinfo=LOCAL_TIME).astimezone(UTC)


def changed_at(app: Flask, request_id: int) -> str:
    return load(app, request_id).updated_at.astimezone(LOCAL_TIME).strftime("%H:%M")


def another_operator_message(app: Flask, request_id: int, status: str) -> str:
    return (
        f"Een andere medewerker heeft deze aanvraag om {changed_at(app, request_id)} gewijzigd "
        f"(nu: {DUTCH_LABELS[status]}); bekijk de wijziging en probeer het opnieuw."
    )


def refused_message(status: str, target: str) -> str:
    return f"Een aanvraag met status {DUTCH_LABELS[status]} kan niet naar {DUTCH_LABELS[target]}."


# --- The page's forms ---------------------------------------------------------------------------


def test_a_new_request_offers_start_reject_cancel_and_the_po_number(
    ops_client: FlaskClient, app: Flask, request_id: int
) -> None:
    page = actions_page(ops_client, request_id)
    offered = sorted(name for name in page.forms if name.startswith("action-"))
    assert offered == ["action-cancel", "action-po_number", "action-reject", "action-start"]
    version = str(load(app, request_id).version)
    for name in offered:
        hidden = dict(page.forms[name].hidden)
        assert hidden["version"] == version
        assert hidden["csrf_token"]
        assert page.forms[name].attrs["method"] == "post"
    assert page.forms["action-start"].attrs["action"] == f"/ops/requests/{request_id}/start"
    assert page.forms["action-reject"].values == {"reason": ""}


def test_the_schedule_form_proposes_the_requested_days_and_location(
    ops_client: FlaskClient, app: Flask, request_id: int
) -> None:
    advance(ops_client, request_id, ["start"])
    rental = load(app, request_id)
    form = actions_page(ops_client, request_id).forms["action-schedule"]
    assert form.values == {
        "planned_vehicle": rental.vehicle_name,
        "licence_plate": "",
        "pickup_date": rental.start_date.isoformat(),
        "pickup_time": "09:00",
        "return_date": rental.end_date.isoformat(),
        "return_time": "17:00",
        "pickup_location": "Utrecht Papendorp",
        "ops_notes": "",
    }
    assert "action-confirm" not in actions_page(ops_client, request_id).forms


def test_a_scheduled_request_offers_confirm_and_its_planning_to_change(
    ops_client: FlaskClient, app: Flask, request_id: int
) -> None:
    advance(ops_client, request_id, ["start", "schedule"])
    page = actions_page(ops_client, request_id)
    offered = sorted(name for name in page.forms if name.startswith("action-"))
    assert offered == [
        "action-cancel",
        "action-confirm",
        "action-po_number",
        "action-reject",
        "action-schedule",
    ]
    schedule = page.forms["action-schedule"].values
    assert (schedule["planned_vehicle"], schedule["licence_plate"]) == (VEHICLE, "AB-123-C")


@pytest.mark.parametrize("status", ["confirmed", "rejected", "cancelled"])
def test_a_final_request_offers_no_further_actions_but_the_po_number(
    ops_client: FlaskClient, request_id: int, status: str
) -> None:
    advance(ops_client, request_id, PATHS[status])
    response = ops_client.get(f"/ops/probe/requests/{request_id}")
    page = Page(response)
    assert [name for name in page.forms if name.startswith("action-")] == ["action-po_number"]
    assert f"Geen verdere acties (status: {DUTCH_LABELS[status]})." in response.get_data(
        as_text=True
    )


# --- Every transition ---------------------------------------------------------------------------


@pytest.mark.parametrize(("action", "status", "target"), LEGAL)
def test_every_legal_transition_changes_the_request_and_writes_it_down(
    ops_client: FlaskClient,
    app: Flask,
    operator: Any,
    request_id: int,
    action: str,
    status: str,
    target: str,
) -> None:
    advance(ops_client, request_id, PATHS[status])
    before = state(app, request_id)
    data = valid_data(action)
    if status == target:  # scheduled again: with something changed
        data["ops_notes"] = "Klant haalt een uur later op."

    response = submit(ops_client, request_id, action, **data)

    assert response.status_code == 303
    assert response.headers["Location"] == f"/ops/requests/{request_id}"
    after = state(app, request_id)
    assert after["status"] == target
    assert after["version"] == before["version"] + 1
    assert after["events"] == before["events"] + 1
    event = events(app, request_id)[-1]
    assert (event.actor, event.operator_id, event.action) == (
        OPERATOR_USERNAME,
        operator.id,
        action,
    )
    assert (event.from_status, event.to_status) == (status, target)
    assert event.client_address == "127.0.0.1"
    if action in ("reject", "cancel"):
        assert after["reason"] == valid_data(action)["reason"]
        assert event.changes == {"reason": ["", valid_data(action)["reason"]]}
    counts = dict(before["counts"])
    if target != status:
        counts[("demo", status)] -= 1
        counts[("demo", target)] = counts.get(("demo", target), 0) + 1
    assert after["counts"] == {key: count for key, count in counts.items() if count}
    mails = outbox(app)
    if action in MAIL_KINDS:
        assert after["outbox"] == before["outbox"] + 1
        assert (mails[-1].kind, mails[-1].status) == (MAIL_KINDS[action], "pending")
        assert mails[-1].request_id == request_id
    else:
        assert after["outbox"] == before["outbox"]


ILLEGAL = [
    (action, status)
    for action in TRANSITIONS
    for status in STATUS_LABELS
    if (action, status) not in {(a, s) for a, s, _ in LEGAL}
]


@pytest.mark.parametrize(("action", "status"), ILLEGAL)
def test_every_illegal_transition_is_refused_and_changes_nothing(
    ops_client: FlaskClient, app: Flask, request_id: int, action: str, status: str
) -> None:
    advance(ops_client, request_id, PATHS[status])
    before = state(app, request_id)

    response = post_action(ops_client, request_id, action, **valid_data(action))

    assert response.status_code == 409
    assert Page(response).alert == refused_message(status, TRANSITIONS[action].target)
    assert state(app, request_id) == before


def test_confirming_twice_is_refused_and_sends_one_e_mail(
    ops_client: FlaskClient, app: Flask, request_id: int
) -> None:
    advance(ops_client, request_id, ["start", "schedule"])
    page = actions_page(ops_client, request_id)
    assert submit(ops_client, request_id, "confirm", page=page).status_code == 303
    before = state(app, request_id)
    # The same button again, from the same page (a double click, a second tab).
    again = submit(ops_client, request_id, "confirm", page=page)
    assert again.status_code == 409
    assert Page(again).alert == another_operator_message(app, request_id, "confirmed")
    # With the version of now, the workflow itself refuses.
    now = post_action(ops_client, request_id, "confirm")
    assert now.status_code == 409
    assert Page(now).alert == refused_message("confirmed", "confirmed")
    assert state(app, request_id) == before
    assert [m.kind for m in outbox(app)] == ["confirmation"]


# --- The walk through the workflow --------------------------------------------------------------


def test_a_request_walks_from_new_to_confirmed(
    ops_client: FlaskClient, app: Flask, request_id: int
) -> None:
    rental = load(app, request_id)
    assert status_counts(app) == {("demo", "new"): 1}
    assert submit(ops_client, request_id, "start").status_code == 303
    assert shown_notices(ops_client, request_id) == ["Aanvraag FF-000001 is nu in behandeling."]
    assert status_counts(app) == {("demo", "in_progress"): 1}

    response = submit(
        ops_client,
        request_id,
        "schedule",
        planned_vehicle=f"  {VEHICLE} ",
        licence_plate=" ab 123 c",
        pickup_time="08:30",
        return_time="18:15",
        pickup_location="Utrecht Papendorp",
        ops_notes="Sleutel bij de balie.\r\nTank vol.",
    )
    assert response.status_code == 303
    assert shown_notices(ops_client, request_id) == [
        "Aanvraag FF-000001 is ingepland. Bevestig de aanvraag om de aanvrager te mailen."
    ]
    scheduled = load(app, request_id)
    pickup_at = local(rental.start_date, time(8, 30))
    return_at = local(rental.end_date, time(18, 15))
    assert scheduled.status == "scheduled"
    assert (scheduled.planned_vehicle, scheduled.licence_plate) == (VEHICLE, "AB-123-C")
    assert (scheduled.pickup_at, scheduled.return_at) == (pickup_at, return_at)
    assert scheduled.pickup_at.tzinfo is not None
    assert scheduled.pickup_location == "Utrecht Papendorp"
    assert scheduled.ops_notes == "Sleutel bij de balie.\nTank vol."
    assert status_counts(app) == {("demo", "scheduled"): 1}

    assert submit(ops_client, request_id, "confirm").status_code == 303
    assert shown_notices(ops_client, request_id) == [
        "Aanvraag FF-000001 is bevestigd; de bevestigingsmail staat klaar voor verzending."
    ]
    assert load(app, request_id).status == "confirmed"
    assert status_counts(app) == {("demo", "confirmed"): 1}

    history = events(app, request_id)
    assert [(e.action, e.from_status, e.to_status) for e in history] == [
        ("registered", None, "new"),
        ("start", "new", "in_progress"),
        ("schedule", "in_progress", "scheduled"),
        ("confirm", "scheduled", "confirmed"),
    ]
    assert {e.actor for e in history[1:]} == {OPERATOR_USERNAME}
    assert [e.at is not None for e in history] == [True] * 4
    assert history[1].changes == history[3].changes == {}
    assert history[2].changes == {
        "planned_vehicle": [None, VEHICLE],
        "licence_plate": [None, "AB-123-C"],
        "pickup_at": [None, pickup_at.isoformat()],
        "return_at": [None, return_at.isoformat()],
        "pickup_location": [None, "Utrecht Papendorp"],
        "ops_notes": ["", "Sleutel bij de balie.\nTank vol."],
    }
    assert [(m.kind, m.recipient) for m in outbox(app)] == [
        ("confirmation", "jan.jansen@demo.example")
    ]
    assert load(app, request_id).version == rental.version + 3


def test_changing_the_planning_records_only_what_changed(
    ops_client: FlaskClient, app: Flask, request_id: int
) -> None:
    advance(ops_client, request_id, ["start", "schedule"])
    before = state(app, request_id)
    response = submit(ops_client, request_id, "schedule", licence_plate="XY-99-ZZ")
    assert response.status_code == 303
    assert shown_notices(ops_client, request_id) == [
        "De planning van aanvraag FF-000001 is bijgewerkt."
    ]
    after = state(app, request_id)
    assert (after["status"], after["licence_plate"]) == ("scheduled", "XY-99-ZZ")
    assert after["counts"] == before["counts"]
    event = events(app, request_id)[-1]
    assert (event.action, event.from_status, event.to_status) == (
        "schedule",
        "scheduled",
        "scheduled",
    )
    assert event.changes == {"licence_plate": ["AB-123-C", "XY-99-ZZ"]}


def test_sending_the_same_planning_again_changes_nothing(
    ops_client: FlaskClient, app: Flask, request_id: int
) -> None:
    advance(ops_client, request_id, ["start", "schedule"])
    before = state(app, request_id)
    assert submit(ops_client, request_id, "schedule").status_code == 303
    assert shown_notices(ops_client, request_id) == ["Niets gewijzigd aan aanvraag FF-000001."]
    assert state(app, request_id) == before


def test_a_pickup_on_another_day_than_requested_is_allowed_with_a_note(
    ops_client: FlaskClient, app: Flask, request_id: int
) -> None:
    advance(ops_client, request_id, ["start"])
    rental = load(app, request_id)
    earlier = rental.start_date - timedelta(days=1)
    response = submit(
        ops_client, request_id, "schedule", pickup_date=earlier.isoformat(), pickup_time="16:00"
    )
    assert response.status_code == 303
    assert load(app, request_id).pickup_at == local(earlier, time(16, 0))
    shown = shown_notices(ops_client, request_id)
    assert len(shown) == 2
    assert shown[1].startswith("Let op: het ophalen is gepland op ")
    assert "de gevraagde eerste dag is" in shown[1]


def test_a_customer_without_locations_gets_the_location_typed_in(
    ops_client: FlaskClient, app: Flask, acme_request_id: int
) -> None:
    advance(ops_client, acme_request_id, ["start"])
    form = actions_page(ops_client, acme_request_id).forms["action-schedule"]
    assert form.values["pickup_location"] == ""
    refused = submit(ops_client, acme_request_id, "schedule")
    assert refused.status_code == 422
    assert Page(refused).errors == {"schedule-pickup_location": REQUIRED}
    accepted = submit(ops_client, acme_request_id, "schedule", pickup_location="Heathrow T5")
    assert accepted.status_code == 303
    assert load(app, acme_request_id).pickup_location == "Heathrow T5"


# --- Forms with errors --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "errors"),
    [
        ({"planned_vehicle": "  "}, {"schedule-planned_vehicle": REQUIRED}),
        ({"planned_vehicle": None}, {"schedule-planned_vehicle": REQUIRED}),
        (
            {"licence_plate": "AB_123"},
            {"schedule-licence_plate": "Gebruik hoogstens 20 letters, cijfers en streepjes."},
        ),
        (
            {"licence_plate": "A" * 21},
            {"schedule-licence_plate": "Gebruik hoogstens 20 letters, cijfers en streepjes."},
        ),
        ({"pickup_date": ""}, {"schedule-pickup_date": REQUIRED}),
        ({"pickup_time": "9 uur"}, {"schedule-pickup_time": "Ongeldige waarde voor tijd."}),
        (
            {"return_time": "08:59", "return_date": "{start}", "pickup_time": "09:00"},
            {"schedule-return_time": "Het terugbrengen moet na het ophalen liggen."},
        ),
        (
            {"pickup_date": "2027-03-28", "pickup_time": "02:30", "return_date": "2027-03-29"},
            {"schedule-pickup_time": SKIPPED_HOUR},
        ),
        ({"pickup_location": ""}, {"schedule-pickup_location": REQUIRED}),
        (
            {"planned_vehicle": "Polo\nGTI"},
            {"schedule-planned_vehicle": "Gebruik één regel gewone tekst."},
        ),
        ({"ops_notes": "x" * 2001}, {"schedule-ops_notes": "Gebruik hoogstens 2000 tekens."}),
    ],
)
def test_a_schedule_form_with_errors_is_shown_again_and_changes_nothing(
    ops_client: FlaskClient,
    app: Flask,
    request_id: int,
    changes: dict[str, str | None],
    errors: dict[str, str],
) -> None:
    advance(ops_client, request_id, ["start"])
    before = state(app, request_id)
    start = load(app, request_id).start_date.isoformat()
    changes = {k: v.format(start=start) if v else v for k, v in changes.items()}
    typed = {"ops_notes": "Let op de dakdrager", **changes}
    response = submit(ops_client, request_id, "schedule", **typed)
    assert response.status_code == 422
    page = Page(response)
    assert page.alert == NOTHING_CHANGED_422
    assert page.errors == errors
    assert page.invalid == set(errors)
    # What was typed is kept, and the form still carries what it needs to be sent again.
    form = page.forms["action-schedule"]
    if "ops_notes" not in changes:
        assert form.values["ops_notes"] == "Let op de dakdrager"
    assert dict(form.hidden)["version"] == str(before["version"])
    assert state(app, request_id) == before


@pytest.mark.parametrize("action", ["reject", "cancel"])
@pytest.mark.parametrize(
    ("reason", "error"),
    [
        (None, REQUIRED),
        ("", REQUIRED),
        ("   \r\n ", REQUIRED),
        ("ok", "Schrijf tussen de 3 en 1000 tekens."),
        ("x" * 1001, "Schrijf tussen de 3 en 1000 tekens."),
    ],
)
def test_rejecting_or_cancelling_needs_a_reason(
    ops_client: FlaskClient,
    app: Flask,
    request_id: int,
    action: str,
    reason: str | None,
    error: str,
) -> None:
    advance(ops_client, request_id, ["start"])
    before = state(app, request_id)
    response = submit(ops_client, request_id, action, reason=reason)
    assert response.status_code == 422
    page = Page(response)
    assert page.alert == NOTHING_CHANGED_422
    assert page.errors == {f"{action}-reason": error}
    assert state(app, request_id) == before


def test_a_reason_keeps_its_lines(ops_client: FlaskClient, app: Flask, request_id: int) -> None:
    reason = "Geen bestelbus vrij.\r\nProbeer de week erna."
    assert submit(ops_client, request_id, "reject", reason=f"  {reason}\r\n").status_code == 303
    assert load(app, request_id).reason == "Geen bestelbus vrij.\nProbeer de week erna."


# --- The ERP's purchase-order number ------------------------------------------------------------


@pytest.mark.parametrize("status", ["new", "scheduled", "confirmed", "rejected", "cancelled"])
def test_the_po_number_is_saved_in_any_status(
    ops_client: FlaskClient, app: Flask, request_id: int, status: str
) -> None:
    advance(ops_client, request_id, PATHS[status])
    before = state(app, request_id)
    response = submit(ops_client, request_id, "po_number", erp_po_number=" 4500012345/01 ")
    assert response.status_code == 303
    assert shown_notices(ops_client, request_id) == [
        "Inkoopordernummer 4500012345/01 opgeslagen bij aanvraag FF-000001."
    ]
    after = state(app, request_id)
    assert (after["status"], after["erp_po_number"]) == (status, "4500012345/01")
    assert after["version"] == before["version"] + 1
    assert (after["counts"], after["outbox"]) == (before["counts"], before["outbox"])
    event = events(app, request_id)[-1]
    assert (event.action, event.from_status, event.to_status) == ("po_number", status, status)
    assert event.changes == {"erp_po_number": [None, "4500012345/01"]}
    page = actions_page(ops_client, request_id)
    assert page.forms["action-po_number"].values == {"erp_po_number": "4500012345/01"}


@pytest.mark.parametrize(
    ("number", "error"),
    [
        ("", REQUIRED),
        ("4500 0123", "Gebruik hoogstens 100 letters, cijfers en de tekens / _ . -"),
        ("4" * 101, "Gebruik hoogstens 100 letters, cijfers en de tekens / _ . -"),
        ("PO;DROP", "Gebruik hoogstens 100 letters, cijfers en de tekens / _ . -"),
    ],
)
def test_a_malformed_po_number_is_refused(
    ops_client: FlaskClient, app: Flask, request_id: int, number: str, error: str
) -> None:
    before = state(app, request_id)
    response = submit(ops_client, request_id, "po_number", erp_po_number=number)
    assert response.status_code == 422
    assert Page(response).errors == {"po_number-erp_po_number": error}
    assert state(app, request_id) == before


# --- Two operators at once ----------------------------------------------------------------------


def test_of_two_operators_acting_at_once_the_second_is_told_and_changes_nothing(
    ops_client: FlaskClient, second_client: FlaskClient, app: Flask, request_id: int
) -> None:
    advance(ops_client, request_id, ["start"])
    olga_page = actions_page(ops_client, request_id)
    piet_page = actions_page(second_client, request_id)
    assert (
        dict(olga_page.forms["action-schedule"].hidden)["version"]
        == dict(piet_page.forms["action-reject"].hidden)["version"]
    )

    scheduled = submit(ops_client, request_id, "schedule", page=olga_page, **valid_data("schedule"))
    assert scheduled.status_code == 303
    before = state(app, request_id)

    rejected = submit(
        second_client, request_id, "reject", page=piet_page, reason="Geen auto beschikbaar."
    )

    assert rejected.status_code == 409
    page = Page(rejected)
    assert page.alert == another_operator_message(app, request_id, "scheduled")
    assert page.forms == {} or all(not name.startswith("action-") for name in page.forms)
    assert state(app, request_id) == before
    assert before["status"] == "scheduled"
    assert [e.action for e in events(app, request_id)] == ["registered", "start", "schedule"]
    assert outbox(app) == []
    # Having looked again, the second operator can act on what is there now.
    retried = submit(second_client, request_id, "reject", reason="Geen auto beschikbaar.")
    assert retried.status_code == 303
    assert load(app, request_id).status == "rejected"
    assert events(app, request_id)[-1].actor == SECOND_OPERATOR[0]


def test_a_change_committed_between_the_check_and_the_update_makes_the_action_lose(
    ops_client: FlaskClient,
    app: Flask,
    request_id: int,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The race the version check alone cannot close: another operator's change is committed
    after this action read the request and before it writes. The version column makes the
    UPDATE match no row (StaleDataError); the action answers as if it had seen the change.

    On PostgreSQL the other change is a real transaction on another connection. SQLite lets
    one writer in at a time (BEGIN IMMEDIATE), so there the race cannot happen; the version is
    bumped behind the ORM's back on the action's own connection instead, which the UPDATE
    meets the same way."""
    advance(ops_client, request_id, ["start"])
    page = actions_page(ops_client, request_id)
    before = state(app, request_id)
    on_postgresql = database_url.startswith("postgresql")
    original = actions.next_status

    def racing(action: str, status: str) -> str:
        if on_postgresql:
            with session_for(app) as other:
                begin_write(other)
                row = other.get(RentalRequest, request_id)
                assert row is not None
                row.status = "cancelled"
                row.reason = "Geannuleerd door de klant."
                other.commit()
        else:
            get_session().execute(
                update(RentalRequest)
                .where(RentalRequest.id == request_id)
                .values(version=RentalRequest.version + 1)
                .execution_options(synchronize_session=False)
            )
        return original(action, status)

    monkeypatch.setattr(actions, "next_status", racing)
    caplog.set_level(logging.INFO, logger="ociflex.ops.actions")
    response = submit(ops_client, request_id, "reject", page=page, reason="Geen auto vrij.")

    assert response.status_code == 409
    assert "reject by olga lost a race" in caplog.text  # the UPDATE found no row to change
    now = "cancelled" if on_postgresql else "in_progress"
    assert Page(response).alert == another_operator_message(app, request_id, now)
    after = state(app, request_id)
    assert after["status"] == now
    assert after["reason"] == ("Geannuleerd door de klant." if on_postgresql else "")
    assert (after["events"], after["outbox"], after["counts"]) == (
        before["events"],
        before["outbox"],
        before["counts"],
    )


# --- A licence plate planned twice --------------------------------------------------------------

PLATE = "AB-123-C"


def plan_elsewhere(app: Flask, day: date, **values: Any) -> int:
    """Another customer's request planned on :data:`PLATE` from noon on ``day`` (Dutch time)
    to the next morning: the period the punch-out's request is planned for by default."""
    [other] = seed(
        app,
        {
            "customer_id": "acme",
            "status": "scheduled",
            "planned_vehicle": VEHICLE,
            "licence_plate": PLATE,
            "pickup_at": local(day, time(12, 0)),
            "return_at": local(day + timedelta(days=1), time(10, 0)),
            "pickup_location": "Utrecht Papendorp",
            **values,
        },
    )
    return other


def short(moment: datetime) -> str:
    """A moment as the operations pages write it short: Dutch time."""
    return moment.astimezone(LOCAL_TIME).strftime("%d-%m-%Y, %H:%M")


def warned_of(response: TestResponse) -> list[str]:
    """The requests the warning at the plate names, each as its line reads."""
    assert response.status_code == 422, response.get_data(as_text=True)
    page = Page(response)
    assert page.elements["schedule-licence_plate"]["aria-describedby"] == "schedule-conflicts"
    assert "plan_anyway" not in page.forms["action-schedule"].values  # offered unticked
    items = page.root.xpath('//*[@id="schedule-conflicts"]//li')
    return [" ".join(text_of(item).split()) for item in items]


def warning_line(app: Flask, request_id: int) -> str:
    rental = load(app, request_id)
    assert rental.pickup_at is not None
    assert rental.return_at is not None
    customer = "ACME Procurement Ltd" if rental.customer_id == "acme" else "Demo Inkoop B.V."
    return f"{rental.reference}, {customer}, {short(rental.pickup_at)} – {short(rental.return_at)}"


def test_a_plate_planned_for_another_customer_in_that_period_is_a_warning_and_nothing_is_saved(
    ops_client: FlaskClient, app: Flask, request_id: int
) -> None:
    advance(ops_client, request_id, ["start"])
    other = plan_elsewhere(app, load(app, request_id).start_date)
    before = state(app, request_id)

    response = submit(ops_client, request_id, "schedule", **valid_data("schedule"))

    assert warned_of(response) == [warning_line(app, other)]
    page = Page(response)
    assert ({"href": f"/ops/requests/{other}"}, "FF-000002") in page.links
    assert len(page.alerts) == 1
    form = page.forms["action-schedule"]
    assert (form.values["licence_plate"], dict(form.hidden)["seen_conflicts"]) == (
        PLATE,
        str(other),
    )
    assert state(app, request_id) == before


def test_planning_anyway_saves_the_plan_and_its_history_records_the_confirmed_conflict(
    ops_client: FlaskClient, app: Flask, request_id: int
) -> None:
    advance(ops_client, request_id, ["start"])
    other = plan_elsewhere(app, load(app, request_id).start_date)
    warning = Page(submit(ops_client, request_id, "schedule", **valid_data("schedule")))

    response = submit(ops_client, request_id, "schedule", page=warning, plan_anyway="y")

    assert response.status_code == 303
    rental = load(app, request_id)
    assert (rental.status, rental.licence_plate) == ("scheduled", PLATE)
    event = events(app, request_id)[-1]
    assert event.action == "schedule"
    assert event.changes["confirmed_conflicts"] == [None, ["FF-000002"]]
    assert event.changes["licence_plate"] == [None, PLATE]
    assert load(app, other).licence_plate == PLATE  # the other plan keeps the vehicle too


def test_plan_anyway_confirms_only_the_requests_the_warning_named(
    ops_client: FlaskClient, app: Flask, request_id: int
) -> None:
    advance(ops_client, request_id, ["start"])
    other = plan_elsewhere(app, load(app, request_id).start_date)
    # A form that claims the operator saw the conflict with another request only.
    crafted = {**valid_data("schedule"), "plan_anyway": "y", "seen_conflicts": str(other + 1)}

    response = submit(ops_client, request_id, "schedule", **crafted)

    assert warned_of(response) == [warning_line(app, other)]
    assert load(app, request_id).status == "in_progress"


def test_a_conflict_planned_meanwhile_is_warned_of_before_the_plan_is_saved(
    ops_client: FlaskClient, second_client: FlaskClient, app: Flask, request_id: int
) -> None:
    advance(ops_client, request_id, ["start"])
    day = load(app, request_id).start_date
    first = plan_elsewhere(app, day)
    warning = Page(submit(ops_client, request_id, "schedule", **valid_data("schedule")))
    # While Olga reads the warning, Piet plans a third request on the plate, confirming the
    # conflict with the first.
    [third] = seed(app, {"status": "in_progress", "location": "Utrecht Papendorp"})
    plan = {**valid_data("schedule"), "pickup_date": day.isoformat(), "pickup_time": "07:00"}
    plan |= {"return_date": day.isoformat(), "return_time": "13:00"}
    piet_warning = Page(submit(second_client, third, "schedule", **plan))
    assert (
        submit(second_client, third, "schedule", page=piet_warning, plan_anyway="y").status_code
        == 303
    )
    before = state(app, request_id)

    again = submit(ops_client, request_id, "schedule", page=warning, plan_anyway="y")

    assert warned_of(again) == [warning_line(app, first), warning_line(app, third)]
    assert state(app, request_id) == before
    confirmed = submit(ops_client, request_id, "schedule", page=Page(again), plan_anyway="y")
    assert confirmed.status_code == 303
    assert events(app, request_id)[-1].changes["confirmed_conflicts"] == [
        None,
        [load(app, first).reference, load(app, third).reference],
    ]


def test_a_plan_in_confirmed_conflict_is_checked_again_only_when_its_plate_or_period_changes(
    ops_client: FlaskClient, app: Flask, request_id: int
) -> None:
    advance(ops_client, request_id, ["start"])
    other = plan_elsewhere(app, load(app, request_id).start_date)
    warning = Page(submit(ops_client, request_id, "schedule", **valid_data("schedule")))
    assert (
        submit(ops_client, request_id, "schedule", page=warning, plan_anyway="y").status_code == 303
    )

    notes = submit(ops_client, request_id, "schedule", ops_notes="Sleutel bij de balie.")
    assert notes.status_code == 303
    assert "confirmed_conflicts" not in events(app, request_id)[-1].changes
    later = submit(ops_client, request_id, "schedule", pickup_time="10:00")
    assert warned_of(later) == [warning_line(app, other)]
    elsewhere = submit(ops_client, request_id, "schedule", licence_plate="XY-99-ZZ")
    assert elsewhere.status_code == 303
    assert load(app, request_id).licence_plate == "XY-99-ZZ"


def test_a_stale_form_is_refused_before_the_plate_is_looked_at(
    ops_client: FlaskClient, app: Flask, request_id: int
) -> None:
    advance(ops_client, request_id, ["start"])
    plan_elsewhere(app, load(app, request_id).start_date)
    warning = Page(submit(ops_client, request_id, "schedule", **valid_data("schedule")))
    assert (
        submit(ops_client, request_id, "po_number", erp_po_number="4500012345").status_code == 303
    )
    before = state(app, request_id)

    response = submit(ops_client, request_id, "schedule", page=warning, plan_anyway="y")

    assert response.status_code == 409
    assert Page(response).alert == another_operator_message(app, request_id, "in_progress")
    assert state(app, request_id) == before


def _transactions_waiting_for_a_plate(app: Flask) -> int:
    with session_for(app) as session:
        waiting = session.scalar(
            text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
        )
        return int(waiting or 0)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_of_two_operators_planning_one_plate_at_once_the_second_is_warned(
    ops_client: FlaskClient,
    second_client: FlaskClient,
    app: Flask,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Olga and Piet plan two requests on one plate at the same moment: Piet's plan arrives
    after Olga's transaction checked the plate and before it saved her plan. His check waits
    for her transaction to end, sees her plan and is refused with the warning: neither plan
    passes unseen. (Piet's request runs in a thread of its own, on its own connection.)"""
    olgas, piets = seed(
        app,
        {"status": "in_progress", "location": "Utrecht Papendorp"},
        {"status": "in_progress", "location": "Rotterdam Alexander", "customer_id": "acme"},
    )
    olga_page, piet_page = actions_page(ops_client, olgas), actions_page(second_client, piets)
    piet_answers: list[TestResponse] = []

    def piet_plans() -> None:
        response = submit(
            second_client, piets, "schedule", page=piet_page, **valid_data("schedule")
        )
        piet_answers.append(response)

    piet = threading.Thread(target=piet_plans)
    original = actions.conflicts_with

    def piet_arrives_after_olgas_check(session: Session, plan: Plan) -> list[Plan]:
        found = original(session, plan)
        if threading.current_thread() is threading.main_thread():
            piet.start()
            deadline = monotonic() + 10
            while piet.is_alive() and not _transactions_waiting_for_a_plate(app):
                assert monotonic() < deadline, "Piet's plan neither waited nor finished"
                sleep(0.05)
        return found

    monkeypatch.setattr(actions, "conflicts_with", piet_arrives_after_olgas_check)

    olgas_answer = submit(ops_client, olgas, "schedule", page=olga_page, **valid_data("schedule"))
    piet.join(timeout=10)

    assert olgas_answer.status_code == 303
    [piets_answer] = piet_answers
    assert [line.split(",")[0] for line in warned_of(piets_answer)] == ["FF-000001"]
    assert (load(app, olgas).status, load(app, olgas).licence_plate) == ("scheduled", PLATE)
    assert (load(app, piets).status, load(app, piets).licence_plate) == ("in_progress", None)


# --- E-mail to the requester, through a real SMTP server ----------------------------------------


def test_confirming_sends_one_dutch_confirmation(
    ops_client: FlaskClient, app: Flask, request_id: int, sink: SmtpSink
) -> None:
    advance(ops_client, request_id, ["start", "schedule", "confirm"])
    [queued] = outbox(app)
    assert (queued.kind, queued.status, queued.attempts) == ("confirmation", "pending", 0)
    assert sink.messages == []

    report = send_due(app)

    assert report.sent == 1
    [mail] = sink.wait_for(1)
    assert mail.rcpt_tos == ["jan.jansen@demo.example"]
    assert mail.message["Subject"] == "Bevestigd: uw FlexFleet-reservering FF-000001"
    assert mail.message["Message-ID"] == queued.message_id
    text = mail.message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "Beste Jan Jansen," in text
    assert VEHICLE in text
    assert "AB-123-C" in text
    assert [part.get_filename() for part in mail.message.iter_attachments()] == ["FF-000001.ics"]
    assert outbox(app)[0].status == "sent"
    assert send_due(app).claimed == 0
    assert len(sink.messages) == 1


def test_a_confirmation_while_the_mail_server_is_down_is_sent_once_it_is_back(
    ops_client: FlaskClient, app: Flask, request_id: int, sink: SmtpSink
) -> None:
    advance(ops_client, request_id, ["start", "schedule"])
    sink.stop()

    response = submit(ops_client, request_id, "confirm")

    assert response.status_code == 303
    assert load(app, request_id).status == "confirmed"
    failed = send_due(app)
    assert (failed.sent, failed.retried) == (0, 1)
    [waiting] = outbox(app)
    assert (waiting.status, waiting.attempts) == ("pending", 1)
    assert "ConnectionRefusedError" in waiting.last_error
    assert sink.messages == []

    sink.start()
    later = waiting.next_attempt_at + timedelta(seconds=1)
    assert send_due(app, now=later).sent == 1
    [mail] = sink.wait_for(1)
    assert mail.message["Subject"] == "Bevestigd: uw FlexFleet-reservering FF-000001"
    assert send_due(app, now=later + timedelta(hours=2)).claimed == 0
    assert len(sink.messages) == 1
    assert [(m.status, m.attempts) for m in outbox(app)] == [("sent", 2)]


def test_the_rejection_e_mail_carries_the_reason(
    ops_client: FlaskClient, app: Flask, request_id: int, sink: SmtpSink
) -> None:
    reason = "In die week is geen compacte auto beschikbaar.\nEen bestelbus kan wel."
    assert submit(ops_client, request_id, "reject", reason=reason).status_code == 303
    assert shown_notices(ops_client, request_id) == [
        "Aanvraag FF-000001 is afgewezen; de afwijzingsmail met de reden staat klaar voor "
        "verzending."
    ]
    assert send_due(app).sent == 1
    [mail] = sink.wait_for(1)
    assert mail.message["Subject"] == "Uw FlexFleet-aanvraag FF-000001 is afgewezen"
    text = mail.message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "In die week is geen compacte auto beschikbaar." in text
    assert "Een bestelbus kan wel." in text


def test_the_cancellation_e_mail_is_in_the_requesters_language(
    ops_client: FlaskClient, app: Flask, acme_request_id: int, sink: SmtpSink
) -> None:
    advance(ops_client, acme_request_id, ["start"])
    reason = "The requester no longer needs the car."
    assert submit(ops_client, acme_request_id, "cancel", reason=reason).status_code == 303
    assert send_due(app).sent == 1
    [mail] = sink.wait_for(1)
    assert mail.rcpt_tos == ["jane.smith@acme.example"]
    assert mail.message["Subject"] == "Your FlexFleet rental FF-000001 has been cancelled"
    assert reason in mail.message.get_body(("plain",)).get_content()  # type: ignore[union-attr]


# --- Refused before anything is looked at -------------------------------------------------------


@pytest.mark.parametrize("token", [None, "", "not-the-sessions-token"])
def test_an_action_without_the_csrf_token_is_refused(
    ops_client: FlaskClient, app: Flask, request_id: int, token: str | None
) -> None:
    before = state(app, request_id)
    response = post_action(ops_client, request_id, "reject", reason="Geen auto.", csrf_token=token)
    assert response.status_code == 400
    assert state(app, request_id) == before


def test_an_action_without_a_login_is_refused(
    app: Flask, ops_client: FlaskClient, request_id: int
) -> None:
    before = state(app, request_id)
    stranger = app.test_client()
    token = csrf_token_in(stranger.get("/ops/login").get_data(as_text=True))
    response = stranger.post(
        f"/ops/requests/{request_id}/start",
        data={"csrf_token": token, "version": str(before["version"])},
    )
    assert response.status_code == 401
    assert state(app, request_id) == before


@pytest.mark.parametrize("version", [None, "", "abc", "-1"])
def test_an_action_without_a_version_is_refused(
    ops_client: FlaskClient, app: Flask, request_id: int, version: str | None
) -> None:
    before = state(app, request_id)
    response = post_action(ops_client, request_id, "start", version=version)
    assert response.status_code == 400
    assert Page(response).alert == (
        "Dit formulier is onvolledig. Laad de pagina van de aanvraag opnieuw en probeer het "
        "nog eens."
    )
    assert state(app, request_id) == before


def test_unknown_actions_and_requests_are_not_found(
    ops_client: FlaskClient, app: Flask, request_id: int
) -> None:
    assert post_action(ops_client, request_id, "approve").status_code == 404
    assert post_action(ops_client, request_id, "Start").status_code == 404
    token = dict(actions_page(ops_client, request_id).forms["action-start"].hidden)
    assert ops_client.post("/ops/requests/999/start", data=token).status_code == 404
    assert ops_client.get(f"/ops/requests/{request_id}/start").status_code == 405
    assert load(app, request_id).status == "new"


def test_the_request_page_shows_the_actions(
    ops_client: FlaskClient, app: Flask, request_id: int
) -> None:
    """The request page (built with the inbox) includes templates/ops/_actions.html."""
    if "ops.request_detail" not in app.view_functions:
        pytest.skip("the request page (ociflex.ops.request_page) is not part of the app yet")
    response = ops_client.get(f"/ops/requests/{request_id}")
    assert response.status_code == 200
    page = Page(response)
    assert "action-start" in page.forms
    assert submit(ops_client, request_id, "start", page=page).status_code == 303
