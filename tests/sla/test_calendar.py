"""Table-driven tests for sla.clocks.calendar (pure: no database, no Django)."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from sla.clocks import calendar as calendar_module
from sla.clocks.calendar import (
    add,
    clock_start,
    counted_intervals,
    day_info,
    elapsed,
    is_open,
    next_opening,
)
from sla.clocks.values import (
    CalendarSnapshot,
    ClockKind,
    Closure,
    DayInfo,
    ExtraOpening,
    NeverOpenError,
    Segment,
    public_holidays,
)

WALL = ClockKind.WALL
HOURS = ClockKind.BUSINESS_HOURS
DAYS = ClockKind.BUSINESS_DAYS
CLOSED: tuple[tuple[int, int], ...] = ()


def hours(*spans: str) -> tuple[tuple[int, int], ...]:
    """hours("09:00-12:00", "13:00-17:00") -> ((540, 720), (780, 1020))."""

    def minute(text: str) -> int:
        hh, mm = text.split(":")
        return int(hh) * 60 + int(mm)

    return tuple((minute(s.split("-")[0]), minute(s.split("-")[1])) for s in spans)


NINE_TO_FIVE = hours("09:00-17:00")
EUROPE = CalendarSnapshot(
    time_zone="Europe/Berlin",
    weekly=(NINE_TO_FIVE,) * 4 + (hours("09:00-16:00"), CLOSED, CLOSED),
    holiday_country="DE",
    holiday_subdivision="NW",
)
NORTH_AMERICA = CalendarSnapshot(
    time_zone="America/New_York",
    weekly=(NINE_TO_FIVE,) * 5 + (CLOSED, CLOSED),
    holiday_country="US",
)
FRANCE = CalendarSnapshot(
    time_zone="Europe/Paris", weekly=(NINE_TO_FIVE,) * 5 + (CLOSED, CLOSED), holiday_country="FR"
)
LUNCH = replace(FRANCE, weekly=(hours("09:00-12:00", "13:00-17:00"),) * 5 + (CLOSED, CLOSED))
ALWAYS_DE = CalendarSnapshot(time_zone="Europe/Berlin", weekly=(hours("00:00-24:00"),) * 7)
ALWAYS_NY = CalendarSnapshot(time_zone="America/New_York", weekly=(hours("00:00-24:00"),) * 7)
# Overnight shift: 22:00-06:00 from Monday night to Saturday morning.
NIGHT = CalendarSnapshot(
    time_zone="Europe/Berlin",
    weekly=(hours("22:00-24:00"),)
    + (hours("00:00-06:00", "22:00-24:00"),) * 4
    + (hours("00:00-06:00"), CLOSED),
)
# Sunday hours inside the DST gap / fold, plus the usual weekdays.
SUNDAY_NIGHT = CalendarSnapshot(
    time_zone="Europe/Berlin", weekly=(NINE_TO_FIVE,) * 5 + (CLOSED, hours("02:30-05:00"))
)
SUNDAY_NIGHT_NY = CalendarSnapshot(
    time_zone="America/New_York", weekly=(CLOSED,) * 6 + (hours("01:30-03:00"),)
)
WINTER = replace(EUROPE, closures=(Closure(date(2026, 12, 24), date(2027, 1, 1), "Winter break"),))
EXTRAS = replace(
    WINTER,
    extra_openings=(
        ExtraOpening(date(2026, 6, 6), 600, 720, "Launch weekend"),  # Saturday
        ExtraOpening(date(2026, 6, 4), 600, 720, "Corpus Christi cover"),  # public holiday
        ExtraOpening(date(2026, 6, 15), 1020, 1140, "Late shift"),  # Monday, after hours
        ExtraOpening(date(2026, 12, 28), 540, 780, "Inventory"),  # inside the closure
        ExtraOpening(date(2026, 3, 29), 60, 300, "Migration"),  # Sunday, across the DST gap
    ),
)
NEVER = CalendarSnapshot(time_zone="Europe/Berlin", weekly=(CLOSED,) * 7)
ONLY_EXTRA = replace(NEVER, extra_openings=(ExtraOpening(date(2026, 6, 6), 600, 720),))


def span(text: str) -> timedelta:
    """span("5h1m") -> timedelta(hours=5, minutes=1); units d, h, m."""
    total, number = timedelta(0), ""
    for char in text:
        if char.isdigit():
            number += char
        else:
            total += timedelta(**{{"d": "days", "h": "hours", "m": "minutes"}[char]: int(number)})
            number = ""
    return total


def at(cal: CalendarSnapshot, text: str) -> datetime:
    """Local wall time on the calendar, or an explicit instant when `text` has an offset."""
    value = datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=ZoneInfo(cal.time_zone))


def utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


def show(value: datetime) -> str:
    return value.isoformat(sep=" ", timespec="minutes")


def reference_elapsed(
    cal: CalendarSnapshot, kind: ClockKind, start: datetime, end: datetime
) -> timedelta:
    """Counted time walked date by date from day_info alone (no week skipping)."""
    low, high = start.astimezone(UTC), end.astimezone(UTC)
    if high <= low:
        return timedelta(0)
    if kind is WALL:
        return high - low
    tz = ZoneInfo(cal.time_zone)
    total = timedelta(0)
    day = low.astimezone(tz).date() - timedelta(days=1)
    while day <= high.astimezone(tz).date():
        info = day_info(cal, day)
        if kind is HOURS:
            spans = list(info.intervals)
        elif info.business_day:  # tested zones have no DST change at midnight
            next_day = day + timedelta(days=1)
            spans = [(datetime.combine(day, time(), tz), datetime.combine(next_day, time(), tz))]
        else:
            spans = []
        for span_start, span_end in spans:
            counted = min(span_end.astimezone(UTC), high) - max(span_start.astimezone(UTC), low)
            total += max(counted, timedelta(0))
        day += timedelta(days=1)
    return total


# --- add -------------------------------------------------------------------------------------

ADD_CASES: list[tuple[str, CalendarSnapshot, ClockKind, str, str, str]] = [
    # The rules page's worked examples.
    ("fri 15:00 + 1 bd", EUROPE, DAYS, "2026-06-05 15:00", "1d", "2026-06-08 15:00+02:00"),
    ("thu 16:30 + 1 bd", EUROPE, DAYS, "2026-06-11 16:30", "1d", "2026-06-12 16:30+02:00"),
    ("corpus christi", EUROPE, DAYS, "2026-06-03 10:00", "1d", "2026-06-05 10:00+02:00"),
    ("fri 11:00 + 5 bh", EUROPE, HOURS, "2026-06-12 11:00", "5h", "2026-06-12 16:00+02:00"),
    # Business hours.
    ("past closing", EUROPE, HOURS, "2026-06-12 11:00", "5h1m", "2026-06-15 09:01+02:00"),
    ("over the weekend", EUROPE, HOURS, "2026-06-12 15:00", "2h", "2026-06-15 10:00+02:00"),
    ("start on saturday", EUROPE, HOURS, "2026-06-13 10:00", "1h", "2026-06-15 10:00+02:00"),
    ("start before opening", EUROPE, HOURS, "2026-06-15 07:00", "1h", "2026-06-15 10:00+02:00"),
    ("start at closing", EUROPE, HOURS, "2026-06-15 17:00", "1h", "2026-06-16 10:00+02:00"),
    ("over a holiday", EUROPE, HOURS, "2026-06-03 16:00", "2h", "2026-06-05 10:00+02:00"),
    ("berlin spring dst", EUROPE, HOURS, "2026-03-27 15:30", "1h", "2026-03-30 09:30+02:00"),
    ("berlin autumn dst", EUROPE, HOURS, "2026-10-23 15:30", "1h", "2026-10-26 09:30+01:00"),
    ("year end", EUROPE, HOURS, "2026-12-31 16:00", "2h", "2027-01-04 10:00+01:00"),
    ("leap day", EUROPE, HOURS, "2028-02-28 16:00", "2h", "2028-02-29 10:00+01:00"),
    ("us observed", NORTH_AMERICA, HOURS, "2026-07-02 16:00", "2h", "2026-07-06 10:00-04:00"),
    ("ny spring dst", NORTH_AMERICA, HOURS, "2026-03-06 16:00", "2h", "2026-03-09 10:00-04:00"),
    ("ny autumn dst", NORTH_AMERICA, HOURS, "2026-10-30 16:00", "2h", "2026-11-02 10:00-05:00"),
    ("france national day", FRANCE, HOURS, "2026-07-13 16:00", "2h", "2026-07-15 10:00+02:00"),
    ("france victory day", FRANCE, HOURS, "2026-05-07 16:00", "2h", "2026-05-11 10:00+02:00"),
    ("due at lunch break", LUNCH, HOURS, "2026-06-15 11:00", "1h", "2026-06-15 12:00+02:00"),
    ("over lunch break", LUNCH, HOURS, "2026-06-15 11:00", "2h", "2026-06-15 14:00+02:00"),
    ("start in lunch break", LUNCH, HOURS, "2026-06-15 12:30", "30m", "2026-06-15 13:30+02:00"),
    ("overnight due at midnight", NIGHT, HOURS, "2026-06-15 23:00", "1h", "2026-06-16 00:00+02:00"),
    ("overnight past midnight", NIGHT, HOURS, "2026-06-15 23:00", "2h", "2026-06-16 01:00+02:00"),
    ("overnight over weekend", NIGHT, HOURS, "2026-06-20 05:00", "2h", "2026-06-22 23:00+02:00"),
    ("closure over year end", WINTER, HOURS, "2026-12-23 16:00", "2h", "2027-01-04 10:00+01:00"),
    ("extra saturday", EXTRAS, HOURS, "2026-06-05 15:30", "1h", "2026-06-06 10:30+02:00"),
    ("extra in closure", EXTRAS, HOURS, "2026-12-23 16:00", "2h", "2026-12-28 10:00+01:00"),
    ("extra after hours", EXTRAS, HOURS, "2026-06-15 16:00", "2h", "2026-06-15 18:00+02:00"),
    ("24/7 de spring", ALWAYS_DE, HOURS, "2026-03-29 00:00", "24h", "2026-03-30 01:00+02:00"),
    ("24/7 de autumn", ALWAYS_DE, HOURS, "2026-10-25 00:00", "24h", "2026-10-25 23:00+01:00"),
    ("24/7 ny spring", ALWAYS_NY, HOURS, "2026-03-08 00:00", "24h", "2026-03-09 01:00-04:00"),
    ("24/7 ny autumn", ALWAYS_NY, HOURS, "2026-11-01 00:00", "24h", "2026-11-01 23:00-05:00"),
    ("gap start", SUNDAY_NIGHT, HOURS, "2026-03-29 00:00", "30m", "2026-03-29 03:30+02:00"),
    ("fold start", SUNDAY_NIGHT, HOURS, "2026-10-25 00:00", "1h", "2026-10-25 02:30+01:00"),
    # Business days.
    ("no move on fri 16:30", EUROPE, DAYS, "2026-06-12 16:30", "1d", "2026-06-15 16:30+02:00"),
    ("no move on saturday", EUROPE, DAYS, "2026-06-13 10:00", "1d", "2026-06-16 00:00+02:00"),
    ("berlin spring dst bd", EUROPE, DAYS, "2026-03-27 12:00", "1d", "2026-03-30 12:00+02:00"),
    ("berlin autumn dst bd", EUROPE, DAYS, "2026-10-23 12:00", "1d", "2026-10-26 12:00+01:00"),
    ("ny spring dst bd", NORTH_AMERICA, DAYS, "2026-03-06 12:00", "1d", "2026-03-09 12:00-04:00"),
    ("ny autumn dst bd", NORTH_AMERICA, DAYS, "2026-10-30 12:00", "1d", "2026-11-02 12:00-05:00"),
    ("24/7 de 23h day", ALWAYS_DE, DAYS, "2026-03-29 00:00", "1d", "2026-03-30 01:00+02:00"),
    ("24/7 de across gap", ALWAYS_DE, DAYS, "2026-03-28 12:00", "1d", "2026-03-29 13:00+02:00"),
    ("24/7 de 25h day", ALWAYS_DE, DAYS, "2026-10-25 00:00", "1d", "2026-10-25 23:00+01:00"),
    ("24/7 ny gap", ALWAYS_NY, DAYS, "2026-03-07 12:00", "1d", "2026-03-08 13:00-04:00"),
    ("24/7 ny fold", ALWAYS_NY, DAYS, "2026-10-31 12:00", "1d", "2026-11-01 11:00-05:00"),
    ("year end bd", EUROPE, DAYS, "2026-12-30 10:00", "2d", "2027-01-04 10:00+01:00"),
    ("leap day bd", EUROPE, DAYS, "2028-02-28 12:00", "1d", "2028-02-29 12:00+01:00"),
    ("after leap day bd", EUROPE, DAYS, "2028-02-28 12:00", "2d", "2028-03-01 12:00+01:00"),
    ("closure bd", WINTER, DAYS, "2026-12-23 10:00", "1d", "2027-01-04 10:00+01:00"),
    ("us observed bd", NORTH_AMERICA, DAYS, "2026-07-02 10:00", "1d", "2026-07-06 10:00-04:00"),
    ("france bd", FRANCE, DAYS, "2026-07-13 10:00", "1d", "2026-07-15 10:00+02:00"),
    ("extra saturday bd", EXTRAS, DAYS, "2026-06-05 15:00", "1d", "2026-06-06 15:00+02:00"),
    ("extra on holiday bd", EXTRAS, DAYS, "2026-06-03 10:00", "1d", "2026-06-04 10:00+02:00"),
    ("half a business day", EUROPE, DAYS, "2026-06-12 18:00", "12h", "2026-06-15 06:00+02:00"),
    # Wall clock, and inputs in other zones.
    ("wall over dst", EUROPE, WALL, "2026-03-28 12:00", "24h", "2026-03-29 13:00+02:00"),
    ("utc input", EUROPE, WALL, "2026-06-12 09:00+00:00", "1h", "2026-06-12 12:00+02:00"),
    ("tokyo input", EUROPE, HOURS, "2026-06-11 23:00+09:00", "1h", "2026-06-11 17:00+02:00"),
]


@pytest.mark.parametrize(
    ("cal", "kind", "start", "amount", "expected"),
    [case[1:] for case in ADD_CASES],
    ids=[case[0] for case in ADD_CASES],
)
def test_add(
    cal: CalendarSnapshot, kind: ClockKind, start: str, amount: str, expected: str
) -> None:
    due = add(cal, kind, at(cal, start), span(amount))
    assert show(due) == expected
    assert due.tzinfo == ZoneInfo(cal.time_zone)
    assert elapsed(cal, kind, at(cal, start), due) == span(amount)


def test_friday_after_closing_moves_start_to_monday() -> None:
    received = at(EUROPE, "2026-06-12 16:30")
    start = clock_start(EUROPE, DAYS, received)
    assert show(start) == "2026-06-15 09:00+02:00"
    assert show(add(EUROPE, DAYS, start, timedelta(days=1))) == "2026-06-16 09:00+02:00"


@pytest.mark.parametrize("kind", list(ClockKind))
@pytest.mark.parametrize("start", ["2026-06-13 10:00", "2026-06-15 10:00", "2026-06-15 17:00"])
def test_zero_amount_returns_start(kind: ClockKind, start: str) -> None:
    assert add(EUROPE, kind, at(EUROPE, start), timedelta(0)) == at(EUROPE, start)
    assert elapsed(EUROPE, kind, at(EUROPE, start), at(EUROPE, start)) == timedelta(0)
    assert counted_intervals(EUROPE, kind, at(EUROPE, start), at(EUROPE, start)) == []


# --- elapsed ---------------------------------------------------------------------------------

ELAPSED_CASES: list[tuple[str, CalendarSnapshot, ClockKind, str, str, str]] = [
    ("weekend", EUROPE, HOURS, "2026-06-12 09:00", "2026-06-15 09:00", "7h"),
    ("holiday", EUROPE, HOURS, "2026-06-03 09:00", "2026-06-05 17:00", "15h"),
    ("holiday bd", EUROPE, DAYS, "2026-06-03 10:00", "2026-06-05 10:00", "24h"),
    ("end before start", EUROPE, HOURS, "2026-06-15 12:00", "2026-06-15 10:00", "0h"),
    ("lunch", LUNCH, HOURS, "2026-06-15 11:00", "2026-06-15 14:00", "2h"),
    ("overnight", NIGHT, HOURS, "2026-06-15 21:00", "2026-06-16 07:00", "8h"),
    ("leap bd", EUROPE, DAYS, "2028-02-28 00:00", "2028-03-01 00:00", "48h"),
    ("leap wall", ALWAYS_DE, WALL, "2028-02-28 00:00", "2028-03-01 00:00", "48h"),
    ("closure bd", WINTER, DAYS, "2026-12-21 00:00", "2027-01-11 00:00", "8d"),
    ("a year of bd", EUROPE, DAYS, "2026-01-01 00:00", "2027-01-01 00:00", "253d"),
    ("gap interval", SUNDAY_NIGHT, HOURS, "2026-03-29 00:00", "2026-03-30 00:00", "2h"),
    ("fold interval", SUNDAY_NIGHT, HOURS, "2026-10-25 00:00", "2026-10-26 00:00", "3h30m"),
    ("ny fold interval", SUNDAY_NIGHT_NY, HOURS, "2026-11-01 00:00", "2026-11-02 00:00", "2h30m"),
    ("extra across gap", EXTRAS, HOURS, "2026-03-29 00:00", "2026-03-30 00:00", "3h"),
    ("never open", NEVER, HOURS, "2026-01-01 00:00", "2030-01-01 00:00", "0h"),
    ("never open bd", NEVER, DAYS, "2026-01-01 00:00", "2030-01-01 00:00", "0h"),
    ("only extra bd", ONLY_EXTRA, DAYS, "2026-01-01 00:00", "2030-01-01 00:00", "1d"),
]


@pytest.mark.parametrize(
    ("cal", "kind", "start", "end", "expected"),
    [case[1:] for case in ELAPSED_CASES],
    ids=[case[0] for case in ELAPSED_CASES],
)
def test_elapsed(
    cal: CalendarSnapshot, kind: ClockKind, start: str, end: str, expected: str
) -> None:
    assert elapsed(cal, kind, at(cal, start), at(cal, end)) == span(expected)
    assert reference_elapsed(cal, kind, at(cal, start), at(cal, end)) == span(expected)


@pytest.mark.parametrize(
    ("cal", "day", "length"),
    [
        (ALWAYS_DE, "2026-03-29", timedelta(hours=23)),
        (ALWAYS_DE, "2026-10-25", timedelta(hours=25)),
        (ALWAYS_NY, "2026-03-08", timedelta(hours=23)),
        (ALWAYS_NY, "2026-11-01", timedelta(hours=25)),
        (ALWAYS_NY, "2026-11-02", timedelta(hours=24)),
    ],
)
def test_always_open_calendar_counts_real_time_over_dst(
    cal: CalendarSnapshot, day: str, length: timedelta
) -> None:
    start = at(cal, f"{day} 00:00")
    end = at(cal, f"{date.fromisoformat(day) + timedelta(days=1)} 00:00")
    for kind in ClockKind:
        assert elapsed(cal, kind, start, end) == length
    for kind in (HOURS, DAYS):
        wall_due = add(cal, WALL, start, timedelta(hours=24))
        assert show(add(cal, kind, start, timedelta(hours=24))) == show(wall_due)


# --- open time -------------------------------------------------------------------------------

OPEN_CASES: list[tuple[CalendarSnapshot, str, bool]] = [
    (EUROPE, "2026-06-15 09:00", True),
    (EUROPE, "2026-06-15 08:59:59", False),
    (EUROPE, "2026-06-15 16:59:59", True),
    (EUROPE, "2026-06-15 17:00", False),
    (EUROPE, "2026-06-12 15:59", True),
    (EUROPE, "2026-06-12 16:00", False),
    (EUROPE, "2026-06-13 11:00", False),
    (EUROPE, "2026-06-04 11:00", False),
    (EUROPE, "2026-06-15 07:30+00:00", True),
    (EXTRAS, "2026-06-06 11:00", True),
    (EXTRAS, "2026-06-04 11:00", True),
    (EXTRAS, "2026-06-04 13:00", False),
    (EXTRAS, "2026-12-28 12:00", True),
    (EXTRAS, "2026-12-29 12:00", False),
    (LUNCH, "2026-06-15 12:00", False),
    (LUNCH, "2026-06-15 13:00", True),
    (NIGHT, "2026-06-16 00:00", True),
    (NIGHT, "2026-06-15 21:59", False),
    (NORTH_AMERICA, "2026-07-03 10:00", False),
]


@pytest.mark.parametrize(("cal", "instant", "expected"), OPEN_CASES)
def test_is_open(cal: CalendarSnapshot, instant: str, expected: bool) -> None:
    assert is_open(cal, at(cal, instant)) is expected


NEXT_OPENING_CASES: list[tuple[CalendarSnapshot, str, str]] = [
    (EUROPE, "2026-06-15 10:00", "2026-06-15 10:00+02:00"),
    (EUROPE, "2026-06-15 17:00", "2026-06-16 09:00+02:00"),
    (EUROPE, "2026-06-12 16:00", "2026-06-15 09:00+02:00"),
    (EUROPE, "2026-06-03 17:30", "2026-06-05 09:00+02:00"),
    (EUROPE, "2026-12-31 17:00", "2027-01-04 09:00+01:00"),
    (WINTER, "2026-12-23 17:00", "2027-01-04 09:00+01:00"),
    (LUNCH, "2026-06-15 12:15", "2026-06-15 13:00+02:00"),
    (NORTH_AMERICA, "2026-07-02 17:00", "2026-07-06 09:00-04:00"),
    (NIGHT, "2026-06-20 06:00", "2026-06-22 22:00+02:00"),
    (ONLY_EXTRA, "2026-01-01 00:00", "2026-06-06 10:00+02:00"),
]


@pytest.mark.parametrize(("cal", "instant", "expected"), NEXT_OPENING_CASES)
def test_next_opening(cal: CalendarSnapshot, instant: str, expected: str) -> None:
    assert show(next_opening(cal, at(cal, instant))) == expected


@pytest.mark.parametrize(
    ("kind", "received", "expected"),
    [
        (WALL, "2026-06-13 10:00", "2026-06-13 10:00+02:00"),
        (WALL, "2026-06-13 08:00+00:00", "2026-06-13 10:00+02:00"),
        (HOURS, "2026-06-13 10:00", "2026-06-15 09:00+02:00"),
        (DAYS, "2026-06-13 10:00", "2026-06-15 09:00+02:00"),
        (DAYS, "2026-06-11 16:30", "2026-06-11 16:30+02:00"),
        (HOURS, "2026-06-15 17:00", "2026-06-16 09:00+02:00"),
    ],
)
def test_clock_start(kind: ClockKind, received: str, expected: str) -> None:
    assert show(clock_start(EUROPE, kind, at(EUROPE, received))) == expected


# --- days --------------------------------------------------------------------------------------

DAY_CASES: list[tuple[str, CalendarSnapshot, str, bool, str, list[str]]] = [
    ("friday", EUROPE, "2026-06-05", True, "", ["09:00+02:00-16:00+02:00"]),
    ("holiday", EUROPE, "2026-06-04", False, "Corpus Christi", []),
    ("weekend", EUROPE, "2026-06-06", False, "weekend", []),
    ("weekday without hours", SUNDAY_NIGHT_NY, "2026-06-03", False, "closed", []),
    ("us observed", NORTH_AMERICA, "2026-07-03", False, "Independence Day (observed)", []),
    ("us holiday on saturday", NORTH_AMERICA, "2026-07-04", False, "weekend", []),
    ("france", FRANCE, "2026-07-14", False, "National Day", []),
    ("closure", WINTER, "2026-12-28", False, "Winter break", []),
    ("closure next year", WINTER, "2027-01-01", False, "New Year's Day", []),
    ("holiday in closure", WINTER, "2026-12-25", False, "Christmas Day", []),
    ("after closure", WINTER, "2027-01-04", True, "", ["09:00+01:00-17:00+01:00"]),
    ("leap day", EUROPE, "2028-02-29", True, "", ["09:00+01:00-17:00+01:00"]),
    (
        "lunch",
        LUNCH,
        "2026-06-15",
        True,
        "",
        ["09:00+02:00-12:00+02:00", "13:00+02:00-17:00+02:00"],
    ),
    ("extra saturday", EXTRAS, "2026-06-06", True, "", ["10:00+02:00-12:00+02:00"]),
    ("extra on holiday", EXTRAS, "2026-06-04", True, "", ["10:00+02:00-12:00+02:00"]),
    ("extra after hours", EXTRAS, "2026-06-15", True, "", ["09:00+02:00-19:00+02:00"]),
    ("extra in closure", EXTRAS, "2026-12-28", True, "", ["09:00+01:00-13:00+01:00"]),
    ("extra across gap", EXTRAS, "2026-03-29", True, "", ["01:00+01:00-05:00+02:00"]),
    ("gap start", SUNDAY_NIGHT, "2026-03-29", True, "", ["03:00+02:00-05:00+02:00"]),
    ("fold start", SUNDAY_NIGHT, "2026-10-25", True, "", ["02:30+02:00-05:00+01:00"]),
    ("ny fold", SUNDAY_NIGHT_NY, "2026-11-01", True, "", ["01:30-04:00-03:00-05:00"]),
    ("ny gap", SUNDAY_NIGHT_NY, "2026-03-08", True, "", ["01:30-05:00-03:00-04:00"]),
    ("never open", NEVER, "2026-06-03", False, "closed", []),
]


@pytest.mark.parametrize(
    ("cal", "day", "business_day", "reason", "intervals"),
    [case[1:] for case in DAY_CASES],
    ids=[case[0] for case in DAY_CASES],
)
def test_day_info(
    cal: CalendarSnapshot, day: str, business_day: bool, reason: str, intervals: list[str]
) -> None:
    info = day_info(cal, date.fromisoformat(day))
    assert (info.business_day, info.reason) == (business_day, reason)
    shown = [f"{show(start)[11:]}-{show(end)[11:]}" for start, end in info.intervals]
    assert shown == intervals
    assert all(start.tzinfo == ZoneInfo(cal.time_zone) for start, _ in info.intervals)


def test_public_holidays_are_english_cached_and_read_only() -> None:
    us = public_holidays("US", "", 2026)
    assert us[date(2026, 7, 3)] == "Independence Day (observed)"
    assert us[date(2026, 7, 4)] == "Independence Day"
    assert public_holidays("US", "", 2027)[date(2027, 12, 31)] == "New Year's Day (observed)"
    assert public_holidays("DE", "NW", 2026)[date(2026, 6, 4)] == "Corpus Christi"
    assert date(2026, 6, 4) not in public_holidays("DE", "BE", 2026)
    assert public_holidays("FR", "", 2026)[date(2026, 7, 14)] == "National Day"
    assert public_holidays("", "", 2026) == {}
    assert public_holidays("US", "", 2026) is us
    with pytest.raises(TypeError):
        us[date(2026, 1, 2)] = "Invented"  # type: ignore[index]  # proving it is read-only


# --- counted intervals -------------------------------------------------------------------------


def segments(cal: CalendarSnapshot, kind: ClockKind, start: str, end: str) -> list[tuple[str, ...]]:
    found = counted_intervals(cal, kind, at(cal, start), at(cal, end))
    return [(show(s.start), show(s.end), "counted" if s.counted else s.reason) for s in found]


def test_counted_intervals_business_hours() -> None:
    assert segments(EUROPE, HOURS, "2026-06-12 15:00", "2026-06-15 10:00") == [
        ("2026-06-12 15:00+02:00", "2026-06-12 16:00+02:00", "counted"),
        ("2026-06-12 16:00+02:00", "2026-06-13 00:00+02:00", "closed hours"),
        ("2026-06-13 00:00+02:00", "2026-06-15 00:00+02:00", "weekend"),
        ("2026-06-15 00:00+02:00", "2026-06-15 09:00+02:00", "closed hours"),
        ("2026-06-15 09:00+02:00", "2026-06-15 10:00+02:00", "counted"),
    ]


def test_counted_intervals_business_days_and_wall() -> None:
    assert segments(WINTER, DAYS, "2026-12-23 10:00", "2026-12-27 12:00") == [
        ("2026-12-23 10:00+01:00", "2026-12-24 00:00+01:00", "counted"),
        ("2026-12-24 00:00+01:00", "2026-12-25 00:00+01:00", "Winter break"),
        ("2026-12-25 00:00+01:00", "2026-12-26 00:00+01:00", "Christmas Day"),
        ("2026-12-26 00:00+01:00", "2026-12-27 12:00+01:00", "weekend"),
    ]
    assert segments(EUROPE, WALL, "2026-06-12 15:00", "2026-06-15 10:00") == [
        ("2026-06-12 15:00+02:00", "2026-06-15 10:00+02:00", "counted"),
    ]


def test_counted_intervals_merge_across_midnight() -> None:
    assert segments(NIGHT, HOURS, "2026-06-15 21:00", "2026-06-16 07:00") == [
        ("2026-06-15 21:00+02:00", "2026-06-15 22:00+02:00", "closed hours"),
        ("2026-06-15 22:00+02:00", "2026-06-16 06:00+02:00", "counted"),
        ("2026-06-16 06:00+02:00", "2026-06-16 07:00+02:00", "closed hours"),
    ]


def assert_covers(found: list[Segment], start: datetime, end: datetime) -> timedelta:
    """Segments are contiguous, cover [start, end) and alternate; returns the counted total."""
    # Compared in UTC: == between zones is always False for a time inside a DST fold (PEP 495).
    assert utc(found[0].start) == utc(start) and utc(found[-1].end) == utc(end)
    for before, after in zip(found, found[1:], strict=False):
        assert utc(before.end) == utc(after.start)
        assert (before.counted, before.reason) != (after.counted, after.reason)
    assert all(utc(s.start) < utc(s.end) and (s.counted or s.reason) for s in found)
    return sum((utc(s.end) - utc(s.start) for s in found if s.counted), timedelta(0))


# --- properties --------------------------------------------------------------------------------

PROPERTY_CALENDARS = {
    "europe": EUROPE,
    "north-america": NORTH_AMERICA,
    "france": FRANCE,
    "lunch": LUNCH,
    "night": NIGHT,
    "always-berlin": ALWAYS_DE,
    "always-new-york": ALWAYS_NY,
    "sunday-night": SUNDAY_NIGHT,
    "extras": EXTRAS,
}
FIRST = datetime(2026, 1, 1, tzinfo=UTC)
INPUT_ZONES = [
    UTC,
    ZoneInfo("Asia/Tokyo"),
    ZoneInfo("America/Los_Angeles"),
    ZoneInfo("Europe/Berlin"),
]


def random_instant(rng: random.Random, years: int = 3) -> datetime:
    seconds = rng.randrange(years * 366 * 86400)
    return (FIRST + timedelta(seconds=seconds)).astimezone(rng.choice(INPUT_ZONES))


def random_amount(rng: random.Random, kind: ClockKind) -> timedelta:
    limit = 40 * 86400 if kind is DAYS else 300 * 3600
    if rng.random() < 0.3:  # whole hours land on closing instants
        return timedelta(hours=rng.randint(1, limit // 3600))
    return timedelta(seconds=rng.randint(1, limit))


@pytest.mark.parametrize("kind", [HOURS, DAYS])
@pytest.mark.parametrize("name", list(PROPERTY_CALENDARS))
def test_add_then_elapsed_round_trips(name: str, kind: ClockKind) -> None:
    cal = PROPERTY_CALENDARS[name]
    rng = random.Random(f"round-trip/{name}/{kind}")
    for _ in range(40):
        start, amount = random_instant(rng), random_amount(rng, kind)
        due = add(cal, kind, start, amount)
        assert elapsed(cal, kind, start, due) == amount, (start, amount)
        assert reference_elapsed(cal, kind, start, due) == amount, (start, amount)
        tick = timedelta(microseconds=1)
        assert elapsed(cal, kind, start, due - tick) < amount, "due is the earliest instant"
        assert assert_covers(counted_intervals(cal, kind, start, due), start, due) == amount


@pytest.mark.parametrize("kind", [HOURS, DAYS])
@pytest.mark.parametrize("name", list(PROPERTY_CALENDARS))
def test_long_elapsed_matches_day_by_day_count(name: str, kind: ClockKind) -> None:
    cal = PROPERTY_CALENDARS[name]
    rng = random.Random(f"long/{name}/{kind}")
    for _ in range(4):
        start, end = sorted((random_instant(rng), random_instant(rng)))
        assert elapsed(cal, kind, start, end) == reference_elapsed(cal, kind, start, end)
        assert elapsed(cal, kind, end, start) == timedelta(0)


# --- never open, long spans --------------------------------------------------------------------


def count_day_info_calls(monkeypatch: pytest.MonkeyPatch) -> list[date]:
    calls: list[date] = []

    def counting(cal: CalendarSnapshot, day: date) -> DayInfo:
        calls.append(day)
        return day_info(cal, day)

    monkeypatch.setattr(calendar_module, "day_info", counting)
    return calls


@pytest.mark.parametrize("kind", [HOURS, DAYS])
def test_never_open_calendar_fails_fast(monkeypatch: pytest.MonkeyPatch, kind: ClockKind) -> None:
    calls = count_day_info_calls(monkeypatch)
    start = at(NEVER, "2026-06-15 10:00")
    with pytest.raises(NeverOpenError, match="no open time"):
        add(NEVER, kind, start, timedelta(hours=1))
    with pytest.raises(NeverOpenError):
        next_opening(NEVER, start)
    with pytest.raises(NeverOpenError):
        clock_start(NEVER, kind, start)
    assert elapsed(NEVER, kind, start, start + timedelta(days=3000)) == timedelta(0)
    assert is_open(NEVER, start) is False
    assert show(add(NEVER, WALL, start, timedelta(hours=1))) == "2026-06-15 11:00+02:00"
    assert len(calls) <= 5


def test_only_extra_openings_count_then_run_out() -> None:
    start = at(ONLY_EXTRA, "2026-06-01 12:00")
    assert show(add(ONLY_EXTRA, HOURS, start, timedelta(hours=1))) == "2026-06-06 11:00+02:00"
    assert show(add(ONLY_EXTRA, DAYS, start, timedelta(hours=12))) == "2026-06-06 12:00+02:00"
    with pytest.raises(NeverOpenError):
        add(ONLY_EXTRA, HOURS, start, timedelta(hours=3))
    with pytest.raises(NeverOpenError):
        next_opening(ONLY_EXTRA, at(ONLY_EXTRA, "2026-06-06 12:00"))


def test_closed_beyond_the_horizon_raises() -> None:
    closed = replace(EUROPE, closures=(Closure(date(2026, 1, 1), date(2035, 12, 31), "Sold"),))
    start = at(closed, "2026-06-15 10:00")
    for kind in (HOURS, DAYS):
        with pytest.raises(NeverOpenError):
            add(closed, kind, start, timedelta(hours=1))
    with pytest.raises(NeverOpenError):
        next_opening(closed, start)
    # Open again after the closure: a long enough amount reaches past it.
    reopened = replace(EUROPE, closures=(Closure(date(2026, 7, 1), date(2027, 6, 30), "Refit"),))
    due = add(reopened, DAYS, at(reopened, "2026-06-30 12:00"), timedelta(days=1))
    assert show(due) == "2027-07-01 12:00+02:00"


@pytest.mark.parametrize(
    ("kind", "amount"), [(DAYS, timedelta(days=2000)), (HOURS, timedelta(hours=20000))]
)
def test_long_spans_skip_weeks(
    monkeypatch: pytest.MonkeyPatch, kind: ClockKind, amount: timedelta
) -> None:
    start = at(EUROPE, "2026-01-05 10:00")
    public_holidays.cache_clear()
    calls = count_day_info_calls(monkeypatch)
    due = add(EUROPE, kind, start, amount)
    years_spanned = due.year - start.year + 1
    assert (due - start).days > 2500
    assert public_holidays.cache_info().misses <= years_spanned
    # Only special dates (about 13 holidays and DST days a year) are looked at, not every date.
    assert len(calls) < 20 * years_spanned
    calls.clear()
    assert elapsed(EUROPE, kind, start, due) == amount
    assert len(calls) < 20 * years_spanned
    monkeypatch.undo()
    assert reference_elapsed(EUROPE, kind, start, due) == amount


@pytest.mark.parametrize("raises", [False, True], ids=["just inside", "just beyond"])
@pytest.mark.parametrize(
    "compute",
    [
        lambda cal: add(cal, HOURS, at(cal, "2026-06-30 12:00"), timedelta(hours=6)),
        lambda cal: add(cal, DAYS, at(cal, "2026-06-30 12:00"), timedelta(days=2)),
        lambda cal: next_opening(cal, at(cal, "2026-07-01 08:00")),
    ],
    ids=["hours", "days", "next opening"],
)
def test_search_horizon_is_three_years_of_nothing(
    compute: Callable[[CalendarSnapshot], datetime], raises: bool
) -> None:
    """Counting gives up only after SEARCH_HORIZON without any open time, not before."""
    closed_days = calendar_module.SEARCH_HORIZON.days + (10 if raises else -10)
    last = date(2026, 7, 1) + timedelta(days=closed_days - 1)
    cal = replace(EUROPE, closures=(Closure(date(2026, 7, 1), last, "Long refit"),))
    if raises:
        with pytest.raises(NeverOpenError, match="no open time"):
            compute(cal)
    else:
        due = compute(cal)
        assert due.date() > last
        assert is_open(cal, due) or due.time() == time(0)  # business days end at midnight


def test_microseconds_and_foreign_time_zones_are_exact() -> None:
    # Kiritimati (UTC+14) is already in 2027 when Berlin is on 31 December 2026, 19:00.
    kiritimati = datetime(2027, 1, 1, 8, 0, 0, 250, tzinfo=ZoneInfo("Pacific/Kiritimati"))
    start = clock_start(EUROPE, HOURS, kiritimati)
    assert show(start) == "2027-01-04 09:00+01:00"  # New Year's Day, then the weekend
    inside = at(EUROPE, "2026-06-15 16:59:59.999999")
    due = add(EUROPE, HOURS, inside, timedelta(microseconds=2))
    assert due == at(EUROPE, "2026-06-16 09:00:00.000001")
    assert elapsed(EUROPE, HOURS, inside, due) == timedelta(microseconds=2)
    assert elapsed(EUROPE, WALL, kiritimati, kiritimati + timedelta(days=400)) == timedelta(400)
    assert add(EUROPE, WALL, kiritimati, timedelta(hours=1)) == kiritimati + timedelta(hours=1)


def test_equal_snapshots_share_their_tables() -> None:
    first = replace(EUROPE, closures=(Closure(date(2031, 3, 2), date(2031, 3, 6), "Audit"),))
    second = replace(EUROPE, closures=(Closure(date(2031, 3, 2), date(2031, 3, 6), "Audit"),))
    add(first, HOURS, at(first, "2031-03-02 10:00"), timedelta(hours=1))
    assert second._years is first._years
    assert (HOURS, 2031) in second._years
    assert replace(first, closures=())._years is not first._years


# --- validation --------------------------------------------------------------------------------

INVALID_CALENDARS: list[tuple[dict[str, Any], str]] = [
    ({"time_zone": "Mars/Olympus_Mons"}, "unknown time zone"),
    ({"weekly": (NINE_TO_FIVE,) * 6}, "7 entries"),
    ({"weekly": ((0, 1440),) * 7}, "pairs"),
    ({"weekly": (hours("17:00-09:00"),) * 7}, "start < end"),
    ({"weekly": (((540, 1500),),) * 7}, "start < end"),
    ({"weekly": (((540, 1020.5),),) * 7}, "integers"),
    ({"weekly": (hours("09:00-13:00", "12:00-17:00"),) * 7}, "overlap"),
    ({"weekly": (hours("13:00-17:00", "09:00-12:00"),) * 7}, "sorted"),
    ({"holiday_country": "XX"}, "unsupported holidays"),
    ({"holiday_country": "DE", "holiday_subdivision": "ZZ"}, "unsupported holidays"),
    ({"holiday_country": "", "holiday_subdivision": "NW"}, "needs a holiday_country"),
]


@pytest.mark.parametrize(("changes", "message"), INVALID_CALENDARS)
def test_invalid_calendar(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        replace(EUROPE, **changes)


def test_invalid_closure_and_extra_opening() -> None:
    with pytest.raises(ValueError, match="before it starts"):
        Closure(date(2027, 1, 1), date(2026, 12, 24), "Backwards")
    with pytest.raises(ValueError, match="start < end"):
        ExtraOpening(date(2026, 6, 6), 720, 600)


def test_lists_are_normalised_to_hashable_tuples() -> None:
    listed = CalendarSnapshot(
        time_zone="Europe/Paris",
        weekly=[[(540, 1020)]] * 5 + [[], []],  # type: ignore[arg-type]  # rows may arrive as lists
    )
    assert listed == replace(FRANCE, holiday_country="")
    assert hash(listed) == hash(replace(FRANCE, holiday_country=""))


NAIVE = datetime(2026, 6, 15, 10, 0)  # noqa: DTZ001 - deliberately naive
CALLS_WITH_NAIVE: list[Callable[[], object]] = [
    lambda: add(EUROPE, HOURS, NAIVE, timedelta(hours=1)),
    lambda: add(EUROPE, WALL, NAIVE, timedelta(hours=1)),
    lambda: elapsed(EUROPE, DAYS, NAIVE, at(EUROPE, "2026-06-16 10:00")),
    lambda: elapsed(EUROPE, WALL, at(EUROPE, "2026-06-14 10:00"), NAIVE),
    lambda: is_open(EUROPE, NAIVE),
    lambda: next_opening(EUROPE, NAIVE),
    lambda: clock_start(EUROPE, WALL, NAIVE),
    lambda: counted_intervals(EUROPE, HOURS, NAIVE, at(EUROPE, "2026-06-16 10:00")),
]


@pytest.mark.parametrize("call", CALLS_WITH_NAIVE)
def test_naive_datetimes_are_rejected(call: Callable[[], object]) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        call()


def test_negative_amount_is_rejected() -> None:
    with pytest.raises(ValueError, match="negative"):
        add(EUROPE, HOURS, at(EUROPE, "2026-06-15 10:00"), timedelta(hours=-1))
