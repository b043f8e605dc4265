"""Health checks for the platform: ``/healthz/live`` (the process answers) and
``/healthz/ready`` (it can serve: database reachable, schema up to date).

A load balancer restarts a worker that is not live and sends no traffic to one that is not
ready; so liveness never depends on the database, or a database outage would restart every
worker in a loop. Both answer JSON without details that help an attacker (no host names,
no customer names, no error texts: those go to the log).
"""

import logging

from flask import Blueprint, current_app
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from ociflex.customers.registry import customers
from ociflex.db import error_summary
from ociflex.migrate import head_revision

log = logging.getLogger(__name__)

bp = Blueprint("health", __name__, url_prefix="/healthz")


def _head_revision() -> str | None:
    """The newest migration this code ships (read once per process)."""
    if "ociflex.schema_head" not in current_app.extensions:
        head = head_revision(current_app.config["DATABASE_URL"])
        current_app.extensions["ociflex.schema_head"] = head
    return current_app.extensions["ociflex.schema_head"]


def _schema_revision() -> str | None:
    """The database's migration, or None when it cannot be read; raises SQLAlchemyError when
    the database cannot be reached."""
    with current_app.extensions["ociflex.engine"].connect() as connection:
        try:
            return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
        except SQLAlchemyError:
            connection.rollback()
            connection.exec_driver_sql("SELECT 1")  # raises on its own if the database is gone
            return None


@bp.get("/live")
def live() -> tuple[dict[str, str], int]:
    """Say that the process answers; never asks the database (see the module doc)."""
    return {"status": "live"}, 200


@bp.get("/ready")
def ready() -> tuple[dict[str, object], int]:
    """Say whether this worker can serve: database reachable and schema current, else 503."""
    registry = customers()
    served = {"served": len(registry.result.customers), "refused": len(registry.result.problems)}
    try:
        revision = _schema_revision()
    except SQLAlchemyError as error:
        log.error("not ready: database unavailable: %s", error_summary(error))
        return {"status": "unavailable", "database": "unavailable", "customers": served}, 503
    head = _head_revision()
    if revision != head:
        log.error("not ready: schema at %s, code expects %s: run the migrations", revision, head)
        body = {"status": "unavailable", "database": "ok", "schema": "outdated"}
        return {**body, "customers": served}, 503
    return {"status": "ready", "database": "ok", "schema": "current", "customers": served}, 200
