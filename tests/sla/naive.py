"""A deliberately naive reference for sla.clocks.calendar: it walks time minute by minute in UTC.

Kept obviously correct rather than fast, to check the fast functions against (see
test_calendar_properties.py). It reads the rules page directly and uses nothing from
sla.clocks but its values and `public_holidays`, which is data, not logic:

- a local date's opening intervals are its weekly intervals unless it is a public holiday or
  inside a closure, plus the extra openings on that date; a business day has at least one;
- `business_hours` counts the minutes inside an opening interval of their local date,
  `business_days` every minute of a business day, `wall` every minute.

Local wall times become instants as the rules page says (a time in a DST gap is the first
instant after the gap, an ambiguous one its first occurrence). That is: an instant has reached
wall time `w` as soon as the local clock has shown `w` or later at some instant up to then.
So each minute is judged by the latest wall reading seen so far (`high`), not by its own
reading, which goes back an hour when clocks fall back.

Instants and amounts must be whole minutes; every walk is bounded by `max_minutes`.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sla.clocks.values import CalendarSnapshot, ClockKind, public_holidays

MINUTE = timedelta(minutes=1)
# Walk this far before the start to know the latest wall reading (more than any DST shift).
LOOKBACK = timedelta(hours=3)
MAX_MINUTES = 60 * 24 * 60  # 60 days


def opening_minutes(cal: CalendarSnapshot, day: date) -> list[tuple[int, int]]:
    """Opening intervals (minutes from local midnight) of one local date."""
    holidays = public_holidays(cal.holiday_country, cal.holiday_subdivision, day.year)
    closed = day in holidays or any(c.start <= day <= c.end for c in cal.closures)
    weekly = [] if closed else list(cal.weekly[day.weekday()])
    return weekly + [(x.start_minute, x.end_minute) for x in cal.extra_openings if x.day == day]


def _whole_minutes(value: datetime | timedelta, name: str) -> None:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError(f"{name} must be timezone-aware")
        aligned = value.second == 0 and value.microsecond == 0
    else:
        aligned = value % MINUTE == timedelta(0)
    if not aligned:
        raise ValueError(f"{name} must be a whole number of minutes, got {value!r}")


def _minutes(
    cal: CalendarSnapshot, kind: ClockKind, start: datetime, max_minutes: int
) -> Iterator[tuple[datetime, bool]]:
    """(t, whether the minute [t, t + 1 min) counts) for each minute from `start` on, in UTC."""
    _whole_minutes(start, "start")
    tz = ZoneInfo(cal.time_zone)
    first = start.astimezone(UTC)
    t = first - LOOKBACK
    high = t.astimezone(tz).replace(tzinfo=None)
    days: dict[date, list[tuple[int, int]]] = {}
    while t < first + max_minutes * MINUTE:
        high = max(high, t.astimezone(tz).replace(tzinfo=None))
        if t >= first:
            day = high.date()
            if day not in days:
                days[day] = opening_minutes(cal, day)
            minute = high.hour * 60 + high.minute
            if kind is ClockKind.WALL:
                counted = True
            elif kind is ClockKind.BUSINESS_DAYS:
                counted = bool(days[day])
            else:
                counted = any(s <= minute < e for s, e in days[day])
            yield t, counted
        t += MINUTE
    raise RuntimeError(f"naive walk gave up after {max_minutes} minutes")


def naive_elapsed(
    cal: CalendarSnapshot,
    kind: ClockKind,
    start: datetime,
    end: datetime,
    max_minutes: int = MAX_MINUTES,
) -> timedelta:
    """Counted time in [start, end); zero when end <= start."""
    _whole_minutes(end, "end")
    stop = end.astimezone(UTC)
    total = timedelta(0)
    for t, counted in _minutes(cal, kind, start, max_minutes + 1):
        if t >= stop:
            return total
        if counted:
            total += MINUTE
    raise AssertionError("unreachable")  # _minutes raises first


def naive_add(
    cal: CalendarSnapshot,
    kind: ClockKind,
    start: datetime,
    amount: timedelta,
    max_minutes: int = MAX_MINUTES,
) -> datetime:
    """Earliest instant at which the counted time since `start` reaches `amount`."""
    _whole_minutes(amount, "amount")
    left = amount
    for t, counted in _minutes(cal, kind, start, max_minutes):
        if left <= timedelta(0):
            return t.astimezone(ZoneInfo(cal.time_zone))
        if counted:
            left -= MINUTE
    raise AssertionError("unreachable")  # _minutes raises first
