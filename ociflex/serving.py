"""gunicorn's settings for ociflex: ``gunicorn -c python:ociflex.serving app:app`` (Procfile).

The app is loaded once, in gunicorn's master, and the workers are forked from it
(``preload_app``): with a thousand customer files that is one parse instead of one per
worker at the same time, and the workers share the loaded pages. Two things must then happen
in each new worker (:func:`post_fork`): it must not use the master's database connections, and
it must read the customer files again if they changed since the master read them, so that
``kill -HUP`` still brings edited customer files into service (the new workers check; the
master's own copy of the app is never reloaded, so code changes need a restart).
"""

import os
from typing import Any

preload_app = True
#: Slow clients cost a greenlet, not a worker (ociflex/buffering_worker.py).
worker_class = "ociflex.buffering_worker.BufferingWorker"
#: One request per connection: a free worker takes the next connection, so requests spread
#: over the workers as they free up (a kept-alive connection stays with its worker, busy or not).
keepalive = 0


def default_workers() -> int:
    """``WEB_CONCURRENCY`` when set, else one worker per core.

    A request is CPU-bound Python, so more workers than cores only add context switches and
    wake-ups on every accepted connection (docs/performance.md, "Recommended gunicorn
    configuration", compares worker counts).
    """
    return int(os.environ.get("WEB_CONCURRENCY") or os.cpu_count() or 1)


workers = default_workers()


def post_fork(server: Any, worker: Any) -> None:
    """Prepare a freshly forked worker (called by gunicorn; a no-op for other WSGI apps)."""
    application = worker.app.wsgi()
    started = getattr(application, "extensions", {}).get("ociflex.worker_started")
    if started is not None:
        started()
