"""The Alembic migrations build exactly the schema the models describe, on both engines."""

import json

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

from ociflex import migrate
from ociflex.booking import words
from ociflex.models import Base


def test_migrations_match_the_models(database_url: str) -> None:
    engine = create_engine(database_url)
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    engine.dispose()
    assert differences == []


def test_a_double_submit_is_stopped_by_a_unique_punchout_id(database_url: str) -> None:
    engine = create_engine(database_url)
    constraints = inspect(engine).get_unique_constraints("rental_requests")
    engine.dispose()
    assert ["punchout_id"] in [c["column_names"] for c in constraints]


def test_migrations_go_down_and_up_again(database_url: str) -> None:
    migrate.downgrade(database_url, "base")
    engine = create_engine(database_url)
    assert "rental_requests" not in inspect(engine).get_table_names()
    migrate.upgrade(database_url)
    assert "outbox" in inspect(engine).get_table_names()
    engine.dispose()


def test_requests_registered_before_the_inbox_become_searchable_and_counted(
    database_url: str,
) -> None:
    migrate.downgrade(database_url, "0001")
    engine = create_engine(database_url)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO rental_requests (punchout_id, customer_id, status, language, "
                "requester_email, requester_name, vehicle_code, vehicle_name, day_rate, currency, "
                "start_date, end_date, days, location, remarks, fields, callup, basket, "
                "created_at, updated_at) VALUES ('p1', 'demo', 'new', 'nl', 'Jan@Example.NL', "
                "'Jan Jansen', 'VAN', 'Bestelbus', 79, 'EUR', '2026-12-01', '2026-12-02', 2, "
                "NULL, '', '{}', '[]', '{}', '2026-11-28 10:00:00', '2026-11-28 10:00:00')"
            )
        )
    migrate.upgrade(database_url)
    with engine.connect() as connection:
        row = connection.execute(
            text("SELECT requester_email, name_key, version FROM rental_requests")
        ).one()
        counts = connection.execute(
            text("SELECT customer_id, status, count FROM request_status_counts")
        ).all()
    engine.dispose()
    assert tuple(row) == ("jan@example.nl", "jan jansen", 1)
    assert [tuple(c) for c in counts] == [("demo", "new", 1)]


def test_oci_requests_and_log_entries_move_to_the_protocol_neutral_columns_without_loss(
    database_url: str,
) -> None:
    callup = [["USERNAME", "demo-erp"], ["oci_usermail", "jan@demo.example"], ["X", "é ü"]]
    basket = {"action": "https://erp.example/hook?sid=1", "target": "_top", "charset": "utf-8"}
    basket["fields"] = [["NEW_ITEM-DESCRIPTION[1]", "COMPACT 01-12-2026"]]
    migrate.downgrade(database_url, "0004")
    engine = create_engine(database_url)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO rental_requests (punchout_id, customer_id, status, language, version, "
                "requester_email, requester_name, name_key, vehicle_code, vehicle_name, day_rate, "
                "currency, start_date, end_date, days, location, remarks, fields, callup, basket, "
                "ops_notes, reason, created_at, updated_at) VALUES ('p1', 'demo', 'new', 'nl', 1, "
                "'jan@demo.example', 'Jan', 'jan', 'COMPACT', 'Compacte auto', 39.5, 'EUR', "
                "'2026-12-01', '2026-12-02', 2, NULL, '', '{}', :callup, :basket, '', '', "
                "'2026-11-28 10:00:00', '2026-11-28 10:00:00')"
            ),
            {"callup": json.dumps(callup), "basket": json.dumps(basket)},
        )
        connection.execute(
            text(
                "INSERT INTO transfers (at, customer_id, kind, outcome, status, reason, method, "
                "punchout_id, request_id, hook_origin, parameters, parameter_count, basket, "
                "client_address) VALUES ('2026-11-28 10:00:00', 'demo', 'basket', 'sent', 200, "
                "'', 'POST', 'p1', 1, 'https://erp.example', '[]', 0, :basket, NULL)"
            ),
            {"basket": json.dumps(basket)},
        )
    migrate.upgrade(database_url)
    with engine.connect() as connection:
        request = connection.execute(
            text("SELECT protocol, inbound, cart FROM rental_requests")
        ).one()
        entry = connection.execute(
            text("SELECT protocol, return_origin, cart FROM transfers")
        ).one()
    engine.dispose()
    assert request.protocol == "oci"
    assert _json(request.inbound) == {"parameters": callup}
    assert _json(request.cart) == basket
    assert (entry.protocol, entry.return_origin) == ("oci", "https://erp.example")
    assert _json(entry.cart) == basket


