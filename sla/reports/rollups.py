"""The SLA report of every ticket (a manager's) from daily roll-ups: a UTC day counted once
(``day_count``) is read as a few rows; the days not counted, changed since (dirty), or cut by
the period's ends or by a local month's first instant are read from the tickets themselves.
The figures are the same either way, to the clock and to the minute: only the time to get
them changes (a year of 1,000,000 tickets: docs/PERFORMANCE.md).
"""

from __future__ import annotations

import sys
from array import array
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import FilteredRelation, Q, QuerySet
from django.utils import timezone

from sla.models import Clock, Metric, RollupClocks, RollupDay, RollupDirty, RollupTickets
from sla.reports import figures
from tickets.models import Ticket

ONE_DAY = timedelta(days=1)
HOUR = timedelta(hours=1)
_KNOWN_GROUPS = set(figures.GROUP_KEYS)


def _packed(numbers: list[int]) -> bytes:
    values = array("I", numbers)
    if sys.byteorder != "little":
        values.byteswap()
    return values.tobytes()


def _unpacked(data: bytes | memoryview) -> array[int]:
    values = array("I")
    values.frombytes(data)
    if sys.byteorder != "little":
        values.byteswap()
    return values


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


Key = tuple[int, str, str, str]  # desk, severity, metric, clock kind


