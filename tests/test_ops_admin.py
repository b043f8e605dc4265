"""Admins manage the operators at /ops/operators: the list with each account's state and
lockout, adding an operator, a new password, disabling (sessions end at once), enabling,
lifting a lockout, granting and revoking the admin right; every change a POST with the CSRF
token, recorded in the trail; others get 403; the last active admin stays. On SQLite and
PostgreSQL."""

from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from ociflex.db import session_for
from ociflex.models import LoginAttempt, Operator, OperatorEvent
from ociflex.models.base import utcnow
from ociflex.ops.operators import NAME_LOCKOUT_FAILURES, add_operator, set_admin
from tests.conftest import csrf_token_in, log_in
from tests.support.html import Html

PIET_PASSWORD = "piet-staple-battery-7"
NEW_PASSWORD = "a-brand-new-secret-9"
#: An address from which someone guessed piet's password.
ATTACKER = "203.0.113.66"


@pytest.fixture
def admin_client(app: Flask, operator: Operator, ops_client: FlaskClient) -> FlaskClient:
    """``ops_client``, logged in as olga, whom the command line made an admin."""
    with session_for(app) as session:
        set_admin(session, "olga", True)
    return ops_client


@pytest.fixture
def piet(app: Flask) -> Operator:
    """An operator who is no admin."""
    with session_for(app) as session:
        return add_operator(session, "piet", PIET_PASSWORD, "Piet Jansen")


def _stored(app: Flask, username: str) -> Operator:
    with session_for(app) as session:
        operator = session.scalar(select(Operator).where(Operator.username == username))
    assert operator is not None
    return operator


def _post(client: FlaskClient, path: str, data: dict[str, str] | None = None) -> TestResponse:
    """A POST as the browser sends it: with the CSRF token of a page the client got."""
    token = csrf_token_in(client.get("/ops/").get_data(as_text=True))
    return client.post(path, data={"csrf_token": token, **(data or {})})


def _change(client: FlaskClient, username: str, change: str) -> TestResponse:
    return _post(client, f"/ops/operators/{username}/{change}")


def _rows(client: FlaskClient) -> dict[str, list[str]]:
    """User name -> the cells of its row on the operators page."""
    page = Html(client.get("/ops/operators"))
    return {cells[0]: [cell.strip() for cell in cells] for cells in page.tables["operators"]}


def _buttons(client: FlaskClient, username: str) -> list[str]:
    """The changes the operators page offers for ``username``."""
    page = Html(client.get("/ops/operators"))
    xpath = f'//tr[@data-username="{username}"]//button/@data-change'
    return [str(change) for change in page.root.xpath(xpath)]


def _trail(app: Flask) -> list[tuple[str | None, str, str, str | None]]:
    """(actor, action, operator, address) of each trail entry, oldest first."""
    with session_for(app) as session:
        events = session.scalars(select(OperatorEvent).order_by(OperatorEvent.id)).all()
        names = dict(session.execute(select(Operator.id, Operator.username)).all())
    return [
        (names.get(e.actor_id), e.action, names[e.operator_id], e.client_address) for e in events
    ]


def _lock_out(app: Flask, username: str, address: str = ATTACKER) -> None:
    """Failed logins of ``username`` from ``address`` a minute ago, enough to lock it there."""
    with session_for(app) as session:
        session.add_all(
            LoginAttempt(
                username=username,
                client_address=address,
                at=utcnow() - timedelta(minutes=1),
                succeeded=False,
            )
            for _ in range(NAME_LOCKOUT_FAILURES)
        )
        session.commit()


# --- Who may ---------------------------------------------------------------------------------