def test_going_back_before_the_protocols_restores_the_call_ups(database_url: str) -> None:
    inbound = {"parameters": [["USERNAME", "demo-erp"], ["HOOK_URL", "https://erp.example/"]]}
    engine = create_engine(database_url)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO rental_requests (punchout_id, customer_id, protocol, status, "
                "language, version, requester_email, requester_name, name_key, vehicle_code, "
                "vehicle_name, day_rate, currency, start_date, end_date, days, location, remarks, "
                "fields, inbound, cart, ops_notes, reason, created_at, updated_at) VALUES ('p1', "
                "'demo', 'oci', 'new', 'nl', 1, 'jan@demo.example', 'Jan', 'jan', 'COMPACT', "
                "'Compacte auto', 39.5, 'EUR', '2026-12-01', '2026-12-02', 2, NULL, '', '{}', "
                ":inbound, '{}', '', '', '2026-11-28 10:00:00', '2026-11-28 10:00:00')"
            ),
            {"inbound": json.dumps(inbound)},
        )
    migrate.downgrade(database_url, "0004")
    with engine.connect() as connection:
        callup = connection.execute(text("SELECT callup FROM rental_requests")).scalar_one()
        connection.execute(text("DELETE FROM rental_requests"))
        connection.commit()
    engine.dispose()
    migrate.upgrade(database_url)  # the next test gets the schema of today
    assert _json(callup) == inbound["parameters"]


def test_requests_stored_before_the_word_search_are_found_by_their_words(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    names = ["Jan Jansen", "Zoë O'Brien", "J", "Pieter van den Berg", "Li Wu"]
    migrate.downgrade(database_url, "0010")
    engine = create_engine(database_url)
    with engine.begin() as connection:
        for number, name in enumerate(names, start=1):
            connection.execute(
                text(
                    "INSERT INTO rental_requests (id, punchout_id, customer_id, protocol, "
                    "status, language, version, requester_email, requester_name, name_key, "
                    "vehicle_code, vehicle_name, day_rate, currency, start_date, end_date, days, "
                    "remarks, fields, inbound, cart, ops_notes, reason, created_at, updated_at) "
                    "VALUES (:id, :punchout, 'demo', 'oci', 'new', 'nl', 1, 'x@demo.example', "
                    ":name, '', 'COMPACT', 'Compacte auto', 39.5, 'EUR', '2026-12-01', "
                    "'2026-12-02', 2, '', '{}', '{}', '{}', '', '', '2026-11-28 10:00:00', "
                    "'2026-11-28 10:00:00')"
                ),
                {"id": number, "punchout": f"p{number}", "name": name},
            )
    monkeypatch.setattr(words, "BATCH_SIZE", 2)  # three batches, the last one short
    migrate.upgrade(database_url)
    with engine.connect() as connection:
        stored = connection.execute(text("SELECT word, request_id FROM request_words")).all()
        connection.execute(text("DELETE FROM request_words"))
        connection.execute(text("DELETE FROM rental_requests"))
        connection.commit()
    engine.dispose()
    found: dict[int, set[str]] = {}
    for word, request_id in stored:
        found.setdefault(request_id, set()).add(word)
    assert found == {
        number: words.name_words(name) for number, name in enumerate(names, start=1) if number != 3
    }
    assert {"jansen", "zoe", "brien", "berg", "li", "wu"} <= set().union(*found.values())


def _json(value: object) -> object:
    """A JSON column as read with plain SQL: text on SQLite, already decoded on PostgreSQL."""
    return json.loads(value) if isinstance(value, str) else value
