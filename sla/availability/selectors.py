"""Reads of availability: measured figures from the outage and maintenance rows, the error
budget, the managers' overview and the public status page."""

from __future__ import annotations

import enum
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import QuerySet

from sla.availability import arithmetic
from sla.models import MaintenanceWindow, Outage
from tickets.models import Organization


def organization_zone(organization: Organization) -> ZoneInfo:
    """The organization's own time zone: its first desk's calendar's (its months, its year's
    error budget, its reports), else the site's."""
    zone = organization.desks.order_by("pk").values_list("calendar__time_zone", flat=True).first()
    return ZoneInfo(zone) if zone else ZoneInfo(settings.TIME_ZONE)


def availability_of(
    organization: Organization, *, start: datetime, end: datetime, now: datetime
) -> arithmetic.Availability:
    """Measured availability of the organization's service over [start, end), up to now: two
    queries, the outages and maintenance windows that overlap the period."""
    outages = Outage.objects.filter(organization=organization, started_at__lt=end).exclude(
        ended_at__lte=start
    )
    windows = MaintenanceWindow.objects.filter(
        organization=organization, starts_at__lt=end, ends_at__gt=start
    )
    return arithmetic.availability(
        start=start,
        end=end,
        outages=[arithmetic.Outage(o.started_at, o.ended_at) for o in outages],
        maintenance=[
            arithmetic.Maintenance(w.announced_at, w.starts_at, w.ends_at) for w in windows
        ],
        now=now,
    )


def error_budget_of(
    organization: Organization, *, year: int, zone: ZoneInfo, now: datetime
) -> arithmetic.ErrorBudget:
    """The downtime the organization's yearly commitment allows, and what is left of it."""
    start, end = arithmetic.year_bounds(year, zone)
    measured = availability_of(organization, start=start, end=end, now=now)
    return arithmetic.error_budget(
        commitment_percent=organization.availability_commitment,
        year=year,
        zone=zone,
        downtime=measured.downtime,
    )


class ServiceState(enum.StrEnum):
    """What the status page says of the service now (its CSS class, too)."""

    OPERATIONAL = "operational"
    MAINTENANCE = "maintenance"  # an announced window is going on
    OUTAGE = "outage"  # an outage is going on, maintenance or not


@dataclass(frozen=True)
class StatusDay:
    day: date
    figures: arithmetic.Availability


@dataclass(frozen=True)
class ServiceStatus:
    """What an organization's public status page shows."""

    state: ServiceState
    ongoing: list[Outage]
    past: list[Outage]
    maintenance: list[MaintenanceWindow]  # announced, not over yet
    days: list[StatusDay]
    overall: arithmetic.Availability


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
    spans = [arithmetic.Outage(o.started_at, o.ended_at) for o in outages]
    planned = [arithmetic.Maintenance(w.announced_at, w.starts_at, w.ends_at) for w in windows]
    history = []
    for offset in range(days):
        day = first + timedelta(days=offset)
        day_start = datetime.combine(day, time(0), tzinfo=zone)
        day_end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
        history.append(
            StatusDay(
                day,
                arithmetic.availability(
                    start=day_start, end=day_end, outages=spans, maintenance=planned, now=now
                ),
            )
        )
    ongoing = [o for o in outages if o.ended_at is None]
    in_maintenance = any(w.starts_at <= now < w.ends_at for w in windows)
    state = (
        ServiceState.OUTAGE
        if ongoing
        else ServiceState.MAINTENANCE
        if in_maintenance
        else ServiceState.OPERATIONAL
    )
    return ServiceStatus(
        state=state,
        ongoing=ongoing,
        past=[o for o in outages if o.ended_at is not None],
        maintenance=[w for w in windows if w.ends_at > now],
        days=history,
        overall=arithmetic.availability(
            start=start, end=now, outages=spans, maintenance=planned, now=now
        ),
    )


@dataclass(frozen=True)
class OrganizationAvailability:
    organization: Organization
    months: list[arithmetic.Availability]  # January to the current month
    year_to_date: arithmetic.Availability
    budget: arithmetic.ErrorBudget


def availability_overview(
    organizations: QuerySet[Organization], *, year: int, zone: ZoneInfo, now: datetime
) -> list[OrganizationAvailability]:
    """Each organization's availability month by month and year to date, with its error
    budget: three queries for any number of organizations."""
    start, end = arithmetic.year_bounds(year, zone)
    orgs = list(organizations)
    outages: dict[int, list[arithmetic.Outage]] = defaultdict(list)
    for o in Outage.objects.filter(organization__in=orgs, started_at__lt=end).exclude(
        ended_at__lte=start
    ):
        outages[o.organization_id].append(arithmetic.Outage(o.started_at, o.ended_at))
    windows: dict[int, list[arithmetic.Maintenance]] = defaultdict(list)
    for w in MaintenanceWindow.objects.filter(
        organization__in=orgs, starts_at__lt=end, ends_at__gt=start
    ):
        windows[w.organization_id].append(
            arithmetic.Maintenance(w.announced_at, w.starts_at, w.ends_at)
        )
    last_month = 12 if now >= end else now.astimezone(zone).month
    overview = []
    for org in orgs:
        down, planned = outages[org.pk], windows[org.pk]
        months = [
            arithmetic.availability(
                start=month_start, end=month_end, outages=down, maintenance=planned, now=now
            )
            for month_start, month_end in (
                arithmetic.month_bounds(year, m, zone) for m in range(1, last_month + 1)
            )
        ]
        ytd = arithmetic.availability(
            start=start, end=end, outages=down, maintenance=planned, now=now
        )
        budget = arithmetic.error_budget(
            commitment_percent=org.availability_commitment,
            year=year,
            zone=zone,
            downtime=ytd.downtime,
        )
        overview.append(OrganizationAvailability(org, months, ytd, budget))
    return overview