def test_an_admin_sees_every_operator_with_state_and_a_link_in_the_header(
    app: Flask, admin_client: FlaskClient, piet: Operator
) -> None:
    response = admin_client.get("/ops/operators")

    assert response.status_code == 200
    page = Html(response)
    assert page.href("nav-operators") == "/ops/operators"
    rows = _rows(admin_client)
    assert list(rows) == ["olga", "piet"]
    assert rows["piet"][1] == "Piet Jansen"
    # Olga is active and an admin, and logged in; piet is active, no admin, never logged in.
    yes, no = rows["olga"][2], rows["piet"][3]
    assert yes != no
    assert rows["olga"][2:4] == [yes, yes]
    assert rows["piet"][2:4] == [yes, no]
    assert rows["olga"][4] != rows["piet"][4]
    assert rows["piet"][5] == "–"
    assert _buttons(admin_client, "piet") == ["disable", "grant-admin"]
    assert _buttons(admin_client, "olga") == ["disable", "revoke-admin"]


def test_an_operator_who_is_no_admin_gets_403_and_changes_nothing(
    app: Flask, ops_client: FlaskClient, piet: Operator
) -> None:
    assert "nav-operators" not in ops_client.get("/ops/").get_data(as_text=True)

    for path in ("/ops/operators", "/ops/operators/add", "/ops/operators/piet/password"):
        response = ops_client.get(path)
        assert response.status_code == 403, path
        assert Html(response).alerts
    response = _change(ops_client, "piet", "disable")

    assert response.status_code == 403
    assert _stored(app, "piet").active
    assert _change(ops_client, "olga", "grant-admin").status_code == 403
    assert not _stored(app, "olga").admin


def test_without_a_session_the_operators_page_goes_to_the_login(app: Flask) -> None:
    response = app.test_client().get("/ops/operators")

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/ops/login?next=/ops/operators")


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/ops/operators/piet/disable", {}),
        ("/ops/operators/piet/grant-admin", {}),
        ("/ops/operators/piet/lift-lockout", {}),
        (
            "/ops/operators/piet/password",
            {"password": NEW_PASSWORD, "password_again": NEW_PASSWORD},
        ),
        (
            "/ops/operators/add",
            {"username": "kees", "password": NEW_PASSWORD, "password_again": NEW_PASSWORD},
        ),
    ],
)
def test_a_change_without_the_csrf_token_is_refused_and_nothing_is_stored(
    app: Flask, admin_client: FlaskClient, piet: Operator, path: str, data: dict[str, str]
) -> None:
    trail_before = _trail(app)

    response = admin_client.post(path, data=data)

    assert response.status_code == 400
    assert _trail(app) == trail_before
    assert _stored(app, "piet").active
    assert not _stored(app, "piet").admin


# --- The changes -----------------------------------------------------------------------------


def test_an_added_operator_can_log_in_with_the_password_the_admin_typed(
    app: Flask, admin_client: FlaskClient
) -> None:
    page = Html(admin_client.get("/ops/operators/add"))
    assert page.root.xpath('//form[@id="operator-form"]//input/@name') == [
        "csrf_token",
        "username",
        "display_name",
        "password",
        "password_again",
        "admin",
    ]

    response = _post(
        admin_client,
        "/ops/operators/add",
        {
            "username": "Kees",
            "display_name": "Kees de Boer",
            "password": NEW_PASSWORD,
            "password_again": NEW_PASSWORD,
        },
    )

    assert response.status_code == 303
    assert response.headers["Location"] == "/ops/operators"
    kees = _stored(app, "kees")
    assert (kees.display_name, kees.active, kees.admin) == ("Kees de Boer", True, False)
    assert NEW_PASSWORD not in admin_client.get("/ops/operators").get_data(as_text=True)
    assert log_in(app.test_client(), "kees", NEW_PASSWORD).status_code == 303


def test_an_operator_added_as_admin_may_manage_the_operators(
    app: Flask, admin_client: FlaskClient
) -> None:
    data = {"username": "kees", "password": NEW_PASSWORD, "password_again": NEW_PASSWORD}

    response = _post(admin_client, "/ops/operators/add", {**data, "admin": "y"})

    assert response.status_code == 303
    kees = app.test_client()
    log_in(kees, "kees", NEW_PASSWORD)
    assert kees.get("/ops/operators").status_code == 200


