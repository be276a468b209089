"""The values the calendar arithmetic works on: pure, frozen, with no Django in them.

A selector (``sla.clocks.selectors.calendar_snapshot``) turns a calendar's rows into a
`CalendarSnapshot`; `sla.clocks.calendar` and `sla.clocks.deadlines` compute on it and answer
with aware datetimes, `DayInfo` and `Segment` values. The snapshot checks itself when it is
made, so the arithmetic never meets a malformed calendar.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from types import MappingProxyType
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import holidays

if TYPE_CHECKING:  # the tables live with the arithmetic that builds them
    from sla.clocks.calendar import _Year

MINUTES_PER_DAY = 1440

Span = tuple[datetime, datetime]
MinuteInterval = tuple[int, int]


class ClockKind(enum.StrEnum):
    WALL = "wall"
    BUSINESS_HOURS = "business_hours"
    BUSINESS_DAYS = "business_days"


class ClosedReason(enum.StrEnum):
    """Why the calendar counts nothing at a time, unless a public holiday or a labelled closure
    names the day (its name or label is the reason then)."""

    CLOSED_HOURS = "closed hours"  # a business day, outside its opening intervals
    WEEKEND = "weekend"  # a Saturday or Sunday without weekly hours
    CLOSED = "closed"  # another weekday without weekly hours
    CLOSURE = "closure"  # a company closure without a label


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
    tz: ZoneInfo = field(init=False, repr=False, compare=False)
    _years: dict[tuple[ClockKind, int], _Year] = field(init=False, repr=False, compare=False)
    _epoch: datetime = field(init=False, repr=False, compare=False)  # 1970-01-01 in `tz`

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "tz", ZoneInfo(self.time_zone))
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
        object.__setattr__(self, "_years", _shared_years(self))
        object.__setattr__(self, "_epoch", datetime(1970, 1, 1, tzinfo=self.tz))


@dataclass(frozen=True)
class DayInfo:
    day: date
    business_day: bool
    intervals: tuple[Span, ...]  # open intervals, aware, in the calendar's time zone
    # "" on business days, else a ClosedReason, a public holiday's name or a closure's label
    reason: str


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


@functools.lru_cache(maxsize=128)
def _shared_years(cal: CalendarSnapshot) -> dict[tuple[ClockKind, int], _Year]:
    """One table store per distinct calendar, shared by every equal snapshot (the tables are
    built by sla.clocks.calendar on first use)."""
    return {}
