"""The customers an app serves: loaded from their files once, at start-up."""

import logging
from collections.abc import Mapping
from pathlib import Path

from flask import Flask, current_app

from ociflex.customers.loader import LoadResult, load_customers
from ociflex.customers.model import Customer

log = logging.getLogger(__name__)


class CustomerRegistry:
    def __init__(self, directory: Path, environ: Mapping[str, str]) -> None:
        self.directory = directory
        #: Where ``password_env`` secrets are looked up.
        self.environ = environ
        self.result = LoadResult(customers={}, problems={})

    def load(self) -> LoadResult:
        """Read every customer file; a bad file is logged and not served, the others are."""
        self.result = load_customers(self.directory, self.environ)
        for customer_id, problems in self.result.problems.items():
            for problem in problems:
                log.error("customer %s is not served: %s", customer_id, problem)
        log.info(
            "serving %d customer(s) from %s: %s",
            len(self.result.customers),
            self.directory,
            ", ".join(self.result.customers) or "none",
        )
        return self.result

    def get(self, customer_id: str) -> Customer | None:
        return self.result.customers.get(customer_id)


def init_app(app: Flask, environ: Mapping[str, str]) -> None:
    registry = CustomerRegistry(app.config["OCIFLEX_CUSTOMERS_DIR"], environ)
    registry.load()
    app.extensions["ociflex.customers"] = registry


def customers() -> CustomerRegistry:
    return current_app.extensions["ociflex.customers"]
