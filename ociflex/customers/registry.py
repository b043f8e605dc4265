"""The customers an app serves: loaded from their files at start-up.

A process that answers requests (gunicorn, ``flask run``, a test's app) reads the files when the
app is created, before it answers anything, and logs each problem of a file it cannot serve as an
ERROR, once. A ``flask`` command other than ``run`` reads them only if it uses them (``ociflex dev
seed``, ``flask shell``; :class:`OnDemandCustomerRegistry`), and logs the problems as warnings;
``operator add`` or ``db upgrade`` never read them. ``customers check`` reads the files itself and
prints the problems as its output (:mod:`ociflex.devtools.customers_cli`).

In development (``OCIFLEX_ENV=development``) the folder is also watched: before a request, at
most once a second per process, the files' names, sizes and modification times are compared
with those of the last load, and the files are read again when any of them changed. Editing a
customer file then takes effect on the next request, without a restart.

Outside development the files are read at start-up only, never while a request is answered.
To read them again, restart the service; under gunicorn ``kill -HUP <master pid>`` starts new
workers, which read the files, and lets the old ones finish their requests (README, "Customer
files").
"""

import logging
import os
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from flask import Flask, current_app

from ociflex.customers.loader import SUFFIXES, LoadResult, load_customers
from ociflex.customers.model import Customer
from ociflex.customers.sections.protocol import ProtocolSection

log = logging.getLogger(__name__)

#: What the folder looked like: (file name, mtime in ns, size) of each customer file, sorted;
#: ``None`` when the folder cannot be read.
Signature = tuple[tuple[str, int, int], ...] | None

#: Seconds between two looks at the folder in development, per process.
CHECK_INTERVAL = 1.0


def folder_signature(directory: Path) -> Signature:
    """One ``stat`` pass over the customer files of ``directory``; no file is opened."""
    entries = []
    try:
        with os.scandir(directory) as scan:
            for entry in scan:
                if not entry.name.endswith(SUFFIXES):
                    continue
                try:
                    if not entry.is_file():
                        continue
                    stat = entry.stat()
                except OSError:
                    continue  # deleted between the listing and the stat: gone
                entries.append((entry.name, stat.st_mtime_ns, stat.st_size))
    except OSError:
        return None
    return tuple(sorted(entries))


def describe_changes(before: Signature, after: Signature) -> str:
    """What changed between two signatures, for the log: ``added x.yaml; changed y.yaml``."""
    if before is None or after is None:
        return "the folder became readable" if before is None else "the folder is unreadable"
    old = {name: rest for name, *rest in before}
    new = {name: rest for name, *rest in after}
    parts = [
        (verb, sorted(names))
        for verb, names in (
            ("added", new.keys() - old.keys()),
            ("removed", old.keys() - new.keys()),
            ("changed", {name for name in old.keys() & new.keys() if old[name] != new[name]}),
        )
        if names
    ]
    return "; ".join(f"{verb} {', '.join(names)}" for verb, names in parts)


class CustomerRegistry:
    """The customers of a server, read by :meth:`load` before it answers requests (see
    :func:`init_app`); their problems are errors."""

    #: How a file that cannot be served is logged.
    problem_level = logging.ERROR
    #: The customers served and the problems of the files that are not, as of the last load.
    result: LoadResult

    def __init__(
        self, directory: Path, sections: Sequence[ProtocolSection], environ: Mapping[str, str]
    ) -> None:
        self.directory = directory
        #: The protocols a customer file may use.
        self.sections = tuple(sections)
        #: Where ``password_env`` secrets are looked up.
        self.environ = environ
        #: The folder as it was when :attr:`result` was read.
        self.signature: Signature = None
        #: The clock of the once-a-second limit (a test may replace it).
        self.clock: Callable[[], float] = time.monotonic
        self._last_check: float | None = None
        self._lock = threading.Lock()

    def load(self) -> LoadResult:
        """Read every customer file; a bad file is logged and not served, the others are."""
        # Taken before reading: a file changed while it is read is read again next time.
        signature = folder_signature(self.directory)
        result = load_customers(self.directory, self.sections, self.environ)
        for customer_id, problems in result.problems.items():
            for problem in problems:
                log.log(self.problem_level, "customer %s is not served: %s", customer_id, problem)
        log.info(
            "serving %d customer(s) from %s: %s",
            len(result.customers),
            self.directory,
            ", ".join(result.customers) or "none",
        )
        # One assignment: a request in another thread sees the old set or the new one.
        self.result, self.signature = result, signature
        return result

    def reload_if_changed(self, force: bool = False) -> bool:
        """Read the files again if the folder changed since the last load (in development
        before requests; under gunicorn when a worker starts, see :mod:`ociflex.serving`).

        Looks at the folder at most once per :data:`CHECK_INTERVAL` seconds unless ``force``;
        True when it reloaded.
        """
        now = self.clock()
        recent = self._last_check is not None and now - self._last_check < CHECK_INTERVAL
        if recent and not force:
            return False
        # One thread checks (and reloads) at a time; the others go on with the current set.
        if not self._lock.acquire(blocking=False):
            return False
        try:
            self._last_check = now
            # Read first: an on-demand registry not yet read reads the files here (no change).
            before = self.result.customers
            signature = folder_signature(self.directory)
            if signature == self.signature:
                return False
            log.info(
                "customer files in %s changed (%s); reading them again",
                self.directory,
                describe_changes(self.signature, signature),
            )
            after = self.load().customers
            if gone := [customer_id for customer_id in before if customer_id not in after]:
                log.warning("no longer served: %s", ", ".join(gone))
            return True
        finally:
            self._lock.release()

    def get(self, customer_id: str) -> Customer | None:
        return self.result.customers.get(customer_id)


class OnDemandCustomerRegistry(CustomerRegistry):
    """The customers of a command: read when :attr:`result` is first used, if ever; a file that
    cannot be used is a warning (the command goes on without it, no server stops serving it)."""

    problem_level = logging.WARNING
    _result: LoadResult | None = None

    def __init__(
        self, directory: Path, sections: Sequence[ProtocolSection], environ: Mapping[str, str]
    ) -> None:
        super().__init__(directory, sections, environ)
        self._first_read = threading.Lock()

    @property
    def result(self) -> LoadResult:
        with self._first_read:  # threads that need it at once wait for one read
            if self._result is None:
                return self.load()
        return self._result

    @result.setter
    def result(self, result: LoadResult) -> None:
        self._result = result


def init_app(
    app: Flask,
    sections: Sequence[ProtocolSection],
    environ: Mapping[str, str],
    *,
    serves_requests: bool = True,
) -> None:
    """Give ``app`` its registry. An app that will answer requests reads the files now, at
    start-up (under gunicorn in the master, before the workers are forked), and a request reads
    a plain attribute; any other app reads them when it first uses them, if ever."""
    directory = app.config["OCIFLEX_CUSTOMERS_DIR"]
    registry: CustomerRegistry
    if serves_requests:
        registry = CustomerRegistry(directory, sections, environ)
        registry.load()
    else:
        registry = OnDemandCustomerRegistry(directory, sections, environ)
    app.extensions["ociflex.customers"] = registry
    if app.config["OCIFLEX_ENV"] == "development":

        @app.before_request
        def _reload_changed_customer_files() -> None:
            registry.reload_if_changed()


def customers() -> CustomerRegistry:
    return customers_of(current_app)


def customers_of(app: Flask) -> CustomerRegistry:
    return app.extensions["ociflex.customers"]
