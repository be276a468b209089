"""The figures of an SLA compliance report: aggregate queries over tickets and their clocks.

Nothing here loads every ticket of a period: counts, shares, medians and 90th percentiles
(nearest rank: the value at rank ⌈p·n⌉ of the counted times in each group) come from one query
grouped by the minute of the counted time, the months from conditional counts (the lists a
report pages through are in sla.reports.listings). Times are the clocks' ``elapsed``, counted
in each clock's own kind (calendar time, business hours or business days) when it stopped, so a
group is always one kind: severity × metric × kind.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db.models import (
    Case,
    Count,
    F,
    FilteredRelation,
    Func,
    IntegerField,
    Q,
    QuerySet,
    Value,
    When,
)

from sla.availability.arithmetic import month_bounds
from sla.clocks.values import ClockKind
from sla.models import Clock, Metric
from tickets.models import Severity, Ticket

SEVERITY_ORDER = {s: i for i, s in enumerate(Severity.values)}
METRIC_ORDER = {m: i for i, m in enumerate(Metric.values)}
# The groups of the report, each coded in SQL by its index here.
GROUP_KEYS: list[tuple[str, str, str]] = [
    (sev, metric, kind) for sev in Severity.values for metric in Metric.values for kind in ClockKind
]


@dataclass(frozen=True)
class ReportFilter:
    start: datetime
    end: datetime
    desk_id: int | None = None
    organization_id: int | None = None
    severity: str = ""
    agent_id: int | None = None
    tag_id: int | None = None  # tickets.Tag


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
    mean: timedelta | None = None  # over the same stopped clocks, from whole minutes

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

    def overdue(self, metric: str) -> int:
        """Clocks of the metric still running past their deadline: not in the share (which
        counts the stopped ones), but missed already."""
        return sum(
            max(g.breached - (g.stopped - g.met), 0) for g in self.groups if g.metric == metric
        )


def received(tickets: QuerySet[Ticket], start: datetime, end: datetime) -> QuerySet[Ticket]:
    """The tickets received in [start, end), not merged into another, read through the range
    of their arrival instants: "merged into" is tested as ``+merged_into_id``, which SQLite's
    planner never seeks in an index; otherwise, with poor statistics (sampled, or none yet), it
    read a million tickets through the merged-into index to keep a day's."""
    unmerged = Func(F("merged_into_id"), template="(+%(expressions)s)", output_field=IntegerField())
    return tickets.alias(unmerged=unmerged).filter(
        received_at__gte=start, received_at__lt=end, unmerged__isnull=True
    )


def report_tickets(tickets: QuerySet[Ticket], filters: ReportFilter) -> QuerySet[Ticket]:
    """The tickets of the report: received in the period, narrowed by the filters."""
    tickets = received(tickets, filters.start, filters.end)
    if filters.desk_id:
        tickets = tickets.filter(desk_id=filters.desk_id)
    if filters.organization_id:
        tickets = tickets.filter(organization_id=filters.organization_id)
    if filters.severity:
        tickets = tickets.filter(severity=filters.severity)
    if filters.agent_id:
        tickets = tickets.filter(assignee_id=filters.agent_id)
    if filters.tag_id:
        tickets = tickets.filter(tags__id=filters.tag_id)
    return tickets


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
        first, following = month_bounds(year, month, zone)
        if first >= end:
            return months
        months.append((first, following))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


