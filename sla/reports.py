"""SLA compliance reports: aggregate queries over tickets and their clocks.

Nothing here loads every ticket of a period: counts and shares come from one grouped query,
medians and 90th percentiles from window functions (nearest rank: the value at rank ⌈p·n⌉ of
the counted times in each group), the breach list and the tickets at risk are pages. Times are
the clocks' ``elapsed``, counted in each clock's own kind (calendar time, business hours or
business days) when it stopped, so a group is always one kind: severity × metric × kind.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db.models import Count, F, Q, QuerySet, Window
from django.db.models.functions import RowNumber, TruncMonth

from sla.models import Clock, Metric
from tickets.models import OPEN_STATUSES, Severity, Ticket

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
    return Q(outcome=Clock.Outcome.BREACHED) | Q(breached_at__isnull=False)


def _percentiles(clocks: QuerySet[Clock], percent: int) -> dict[tuple[str, str, str], timedelta]:
    """The value at rank ⌈percent·n/100⌉ of each group's counted times, in one query."""
    group = [F("ticket__severity"), F("metric"), F("kind")]
    ranked = (
        clocks.filter(elapsed__isnull=False)
        .annotate(
            rank=Window(RowNumber(), partition_by=group, order_by=[F("elapsed").asc(), F("pk")]),
            size=Window(Count("pk"), partition_by=group),
        )
        # The first rank at or past the share, in integers: 100·rank ≥ p·n > 100·(rank − 1).
        .alias(rank100=F("rank") * 100, share=F("size") * percent)
        .filter(rank100__gte=F("share"), rank100__lt=F("share") + 100)
        .values_list("ticket__severity", "metric", "kind", "elapsed")
    )
    return {
        (severity, metric, kind): value
        for severity, metric, kind, value in ranked
        if value is not None  # filtered out above; the type does not know it
    }


def sla_report(tickets: QuerySet[Ticket], *, zone: ZoneInfo) -> Report:
    """Counts, shares within target, medians and 90th percentiles per severity × metric ×
    kind, and the months of the period: five queries, whatever the number of tickets."""
    clocks = Clock.objects.filter(ticket__in=tickets)
    rows = (
        clocks.values("ticket__severity", "metric", "kind")
        .annotate(
            clocks=Count("pk"),
            stopped=Count("pk", filter=Q(state=Clock.State.STOPPED)),
            met=Count("pk", filter=Q(state=Clock.State.STOPPED, outcome=Clock.Outcome.MET)),
            breached=Count("pk", filter=_late()),
        )
        .order_by()
    )
    medians = _percentiles(clocks, 50)
    p90s = _percentiles(clocks, 90)
    groups = sorted(
        (
            GroupFigures(
                severity=row["ticket__severity"],
                metric=row["metric"],
                kind=row["kind"],
                clocks=row["clocks"],
                stopped=row["stopped"],
                met=row["met"],
                breached=row["breached"],
                median=medians.get((row["ticket__severity"], row["metric"], row["kind"])),
                p90=p90s.get((row["ticket__severity"], row["metric"], row["kind"])),
            )
            for row in rows
        ),
        key=lambda g: (SEVERITY_ORDER.get(g.severity, 9), METRIC_ORDER.get(g.metric, 9), g.kind),
    )
    received = {
        row["month"]: row["n"]
        for row in tickets.annotate(month=TruncMonth("received_at", tzinfo=zone))
        .values("month")
        .annotate(n=Count("pk"))
        .order_by()
    }
    # Correction clocks by the month their ticket came in: was the promise kept?
    kept = {
        row["month"]: (row["stopped"], row["met"])
        for row in clocks.filter(metric=Metric.CORRECTION)
        .annotate(month=TruncMonth("ticket__received_at", tzinfo=zone))
        .values("month")
        .annotate(
            stopped=Count("pk", filter=Q(state=Clock.State.STOPPED)),
            met=Count("pk", filter=Q(state=Clock.State.STOPPED, outcome=Clock.Outcome.MET)),
        )
        .order_by()
    }
    months = [
        MonthFigures(month, received[month], *kept.get(month, (0, 0)))
        for month in sorted(received)
    ]
    return Report(received=sum(received.values()), groups=groups, months=months)


def breaches(tickets: QuerySet[Ticket]) -> QuerySet[Clock]:
    """Every clock of the report that missed its deadline, latest deadline first."""
    return (
        Clock.objects.filter(ticket__in=tickets)
        .filter(_late())
        .select_related("ticket__organization", "ticket__desk", "ticket__assignee")
        .order_by("-due_at", "-pk")
    )


def at_risk(tickets: QuerySet[Ticket], *, now: datetime) -> QuerySet[Clock]:
    """Running clocks of open tickets past their warning threshold, not yet late: nearest
    deadline first."""
    return (
        Clock.objects.filter(
            ticket__in=tickets.filter(status__in=OPEN_STATUSES),
            state=Clock.State.RUNNING,
            warn_at__lte=now,
            due_at__gt=now,
        )
        .select_related("ticket__organization", "ticket__desk", "ticket__assignee")
        .order_by("due_at", "pk")
    )
