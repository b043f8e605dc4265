"""A request's number, taken before its row exists: never handed out twice, by any number of
workers at once, and never one a stored request already has."""

import threading

import pytest
from flask import Flask
from flask.testing import FlaskClient

from ociflex.booking.numbers import take_request_number
from ociflex.db import session_for
from ociflex.models import format_reference
from tests.support.inbox import seed
from tests.support.punchout import acme_booking, basket_of, book, call_up


def take(app: Flask) -> int:
    with session_for(app) as session:
        return take_request_number(session)


def test_numbers_follow_each_other(app: Flask) -> None:
    first = take(app)
    assert [take(app), take(app)] == [first + 1, first + 2]


def test_workers_taking_numbers_at_the_same_time_never_get_the_same_one(app: Flask) -> None:
    workers, each = 8, 25
    start = threading.Barrier(workers)
    taken: list[int] = []

    def worker() -> None:
        start.wait()
        taken.extend(take(app) for _ in range(each))

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(taken) == workers * each
    assert len(set(taken)) == len(taken)


def test_a_number_is_never_one_a_stored_request_already_has(app: Flask) -> None:
    [stored] = seed(app, {})
    assert take(app) > stored


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_on_sqlite_a_number_is_above_the_highest_id_however_that_row_came(app: Flask) -> None:
    # A request stored with an id of its own (a seeded demo database; on PostgreSQL the
    # seed moves the sequence on, as any such insert must).
    [stored] = seed(app, {"id": take(app) + 500})
    assert take(app) == stored + 1


def test_a_number_taken_but_not_used_leaves_a_gap_not_a_duplicate(
    app: Flask, client: FlaskClient, acme_callup: dict[str, str]
) -> None:
    unused = take(app)
    token = call_up(client, "acme", acme_callup).token

    basket = basket_of(book(client, "acme", token, **acme_booking()))

    assert format_reference(unused + 1) in {value for _name, value in basket.pairs}