def grouped_by_minute(tickets: QuerySet[Ticket]) -> QuerySet[Ticket, tuple[int, ...]]:
    """Per group (severity × metric × kind, coded as its index in ``GROUP_KEYS``) and minute
    of counted time: the clocks, and how many stopped, met, breached, were spared."""
    # From the tickets' side: one join driven by the period's range on ticket_report_received,
    # each ticket's clocks read from clock_report; no list of the period's tickets first. The
    # group is one small integer (severity, metric and kind coded), and the rows unordered:
    # PostgreSQL then hashes the groups instead of sorting 200,000 rows on collated text
    # (0.54 → 0.28 s), SQLite sorts narrower keys; each group's minutes are sorted in Python.
    is_stopped = Q(clocks__state=Clock.State.STOPPED)
    is_met = is_stopped & Q(clocks__outcome=Clock.Outcome.MET)
    group = Case(
        *(
            When(severity=sev, clocks__metric=metric, clocks__kind=kind, then=Value(i))
            for i, (sev, metric, kind) in enumerate(GROUP_KEYS)
        ),
        output_field=IntegerField(),
    )
    return (
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


class Tally:
    """Each group's counts and the counted minutes of its clocks, added up from rows grouped
    by minute (``grouped_by_minute``) or from daily roll-ups (sla.reports.rollups)."""

    def __init__(self) -> None:
        self.totals: dict[tuple[str, str, str], list[int]] = {}
        self.minutes: dict[tuple[str, str, str], Counter[int]] = {}

    def add(self, key: tuple[str, str, str], *counts: int) -> Counter[int]:
        """Add (clocks, stopped, met, breached, spared) to the group; its minutes to count."""
        sums = self.totals.get(key)
        if sums is None:
            sums = self.totals[key] = [0, 0, 0, 0, 0]
            self.minutes[key] = Counter()
        for i, n in enumerate(counts):
            sums[i] += n
        return self.minutes[key]

    def add_grouped(self, rows: Iterable[tuple[int, ...]]) -> None:
        """Add the rows of ``grouped_by_minute`` (of one queryset, or of several united)."""
        for group_code, minute, *counts in rows:
            if group_code is None:  # a severity or clock kind the product does not know
                continue
            minutes = self.add(GROUP_KEYS[group_code], *counts)
            if minute is not None:
                minutes[minute] += counts[0]

    def figures(self) -> list[GroupFigures]:
        """Each group's counts, and its mean, median and 90th percentile from its sorted
        minutes."""
        groups = []
        for key, (count, stopped, met, breached, spared) in self.totals.items():
            counted_clocks = sorted(self.minutes[key].items())
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
                    mean=timedelta(seconds=round(sum(m * c for m, c in counted_clocks) * 60 / n))
                    if n
                    else None,
                )
            )
        groups.sort(
            key=lambda g: (
                SEVERITY_ORDER.get(g.severity, 9),
                METRIC_ORDER.get(g.metric, 9),
                g.kind,
            )
        )
        return groups


def month_segments(
    start: datetime, end: datetime, zone: ZoneInfo
) -> list[tuple[datetime, datetime]]:
    """The report's months: each local month's first instant and where it ends in [start, end)."""
    return [(month, min(following, end)) for month, following in _months(start, end, zone)]


def month_rows(
    tickets: QuerySet[Ticket], segments: list[tuple[datetime, datetime]]
) -> QuerySet[Ticket, tuple[int, ...]]:
    """Per month (its index in ``segments``): the tickets received, and their correction
    clocks (one at most) stopped and met, in one pass over the tickets: a ticket's month is
    the first end it is received before."""
    return (
        tickets.annotate(
            correction=FilteredRelation(
                "clocks",
                condition=Q(clocks__metric=Metric.CORRECTION, clocks__state=Clock.State.STOPPED),
            ),
            month=Case(
                *(When(received_at__lt=b, then=Value(i)) for i, (_, b) in enumerate(segments)),
                output_field=IntegerField(),
            ),
        )
        .order_by()
        .values_list("month")
        .annotate(
            received=Count("pk"),
            stopped=Count("correction"),
            met=Count("correction", filter=Q(correction__outcome=Clock.Outcome.MET)),
        )
    )


def month_counts(rows: Iterable[tuple[int, ...]], counts: dict[int, list[int]]) -> None:
    """Add the rows of ``month_rows`` to each month's [received, stopped, met]."""
    for month, *numbers in rows:
        sums = counts.setdefault(month, [0, 0, 0])
        for i, n in enumerate(numbers):
            sums[i] += n


def report_of(
    tally: Tally, segments: list[tuple[datetime, datetime]], counts: dict[int, list[int]]
) -> Report:
    months = [
        MonthFigures(month, *counts.get(i, (0, 0, 0))) for i, (month, _) in enumerate(segments)
    ]
    return Report(received=sum(m.received for m in months), groups=tally.figures(), months=months)


def sla_report(
    tickets: QuerySet[Ticket], *, start: datetime, end: datetime, zone: ZoneInfo
) -> Report:
    """Counts, shares within target, medians and 90th percentiles per severity × metric ×
    kind, and the months of [start, end): two queries, whatever the number of tickets.

    The clocks are grouped by the minute of their counted time as well: the sorted minutes
    with their counts give each group's exact nearest-rank percentiles (to the minute, as
    pages show them) from a few thousand rows instead of every clock. A manager's report,
    over every ticket, reads daily roll-ups instead (sla.reports.rollups).
    """
    tally, counts = Tally(), dict[int, list[int]]()
    tally.add_grouped(grouped_by_minute(tickets))
    segments = month_segments(start, end, zone)
    month_counts(month_rows(tickets, segments), counts)
    return report_of(tally, segments, counts)
