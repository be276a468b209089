"""The service levels an organization is promised: its policy's version in force, and the
versions announced, with the day each takes effect."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from sla.policies import target_rows, version_in_force, versions_announced
from tickets import access
from tickets.views.common import current_user


@login_required
def service_levels(request: HttpRequest) -> HttpResponse:
    contact = access.contact_of(current_user(request))
    if contact is None or contact.organization.sla_policy is None:
        raise Http404
    policy = contact.organization.sla_policy
    now = timezone.now()
    current = version_in_force(policy, now)
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
