"""The gunicorn worker the Procfile runs: a slow client costs a greenlet, never a worker.

A sync worker reads its client's request itself, so two clients that trickle their headers or
body hold both workers of a two-core machine until the worker timeout kills them, and
reconnecting keeps the service down (docs/security.md, "Slow clients"). This worker is
gunicorn's gevent worker with two changes, so that it behaves like a buffering proxy in front
of a sync worker:

- each connection's request is read on a greenlet of its own, the body whole
  (:func:`buffered_body`), before the app sees it; the answer is written back on that greenlet;
- the app runs one request at a time per worker (:class:`OneAtATime`). Inside the app nothing
  changes from a sync worker: two requests of one worker never interleave inside a database
  transaction (sqlite3 and psycopg block as they always did, whatever gevent patched), and a
  request is CPU-bound Python, which more concurrency would not speed up.

A connection gets gunicorn's ``timeout`` for its request and answer, as a sync worker gives a
request: a client that is slower than that is disconnected, and only its greenlet waited.
"""

import io
import itertools
import tempfile
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import gevent
from gevent.lock import Semaphore
from gunicorn.workers.ggevent import GeventWorker

from ociflex.cxml.documents import MAX_BYTES as CXML_MAX_BYTES

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

#: Read in pieces of this size, so that a greenlet yields while a body trickles in.
_CHUNK = 64 * 1024
#: An answer of several pieces is kept in memory up to this size, the rest on disk.
ANSWER_IN_MEMORY = 8 * 1024 * 1024


class ClientTooSlow(Exception):
    """A connection was not done within the worker timeout: it is closed without an answer."""


def body_limit(app: Any) -> int:
    """The largest body any page of ``app`` accepts: ``MAX_CONTENT_LENGTH``, or the cXML
    endpoint's own limit when that is larger."""
    config = getattr(app, "config", {})
    return max(config.get("MAX_CONTENT_LENGTH") or 0, CXML_MAX_BYTES)


def buffered_body(environ: dict[str, Any], limit: int) -> io.BytesIO | None:
    """The request body read whole, or None when it is declared longer than ``limit``.

    A body declared too long is left unread: the app refuses it by its ``Content-Length``
    without reading it. A chunked body is read up to one byte beyond ``limit``, so that the
    app sees it is too long and refuses it as it would have refused the whole of it.
    """
    declared = environ.get("CONTENT_LENGTH") or ""
    if declared.isdigit() and int(declared) > limit:
        return None
    wanted = int(declared) if declared.isdigit() else limit + 1
    stream = environ["wsgi.input"]
    pieces: list[bytes] = []
    remaining = wanted
    while remaining > 0 and (piece := stream.read(min(remaining, _CHUNK))):
        pieces.append(piece)
        remaining -= len(piece)
    return io.BytesIO(b"".join(pieces))


class SpooledAnswer:
    """An answer of several pieces (a streamed download), collected in memory up to
    :data:`ANSWER_IN_MEMORY` bytes and on disk beyond: a download of a million rows must not
    hold a worker's memory. Iterated in pieces of :data:`_CHUNK`; closing removes the file."""

    def __init__(self, pieces: Iterable[bytes]) -> None:
        # Closed by close(), which the server calls once the answer is sent.
        self.file = tempfile.SpooledTemporaryFile(max_size=ANSWER_IN_MEMORY)  # noqa: SIM115
        for piece in pieces:
            self.file.write(piece)
        self.file.seek(0)

    def __iter__(self) -> Iterator[bytes]:
        while piece := self.file.read(_CHUNK):
            yield piece

    def close(self) -> None:
        self.file.close()


def collected(answer: Iterable[bytes]) -> list[bytes] | SpooledAnswer:
    """The whole of ``answer``: in a list up to :data:`ANSWER_IN_MEMORY` bytes (every page),
    spooled when longer."""
    pieces: list[bytes] = []
    size = 0
    rest = iter(answer)
    for piece in rest:
        pieces.append(piece)
        size += len(piece)
        if size > ANSWER_IN_MEMORY:
            return SpooledAnswer(itertools.chain(pieces, rest))
    return pieces


class OneAtATime:
    """WSGI middleware: read the request body, then run ``app`` while holding ``lock`` and
    collect its whole answer (:func:`collected`), so that writing it to a slow client happens
    after the lock is released."""

    def __init__(self, app: WsgiApp, lock: Semaphore, limit: int) -> None:
        self.app = app
        self.lock = lock
        self.limit = limit

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> list[bytes] | SpooledAnswer:
        if (body := buffered_body(environ, self.limit)) is not None:
            environ["wsgi.input"] = body
            environ["wsgi.input_terminated"] = True
            # A chunked body is whole now, its length known: werkzeug compares its size limits
            # with the Content-Length only (and ignores it beside chunked), so the app's limits
            # and its 413 page hold for a chunked body too.
            environ["CONTENT_LENGTH"] = str(len(body.getbuffer()))
            environ.pop("HTTP_TRANSFER_ENCODING", None)
        with self.lock:
            answer = self.app(environ, start_response)
            try:
                return collected(answer)
            finally:
                if hasattr(answer, "close"):
                    answer.close()


class BufferingWorker(GeventWorker):
    """gunicorn's gevent worker, running the app one request at a time (module docstring)."""

    def load_wsgi(self) -> None:
        super().load_wsgi()
        # Made here, after gevent patched the worker: a lock from before the fork would block
        # the whole worker instead of one greenlet.
        self.wsgi = OneAtATime(self.wsgi, Semaphore(), body_limit(self.wsgi))

    def handle(self, listener: Any, client: Any, addr: Any) -> None:
        with gevent.Timeout(self.cfg.timeout, ClientTooSlow):
            super().handle(listener, client, addr)

    def handle_error(self, req: Any, client: Any, addr: Any, exc: BaseException) -> None:
        """A client that was too slow is not a server error: no 500, no traceback."""
        if isinstance(exc, ClientTooSlow):
            self.log.info("closed a connection not done within %ss: %s", self.cfg.timeout, addr)
            return
        super().handle_error(req, client, addr, exc)
