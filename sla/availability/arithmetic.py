"""Availability against the yearly commitment: pure arithmetic on aware datetimes.

SLA-RULES.md: measured availability of a period = 1 − unplanned downtime ÷ (period length −
planned maintenance); planned maintenance counts only when announced before it starts; the
error budget of a year = (1 − commitment) × the year's length. Decisions where the rules are
silent (docs/ARCHITECTURE.md, "Availability"): an outage during an announced maintenance window
is planned time, not downtime; overlapping outages count once; an outage still open counts up
to ``now``; a period that has not ended yet is measured up to ``now``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

Span = tuple[datetime, datetime]


@dataclass(frozen=True)
class Outage:
    start: datetime
    end: datetime | None  # None: still going on


@dataclass(frozen=True)
class Maintenance:
    announced_at: datetime
    start: datetime
    end: datetime

    @property
    def announced_in_advance(self) -> bool:
        return self.announced_at < self.start


@dataclass(frozen=True)
class Availability:
    """One period's figures; ``ratio`` is None when nothing of the period could be measured."""

    start: datetime
    end: datetime  # the period's end, or now when it has not ended yet
    planned: timedelta
    downtime: timedelta
    ratio: Decimal | None

    @property
    def measured(self) -> timedelta:
        return self.end - self.start - self.planned

    @property
    def percent(self) -> Decimal | None:
        return None if self.ratio is None else self.ratio * 100


@dataclass(frozen=True)
class ErrorBudget:
    allowed: timedelta  # downtime the commitment allows in the year
    used: timedelta  # unplanned downtime so far this year
    left: timedelta  # allowed − used; negative once the commitment is broken

    @property
    def overrun(self) -> timedelta:
        """Downtime beyond what the commitment allows (zero while within it)."""
        return max(timedelta(0), -self.left)

    @property
    def left_ratio(self) -> Decimal:
        """Share of the budget still there (0 when spent or overspent)."""
        if self.allowed <= timedelta(0):
            return Decimal(0)
        share = Decimal(self.left.total_seconds()) / Decimal(self.allowed.total_seconds())
        return max(Decimal(0), share)


def merge(spans: Iterable[Span]) -> list[Span]:
    """The union of spans, sorted, as disjoint spans; empty spans are dropped."""
    merged: list[Span] = []
    for start, end in sorted(s for s in spans if s[1] > s[0]):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def clip(spans: Iterable[Span], start: datetime, end: datetime) -> list[Span]:
    return merge((max(s, start), min(e, end)) for s, e in spans)


def subtract(spans: Sequence[Span], holes: Sequence[Span]) -> list[Span]:
    """What of ``spans`` lies outside every hole (both disjoint and sorted, as merge gives)."""
    result: list[Span] = []
    for start, end in spans:
        cursor = start
        for hole_start, hole_end in holes:
            if hole_end <= cursor or hole_start >= end:
                continue
            if hole_start > cursor:
                result.append((cursor, hole_start))
            cursor = max(cursor, hole_end)
        if cursor < end:
            result.append((cursor, end))
    return result


def total(spans: Iterable[Span]) -> timedelta:
    return sum((end - start for start, end in spans), timedelta(0))


def availability(
    *,
    start: datetime,
    end: datetime,
    outages: Iterable[Outage],
    maintenance: Iterable[Maintenance],
    now: datetime,
) -> Availability:
    """Measured availability of [start, end), counted up to ``now``."""
    # In UTC: Python subtracts two datetimes of the same zone by their wall clocks, which
    # would make a month with a DST change an hour too long or short.
    start, now = _utc(start), _utc(now)
    end = max(start, min(_utc(end), now))
    planned = clip(
        ((_utc(m.start), _utc(m.end)) for m in maintenance if m.announced_in_advance), start, end
    )
    down = clip(((_utc(o.start), _utc(o.end or now)) for o in outages), start, end)
    unplanned = total(subtract(down, planned))
    planned_time = total(planned)
    measured = end - start - planned_time
    ratio = None
    if measured > timedelta(0):
        ratio = 1 - Decimal(unplanned.total_seconds()) / Decimal(measured.total_seconds())
    return Availability(start, end, planned_time, unplanned, ratio)


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("availability needs aware datetimes")
    return value.astimezone(UTC)


def year_bounds(year: int, zone: ZoneInfo) -> Span:
    return (
        datetime(year, 1, 1, tzinfo=zone),
        datetime(year + 1, 1, 1, tzinfo=zone),
    )


def month_bounds(year: int, month: int, zone: ZoneInfo) -> Span:
    following = date(year + month // 12, month % 12 + 1, 1)
    return (
        datetime(year, month, 1, tzinfo=zone),
        datetime(following.year, following.month, 1, tzinfo=zone),
    )


def error_budget(
    *, commitment_percent: Decimal, year: int, zone: ZoneInfo, downtime: timedelta
) -> ErrorBudget:
    """Downtime the yearly commitment allows, and what is left of it after ``downtime``."""
    first, last = year_bounds(year, zone)
    # The year's length in days, not the wall-clock difference (a DST year is no shorter).
    days = (last.date() - first.date()).days
    allowed_seconds = (100 - commitment_percent) / 100 * days * 86400
    allowed = timedelta(seconds=float(allowed_seconds))
    return ErrorBudget(allowed=allowed, used=downtime, left=allowed - downtime)
