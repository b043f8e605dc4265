"""Operators log in at /ops/login: generic failures, slow-down and lockout shared by every
worker through the database (a stranger's address locked out while the operator logs in from
her own), server-side sessions that logout, disabling and idleness end at once, cookie flags,
CSRF, no framing and no open redirect. On SQLite and PostgreSQL."""

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask, render_template_string
from flask.testing import FlaskClient
from sqlalchemy import select, update
from werkzeug.test import TestResponse

from ociflex import create_app
from ociflex.db import session_for
from ociflex.models import LoginAttempt, Operator, OperatorSession
from ociflex.models.base import utcnow
from ociflex.ops import operators
from ociflex.ops.auth import client_address, current_operator, local_next, login_required
from ociflex.ops.operators import SLOW_DOWN_MAX
from ociflex.ops.sessions import token_hash
from ociflex.settings import SettingsError, from_environment
from tests.conftest import OPERATOR_PASSWORD, PRODUCTION_SECRET_KEY, csrf_token_in, log_in
from tests.support.html import Html

GENERIC_FAILURE = "Onbekende gebruikersnaam of verkeerd wachtwoord."
SESSION_ENDED = "Uw sessie is beëindigd. Log opnieuw in."
PROBE = "/ops/probe"

PROBE_PAGE = """{% extends "ops/base.html" %}
{% block ops_content %}<p id="who">{{ who }}</p>{% endblock %}"""


def _probe() -> str:
    operator = current_operator()
    return render_template_string(PROBE_PAGE, who=f"{operator.username}@{client_address()}")


def _with_probe(app: Flask) -> Flask:
    """A protected page in the ops blueprint (the inbox is built elsewhere): its endpoint name
    puts it under the blueprint's hooks (frame-ancestors, CSRF)."""
    app.add_url_rule(
        PROBE, endpoint="ops.probe", view_func=login_required(_probe), methods=["GET", "POST"]
    )
    return app


@pytest.fixture
def app(environ: dict[str, str]) -> Iterator[Flask]:
    app = _with_probe(create_app(environ))
    yield app
    app.extensions["ociflex.engine"].dispose()


def _html(response) -> str:  # type: ignore[no-untyped-def]
    return response.get_data(as_text=True)


def _server_token(client: FlaskClient) -> str:
    """The server-side session token inside the client's signed session cookie."""
    with client.session_transaction("/ops/") as session:
        return session["ops"]


def _session_cookie(client: FlaskClient) -> str:
    cookie = client.get_cookie("ociflex_ops", path="/ops")
    assert cookie is not None
    return cookie.value


# --- Logging in --------------------------------------------------------------------------------


def test_login_page_is_dutch_never_framed_and_never_cached(app: Flask) -> None:
    response = app.test_client().get("/ops/login")

    assert response.status_code == 200
    html = _html(response)
    assert '<html lang="nl">' in html
    assert "Inloggen" in html
    assert "Gebruikersnaam" in html
    assert response.headers["Cache-Control"] == "no-store"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def test_login_opens_a_server_side_session_and_goes_to_the_inbox(
    app: Flask, operator: Operator
) -> None:
    client = app.test_client()

    response = log_in(client)

    assert response.status_code == 303
    assert response.headers["Location"] == "/ops/"
    page = client.get(PROBE)
    assert page.status_code == 200
    assert '<p id="who">olga@127.0.0.1</p>' in _html(page)
    assert "Ingelogd als Olga Visser" in _html(page)
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    assert page.headers["Cache-Control"] == "no-store"
    with session_for(app) as session:
        stored = session.scalars(select(OperatorSession)).one()
        olga = session.get(Operator, operator.id)
        attempts = session.scalars(select(LoginAttempt)).all()
    assert stored.operator_id == operator.id
    assert stored.client_address == "127.0.0.1"
    assert stored.ended_at is None
    assert len(stored.token_hash) == 64  # only the hash of the cookie's token is stored
    assert stored.token_hash not in _session_cookie(client)
    assert olga is not None
    assert olga.last_login_at is not None
    assert [(a.username, a.succeeded) for a in attempts] == [("olga", True)]


def test_user_name_is_not_case_sensitive(app: Flask, operator: Operator) -> None:
    assert log_in(app.test_client(), " OLGA ").status_code == 303


