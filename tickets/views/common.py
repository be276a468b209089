"""Pieces shared by the portal and desk views."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from sla.clocks.selectors import current_clocks, earlier_rounds
from sla.models import Clock
from tickets import access, selectors, services
from tickets.exceptions import TicketError
from tickets.models import Contact, Status, Ticket, User


def current_user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # the views using it are login_required
    return user


def staff_user(request: HttpRequest) -> User:
    """The signed-in member of support staff; for anyone else the page does not exist."""
    user = current_user(request)
    if not access.is_staff_member(user):
        raise Http404
    return user


def manager_user(request: HttpRequest) -> User:
    """The signed-in manager (or superuser); for anyone else the page does not exist."""
    user = current_user(request)
    if not access.sees_everything(user):
        raise Http404
    return user


def contact_support_hours(contact: Contact | None) -> selectors.SupportHours | None:
    """The hours of the contact's desk, or None when the organization has no desk yet."""
    if contact is None:
        return None
    try:
        desk = services.default_desk_for(contact)
    except TicketError:
        return None
    return selectors.support_hours(desk, now=timezone.now())


def form_error(request: HttpRequest, form: forms.BaseForm, error: TicketError) -> None:
    """Show a domain error on the field it concerns, or as a page message."""
    if error.field and error.field in form.fields:
        form.add_error(error.field, error.message)
    else:
        messages.error(request, error.message)


class SlaState(StrEnum):
    """How a page colours a clock."""

    OK = "ok"
    WARNING = "warning"
    BREACHED = "breached"
    MET = "met"
    PAUSED = "paused"


@dataclass(frozen=True)
class ClockView:
    """What a page shows of a clock: no decisions left for the template."""

    metric: str
    metric_label: str
    state: str
    due_at: datetime | None
    stopped_at: datetime | None
    sla_state: SlaState
    clock: Clock
    stop_reason: str = ""  # the qualifying event, in the reader's language
    counted: timedelta | None = None  # shown to agents only
    target: timedelta | None = None
    earlier_kept: int = 0  # rounds before this one (next reply, update): kept and late
    earlier_late: int = 0
    pause_label: str = ""  # why it is paused, when on hold (else: waiting on the customer)


def _on_hold_label(ticket: Ticket | None, *, for_customer: bool) -> str:
    """The reason a ticket on hold gives (an internal one reads "on hold" for customers)."""
    if ticket is None or ticket.status != Status.ON_HOLD or ticket.pause_reason is None:
        return ""
    reason = ticket.pause_reason
    return str(_("On hold")) if for_customer and reason.internal else reason.label


def clock_views(
    clocks: list[Clock],
    now: datetime | None = None,
    counted: Mapping[int, timedelta] | None = None,
    *,
    ticket: Ticket | None = None,
    for_customer: bool = False,
) -> list[ClockView]:
    """What pages show of clocks: the round under way of each promise, with how the earlier
    rounds went and why it is paused; ``counted`` (by clock id) adds the progress for
    agents."""
    now = now or timezone.now()
    views = []
    on_hold = _on_hold_label(ticket, for_customer=for_customer)
    earlier = earlier_rounds(clocks)
    for clock in current_clocks(clocks):
        if clock.state == Clock.State.STOPPED:
            sla_state = (
                SlaState.BREACHED if clock.outcome == Clock.Outcome.BREACHED else SlaState.MET
            )
        elif clock.breached_at is not None or (clock.due_at is not None and clock.due_at <= now):
            sla_state = SlaState.BREACHED
        elif clock.state == Clock.State.PAUSED:
            sla_state = SlaState.PAUSED
        elif clock.warn_at is not None and clock.warn_at <= now:
            sla_state = SlaState.WARNING
        else:
            sla_state = SlaState.OK
        views.append(
            ClockView(
                metric=clock.metric,
                metric_label=clock.get_metric_display(),
                state=clock.state,
                due_at=clock.due_at,
                stopped_at=clock.stopped_at,
                sla_state=sla_state,
                clock=clock,
                stop_reason=clock.get_stop_reason_display() if clock.stop_reason else "",
                counted=counted.get(clock.pk) if counted is not None else None,
                target=clock.target if counted is not None else None,
                earlier_kept=earlier.get(clock.metric, (0, 0))[0],
                earlier_late=earlier.get(clock.metric, (0, 0))[1],
                pause_label=on_hold if clock.state == Clock.State.PAUSED else "",
            )
        )
    return views
