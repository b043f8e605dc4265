"""The time and identity of each document ociflex sends (ociflex/cxml/timestamps.py): a
timestamp every buyer reads (ISO 8601, ``+hh:mm``), and a payloadID that never repeats, since
buyers take a repeated one for a retry of the same document."""

import os
import re
from datetime import UTC, datetime, timedelta, timezone

from ociflex.cxml.timestamps import payload_id, timestamp

ISO_8601 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$")
MOMENT = datetime(2026, 12, 2, 5, 45, 12, 987654, tzinfo=UTC)


def test_a_timestamp_is_iso_8601_in_utc_to_the_second_with_a_colon_in_the_offset() -> None:
    assert timestamp(MOMENT) == "2026-12-02T05:45:12+00:00"


def test_a_moment_in_another_time_zone_is_written_as_the_same_instant_in_utc() -> None:
    amsterdam_winter = timezone(timedelta(hours=1))

    assert timestamp(datetime(2026, 12, 2, 6, 45, 12, tzinfo=amsterdam_winter)) == (
        "2026-12-02T05:45:12+00:00"
    )


def test_the_current_timestamp_has_the_format_and_is_now() -> None:
    before = datetime.now(UTC).replace(microsecond=0)

    written = timestamp()

    assert ISO_8601.match(written)
    assert before <= datetime.fromisoformat(written) <= datetime.now(UTC)


def test_a_payload_id_is_moment_process_random_at_host() -> None:
    written = payload_id("flexfleet.euromobil.example", MOMENT)

    moment, process, random_part = written.removesuffix("@flexfleet.euromobil.example").split(".")
    assert moment == "20261202T054512"
    assert process == str(os.getpid())
    assert re.fullmatch(r"[0-9a-f]{16}", random_part)


def test_payload_ids_of_the_same_second_and_process_never_repeat() -> None:
    written = [payload_id("h", MOMENT) for _ in range(10_000)]

    assert len(set(written)) == len(written)
