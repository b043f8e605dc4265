"""The Procfile's gunicorn worker: clients that trickle their request in cost the service
nothing that other clients would notice, and what they send still arrives whole."""

import io
import socket
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, suppress
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from gevent.lock import Semaphore

from ociflex import buffering_worker
from ociflex.buffering_worker import OneAtATime, buffered_body
from tests.conftest import make_environ
from tests.support.servers import GunicornServer

_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _environ(body: bytes, content_length: str | None) -> dict[str, Any]:
    environ: dict[str, Any] = {"wsgi.input": io.BytesIO(body)}
    if content_length is not None:
        environ["CONTENT_LENGTH"] = content_length
    return environ


def test_a_body_within_the_limit_is_read_whole() -> None:
    body = buffered_body(_environ(b"a=1&b=2", "7"), limit=100)
    assert body is not None
    assert body.read() == b"a=1&b=2"


def test_a_body_declared_too_long_is_left_for_the_app_to_refuse() -> None:
    environ = _environ(b"x" * 50, "500")
    assert buffered_body(environ, limit=100) is None
    assert environ["wsgi.input"].tell() == 0


def test_a_chunked_body_is_read_one_byte_beyond_the_limit_so_the_app_sees_it_is_too_long() -> None:
    body = buffered_body(_environ(b"x" * 500, None), limit=100)
    assert body is not None
    assert len(body.read()) == 101


def test_a_chunked_body_over_the_apps_limit_gets_the_apps_413(served: GunicornServer) -> None:
    # werkzeug checks its size limit against the Content-Length only: a chunked body once
    # passed it, and was read whole, however long.
    chunk = b"a" * 10_000
    request = (
        b"POST /oci/demo HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n"
        + b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(10))
        + b"0\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", served.port), timeout=10) as connection:
        connection.sendall(request)
        answer = connection.makefile("rb").read().decode(errors="replace")
    assert answer.startswith("HTTP/1.1 413"), answer[:200]


def test_a_body_cut_short_by_the_client_is_what_arrived() -> None:
    body = buffered_body(_environ(b"a=1", "10"), limit=100)
    assert body is not None
    assert body.read() == b"a=1"


def test_the_app_runs_holding_the_lock_and_its_whole_answer_is_collected() -> None:
    lock = Semaphore()
    seen: dict[str, Any] = {}

    class Answer(list[bytes]):
        closed = False

        def close(self) -> None:
            Answer.closed = True

    def app(environ: dict[str, Any], start_response: Any) -> Answer:
        seen["locked"] = lock.locked()
        seen["body"] = environ["wsgi.input"].read()
        return Answer([b"one ", b"two"])

    environ = _environ(b"payload", "7")
    answer = OneAtATime(app, lock, limit=100)(environ, lambda *args: None)
    assert answer == [b"one ", b"two"]
    assert seen == {"locked": True, "body": b"payload"}
    assert Answer.closed
    assert not lock.locked()


def test_a_long_streamed_answer_waits_on_disk_not_in_the_workers_memory(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(buffering_worker, "ANSWER_IN_MEMORY", 1000)
    rows = [b"%05d;row\r\n" % number for number in range(500)]

    def app(environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
        yield from rows

    answer = OneAtATime(app, Semaphore(), limit=100)(_environ(b"", "0"), lambda *args: None)

    assert isinstance(answer, buffering_worker.SpooledAnswer)
    assert answer.file._rolled  # written to a file once past the limit
    assert b"".join(answer) == b"".join(rows)
    answer.close()
    assert answer.file.closed


# --- Served by gunicorn, as the Procfile does ----------------------------------------------------


@pytest.fixture
def served(tmp_path: Path, migrated_sqlite: Path, customers_dir: Path) -> Iterator[GunicornServer]:
    """ociflex under the Procfile's gunicorn settings (two workers), on a real SQLite file;
    the worker timeout shortened, so that a test can outlast it."""
    database = tmp_path / "ociflex.sqlite3"
    database.write_bytes(migrated_sqlite.read_bytes())
    environ = make_environ(tmp_path, f"sqlite:///{database}", customers_dir)
    with GunicornServer(environ, workers=2, options=("--timeout", "4")) as server:
        yield server


def _slow_client(server: GunicornServer, start: bytes) -> socket.socket:
    connection = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    connection.sendall(start)
    return connection


def _keep_trickling(connections: list[socket.socket], stop: threading.Event) -> None:
    """One more byte on every connection each half second, as a slow client's data comes."""
    while not stop.wait(0.5):
        for connection in connections:
            with suppress(OSError):
                connection.sendall(b"a")


def _closed_without_answer(connection: socket.socket) -> bool:
    """Whether the server closes ``connection`` (within 10 s) without sending anything; data
    the server left unread makes its close a reset."""
    connection.settimeout(10)
    try:
        return connection.recv(1024) == b""
    except ConnectionResetError:
        return True


def _seconds_to_answer(url: str) -> float:
    began = time.monotonic()
    with _OPENER.open(url, timeout=5) as response:
        assert response.status == 200
    return time.monotonic() - began


def test_fifty_clients_trickling_headers_and_fifty_trickling_bodies_do_not_hold_up_others(
    served: GunicornServer,
) -> None:
    headers = b"GET /healthz/live HTTP/1.1\r\nHost: localhost\r\nX-Slow: "
    body = (
        b"POST /oci/demo HTTP/1.1\r\nHost: localhost\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 10000\r\n\r\nX="
    )
    stop = threading.Event()
    with ExitStack() as stack:
        connections = [
            stack.enter_context(_slow_client(served, start))
            for start in [headers] * 50 + [body] * 50
        ]
        trickler = threading.Thread(target=_keep_trickling, args=(connections, stop))
        trickler.start()
        stack.callback(trickler.join)
        stack.callback(stop.set)
        time.sleep(1)  # every slow client is in the middle of its request
        waits = [_seconds_to_answer(served.url(path="/healthz/live")) for _ in range(10)]
    assert max(waits) < 1.0, waits


def test_a_call_up_that_trickles_in_is_answered_whole(
    served: GunicornServer, demo_callup: dict[str, str]
) -> None:
    body = urlencode(demo_callup).encode()
    head = (
        b"POST /oci/demo HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\n"
        + f"Content-Length: {len(body)}\r\n\r\n".encode()
    )
    with socket.create_connection(("127.0.0.1", served.port), timeout=10) as connection:
        connection.sendall(head)
        for start in range(0, len(body), 40):
            connection.sendall(body[start : start + 40])
            # meanwhile, others are served at once
            assert _seconds_to_answer(served.url(path="/healthz/live")) < 1.0
            time.sleep(0.1)
        answer = connection.makefile("rb").read().decode()
    assert answer.startswith("HTTP/1.1 200")
    assert "Jan Jansen" in answer


def test_a_client_slower_than_the_worker_timeout_is_disconnected(
    served: GunicornServer,
) -> None:
    with _slow_client(served, b"GET /healthz/live HTTP/1.1\r\nHost: localhost\r\nX-Slow: ") as slow:
        began = time.monotonic()
        stop = threading.Event()
        trickler = threading.Thread(target=_keep_trickling, args=([slow], stop))
        trickler.start()
        try:
            assert _closed_without_answer(slow)
        finally:
            stop.set()
            trickler.join()
    assert 3.5 < time.monotonic() - began < 8
