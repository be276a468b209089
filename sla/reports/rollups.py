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
from datetime import UTC, date, datetime, time, timedelta
from functools import reduce
from operator import or_
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone

from sla.models import Clock, Metric, RollupClocks, RollupDay, RollupDirty, RollupTickets
from sla.reports import figures
from tickets.models import Ticket

ONE_DAY = timedelta(days=1)
_KNOWN_GROUPS = set(figures.GROUP_KEYS)


def _minutes_bytes(minutes: list[int]) -> bytes:
    values = array("I", minutes)
    if sys.byteorder != "little":
        values.byteswap()
    return values.tobytes()


def _minutes_of(data: bytes | memoryview) -> array[int]:
    values = array("I")
    values.frombytes(data)
    if sys.byteorder != "little":
        values.byteswap()
    return values


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def day_count(day: date) -> None:
    """Count the UTC day's tickets and clocks into its roll-up rows, replacing the old ones.

    The day's dirty marks are deleted first, in the same transaction: a change committed
    before that is in the count; one committed after keeps its own mark (PostgreSQL's read
    committed statements each see what was committed when they start; SQLite's writers take
    turns), so a count is never trusted for a change it missed."""
    start = _day_start(day)
    with transaction.atomic():
        RollupDirty.objects.filter(day=day).delete()
        tickets = Ticket.objects.filter(
            received_at__gte=start, received_at__lt=start + ONE_DAY, merged_into__isnull=True
        )
        received = tickets.order_by().values_list("desk_id", "severity").annotate(n=Count("pk"))
        groups: defaultdict[tuple[int, str, str, str], list[int]] = defaultdict(
            lambda: [0, 0, 0, 0, 0]
        )
        minutes: defaultdict[tuple[int, str, str, str], list[int]] = defaultdict(list)
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
        RollupTickets.objects.filter(day=day).delete()
        RollupClocks.objects.filter(day=day).delete()
        RollupTickets.objects.bulk_create(
            RollupTickets(day=day, desk_id=desk, severity=severity, received=n)
            for desk, severity, n in received
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
                minutes=_minutes_bytes(sorted(minutes[key])),
            )
            for key, sums in groups.items()
        )
        RollupDay.objects.update_or_create(day=day, defaults={"counted_at": timezone.now()})


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


def _whole_days(
    start: datetime, end: datetime, segments: list[tuple[datetime, datetime]]
) -> tuple[date, date, set[datetime]]:
    """The UTC days within [start, end), and the instants that cut a day in two (the ends
    of the months that fall inside a day)."""
    first = start.astimezone(UTC).date()
    if _day_start(first) < start:
        first += ONE_DAY
    last = end.astimezone(UTC).date()  # the day [last, last + 1) is not whole in the period
    cuts = {b for _, b in segments if b != _day_start(b.astimezone(UTC).date())}
    return first, last, cuts


def rolled_days(
    start: datetime, end: datetime, segments: list[tuple[datetime, datetime]]
) -> list[date]:
    """The days of the period that roll-ups may answer for: counted, not dirty since, whole
    within the period and within one of its months."""
    first, last, cuts = _whole_days(start, end, segments)
    cut_days = {c.astimezone(UTC).date() for c in cuts}
    counted = (
        RollupDay.objects.filter(day__gte=first, day__lt=last)
        .exclude(Exists(RollupDirty.objects.filter(day=OuterRef("day"))))
        .order_by("day")
        .values_list("day", flat=True)
    )
    return [day for day in counted if day not in cut_days]


def _others(start: datetime, end: datetime, days: list[date]) -> Q | None:
    """The instants of [start, end) outside the rolled days, as ranges of ``received_at``;
    None when there are none."""
    ranges: list[tuple[datetime, datetime]] = []
    at = start
    for day in days:  # sorted
        if _day_start(day) > at:
            ranges.append((at, _day_start(day)))
        at = _day_start(day) + ONE_DAY
    if at < end:
        ranges.append((at, end))
    if not ranges:
        return None
    return reduce(or_, (Q(received_at__gte=a, received_at__lt=b) for a, b in ranges))


def sla_report_rolled(filters: figures.ReportFilter, zone: ZoneInfo) -> figures.Report:
    """The report of every ticket within the filters, as ``figures.sla_report`` counts it:
    for readers who see every ticket (managers). Filtered by organization or by agent, which
    roll-ups do not keep, it reads the tickets."""
    start, end = filters.start, filters.end
    tickets = figures.report_tickets(Ticket.objects.all(), filters)
    if filters.organization_id or filters.agent_id:
        return figures.sla_report(tickets, start=start, end=end, zone=zone)
    segments = figures.month_segments(start, end, zone)
    days = rolled_days(start, end, segments)
    tally, counts = figures.Tally(), {}
    others = _others(start, end, days)
    if others is not None:
        tally.add_grouped(tickets.filter(others))
        counts = figures.month_counts(tickets.filter(others), segments)
    if days:
        _add_rollups(tally, counts, days, filters, segments)
    return figures.report_of(tally, segments, counts)


def _add_rollups(
    tally: figures.Tally,
    counts: dict[int, list[int]],
    days: list[date],
    filters: figures.ReportFilter,
    segments: list[tuple[datetime, datetime]],
) -> None:
    """Add the rolled days' rows to the groups and to their months' counts."""
    narrow = Q(day__in=days)
    if filters.desk_id:
        narrow &= Q(desk_id=filters.desk_id)
    if filters.severity:
        narrow &= Q(severity=filters.severity)
    month_of: dict[date, int] = {}
    i = 0
    for day in days:
        while _day_start(day) >= segments[i][1]:
            i += 1
        month_of[day] = i
    for day, received in RollupTickets.objects.filter(narrow).values_list("day", "received"):
        counts.setdefault(month_of[day], [0, 0, 0])[0] += received
    rows = RollupClocks.objects.filter(narrow).values_list(
        "day", "severity", "metric", "kind", "clocks", "stopped", "met", "breached", "spared",
        "minutes",
    )  # fmt: skip
    for day, severity, metric, kind, clocks, stopped, met, breached, spared, data in rows:
        key = (severity, metric, kind)
        if key not in _KNOWN_GROUPS:  # a severity or clock kind the product does not know
            continue
        tally.add(key, clocks, stopped, met, breached, spared).update(_minutes_of(data))
        if metric == Metric.CORRECTION:
            month = counts.setdefault(month_of[day], [0, 0, 0])
            month[1] += stopped
            month[2] += met
