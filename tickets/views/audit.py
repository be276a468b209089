"""The security audit log, for managers: filtered, paged, and downloaded as CSV (a download
is itself a line of the log)."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from tickets.accounts.audit import audit_record, audit_rows
from tickets.filters import AuditFilter
from tickets.middleware import writes_on_get
from tickets.models import AuditEvent
from tickets.selectors import people_names
from tickets.views.common import manager_user


@dataclass(frozen=True)
class AuditLine:
    """A line as the page shows it: who acted and on whom by their names (the stored
    usernames when nobody has them now, and for what is not a person)."""

    event: AuditEvent
    by: str
    on: str


def _lines(events: Iterable[AuditEvent]) -> list[AuditLine]:
    events = list(events)
    names = people_names(name for e in events for name in (e.actor_name, e.target))
    return [
        AuditLine(e, names.get(e.actor_name, e.actor_name), names.get(e.target, e.target))
        for e in events
    ]


def _filtered(request: HttpRequest) -> AuditFilter:
    manager_user(request)
    return AuditFilter(request.GET, queryset=AuditEvent.objects.all())


@login_required
def audit_log(request: HttpRequest) -> HttpResponse:
    filters = _filtered(request)
    page = Paginator(filters.qs, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "tickets/audit_log.html",
        {
            "filters": filters,
            "page": page,
            "lines": _lines(page),
            "query": query.urlencode(),
        },
        status=200 if filters.is_valid() else 400,
    )


@writes_on_get
@login_required
def audit_log_csv(request: HttpRequest) -> HttpResponse:
    filters = _filtered(request)
    if not filters.is_valid():
        return HttpResponse(
            "; ".join(str(e) for errors in filters.errors.values() for e in errors),
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    audit_record(
        AuditEvent.Kind.EXPORT,
        target="audit log",
        request=request,
        detail={"filters": {k: v for k, v in request.GET.items() if v}},
    )
    name = f"pacte-audit-{timezone.localdate()}.csv"
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    csv.writer(response).writerows(audit_rows(filters.qs))
    return response
