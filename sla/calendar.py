"""Business-time arithmetic for SLA clocks.

Pure module: plain values in, plain values out. No Django, no ORM, no settings and no
clock reads; a selector turns calendar rows into a `CalendarSnapshot`. The semantics are
those of the SLA rules page (clock kinds, open time, DST), followed to the minute:

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

Long spans are not walked day by day. Every weekday has a nominal counted amount (its
weekly hours, or 24 h for `business_days`); a run of whole days counts the nominal amount
of its weekdays (whole weeks at once) plus a correction for each special date inside it:
public holidays, closure days, extra openings and days whose UTC offset changes (DST).
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from types import MappingProxyType
from zoneinfo import ZoneInfo

import holidays

__all__ = [
    "CalendarSnapshot",
    "ClockKind",
    "Closure",
    "DayInfo",
    "ExtraOpening",
    "NeverOpenError",
    "Segment",
    "add",
    "clock_start",
    "counted_intervals",
    "day_info",
    "elapsed",
    "is_open",
    "next_opening",
    "public_holidays",
]

MINUTES_PER_DAY = 1440
# How far a search for open time looks ahead before giving up with NeverOpenError.
SEARCH_HORIZON = timedelta(days=3 * 366)
CLOSED_HOURS = "closed hours"

_ZERO = timedelta(0)
_DAY = timedelta(days=1)
_WEEK = timedelta(days=7)

Span = tuple[datetime, datetime]
MinuteInterval = tuple[int, int]


class ClockKind(enum.StrEnum):
    WALL = "wall"
    BUSINESS_HOURS = "business_hours"
    BUSINESS_DAYS = "business_days"


class NeverOpenError(ValueError):
    """The calendar has no open time within the search horizon (or none at all)."""


def _check_minutes(start: int, end: int, where: str) -> None:
    for value in (start, end):
        if not isinstance(value, int) or isinstance(value, bool):
            raise ValueError(f"{where}: minutes must be integers, got {value!r}")
    if not 0 <= start < end <= MINUTES_PER_DAY:
        raise ValueError(
            f"{where}: need 0 <= start < end <= {MINUTES_PER_DAY} minutes, got ({start}, {end})"
        )


def _check_date(value: object, where: str) -> None:
    if not isinstance(value, date) or isinstance(value, datetime):
        raise ValueError(f"{where}: expected a date, got {value!r}")


@dataclass(frozen=True)
class Closure:
    """Company closure over inclusive local dates."""

    start: date
    end: date
    label: str

    def __post_init__(self) -> None:
        _check_date(self.start, "closure start")
        _check_date(self.end, "closure end")
        if self.end < self.start:
            raise ValueError(
                f"closure {self.label!r} ends ({self.end}) before it starts ({self.start})"
            )


@dataclass(frozen=True)
class ExtraOpening:
    """One-off opening on a local date; makes that date a business day."""

    day: date
    start_minute: int
    end_minute: int
    label: str = ""

    def __post_init__(self) -> None:
        _check_date(self.day, "extra opening day")
        _check_minutes(self.start_minute, self.end_minute, f"extra opening on {self.day}")


@dataclass(frozen=True)
class CalendarSnapshot:
    time_zone: str
    weekly: tuple[tuple[MinuteInterval, ...], ...]
    holiday_country: str = ""
    holiday_subdivision: str = ""
    closures: tuple[Closure, ...] = ()
    extra_openings: tuple[ExtraOpening, ...] = ()

    def __post_init__(self) -> None:
        try:
            ZoneInfo(self.time_zone)
        except (KeyError, ValueError) as exc:  # ZoneInfoNotFoundError is a KeyError
            raise ValueError(f"unknown time zone {self.time_zone!r}") from exc
        if len(self.weekly) != 7:
            raise ValueError(f"weekly needs 7 entries (Monday first), got {len(self.weekly)}")
        weekly: list[tuple[MinuteInterval, ...]] = []
        for weekday, intervals in enumerate(self.weekly):
            previous_end = 0
            for interval in intervals:
                if not isinstance(interval, tuple | list) or len(interval) != 2:
                    raise ValueError(
                        f"weekly[{weekday}]: expected (start, end) pairs, got {interval!r}"
                    )
                _check_minutes(interval[0], interval[1], f"weekly[{weekday}]")
                if interval[0] < previous_end:
                    raise ValueError(f"weekly[{weekday}]: intervals must be sorted and not overlap")
                previous_end = interval[1]
            weekly.append(tuple((start, end) for start, end in intervals))
        if self.holiday_subdivision and not self.holiday_country:
            raise ValueError("holiday_subdivision needs a holiday_country")
        if self.holiday_country:
            _check_holiday_entity(self.holiday_country, self.holiday_subdivision)
        # Normalise lists to tuples so snapshots stay hashable (they key caches).
        object.__setattr__(self, "weekly", tuple(weekly))
        object.__setattr__(self, "closures", tuple(self.closures))
        object.__setattr__(self, "extra_openings", tuple(self.extra_openings))

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)  # ZoneInfo caches one instance per key


@dataclass(frozen=True)
class DayInfo:
    day: date
    business_day: bool
    intervals: tuple[Span, ...]  # open intervals, aware, in the calendar's time zone
    reason: str  # "" on business days, else "weekend", "closed", holiday name or closure label


@dataclass(frozen=True)
class Segment:
    start: datetime
    end: datetime
    counted: bool
    reason: str = ""  # why an uncounted segment does not count


# --- public holidays ---------------------------------------------------------------------


@functools.lru_cache(maxsize=64)
def _check_holiday_entity(country: str, subdivision: str) -> None:
    try:
        holidays.country_holidays(country, subdiv=subdivision or None)
    except NotImplementedError as exc:
        raise ValueError(f"unsupported holidays {country!r}/{subdivision!r}: {exc}") from exc


@functools.lru_cache(maxsize=512)
def public_holidays(country: str, subdivision: str, year: int) -> Mapping[date, str]:
    """Public holidays (observed days included) of one year, with English names."""
    if not country:
        return MappingProxyType({})
    _check_holiday_entity(country, subdivision)
    entity = holidays.country_holidays(
        country, subdiv=subdivision or None, years=year, language="en_US", observed=True
    )
    return MappingProxyType({day: name for day, name in entity.items() if day.year == year})


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
    if not weekly:
        reason = "weekend" if day.weekday() >= 5 else "closed"
    else:
        holiday = ""
        if cal.holiday_country:
            holidays_of_year = public_holidays(
                cal.holiday_country, cal.holiday_subdivision, day.year
            )
            holiday = holidays_of_year.get(day, "")
        closure = next((c.label or "closure" for c in cal.closures if c.start <= day <= c.end), "")
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


def _overlap(spans: Iterable[Span], low: datetime, high: datetime) -> timedelta:
    return sum((max(_ZERO, min(end, high) - max(start, low)) for start, end in spans), _ZERO)


def _nominal(cal: CalendarSnapshot, kind: ClockKind) -> tuple[timedelta, ...]:
    """Counted time of each weekday on an ordinary date (no holiday, closure, extra, DST)."""
    if kind is ClockKind.BUSINESS_DAYS:
        return tuple(_DAY if intervals else _ZERO for intervals in cal.weekly)
    return tuple(timedelta(minutes=sum(end - start for start, end in day)) for day in cal.weekly)


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


def _counted_days(cal: CalendarSnapshot, kind: ClockKind, first: date, stop: date) -> timedelta:
    """Counted time of the whole local dates in [first, stop), without visiting each date."""
    days = (stop - first).days
    if days <= 0:
        return _ZERO
    nominal = _nominal(cal, kind)
    weeks, rest = divmod(days, 7)
    total = weeks * sum(nominal, _ZERO)
    total += sum((nominal[(first.weekday() + i) % 7] for i in range(rest)), _ZERO)
    for day in _special_days(cal, first, stop):
        counted = sum((end - start for start, end in _spans(cal, kind, day)), _ZERO)
        total += counted - nominal[day.weekday()]
    return total


def _extra_days_from(cal: CalendarSnapshot, first: date) -> list[date]:
    return sorted({x.day for x in cal.extra_openings if x.day >= first})


def _never_open(cal: CalendarSnapshot, since: date) -> NeverOpenError:
    return NeverOpenError(
        f"calendar ({cal.time_zone}) has no open time "
        f"within {SEARCH_HORIZON.days} days after {since}"
    )


# --- public operations ---------------------------------------------------------------------


def is_open(cal: CalendarSnapshot, at: datetime) -> bool:
    instant = _aware_utc(at, "at")
    day = _day_of(cal.tz, instant)
    return any(start <= instant < end for start, end in _spans(cal, ClockKind.BUSINESS_HOURS, day))


def next_opening(cal: CalendarSnapshot, at: datetime) -> datetime:
    """`at` if the calendar is open then, else the start of the next open interval."""
    instant = _aware_utc(at, "at")
    first = _day_of(cal.tz, instant)
    if any(cal.weekly):
        last = first + SEARCH_HORIZON
        days: Iterable[date] = (first + i * _DAY for i in range((last - first).days + 1))
    else:  # only extra openings can open it
        days = _extra_days_from(cal, first)
    for day in days:
        for start, end in _spans(cal, ClockKind.BUSINESS_HOURS, day):
            if end > instant:
                return max(start, instant).astimezone(cal.tz)
    raise _never_open(cal, first)


def clock_start(cal: CalendarSnapshot, kind: ClockKind, received_at: datetime) -> datetime:
    """Where a clock starts: wall at reception; business clocks at the next opening."""
    if kind is ClockKind.WALL:
        return _aware_utc(received_at, "received_at").astimezone(cal.tz)
    return next_opening(cal, received_at)


def elapsed(cal: CalendarSnapshot, kind: ClockKind, start: datetime, end: datetime) -> timedelta:
    """Counted time in [start, end); zero when end <= start."""
    low, high = _aware_utc(start, "start"), _aware_utc(end, "end")
    if high <= low:
        return _ZERO
    if kind is ClockKind.WALL:
        return high - low
    tz = cal.tz
    first, last = _day_of(tz, low), _day_of(tz, high)
    if first == last:
        return _overlap(_spans(cal, kind, first), low, high)
    return (
        _overlap(_spans(cal, kind, first), low, high)
        + _counted_days(cal, kind, first + _DAY, last)
        + _overlap(_spans(cal, kind, last), low, high)
    )


def _consume(
    spans: Iterable[Span], since: datetime, left: timedelta
) -> tuple[datetime | None, timedelta]:
    """Walk `spans` from `since`: the instant where `left` runs out, or what is still left."""
    for start, end in spans:
        if end <= since:
            continue
        start = max(start, since)
        if start + left <= end:
            return start + left, _ZERO
        left -= end - start
    return None, left


def add(cal: CalendarSnapshot, kind: ClockKind, start: datetime, amount: timedelta) -> datetime:
    """Earliest instant at which `elapsed(cal, kind, start, instant) == amount`.

    The start is never moved (use `clock_start` once, when the ticket arrives).
    """
    since = _aware_utc(start, "start")
    if amount < _ZERO:
        raise ValueError(f"amount must not be negative, got {amount}")
    tz = cal.tz
    if amount == _ZERO or kind is ClockKind.WALL:
        return (since + amount).astimezone(tz)
    day = _day_of(tz, since)
    due, left = _consume(_spans(cal, kind, day), since, amount)
    if due is not None:
        return due.astimezone(tz)
    day += _DAY
    week = sum(_nominal(cal, kind), _ZERO)
    if week == _ZERO:  # no weekly hours: only extra openings count
        for extra_day in _extra_days_from(cal, day):
            due, left = _consume(_spans(cal, kind, extra_day), since, left)
            if due is not None:
                return due.astimezone(tz)
        raise _never_open(cal, day)
    # Jump whole weeks while the due instant lies beyond them (halving on overshoot) ...
    idle = _ZERO
    while True:
        weeks = max(1, left // week)
        while weeks:
            jump = _counted_days(cal, kind, day, day + weeks * _WEEK)
            if jump < left:
                break
            weeks //= 2
        if not weeks:
            break
        idle = idle + weeks * _WEEK if jump == _ZERO else _ZERO
        if idle > SEARCH_HORIZON:
            raise _never_open(cal, day - idle)
        left -= jump
        day += weeks * _WEEK
    # ... then it lies within the next seven dates.
    while True:
        due, left = _consume(_spans(cal, kind, day), since, left)
        if due is not None:
            return due.astimezone(tz)
        day += _DAY


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
                pieces.append((cursor, span_start, False, CLOSED_HOURS))
                pieces.append((span_start, span_end, True, ""))
                cursor = span_end
        pieces.append((cursor, day_high, False, CLOSED_HOURS if info.business_day else info.reason))
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
