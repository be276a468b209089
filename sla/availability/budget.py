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

from sla.availability.selectors import availability_overview
from sla.models import BudgetAlert
from tickets.models import Organization, User
from tickets.services.customer_mail import new_mail_id


@transaction.atomic
def budget_alerts_raise(*, now: datetime, zone: ZoneInfo) -> list[int]:
    """Record the levels crossed this year; the ids of the alerts new this time."""
    threshold = Decimal(settings.PACTE_BUDGET_WARNING_PERCENT) / 100
    year = now.astimezone(zone).year
    rows = availability_overview(
        Organization.objects.filter(under_contract=True), year=year, zone=zone, now=now
    )
    raised = []
    for row in rows:
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
