"""Many made-up rental requests at once, written straight to the database (no HTTP), for
benchmarks and for trying the inbox at scale: ``flask --app app ociflex dev seed``.

Each request is stored as the punch-out stores one, with what the inbox relies on kept in
step: its ``registered`` event, one workflow event when it is past ``new``, and the per-status
counts (:class:`~ociflex.models.StatusCount`). A scheduled or confirmed request has its plan,
as the planning shows it: a licence plate of its own (seeded plans never conflict: a conflict
is the exception operations act on), picked up at one of :data:`BRANCHES` on its first day
between 08:00 and 12:00 and returned on its last day between 14:00 and 18:00, Dutch time.

Rows go in by the chunk: ``executemany`` on SQLite, ``COPY`` on PostgreSQL, whose planner
statistics are refreshed afterwards (``ANALYZE``) as autovacuum would do after a load this
size.
"""

import json
import random
import time
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from decimal import Decimal
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, Engine, func, select, text
from sqlalchemy.dialects import postgresql, sqlite

from ociflex.booking.words import fill_request_words
from ociflex.customers.model import Customer
from ociflex.mail.compose import LOCAL_TIME
from ociflex.models import RentalRequest, RequestEvent, StatusCount, format_reference, search_key

#: How seeded requests are spread over the statuses (most of a busy inbox is done with).
STATUS_WEIGHTS = {
    "new": 8,
    "in_progress": 4,
    "scheduled": 6,
    "confirmed": 70,
    "rejected": 6,
    "cancelled": 6,
}
#: The workflow step that brought a request into its status: (action, from status).
ARRIVALS = {
    "in_progress": ("start", "new"),
    "scheduled": ("schedule", "in_progress"),
    "confirmed": ("confirm", "scheduled"),
    "rejected": ("reject", "new"),
    "cancelled": ("cancel", "in_progress"),
}
SEED_ACTOR = "seed"
#: The branches seeded plans are picked up at (and returned to).
BRANCHES = (
    "Amsterdam Sloterdijk",
    "Utrecht Papendorp",
    "Rotterdam Alexander",
    "Eindhoven Airport",
    "Den Haag Forepark",
    "Zwolle Hanzeland",
)
#: Planned pickups fall on the quarter hours of the four hours from 08:00, returns of the four
#: from 14:00.
PICKUP_FROM = 8
RETURN_FROM = 14
OPENING_HOURS = 4
_PLATE_LETTERS = "BDFGHJKLNPRSTVXZ"
#: Page cache of the seeding connection on SQLite.
SQLITE_CACHE_KIB = 512 * 1024
FIRST_NAMES = [
    "Jan",
    "Anna",
    "Pieter",
    "Sophie",
    "Daan",
    "Emma",
    "Lucas",
    "Julia",
    "Sem",
    "Mila",
    "Levi",
    "Tess",
    "Finn",
    "Sara",
    "Noah",
    "Zoë",
    "Bram",
    "Lotte",
    "Thijs",
    "Fenna",
    "Jane",
    "John",
    "Maria",
    "Ahmed",
    "Fatima",
    "Yusuf",
    "Ingrid",
    "Lars",
    "Olga",
    "Piotr",
]
LAST_NAMES = [
    "de Jong",
    "Jansen",
    "de Vries",
    "van den Berg",
    "van Dijk",
    "Bakker",
    "Visser",
    "Smit",
    "Meijer",
    "de Boer",
    "Mulder",
    "de Groot",
    "Bos",
    "Vos",
    "Peters",
    "Hendriks",
    "van Leeuwen",
    "Dekker",
    "Brouwer",
    "de Wit",
    "Smith",
    "Müller",
    "Kowalski",
]


