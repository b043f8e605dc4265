"""The operations lists write dates with :class:`ociflex.i18n.DateFormatter`, from patterns
parsed once, instead of Flask-Babel's ``format_date`` and ``format_datetime`` (the pages'
``dateformat`` and ``datetimeformat`` filters), for speed. These tests keep every date it writes
the one Flask-Babel writes, in Dutch and English and in the app's timezone (Europe/Amsterdam):
around both changes of the clocks, at midnight, at the turn of the year, on a leap day, and for
any moment hypothesis makes up, so that an upgrade of Babel or Flask-Babel cannot make the two
drift apart unseen."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from flask import Flask, g
from flask_babel import format_date, format_datetime
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from ociflex.i18n import DateFormat, DateFormatter, date_formatter

#: The app's database is never read here: one engine is enough.
ON_SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

LANGUAGES = ("nl", "en")
FORMATS: tuple[DateFormat, ...] = ("short", "medium", "long", "full")
AMSTERDAM = ZoneInfo("Europe/Amsterdam")

FUZZ = settings(
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=300,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


@contextmanager
def dates_in(app: Flask, language: str) -> Iterator[DateFormatter]:
    """A request of a page in ``language`` (as the punch-out views choose it), and the lists'
    formatter for it; Flask-Babel's functions answer in the same request."""
    with app.test_request_context("/ops/"):
        g.language = language
        yield date_formatter()


def assert_written_alike(dates: DateFormatter, moment: datetime) -> None:
    """The moment, its day and its date in every format, as Flask-Babel writes them."""
    for format in FORMATS:
        assert dates.datetime(moment, format) == format_datetime(moment, format), (moment, format)
        assert dates.date(moment, format) == format_date(moment, format), (moment, format)
        day = moment.date()
        assert dates.date(day, format) == format_date(day, format), (day, format)


# --- Moments that are easy to get wrong --------------------------------------------------------


def last_sunday(year: int, month: int) -> date:
    """The last Sunday of ``month`` (March or October: 31 days)."""
    last = date(year, month, 31)
    return last - timedelta(days=(last.weekday() - 6) % 7)


def clock_changes(years: range) -> list[datetime]:
    """When the clocks change in the European Union: 01:00 UTC on the last Sunday of March and
    of October."""
    return [
        datetime.combine(last_sunday(year, month), datetime.min.time(), UTC) + timedelta(hours=1)
        for year in years
        for month in (3, 10)
    ]


#: Around each change: the two hours before it, the hour it changes and the hour after, every
#: quarter of an hour, and the second and the minute either side of the change itself.
STEPS = sorted(
    {timedelta(minutes=minutes) for minutes in range(-120, 121, 15)}
    | {timedelta(seconds=seconds) for seconds in (-60, -1, 1, 60)}
)

AROUND_CLOCK_CHANGES = [
    change + step for change in clock_changes(range(2024, 2031)) for step in STEPS
]

#: Written in Amsterdam's own time: midnight, the turn of the year and a leap day, and the
#: wall-clock times the changes make ambiguous (fold 0 and 1) or skip.
LOCAL_MOMENTS = [
    datetime(2026, 6, 1, 0, 0, tzinfo=AMSTERDAM),
    datetime(2026, 6, 1, 23, 59, 59, 999_999, tzinfo=AMSTERDAM),
    datetime(2026, 12, 31, 23, 59, 59, tzinfo=AMSTERDAM),
    datetime(2027, 1, 1, 0, 0, tzinfo=AMSTERDAM),
    datetime(2028, 2, 29, 0, 0, tzinfo=AMSTERDAM),
    datetime(2028, 2, 29, 23, 59, tzinfo=AMSTERDAM),
    datetime(2028, 3, 1, 0, 0, tzinfo=AMSTERDAM),
    datetime(2026, 10, 25, 2, 30, tzinfo=AMSTERDAM, fold=0),
    datetime(2026, 10, 25, 2, 30, tzinfo=AMSTERDAM, fold=1),
    datetime(2026, 3, 29, 2, 30, tzinfo=AMSTERDAM),
]

#: In UTC, where the day or the year in Amsterdam is already the next one.
UTC_MOMENTS = [
    datetime(2026, 12, 31, 22, 59, 59, tzinfo=UTC),
    datetime(2026, 12, 31, 23, 0, tzinfo=UTC),
    datetime(2026, 12, 31, 23, 30, tzinfo=UTC),
    datetime(2027, 6, 30, 21, 59, tzinfo=UTC),
    datetime(2027, 6, 30, 22, 0, tzinfo=UTC),
    datetime(2028, 2, 28, 23, 0, tzinfo=UTC),
    datetime(2028, 2, 29, 22, 59, 59, tzinfo=UTC),
    datetime(2028, 2, 29, 23, 0, tzinfo=UTC),
    # From elsewhere: New York's evening is Amsterdam's next morning.
    datetime(2026, 12, 31, 19, 30, tzinfo=ZoneInfo("America/New_York")),
]