@pytest.mark.parametrize(
    ("data", "invalid"),
    [
        (
            {"username": "kees", "password": NEW_PASSWORD, "password_again": "another-secret-1"},
            {"password_again"},
        ),
        ({"username": "", "password": NEW_PASSWORD, "password_again": NEW_PASSWORD}, {"username"}),
        (
            {"username": "kees", "password": "", "password_again": ""},
            {"password", "password_again"},
        ),
    ],
)
def test_an_add_form_with_a_field_in_error_is_shown_again_and_stores_nothing(
    app: Flask, admin_client: FlaskClient, data: dict[str, str], invalid: set[str]
) -> None:
    response = _post(admin_client, "/ops/operators/add", data)

    assert response.status_code == 422
    page = Html(response)
    assert page.invalid == invalid
    assert NEW_PASSWORD not in page.source
    assert list(_rows(admin_client)) == ["olga"]


@pytest.mark.parametrize(
    "data",
    [
        {"username": "kees jansen", "password": NEW_PASSWORD, "password_again": NEW_PASSWORD},
        {"username": "kees", "password": "too-short", "password_again": "too-short"},
        {"username": "OLGA", "password": NEW_PASSWORD, "password_again": NEW_PASSWORD},
    ],
)
def test_an_add_the_rules_refuse_says_why_and_stores_nothing(
    app: Flask, admin_client: FlaskClient, data: dict[str, str]
) -> None:
    trail_before = _trail(app)

    response = _post(admin_client, "/ops/operators/add", data)

    assert response.status_code == 422
    assert len(Html(response).alerts) == 1
    assert list(_rows(admin_client)) == ["olga"]
    assert _trail(app) == trail_before


def test_disabling_ends_the_operators_sessions_at_once_and_enabling_lets_them_in_again(
    app: Flask, admin_client: FlaskClient, piet: Operator
) -> None:
    piets_browser = app.test_client()
    log_in(piets_browser, "piet", PIET_PASSWORD)
    assert piets_browser.get("/ops/").status_code == 200

    response = _change(admin_client, "piet", "disable")

    assert response.status_code == 303
    assert piets_browser.get("/ops/").status_code == 302
    assert not _stored(app, "piet").active
    assert log_in(piets_browser, "piet", PIET_PASSWORD).status_code == 401
    assert _buttons(admin_client, "piet")[0] == "enable"

    assert _change(admin_client, "piet", "enable").status_code == 303
    assert log_in(piets_browser, "piet", PIET_PASSWORD).status_code == 303


def test_a_new_password_replaces_the_old_one_and_ends_the_sessions(
    app: Flask, admin_client: FlaskClient, piet: Operator
) -> None:
    piets_browser = app.test_client()
    log_in(piets_browser, "piet", PIET_PASSWORD)
    assert Html(admin_client.get("/ops/operators/piet/password")).forms["operator-form"]

    response = _post(
        admin_client,
        "/ops/operators/piet/password",
        {"password": NEW_PASSWORD, "password_again": NEW_PASSWORD},
    )

    assert response.status_code == 303
    assert piets_browser.get("/ops/").status_code == 302
    assert log_in(app.test_client(), "piet", PIET_PASSWORD).status_code == 401
    assert log_in(app.test_client(), "piet", NEW_PASSWORD).status_code == 303


def test_a_new_password_the_rules_refuse_changes_nothing(
    app: Flask, admin_client: FlaskClient, piet: Operator
) -> None:
    response = _post(
        admin_client, "/ops/operators/piet/password", {"password": "piet", "password_again": "piet"}
    )

    assert response.status_code == 422
    assert len(Html(response).alerts) == 1
    assert log_in(app.test_client(), "piet", PIET_PASSWORD).status_code == 303


def test_lifting_a_lockout_lets_the_operator_log_in_again(
    app: Flask, admin_client: FlaskClient, piet: Operator
) -> None:
    _lock_out(app, "piet")
    attackers_desk = {"environ_base": {"REMOTE_ADDR": ATTACKER}}
    assert log_in(app.test_client(), "piet", PIET_PASSWORD, **attackers_desk).status_code == 429
    assert _rows(admin_client)["piet"][5] != "–"
    assert "lift-lockout" in _buttons(admin_client, "piet")

    response = _change(admin_client, "piet", "lift-lockout")

    assert response.status_code == 303
    assert _rows(admin_client)["piet"][5] == "–"
    assert log_in(app.test_client(), "piet", PIET_PASSWORD, **attackers_desk).status_code == 303


