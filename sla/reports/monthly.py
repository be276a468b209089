"""One organization's month: what the managers print and send, what the organization's
administrators read in the portal, and what the mail of the first of the month sums up."""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from email.utils import formataddr
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from config.formats import of
from sla.availability.arithmetic import month_bounds
from sla.availability.selectors import availability_of, error_budget_of, organization_zone
from sla.credits import contract_of_month, month_credit
from sla.models import Metric
from sla.reports import figures, listings
from tickets.models import Contact, Desk, Organization, OutboundMail, Ticket


def monthly_report_figures(
    organization: Organization,
    tickets: QuerySet[Ticket],
    asked: str,
    *,
    zone: ZoneInfo,
    now: datetime | None = None,
) -> dict[str, object]:
    """One organization's month (YYYY-MM, else the month before), for the managers' page, the
    organization administrators' page in the portal, and the mail of the first of the month."""
    now = now or timezone.now()
    today = now.astimezone(zone).date()
    try:
        year, month = (int(part) for part in asked.split("-"))
        date(year, month, 1)
    except ValueError:
        previous = today.replace(day=1) - timedelta(days=1)
        year, month = previous.year, previous.month
    start, end = month_bounds(year, month, zone)
    filters = figures.ReportFilter(start=start, end=end, organization_id=organization.pk)
    tickets = figures.report_tickets(tickets, filters)
    report = figures.sla_report(tickets, start=start, end=end, zone=zone)
    availability = availability_of(organization, start=start, end=end, now=now)
    contract = contract_of_month(organization.pk, start.date(), (end - timedelta(days=1)).date())
    return {
        "organization": organization,
        "month_start": start,
        "last_day": (end - timedelta(days=1)).date(),
        "month_value": f"{year:04d}-{month:02d}",
        "report": report,
        "ack_share": report.share(Metric.ACKNOWLEDGEMENT),
        "correction_share": report.share(Metric.CORRECTION),
        "ack_overdue": report.overdue(Metric.ACKNOWLEDGEMENT),
        "correction_overdue": report.overdue(Metric.CORRECTION),
        "breach_rows": listings.breach_rows(listings.breaches(tickets)[:200], now=now),
        "availability": availability,
        "credit": month_credit(contract, report=report, availability=availability),
        "budget": error_budget_of(organization, year=year, zone=zone, now=min(now, end)),
        "generated": now,
        "zone": zone,
    }


logger = logging.getLogger(__name__)
MAIL_DAYS = 7  # the report of the month before is mailed in the first days of a month only


def monthly_reports_mail(*, now: datetime) -> int:
    """Daily (beat), in the first days of a month: each organization under contract mails its
    administrators the report of the month before, each in their language, with the link to
    it in the portal. Once per administrator and month, however often it runs (the mail's
    Message-ID names them); the number of mails written to the outbox."""
    written = 0
    organizations = Organization.objects.filter(under_contract=True).order_by("pk")
    for organization in organizations:
        zone = organization_zone(organization)
        local = now.astimezone(zone)
        admins = list(organization.contacts.filter(role=Contact.Role.ADMIN).exclude(email=""))
        desk = organization.desks.order_by("pk").first()
        if local.day > MAIL_DAYS or not admins or desk is None:
            continue
        previous = local.date().replace(day=1) - timedelta(days=1)
        month = f"{previous.year:04d}-{previous.month:02d}"
        sent = set(
            OutboundMail.objects.filter(
                mail_id__in=[_mail_id(c, month) for c in admins]
            ).values_list("mail_id", flat=True)
        )
        pending = [c for c in admins if _mail_id(c, month) not in sent]
        if not pending:
            continue
        try:
            tickets = Ticket.objects.filter(organization=organization)
            context = monthly_report_figures(organization, tickets, month, zone=zone, now=now)
            for contact in pending:
                _report_mail(contact, desk, month, {**context, "contact": contact}, zone)
                written += 1
        except Exception:  # one organization's trouble does not keep the others' reports
            logger.exception("monthly report of %s for %s not mailed", organization, month)
    return written


def _mail_id(contact: Contact, month: str) -> str:
    return f"<pacte.report.{month}.{contact.pk}@{settings.PACTE_MAIL_DOMAIN}>"


def _report_mail(
    contact: Contact, desk: Desk, month: str, context: dict[str, object], zone: ZoneInfo
) -> None:
    url = f"{settings.PACTE_BASE_URL}{reverse('tickets:reports')}?month={month}"
    month_start = context["month_start"]
    assert isinstance(month_start, datetime)
    with translation.override(contact.language), timezone.override(zone):
        text = render_to_string("sla/email/monthly_report.txt", {**context, "url": url})
        subject = _("%(organization)s: service report for %(month)s") % {
            "organization": contact.organization.name,
            "month": of(formats.date_format(month_start, "YEAR_MONTH_FORMAT")),
        }
    OutboundMail.objects.create(
        kind=OutboundMail.Kind.REPORT,
        from_address=formataddr((desk.name, desk.email)),
        to_address=contact.email,
        to_name=contact.name,
        language=contact.language,
        subject=subject[:255],
        text=text,
        mail_id=_mail_id(contact, month),
    )