def _tickets_by_hour(
    tickets: QuerySet[Ticket], start: datetime
) -> dict[tuple[int, str], list[int]]:
    """Per desk and severity, for each hour of the day: received, corrections stopped, met."""
    hours: defaultdict[tuple[int, str], list[int]] = defaultdict(lambda: [0] * 72)
    rows = tickets.annotate(
        correction=FilteredRelation(
            "clocks",
            condition=Q(clocks__metric=Metric.CORRECTION, clocks__state=Clock.State.STOPPED),
        )
    ).values_list("desk_id", "severity", "received_at", "correction__outcome")
    for desk, severity, received_at, outcome in rows:
        at = 3 * int((received_at - start).total_seconds() // 3600)
        numbers = hours[(desk, severity)]
        numbers[at] += 1
        numbers[at + 1] += outcome is not None
        numbers[at + 2] += outcome == Clock.Outcome.MET
    return hours


def _clock_groups(tickets: QuerySet[Ticket]) -> tuple[dict[Key, list[int]], dict[Key, list[int]]]:
    """Per desk, severity, metric and kind: (clocks, stopped, met, breached, spared), and the
    counted minutes."""
    groups: defaultdict[Key, list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
    minutes: defaultdict[Key, list[int]] = defaultdict(list)
    clocks = Clock.objects.filter(ticket__in=tickets).values_list(
        "ticket__desk_id", "ticket__severity", "metric", "kind", "elapsed_seconds",
        "state", "outcome", "breached_at", "spared_from",
    )  # fmt: skip
    for desk, severity, metric, kind, elapsed, state, outcome, breached_at, spared in clocks:
        key = (desk, severity, metric, kind)
        met = state == Clock.State.STOPPED and outcome == Clock.Outcome.MET
        sums = groups[key]
        sums[0] += 1
        sums[1] += state == Clock.State.STOPPED
        sums[2] += met
        sums[3] += breached_at is not None
        sums[4] += met and spared != ""
        if elapsed is not None:
            minutes[key].append(elapsed // 60)
    return groups, minutes


def day_count(day: date) -> None:
    """Count the UTC day's tickets and clocks into its roll-up rows, replacing the old ones.

    The day's dirty marks are deleted first, in the same transaction: a change committed
    before that is in the count; one committed after keeps its own mark (PostgreSQL's read
    committed statements each see what was committed when they start; SQLite's writers take
    turns), so a count is never trusted for a change it missed."""
    start = _day_start(day)
    with transaction.atomic():
        # One count of a day at a time (the beat, a manual count): the day's row, locked.
        RollupDay.objects.get_or_create(day=day, defaults={"counted_at": timezone.now()})
        RollupDay.objects.select_for_update().get(day=day)
        RollupDirty.objects.filter(day=day).delete()
        tickets = figures.received(Ticket.objects.all(), start, start + ONE_DAY)
        hours = _tickets_by_hour(tickets, start)
        groups, minutes = _clock_groups(tickets)
        RollupTickets.objects.filter(day=day).delete()
        RollupClocks.objects.filter(day=day).delete()
        RollupTickets.objects.bulk_create(
            RollupTickets(day=day, desk_id=desk, severity=severity, hours=_packed(numbers))
            for (desk, severity), numbers in hours.items()
        )
        RollupClocks.objects.bulk_create(
            RollupClocks(
                day=day,
                desk_id=key[0],
                severity=key[1],
                metric=key[2],
                kind=key[3],
                clocks=sums[0],
                stopped=sums[1],
                met=sums[2],
                breached=sums[3],
                spared=sums[4],
                minutes=_packed(sorted(minutes[key])),
            )
            for key, sums in groups.items()
        )
        RollupDay.objects.filter(day=day).update(counted_at=timezone.now())  # locked above


def dirty_days_count(*, limit: int = 400, now: datetime | None = None) -> int:
    """Count the dirty days before today (UTC; today keeps changing and reads its tickets),
    oldest first, at most ``limit``; how many were counted."""
    today = (now or timezone.now()).astimezone(UTC).date()
    days = list(
        RollupDirty.objects.filter(day__lt=today)
        .order_by("day")
        .values_list("day", flat=True)
        .distinct()[:limit]
    )
    for day in days:
        day_count(day)
    return len(days)


def _whole_days(start: datetime, end: datetime) -> tuple[date, date]:
    """The first UTC day that starts within [start, end), and the first that does not end
    within it."""
    first = start.astimezone(UTC).date()
    if _day_start(first) < start:
        first += ONE_DAY
    return first, end.astimezone(UTC).date()


def rolled_days(start: datetime, end: datetime) -> list[date]:
    """The days of the period that roll-ups may answer for, in order: whole within the
    period, and not dirty. A day with tickets has counted rows or a dirty mark (the triggers
    mark each ticket's day, the migration that made them marked every day that had tickets,
    and so does their reinstallation after any was lost), so a day with neither has none:
    its roll-up is the empty one, and a desk's quiet weekends are not read from the tickets."""
    first, last = _whole_days(start, end)
    dirty = set(
        RollupDirty.objects.filter(day__gte=first, day__lt=last)
        .values_list("day", flat=True)
        .distinct()
    )
    return [
        day
        for day in (first + n * ONE_DAY for n in range(max((last - first).days, 0)))
        if day not in dirty
    ]


MonthParts = list[tuple[int, int, int]]  # (month's index, first hour, end hour) of a day


def month_parts(
    days: list[date], segments: list[tuple[datetime, datetime]]
) -> dict[date, MonthParts]:
    """For each (sorted) day, its hours in each month of the report: one part for most
    days, two for a day that a month begins within (in Berlin, July begins on 30 June at
    22:00 UTC). A day that a month begins within off a whole hour (a zone half an hour from
    UTC) has none: its months are read from its tickets."""
    parts: dict[date, MonthParts] = {}
    i = 0
    for day in days:
        start = _day_start(day)
        while segments[i][1] <= start:
            i += 1
        hours, j = [], i
        while j < len(segments) and segments[j][0] < start + ONE_DAY:
            low = max(segments[j][0], start) - start
            high = min(segments[j][1], start + ONE_DAY) - start
            if low % HOUR or high % HOUR:
                break
            hours.append((j, low // HOUR, high // HOUR))
            j += 1
        else:
            parts[day] = hours
    return parts


def _ranges(filters: figures.ReportFilter, days: list[date]) -> list[figures.ReportFilter]:
    """The instants of the period outside the (sorted) days, as filters of shorter periods
    (each the only range on ``received_at`` of its query: SQLite bounds an index's range
    with one lower and one upper bound, not always the tightest)."""
    ranges = []
    at = filters.start
    for day in days:
        if _day_start(day) > at:
            ranges.append(replace(filters, start=at, end=_day_start(day)))
        at = _day_start(day) + ONE_DAY
    if at < filters.end:
        ranges.append(replace(filters, start=at))
    return ranges


# SQLite allows 500 parts in a compound SELECT; a long period of alternating dirty and clean
# days (after the roll-ups' first migration, on a quiet desk) can have more ranges.
UNION_PARTS = 400


def _united(
    parts: list[QuerySet[Ticket, tuple[int, ...]]],
) -> Iterator[tuple[int, ...]]:
    """The rows of several ranges, a few statements for all: each part seeks its own range
    in an index (an OR of ranges is read as the whole period on SQLite)."""
    for first in range(0, len(parts), UNION_PARTS):
        chunk = parts[first : first + UNION_PARTS]
        yield from chunk[0].union(*chunk[1:], all=True) if len(chunk) > 1 else chunk[0]


def sla_report_rolled(filters: figures.ReportFilter, zone: ZoneInfo) -> figures.Report:
    """The report of every ticket within the filters, as ``figures.sla_report`` counts it:
    for readers who see every ticket (managers). Filtered by organization, agent or tag, which
    roll-ups do not keep, it reads the tickets.

    The groups come from the roll-ups of every counted, clean day whole within the period;
    the months from those days that no month begins within; the rest from the tickets."""
    start, end = filters.start, filters.end

    def tickets(period: figures.ReportFilter) -> QuerySet[Ticket]:
        return figures.report_tickets(Ticket.objects.all(), period)

    if filters.organization_id or filters.agent_id or filters.tag_id:
        return figures.sla_report(tickets(filters), start=start, end=end, zone=zone)
    segments = figures.month_segments(start, end, zone)
    days = rolled_days(start, end)
    parts = month_parts(days, segments)
    tally, counts = figures.Tally(), dict[int, list[int]]()
    if ranges := _ranges(filters, days):
        tally.add_grouped(_united([figures.grouped_by_minute(tickets(r)) for r in ranges]))
    if ranges := _ranges(filters, list(parts)):
        united = _united([figures.month_rows(tickets(r), segments) for r in ranges])
        figures.month_counts(united, counts)
    if days:
        _add_rollups(tally, counts, days, parts, filters)
    return figures.report_of(tally, segments, counts)


def _add_rollups(
    tally: figures.Tally,
    counts: dict[int, list[int]],
    days: list[date],
    parts: dict[date, MonthParts],
    filters: figures.ReportFilter,
) -> None:
    """Add the rolled days' clocks to the groups, and their tickets to the months ``parts``
    places them in."""
    narrow = Q(day__in=days)
    if filters.desk_id:
        narrow &= Q(desk_id=filters.desk_id)
    if filters.severity:
        narrow &= Q(severity=filters.severity)
    received = RollupTickets.objects.filter(narrow, day__in=list(parts))
    for day, data in received.values_list("day", "hours"):
        hours = _unpacked(data)
        for month, first, end in parts[day]:
            sums = counts.setdefault(month, [0, 0, 0])
            for k in range(3):
                sums[k] += sum(hours[3 * first + k : 3 * end : 3])
    rows = RollupClocks.objects.filter(narrow).values_list(
        "severity", "metric", "kind", "clocks", "stopped", "met", "breached", "spared", "minutes"
    )
    for severity, metric, kind, clocks, stopped, met, breached, spared, data in rows:
        key = (severity, metric, kind)
        if key not in _KNOWN_GROUPS:  # a severity or clock kind the product does not know
            continue
        tally.add(key, clocks, stopped, met, breached, spared).update(_unpacked(data))
