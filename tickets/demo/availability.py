"""The demo's availability record: past outages and maintenance, and a maintenance window
announced for the coming week, for the status pages and the availability figures."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from sla.availability import outages
from tickets.models import Organization


def availability_seed(*, kiosk: Organization, eventia: Organization) -> None:
    """Outages and maintenance for the status pages and the availability figures."""
    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    day = timedelta(days=1)
    outages.outage_record(
        organization=kiosk,
        title="Kiosk dashboard unreachable",
        started_at=now - 12 * day,
        ended_at=now - 12 * day + timedelta(hours=1, minutes=40),
    )
    outages.outage_record(
        organization=kiosk,
        title="Remote screen updates delayed",
        started_at=now - 41 * day,
        ended_at=now - 41 * day + timedelta(minutes=25),
    )
    outages.maintenance_announce(
        organization=kiosk,
        title="SiteKiosk Online 9.4 update",
        description="New program version; kiosks keep running, the dashboard is read-only.",
        announced_at=now - 20 * day,
        starts_at=now - 18 * day,
        ends_at=now - 18 * day + timedelta(hours=2),
    )
    outages.maintenance_announce(
        organization=kiosk,
        title="Monthly operational update",
        description="Servers restarted one by one; a few seconds of reconnection.",
        announced_at=now,
        starts_at=now + 6 * day,
        ends_at=now + 6 * day + timedelta(hours=1),
    )
    outages.outage_record(
        organization=eventia,
        title="Badge printing service slow",
        started_at=now - 5 * day,
        ended_at=now - 5 * day + timedelta(minutes=50),
    )
