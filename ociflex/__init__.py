"""ociflex: the SAP OCI punch-out service of Euromobil's FlexFleet vehicle rental."""

import logging
import os
from collections.abc import Mapping
from pathlib import Path

import click
from flask import Flask
from flask.cli import run_command
from flask.helpers import get_debug_flag
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.serving import is_running_from_reloader

from ociflex import (
    cli,
    db,
    health,
    home,
    i18n,
    logs,
    mail,
    ops,
    protocols,
    settings,
    transfer_writer,
    web,
)
from ociflex.customers import registry
from ociflex.devtools import routes as devtools
from ociflex.punchout import routes as punchout

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def create_app(environ: Mapping[str, str] | None = None) -> Flask:
    """Build the app from ``environ`` (default: the process environment)."""
    environ = os.environ if environ is None else environ
    app = Flask(
        __name__,
        instance_path=environ.get("OCIFLEX_INSTANCE_PATH") or str(PROJECT_ROOT / "instance"),
        template_folder=str(PROJECT_ROOT / "templates"),
    )
    serves_requests = _serves_requests()
    try:
        _configure(app, environ, serves_requests)
    except settings.SettingsError as error:
        if click.get_current_context(silent=True) is None:
            raise
        # Under the ``flask`` command: the one line that says what to set, exit status 1.
        raise click.ClickException(str(error)) from None
    if hops := app.config["OCIFLEX_PROXY_HOPS"]:
        # Behind a reverse proxy every client would otherwise have the proxy's address, and
        # the login lockout per address would lock everyone out at once.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]
    logs.init_app(app)
    db.init_app(app)
    transfer_writer.init_app(app)
    i18n.init_app(app)
    mail.init_app(app)
    web.init_app(app)
    registry.init_app(app, protocols.CUSTOMER_SECTIONS, environ, serves_requests=serves_requests)
    cli.init_app(app)
    punchout.init_app(app)
    app.register_blueprint(health.bp)
    app.register_blueprint(home.bp)
    # The operations pages (/ops/): always on, production needs them. CSRF for them only.
    ops.init_app(app)
    if app.config["OCIFLEX_DEV_TOOLS"]:
        # /dev/ in development and testing; /ops/dev/, behind the operator login, in production.
        devtools.init_app(app)
    app.extensions["ociflex.worker_started"] = lambda: _worker_started(app)
    started = logging.INFO if serves_requests else logging.DEBUG  # a command's output stays its own
    logging.getLogger(__name__).log(started, "ociflex started (%s)", app.config["OCIFLEX_ENV"])
    return app


def _configure(app: Flask, environ: Mapping[str, str], serves_requests: bool) -> None:
    """``app.config`` from ``environ``, or :class:`~ociflex.settings.SettingsError`.

    A process that answers requests needs a usable ``SECRET_KEY``. Any other (``flask --app app
    ... --help``, ``ociflex customers check``) is created before click knows which command it
    will run, so a production key that is missing or weak is left to the commands that need it
    (see :mod:`ociflex.cli`): help and the customer file tools work without the service's secret.
    """
    config = settings.from_environment(
        environ, Path(app.instance_path), key_required=serves_requests
    )
    app.config.update(config)
    if app.debug and app.config["OCIFLEX_ENV"] == "production":
        # Flask reads FLASK_DEBUG from the process environment even when ``environ`` is given.
        raise settings.SettingsError("Debug mode is on in production: unset FLASK_DEBUG.")


def _serves_requests() -> bool:
    """Whether this process will answer requests with the app being created.

    Not when the ``flask`` command creates it for a command other than ``run`` (``flask --app app
    ociflex operator add``, ``flask shell``, ...), nor in the process of ``flask run --debug`` that
    only watches the code and restarts the server process, which creates the app again. Yes for
    gunicorn, the server process of ``flask run``, a test or a script.
    """
    command = click.get_current_context(silent=True)
    if command is None:
        return True
    if command.command is not run_command:
        return False
    reloads = command.params.get("reload")
    if reloads is None:  # as ``flask run`` decides: the reloader comes with --debug
        reloads = get_debug_flag()
    return not reloads or is_running_from_reloader()


def _worker_started(app: Flask) -> None:
    """In a worker forked from a process that created ``app`` (see :mod:`ociflex.serving`)."""
    # Connections opened before the fork belong to the parent: drop them without closing.
    app.extensions["ociflex.engine"].dispose(close=False)
    registry.customers_of(app).reload_if_changed(force=True)
    logging.getLogger(__name__).info("ociflex worker %d ready", os.getpid())
