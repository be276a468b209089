"""Why is my deadline there? The explanation of a clock, for agents."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from sla.clocks.deadlines import GapReason
from sla.clocks.selectors import clock_explanation
from sla.clocks.values import ClockKind, ClosedReason, Segment
from sla.models import Clock, Metric
from tickets import access
from tickets.views.common import current_user


@dataclass(frozen=True)
class ExplanationRow:
    start: datetime
    end: datetime
    duration: timedelta
    counted: bool
    reason: str
    ahead: bool = False  # from now to the due instant: how the calendar will count it


def _reason(segment: Segment, kind: ClockKind) -> str:
    if segment.counted:
        return {
            ClockKind.BUSINESS_DAYS: _("Business day"),
            ClockKind.BUSINESS_HOURS: _("Support hours"),
            ClockKind.WALL: _("Every hour counts"),
        }[kind]
    fixed: dict[str, str] = {
        ClosedReason.CLOSED_HOURS: _("Outside support hours"),
        ClosedReason.WEEKEND: _("Weekend"),
        ClosedReason.CLOSED: _("No support hours that day"),
        GapReason.BEFORE_OPENING: _(
            "Arrived outside support hours: the clock starts at the next opening"
        ),
        GapReason.WAITING_ON_CUSTOMER: _("Waiting on the customer"),
        GapReason.STOPPED: _("Resolved: the clock was stopped"),
    }
    # Otherwise the calendar named the day: a public holiday or a company closure.
    return fixed.get(segment.reason, segment.reason)


@login_required
def clock_explain(request: HttpRequest, reference: str, metric: str) -> HttpResponse:
    """For the agents of the ticket and for the customers who see it: the same facts."""
    user = current_user(request)
    ticket = access.ticket_or_404(user, reference)
    if metric not in Metric.values:
        raise Http404
    # The round under way (next reply and update come in rounds; the others have one).
    clock = (
        Clock.objects.select_related("ticket__desk")
        .filter(ticket=ticket, metric=metric)
        .order_by("-round")
        .first()
    )
    if clock is None:
        raise Http404
    explanation = clock_explanation(
        clock, now=timezone.now(), for_customer=not access.is_staff_member(user)
    )
    kind = ClockKind(clock.kind)
    rows = [
        ExplanationRow(s.start, s.end, s.end - s.start, s.counted, _reason(s, kind))
        for s in explanation.segments
    ] + [
        ExplanationRow(s.start, s.end, s.end - s.start, s.counted, _reason(s, kind), ahead=True)
        for s in explanation.ahead
    ]
    remaining = max(explanation.target - explanation.counted, timedelta(0))
    calendar = ticket.calendar or ticket.desk.calendar
    with timezone.override(calendar.time_zone):  # the rules report in the calendar's zone
        return render(
            request,
            "sla/clock_explanation.html",
            {
                "ticket": ticket,
                "clock": clock,
                "explanation": explanation,
                "rows": rows,
                "remaining": remaining,
                "overrun": max(explanation.counted - explanation.target, timedelta(0)),
                "calendar": calendar,
                "skipped": any(not row.counted for row in rows),
            },
        )
