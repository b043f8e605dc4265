"""Logging that never writes a query string: a GET call-up carries the company password."""

import logging
import re

from flask import Flask

QUERY_STRING = re.compile(r"(\s/\S*?)\?\S*")


class DropQueryStrings(logging.Filter):
    """Cuts the query string out of request lines, as the development server logs them."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "?" in message:
            record.msg = QUERY_STRING.sub(r"\1?…", message)
            record.args = None
        return True


def init_app(app: Flask) -> None:
    logging.getLogger("werkzeug").addFilter(DropQueryStrings())
    # Alembic lists each of its plugins at every start: noise on every 'db upgrade' that
    # scripts/serve runs. The migrations it runs are still logged.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    if not logging.getLogger().handlers:
        logging.basicConfig(
            level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
        )
