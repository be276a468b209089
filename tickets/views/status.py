"""An organization's public status page: no login, nothing of any other organization."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from sla.availability.selectors import StatusDay, service_status
from tickets.models import Organization
from tickets.templatetags.pacte import availability

BAR_WIDTH, BAR_GAP, BAR_HEIGHT = 6, 2, 34


@dataclass(frozen=True)
class Bar:
    x: int
    level: str  # "up", "degraded", "down" or "none"
    label: str


def _bar(index: int, day: StatusDay) -> Bar:
    figures = day.figures
    date_text = formats.date_format(day.day, "DATE_FORMAT")
    if figures.ratio is None:
        level, label = "none", _("%(day)s: no data") % {"day": date_text}
    else:
        level = (
            "up"
            if figures.ratio == 1
            else "degraded"
            if figures.ratio >= Decimal("0.99")
            else "down"
        )
        label = _("%(day)s: %(percent)s available") % {
            "day": date_text,
            "percent": availability(figures.ratio * 100),
        }
    return Bar(index * (BAR_WIDTH + BAR_GAP), level, label)


def status_page(request: HttpRequest, slug: str) -> HttpResponse:
    organization = get_object_or_404(Organization, slug=slug, under_contract=True)
    status = service_status(organization, now=timezone.now(), zone=timezone.get_current_timezone())
    bars = [_bar(i, day) for i, day in enumerate(status.days)]
    return render(
        request,
        "sla/status_page.html",
        {
            "organization": organization,
            "status": status,
            "bars": bars,
            "chart_width": len(bars) * (BAR_WIDTH + BAR_GAP) - BAR_GAP,
            "bar_width": BAR_WIDTH,
            "bar_height": BAR_HEIGHT,
        },
    )