@dataclass(frozen=True)
class SeedCustomer:
    """What a seeded request copies from its customer."""

    id: str
    language: str
    currency: str
    #: (code, name, day rate) of each vehicle.
    vehicles: tuple[tuple[str, str, Decimal], ...]
    locations: tuple[str, ...]

    @classmethod
    def of(cls, customer: Customer) -> "SeedCustomer":
        return cls(
            customer.id,
            customer.language,
            customer.cart.currency,
            tuple((v.code, v.name.get(customer.language), v.day_rate) for v in customer.vehicles),
            customer.locations,
        )

    @classmethod
    def made_up(cls, customer_id: str) -> "SeedCustomer":
        """A customer with no file: requests of a customer that is no longer served."""
        vehicles = (
            ("COMPACT", "Compact car", Decimal("39.50")),
            ("VAN", "Van (VW Transporter)", Decimal("79.00")),
        )
        return cls(customer_id, "en", "EUR", vehicles, ())


def seed_customers(served: Mapping[str, Customer], count: int | None) -> list[SeedCustomer]:
    """``count`` customers to spread requests over: the served ones (by id) first, then made-up
    ids ``seed-0001``, ...; all served ones when ``count`` is None."""
    chosen = [SeedCustomer.of(served[cid]) for cid in sorted(served)][:count]
    missing = (count or 0) - len(chosen)
    chosen += [SeedCustomer.made_up(f"seed-{n:04d}") for n in range(1, missing + 1)]
    if not chosen:
        raise ValueError("no customer to seed requests for: none is served")
    return chosen


@dataclass(frozen=True)
class SeedReport:
    requests: int
    events: int
    first_id: int
    last_id: int
    seconds: float


#: The columns seeded, in the order of the rows :class:`_Rows` makes.
REQUEST_COLUMNS = [
    "id",
    "punchout_id",
    "customer_id",
    "protocol",
    "status",
    "language",
    "version",
    "requester_email",
    "requester_name",
    "name_key",
    "vehicle_code",
    "vehicle_name",
    "day_rate",
    "currency",
    "start_date",
    "end_date",
    "days",
    "location",
    "remarks",
    "cost_centre",
    "po_number",
    "planned_vehicle",
    "licence_plate",
    "pickup_at",
    "return_at",
    "pickup_location",
    "fields",
    "inbound",
    "cart",
    "ops_notes",
    "reason",
    "created_at",
    "updated_at",
]
EVENT_COLUMNS = [
    "id",
    "request_id",
    "at",
    "actor",
    "operator_id",
    "action",
    "from_status",
    "to_status",
    "changes",
    "client_address",
]