@pytest.mark.parametrize(
    ("username", "password"),
    [("olga", "not-her-password"), ("nobody", "not-her-password"), ("nobody", OPERATOR_PASSWORD)],
)
def test_a_failed_login_says_the_same_for_every_cause_and_opens_no_session(
    app: Flask, operator: Operator, username: str, password: str
) -> None:
    client = app.test_client()

    response = log_in(client, username, password)

    assert response.status_code == 401
    html = _html(response)
    assert GENERIC_FAILURE in html
    assert password not in html  # the password field is never filled in again
    assert client.get(PROBE).status_code == 302
    with session_for(app) as session:
        assert session.scalars(select(OperatorSession)).all() == []


def test_a_disabled_operator_gets_the_generic_failure(app: Flask, operator: Operator) -> None:
    with session_for(app) as session:
        operators.disable_operator(session, "olga")

    response = log_in(app.test_client())

    assert response.status_code == 401
    assert GENERIC_FAILURE in _html(response)


def test_an_incomplete_form_is_shown_again(app: Flask, operator: Operator) -> None:
    response = log_in(app.test_client(), "olga", "")

    assert response.status_code == 422
    assert "Dit veld is vereist." in _html(response)  # WTForms' own message, in Dutch


def test_a_logged_in_operator_visiting_the_login_page_goes_on(ops_client: FlaskClient) -> None:
    response = ops_client.get("/ops/login", query_string={"next": PROBE})

    assert response.status_code == 303
    assert response.headers["Location"] == PROBE


# --- Lockout and slow-down ---------------------------------------------------------------------

#: Olga's desk (the test client's own address), and someone who knows her user name.
DESK = "127.0.0.1"
ATTACKER = "203.0.113.66"


def _later(app: Flask, delta: timedelta = SLOW_DOWN_MAX) -> None:
    """As if ``delta`` had passed since every attempt so far (by default: any slow-down)."""
    with session_for(app) as session:
        for attempt in session.scalars(select(LoginAttempt)):
            attempt.at -= delta
        session.commit()


def _fail(app: Flask, username: str = "olga", address: str = ATTACKER) -> TestResponse:
    """A wrong password, typed after the slow-down of the failures before it."""
    _later(app)
    return log_in(
        app.test_client(), username, "wrong-password-1", environ_base={"REMOTE_ADDR": address}
    )


def _log_in_from(app: Flask, address: str, username: str = "olga") -> TestResponse:
    return log_in(app.test_client(), username, environ_base={"REMOTE_ADDR": address})


def test_five_failures_lock_the_user_name_from_that_address_across_workers(
    app: Flask, environ: dict[str, str], operator: Operator
) -> None:
    other_worker = create_app(environ)  # a second gunicorn worker: same database, own memory
    try:
        for worker in (app, other_worker, app, other_worker, app):
            assert _fail(worker).status_code == 401

        response = _log_in_from(other_worker, ATTACKER)
    finally:
        other_worker.extensions["ociflex.engine"].dispose()

    assert response.status_code == 429
    html = _html(response)
    assert "Te veel mislukte pogingen. Probeer het over 15 minuten opnieuw." in html
    assert GENERIC_FAILURE not in html
    assert 14 * 60 < int(response.headers["Retry-After"]) <= 15 * 60
    with session_for(app) as session:
        attempts = session.scalars(select(LoginAttempt)).all()
    assert len(attempts) == 5  # the refused attempt checked nothing and is not kept
    assert not any(attempt.succeeded for attempt in attempts)


def test_the_operator_at_her_desk_logs_in_while_a_strangers_address_is_locked_out(
    app: Flask, operator: Operator
) -> None:
    for _ in range(5):
        _fail(app)
    for _ in range(10):  # he keeps trying, with the right password even
        assert _log_in_from(app, ATTACKER).status_code == 429

    client = app.test_client()
    at_her_desk = log_in(client, environ_base={"REMOTE_ADDR": DESK})

    assert at_her_desk.status_code == 303
    assert client.get(PROBE).status_code == 200
    assert _log_in_from(app, ATTACKER).status_code == 429


def test_locked_out_attempts_do_not_check_the_password(
    app: Flask, operator: Operator, monkeypatch: pytest.MonkeyPatch
) -> None:
    for _ in range(5):
        _fail(app)
    checks: list[str] = []
    monkeypatch.setattr(operators, "check_password_hash", lambda h, p: checks.append(p))

    assert _log_in_from(app, ATTACKER).status_code == 429
    assert checks == []


def test_the_lockout_does_not_tell_whether_the_account_exists(
    app: Flask, operator: Operator
) -> None:
    for username in ("olga", "nobody"):
        for _ in range(5):
            assert _fail(app, username).status_code == 401

    known, unknown = _log_in_from(app, ATTACKER), _log_in_from(app, ATTACKER, "nobody")

    assert known.status_code == unknown.status_code == 429
    assert "Te veel mislukte pogingen" in _html(unknown)
    assert _page_without(known, "olga") == _page_without(unknown, "nobody")


