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


def _minute(instant: datetime) -> datetime:
    """The instant as the page shows it: to the minute, the seconds dropped."""
    return instant.replace(second=0, microsecond=0)


def _row(segment: Segment, kind: ClockKind, *, ahead: bool = False) -> ExplanationRow:
    """A stretch as read on the page: its length is the difference of the minutes shown in
    From and To, so the rows add up to the total (a ticket received at 09:00:00.4 counts
    7 h 59 min 59.6 s to 17:00, which the page would otherwise floor to "7 h 59 min")."""
    start, end = _minute(segment.start), _minute(segment.end)
    return ExplanationRow(start, end, end - start, segment.counted, _reason(segment, kind), ahead)


def _in_minutes(span: timedelta) -> timedelta:
    """A time left or overrun, to the nearest minute; one minute at least when there is any
    (nothing when there is none), so the page never says "late" of a clock that is not."""
    if span <= timedelta(0):
        return timedelta(0)
    return max(timedelta(minutes=round(span.total_seconds() / 60)), timedelta(minutes=1))


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
    rows = [_row(s, kind) for s in explanation.segments]
    ahead = [_row(s, kind, ahead=True) for s in explanation.ahead]
    # Counted so far, to the minute as the rows show it: their sum.
    counted = sum((row.duration for row in rows if row.counted), timedelta(0))
    calendar = ticket.calendar or ticket.desk.calendar
    with timezone.override(calendar.time_zone):  # the rules report in the calendar's zone
        return render(
            request,
            "sla/clock_explanation.html",
            {
                "ticket": ticket,
                "clock": clock,
                "explanation": explanation,
                "rows": rows + ahead,
                "counted": counted,
                # Late or not as the clock counts, not as the rows' minutes add up.
                "remaining": _in_minutes(explanation.target - explanation.counted),
                "overrun": _in_minutes(explanation.counted - explanation.target),
                "calendar": calendar,
                "skipped": any(not row.counted for row in rows + ahead),
            },
        )
