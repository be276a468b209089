"""Reads of the SLA app: calendar snapshots for the pure arithmetic, a ticket's clocks."""

from __future__ import annotations

from collections import defaultdict

from django.db.models import QuerySet

from sla.calendar import CalendarSnapshot
from sla.calendar import Closure as ClosureValue
from sla.calendar import ExtraOpening as ExtraOpeningValue
from sla.models import Calendar, Clock, SlaTarget
from tickets.models import Ticket


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
    calendar = Calendar.objects.prefetch_related("intervals", "closures", "extra_openings").get(
        pk=ticket.desk.calendar_id
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