def _page_without(response, username: str) -> str:  # type: ignore[no-untyped-def]
    """The page without what must differ: the user name typed in, the CSRF token."""
    html = _html(response)
    return html.replace(csrf_token_in(html), "TOKEN").replace(f'value="{username}"', "")


def test_failures_from_many_addresses_lock_the_user_name_for_everybody(
    app: Flask, operator: Operator
) -> None:
    """The brake on a guess spread over many addresses: 50 failures, at most 5 from each."""
    a_minute_ago = utcnow() - timedelta(minutes=1)
    with session_for(app) as session:
        session.add_all(
            LoginAttempt(
                username="olga",
                client_address=f"198.51.100.{n // 5}",
                at=a_minute_ago,
                succeeded=False,
            )
            for n in range(49)
        )
        session.commit()
    assert _fail(app, address="198.51.100.9").status_code == 401  # the 50th failure

    at_her_desk = _log_in_from(app, DESK)

    assert at_her_desk.status_code == 429
    assert "Probeer het over 14 minuten opnieuw." in _html(at_her_desk)
    assert _log_in_from(app, DESK, "nobody").status_code == 401  # other user names go on


def test_failures_from_one_address_lock_that_address_for_every_account(
    app: Flask, operator: Operator
) -> None:
    a_minute_ago = utcnow() - timedelta(minutes=1)
    with session_for(app) as session:
        session.add_all(
            LoginAttempt(
                username=f"guess{n}", client_address=ATTACKER, at=a_minute_ago, succeeded=False
            )
            for n in range(19)
        )
        session.commit()
    assert _fail(app, "guess19").status_code == 401  # the 20th failure

    from_there = _log_in_from(app, ATTACKER)
    from_elsewhere = _log_in_from(app, DESK)

    assert from_there.status_code == 429
    assert "Te veel mislukte pogingen" in _html(from_there)
    assert from_elsewhere.status_code == 303


def test_an_attempt_sooner_than_the_slow_down_allows_gets_the_seconds_to_wait(
    app: Flask, environ: dict[str, str], operator: Operator
) -> None:
    """Four failures ask 1.5 s before the next attempt: one sooner is refused at once, by
    every worker, and checked once it comes in time."""
    other_worker = create_app(environ)
    try:
        for worker in (app, other_worker, app, other_worker):
            assert _fail(worker).status_code == 401

        too_soon = _log_in_from(other_worker, ATTACKER)
    finally:
        other_worker.extensions["ociflex.engine"].dispose()

    assert too_soon.status_code == 429
    seconds = int(too_soon.headers["Retry-After"])
    assert seconds in (1, 2)
    (alert,) = Html(too_soon).alerts
    assert str(seconds) in alert.split()
    assert "mislukte" not in alert  # not the lockout, nor the generic failure
    assert Html(too_soon).forms["login"].values["username"] == "olga"
    _later(app, timedelta(seconds=1.5))
    assert _log_in_from(app, ATTACKER).status_code == 303


def test_the_lockout_ends_when_the_failures_are_older_than_15_minutes(
    app: Flask, operator: Operator
) -> None:
    for _ in range(5):
        _fail(app)
    assert _log_in_from(app, ATTACKER).status_code == 429
    with session_for(app) as session:
        session.execute(update(LoginAttempt).values(at=utcnow() - timedelta(minutes=16)))
        session.commit()

    assert _log_in_from(app, ATTACKER).status_code == 303


def test_the_lockout_minutes_count_down(app: Flask, operator: Operator) -> None:
    for _ in range(5):
        _fail(app)
    with session_for(app) as session:
        session.execute(update(LoginAttempt).values(at=utcnow() - timedelta(minutes=10)))
        session.commit()

    response = _log_in_from(app, ATTACKER)

    assert response.status_code == 429
    assert "Probeer het over 5 minuten opnieuw." in _html(response)


def test_a_successful_login_restarts_the_count_of_its_address(
    app: Flask, operator: Operator
) -> None:
    for _ in range(4):
        _fail(app)
    _later(app)
    assert _log_in_from(app, ATTACKER).status_code == 303
    for _ in range(4):
        assert _fail(app).status_code == 401
    _later(app)

    assert _log_in_from(app, ATTACKER).status_code == 303


# --- Sessions: logout, disabling, idleness -----------------------------------------------------


def _log_out(client: FlaskClient):  # type: ignore[no-untyped-def]
    token = csrf_token_in(_html(client.get(PROBE)))
    return client.post("/ops/logout", data={"csrf_token": token})


