"""What an organization is promised and how it went: its policy's version in force and the
versions announced; for its administrators, its monthly reports."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from sla.availability.selectors import organization_zone
from sla.contracts import policy_of
from sla.policies import target_rows, version_in_force, versions_announced
from sla.reports.monthly import monthly_report_figures
from tickets import access
from tickets.models import Ticket
from tickets.views.common import current_user
from tickets.views.reports import openable_breaches


@login_required
def service_levels(request: HttpRequest) -> HttpResponse:
    contact = access.contact_of(current_user(request))
    now = timezone.now()
    policy = policy_of(contact.organization, now=now) if contact is not None else None
    if contact is None or policy is None:
        raise Http404
    current = version_in_force(policy, now)
    # A version's first day is the organization's, as its announcement mail says it.
    with timezone.override(organization_zone(contact.organization)):
        return render(
            request,
            "tickets/service_levels.html",
            {
                "organization": contact.organization,
                "policy": policy,
                "current": current,
                "current_rows": target_rows(current) if current else [],
                "announced": [(v, target_rows(v)) for v in versions_announced(policy, now)],
            },
        )


@login_required
def organization_report(request: HttpRequest) -> HttpResponse:
    """An organization's administrators read its monthly report, as the managers send it."""
    contact = access.contact_of(current_user(request))
    if contact is None or not contact.is_org_admin:
        raise Http404
    organization = contact.organization
    zone = organization_zone(organization)
    tickets = Ticket.objects.filter(organization=organization)
    context = monthly_report_figures(organization, tickets, request.GET.get("month", ""), zone=zone)
    context["openable"] = openable_breaches(current_user(request), context)
    with timezone.override(zone):  # the organization's month, in its own zone
        return render(request, "sla/monthly_report.html", context)
