"""Reads of the SLA app: calendar snapshots for the pure arithmetic, a ticket's clocks."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models import QuerySet
from django.utils.dateparse import parse_datetime

from sla import availability
from sla.calendar import CalendarSnapshot, ClockKind
from sla.calendar import Closure as ClosureValue
from sla.calendar import ExtraOpening as ExtraOpeningValue
from sla.deadlines import Explanation, Run, counted, explain
from sla.models import Calendar, Clock, EscalationLevel, MaintenanceWindow, Outage, SlaTarget
from tickets.models import Organization, Ticket, TicketEvent


def calendar_snapshot(calendar: Calendar) -> CalendarSnapshot:
    """The frozen value the pure functions work on, built from the calendar's rows."""
    weekly: defaultdict[int, list[tuple[int, int]]] = defaultdict(list)
    for interval in calendar.intervals.all():
        weekly[interval.weekday].append((interval.start_minute, interval.end_minute))
    return CalendarSnapshot(
        time_zone=calendar.time_zone,
        weekly=tuple(tuple(sorted(weekly[day])) for day in range(7)),
        holiday_country=calendar.holiday_country,
        holiday_subdivision=calendar.holiday_subdivision,
        closures=tuple(
            ClosureValue(start=c.start, end=c.end, label=c.label) for c in calendar.closures.all()
        ),
        extra_openings=tuple(
            ExtraOpeningValue(
                day=o.day, start_minute=o.start_minute, end_minute=o.end_minute, label=o.label
            )
            for o in calendar.extra_openings.all()
        ),
    )


def calendar_snapshot_for_ticket(ticket: Ticket) -> CalendarSnapshot:
    return calendar_snapshot_by_id(ticket.desk.calendar_id)


def calendar_snapshot_by_id(calendar_id: int) -> CalendarSnapshot:
    calendar = Calendar.objects.prefetch_related("intervals", "closures", "extra_openings").get(
        pk=calendar_id
    )
    return calendar_snapshot(calendar)


def sla_targets_for(ticket: Ticket) -> dict[str, SlaTarget]:
    """The organization policy's targets for the ticket's severity, by metric."""
    targets = SlaTarget.objects.filter(
        policy_id=ticket.organization.sla_policy_id, severity=ticket.severity
    ).select_related("policy")
    return {target.metric: target for target in targets}


def clocks_for_ticket(ticket: Ticket) -> QuerySet[Clock]:
    return Clock.objects.filter(ticket=ticket).order_by("metric")


def calendar_snapshot_by_slug(slug: str) -> CalendarSnapshot:
    calendar = Calendar.objects.prefetch_related("intervals", "closures", "extra_openings").get(
        slug=slug
    )
    return calendar_snapshot(calendar)


def policy_targets(policy_slug: str, severity: str) -> dict[str, SlaTarget]:
    """The targets of a policy for one severity, by metric (empty if none)."""
    targets = SlaTarget.objects.filter(policy__slug=policy_slug, severity=severity)
    return {target.metric: target for target in targets.select_related("policy")}


WAITING_ON_CUSTOMER = "waiting on the customer"
STOPPED = "stopped"


def clock_explanation(clock: Clock, *, now: datetime) -> Explanation:
    """The counted and uncounted stretches of a clock from its ticket's arrival until now."""
    ticket = clock.ticket
    cal = calendar_snapshot_for_ticket(ticket)
    runs = clock_runs(clock)
    changes = TicketEvent.objects.filter(
        ticket_id=clock.ticket_id, kind=TicketEvent.Kind.CLOCK, field=clock.metric
    ).order_by("created_at", "id")
    gap_reasons = [
        WAITING_ON_CUSTOMER if event.after == Clock.State.PAUSED else STOPPED
        for event in changes
        if event.after == Clock.State.PAUSED or event.after.startswith(STOPPED)
    ]
    return explain(
        cal,
        ClockKind(clock.kind),
        received_at=ticket.received_at,
        runs=runs,
        gap_reasons=gap_reasons,
        target=clock.target,
        until=min(clock.stopped_at or now, now),
    )


def clock_runs(clock: Clock) -> list[Run]:
    """The runs of a clock as aware datetimes (stored as ISO strings in JSON)."""
    runs: list[Run] = []
    for start, end in clock.runs:
        start_at = parse_datetime(start)
        assert start_at is not None  # written by sla.services, always ISO 8601
        runs.append((start_at, parse_datetime(end) if end else None))
    return runs


def clocks_counted(ticket: Ticket, clocks: list[Clock], *, now: datetime) -> dict[int, timedelta]:
    """Counted time of each clock so far, by clock id (one calendar load for all)."""
    if not clocks:
        return {}
    cal = calendar_snapshot_for_ticket(ticket)
    return {
        clock.pk: counted(cal, ClockKind(clock.kind), clock_runs(clock), now) for clock in clocks
    }


def clocks_to_escalate(*, now: datetime, limit: int = 5000) -> list[int]:
    """Ids of running clocks that crossed a threshold they have not been escalated for.

    Three seeks, one per level, each through an index that leads with (state, level): the
    sweep reads only crossed, unhandled clocks, never every open ticket.
    """
    running = Clock.objects.filter(state=Clock.State.RUNNING)
    crossed = (
        running.filter(escalation_level=EscalationLevel.NONE, warn_at__lte=now),
        running.filter(
            escalation_level__in=[EscalationLevel.NONE, EscalationLevel.WARNED], due_at__lte=now
        ),
        running.filter(
            escalation_level__in=[
                EscalationLevel.NONE,
                EscalationLevel.WARNED,
                EscalationLevel.BREACHED,
            ],
            escalate_at__lte=now,
        ),
    )
    ids: set[int] = set()
    for queryset in crossed:
        ids.update(queryset.order_by().values_list("pk", flat=True)[:limit])
    return sorted(ids)[:limit]