def test_a_session_cookie_replayed_after_logout_is_refused(
    app: Flask, ops_client: FlaskClient
) -> None:
    stolen = _session_cookie(ops_client)

    response = _log_out(ops_client)

    assert response.status_code == 303
    assert response.headers["Location"] == "/ops/login"
    assert "ociflex_ops=;" in response.headers["Set-Cookie"]  # the cookie is deleted
    assert ops_client.get(PROBE).status_code == 302
    replay = app.test_client()
    replay.set_cookie("ociflex_ops", stolen, path="/ops")
    response = replay.get(PROBE)
    assert response.status_code == 302
    assert response.headers["Location"] == "/ops/login?next=/ops/probe"
    assert SESSION_ENDED in _html(replay.get(response.headers["Location"]))
    with session_for(app) as session:
        assert session.scalars(select(OperatorSession)).one().ended_at is not None


def test_disabling_an_operator_on_the_command_line_ends_its_live_session(
    app: Flask, ops_client: FlaskClient
) -> None:
    assert ops_client.get(PROBE).status_code == 200

    result = app.test_cli_runner().invoke(args=["ociflex", "operator", "disable", "olga"])

    assert result.exit_code == 0, result.output
    assert "1 session(s) ended" in result.output
    assert ops_client.get(PROBE).status_code == 302
    assert log_in(app.test_client()).status_code == 401


def _age_session(app: Flask, **ages: timedelta) -> None:
    with session_for(app) as session:
        values = {column: utcnow() - age for column, age in ages.items()}
        session.execute(update(OperatorSession).values(**values))
        session.commit()


def _last_seen(app: Flask):  # type: ignore[no-untyped-def]
    with session_for(app) as session:
        return session.scalars(select(OperatorSession.last_seen_at)).one()


def test_a_session_idle_for_longer_than_the_timeout_ends(
    app: Flask, ops_client: FlaskClient
) -> None:
    _age_session(app, last_seen_at=timedelta(minutes=29))
    assert ops_client.get(PROBE).status_code == 200
    assert utcnow() - _last_seen(app) < timedelta(minutes=1)  # the use was noted

    _age_session(app, last_seen_at=timedelta(minutes=31))
    response = ops_client.get(PROBE)

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/ops/login")


def test_the_idle_timeout_is_a_setting(environ: dict[str, str], operator: Operator) -> None:
    app = _with_probe(create_app({**environ, "OCIFLEX_OPS_IDLE_MINUTES": "5"}))
    try:
        client = app.test_client()
        log_in(client)
        _age_session(app, last_seen_at=timedelta(minutes=6))
        assert client.get(PROBE).status_code == 302
    finally:
        app.extensions["ociflex.engine"].dispose()


@pytest.mark.parametrize("minutes", ["0", "721", "half an hour"])
def test_the_idle_timeout_must_be_sensible(tmp_path: Path, minutes: str) -> None:
    environ = {"SECRET_KEY": PRODUCTION_SECRET_KEY, "OCIFLEX_OPS_IDLE_MINUTES": minutes}
    with pytest.raises(SettingsError, match="OCIFLEX_OPS_IDLE_MINUTES must be"):
        from_environment(environ, tmp_path)


def test_recent_use_is_written_down_at_most_once_a_minute(
    app: Flask, ops_client: FlaskClient
) -> None:
    _age_session(app, last_seen_at=timedelta(seconds=30))
    before = _last_seen(app)

    assert ops_client.get(PROBE).status_code == 200
    assert _last_seen(app) == before


def test_a_session_ends_after_12_hours_however_active(app: Flask, ops_client: FlaskClient) -> None:
    _age_session(app, created_at=timedelta(hours=12, minutes=1))

    assert ops_client.get(PROBE).status_code == 302


def test_without_a_session_other_requests_get_401(app: Flask) -> None:
    client = app.test_client()
    token = csrf_token_in(_html(client.get("/ops/login")))

    assert client.post(PROBE, data={"csrf_token": token}).status_code == 401
    json = client.get(PROBE, headers={"Accept": "application/json"})
    assert json.status_code == 401
    page = client.get(PROBE, query_string={"page": "2"}, headers={"Accept": "text/html"})
    assert page.status_code == 302
    assert page.headers["Location"] == "/ops/login?next=/ops/probe?page%3D2"


# --- Cookies and CSRF --------------------------------------------------------------------------


def _cookie_attributes(response) -> set[str]:  # type: ignore[no-untyped-def]
    header = response.headers["Set-Cookie"]
    assert header.startswith("ociflex_ops=")
    return {part.strip() for part in header.split(";")[1:]}


