"""The pickup's calendar entry, written by hand: RFC 5545 line folding, escaping and UTC times."""

import re
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from ociflex.mail.ics import Event, calendar, escape_text, feed, fold, utc_stamp

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
STAMP = datetime(2026, 11, 28, 9, 30, tzinfo=UTC)


def unfold(text: str) -> list[str]:
    """The logical lines of a calendar, as a calendar program reads them."""
    assert text.endswith("\r\n")
    return text.replace("\r\n ", "").removesuffix("\r\n").split("\r\n")


def properties(text: str) -> dict[str, str]:
    """``NAME`` (with parameters) -> value, for the lines inside the VEVENT."""
    lines = unfold(text)
    event = lines[lines.index("BEGIN:VEVENT") + 1 : lines.index("END:VEVENT")]
    return dict(line.split(":", 1) for line in event)


def unescape(value: str) -> str:
    return re.sub(r"\\(.)", lambda m: "\n" if m.group(1) in "nN" else m.group(1), value)


def event(**changes: object) -> Event:
    values: dict[str, object] = {
        "uid": "FF-000042@flexfleet.euromobil",
        "start": datetime(2026, 12, 1, 9, 0, tzinfo=AMSTERDAM),
        "end": datetime(2026, 12, 3, 17, 30, tzinfo=AMSTERDAM),
        "summary": "Pick up FlexFleet rental FF-000042",
        "location": "Utrecht Papendorp",
        "description": "",
    }
    values.update(changes)
    return Event(**values)  # type: ignore[arg-type]


# --- Escaping -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        ("Estate car, Škoda", "Estate car\\, Škoda"),
        ("a;b", "a\\;b"),
        ("C:\\temp", "C:\\\\temp"),
        ("line one\nline two", "line one\\nline two"),
        ("line one\r\nline two\rthree", "line one\\nline two\\nthree"),
        ("tab\there", "tab here"),
        ("plain: text", "plain: text"),
    ],
)
def test_text_values_escape_backslash_semicolon_comma_and_line_breaks(
    text: str, escaped: str
) -> None:
    assert escape_text(text) == escaped


def test_escaped_text_reads_back_as_the_original() -> None:
    text = 'Kenteken AB-123-C; sleutel bij de balie, "Hal 2"\\achter\nTweede regel'
    assert unescape(escape_text(text)) == text


# --- Folding ------------------------------------------------------------------------------------


def test_a_short_line_is_not_folded() -> None:
    assert fold("SUMMARY:Short") == "SUMMARY:Short"


def test_a_line_of_exactly_75_octets_is_not_folded() -> None:
    line = "X" * 75
    assert fold(line) == line


def test_long_lines_fold_at_75_octets_and_unfold_to_the_original() -> None:
    line = "DESCRIPTION:" + "0123456789" * 30
    folded = fold(line)
    physical = folded.split("\r\n")
    assert len(physical) > 1
    assert all(len(p.encode()) <= 75 for p in physical)
    assert len(physical[0].encode()) == 75
    assert all(p.startswith(" ") for p in physical[1:])
    assert folded.replace("\r\n ", "") == line


def test_folding_never_splits_a_multi_byte_character() -> None:
    line = "SUMMARY:" + "Škoda € ë " * 30
    folded = fold(line)
    for physical in folded.split("\r\n"):
        assert len(physical.encode("utf-8")) <= 75
        physical.encode("utf-8").decode("utf-8")  # each line is whole UTF-8 on its own
    assert folded.replace("\r\n ", "") == line


# --- Times --------------------------------------------------------------------------------------


def test_times_are_written_in_utc_with_a_z() -> None:
    winter = datetime(2026, 12, 1, 9, 0, tzinfo=AMSTERDAM)  # CET, UTC+1
    summer = datetime(2026, 7, 1, 9, 0, tzinfo=AMSTERDAM)  # CEST, UTC+2
    assert utc_stamp(winter) == "20261201T080000Z"
    assert utc_stamp(summer) == "20260701T070000Z"