# --- availability ---------------------------------------------------------------------------


def availability_of(
    organization: Organization, *, start: datetime, end: datetime, now: datetime
) -> availability.Availability:
    """Measured availability of the organization's service over [start, end), up to now: two
    queries, the outages and maintenance windows that overlap the period."""
    outages = Outage.objects.filter(organization=organization, started_at__lt=end).exclude(
        ended_at__lte=start
    )
    windows = MaintenanceWindow.objects.filter(
        organization=organization, starts_at__lt=end, ends_at__gt=start
    )
    return availability.availability(
        start=start,
        end=end,
        outages=[availability.Outage(o.started_at, o.ended_at) for o in outages],
        maintenance=[
            availability.Maintenance(w.announced_at, w.starts_at, w.ends_at) for w in windows
        ],
        now=now,
    )


def error_budget_of(
    organization: Organization, *, year: int, zone: ZoneInfo, now: datetime
) -> availability.ErrorBudget:
    """The downtime the organization's yearly commitment allows, and what is left of it."""
    start, end = availability.year_bounds(year, zone)
    measured = availability_of(organization, start=start, end=end, now=now)
    return availability.error_budget(
        commitment_percent=organization.availability_commitment,
        year=year,
        zone=zone,
        downtime=measured.downtime,
    )


@dataclass(frozen=True)
class StatusDay:
    day: date
    figures: availability.Availability


@dataclass(frozen=True)
class ServiceStatus:
    """What an organization's public status page shows."""

    state: str  # "operational", "maintenance" or "outage"
    ongoing: list[Outage]
    past: list[Outage]
    maintenance: list[MaintenanceWindow]  # announced, not over yet
    days: list[StatusDay]
    overall: availability.Availability


def service_status(
    organization: Organization, *, now: datetime, zone: ZoneInfo, days: int = 90
) -> ServiceStatus:
    """The service's state now and its availability day by day over the last ``days`` days
    (local days of ``zone``): two queries, whatever the number of days."""
    today = now.astimezone(zone).date()
    first = today - timedelta(days=days - 1)
    start = datetime.combine(first, time(0), tzinfo=zone)
    outages = list(
        Outage.objects.filter(organization=organization, started_at__lt=now)
        .exclude(ended_at__lte=start)
        .order_by("-started_at")
    )
    windows = list(
        MaintenanceWindow.objects.filter(
            organization=organization, ends_at__gt=start, announced_at__lte=now
        ).order_by("starts_at")
    )
    spans = [availability.Outage(o.started_at, o.ended_at) for o in outages]
    planned = [availability.Maintenance(w.announced_at, w.starts_at, w.ends_at) for w in windows]
    history = []
    for offset in range(days):
        day = first + timedelta(days=offset)
        day_start = datetime.combine(day, time(0), tzinfo=zone)
        day_end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
        history.append(
            StatusDay(
                day,
                availability.availability(
                    start=day_start, end=day_end, outages=spans, maintenance=planned, now=now
                ),
            )
        )
    ongoing = [o for o in outages if o.ended_at is None]
    in_maintenance = any(w.starts_at <= now < w.ends_at for w in windows)
    state = "outage" if ongoing else "maintenance" if in_maintenance else "operational"
    return ServiceStatus(
        state=state,
        ongoing=ongoing,
        past=[o for o in outages if o.ended_at is not None],
        maintenance=[w for w in windows if w.ends_at > now],
        days=history,
        overall=availability.availability(
            start=start, end=now, outages=spans, maintenance=planned, now=now
        ),
    )


@dataclass(frozen=True)
class OrganizationAvailability:
    organization: Organization
    months: list[availability.Availability]  # January to the current month
    year_to_date: availability.Availability
    budget: availability.ErrorBudget


def availability_overview(
    organizations: QuerySet[Organization], *, year: int, zone: ZoneInfo, now: datetime
) -> list[OrganizationAvailability]:
    """Each organization's availability month by month and year to date, with its error
    budget: three queries for any number of organizations."""
    start, end = availability.year_bounds(year, zone)
    orgs = list(organizations)
    outages: dict[int, list[availability.Outage]] = defaultdict(list)
    for o in Outage.objects.filter(organization__in=orgs, started_at__lt=end).exclude(
        ended_at__lte=start
    ):
        outages[o.organization_id].append(availability.Outage(o.started_at, o.ended_at))
    windows: dict[int, list[availability.Maintenance]] = defaultdict(list)
    for w in MaintenanceWindow.objects.filter(
        organization__in=orgs, starts_at__lt=end, ends_at__gt=start
    ):
        windows[w.organization_id].append(
            availability.Maintenance(w.announced_at, w.starts_at, w.ends_at)
        )
    last_month = 12 if now >= end else now.astimezone(zone).month
    overview = []
    for org in orgs:
        down, planned = outages[org.pk], windows[org.pk]
        months = [
            availability.availability(
                start=month_start, end=month_end, outages=down, maintenance=planned, now=now
            )
            for month_start, month_end in (
                availability.month_bounds(year, m, zone) for m in range(1, last_month + 1)
            )
        ]
        ytd = availability.availability(
            start=start, end=end, outages=down, maintenance=planned, now=now
        )
        budget = availability.error_budget(
            commitment_percent=org.availability_commitment,
            year=year,
            zone=zone,
            downtime=ytd.downtime,
        )
        overview.append(OrganizationAvailability(org, months, ytd, budget))
    return overview