class _Rows:
    """The seeded requests and events as rows of text and numbers, in the column order above,
    as both engines take them without conversion (SQLite's column affinity and PostgreSQL's
    COPY read the text): made up deterministically from ``seed``."""

    def __init__(
        self,
        customers: Sequence[SeedCustomer],
        seed: int,
        count: int,
        dialect: str,
        newest: datetime,
    ) -> None:
        self.customers = customers
        self.random = random.Random(seed)  # noqa: S311 (made-up data, not secrets)
        self.count = count
        self.now = newest.astimezone(UTC).replace(microsecond=0)
        # The oldest request is a year old, or one a minute for a smaller batch.
        self.step = timedelta(seconds=max(1, min(60, 365 * 86400 // max(count, 1))))
        # SQLite keeps SQLAlchemy's naive UTC text; PostgreSQL reads a time zone.
        self.moment = "%Y-%m-%d %H:%M:%S.000000" if dialect == "sqlite" else "%Y-%m-%d %H:%M:%S+00"
        self.people = [
            (f"{first} {last}", search_key(f"{first} {last}"), f"{first}.{last}".replace(" ", ""))
            for first in FIRST_NAMES
            for last in LAST_NAMES
        ]

    def chunk(self, positions: range, first_id: int, first_event_id: int) -> "_Chunk":
        statuses = self.random.choices(
            list(STATUS_WEIGHTS), list(STATUS_WEIGHTS.values()), k=len(positions)
        )
        chunk = _Chunk()
        event_id = first_event_id
        for position, status in zip(positions, statuses, strict=True):
            request_id = first_id + position
            # Only the newest requests are still waiting; older ones are done with.
            if position < self.count - 2000 and status in ("new", "in_progress"):
                status = "confirmed"
            customer = self.customers[request_id % len(self.customers)]
            created = self.now - self.step * (self.count - position)
            at = created.strftime(self.moment)
            chunk.requests.append(self._request(request_id, status, customer, created, at))
            chunk.events.append(
                (event_id, request_id, at, "employee", None, "registered", None, "new", "{}", None)
            )
            event_id += 1
            if status in ARRIVALS:
                action, from_status = ARRIVALS[status]
                chunk.events.append(
                    (
                        event_id,
                        request_id,
                        at,
                        SEED_ACTOR,
                        None,
                        action,
                        from_status,
                        status,
                        "{}",
                        None,
                    )
                )
                event_id += 1
            chunk.counts[customer.id, status] += 1
        return chunk

    def _request(
        self, request_id: int, status: str, customer: SeedCustomer, created: datetime, at: str
    ) -> tuple[Any, ...]:
        """The row of one request: a made-up requester, the customer's vehicle, made-up days."""
        pick = self.random
        code, vehicle_name, rate = customer.vehicles[request_id % len(customer.vehicles)]
        start = created.date() + timedelta(days=pick.randrange(1, 60))
        days = pick.randrange(1, 15)
        name, name_key, mailbox = pick.choice(self.people)
        email = f"{mailbox}{request_id % 997}@{customer.id}.example".lower()
        cost_centre = str(4000 + request_id % 900)
        end = start + timedelta(days=days - 1)
        plan = self._plan(request_id, start, end, vehicle_name) if status in PLANNED else _NO_PLAN
        locations = customer.locations
        return (
            request_id,
            f"seed-{request_id}",
            customer.id,
            "oci",
            status,
            customer.language,
            1 if status == "new" else 2,
            email,
            name,
            name_key,
            code,
            vehicle_name,
            str(rate),
            customer.currency,
            start.isoformat(),
            end.isoformat(),
            days,
            locations[request_id % len(locations)] if locations else None,
            "",
            cost_centre,
            f"PO-{request_id}",
            *plan,
            json.dumps({"email": email, "full_name": name, "cost_centre": cost_centre}),
            json.dumps(
                {
                    "parameters": [
                        ["USERNAME", f"{customer.id}-erp"],
                        ["oci_usermail", email],
                    ]
                }
            ),
            json.dumps(_basket(customer, request_id, code, start, days, rate)),
            "",
            "Seeded." if status in ("rejected", "cancelled") else "",
            at,
            at,
        )

    def _plan(
        self, request_id: int, start: date, end: date, vehicle_name: str
    ) -> tuple[str, str, str, str, str]:
        """Planned vehicle, licence plate, pickup, return and branch of a planned request."""
        slots = 4 * OPENING_HOURS
        return (
            vehicle_name,
            plate(request_id),
            _dutch_moment(start, PICKUP_FROM, self.random.randrange(slots), self.moment),
            _dutch_moment(end, RETURN_FROM, self.random.randrange(slots), self.moment),
            BRANCHES[request_id % len(BRANCHES)],
        )


#: The statuses whose seeded requests have a plan (ociflex.ops.conflicts.PLANNED_STATUSES).
PLANNED = ("scheduled", "confirmed")
_NO_PLAN = (None, None, None, None, None)


@lru_cache(maxsize=65536)
def _dutch_moment(day: date, first_hour: int, quarter: int, moment_format: str) -> str:
    """The ``quarter``-th quarter hour from ``first_hour`` on the Dutch ``day``, as stored
    (UTC, in ``moment_format``): a million requests share a few thousand of them. Opening
    hours are never the hour the clocks skip or repeat."""
    at = clock(first_hour + quarter // 4, 15 * (quarter % 4))
    moment = datetime.combine(day, at, tzinfo=LOCAL_TIME).astimezone(UTC)
    return moment.strftime(moment_format)


def plate(request_id: int) -> str:
    """A Dutch-looking licence plate, ``XX-999-X``, of its own for each of the first 4,096,000
    requests."""
    letters = len(_PLATE_LETTERS)
    rest = request_id // 1000
    first, second, last = (rest // letters**n % letters for n in range(3))
    return (
        f"{_PLATE_LETTERS[last]}{_PLATE_LETTERS[second]}-{request_id % 1000:03d}-"
        f"{_PLATE_LETTERS[first]}"
    )


def _basket(
    customer: SeedCustomer, request_id: int, code: str, start: date, days: int, rate: Decimal
) -> dict[str, Any]:
    """The OCI basket the request was answered with."""
    return {
        "action": f"https://erp.{customer.id}.example/hook",
        "target": "_top",
        "charset": "utf-8",
        "fields": [
            ["NEW_ITEM-DESCRIPTION[1]", f"{code} {start:%d-%m-%Y}"],
            ["NEW_ITEM-QUANTITY[1]", str(days)],
            ["NEW_ITEM-UNIT[1]", "DAY"],
            ["NEW_ITEM-PRICE[1]", str(rate)],
            ["NEW_ITEM-CURRENCY[1]", customer.currency],
            ["NEW_ITEM-EXT_PRODUCT_ID[1]", code],
            ["NEW_ITEM-EXT_QUOTE_ID[1]", format_reference(request_id)],
        ],
    }


@dataclass
class _Chunk:
    requests: list[tuple[Any, ...]] = field(default_factory=list)
    events: list[tuple[Any, ...]] = field(default_factory=list)
    counts: Counter[tuple[str, str]] = field(default_factory=Counter)


def _next_id(connection: Connection, column: Any) -> int:
    return int(connection.scalar(select(func.coalesce(func.max(column), 0)))) + 1


def _write(
    connection: Connection, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]
) -> None:
    if not rows:
        return
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    names = ", ".join(columns)
    if connection.dialect.name == "postgresql":
        with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    else:
        marks = ", ".join("?" * len(columns))
        cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)  # noqa: S608


def _add_counts(connection: Connection, counts: Counter[tuple[str, str]]) -> None:
    dialect = connection.dialect.name
    upsert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    for (customer_id, status), step in counts.items():
        statement = upsert(StatusCount).values(customer_id=customer_id, status=status, count=step)
        connection.execute(
            statement.on_conflict_do_update(
                index_elements=[StatusCount.customer_id, StatusCount.status],
                set_={"count": StatusCount.count + step},
            )
        )


def _chunks(total: int, size: int) -> Iterator[range]:
    for start in range(0, total, size):
        yield range(start, min(total, start + size))


def seed_requests(
    engine: Engine,
    count: int,
    customers: Sequence[SeedCustomer],
    *,
    seed: int = 7,
    chunk: int = 20_000,
    newest: datetime | None = None,
) -> SeedReport:
    """Add ``count`` requests (after the newest one stored), spread over ``customers``, with
    their events and counts; one transaction per ``chunk`` requests, so an interrupted run
    leaves whole chunks, each with its counts. They come in up to ``newest`` (default:
    now), each picked up in the two months after it came in."""
    began = time.monotonic()
    events_written = 0
    with engine.connect() as connection:
        dialect = connection.dialect.name
        if dialect == "sqlite":
            # Eleven indexes on made-up values: SQLite's default 2 MB page cache would reread
            # most index pages for every chunk.
            connection.exec_driver_sql(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
        first_id = _next_id(connection, RentalRequest.id)
        next_event = _next_id(connection, RequestEvent.id)
        connection.rollback()
        rows = _Rows(customers, seed, count, dialect, newest or datetime.now(UTC))
        for positions in _chunks(count, chunk):
            made = rows.chunk(positions, first_id, next_event)
            with connection.begin():
                _write(connection, "rental_requests", REQUEST_COLUMNS, made.requests)
                _write(connection, "request_events", EVENT_COLUMNS, made.events)
                _add_counts(connection, made.counts)
                # Searchable by any word of the name, as a registered request is.
                fill_request_words(connection, after=first_id + positions.start - 1)
            next_event += len(made.events)
            events_written += len(made.events)
        if dialect == "postgresql":
            with connection.begin():
                _sync_sequences(connection)
                connection.exec_driver_sql(
                    "ANALYZE rental_requests, request_events, request_status_counts, request_words"
                )
    return SeedReport(
        count, events_written, first_id, first_id + count - 1, time.monotonic() - began
    )


def _sync_sequences(connection: Connection) -> None:
    """COPY with explicit ids leaves the id sequences behind: move them past the new rows."""
    for table in ("rental_requests", "request_events"):
        connection.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                f"(SELECT max(id) FROM {table}))"
            )
        )
