"""Business-time arithmetic for SLA clocks.

Pure module: plain values in, plain values out. No Django, no ORM, no settings and no
clock reads; a selector turns calendar rows into a `CalendarSnapshot` (the values are in
sla.clocks.values). The semantics are those of the SLA rules page (clock kinds, open time,
DST), followed to the minute:

- open time is the union of a business day's opening intervals; an interval includes its
  start and excludes its end;
- a business day is a local date with opening intervals that is neither a public holiday
  nor inside a closure; an extra opening makes its date a business day regardless. On a
  holiday, closure or weekday without hours only the extra opening's own hours are open;
  on an ordinary business day they are added to the weekly hours;
- a local time in a DST gap is the first instant after the gap, an ambiguous one is its
  first occurrence; results are aware datetimes in the calendar's time zone.

All internal arithmetic runs on UTC datetimes: Python compares and subtracts two
datetimes sharing one tzinfo by wall time, which is wrong across DST transitions.

Long spans are not walked day by day. Each (calendar, clock kind, local year) gets a table
of its counted spans with the counted time before each (see "timelines" below), built from
the weekly hours with only the special dates looked at one by one: public holidays, closure
days, extra openings and days whose UTC offset changes (DST). Counted time and deadlines are
then bisections in that table; a duration crosses years, never weeks.
"""

from __future__ import annotations

import bisect
import functools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import MAXYEAR, MINYEAR, UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sla.clocks.values import (
    MINUTES_PER_DAY,
    CalendarSnapshot,
    ClockKind,
    ClosedReason,
    DayInfo,
    MinuteInterval,
    NeverOpenError,
    Segment,
    Span,
    public_holidays,
)

__all__ = [
    "add",
    "clock_start",
    "counted_intervals",
    "day_info",
    "elapsed",
    "is_open",
    "next_opening",
]

# How far a search for open time looks ahead before giving up with NeverOpenError.
SEARCH_HORIZON = timedelta(days=3 * 366)

_ZERO = timedelta(0)
_DAY = timedelta(days=1)

_WALL = ClockKind.WALL  # a module constant is quicker to reach than an enum member


# --- local time --------------------------------------------------------------------------


