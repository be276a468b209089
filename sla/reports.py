"""SLA compliance reports: aggregate queries over tickets and their clocks.

Nothing here loads every ticket of a period: counts, shares, medians and 90th percentiles
(nearest rank: the value at rank ⌈p·n⌉ of the counted times in each group) come from one query
grouped by the minute of the counted time, the months from conditional counts; the breach list
and the tickets at risk are pages. Times are
the clocks' ``elapsed``, counted in each clock's own kind (calendar time, business hours or
business days) when it stopped, so a group is always one kind: severity × metric × kind.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TypeVar
from zoneinfo import ZoneInfo

from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    FilteredRelation,
    IntegerField,
    Model,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
)

from sla import availability
from sla.calendar import CalendarSnapshot, ClockKind
from sla.deadlines import counted
from sla.models import Clock, Metric
from sla.selectors import calendar_snapshot_by_id, clock_runs
from tickets.models import OPEN_STATUSES, Severity, Ticket, TicketEvent, more_urgent

M = TypeVar("M", bound=Model)

SEVERITY_ORDER = {s: i for i, s in enumerate(Severity.values)}
METRIC_ORDER = {m: i for i, m in enumerate(Metric.values)}


@dataclass(frozen=True)
class ReportFilter:
    start: datetime
    end: datetime
    desk_id: int | None = None
    organization_id: int | None = None
    severity: str = ""
    agent_id: int | None = None


@dataclass(frozen=True)
class GroupFigures:
    """One severity × metric × clock kind of the period."""

    severity: str
    metric: str
    kind: str
    clocks: int
    stopped: int
    met: int
    breached: int  # stopped late, or running past the deadline
    spared: int  # met after a downgrade, missed under the severity before it
    median: timedelta | None
    p90: timedelta | None

    @property
    def met_share(self) -> Decimal | None:
        """Share of the clocks that stopped within target, among those stopped."""
        return None if not self.stopped else Decimal(self.met) / Decimal(self.stopped)


@dataclass(frozen=True)
class MonthFigures:
    month: datetime
    received: int
    stopped: int
    met: int

    @property
    def met_share(self) -> Decimal | None:
        return None if not self.stopped else Decimal(self.met) / Decimal(self.stopped)


@dataclass(frozen=True)
class Report:
    received: int
    groups: list[GroupFigures]
    months: list[MonthFigures]

    @property
    def breached(self) -> int:
        """Clocks that missed their deadline: as many as ``breaches()`` lists."""
        return sum(g.breached for g in self.groups)

    @property
    def spared(self) -> int:
        """Promises kept only because the ticket was downgraded first."""
        return sum(g.spared for g in self.groups)

    def share(self, metric: str) -> Decimal | None:
        stopped = sum(g.stopped for g in self.groups if g.metric == metric)
        met = sum(g.met for g in self.groups if g.metric == metric)
        return None if not stopped else Decimal(met) / Decimal(stopped)


def report_tickets(tickets: QuerySet[Ticket], filters: ReportFilter) -> QuerySet[Ticket]:
    """The tickets of the report: received in the period, narrowed by the filters."""
    tickets = tickets.filter(
        received_at__gte=filters.start, received_at__lt=filters.end, merged_into__isnull=True
    )
    if filters.desk_id:
        tickets = tickets.filter(desk_id=filters.desk_id)
    if filters.organization_id:
        tickets = tickets.filter(organization_id=filters.organization_id)
    if filters.severity:
        tickets = tickets.filter(severity=filters.severity)
    if filters.agent_id:
        tickets = tickets.filter(assignee_id=filters.agent_id)
    return tickets


def _late() -> Q:
    """Missed: stopped late (sla.services sets ``breached_at`` with the BREACHED outcome), or
    running past a deadline the sweep has marked. Written as the clock_breached_due index's
    condition, so that the breach list reads that index."""
    return Q(breached_at__isnull=False)


def _nearest_rank(buckets: list[tuple[int, int]], total: int, percent: int) -> timedelta | None:
    """The minute bucket holding rank ⌈percent·total/100⌉ of sorted (minute, count) pairs."""
    if not total:
        return None
    rank = -(-total * percent // 100)
    seen = 0
    for minute, count in buckets:
        seen += count
        if seen >= rank:
            return timedelta(minutes=minute)
    return None


def _months(start: datetime, end: datetime, zone: ZoneInfo) -> list[tuple[datetime, datetime]]:
    """The local months that [start, end) touches, as (first instant, next month's)."""
    local = start.astimezone(zone)
    year, month = local.year, local.month
    months: list[tuple[datetime, datetime]] = []
    while True:
        first, following = availability.month_bounds(year, month, zone)
        if first >= end:
            return months
        months.append((first, following))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


def sla_report(
    tickets: QuerySet[Ticket], *, start: datetime, end: datetime, zone: ZoneInfo
) -> Report:
    """Counts, shares within target, medians and 90th percentiles per severity × metric ×
    kind, and the months of [start, end): two queries, whatever the number of tickets.

    The clocks are grouped by the minute of their counted time as well: the sorted minutes
    with their counts give each group's exact nearest-rank percentiles (to the minute, as
    pages show them) from a few thousand rows instead of every clock.
    """
    # From the tickets' side: one join driven by the period's range on ticket_report_received,
    # each ticket's clocks read from clock_report; no list of the period's tickets first. The
    # group is one small integer (severity, metric and kind coded), and the rows unordered:
    # PostgreSQL then hashes the groups instead of sorting 200,000 rows on collated text
    # (0.54 → 0.28 s), SQLite sorts narrower keys; each group's minutes are sorted here.
    is_stopped = Q(clocks__state=Clock.State.STOPPED)
    is_met = is_stopped & Q(clocks__outcome=Clock.Outcome.MET)
    keys = [
        (sev, metric, kind)
        for sev in Severity.values
        for metric in Metric.values
        for kind in ClockKind
    ]
    code = {key: i for i, key in enumerate(keys)}
    group = Case(
        *(
            When(severity=sev, clocks__metric=metric, clocks__kind=kind, then=Value(i))
            for (sev, metric, kind), i in code.items()
        ),
        output_field=IntegerField(),
    )
    rows = (
        tickets.filter(clocks__isnull=False)
        .annotate(group=group, minute=F("clocks__elapsed_seconds") / 60)
        .values_list("group", "minute")
        .annotate(
            number=Count("clocks"),
            stopped=Count("clocks", filter=is_stopped),
            met=Count("clocks", filter=is_met),
            breached=Count("clocks", filter=Q(clocks__breached_at__isnull=False)),
            spared=Count("clocks", filter=is_met & ~Q(clocks__spared_from="")),
        )
        .order_by()
    )
    totals: dict[tuple[str, str, str], list[int]] = {}
    buckets: dict[tuple[str, str, str], list[tuple[int, int]]] = {}
    for group_code, minute, count, stopped, met, breached, spared in rows:
        if group_code is None:  # a severity or clock kind the product does not know
            continue
        key = keys[group_code]
        sums = totals.get(key)
        if sums is None:
            sums = totals[key] = [0, 0, 0, 0, 0]
        sums[0] += count
        sums[1] += stopped
        sums[2] += met
        sums[3] += breached
        sums[4] += spared
        if minute is not None:
            buckets.setdefault(key, []).append((minute, count))
    groups = []
    for key, (count, stopped, met, breached, spared) in totals.items():
        counted_clocks = sorted(buckets.get(key, []))
        n = sum(c for _, c in counted_clocks)
        groups.append(
            GroupFigures(
                *key,
                clocks=count,
                stopped=stopped,
                met=met,
                breached=breached,
                spared=spared,
                median=_nearest_rank(counted_clocks, n, 50),
                p90=_nearest_rank(counted_clocks, n, 90),
            )
        )
    groups.sort(
        key=lambda g: (SEVERITY_ORDER.get(g.severity, 9), METRIC_ORDER.get(g.metric, 9), g.kind)
    )
    # The months in one pass over the period's tickets, each with its stopped correction
    # clock (one at most): a month is the first bound a ticket is received before.
    bounds = [(month, min(following, end)) for month, following in _months(start, end, zone)]
    per_month = {
        row["month"]: row
        for row in tickets.annotate(
            correction=FilteredRelation(
                "clocks",
                condition=Q(clocks__metric=Metric.CORRECTION, clocks__state=Clock.State.STOPPED),
            ),
            month=Case(
                *(When(received_at__lt=b, then=Value(i)) for i, (_, b) in enumerate(bounds)),
                output_field=IntegerField(),
            ),
        )
        .order_by()
        .values("month")
        .annotate(
            received=Count("pk"),
            stopped=Count("correction"),
            met=Count("correction", filter=Q(correction__outcome=Clock.Outcome.MET)),
        )
    }
    empty = {"received": 0, "stopped": 0, "met": 0}
    months = [
        MonthFigures(month, **{k: per_month.get(i, empty)[k] for k in empty})
        for i, (month, _) in enumerate(bounds)
    ]
    return Report(received=sum(m.received for m in months), groups=groups, months=months)


def _of(rows: QuerySet[M], tickets: QuerySet[Ticket]) -> QuerySet[M]:
    """The rows of the report's tickets, each checked by its ticket's primary key: SQLite then
    reads the rows in the order of an index that serves the list's own order and condition
    (clock_breached_due, clock_sweep_*, ticketevent_kind_created) and stops at the end of the
    page, instead of collecting every ticket of the period first and sorting their rows."""
    return rows.filter(Exists(tickets.filter(pk=OuterRef("ticket_id"))))


def breaches(tickets: QuerySet[Ticket]) -> QuerySet[Clock]:
    """Every clock of the report that missed its deadline, latest deadline first."""
    return (
        _of(Clock.objects.filter(_late()), tickets)
        .select_related("ticket__organization", "ticket__desk", "ticket__assignee")
        .order_by("-due_at", "-pk")
    )


class Lateness:
    """How far past its target a missed clock counted, in its own kind: at its stop, or so
    far while it runs (counted now with its desk's calendar, one load per calendar)."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self.calendars: dict[int, CalendarSnapshot] = {}

    def __call__(self, clock: Clock, calendar_id: int) -> timedelta:
        return self.of(clock.kind, clock.target, clock.elapsed_seconds, clock.runs, calendar_id)

    def of(
        self,
        kind: str,
        target: timedelta,
        elapsed_seconds: int | None,
        runs: list[list[str | None]],
        calendar_id: int,
    ) -> timedelta:
        """The same from a clock's stored values (an export reads them without models)."""
        if elapsed_seconds is not None:
            return max(timedelta(0), timedelta(seconds=elapsed_seconds) - target)
        if calendar_id not in self.calendars:
            self.calendars[calendar_id] = calendar_snapshot_by_id(calendar_id)
        spent = counted(
            self.calendars[calendar_id], ClockKind(kind), clock_runs(Clock(runs=runs)), self.now
        )
        return max(timedelta(0), spent - target)


@dataclass(frozen=True)
class BreachRow:
    clock: Clock
    late_by: timedelta
    running: bool  # still counting: ``late_by`` grows until the promise is kept (a paused
    # clock, waiting on the customer, keeps the lateness it had at the pause)


def breach_rows(clocks: Iterable[Clock], *, now: datetime) -> list[BreachRow]:
    """A page of breaches (with their tickets' desks selected) and how late each is."""
    lateness = Lateness(now)
    return [
        BreachRow(
            clock,
            lateness(clock, clock.ticket.desk.calendar_id),
            clock.state == Clock.State.RUNNING,
        )
        for clock in clocks
    ]


def at_risk(tickets: QuerySet[Ticket], *, now: datetime) -> QuerySet[Clock]:
    """Running clocks of open tickets past their warning threshold, not yet late: nearest
    deadline first."""
    running = Clock.objects.filter(state=Clock.State.RUNNING, warn_at__lte=now, due_at__gt=now)
    return (
        _of(running, tickets.filter(status__in=OPEN_STATUSES))
        .select_related("ticket__organization", "ticket__desk", "ticket__assignee")
        .order_by("due_at", "pk")
    )


@dataclass(frozen=True)
class SeverityChange:
    event: TicketEvent
    downgrade: bool
    avoided: list[str]  # metrics a downgrade kept from a breach (met now, missed before)


def severity_changes(tickets: QuerySet[Ticket]) -> QuerySet[TicketEvent]:
    """Reclassifications of the report's tickets, latest first."""
    return (
        _of(TicketEvent.objects.filter(kind=TicketEvent.Kind.SEVERITY), tickets)
        .select_related("ticket__organization", "ticket__desk", "actor")
        .order_by("-created_at", "-pk")
    )


def severity_change_rows(events: Sequence[TicketEvent]) -> list[SeverityChange]:
    """A page of reclassifications; for each downgrade, the promises it saved: clocks met
    under the new severity that the one before would have missed (``Clock.spared_from``,
    recorded by sla.services). One query, a page."""
    downgrade_ids = {e.pk for e in events if more_urgent(e.before, e.after)}
    spared: defaultdict[int, list[Clock]] = defaultdict(list)
    for clock in Clock.objects.filter(
        ticket__in={e.ticket_id for e in events if e.pk in downgrade_ids}
    ).exclude(spared_from=""):
        spared[clock.ticket_id].append(clock)
    return [
        SeverityChange(
            event,
            event.pk in downgrade_ids,
            [c.metric for c in spared[event.ticket_id] if c.spared_from == event.before]
            if event.pk in downgrade_ids
            else [],
        )
        for event in events
    ]
