"""The Alembic migrations build exactly the schema the models describe, on both engines."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

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