def _aware_utc(value: datetime, name: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {value!r}")
    return value.astimezone(UTC)


@functools.lru_cache(maxsize=65536)
def _instant(tz: ZoneInfo, day: date, minute: int) -> datetime:
    """UTC instant of local `day` + `minute`.

    A time in a DST gap is the first instant after the gap; an ambiguous one is its first
    occurrence.
    """
    wall = datetime.combine(day, time()) + timedelta(minutes=minute)
    instant = wall.replace(tzinfo=tz).astimezone(UTC)  # fold=0: first occurrence
    if instant.astimezone(tz).replace(tzinfo=None) == wall:
        return instant
    # `wall` is in a gap. fold=0 read it with the offset before the gap (an instant after
    # the gap), fold=1 with the offset after it (an instant before): bisect to the jump.
    before = wall.replace(tzinfo=tz, fold=1).astimezone(UTC)
    low, high = 0, int((instant - before).total_seconds())
    while high - low > 1:
        middle = (low + high) // 2
        if (before + timedelta(seconds=middle)).astimezone(tz).replace(tzinfo=None) > wall:
            high = middle
        else:
            low = middle
    return before + timedelta(seconds=high)


def _day_of(tz: ZoneInfo, instant: datetime) -> date:
    """Local date whose span [00:00, next 00:00) holds the UTC `instant`."""
    day = instant.astimezone(tz).date()
    if instant >= _instant(tz, day + _DAY, 0):  # the hour repeated by a fold at midnight
        day += _DAY
    return day


@functools.lru_cache(maxsize=256)
def _offset_change_days(time_zone: str, year: int) -> frozenset[date]:
    """Dates of `year` during which the UTC offset changes (one pass, cached per zone/year)."""
    tz = ZoneInfo(time_zone)
    day = date(year, 1, 1)
    offset = datetime.combine(day, time(), tzinfo=tz).utcoffset()
    changes: set[date] = set()
    while day.year == year:
        following = day + _DAY
        following_offset = datetime.combine(following, time(), tzinfo=tz).utcoffset()
        if following_offset != offset:
            changes.add(day)
        day, offset = following, following_offset
    return frozenset(changes)


# --- days ----------------------------------------------------------------------------------


def _merge(intervals: Iterable[MinuteInterval]) -> tuple[MinuteInterval, ...]:
    merged: list[MinuteInterval] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return tuple(merged)


@functools.lru_cache(maxsize=16384)
def day_info(cal: CalendarSnapshot, day: date) -> DayInfo:
    """What one local date is: business day or not (and why), its open intervals.

    Cached per (calendar, date): deadlines of one desk fall on the same few weeks, and a
    snapshot is immutable, so the answer never changes."""
    weekly = cal.weekly[day.weekday()]
    extras = [(x.start_minute, x.end_minute) for x in cal.extra_openings if x.day == day]
    reason: str  # a ClosedReason, a public holiday's name or a closure's label; "" if open
    if not weekly:
        reason = ClosedReason.WEEKEND if day.weekday() >= 5 else ClosedReason.CLOSED
    else:
        holiday = ""
        if cal.holiday_country:
            holidays_of_year = public_holidays(
                cal.holiday_country, cal.holiday_subdivision, day.year
            )
            holiday = holidays_of_year.get(day, "")
        closure = next(
            (c.label or ClosedReason.CLOSURE for c in cal.closures if c.start <= day <= c.end), ""
        )
        reason = holiday or closure
    if reason and not extras:
        return DayInfo(day=day, business_day=False, intervals=(), reason=reason)
    minutes = _merge([*extras, *(() if reason else weekly)])
    tz = cal.tz
    spans = ((_instant(tz, day, start), _instant(tz, day, end)) for start, end in minutes)
    intervals = tuple(
        (start.astimezone(tz), end.astimezone(tz)) for start, end in spans if start < end
    )
    return DayInfo(day=day, business_day=True, intervals=intervals, reason="")


@functools.lru_cache(maxsize=16384)
def _spans(cal: CalendarSnapshot, kind: ClockKind, day: date) -> tuple[Span, ...]:
    """Counted UTC spans of one local date for a business clock."""
    info = day_info(cal, day)
    if not info.business_day:
        return ()
    if kind is ClockKind.BUSINESS_DAYS:
        return ((_instant(cal.tz, day, 0), _instant(cal.tz, day, MINUTES_PER_DAY)),)
    return tuple((start.astimezone(UTC), end.astimezone(UTC)) for start, end in info.intervals)


def _nominal_minutes(
    cal: CalendarSnapshot, kind: ClockKind, weekday: int
) -> tuple[MinuteInterval, ...]:
    """Counted local minutes of a weekday on an ordinary date (no holiday, closure, extra, DST)."""
    weekly = cal.weekly[weekday]
    if kind is ClockKind.BUSINESS_DAYS and weekly:
        return ((0, MINUTES_PER_DAY),)
    return weekly


def _special_days(cal: CalendarSnapshot, first: date, stop: date) -> set[date]:
    """Dates in [first, stop) whose counted time may differ from their weekday's nominal.

    A date without weekly hours counts nothing either way unless it has an extra opening.
    """
    extra = {x.day for x in cal.extra_openings}
    found: set[date] = set()
    for year in range(first.year, (stop - _DAY).year + 1):
        found |= _offset_change_days(cal.time_zone, year)
        if cal.holiday_country:
            found.update(public_holidays(cal.holiday_country, cal.holiday_subdivision, year))
    for closure in cal.closures:
        day, last = max(closure.start, first), min(closure.end, stop - _DAY)
        while day <= last:
            found.add(day)
            day += _DAY
    return {
        day
        for day in found | extra
        if first <= day < stop and (cal.weekly[day.weekday()] or day in extra)
    }


# --- timelines -------------------------------------------------------------------------------
#
# Deadlines are answered from a table per (calendar, clock kind, local year): the counted
# spans of the year, as times since the epoch (UTC), with the counted time before and
# through each span. Counted time up to an instant is one bisection; the instant where an
# amount is reached is another. A table is built once, from the weekly hours with only the
# year's special dates (holidays, closures, extra openings, DST changes) looked at one by
# one, and shared by every equal snapshot. Instants stay timedeltas since the epoch inside:
# comparing and adding them is exact and much cheaper than datetimes with a time zone.

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MINUTE = timedelta(minutes=1)

Instant = timedelta  # since the epoch, UTC


def _instant_of(value: datetime, name: str) -> Instant:
    try:
        return value - _EPOCH
    except TypeError:  # naive, or a tzinfo without an offset
        raise ValueError(f"{name} must be timezone-aware, got naive {value!r}") from None


def _local(cal: CalendarSnapshot, instant: Instant) -> datetime:
    """The aware datetime, in the calendar's time zone, of `instant`."""
    return cal.tz.fromutc(cal._epoch + instant)


@dataclass(frozen=True)
class _Year:
    """Counted spans of one local year."""

    year: int
    low: Instant  # the year's first local midnight
    high: Instant  # the next year's
    starts: list[Instant]
    ends: list[Instant]
    before: list[timedelta]  # counted since `low` when span i starts
    through: list[timedelta]  # ... and when it ends
    total: timedelta

    def counted(self, at: Instant) -> timedelta:
        """Counted time from the start of the year to `at` (low <= at < high)."""
        i = bisect.bisect_right(self.ends, at)
        if i == len(self.ends):
            return self.total
        start = self.starts[i]
        return self.before[i] + at - start if at > start else self.before[i]


def _build_year(cal: CalendarSnapshot, kind: ClockKind, year: int) -> _Year:
    tz = cal.tz
    first, stop = date(year, 1, 1), date(year + 1, 1, 1)
    special = _special_days(cal, first, stop)
    starts: list[Instant] = []
    ends: list[Instant] = []
    day = first
    while day < stop:
        if day in special:
            for span_start, span_end in _spans(cal, kind, day):
                starts.append(span_start - _EPOCH)
                ends.append(span_end - _EPOCH)
        elif minutes := _nominal_minutes(cal, kind, day.weekday()):
            # Not special: one UTC offset the whole day, so local minutes map linearly.
            midnight = datetime.combine(day, time(), tzinfo=tz) - _EPOCH
            for start_minute, end_minute in minutes:
                starts.append(midnight + start_minute * _MINUTE)
                ends.append(midnight + end_minute * _MINUTE)
        day += _DAY
    before: list[timedelta] = []
    through: list[timedelta] = []
    total = _ZERO
    for start, end in zip(starts, ends, strict=True):
        before.append(total)
        total += end - start
        through.append(total)
    return _Year(
        year=year,
        low=_instant(tz, first, 0) - _EPOCH,
        high=_instant(tz, stop, 0) - _EPOCH,
        starts=starts,
        ends=ends,
        before=before,
        through=through,
        total=total,
    )


def _year(cal: CalendarSnapshot, kind: ClockKind, year: int) -> _Year:
    table = cal._years.get((kind, year))
    if table is None:
        if not MINYEAR < year < MAXYEAR:
            raise NeverOpenError(f"no calendar arithmetic in year {year}")
        table = cal._years[(kind, year)] = _build_year(cal, kind, year)
    return table


def _year_at(cal: CalendarSnapshot, kind: ClockKind, at: Instant, guess: int) -> _Year:
    """The table of the local year holding `at`; `guess` is at most a year off."""
    table = cal._years.get((kind, guess))
    if table is not None and table.low <= at < table.high:  # the usual case, made quick
        return table
    table = _year(cal, kind, guess)
    while at < table.low:
        table = _year(cal, kind, table.year - 1)
    while at >= table.high:
        table = _year(cal, kind, table.year + 1)
    return table


def _never_open(cal: CalendarSnapshot, since: Instant) -> NeverOpenError:
    return NeverOpenError(
        f"calendar ({cal.time_zone}) has no open time "
        f"within {SEARCH_HORIZON.days} days after {_local(cal, since).date()}"
    )


def _next_opening(cal: CalendarSnapshot, at: Instant, guess: int) -> Instant:
    """`at` if open then, else the start of the next open span, within the search horizon."""
    table = _year_at(cal, ClockKind.BUSINESS_HOURS, at, guess)
    while True:
        i = bisect.bisect_right(table.ends, at)
        if i < len(table.ends):
            opening = max(table.starts[i], at)
            if opening - at > SEARCH_HORIZON:
                break
            return opening
        if table.high - at > SEARCH_HORIZON:
            break
        table = _year(cal, ClockKind.BUSINESS_HOURS, table.year + 1)
    raise _never_open(cal, at)


# --- public operations ---------------------------------------------------------------------


def is_open(cal: CalendarSnapshot, at: datetime) -> bool:
    instant = _instant_of(at, "at")
    table = _year_at(cal, ClockKind.BUSINESS_HOURS, instant, at.year)
    i = bisect.bisect_right(table.ends, instant)
    return i < len(table.ends) and table.starts[i] <= instant


def next_opening(cal: CalendarSnapshot, at: datetime) -> datetime:
    """`at` if the calendar is open then, else the start of the next open interval."""
    return _local(cal, _next_opening(cal, _instant_of(at, "at"), at.year))


def clock_start(cal: CalendarSnapshot, kind: ClockKind, received_at: datetime) -> datetime:
    """Where a clock starts: wall at reception; business clocks at the next opening."""
    instant = _instant_of(received_at, "received_at")
    if kind is _WALL:
        return _local(cal, instant)
    return _local(cal, _next_opening(cal, instant, received_at.year))


def elapsed(cal: CalendarSnapshot, kind: ClockKind, start: datetime, end: datetime) -> timedelta:
    """Counted time in [start, end); zero when end <= start."""
    low, high = _instant_of(start, "start"), _instant_of(end, "end")
    if high <= low:
        return _ZERO
    if kind is _WALL:
        return high - low
    table = _year_at(cal, kind, low, start.year)
    counted = -table.counted(low)
    while high >= table.high:
        counted += table.total
        table = _year(cal, kind, table.year + 1)
    return counted + table.counted(high)


def add(cal: CalendarSnapshot, kind: ClockKind, start: datetime, amount: timedelta) -> datetime:
    """Earliest instant at which `elapsed(cal, kind, start, instant) == amount`.

    The start is never moved (use `clock_start` once, when the ticket arrives). Raises
    NeverOpenError when the calendar counts nothing for SEARCH_HORIZON on the way.
    """
    since = _instant_of(start, "start")
    if amount <= _ZERO or kind is _WALL:
        if amount < _ZERO:
            raise ValueError(f"amount must not be negative, got {amount}")
        return _local(cal, since + amount)
    table = _year_at(cal, kind, since, start.year)
    target = table.counted(since) + amount
    last = since  # where counted time last ran, to give up after SEARCH_HORIZON without any
    while target > table.total:  # the target lies in a later year
        target -= table.total
        if table.ends and table.ends[-1] > last:
            last = table.ends[-1]
        table = _year(cal, kind, table.year + 1)
        if (table.starts[0] if table.starts else table.high) - last > SEARCH_HORIZON:
            raise _never_open(cal, last)
    i = bisect.bisect_left(table.through, target)  # the span where the target is reached
    return _local(cal, table.starts[i] + (target - table.before[i]))


def counted_intervals(
    cal: CalendarSnapshot, kind: ClockKind, start: datetime, end: datetime
) -> list[Segment]:
    """Consecutive segments covering [start, end), each counted or not (with the reason why)."""
    low, high = _aware_utc(start, "start"), _aware_utc(end, "end")
    tz = cal.tz
    if high <= low:
        return []
    if kind is ClockKind.WALL:
        return [Segment(low.astimezone(tz), high.astimezone(tz), counted=True)]
    pieces: list[tuple[datetime, datetime, bool, str]] = []
    day, last = _day_of(tz, low), _day_of(tz, high)
    while day <= last:
        day_low = max(low, _instant(tz, day, 0))
        day_high = min(high, _instant(tz, day, MINUTES_PER_DAY))
        info = day_info(cal, day)
        cursor = day_low
        if info.business_day:
            for span_start, span_end in _spans(cal, kind, day):
                span_start, span_end = max(span_start, day_low), min(span_end, day_high)
                if span_start >= span_end:
                    continue
                pieces.append((cursor, span_start, False, ClosedReason.CLOSED_HOURS))
                pieces.append((span_start, span_end, True, ""))
                cursor = span_end
        closed = ClosedReason.CLOSED_HOURS if info.business_day else info.reason
        pieces.append((cursor, day_high, False, closed))
        day += _DAY
    segments: list[Segment] = []
    for piece_start, piece_end, counted, reason in pieces:
        if piece_start >= piece_end:
            continue
        previous = segments[-1] if segments else None
        if previous and previous.counted == counted and previous.reason == reason:
            segments[-1] = Segment(previous.start, piece_end.astimezone(tz), counted, reason)
        else:
            segments.append(
                Segment(piece_start.astimezone(tz), piece_end.astimezone(tz), counted, reason)
            )
    return segments