def test_the_moments_compared_are_the_hard_ones_they_are_meant_to_be() -> None:
    """Guards the comparisons below against moments that lost what made them hard: every change
    of the clocks, its hour before and after, and days that differ in Amsterdam and in UTC."""
    changes = clock_changes(range(2026, 2027))
    assert changes == [datetime(2026, 3, 29, 1, tzinfo=UTC), datetime(2026, 10, 25, 1, tzinfo=UTC)]
    for change in changes:
        before = change - timedelta(seconds=1)
        assert before.astimezone(AMSTERDAM).utcoffset() != change.astimezone(AMSTERDAM).utcoffset()
        assert {change - timedelta(hours=1), change + timedelta(hours=1)} <= set(
            AROUND_CLOCK_CHANGES
        )
    assert any(m.astimezone(AMSTERDAM).year != m.year for m in UTC_MOMENTS)
    assert any(m.astimezone(AMSTERDAM).date() == date(2028, 2, 29) for m in UTC_MOMENTS)


@ON_SQLITE
@pytest.mark.parametrize("language", LANGUAGES)
def test_around_every_change_of_the_clocks_dates_are_written_as_flask_babel_writes_them(
    app: Flask, language: str
) -> None:
    with dates_in(app, language) as dates:
        for moment in AROUND_CLOCK_CHANGES:
            assert_written_alike(dates, moment)


@ON_SQLITE
@pytest.mark.parametrize("language", LANGUAGES)
def test_a_moment_without_a_timezone_is_utc_as_flask_babel_takes_it(
    app: Flask, language: str
) -> None:
    with dates_in(app, language) as dates:
        for moment in AROUND_CLOCK_CHANGES + UTC_MOMENTS:
            if moment.tzinfo is UTC:
                assert_written_alike(dates, moment.replace(tzinfo=None))


@ON_SQLITE
@pytest.mark.parametrize("language", LANGUAGES)
def test_midnight_year_ends_and_leap_days_are_written_as_flask_babel_writes_them(
    app: Flask, language: str
) -> None:
    with dates_in(app, language) as dates:
        for moment in LOCAL_MOMENTS + UTC_MOMENTS:
            assert_written_alike(dates, moment)


@ON_SQLITE
@pytest.mark.parametrize("language", LANGUAGES)
def test_without_a_format_both_write_the_medium_one(app: Flask, language: str) -> None:
    moment = datetime(2026, 3, 29, 1, 0, tzinfo=UTC)
    with dates_in(app, language) as dates:
        assert dates.datetime(moment) == format_datetime(moment)
        assert dates.date(moment) == format_date(moment)


@ON_SQLITE
@pytest.mark.parametrize(
    ("language", "written"),
    [
        (
            "nl",
            ["29-03-2026, 01:59", "29-03-2026, 03:00", "25-10-2026, 02:59", "25-10-2026, 02:00"],
        ),
        (
            "en",
            [
                "3/29/26, 1:59\u202fAM",
                "3/29/26, 3:00\u202fAM",
                "10/25/26, 2:59\u202fAM",
                "10/25/26, 2:00\u202fAM",
            ],
        ),
    ],
)
def test_the_lists_write_the_hour_the_clocks_skip_and_the_one_they_repeat(
    app: Flask, language: str, written: list[str]
) -> None:
    """What a reader sees either side of the changes of 2026, written down once: the
    comparisons above would pass just as well if both wrote UTC."""
    minute = timedelta(minutes=1)
    moments = [
        change + step
        for change in clock_changes(range(2026, 2027))
        for step in (-minute, timedelta(0))
    ]
    with dates_in(app, language) as dates:
        assert [dates.datetime(moment, "short") for moment in moments] == written


# --- Any moment ---------------------------------------------------------------------------------


@ON_SQLITE
@FUZZ
@given(
    language=st.sampled_from(LANGUAGES),
    moment=st.datetimes(
        min_value=datetime(1900, 1, 1),
        max_value=datetime(2200, 12, 31),
        timezones=st.one_of(st.none(), st.just(UTC), st.just(AMSTERDAM), st.timezones()),
    ),
)
@example(language="nl", moment=datetime(1937, 6, 30, 23, 59, 59, tzinfo=AMSTERDAM))
@example(language="en", moment=datetime(1916, 5, 1, 0, 0, tzinfo=AMSTERDAM))
def test_any_moment_is_written_as_flask_babel_writes_it(
    app: Flask, language: str, moment: datetime
) -> None:
    with dates_in(app, language) as dates:
        assert_written_alike(dates, moment)
