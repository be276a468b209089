"""Warn managers when an organization's yearly error budget runs low or out.

The watch (beat, hourly) computes every organization's budget in three queries and records
each level crossed as a unique ``BudgetAlert``; only a newly recorded alert is mailed, after
commit, by a task that claims it with a conditional UPDATE: run twice, nothing is sent twice.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from sla.availability.selectors import OrganizationAvailability, availability_overview
from sla.models import BudgetAlert
from tickets.models import Desk, Organization, User
from tickets.services.customer_mail import new_mail_id


def _rows_by_zone(now: datetime) -> list[tuple[int, OrganizationAvailability]]:
    """Each organization's year so far, in its own time zone (the year turns at its midnight
    of 1 January, not the site's): one overview per zone."""
    by_zone: dict[str, list[int]] = {}
    first_desks = Desk.objects.filter(organizations__under_contract=True).order_by("pk")
    zones = dict(
        first_desks.values_list("organizations", "calendar__time_zone").reverse()
    )  # the first desk of each organization wins, being written last
    for organization_id in Organization.objects.filter(under_contract=True).values_list(
        "pk", flat=True
    ):
        zone = zones.get(organization_id) or settings.TIME_ZONE
        by_zone.setdefault(zone, []).append(organization_id)
    rows: list[tuple[int, OrganizationAvailability]] = []
    for key, ids in sorted(by_zone.items()):
        zone_info = ZoneInfo(key)
        year = now.astimezone(zone_info).year
        chosen = Organization.objects.filter(pk__in=ids)
        overview = availability_overview(chosen, year=year, zone=zone_info, now=now)
        rows += [(year, row) for row in overview]
    return rows


@transaction.atomic
def budget_alerts_raise(*, now: datetime) -> list[int]:
    """Record the levels crossed this year, each organization's year in its own time zone;
    the ids of the alerts new this time."""
    threshold = Decimal(settings.PACTE_BUDGET_WARNING_PERCENT) / 100
    raised = []
    for year, row in _rows_by_zone(now):
        levels = []
        if row.budget.left_ratio < threshold:
            levels.append(BudgetAlert.Level.LOW)
        if row.budget.left.total_seconds() <= 0 and row.budget.allowed.total_seconds() > 0:
            levels.append(BudgetAlert.Level.SPENT)
        for level in levels:
            try:
                with transaction.atomic():
                    alert = BudgetAlert.objects.create(
                        organization=row.organization,
                        year=year,
                        level=level,
                        left=row.budget.left,
                        created_at=now,
                    )
            except IntegrityError:  # raised before: once a year per level
                continue
            raised.append(alert.pk)
    return raised


def budget_alert_mail(*, alert_id: int, now: datetime) -> bool:
    """Mail one alert to the managers, once: claimed by a conditional UPDATE first."""
    claimed = BudgetAlert.objects.filter(pk=alert_id, emailed_at__isnull=True).update(
        emailed_at=now
    )
    if not claimed:
        return False
    alert = BudgetAlert.objects.select_related("organization").get(pk=alert_id)
    recipients = list(
        User.objects.filter(role=User.Role.MANAGER, is_active=True)
        .exclude(email="")
        .values_list("email", flat=True)
    )
    if not recipients:
        return False
    subject = (
        _("Error budget spent: %(org)s")
        if alert.level == BudgetAlert.Level.SPENT
        else _("Error budget low: %(org)s")
    ) % {"org": alert.organization.name}
    body = render_to_string(
        "sla/email/budget_alert.txt",
        {"alert": alert, "base_url": settings.PACTE_BASE_URL},
    )
    EmailMessage(
        subject,
        body,
        settings.DEFAULT_FROM_EMAIL,
        recipients,
        headers={"Message-ID": new_mail_id()},
    ).send()
    return True
