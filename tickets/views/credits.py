"""The service credits of a year, for managers: one CSV row per organization and month."""

from __future__ import annotations

import csv
from datetime import date

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from sla.availability.selectors import organization_zone
from sla.credits import credit_for_month, months_of
from sla.models import Contract
from sla.reports.export import spreadsheet_safe
from tickets.accounts.audit import audit_record
from tickets.middleware import writes_on_get
from tickets.models import AuditEvent, Organization
from tickets.views.common import manager_user

HEADER = [
    "organization", "month", "contract", "availability %", "credit %", "capped",
    "monthly fee", "credit", "currency",
]  # fmt: skip


@writes_on_get
@login_required
def credits_csv(request: HttpRequest) -> HttpResponse:
    manager_user(request)
    now = timezone.now()
    try:
        year = int(request.GET.get("year", now.year))
        date(year, 1, 1)
    except ValueError:
        return HttpResponse("year: a year, e.g. 2026", status=400, content_type="text/plain")
    if year > now.year:
        year = now.year
    audit_record(AuditEvent.Kind.EXPORT, target="Service credits CSV", request=request,
                 detail={"year": str(year)})  # fmt: skip
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="service-credits-{year}.csv"'
    writer = csv.writer(response)
    writer.writerow(HEADER)
    with_contracts = Contract.objects.filter(
        starts_on__year__lte=year, ends_on__year__gte=year
    ).values("organization_id")
    for organization in Organization.objects.filter(pk__in=with_contracts).order_by("name"):
        zone = organization_zone(organization)
        for month in months_of(year, now.astimezone(zone)):
            credit = credit_for_month(organization, year=year, month=month, zone=zone, now=now)
            if credit is None:
                continue
            writer.writerow(
                spreadsheet_safe(cell)
                for cell in (
                    organization.name, f"{year:04d}-{month:02d}", credit.contract.reference,
                    "" if credit.availability is None else f"{credit.availability:.3f}",
                    f"{credit.percent:.2f}", "yes" if credit.capped else "no",
                    credit.contract.monthly_fee or "",
                    "" if credit.amount is None else credit.amount,
                    credit.contract.currency,
                )
            )  # fmt: skip
    return response