def test_a_time_without_a_zone_is_refused() -> None:
    with pytest.raises(ValueError, match="time zone"):
        utc_stamp(datetime(2026, 12, 1, 9, 0))


# --- The calendar -------------------------------------------------------------------------------


def test_the_calendar_holds_one_event_with_uid_times_summary_and_location() -> None:
    text = calendar(event(), stamp=STAMP)
    lines = unfold(text)
    assert lines[:2] == ["BEGIN:VCALENDAR", "VERSION:2.0"]
    assert lines[-1] == "END:VCALENDAR"
    assert lines.count("BEGIN:VEVENT") == lines.count("END:VEVENT") == 1
    assert any(line.startswith("PRODID:") for line in lines)
    assert "METHOD:PUBLISH" in lines
    props = properties(text)
    assert props["UID"] == "FF-000042@flexfleet.euromobil"
    assert props["DTSTAMP"] == "20261128T093000Z"
    assert props["DTSTART"] == "20261201T080000Z"
    assert props["DTEND"] == "20261203T163000Z"
    assert props["SUMMARY"] == "Pick up FlexFleet rental FF-000042"
    assert props["LOCATION"] == "Utrecht Papendorp"


def test_every_line_ends_in_crlf_and_has_at_most_75_octets() -> None:
    long_text = "Stationwagen (Škoda Octavia Combi), kenteken AB-123-C; " * 5
    text = calendar(event(summary=long_text, description=long_text), stamp=STAMP)
    assert "\n" not in text.replace("\r\n", "")
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))
    assert unescape(properties(text)["SUMMARY"]) == long_text


def test_values_with_commas_semicolons_backslashes_and_line_breaks_survive() -> None:
    location = "Hal 2, balie 3; achter\\de slagboom"
    description = "Referentie: FF-000042\nVoertuig: Bestelbus, kenteken VX-999-Z"
    props = properties(calendar(event(location=location, description=description)))
    assert props["LOCATION"] == "Hal 2\\, balie 3\\; achter\\\\de slagboom"
    assert unescape(props["LOCATION"]) == location
    assert unescape(props["DESCRIPTION"]) == description


def test_a_rental_without_planned_times_is_a_whole_day_event() -> None:
    text = calendar(event(start=date(2026, 12, 1), end=date(2026, 12, 4)), stamp=STAMP)
    props = properties(text)
    assert props["DTSTART;VALUE=DATE"] == "20261201"
    assert props["DTEND;VALUE=DATE"] == "20261204"


def test_start_and_end_must_be_of_one_kind() -> None:
    with pytest.raises(ValueError, match="both"):
        calendar(event(end=date(2026, 12, 4)))


def test_an_empty_location_is_left_out() -> None:
    assert "LOCATION" not in properties(calendar(event(location=""), stamp=STAMP))


# --- A feed -------------------------------------------------------------------------------------


def test_a_feed_holds_its_name_and_every_event_in_one_calendar() -> None:
    events = [event(uid=f"FF-00004{n}@flexfleet.euromobil") for n in range(3)]
    text = "".join(feed(iter(events), name="Planning Utrecht, Papendorp", stamp=STAMP))
    lines = unfold(text)
    assert lines[0] == "BEGIN:VCALENDAR"
    assert lines[-1] == "END:VCALENDAR"
    assert lines.count("BEGIN:VCALENDAR") == 1
    assert "X-WR-CALNAME:Planning Utrecht\\, Papendorp" in lines
    uids = [line.removeprefix("UID:") for line in lines if line.startswith("UID:")]
    assert uids == [e.uid for e in events]
    assert lines.count("BEGIN:VEVENT") == lines.count("END:VEVENT") == 3


def test_an_empty_feed_is_a_calendar_without_events() -> None:
    lines = unfold("".join(feed([], name="Leeg", stamp=STAMP)))
    assert lines[0] == "BEGIN:VCALENDAR"
    assert lines[-1] == "END:VCALENDAR"
    assert "BEGIN:VEVENT" not in lines
