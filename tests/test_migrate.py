"""The Alembic migrations build exactly the schema the models describe, on both engines."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

from ociflex import migrate
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
