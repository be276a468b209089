"""Property-based tests: sla.clocks.calendar's fast functions against the naive minute walk.

Instants are whole minutes over 2026-2028, drawn anywhere, shortly before or on a DST
change, year end, Easter, closure or extra opening, or at a local opening or closing time.
Amounts compared with the walk stay small (mostly up to 30 hours or 5 business days, at times
three times that, to skip whole weeks) so that the walk stays fast. Derandomized: CI always
runs the same examples. Instants are compared in UTC: Python compares two datetimes of one
zone by wall time, which is wrong inside a DST fold.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sla.clocks.calendar import add, elapsed, is_open, next_opening
from sla.clocks.values import CalendarSnapshot, ClockKind, Closure, ExtraOpening
from sla.defaults import CALENDARS
from tests.sla.naive import naive_add, naive_elapsed

WALL = ClockKind.WALL
HOURS = ClockKind.BUSINESS_HOURS
DAYS = ClockKind.BUSINESS_DAYS
MINUTE = timedelta(minutes=1)


def seeded(slug: str) -> CalendarSnapshot:
    """The seeded calendar `slug`, from the rows sla.defaults writes to the database."""
    _, _, time_zone, (country, subdivision), hours = next(c for c in CALENDARS if c[0] == slug)
    return CalendarSnapshot(
        time_zone=time_zone,
        weekly=tuple(tuple((s, e) for d, s, e in hours if d == weekday) for weekday in range(7)),
        holiday_country=country,
        holiday_subdivision=subdivision,
    )


EUROPE = seeded("europe")
FRANCE = seeded("france")
LUNCH = replace(FRANCE, weekly=(((540, 720), (780, 1020)),) * 5 + ((), ()))
CALENDAR_CASES = {
    "europe": EUROPE,
    "north-america": seeded("north-america"),
    "france": FRANCE,
    "lunch": LUNCH,
    "always": CalendarSnapshot(time_zone="America/New_York", weekly=(((0, 1440),),) * 7),
    "closures-extras": replace(
        EUROPE,
        closures=(
            Closure(date(2026, 12, 24), date(2027, 1, 1), "Winter break"),
            Closure(date(2027, 12, 27), date(2028, 1, 2), "Winter break"),
            Closure(date(2028, 8, 7), date(2028, 8, 11), "Move"),
        ),
        extra_openings=(
            ExtraOpening(date(2026, 12, 28), 540, 780, "Inventory"),  # inside the closure
            ExtraOpening(date(2027, 1, 2), 600, 720, "Saturday cover"),  # after it
            ExtraOpening(date(2027, 3, 28), 60, 150, "Migration"),  # Easter; ends in the gap
            ExtraOpening(date(2027, 10, 30), 1320, 1440, "Late Saturday"),  # up to the night
            ExtraOpening(date(2027, 10, 31), 150, 300, "Night"),  # starts in the fold
            ExtraOpening(date(2028, 6, 15), 1020, 1200, "Late shift"),  # Corpus Christi
            ExtraOpening(date(2028, 7, 3), 420, 600, "Early shift"),  # overlaps the hours
        ),
    ),
}

# Dates where something happens: DST changes, year ends, Easter; closures and extra openings.
DST_DATES = {
    "Europe/Berlin": "2026-03-29 2026-10-25 2027-03-28 2027-10-31 2028-03-26 2028-10-29",
    "Europe/Paris": "2026-03-29 2026-10-25 2027-03-28 2027-10-31 2028-03-26 2028-10-29",
    "America/New_York": "2026-03-08 2026-11-01 2027-03-14 2027-11-07 2028-03-12 2028-11-05",
}
YEAR_ENDS_AND_EASTER = "2026-12-31 2027-12-31 2028-12-31 2026-04-05 2028-04-16"
INPUT_ZONES = [UTC, ZoneInfo("Asia/Tokyo"), ZoneInfo("America/Los_Angeles")]
FIRST = datetime(2026, 1, 1, tzinfo=UTC)
SPAN_DAYS = 3 * 366 - 8  # instants until about 2028-12-23, so that walks end by early 2029


def hot_dates(cal: CalendarSnapshot) -> list[date]:
    special = f"{DST_DATES[cal.time_zone]} {YEAR_ENDS_AND_EASTER}"
    found = {date.fromisoformat(day) for day in special.split()}
    found |= {c.start for c in cal.closures} | {c.end for c in cal.closures}
    return sorted(found | {x.day for x in cal.extra_openings})


def edge_minutes(cal: CalendarSnapshot) -> list[int]:
    """Local minutes where the calendar opens or closes, midnight, and the minutes around."""
    intervals = [interval for day in cal.weekly for interval in day]
    intervals += [(x.start_minute, x.end_minute) for x in cal.extra_openings]
    edges = {0} | {m for interval in intervals for m in interval}
    return sorted({(m + d) % 1440 for m in edges for d in (-1, 0, 1)})


@st.composite
def instants(draw: st.DrawFn, cal: CalendarSnapshot) -> datetime:
    """A minute-aligned aware instant in 2026-2028, expressed in some time zone."""
    how = draw(st.sampled_from(["anywhere", "hot", "hot", "edge"]))
    tz = ZoneInfo(cal.time_zone)
    if how == "anywhere":
        instant = FIRST + draw(st.integers(0, SPAN_DAYS * 1440)) * MINUTE
    elif how == "hot":  # mostly up to ten days before the date (spans cross it), or on it
        hot = datetime.combine(draw(st.sampled_from(hot_dates(cal))), time(), UTC)
        if draw(st.sampled_from([True, True, False])):
            instant = hot - timedelta(hours=12) - draw(st.integers(0, 10 * 1440)) * MINUTE
        else:
            instant = hot + draw(st.integers(0, 2 * 1440)) * MINUTE
    else:  # a local wall time; one in a DST gap or fold is still some instant
        if draw(st.booleans()):
            day = draw(st.sampled_from(hot_dates(cal)))
        else:
            day = FIRST.date() + timedelta(days=draw(st.integers(0, SPAN_DAYS)))
        wall = datetime.combine(day, time()) + draw(st.sampled_from(edge_minutes(cal))) * MINUTE
        instant = wall.replace(tzinfo=tz, fold=draw(st.integers(0, 1)))
    return instant.astimezone(draw(st.sampled_from([tz, *INPUT_ZONES])))


def amounts(kind: ClockKind) -> st.SearchStrategy[timedelta]:
    """Whole minutes, often whole hours or half days (they land on closing instants)."""
    unit = timedelta(hours=12) if kind is DAYS else timedelta(hours=1)
    limit = 5 * 1440 if kind is DAYS else 30 * 60
    return st.sampled_from([limit, limit, limit, 3 * limit]).flatmap(
        lambda most: st.one_of(
            st.integers(0, most // int(unit / MINUTE)).map(lambda n: n * unit),
            st.integers(0, most).map(lambda n: n * MINUTE),
        )
    )


SETTINGS = settings(
    deadline=None,
    derandomize=True,  # the same examples on every run
    database=None,
    # The autouse media fixture of tests/conftest.py is function-scoped; these tests use none.
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
WALKING = settings(SETTINGS, max_examples=40)  # each example walks up to weeks of minutes
FAST = settings(SETTINGS, max_examples=100)


def utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


calendars = pytest.mark.parametrize("cal", CALENDAR_CASES.values(), ids=CALENDAR_CASES.keys())
kinds = pytest.mark.parametrize("kind", list(ClockKind), ids=[k.value for k in ClockKind])


@calendars
@kinds
@WALKING
@given(data=st.data())
def test_elapsed_matches_naive_walk(
    cal: CalendarSnapshot, kind: ClockKind, data: st.DataObject
) -> None:
    start = data.draw(instants(cal), "start")
    days = data.draw(st.sampled_from([3, 21, -1]), "up to days")  # sometimes end < start
    minutes = data.draw(st.integers(min(0, days * 1440), max(0, days * 1440)), "minutes")
    end = (start + minutes * MINUTE).astimezone(data.draw(st.sampled_from(INPUT_ZONES)))
    assert elapsed(cal, kind, start, end) == naive_elapsed(cal, kind, start, end)


@calendars
@kinds
@WALKING
@given(data=st.data())
def test_add_matches_naive_walk(
    cal: CalendarSnapshot, kind: ClockKind, data: st.DataObject
) -> None:
    start, amount = data.draw(instants(cal), "start"), data.draw(amounts(kind), "amount")
    due = add(cal, kind, start, amount)
    assert utc(due) == utc(naive_add(cal, kind, start, amount))
    assert due.tzinfo == ZoneInfo(cal.time_zone)


@calendars
@WALKING
@given(data=st.data())
def test_open_time_matches_naive_walk(cal: CalendarSnapshot, data: st.DataObject) -> None:
    start = data.draw(instants(cal), "start")
    assert is_open(cal, start) is (naive_elapsed(cal, HOURS, start, start + MINUTE) == MINUTE)
    first_open_minute = utc(naive_add(cal, HOURS, start, MINUTE)) - MINUTE
    assert utc(next_opening(cal, start)) == first_open_minute


@calendars
@kinds
@FAST
@given(data=st.data())
def test_add_then_elapsed_gives_the_amount_back(
    cal: CalendarSnapshot, kind: ClockKind, data: st.DataObject
) -> None:
    # No naive walk here: any second, and amounts up to 60 business days or 400 hours.
    start = data.draw(instants(cal), "start") + data.draw(st.integers(0, 59)) * timedelta(seconds=1)
    limit = 60 * 86400 if kind is DAYS else 400 * 3600
    amount = timedelta(seconds=data.draw(st.integers(0, limit), "seconds"))
    due = add(cal, kind, start, amount)
    assert elapsed(cal, kind, start, due) == amount
    if amount:  # and no earlier instant would do
        assert elapsed(cal, kind, start, due - timedelta(microseconds=1)) < amount


@calendars
@kinds
@FAST
@given(data=st.data())
def test_add_is_monotonic_in_the_amount(
    cal: CalendarSnapshot, kind: ClockKind, data: st.DataObject
) -> None:
    start = data.draw(instants(cal), "start")
    limit = 60 * 86400 if kind is DAYS else 400 * 3600
    small = data.draw(st.integers(0, limit), "small")
    large = small + data.draw(st.one_of(st.integers(0, 120), st.integers(0, limit)), "more")
    early = add(cal, kind, start, timedelta(seconds=small))
    late = add(cal, kind, start, timedelta(seconds=large))
    assert utc(early) < utc(late) if small < large else utc(early) == utc(late)
    assert utc(early) >= utc(start)