def test_the_session_cookie_is_httponly_samesite_and_only_for_ops_pages(
    app: Flask, operator: Operator
) -> None:
    attributes = _cookie_attributes(log_in(app.test_client()))

    assert {"HttpOnly", "SameSite=Lax", "Path=/ops"} <= attributes
    assert not any(attribute.startswith("Expires") for attribute in attributes)


@pytest.mark.parametrize(("env", "secure"), [("production", True), ("development", False)])
def test_the_session_cookie_is_secure_outside_development(
    environ: dict[str, str], operator: Operator, env: str, secure: bool
) -> None:
    app = create_app({**environ, "OCIFLEX_ENV": env})
    try:
        response = log_in(app.test_client())
    finally:
        app.extensions["ociflex.engine"].dispose()

    assert response.status_code == 303
    assert ("Secure" in _cookie_attributes(response)) is secure


def test_login_without_csrf_token_is_refused_before_any_check(
    app: Flask, operator: Operator
) -> None:
    client = app.test_client()
    client.get("/ops/login")

    response = client.post("/ops/login", data={"username": "olga", "password": OPERATOR_PASSWORD})

    assert response.status_code == 400
    assert "Dit formulier is verlopen of komt niet van deze site." in _html(response)
    assert client.get(PROBE).status_code == 302
    with session_for(app) as session:
        assert session.scalars(select(LoginAttempt)).all() == []


def test_logout_without_csrf_token_is_refused(ops_client: FlaskClient) -> None:
    response = ops_client.post("/ops/logout")

    assert response.status_code == 400
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert ops_client.get(PROBE).status_code == 200  # still logged in


def test_login_replaces_the_session_cookie_and_its_csrf_secret(
    app: Flask, operator: Operator
) -> None:
    client = app.test_client()
    before_login = csrf_token_in(_html(client.get("/ops/login")))
    cookie_before = _session_cookie(client)

    log_in(client)

    assert _session_cookie(client) != cookie_before
    stale = client.post("/ops/logout", data={"csrf_token": before_login})
    assert stale.status_code == 400
    assert client.get(PROBE).status_code == 200


def test_logging_in_again_ends_the_previous_session(app: Flask, ops_client: FlaskClient) -> None:
    token = csrf_token_in(_html(ops_client.get(PROBE)))
    data = {"csrf_token": token, "username": "olga", "password": OPERATOR_PASSWORD}

    assert ops_client.post("/ops/login", data=data).status_code == 303

    with session_for(app) as session:
        rows = session.scalars(select(OperatorSession).order_by(OperatorSession.created_at)).all()
    assert [row.ended_at is None for row in rows] == [False, True]
    assert rows[1].token_hash == token_hash(_server_token(ops_client))


# --- Where a login goes ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("next_url", "location"),
    [
        ("/ops/probe?page=2", "/ops/probe?page=2"),
        ("https://evil.example/ops/", "/ops/"),
        ("//evil.example/ops/", "/ops/"),
        ("/\\evil.example/ops/", "/ops/"),
        ("/oci/demo", "/ops/"),
        ("javascript:alert(1)", "/ops/"),
    ],
)
def test_login_goes_back_only_to_an_ops_page(
    app: Flask, operator: Operator, next_url: str, location: str
) -> None:
    response = log_in(app.test_client(), query_string={"next": next_url})

    assert response.status_code == 303
    assert response.headers["Location"] == location


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("/ops/", "/ops/"),
        ("/ops", "/ops"),
        ("/ops/requests/12?tab=history", "/ops/requests/12?tab=history"),
        ("/opsx", None),
        ("ops/", None),
        ("http://127.0.0.1/ops/", None),
        ("///evil.example/ops/", None),
        ("/ops/\r\nSet-Cookie: x=1", None),
        ("/ops/ x", None),
        ("", None),
        (None, None),
    ],
)
def test_local_next(value: str | None, expected: str | None) -> None:
    assert local_next(value) == expected


@pytest.mark.parametrize(("hops", "recorded"), [(0, "127.0.0.1"), (1, "203.0.113.9")])
def test_behind_a_trusted_proxy_the_lockout_counts_the_client_not_the_proxy(
    environ: dict[str, str], operator: Operator, hops: int, recorded: str
) -> None:
    app = create_app({**environ, "OCIFLEX_PROXY_HOPS": str(hops)})
    forwarded = {"environ_base": {"HTTP_X_FORWARDED_FOR": "203.0.113.9"}}
    log_in(app.test_client(), password="wrong-password-here", **forwarded)
    with session_for(app) as session:
        addresses = session.scalars(select(LoginAttempt.client_address)).all()
    assert addresses == [recorded]