def test_granting_and_revoking_the_admin_right_opens_and_closes_the_page(
    app: Flask, admin_client: FlaskClient, piet: Operator
) -> None:
    piets_browser = app.test_client()
    log_in(piets_browser, "piet", PIET_PASSWORD)

    assert _change(admin_client, "piet", "grant-admin").status_code == 303
    assert piets_browser.get("/ops/operators").status_code == 200

    assert _change(admin_client, "piet", "revoke-admin").status_code == 303
    assert piets_browser.get("/ops/operators").status_code == 403


@pytest.mark.parametrize("change", ["disable", "revoke-admin"])
def test_the_last_active_admin_cannot_disable_or_unadmin_themselves(
    app: Flask, admin_client: FlaskClient, piet: Operator, change: str
) -> None:
    trail_before = _trail(app)

    response = _change(admin_client, "olga", change)

    assert response.status_code == 409
    assert len(Html(response).alerts) == 1
    olga = _stored(app, "olga")
    assert olga.active
    assert olga.admin
    assert _trail(app) == trail_before
    assert admin_client.get("/ops/operators").status_code == 200


def test_an_admin_may_step_down_while_another_admin_remains(
    app: Flask, admin_client: FlaskClient, piet: Operator
) -> None:
    _change(admin_client, "piet", "grant-admin")

    response = _change(admin_client, "olga", "revoke-admin")

    assert response.status_code == 303
    assert admin_client.get("/ops/operators").status_code == 403
    assert _stored(app, "piet").admin


def test_a_disabled_admin_does_not_count_as_the_one_that_remains(
    app: Flask, admin_client: FlaskClient, piet: Operator
) -> None:
    _change(admin_client, "piet", "grant-admin")
    _change(admin_client, "piet", "disable")

    assert _change(admin_client, "olga", "revoke-admin").status_code == 409


def test_a_change_for_an_unknown_operator_is_404(admin_client: FlaskClient) -> None:
    assert _change(admin_client, "nobody", "disable").status_code == 404
    assert admin_client.get("/ops/operators/nobody/password").status_code == 404
    assert _change(admin_client, "nobody", "delete").status_code == 404


# --- The trail -------------------------------------------------------------------------------


def test_the_trail_records_who_did_what_to_whom_from_where_and_the_page_shows_it_newest_first(
    app: Flask, admin_client: FlaskClient, piet: Operator
) -> None:
    _lock_out(app, "piet")
    for change in ("disable", "enable", "grant-admin", "revoke-admin", "lift-lockout"):
        assert _change(admin_client, "piet", change).status_code == 303
    password = {"password": NEW_PASSWORD, "password_again": NEW_PASSWORD}
    _post(admin_client, "/ops/operators/piet/password", password)
    _post(admin_client, "/ops/operators/add", {"username": "kees", **password})

    trail = _trail(app)

    by_olga = [
        ("olga", action, whom, "127.0.0.1")
        for action, whom in [
            ("disable", "piet"),
            ("enable", "piet"),
            ("grant_admin", "piet"),
            ("revoke_admin", "piet"),
            ("lift_lockout", "piet"),
            ("set_password", "piet"),
            ("add", "kees"),
        ]
    ]
    # Before: the fixtures' changes on the command line (olga and piet added, olga made admin).
    assert trail[-len(by_olga) :] == by_olga
    assert trail[: -len(by_olga)] == [
        (None, "add", "olga", None),
        (None, "grant_admin", "olga", None),
        (None, "add", "piet", None),
    ]
    shown = Html(admin_client.get("/ops/operators")).tables["trail"]
    assert [(row[1], row[3], row[4]) for row in shown[:2]] == [
        ("olga", "kees", "127.0.0.1"),
        ("olga", "piet", "127.0.0.1"),
    ]
    assert len(shown) == len(trail)
    assert shown[-1][1] != "olga"
